//! Amazon CloudWatch: metric alarms.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::Tag;

use crate::tags::{sdk_tags, tag_api};
use crate::Result;

pub mod metric_alarm;

/// The units CloudWatch accepts for a metric (its `StandardUnit`), for alarms and for the
/// metrics log metric filters make.
pub(crate) const STANDARD_UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Tags as CloudWatch's `Tag` list.
pub(crate) fn cloudwatch_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Ok::<_, std::convert::Infallible>(Tag::builder().key(key).value(value).build())
    })
}

tag_api! {
    /// CloudWatch's tagging calls for one alarm (`TagResource`, `UntagResource`), by alarm ARN.
    AlarmTags(aws_sdk_cloudwatch::Client) by resource_arn: tag_resource(cloudwatch_tags), untag_resource
}
