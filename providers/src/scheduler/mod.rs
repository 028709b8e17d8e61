//! Amazon EventBridge Scheduler: schedule groups and the schedules in them.

use std::collections::BTreeMap;

use aws_sdk_scheduler::types::Tag;

use crate::tags::{sdk_tags, tag_api};
use crate::Result;

pub mod schedule;
pub mod schedule_group;

/// How EventBridge Scheduler says a schedule or a group does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// The group every account has, which holds schedules that name no other.
pub(crate) const DEFAULT_GROUP: &str = "default";

/// Scheduler's limit on schedule and group names.
pub(crate) const NAME_MAX_LEN: usize = 64;

/// Tags as Scheduler's `Tag` list.
pub(crate) fn scheduler_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().key(key).value(value).build()
    })
}

tag_api! {
    /// Scheduler's tagging calls for one schedule group (`TagResource`, `UntagResource`), by its
    /// ARN. Schedules themselves take no tags.
    ScheduleGroupTags(aws_sdk_scheduler::Client) by resource_arn: tag_resource(scheduler_tags), untag_resource
}
