"""Answers every request the REST API proxies to it (API Gateway's Lambda proxy event)."""

import json


def handle(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"path": event.get("path"), "method": event.get("httpMethod")}),
    }
