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
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::queue::{queue_missing_is_none, QUEUE_NOT_FOUND};
use crate::aws::{api_error, AwsContext};
use crate::catalogue::entry::Entry;
use crate::document::{document_from_aws, required_document_json};
use crate::props::required_str;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

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
};

/// Manages a queue's `Policy` attribute.
pub struct QueuePolicyProvider {
    schema: TypeSchema,
    sqs: aws_sdk_sqs::Client,
}

impl QueuePolicyProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            sqs: aws_sdk_sqs::Client::new(&ctx.sdk),
        }
    }

    async fn set_policy(&self, queue_url: &str, policy: String) -> Result<()> {
        self.sqs
            .set_queue_attributes()
            .queue_url(queue_url)
            .attributes(QueueAttributeName::Policy, policy)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    /// The queue's policy, or `None` when the queue is gone or has no policy.
    async fn find_policy(&self, queue_url: &str) -> Result<Option<Resource>> {
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
        let text = out
            .attributes()
            .and_then(|attrs| attrs.get(&QueueAttributeName::Policy))
            .filter(|text| !text.trim().is_empty());
        let Some(text) = text else {
            return Ok(None);
        };
        let properties = Map::from([
            ("queue_url".to_string(), Value::str(queue_url)),
            ("policy".to_string(), document_from_aws("policy", text)?),
        ]);
        Ok(Some(Resource {
            id: queue_url.to_string(),
            properties,
            attributes: Map::from([("id".to_string(), Value::str(queue_url))]),
        }))
    }

    /// Reads the policy just written; it is an error for it to be missing.
    async fn read_written(&self, queue_url: &str) -> Result<Resource> {
        self.find_policy(queue_url).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "the policy of queue {queue_url} was set but reads back empty"
            ))
        })
    }
}

#[async_trait]
impl Provider for QueuePolicyProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let url = required_str(&req.properties, "queue_url")?;
        self.set_policy(&url, required_document_json(&req.properties, "policy")?)
            .await?;
        self.read_written(&url).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_policy(&req.id).await
    }

    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        for prop in &req.changed {
            if prop != "policy" {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            }
        }
        if req.changed.iter().any(|p| p == "policy") {
            self.set_policy(&req.id, required_document_json(&req.properties, "policy")?)
                .await?;
        }
        self.read_written(&req.id).await
    }

    /// Clears the queue's policy; a queue that is gone has no policy, which is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        match self.set_policy(&req.id, String::new()).await {
            Err(e) if e.is_code(QUEUE_NOT_FOUND) => Ok(()),
            other => other,
        }
    }

    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        self.find_policy(&required_str(&req.properties, "queue_url")?)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::document_json;

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
