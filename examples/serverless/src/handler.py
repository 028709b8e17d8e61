import json
import os

import boto3

sqs = boto3.client("sqs")


def handle(event, context):
    """Accept an order over HTTP and put it on the work queue."""
    body = event.get("body") or "{}"
    sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=body)
    return {"statusCode": 202, "body": json.dumps({"accepted": True})}
