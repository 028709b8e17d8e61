//! Amazon SNS: topics and subscriptions.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_sns::types::Tag;

use crate::aws::api_error;
use crate::tags::{sdk_tags, TagApi};
use crate::Result;

pub mod subscription;
pub mod topic;

/// Tags as SNS's `Tag` list.
pub(crate) fn sns_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().key(key).value(value).build()
    })
}

/// SNS's tagging calls for one topic: `TagResource` and `UntagResource`, by topic ARN.
pub(crate) struct TopicTags<'a> {
    pub sns: &'a aws_sdk_sns::Client,
    pub arn: &'a str,
}

#[async_trait]
impl TagApi for TopicTags<'_> {
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
        self.sns
            .tag_resource()
            .resource_arn(self.arn)
            .set_tags(Some(sns_tags(tags)?))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn untag(&self, keys: Vec<String>) -> Result<()> {
        self.sns
            .untag_resource()
            .resource_arn(self.arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}
