//! `aws.sns.subscription`: one endpoint subscribed to one topic.
//!
//! Its identity is (topic, protocol, endpoint): changing any of them is a new subscription. Raw
//! delivery and the filter policy are subscription attributes changed in place.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::topic::SNS_NOT_FOUND;
use crate::aws::missing_is_none;
use crate::aws::{api_error, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, document_json};
use crate::props::{given, required_str};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.sns.subscription";

/// The protocols SNS delivers to.
const PROTOCOLS: &[&str] = &[
    "http",
    "https",
    "email",
    "email-json",
    "sms",
    "sqs",
    "application",
    "lambda",
    "firehose",
];

/// The subscription's properties: its identity replaces, its attributes update.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("topic_arn", Kind::String)
                .arn(&["sns"])
                .required()
                .force_new(),
            Prop::new("protocol", Kind::String)
                .required()
                .force_new()
                .allowed(PROTOCOLS),
            Prop::new("endpoint", Kind::String).required().force_new(),
            Prop::new("raw_message_delivery", Kind::Bool).default(false),
            Prop::new("filter_policy", Kind::Document).resettable(),
        ],
        attrs: vec!["arn"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.sns.subscription`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(SubscriptionProvider::new(ctx)),
    about: "One endpoint subscribed to one topic; raw delivery and the filter policy change in \
            place.",
    import_id: "the subscription ARN",
    attributes: &[("arn", "the subscription ARN")],
    property_notes: &[],
    actions: Actions {
        create: &["sns:Subscribe"],
        read: &[
            "sns:GetSubscriptionAttributes",
            "sns:ListSubscriptionsByTopic",
        ],
        update: &["sns:SetSubscriptionAttributes"],
        delete: &["sns:Unsubscribe"],
    },
    resources: &["{topic_arn}", "{topic_arn}:*"],
    passes_role: &[],
};

fn raw_delivery(props: &Map) -> Result<bool> {
    match given(props, "raw_message_delivery") {
        None => Ok(false),
        Some(value) => value
            .as_bool()
            .ok_or_else(|| ProviderError::invalid("`raw_message_delivery` must be true or false")),
    }
}

/// The subscription in the stack's terms from its attributes (as `GetSubscriptionAttributes`
/// answers them, or as `Subscribe` was given them).
fn subscription_resource(arn: &str, attrs: &HashMap<String, String>) -> Result<Resource> {
    // SNS leaves out (or empties) what is not set.
    let attr = |name: &str| attrs.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    let mut properties = Map::new();
    for (prop, name) in [
        ("topic_arn", "TopicArn"),
        ("protocol", "Protocol"),
        ("endpoint", "Endpoint"),
    ] {
        let value = attr(name)
            .ok_or_else(|| ProviderError::invalid(format!("subscription {arn} has no {name}")))?;
        properties.insert(prop.to_string(), Value::str(value));
    }
    let raw = match attr("RawMessageDelivery") {
        None => false,
        Some(s) => s.parse().map_err(|_| {
            ProviderError::invalid(format!("AWS returned `{s}` for RawMessageDelivery"))
        })?,
    };
    properties.insert("raw_message_delivery".into(), Value::Bool(raw));
    if let Some(policy) = attr("FilterPolicy") {
        properties.insert(
            "filter_policy".into(),
            document_from_aws("filter_policy", policy)?,
        );
    }
    Ok(Resource {
        id: arn.to_string(),
        properties,
        attributes: Map::from([("arn".to_string(), Value::str(arn))]),
    })
}

/// Manages SNS subscriptions; the id is the subscription ARN.
pub struct SubscriptionProvider {
    schema: TypeSchema,
    sns: aws_sdk_sns::Client,
}

impl SubscriptionProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            sns: crate::aws::sdk_client!(aws_sdk_sns, ctx),
        }
    }

    /// The subscription in the stack's terms, or `None` when it does not exist.
    async fn find_subscription(&self, arn: &str) -> Result<Option<Resource>> {
        let out = self
            .sns
            .get_subscription_attributes()
            .subscription_arn(arn)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, SNS_NOT_FOUND)? else {
            return Ok(None);
        };
        let empty = HashMap::new();
        subscription_resource(arn, out.attributes().unwrap_or(&empty)).map(Some)
    }

    /// Reads a subscription that must exist (it was just created or changed).
    async fn read_existing(&self, arn: &str) -> Result<Resource> {
        self.find_subscription(arn).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "subscription {arn} was written but cannot be read back"
            ))
        })
    }

    async fn set_attribute(&self, arn: &str, name: &str, value: String) -> Result<()> {
        self.sns
            .set_subscription_attributes()
            .subscription_arn(arn)
            .attribute_name(name)
            .attribute_value(value)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}

#[async_trait]
impl Provider for SubscriptionProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Subscribes with `ReturnSubscriptionArn`, so that even a subscription waiting for its
    /// endpoint to confirm (http, email) has an ARN strata can record.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let mut attributes = HashMap::new();
        // RawMessageDelivery is only valid for some protocols; false is what SNS assumes anyway.
        if raw_delivery(props)? {
            attributes.insert("RawMessageDelivery".to_string(), "true".to_string());
        }
        if let Some(policy) = given(props, "filter_policy") {
            attributes.insert(
                "FilterPolicy".to_string(),
                document_json("filter_policy", &policy)?,
            );
        }
        let (topic_arn, protocol, endpoint) = (
            required_str(props, "topic_arn")?,
            required_str(props, "protocol")?,
            required_str(props, "endpoint")?,
        );
        let out = self
            .sns
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol(&protocol)
            .endpoint(&endpoint)
            .return_subscription_arn(true)
            .set_attributes((!attributes.is_empty()).then(|| attributes.clone()))
            .send()
            .await
            .map_err(api_error)?;
        let arn = out
            .subscription_arn()
            .ok_or_else(|| ProviderError::invalid("Subscribe returned no subscription ARN"))?;
        // Nothing read back: SNS keeps the subscription as it was asked for.
        attributes.extend([
            ("TopicArn".to_string(), topic_arn),
            ("Protocol".to_string(), protocol),
            ("Endpoint".to_string(), endpoint),
        ]);
        after_made(arn, async { subscription_resource(arn, &attributes) }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_subscription(&req.id).await
    }

    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        for prop in &req.changed {
            match prop.as_str() {
                "raw_message_delivery" => {
                    let raw = raw_delivery(&req.properties)?;
                    self.set_attribute(&req.id, "RawMessageDelivery", raw.to_string())
                        .await?;
                }
                // An empty FilterPolicy removes the filter: SNS then delivers everything.
                "filter_policy" => {
                    let text = match given(&req.properties, "filter_policy") {
                        Some(policy) => document_json("filter_policy", &policy)?,
                        None => String::new(),
                    };
                    self.set_attribute(&req.id, "FilterPolicy", text).await?;
                }
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        self.read_existing(&req.id).await
    }

    /// Unsubscribes; a subscription already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .sns
            .unsubscribe()
            .subscription_arn(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, SNS_NOT_FOUND).map(|_| ())
    }

    /// Finds the confirmed subscription of the same endpoint, by the same protocol, to the same
    /// topic. A subscription still waiting for confirmation has no ARN to list and is not found.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let props = &req.properties;
        let topic_arn = required_str(props, "topic_arn")?;
        let protocol = required_str(props, "protocol")?;
        let endpoint = required_str(props, "endpoint")?;
        let mut subscriptions = self
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(&topic_arn)
            .into_paginator()
            .items()
            .send();
        while let Some(subscription) = subscriptions.next().await {
            let subscription =
                match missing_is_none(subscription.map_err(api_error), SNS_NOT_FOUND)? {
                    Some(subscription) => subscription,
                    None => return Ok(None),
                };
            let arn = subscription
                .subscription_arn()
                .filter(|arn| arn.starts_with("arn:"));
            if let Some(arn) = arn {
                if subscription.protocol() == Some(protocol.as_str())
                    && subscription.endpoint() == Some(endpoint.as_str())
                {
                    return self.find_subscription(arn).await;
                }
            }
        }
        Ok(None)
    }
}
