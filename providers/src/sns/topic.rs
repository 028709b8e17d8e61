//! `aws.sns.topic`: a standard or FIFO SNS topic.
//!
//! Settings are topic attributes: `CreateTopic` takes them all, `SetTopicAttributes` changes one
//! at a time, `GetTopicAttributes` returns them as strings that read turns back into the schema's
//! kinds. Tags go through `TagResource`/`UntagResource`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{sns_tags, TopicTags};
use crate::aws::missing_is_none;
use crate::aws::{api_error, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, document_json};
use crate::props::required_str;
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.sns.topic";

/// SNS's limit on a topic name, `.fifo` included.
const NAME_MAX_LEN: usize = 256;

/// How SNS says a topic (or subscription) does not exist.
pub(crate) const SNS_NOT_FOUND: &[&str] = &["NotFound", "NotFoundException"];

/// How `ListTagsForResource` says the topic does not exist.
const RESOURCE_NOT_FOUND: &[&str] = &[
    "ResourceNotFound",
    "ResourceNotFoundException",
    "NotFound",
    "NotFoundException",
];

/// The actions of the policy SNS gives a topic that was created without one.
const DEFAULT_POLICY_ACTIONS: &[&str] = &[
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
];

/// The topic's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("fifo_topic", Kind::Bool)
                .force_new()
                .default(false),
            Prop::new("content_based_deduplication", Kind::Bool),
            Prop::new("display_name", Kind::String).resettable(),
            Prop::new("policy", Kind::Document).policy(stacks::PolicyRole::Resource),
            Prop::new("kms_master_key_id", Kind::String),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: Some(("fifo_topic", ".fifo")),
        }),
    }
}

/// How the catalogue knows `aws.sns.topic`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(TopicProvider::new(ctx)),
    about: "A standard or FIFO SNS topic; settings are topic attributes, changed in place one \
            `SetTopicAttributes` each.",
    import_id: "the topic ARN",
    attributes: &[
        (
            "arn",
            "the topic ARN, which subscriptions and publishers name",
        ),
        (
            "name",
            "the topic name (ending in `.fifo` for a FIFO topic)",
        ),
    ],
    property_notes: &[(
        "policy",
        "taking it out of the stack restores the policy SNS gives a new topic",
    )],
    actions: Actions {
        create: &["sns:CreateTopic", "sns:TagResource"],
        read: &[
            "sns:GetTopicAttributes",
            "sns:ListTagsForResource",
            "sns:ListTopics",
        ],
        update: &[
            "sns:SetTopicAttributes",
            "sns:TagResource",
            "sns:UntagResource",
        ],
        delete: &["sns:DeleteTopic"],
    },
    resources: &["arn:{partition}:sns:{region}:{account}:{name}"],
    passes_role: &[],
};

/// The policy SNS gives a topic created without one. Removing `policy` from the stack restores
/// it: SNS refuses an empty policy, and this is what a fresh topic would have.
pub(crate) fn default_policy(topic_arn: &str) -> Result<String> {
    let account = topic_arn
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ProviderError::invalid(format!("`{topic_arn}` is not a topic ARN")))?;
    Ok(serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": DEFAULT_POLICY_ACTIONS,
            "Resource": topic_arn,
            "Condition": { "StringEquals": { "AWS:SourceOwner": account } },
        }],
    })
    .to_string())
}

/// A property's value as the SNS attribute string; `None` when the stack does not set it.
fn attribute_value(props: &Map, prop: &str) -> Result<Option<String>> {
    let Some(value) = props
        .get(prop)
        .map(Value::unmarked)
        .filter(|v| *v != Value::Null)
    else {
        return Ok(None);
    };
    let wrong = |what: &str| ProviderError::invalid(format!("`{prop}` must be {what}"));
    let text = match prop {
        "policy" => document_json(prop, &value)?,
        "fifo_topic" | "content_based_deduplication" => value
            .as_bool()
            .ok_or_else(|| wrong("true or false"))?
            .to_string(),
        _ => value.as_str().ok_or_else(|| wrong("a string"))?.to_string(),
    };
    Ok(Some(text))
}

