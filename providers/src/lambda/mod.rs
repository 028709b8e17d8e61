//! The `aws.lambda.*` resource types: functions, their aliases, URLs and invoke permissions,
//! layer versions, and event source mappings. Functions are never invoked by strata.

use crate::tags::{tag_api, tag_map};

pub mod alias;
pub mod code;
pub mod event_source_mapping;
pub mod function;
pub mod function_url;
pub mod layer_version;
pub mod permission;

tag_api! {
    /// Lambda's tagging calls for one function (`TagResource`, `UntagResource`), by function
    /// ARN.
    FunctionTags(aws_sdk_lambda::Client) by resource: tag_resource(tag_map), untag_resource
}
