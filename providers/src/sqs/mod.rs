//! Amazon SQS: queues and queue policies.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::aws::api_error;
use crate::tags::TagApi;
use crate::Result;

pub mod queue;
pub mod queue_policy;

/// SQS's tagging calls for one queue: `TagQueue` and `UntagQueue`, by queue URL.
pub(crate) struct QueueTags<'a> {
    pub sqs: &'a aws_sdk_sqs::Client,
    pub url: &'a str,
}

#[async_trait]
impl TagApi for QueueTags<'_> {
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
        self.sqs
            .tag_queue()
            .queue_url(self.url)
            .set_tags(Some(tags.into_iter().collect()))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn untag(&self, keys: Vec<String>) -> Result<()> {
        self.sqs
            .untag_queue()
            .queue_url(self.url)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}
