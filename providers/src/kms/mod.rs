//! AWS KMS: customer managed keys and their aliases.

use std::collections::BTreeMap;

use aws_sdk_kms::types::Tag;

use crate::tags::{sdk_tags, tag_api};
use crate::Result;

pub mod alias;
pub mod key;

/// How KMS says a key or alias does not exist.
pub(crate) const KMS_NOT_FOUND: &[&str] = &["NotFoundException"];

/// Tags as KMS's `Tag` list (`TagKey`, `TagValue`).
pub(crate) fn kms_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().tag_key(key).tag_value(value).build()
    })
}

tag_api! {
    /// KMS's tagging calls for one key (`TagResource`, `UntagResource`), by key id.
    KeyTags(aws_sdk_kms::Client) by key_id: tag_resource(kms_tags), untag_resource
}

/// True when two ways of naming a KMS key name the same key: the same text, or a key id and
/// the key's ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`), or an alias name and the alias's ARN.
/// Services given a key by one form may return it in the other (Secrets Manager, SSM), and a
/// stack that wrote one form must not plan a change for the other. Aliases and key ids are
/// different names of one key that only a KMS call could match, so they compare different.
pub(crate) fn same_key(written: &str, live: &str) -> bool {
    fn short(name: &str) -> &str {
        if !name.starts_with("arn:") {
            return name;
        }
        let resource = name.splitn(6, ':').nth(5).unwrap_or(name);
        resource.strip_prefix("key/").unwrap_or(resource)
    }
    written == live || short(written) == short(live)
}

/// The value to record for a key reference AWS returned as `live`: what the stack wrote when
/// it names the same key ([`same_key`]), else `live`.
pub(crate) fn key_as_written(written: Option<&str>, live: &str) -> String {
    match written {
        Some(written) if same_key(written, live) => written.to_string(),
        _ => live.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_id_and_its_arn_name_the_same_key() {
        let arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert!(same_key("1234abcd-12ab-34cd-56ef-1234567890ab", arn));
        assert!(same_key(arn, "1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(same_key(
            "alias/orders",
            "arn:aws:kms:us-east-1:123456789012:alias/orders"
        ));
        assert!(!same_key("alias/orders", arn));
        assert_eq!(key_as_written(Some("alias/orders"), arn), arn);
        assert_eq!(key_as_written(None, arn), arn);
    }
}
