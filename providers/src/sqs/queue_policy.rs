//! `aws.sqs.queue_policy`: the access policy of a queue strata may not own.
//!
//! A queue policy is not a resource of its own in SQS: it is the queue's `Policy` attribute. So
//! its id is the queue URL, "create" and "update" set that attribute, and "delete" clears it.
//! Declare the policy either here or as the queue's `policy` property, never both: each would
//! undo the other on every apply.
//!
//! Its tests also pin how [`crate::document`] writes policy documents for AWS and reads them
//! back, which the queue's `policy`, and SNS's topic `policy` and subscription `filter_policy`,
//! share.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;
use stacks::{Kind, Map, Prop, TypeSchema};

use super::queue::{queue_missing_is_none, QUEUE_NOT_FOUND};
use crate::attached_policy::{AttachedPolicyProvider, PolicySlot};
use crate::aws::{api_error, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::Result;

pub const TYPE_NAME: &str = "aws.sqs.queue_policy";

/// The properties (`queue_url`* R, `policy`*) and the one attribute, `id` (the queue URL).
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("queue_url", Kind::String).required().force_new(),
            Prop::new("policy", Kind::Document)
                .required()
                .policy(stacks::PolicyRole::Resource),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.sqs.queue_policy`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(QueuePolicyProvider::new(ctx)),
    about: "The access policy of a queue strata may not own: the queue's `Policy` attribute, \
            cleared on delete. Declare it here or as the queue's `policy`, never both.",
    import_id: "the queue URL",
    attributes: &[("id", "the queue URL")],
    property_notes: &[],
    actions: Actions {
        create: &["sqs:SetQueueAttributes"],
        read: &["sqs:GetQueueAttributes"],
        update: &["sqs:SetQueueAttributes"],
        delete: &["sqs:SetQueueAttributes"],
    },
    resources: &["arn:{partition}:sqs:{region}:{account}:{queue_url|name}"],
    passes_role: &[],
};

/// Manages a queue's `Policy` attribute.
pub type QueuePolicyProvider = AttachedPolicyProvider<QueuePolicy>;

impl QueuePolicyProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        AttachedPolicyProvider::with_slot(
            schema(),
            QueuePolicy {
                sqs: crate::aws::sdk_client!(aws_sdk_sqs, ctx),
            },
        )
    }
}

/// A queue's `Policy` attribute; an empty attribute is no policy.
pub struct QueuePolicy {
    sqs: aws_sdk_sqs::Client,
}

#[async_trait]
impl PolicySlot for QueuePolicy {
    const HOLDER: &'static str = "queue_url";
    const HOLDER_KIND: &'static str = "queue";
    /// SQS keeps the `Policy` attribute as set: a create reads nothing back.
    const KEPT_AS_WRITTEN: bool = true;

    async fn put(&self, queue_url: &str, policy: String) -> Result<()> {
        self.sqs
            .set_queue_attributes()
            .queue_url(queue_url)
            .attributes(QueueAttributeName::Policy, policy)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn get(&self, queue_url: &str) -> Result<Option<(String, Map)>> {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::Policy)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = queue_missing_is_none(out)? else {
            return Ok(None);
        };
        Ok(out
            .attributes()
            .and_then(|attrs| attrs.get(&QueueAttributeName::Policy))
            .filter(|text| !text.trim().is_empty())
            .map(|text| (text.clone(), Map::new())))
    }

    /// Clears the queue's policy; a queue that is gone has no policy, which is success.
    async fn remove(&self, queue_url: &str) -> Result<()> {
        match self.put(queue_url, String::new()).await {
            Err(e) if e.is_code(QUEUE_NOT_FOUND) => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use stacks::{Map, Value};

    use crate::document::{document_from_aws, document_json};

    #[test]
    fn url_encoded_and_reserialised_documents_parse_to_the_same_mapping() {
        let plain = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*"}}"#;
        let spaced =
            r#"{"Statement": {"Action": "sqs:*", "Effect": "Allow"}, "Version": "2012-10-17"}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22sqs%3A%2A%22%7D%7D";
        let expected = document_from_aws("policy", plain).unwrap();
        assert_eq!(document_from_aws("policy", spaced).unwrap(), expected);
        assert_eq!(document_from_aws("policy", encoded).unwrap(), expected);
    }

    #[test]
    fn a_document_that_is_not_json_is_an_error_naming_the_property() {
        let err = document_from_aws("filter_policy", "not json").unwrap_err();
        assert!(err.to_string().contains("`filter_policy`"), "{err}");
    }

    #[test]
    fn an_unknown_document_is_never_sent() {
        let doc = Value::Map(Map::from([("Statement".to_string(), Value::Unknown)]));
        assert!(document_json("policy", &doc).is_err());
    }
}