/// The SNS attribute each in-place property is.
fn attribute_name(prop: &str) -> Option<&'static str> {
    match prop {
        "content_based_deduplication" => Some("ContentBasedDeduplication"),
        "display_name" => Some("DisplayName"),
        "policy" => Some("Policy"),
        "kms_master_key_id" => Some("KmsMasterKeyId"),
        _ => None,
    }
}

/// The topic in the stack's terms from its attributes (as `GetTopicAttributes` answers them,
/// or as `CreateTopic` was given them) and its tags.
fn topic_resource(arn: &str, attrs: &HashMap<String, String>, tags: Value) -> Result<Resource> {
    // Empty strings are how SNS says "not set".
    let attr = |name: &str| attrs.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    let switch = |name: &str| -> Result<bool> {
        attr(name).map_or(Ok(false), |s| {
            s.parse().map_err(|_| {
                ProviderError::invalid(format!("AWS returned `{s}` for topic attribute {name}"))
            })
        })
    };
    let name = arn.rsplit(':').next().unwrap_or(arn).to_string();

    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(&name));
    properties.insert("fifo_topic".into(), Value::Bool(switch("FifoTopic")?));
    properties.insert(
        "content_based_deduplication".into(),
        Value::Bool(switch("ContentBasedDeduplication")?),
    );
    if let Some(display_name) = attr("DisplayName") {
        properties.insert("display_name".into(), Value::str(display_name));
    }
    if let Some(policy) = attr("Policy") {
        properties.insert("policy".into(), document_from_aws("policy", policy)?);
    }
    if let Some(key) = attr("KmsMasterKeyId") {
        properties.insert("kms_master_key_id".into(), Value::str(key));
    }
    properties.insert("tags".into(), tags);
    let attributes = Map::from([
        ("arn".to_string(), Value::str(arn)),
        ("name".to_string(), Value::str(&name)),
    ]);
    Ok(Resource {
        id: arn.to_string(),
        properties,
        attributes,
    })
}

/// Manages SNS topics; the id is the topic ARN.
pub struct TopicProvider {
    schema: TypeSchema,
    sns: aws_sdk_sns::Client,
}

impl TopicProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            sns: crate::aws::sdk_client!(aws_sdk_sns, ctx),
        }
    }

    /// The topic in the stack's terms, or `None` when it does not exist.
    async fn find_topic(&self, arn: &str) -> Result<Option<Resource>> {
        let out = self
            .sns
            .get_topic_attributes()
            .topic_arn(arn)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, SNS_NOT_FOUND)? else {
            return Ok(None);
        };
        let tags = self
            .sns
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(api_error);
        let Some(tags) = missing_is_none(tags, RESOURCE_NOT_FOUND)? else {
            return Ok(None);
        };
        let empty = HashMap::new();
        topic_resource(
            arn,
            out.attributes().unwrap_or(&empty),
            tags_value(
                tags.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string())),
            ),
        )
        .map(Some)
    }

    /// Reads a topic that must exist (it was just created or changed).
    async fn read_existing(&self, arn: &str) -> Result<Resource> {
        self.find_topic(arn).await?.ok_or_else(|| {
            ProviderError::invalid(format!("topic {arn} was written but cannot be read back"))
        })
    }

    async fn set_attribute(&self, arn: &str, name: &str, value: String) -> Result<()> {
        self.sns
            .set_topic_attributes()
            .topic_arn(arn)
            .attribute_name(name)
            .attribute_value(value)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}

