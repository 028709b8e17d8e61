import json


def handle(event, context):
    """Log every message of the batch; a failure returns the batch to the queue."""
    for record in event.get("Records", []):
        print(json.dumps({"message_id": record["messageId"], "body": record["body"]}))
    return {"processed": len(event.get("Records", []))}
