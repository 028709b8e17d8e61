//! AWS Systems Manager: Parameter Store parameters.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ssm::types::{ResourceTypeForTagging, Tag};

use crate::aws::api_error;
use crate::tags::{sdk_tags, TagApi};
use crate::Result;

pub mod parameter;

/// Tags as SSM's `Tag` list.
pub(crate) fn ssm_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(tags, |key, value| {
        Tag::builder().key(key).value(value).build()
    })
}

/// SSM's tagging calls for one parameter (`AddTagsToResource`, `RemoveTagsFromResource`), by
/// parameter name. Written out because SSM's calls also take the kind of resource.
pub(crate) struct ParameterTags<'a> {
    pub client: &'a aws_sdk_ssm::Client,
    pub id: &'a str,
}

#[async_trait]
impl TagApi for ParameterTags<'_> {
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
        self.client
            .add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(self.id)
            .set_tags(Some(ssm_tags(tags)?))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn untag(&self, keys: Vec<String>) -> Result<()> {
        self.client
            .remove_tags_from_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(self.id)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}
