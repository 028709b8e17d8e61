//! Amazon SNS: topics, their policies and subscriptions.

use std::collections::BTreeMap;

use aws_sdk_sns::types::Tag;

use crate::tags::{sdk_tags, tag_api};
use crate::Result;

pub mod subscription;
pub mod topic;
pub mod topic_policy;

/// Tags as SNS's `Tag` list.
pub(crate) fn sns_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().key(key).value(value).build()
    })
}

tag_api! {
    /// SNS's tagging calls for one topic (`TagResource`, `UntagResource`), by topic ARN.
    TopicTags(aws_sdk_sns::Client) by resource_arn: tag_resource(sns_tags), untag_resource
}
