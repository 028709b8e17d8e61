//! AWS Secrets Manager: secrets and their versions.

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::types::Tag;

use crate::tags::tag_api;
use crate::Result;

pub mod secret;
pub mod secret_version;

/// How Secrets Manager says a secret (or a version of it) does not exist.
pub(crate) const SECRET_NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// How Secrets Manager refuses a call on a secret scheduled for deletion: the secret is
/// gone for strata, as for terraform-provider-aws.
pub(crate) const INVALID_REQUEST: &[&str] = &["InvalidRequestException"];

/// True for the refusal of a call on a secret that is scheduled for deletion.
pub(crate) fn marked_for_deletion(err: &crate::ProviderError) -> bool {
    err.is_code(INVALID_REQUEST)
        && err
            .message()
            .is_some_and(|m| m.contains("deleted") || m.contains("deletion"))
}

/// Tags as Secrets Manager's `Tag` list.
pub(crate) fn secret_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    Ok(tags
        .into_iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect())
}

tag_api! {
    /// Secrets Manager's tagging calls for one secret (`TagResource`, `UntagResource`), by ARN.
    SecretTags(aws_sdk_secretsmanager::Client) by secret_id: tag_resource(secret_tags), untag_resource
}