#[async_trait]
impl Provider for TopicProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let mut attributes = HashMap::new();
        // SNS takes FifoTopic only to make a FIFO topic; a standard topic leaves it out.
        if attribute_value(props, "fifo_topic")?.as_deref() == Some("true") {
            attributes.insert("FifoTopic".to_string(), "true".to_string());
        }
        for prop in [
            "content_based_deduplication",
            "display_name",
            "policy",
            "kms_master_key_id",
        ] {
            if let (Some(attr), Some(value)) = (attribute_name(prop), attribute_value(props, prop)?)
            {
                attributes.insert(attr.to_string(), value);
            }
        }
        let sent_tags = tag_strings(props.get("tags"))?;
        let tags = sns_tags(sent_tags.clone())?;
        let out = self
            .sns
            .create_topic()
            .name(&name)
            .set_attributes((!attributes.is_empty()).then(|| attributes.clone()))
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        let arn = out
            .topic_arn()
            .ok_or_else(|| ProviderError::invalid("CreateTopic returned no topic ARN"))?;
        // Nothing read back: SNS keeps the attributes and tags as given, and a topic made
        // without a policy has SNS's default one.
        after_made(arn, async {
            attributes
                .entry("Policy".to_string())
                .or_insert(default_policy(arn)?);
            topic_resource(arn, &attributes, tags_value(sent_tags))
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_topic(&req.id).await
    }

    /// One `SetTopicAttributes` per changed attribute (the API takes one at a time), then tags
    /// and untags only the keys that differ from the recorded tags.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let arn = req.id.as_str();
        for prop in &req.changed {
            if prop == "tags" {
                let api = TopicTags {
                    client: &self.sns,
                    id: arn,
                };
                reconcile(&api, &req.prior_properties, &req.properties).await?;
                continue;
            }
            let Some(attr) = attribute_name(prop) else {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            };
            let value = match (attribute_value(&req.properties, prop)?, prop.as_str()) {
                (Some(value), _) => Some(value),
                (None, "policy") => Some(default_policy(arn)?),
                (None, "display_name" | "kms_master_key_id") => Some(String::new()),
                // A switch without a default that leaves the stack is left as it is.
                (None, _) => None,
            };
            if let Some(value) = value {
                self.set_attribute(arn, attr, value).await?;
            }
        }
        self.read_existing(arn).await
    }

    /// Deletes the topic (and with it, in SNS, its subscriptions); one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .sns
            .delete_topic()
            .topic_arn(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, SNS_NOT_FOUND).map(|_| ())
    }

    /// Finds the topic by its deterministic name among the account's topics in this region.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let suffix = format!(":{}", required_str(&req.properties, "name")?);
        let mut topics = self.sns.list_topics().into_paginator().items().send();
        while let Some(topic) = topics.next().await {
            let topic = topic.map_err(api_error)?;
            if let Some(arn) = topic.topic_arn().filter(|arn| arn.ends_with(&suffix)) {
                return self.find_topic(arn).await;
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_topic_given_no_name_gets_one_ending_in_fifo() {
        let text = "stack: orders\nresources:\n  events:\n    type: aws.sns.topic\n    properties: { fifo_topic: true }\n  plain:\n    type: aws.sns.topic\n";
        let stack = stacks::load_str(
            std::path::Path::new("stack.yaml"),
            text,
            &stacks::LoadOptions::default(),
            &stacks::Catalog::new([schema()]),
        )
        .unwrap_or_else(|d| panic!("{d:?}"));
        let name = |address: &str| stack.resources[address].properties["name"].clone();
        let value = |name: &str| stacks::Expr::Value {
            value: Value::str(name),
        };
        assert_eq!(name("events"), value("orders-events.fifo"));
        assert_eq!(name("plain"), value("orders-plain"));
    }

    #[test]
    fn the_default_policy_names_the_topic_and_its_owner() {
        let text = default_policy("arn:aws:sns:us-east-1:123456789012:orders").unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let statement = &doc["Statement"][0];
        assert_eq!(
            statement["Resource"],
            "arn:aws:sns:us-east-1:123456789012:orders"
        );
        assert_eq!(
            statement["Condition"]["StringEquals"]["AWS:SourceOwner"],
            "123456789012"
        );
    }

    #[test]
    fn every_in_place_property_has_an_attribute() {
        for prop in schema().props.iter().filter(|p| !p.force_new) {
            assert!(
                prop.name == "tags" || attribute_name(prop.name).is_some(),
                "{}",
                prop.name
            );
        }
    }
}
