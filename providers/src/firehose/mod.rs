//! Amazon Data Firehose: delivery streams.

use std::collections::BTreeMap;

use aws_sdk_firehose::types::Tag;

use crate::tags::{sdk_tags, tag_api};
use crate::Result;

pub mod delivery_stream;

/// How Firehose says a delivery stream does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// Tags as Firehose's `Tag` list.
pub(crate) fn firehose_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().key(key).value(value).build()
    })
}

tag_api! {
    /// Firehose's tagging calls for one delivery stream (`TagDeliveryStream`,
    /// `UntagDeliveryStream`), by delivery stream name.
    DeliveryStreamTags(aws_sdk_firehose::Client) by delivery_stream_name: tag_delivery_stream(firehose_tags), untag_delivery_stream
}
