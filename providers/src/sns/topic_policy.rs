//! `aws.sns.topic_policy`: the access policy of a topic strata may not own.
//!
//! As in SQS, a topic policy is not a resource of its own: it is the topic's `Policy`
//! attribute. So its id is the topic ARN, "create" and "update" set that attribute, and
//! "delete" puts back the policy SNS gives every new topic (SNS refuses an empty one; this is
//! what terraform-provider-aws does too). Declare the policy here or as the topic's `policy`
//! property, never both: each would undo the other on every apply.

use std::sync::Arc;

use async_trait::async_trait;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::topic::{default_policy, SNS_NOT_FOUND};
use crate::attached_policy::{AttachedPolicyProvider, PolicySlot};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::Result;

pub const TYPE_NAME: &str = "aws.sns.topic_policy";

/// SNS's name for the attribute that holds a topic's policy.
const POLICY_ATTRIBUTE: &str = "Policy";

/// The properties (`arn`* R, `policy`*) and the attributes `id` and `owner`.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("arn", Kind::String)
                .arn(&["sns"])
                .required()
                .force_new(),
            Prop::new("policy", Kind::Document)
                .required()
                .policy(stacks::PolicyRole::Resource),
        ],
        attrs: vec!["id", "owner"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.sns.topic_policy`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(TopicPolicyProvider::new(ctx)),
    about: "The access policy of a topic strata may not own: the topic's `Policy` attribute; \
            delete restores the default policy SNS gives a new topic. Declare it here or as the \
            topic's `policy`, never both.",
    import_id: "the topic ARN",
    attributes: &[
        ("id", "the topic ARN"),
        ("owner", "the AWS account id that owns the topic"),
    ],
    property_notes: &[],
    actions: Actions {
        create: &["sns:SetTopicAttributes", "sns:GetTopicAttributes"],
        read: &["sns:GetTopicAttributes"],
        update: &["sns:SetTopicAttributes"],
        delete: &["sns:SetTopicAttributes"],
    },
    resources: &["{arn}"],
    passes_role: &[],
};

/// Manages a topic's `Policy` attribute.
pub type TopicPolicyProvider = AttachedPolicyProvider<TopicPolicy>;

impl TopicPolicyProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        AttachedPolicyProvider::with_slot(
            schema(),
            TopicPolicy {
                sns: crate::aws::sdk_client!(aws_sdk_sns, ctx),
            },
        )
    }
}

/// A topic's `Policy` attribute. Every topic has one (SNS gives a new topic its default), so an
/// existing topic always reads back a policy.
pub struct TopicPolicy {
    sns: aws_sdk_sns::Client,
}

#[async_trait]
impl PolicySlot for TopicPolicy {
    const HOLDER: &'static str = "arn";
    const HOLDER_KIND: &'static str = "topic";

    async fn put(&self, topic_arn: &str, policy: String) -> Result<()> {
        self.sns
            .set_topic_attributes()
            .topic_arn(topic_arn)
            .attribute_name(POLICY_ATTRIBUTE)
            .attribute_value(policy)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn get(&self, topic_arn: &str) -> Result<Option<(String, Map)>> {
        let out = self
            .sns
            .get_topic_attributes()
            .topic_arn(topic_arn)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, SNS_NOT_FOUND)? else {
            return Ok(None);
        };
        let attr = |name: &str| {
            out.attributes()
                .and_then(|a| a.get(name))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        let Some(text) = attr(POLICY_ATTRIBUTE) else {
            return Ok(None);
        };
        let owner = attr("Owner")
            .or_else(|| topic_arn.split(':').nth(4))
            .unwrap_or_default();
        Ok(Some((
            text.to_string(),
            Map::from([("owner".to_string(), Value::str(owner))]),
        )))
    }

    /// Puts back the policy SNS gives a new topic (SNS refuses an empty one); a topic that is
    /// gone has no policy, which is success.
    async fn remove(&self, topic_arn: &str) -> Result<()> {
        match self.put(topic_arn, default_policy(topic_arn)?).await {
            Err(e) if e.is_code(SNS_NOT_FOUND) => Ok(()),
            other => other,
        }
    }
}
