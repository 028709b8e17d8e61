"""Publishes a message to the alerts topic for every upload the table records."""
import json
import os

import boto3

SNS = boto3.client("sns")


def handle(event, context):
    for record in event.get("Records", []):
        if record["eventName"] != "INSERT":
            continue
        item = record["dynamodb"]["NewImage"]
        SNS.publish(TopicArn=os.environ["TOPIC_ARN"],
                    Message=json.dumps({"uploaded": item["key"]["S"]}))
