//! Amazon DynamoDB: tables.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::Tag;

use crate::tags::{sdk_tags, tag_api};
use crate::Result;

pub mod table;

/// How DynamoDB says a table does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// Tags as DynamoDB's `Tag` list.
pub(crate) fn dynamodb_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().key(key).value(value).build()
    })
}

tag_api! {
    /// DynamoDB's tagging calls for one table (`TagResource`, `UntagResource`), by table ARN.
    TableTags(aws_sdk_dynamodb::Client) by resource_arn: tag_resource(dynamodb_tags), untag_resource
}
