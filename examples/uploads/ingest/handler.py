"""Records each object uploaded to the bucket as an item of the uploads table."""
import os
import urllib.parse

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handle(event, context):
    for record in event.get("Records", []):
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        TABLE.put_item(Item={
            "key": key,
            "size": record["s3"]["object"].get("size", 0),
            "uploaded_at": record["eventTime"],
        })
    return {"recorded": len(event.get("Records", []))}
