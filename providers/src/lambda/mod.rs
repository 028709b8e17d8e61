//! The `aws.lambda.*` resource types: functions, their invoke permissions, and event source
//! mappings. Functions are never invoked by strata.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::aws::api_error;
use crate::tags::TagApi;
use crate::Result;

pub mod code;
pub mod event_source_mapping;
pub mod function;
pub mod permission;

/// Lambda's tagging calls for one function: `TagResource` and `UntagResource`, by function
/// ARN.
pub(crate) struct FunctionTags<'a> {
    pub lambda: &'a aws_sdk_lambda::Client,
    pub arn: &'a str,
}

#[async_trait]
impl TagApi for FunctionTags<'_> {
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
        self.lambda
            .tag_resource()
            .resource(self.arn)
            .set_tags(Some(tags.into_iter().collect()))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn untag(&self, keys: Vec<String>) -> Result<()> {
        self.lambda
            .untag_resource()
            .resource(self.arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}
