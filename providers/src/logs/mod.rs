//! Amazon CloudWatch Logs: log groups, their metric and subscription filters, and the account's
//! resource policies that let services write to them.

use crate::tags::{tag_api, tag_map};

pub mod log_group;
pub mod metric_filter;
pub mod resource_policy;
pub mod subscription_filter;

/// How CloudWatch Logs says a log group, filter or policy does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// Log group and filter names never hold `:`, so an id of two names joined by `:` splits at it;
/// `what` names the shape (`LOG_GROUP:NAME`) in the error.
pub(crate) fn split_two_part_id<'a>(
    id: &'a str,
    sep: char,
    what: &str,
) -> crate::Result<(&'a str, &'a str)> {
    id.split_once(sep)
        .filter(|(group, name)| !group.is_empty() && !name.is_empty())
        .ok_or_else(|| {
            crate::ProviderError::invalid(format!(
                "`{id}` is not a {what} id (`LOG_GROUP{sep}NAME`: the log group name, a `{sep}`, and the filter name)"
            ))
        })
}

tag_api! {
    /// CloudWatch Logs' tagging calls for one log group (`TagResource`, `UntagResource`), by its
    /// ARN without the `:*` that `DescribeLogGroups` appends.
    LogGroupTags(aws_sdk_cloudwatchlogs::Client) by resource_arn: tag_resource(tag_map), untag_resource
}
