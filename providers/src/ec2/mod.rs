//! The `aws.ec2.*` resource types.

use std::sync::Arc;

use stacks::TypeSchema;

use crate::aws::AwsContext;
use crate::Provider;

/// The schemas of this service's types.
pub fn schemas() -> Vec<TypeSchema> {
    vec![]
}

/// This service's providers, with clients built from `ctx`.
pub fn providers(_ctx: &AwsContext) -> Vec<Arc<dyn Provider>> {
    vec![]
}
