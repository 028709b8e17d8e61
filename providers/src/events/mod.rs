//! The `aws.events.*` resource types.

use std::collections::BTreeMap;

use aws_sdk_eventbridge::types::Tag;

use crate::tags::{sdk_tags, tag_api};
use crate::Result;

pub mod event_bus;
pub mod rule;

/// Tags as EventBridge's `Tag` list.
pub(crate) fn events_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().key(key).value(value).build()
    })
}

tag_api! {
    /// EventBridge's tagging calls for one rule or event bus (`TagResource`, `UntagResource`), by
    /// its ARN.
    RuleTags(aws_sdk_eventbridge::Client) by resource_arn: tag_resource(events_tags), untag_resource
}
