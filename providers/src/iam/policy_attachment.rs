//! One managed policy attached to one IAM principal (a role, a user or a group), managed as a
//! resource of its own: `aws.iam.role_policy_attachment`, `aws.iam.user_policy_attachment`,
//! `aws.iam.group_policy_attachment`.
//!
//! IAM has no object for an attachment: `Attach*Policy` and `Detach*Policy` change the
//! principal's list of attached policies, and read finds the policy in
//! `ListAttached*Policies`. Both properties force replacement (a new pair is a new
//! attachment). The id is `PRINCIPAL/POLICY_ARN`, as terraform-provider-aws's import takes it.
//! Everything but the three calls is the same for the three kinds of principal; a kind says
//! which calls are its own with [`attachment_calls!`], and the provider is
//! [`PolicyAttachmentProvider`].

use std::marker::PhantomData;

use async_trait::async_trait;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::NOT_FOUND;
use crate::aws::{missing_is_none, AwsContext};
use crate::props::required_str;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

/// The property holding the policy ARN, in every such type.
const POLICY_ARN: &str = "policy_arn";

/// One kind of IAM principal's attachment calls (`AttachRolePolicy`, `DetachRolePolicy`,
/// `ListAttachedRolePolicies` for roles), by the principal's name.
#[async_trait]
pub trait PrincipalPolicies: Send + Sync + 'static {
    /// The type that attaches policies to this kind of principal.
    const TYPE_NAME: &'static str;
    /// The property naming the principal, and what it is called in messages (`role`).
    const PRINCIPAL: &'static str;

    async fn attach(iam: &aws_sdk_iam::Client, principal: &str, policy_arn: &str) -> Result<()>;

    /// Detaches; a principal or attachment already gone is success.
    async fn detach(iam: &aws_sdk_iam::Client, principal: &str, policy_arn: &str) -> Result<()>;

    /// The ARNs of the policies attached to `principal`; IAM's `NoSuchEntity` when it is gone.
    async fn attached(iam: &aws_sdk_iam::Client, principal: &str) -> Result<Vec<String>>;
}

