//! Amazon SQS: queues and queue policies.

use crate::tags::{tag_api, tag_map};

pub mod queue;
pub mod queue_policy;

tag_api! {
    /// SQS's tagging calls for one queue (`TagQueue`, `UntagQueue`), by queue URL.
    QueueTags(aws_sdk_sqs::Client) by queue_url: tag_queue(tag_map), untag_queue
}
