//! The `aws.iam.*` resource types: roles and customer-managed policies.
//!
//! IAM is global and eventually consistent: a role or policy just created may not be readable,
//! or usable by another service, for some seconds. The providers wait where strata itself reads
//! back, and Lambda retries while a new role propagates (see `lambda::function`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_iam::types::Tag;

use crate::aws::api_error;
use crate::tags::{sdk_tags, TagApi};
use crate::Result;

pub mod policy;
pub mod role;

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

/// IAM's tagging calls for one role: `TagRole` and `UntagRole`, by role name.
pub(crate) struct RoleTags<'a> {
    pub iam: &'a aws_sdk_iam::Client,
    pub role: &'a str,
}

#[async_trait]
impl TagApi for RoleTags<'_> {
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
        self.iam
            .tag_role()
            .role_name(self.role)
            .set_tags(Some(iam_tags(tags)?))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn untag(&self, keys: Vec<String>) -> Result<()> {
        self.iam
            .untag_role()
            .role_name(self.role)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}

/// IAM's tagging calls for one managed policy: `TagPolicy` and `UntagPolicy`, by policy ARN.
pub(crate) struct PolicyTags<'a> {
    pub iam: &'a aws_sdk_iam::Client,
    pub arn: &'a str,
}

#[async_trait]
impl TagApi for PolicyTags<'_> {
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
        self.iam
            .tag_policy()
            .policy_arn(self.arn)
            .set_tags(Some(iam_tags(tags)?))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn untag(&self, keys: Vec<String>) -> Result<()> {
        self.iam
            .untag_policy()
            .policy_arn(self.arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}
