//! The `aws.lambda.*` resource types: functions, their invoke permissions, and event source
//! mappings. Functions are never invoked by strata.

use std::sync::Arc;

use stacks::TypeSchema;

use crate::aws::AwsContext;
use crate::Provider;

pub mod code;
pub mod event_source_mapping;
pub mod function;
pub mod permission;

/// The schemas of this service's types.
pub fn schemas() -> Vec<TypeSchema> {
    vec![
        function::schema(),
        permission::schema(),
        event_source_mapping::schema(),
    ]
}

/// This service's providers, with clients built from `ctx`.
pub fn providers(ctx: &AwsContext) -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(function::FunctionProvider::new(ctx)),
        Arc::new(permission::PermissionProvider::new(ctx)),
        Arc::new(event_source_mapping::EventSourceMappingProvider::new(ctx)),
    ]
}
