//! Amazon SQS: queues and queue policies.

use std::sync::Arc;

use stacks::TypeSchema;

use crate::aws::AwsContext;
use crate::Provider;

pub mod queue;
pub mod queue_policy;

/// The schemas of this service's types.
pub fn schemas() -> Vec<TypeSchema> {
    vec![queue::schema(), queue_policy::schema()]
}

/// This service's providers, with clients built from `ctx`.
pub fn providers(ctx: &AwsContext) -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(queue::QueueProvider::new(ctx)),
        Arc::new(queue_policy::QueuePolicyProvider::new(ctx)),
    ]
}
