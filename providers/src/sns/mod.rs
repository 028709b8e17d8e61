//! Amazon SNS: topics and subscriptions.

use std::sync::Arc;

use stacks::TypeSchema;

use crate::aws::AwsContext;
use crate::Provider;

pub mod subscription;
pub mod topic;

/// The schemas of this service's types.
pub fn schemas() -> Vec<TypeSchema> {
    vec![topic::schema(), subscription::schema()]
}

/// This service's providers, with clients built from `ctx`.
pub fn providers(ctx: &AwsContext) -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(topic::TopicProvider::new(ctx)),
        Arc::new(subscription::SubscriptionProvider::new(ctx)),
    ]
}
