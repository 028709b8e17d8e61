//! `aws.iam.role_policy`: one inline policy of one role, managed apart from the role.
//!
//! An inline policy is a named document inside its role: `PutRolePolicy` writes it (create and
//! update alike), `GetRolePolicy` reads it (IAM returns it URL-encoded; read parses it back
//! into a mapping), `DeleteRolePolicy` removes it. The role and the name force replacement.
//! The id is `ROLE:NAME`, as terraform-provider-aws's import takes it.
//!
//! Ownership, as in Terraform: a role whose `inline_policies` the stack sets owns all of its
//! inline policies (strata deletes those not listed), so a role whose inline policies are
//! separate resources leaves `inline_policies` out.

use std::sync::Arc;

use async_trait::async_trait;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::NOT_FOUND;
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, required_document_json};
use crate::props::required_str;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.iam.role_policy";

/// IAM's limit on an inline policy name.
const NAME_MAX_LEN: usize = 128;

/// The inline policy's properties: its role and name (both replacing) and its document.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("role", Kind::String).required().force_new(),
            Prop::new("name", Kind::String).force_new(),
            Prop::new("policy", Kind::Document)
                .required()
                .policy(stacks::PolicyRole::Identity),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.iam.role_policy`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(RolePolicyProvider::new(ctx)),
    about: "One inline policy of one role, managed apart from the role (leave the role's \
            `inline_policies` out: when set, that mapping is exclusive).",
    import_id: "`ROLE:NAME`: the role name, a `:`, and the policy name",
    attributes: &[("id", "`ROLE:NAME`, the id `strata import` takes")],
    property_notes: &[
        ("role", "the role's name (`${role.name}`)"),
        ("policy", "the policy document"),
    ],
    actions: Actions {
        create: &["iam:PutRolePolicy"],
        read: &["iam:GetRolePolicy"],
        update: &["iam:PutRolePolicy"],
        delete: &["iam:DeleteRolePolicy"],
    },
    resources: &[
        "arn:{partition}:iam::{account}:role/{role}",
        "arn:{partition}:iam::{account}:role/*/{role}",
    ],
    passes_role: &[],
};

/// The id of an inline policy: its role and its name.
fn policy_id(role: &str, name: &str) -> String {
    format!("{role}:{name}")
}

/// The role and policy name in an id. Neither may hold a `:` in IAM, so the split is exact.
fn split_id(id: &str) -> Result<(&str, &str)> {
    id.split_once(':')
        .filter(|(role, name)| !role.is_empty() && !name.is_empty() && !name.contains(':'))
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "`{id}` is not a role policy id (ROLE:NAME, as in `worker:read-queues`)"
            ))
        })
}

/// Puts, reads and deletes one inline policy of a role; the id is `ROLE:NAME`.
pub struct RolePolicyProvider {
    schema: TypeSchema,
    iam: aws_sdk_iam::Client,
}

impl RolePolicyProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            iam: crate::aws::sdk_client!(aws_sdk_iam, ctx),
        }
    }

    /// The inline policy in the stack's terms, or `None` when it or its role is gone.
    async fn find_policy(&self, role: &str, name: &str) -> Result<Option<Resource>> {
        let out = self
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let id = policy_id(role, name);
        Ok(Some(Resource {
            properties: Map::from([
                ("role".to_string(), Value::str(role)),
                ("name".to_string(), Value::str(name)),
                (
                    "policy".to_string(),
                    document_from_aws("policy", out.policy_document())?,
                ),
            ]),
            attributes: Map::from([("id".to_string(), Value::str(&id))]),
            id,
        }))
    }

    /// `PutRolePolicy` of the request's document; returns the resource as written.
    async fn put(&self, props: &Map) -> Result<Resource> {
        let role = required_str(props, "role")?;
        let name = required_str(props, "name")?;
        let document = required_document_json(props, "policy")?;
        self.iam
            .put_role_policy()
            .role_name(&role)
            .policy_name(&name)
            .policy_document(document)
            .send()
            .await
            .map_err(api_error)?;
        let id = policy_id(&role, &name);
        Ok(Resource {
            properties: props.clone(),
            attributes: Map::from([("id".to_string(), Value::str(&id))]),
            id,
        })
    }
}

#[async_trait]
impl Provider for RolePolicyProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// One `PutRolePolicy`: its success is the policy, so nothing is read back (IAM may not
    /// show it for a moment).
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        self.put(&req.properties).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (role, name) = split_id(&req.id)?;
        self.find_policy(role, name).await
    }

    /// Only the document changes in place: `PutRolePolicy` overwrites it.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.iter().find(|p| *p != "policy") {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        self.put(&req.properties).await
    }

    /// `DeleteRolePolicy`; a role or policy already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (role, name) = split_id(&req.id)?;
        let out = self
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// The recorded role's policy of the recorded (deterministic) name, if IAM has it.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let role = required_str(&req.properties, "role")?;
        let name = required_str(&req.properties, "name")?;
        self.find_policy(&role, &name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_policy_id_is_the_role_and_the_name_as_terraform_imports_it() {
        let id = policy_id("worker", "read-queues");
        assert_eq!(id, "worker:read-queues");
        assert_eq!(split_id(&id).unwrap(), ("worker", "read-queues"));
    }

    #[test]
    fn an_id_without_a_role_or_a_name_is_refused_with_the_expected_shape() {
        for id in ["", "worker", "worker:", ":read", "a:b:c"] {
            let err = split_id(id).unwrap_err().to_string();
            assert!(err.contains("ROLE:NAME"), "{id}: {err}");
        }
    }
}
