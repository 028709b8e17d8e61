//! The `aws.iam.*` resource types: roles, customer-managed policies, instance profiles, users,
//! groups, and the policies and memberships that are managed apart from them.
//!
//! IAM is global and eventually consistent: a role or policy just created may not be readable,
//! or usable by another service, for some seconds. The providers wait where strata itself reads
//! back, and Lambda retries while a new role propagates (see `lambda::function`).

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;

use crate::tags::{sdk_tags, tag_api};
use crate::Result;

pub mod group;
pub mod group_policy_attachment;
pub mod instance_profile;
pub mod policy;
pub mod policy_attachment;
pub mod role;
pub mod role_policy;
pub mod role_policy_attachment;
pub mod user;
pub mod user_group_membership;
pub mod user_policy_attachment;

/// How IAM says a role, policy, policy version or inline policy does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["NoSuchEntity", "NoSuchEntityException"];

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

tag_api! {
    /// IAM's tagging calls for one role (`TagRole`, `UntagRole`), by role name.
    RoleTags(aws_sdk_iam::Client) by role_name: tag_role(iam_tags), untag_role
}

tag_api! {
    /// IAM's tagging calls for one managed policy (`TagPolicy`, `UntagPolicy`), by policy ARN.
    PolicyTags(aws_sdk_iam::Client) by policy_arn: tag_policy(iam_tags), untag_policy
}
