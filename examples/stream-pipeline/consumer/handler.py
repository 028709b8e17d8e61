"""Counts the click events of each batch the Kinesis stream delivers."""
import base64
import json


def handle(event, context):
    pages = {}
    for record in event.get("Records", []):
        click = json.loads(base64.b64decode(record["kinesis"]["data"]))
        page = click.get("page", "unknown")
        pages[page] = pages.get(page, 0) + 1
    print(json.dumps({"clicks": pages}))
    return pages
