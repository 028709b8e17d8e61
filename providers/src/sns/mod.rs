//! Amazon SNS: topics and subscriptions.
pub mod subscription;
pub mod topic;
