//! The `aws.iam.*` resource types: roles and customer-managed policies.
//!
//! IAM is global and eventually consistent: a role or policy just created may not be readable,
//! or usable by another service, for some seconds. The providers wait where strata itself reads
//! back, and Lambda retries while a new role propagates (see `lambda::function`).

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_iam::types::Tag;
use stacks::TypeSchema;

use crate::aws::AwsContext;
use crate::tags::sdk_tags;
use crate::{Provider, Result};

pub mod policy;
pub mod role;

/// How IAM says a role, policy, policy version or inline policy does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["NoSuchEntity", "NoSuchEntityException"];

/// The schemas of this service's types.
pub fn schemas() -> Vec<TypeSchema> {
    vec![role::schema(), policy::schema()]
}

/// This service's providers, with clients built from `ctx`.
pub fn providers(ctx: &AwsContext) -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(role::RoleProvider::new(ctx)),
        Arc::new(policy::PolicyProvider::new(ctx)),
    ]
}

/// Tags as IAM's `Tag` list.
pub(crate) fn iam_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().key(key).value(value).build()
    })
}

/// The `tags` property from IAM's tag list.
pub(crate) fn tags_from_iam(tags: &[Tag]) -> stacks::Value {
    crate::tags::tags_value(tags.iter().map(|t| (t.key(), t.value())))
}
