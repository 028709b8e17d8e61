//! The `aws.events.*` resource types.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_eventbridge::types::Tag;

use crate::aws::api_error;
use crate::tags::{sdk_tags, TagApi};
use crate::Result;

pub mod rule;

/// Tags as EventBridge's `Tag` list.
pub(crate) fn events_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().key(key).value(value).build()
    })
}

/// EventBridge's tagging calls for one rule: `TagResource` and `UntagResource`, by rule ARN.
pub(crate) struct RuleTags<'a> {
    pub events: &'a aws_sdk_eventbridge::Client,
    pub arn: &'a str,
}

#[async_trait]
impl TagApi for RuleTags<'_> {
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
        self.events
            .tag_resource()
            .resource_arn(self.arn)
            .set_tags(Some(events_tags(tags)?))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn untag(&self, keys: Vec<String>) -> Result<()> {
        self.events
            .untag_resource()
            .resource_arn(self.arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}
