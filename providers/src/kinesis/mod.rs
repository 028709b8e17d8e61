//! Amazon Kinesis Data Streams: streams.

use crate::tags::{tag_api, tag_map};

pub mod stream;

/// How Kinesis says a stream does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

tag_api! {
    /// Kinesis's tagging calls for one stream (`AddTagsToStream`, `RemoveTagsFromStream`), by
    /// stream name.
    StreamTags(aws_sdk_kinesis::Client) by stream_name: add_tags_to_stream(tag_map), remove_tags_from_stream
}
