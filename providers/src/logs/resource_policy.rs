//! `aws.logs.resource_policy`: an account-level CloudWatch Logs resource policy, letting AWS
//! services (EventBridge, Route 53, ...) write to the account's log groups.
//!
//! `PutResourcePolicy` creates the policy or replaces its document, so create and an in-place
//! change are that one call. The name replaces the policy. The id is the policy name, as
//! Terraform's is.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::ResourcePolicy;
use stacks::{Kind, Map, NameRule, PolicyRole, Prop, TypeSchema, Value};

use super::NOT_FOUND;
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, required_document_json};
use crate::props::required_str;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.logs.resource_policy";

/// The longest policy name CloudWatch Logs takes.
const NAME_MAX_LEN: usize = 255;

/// The policy's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("policy_name", Kind::String).force_new(),
            Prop::new("policy_document", Kind::Document)
                .required()
                .policy(PolicyRole::Resource),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: Some(NameRule {
            prop: "policy_name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.logs.resource_policy`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(ResourcePolicyProvider::new(ctx)),
    about: "An account-level CloudWatch Logs resource policy: which AWS services may write to \
            which log groups; a change is one `PutResourcePolicy`.",
    import_id: "the policy name",
    attributes: &[("id", "the policy name, the id `strata import` takes")],
    property_notes: &[(
        "policy_document",
        "the policy, with a service principal (`delivery.logs.amazonaws.com`, \
         `events.amazonaws.com`) and the log group ARNs it may write to",
    )],
    actions: Actions {
        create: &["logs:PutResourcePolicy", "logs:DescribeResourcePolicies"],
        read: &["logs:DescribeResourcePolicies"],
        update: &["logs:PutResourcePolicy", "logs:DescribeResourcePolicies"],
        delete: &["logs:DeleteResourcePolicy"],
    },
    resources: &[],
    passes_role: &[],
};

/// Manages account-level log resource policies; the id is the policy name.
pub struct ResourcePolicyProvider {
    schema: TypeSchema,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl ResourcePolicyProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            logs: crate::aws::sdk_client!(aws_sdk_cloudwatchlogs, ctx),
        }
    }

    /// The account-level policy `name`, as AWS describes it. The API has no lookup by name (and
    /// no paginator), so this pages through the region's policies (at most ten).
    async fn describe(&self, name: &str) -> Result<Option<ResourcePolicy>> {
        let mut token = None;
        loop {
            let out = self
                .logs
                .describe_resource_policies()
                .set_next_token(token)
                .send()
                .await
                .map_err(api_error)?;
            if let Some(policy) = out
                .resource_policies()
                .iter()
                .find(|p| p.policy_name() == Some(name))
            {
                return Ok(Some(policy.clone()));
            }
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => return Ok(None),
            }
        }
    }

    /// The policy in the stack's terms, or `None` when it does not exist.
    async fn find_policy(&self, name: &str) -> Result<Option<Resource>> {
        let Some(policy) = self.describe(name).await? else {
            return Ok(None);
        };
        let Some(document) = policy.policy_document() else {
            return Ok(None);
        };
        Ok(Some(Resource {
            id: name.to_string(),
            properties: Map::from([
                ("policy_name".to_string(), Value::str(name)),
                (
                    "policy_document".to_string(),
                    document_from_aws("policy_document", document)?,
                ),
            ]),
            attributes: Map::from([("id".to_string(), Value::str(name))]),
        }))
    }

    /// One `PutResourcePolicy` with the request's document, then the read back.
    async fn put(&self, props: &Map) -> Result<Resource> {
        let name = required_str(props, "policy_name")?;
        let document = required_document_json(props, "policy_document")?;
        self.logs
            .put_resource_policy()
            .policy_name(&name)
            .policy_document(document)
            .send()
            .await
            .map_err(api_error)?;
        self.find_policy(&name).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "log resource policy {name} was written but cannot be read back"
            ))
        })
    }
}

#[async_trait]
impl Provider for ResourcePolicyProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// One `PutResourcePolicy`: until it succeeds there is no policy, and after it the policy
    /// is whole, so there is nothing half-made to record.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        self.put(&req.properties).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_policy(&req.id).await
    }

    /// The document changes by putting it again under the same name.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.iter().find(|p| *p != "policy_document") {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        self.put(&req.properties).await
    }

    /// `DeleteResourcePolicy`; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .logs
            .delete_resource_policy()
            .policy_name(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// The policy of the deterministic name, if it exists.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "policy_name")?;
        self.find_policy(&name).await
    }
}