/// Declares the [`PrincipalPolicies`] of one kind of principal: `$name` attaches with
/// `client.$attach().$by(principal).policy_arn(arn)`, detaches with `$detach` and lists with
/// the paginated `$list`. A kind states in one line which calls are its own.
macro_rules! attachment_calls {
    (
        $(#[$doc:meta])*
        $name:ident($type_name:expr, $principal:literal) by $by:ident:
            $attach:ident, $detach:ident, $list:ident
    ) => {
        $(#[$doc])*
        pub struct $name;

        #[async_trait::async_trait]
        impl $crate::iam::policy_attachment::PrincipalPolicies for $name {
            const TYPE_NAME: &'static str = $type_name;
            const PRINCIPAL: &'static str = $principal;

            async fn attach(
                iam: &aws_sdk_iam::Client,
                principal: &str,
                policy_arn: &str,
            ) -> $crate::Result<()> {
                iam.$attach()
                    .$by(principal)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                    .map_err($crate::aws::api_error)?;
                Ok(())
            }

            async fn detach(
                iam: &aws_sdk_iam::Client,
                principal: &str,
                policy_arn: &str,
            ) -> $crate::Result<()> {
                let out = iam
                    .$detach()
                    .$by(principal)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                    .map_err($crate::aws::api_error);
                $crate::aws::missing_is_none(out, $crate::iam::NOT_FOUND).map(|_| ())
            }

            async fn attached(
                iam: &aws_sdk_iam::Client,
                principal: &str,
            ) -> $crate::Result<Vec<String>> {
                let mut pages = iam.$list().$by(principal).into_paginator().items().send();
                let mut arns = Vec::new();
                while let Some(policy) = pages.next().await {
                    let policy = policy.map_err($crate::aws::api_error)?;
                    if let Some(arn) = policy.policy_arn() {
                        arns.push(arn.to_string());
                    }
                }
                Ok(arns)
            }
        }
    };
}
pub(crate) use attachment_calls;

/// The schema of an attachment type: which policy on which principal, both replacing.
pub fn schema<P: PrincipalPolicies>() -> TypeSchema {
    TypeSchema {
        type_name: P::TYPE_NAME,
        props: vec![
            Prop::new(P::PRINCIPAL, Kind::String).required().force_new(),
            Prop::new(POLICY_ARN, Kind::String)
                .arn(&["iam"])
                .required()
                .force_new(),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// The id of an attachment: the principal's name and the policy ARN.
fn attachment_id(principal: &str, policy_arn: &str) -> String {
    format!("{principal}/{policy_arn}")
}

/// The principal's name and the policy ARN in an attachment id. IAM names have no `/` and
/// ARNs start with `arn:`, so the first `/` separates them.
fn split_id<'a>(principal: &str, id: &'a str) -> Result<(&'a str, &'a str)> {
    id.split_once('/')
        .filter(|(name, arn)| !name.is_empty() && arn.starts_with("arn:"))
        .ok_or_else(|| {
            let upper = principal.to_uppercase();
            ProviderError::invalid(format!(
                "`{id}` is not a {principal} policy attachment id ({upper}/POLICY_ARN, as in \
                 `worker/arn:aws:iam::aws:policy/ReadOnlyAccess`)"
            ))
        })
}

/// Attaches and detaches one managed policy on one principal of kind `P`; the id is
/// `PRINCIPAL/POLICY_ARN`.
pub struct PolicyAttachmentProvider<P> {
    schema: TypeSchema,
    iam: aws_sdk_iam::Client,
    kind: PhantomData<P>,
}

impl<P: PrincipalPolicies> PolicyAttachmentProvider<P> {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema::<P>(),
            iam: crate::aws::sdk_client!(aws_sdk_iam, ctx),
            kind: PhantomData,
        }
    }

    /// The attachment of `policy_arn` to `principal`, as strata records it.
    fn attachment(principal: &str, policy_arn: &str) -> Resource {
        let id = attachment_id(principal, policy_arn);
        Resource {
            properties: Map::from([
                (P::PRINCIPAL.to_string(), Value::str(principal)),
                (POLICY_ARN.to_string(), Value::str(policy_arn)),
            ]),
            attributes: Map::from([("id".to_string(), Value::str(&id))]),
            id,
        }
    }

    /// The attachment when `principal` has `policy_arn` attached; `None` when either is gone.
    async fn find_attachment(&self, principal: &str, policy_arn: &str) -> Result<Option<Resource>> {
        let attached = missing_is_none(P::attached(&self.iam, principal).await, NOT_FOUND)?;
        Ok(attached
            .filter(|arns| arns.iter().any(|arn| arn == policy_arn))
            .map(|_| Self::attachment(principal, policy_arn)))
    }
}

#[async_trait]
impl<P: PrincipalPolicies> Provider for PolicyAttachmentProvider<P> {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// One attach call: its success is the attachment, so nothing is read back.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let principal = required_str(&req.properties, P::PRINCIPAL)?;
        let policy_arn = required_str(&req.properties, POLICY_ARN)?;
        P::attach(&self.iam, &principal, &policy_arn).await?;
        Ok(Self::attachment(&principal, &policy_arn))
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (principal, policy_arn) = split_id(P::PRINCIPAL, &req.id)?;
        self.find_attachment(principal, policy_arn).await
    }

    /// Both properties replace the attachment, so there is nothing to change in place.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let prop = req.changed.first().map_or(P::PRINCIPAL, String::as_str);
        Err(ProviderError::not_in_place(prop, P::TYPE_NAME))
    }

    /// The detach call; a principal or attachment already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (principal, policy_arn) = split_id(P::PRINCIPAL, &req.id)?;
        P::detach(&self.iam, principal, policy_arn).await
    }

    /// The attachment of the recorded principal and policy, if IAM has it.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let principal = required_str(&req.properties, P::PRINCIPAL)?;
        let policy_arn = required_str(&req.properties, POLICY_ARN)?;
        self.find_attachment(&principal, &policy_arn).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_id_splits_at_the_first_slash_since_policy_arns_hold_more() {
        let id = attachment_id("worker", "arn:aws:iam::aws:policy/service-role/Basic");
        assert_eq!(
            split_id("role", &id).unwrap(),
            ("worker", "arn:aws:iam::aws:policy/service-role/Basic")
        );
    }

    #[test]
    fn an_id_without_a_principal_or_a_policy_arn_is_refused_with_the_expected_shape() {
        for id in [
            "",
            "worker",
            "/arn:aws:iam::aws:policy/X",
            "worker/ReadOnlyAccess",
        ] {
            let err = split_id("user", id).unwrap_err().to_string();
            assert!(err.contains("USER/POLICY_ARN"), "{id}: {err}");
            assert!(err.contains("user policy attachment"), "{id}: {err}");
        }
    }
}
