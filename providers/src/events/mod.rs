//! The `aws.events.*` resource types.

use std::sync::Arc;

use stacks::TypeSchema;

use crate::aws::AwsContext;
use crate::Provider;

pub mod rule;

/// The schemas of this service's types.
pub fn schemas() -> Vec<TypeSchema> {
    vec![rule::schema()]
}

/// This service's providers, with clients built from `ctx`.
pub fn providers(ctx: &AwsContext) -> Vec<Arc<dyn Provider>> {
    vec![Arc::new(rule::RuleProvider::new(ctx))]
}
