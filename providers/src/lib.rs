//! One provider per AWS resource type, behind a plain request/response trait.
//!
//! The engine talks to [`Provider`] only, so it can be tested with a fake provider, and each
//! provider can be tested against the emulator without the engine. A provider says which
//! properties force replacement (its [`stacks::TypeSchema`]); the planner decides whether to replace.
//!
//! Every type is registered once, in [`catalogue`]; [`catalog`] and [`aws_registry`] are both
//! derived from that one list, so what `validate` accepts and what `plan` can call agree.

use stacks::Catalog;

pub mod apigateway;
pub mod apigatewayv2;
pub mod attached_policy;
pub mod aws;
pub mod catalogue;
pub mod cloudwatch;
pub mod document;
pub mod dynamodb;
pub mod ec2;
pub mod events;
pub mod firehose;
pub mod iam;
pub mod in_flight;
pub mod kinesis;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod lookups;
pub mod props;
mod provider;
pub mod retry;
pub mod s3;
pub mod scheduler;
pub mod secretsmanager;
pub mod sfn;
pub mod sns;
pub mod sqs;
pub mod ssm;
pub mod strata;
pub mod tags;

pub use provider::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Registry, Resource, Result, UpdateRequest,
};

pub use catalogue::catalogue;

/// Every schema strata knows, without AWS clients: what `validate` needs. Derived from the
/// [`catalogue`], as [`aws_registry`] is, with the lookup types of [`lookups::LOOKUPS`].
pub fn catalog() -> Catalog {
    Catalog::new(catalogue().iter().map(|entry| (entry.schema)())).with_lookups(lookups::schemas())
}

/// The AWS providers of every type in the [`catalogue`], with clients built from `ctx`.
pub fn aws_registry(ctx: &aws::AwsContext) -> Registry {
    let mut registry = Registry::new();
    for entry in catalogue() {
        let ctx = ctx.clone();
        let make = entry.provider;
        registry.insert_lazy((entry.schema)(), move || make(&ctx));
    }
    registry
}
