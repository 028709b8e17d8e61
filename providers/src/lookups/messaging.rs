//! Messaging lookups: an SNS topic and an SQS queue, by name.

use aws_sdk_sqs::types::QueueAttributeName;
use stacks::schema::{LookupArg as Arg, LookupAttr as Attr, LookupSchema};
use stacks::{Map, Value};

use super::kit::{only, Args, Failure, Found, LookupEntry, K};
use crate::aws::{api_error, sdk_client, AwsContext};
use crate::sqs::queue::queue_missing_is_none;
use crate::tags::tags_value;

pub const SNS_TOPIC: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.sns.topic",
        args: &[Arg::required("name", K::String)],
        attributes: &[Attr::new("arn", K::String), Attr::new("id", K::String)],
    },
    about: "One SNS topic of the region, by name.",
    actions: &["sns:ListTopics"],
};

pub const SQS_QUEUE: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.sqs.queue",
        args: &[Arg::required("name", K::String)],
        attributes: &[
            Attr::new("arn", K::String),
            Attr::new("url", K::String),
            Attr::new("id", K::String),
            Attr::new("tags", K::StringMap),
        ],
    },
    about: "One SQS queue of the region, by name.",
    actions: &[
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "sqs:ListQueueTags",
    ],
};

/// SNS has no call that finds a topic by name: its ARN ends in `:NAME`, so the topics of the
/// region are listed, as Terraform's data source does.
pub(crate) async fn sns_topic(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let sns = sdk_client!(aws_sdk_sns, ctx);
    let name = args.required("name")?;
    let mut found = Vec::new();
    let mut topics = sns.list_topics().into_paginator().items().send();
    while let Some(topic) = topics.next().await {
        let topic = topic.map_err(api_error)?;
        if let Some(arn) = topic
            .topic_arn()
            .filter(|arn| arn.rsplit(':').next() == Some(name.as_str()))
        {
            found.push(arn.to_string());
        }
    }
    let arn = only(found, String::clone)?;
    Ok(Map::from([
        ("arn".into(), Value::str(&arn)),
        ("id".into(), Value::str(&arn)),
    ]))
}

pub(crate) async fn sqs_queue(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let sqs = sdk_client!(aws_sdk_sqs, ctx);
    let name = args.required("name")?;
    let got = sqs.get_queue_url().queue_name(&name).send().await;
    let Some(got) = queue_missing_is_none(got.map_err(api_error))? else {
        return Err(Failure::NotFound);
    };
    let url = got.queue_url().unwrap_or_default().to_string();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(api_error)?;
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| Failure::Invalid(format!("SQS returned no QueueArn for {url}")))?;
    let tags = sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .map_err(api_error)?;
    let tags = tags_value(
        tags.tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_else(Vec::new),
    );
    Ok(Map::from([
        ("arn".into(), Value::str(arn)),
        ("url".into(), Value::str(&url)),
        ("id".into(), Value::str(&url)),
        ("tags".into(), tags),
    ]))
}
