//! Amazon SQS: queues and queue policies.
pub mod queue;
pub mod queue_policy;
