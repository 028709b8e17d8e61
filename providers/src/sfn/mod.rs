//! AWS Step Functions: state machines.

use std::collections::BTreeMap;

use aws_sdk_sfn::types::Tag;

use crate::tags::{sdk_tags, tag_api};
use crate::Result;

pub mod state_machine;

/// How Step Functions says a state machine does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["StateMachineDoesNotExist", "ResourceNotFound"];

/// Tags as Step Functions' `Tag` list.
pub(crate) fn sfn_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    sdk_tags(
        tags,
        |key, value| -> std::result::Result<Tag, std::convert::Infallible> {
            Ok(Tag::builder().key(key).value(value).build())
        },
    )
}

tag_api! {
    /// Step Functions' tagging calls for one state machine (`TagResource`, `UntagResource`),
    /// by its ARN.
    StateMachineTags(aws_sdk_sfn::Client) by resource_arn: tag_resource(sfn_tags), untag_resource
}
