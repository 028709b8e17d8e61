//! `aws.iam.role_policy_attachment`: one managed policy attached to one role.
//!
//! IAM has no object for an attachment: `AttachRolePolicy` and `DetachRolePolicy` change the
//! role's list of attached policies, and read finds the policy in
//! `ListAttachedRolePolicies`. Both properties force replacement (a new pair is a new
//! attachment). The id is `ROLE/POLICY_ARN`, as terraform-provider-aws's import takes it.
//!
//! Ownership, as in Terraform: a role whose `managed_policy_arns` the stack sets owns its whole
//! list (strata detaches what is not in it), so a role managed by separate attachments leaves
//! `managed_policy_arns` out; then the role never touches its attachments.

use std::sync::Arc;

use async_trait::async_trait;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::NOT_FOUND;
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::required_str;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.iam.role_policy_attachment";

/// The attachment's properties: which policy on which role, both replacing.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("role", Kind::String).required().force_new(),
            Prop::new("policy_arn", Kind::String).required().force_new(),
        ],
        attrs: vec!["id"],
        taggable: false,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.iam.role_policy_attachment`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(RolePolicyAttachmentProvider::new(ctx)),
    about: "One managed policy attached to one role, managed apart from the role (leave the \
            role's `managed_policy_arns` out: when set, that list is exclusive).",
    import_id: "`ROLE/POLICY_ARN`: the role name, a `/`, and the policy ARN",
    attributes: &[("id", "`ROLE/POLICY_ARN`, the id `strata import` takes")],
    property_notes: &[
        ("role", "the role's name (`${role.name}`)"),
        (
            "policy_arn",
            "an AWS managed policy's ARN or a customer policy's (`${policy.arn}`)",
        ),
    ],
    actions: Actions {
        create: &["iam:AttachRolePolicy"],
        read: &["iam:ListAttachedRolePolicies"],
        update: &[],
        delete: &["iam:DetachRolePolicy"],
    },
};

/// The id of an attachment: the role name and the policy ARN.
fn attachment_id(role: &str, policy_arn: &str) -> String {
    format!("{role}/{policy_arn}")
}

/// The attachment of `policy_arn` to `role`, as strata records it.
fn attachment(role: &str, policy_arn: &str) -> Resource {
    let id = attachment_id(role, policy_arn);
    Resource {
        properties: Map::from([
            ("role".to_string(), Value::str(role)),
            ("policy_arn".to_string(), Value::str(policy_arn)),
        ]),
        attributes: Map::from([("id".to_string(), Value::str(&id))]),
        id,
    }
}

/// The role name and policy ARN in an attachment id. Role names have no `/` and ARNs start
/// with `arn:`, so the first `/` separates them.
fn split_id(id: &str) -> Result<(&str, &str)> {
    id.split_once('/')
        .filter(|(role, arn)| !role.is_empty() && arn.starts_with("arn:"))
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "`{id}` is not a role policy attachment id (ROLE/POLICY_ARN, as in \
                 `worker/arn:aws:iam::aws:policy/ReadOnlyAccess`)"
            ))
        })
}

/// Attaches and detaches managed policies; the id is `ROLE/POLICY_ARN`.
pub struct RolePolicyAttachmentProvider {
    schema: TypeSchema,
    iam: aws_sdk_iam::Client,
}

impl RolePolicyAttachmentProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            iam: aws_sdk_iam::Client::new(&ctx.sdk),
        }
    }

    /// The attachment when `role` has `policy_arn` attached; `None` when either is gone.
    async fn find_attachment(&self, role: &str, policy_arn: &str) -> Result<Option<Resource>> {
        let mut pages = self
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send();
        while let Some(policy) = pages.next().await {
            let Some(policy) = missing_is_none(policy.map_err(api_error), NOT_FOUND)? else {
                return Ok(None);
            };
            if policy.policy_arn() == Some(policy_arn) {
                return Ok(Some(attachment(role, policy_arn)));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl Provider for RolePolicyAttachmentProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// One `AttachRolePolicy`: its success is the attachment, so nothing is read back.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let role = required_str(&req.properties, "role")?;
        let policy_arn = required_str(&req.properties, "policy_arn")?;
        self.iam
            .attach_role_policy()
            .role_name(&role)
            .policy_arn(&policy_arn)
            .send()
            .await
            .map_err(api_error)?;
        Ok(attachment(&role, &policy_arn))
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (role, policy_arn) = split_id(&req.id)?;
        self.find_attachment(role, policy_arn).await
    }

    /// Both properties replace the attachment, so there is nothing to change in place.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let prop = req.changed.first().map_or("role", String::as_str);
        Err(ProviderError::not_in_place(prop, TYPE_NAME))
    }

    /// `DetachRolePolicy`; a role or attachment already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (role, policy_arn) = split_id(&req.id)?;
        let out = self
            .iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// The attachment of the recorded role and policy, if IAM has it.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let role = required_str(&req.properties, "role")?;
        let policy_arn = required_str(&req.properties, "policy_arn")?;
        self.find_attachment(&role, &policy_arn).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_id_splits_at_the_first_slash_since_policy_arns_hold_more() {
        let id = attachment_id("worker", "arn:aws:iam::aws:policy/service-role/Basic");
        assert_eq!(
            split_id(&id).unwrap(),
            ("worker", "arn:aws:iam::aws:policy/service-role/Basic")
        );
    }

    #[test]
    fn an_id_without_a_role_or_a_policy_arn_is_refused_with_the_expected_shape() {
        for id in [
            "",
            "worker",
            "/arn:aws:iam::aws:policy/X",
            "worker/ReadOnlyAccess",
        ] {
            let err = split_id(id).unwrap_err().to_string();
            assert!(err.contains("ROLE/POLICY_ARN"), "{id}: {err}");
        }
    }
}
