//! The catalogue: every resource type strata knows, registered once.
//!
//! Each type's file declares one [`Entry`] beside its schema, holding everything strata needs
//! to know about the type besides its code: the schema, how to build its provider, what
//! `strata import` takes as its id, and what each attribute holds. [`ENTRIES`] below lists
//! those entries, one line per type, and everything else is derived from it:
//! [`crate::catalog`] (what `validate` and the JSON Schema read), [`crate::aws_registry`]
//! (what `plan`, `apply` and `import` call), and `docs/resources.md` ([`reference()`]),
//! which a test keeps in step with this list.
//!
//! So adding a type is its file (with its `ENTRY`), a `pub mod` line in its service, one line
//! here, and its test; `tests/catalogue.rs` checks the entry is complete.

pub mod entry;
pub mod policy;
pub mod reference;

/// The lookup types (SPEC §10), registered beside the resource types: one [`LookupEntry`] per
/// type in [`crate::lookups`], listed once in [`LOOKUPS`].
pub use crate::lookups::{LookupEntry, LOOKUPS};
pub use entry::{Actions, Entry};

use crate::{
    apigateway, apigatewayv2, cloudwatch, dynamodb, ec2, events, firehose, iam, kinesis, kms,
    lambda, logs, s3, scheduler, secretsmanager, sfn, sns, sqs, ssm, strata,
};

/// Every resource type, in the order the docs list them: one registration line per type.
pub const ENTRIES: &[Entry] = &[
    ec2::vpc::ENTRY,
    ec2::subnet::ENTRY,
    ec2::internet_gateway::ENTRY,
    ec2::eip::ENTRY,
    ec2::nat_gateway::ENTRY,
    ec2::route_table::ENTRY,
    ec2::security_group::ENTRY,
    ec2::network_acl::ENTRY,
    ec2::vpc_endpoint::ENTRY,
    ec2::flow_log::ENTRY,
    iam::role::ENTRY,
    iam::policy::ENTRY,
    iam::role_policy_attachment::ENTRY,
    iam::role_policy::ENTRY,
    iam::instance_profile::ENTRY,
    iam::user::ENTRY,
    iam::group::ENTRY,
    iam::user_group_membership::ENTRY,
    iam::user_policy_attachment::ENTRY,
    iam::group_policy_attachment::ENTRY,
    lambda::function::ENTRY,
    lambda::permission::ENTRY,
    lambda::event_source_mapping::ENTRY,
    lambda::alias::ENTRY,
    lambda::layer_version::ENTRY,
    lambda::function_url::ENTRY,
    sns::topic::ENTRY,
    sns::topic_policy::ENTRY,
    sns::subscription::ENTRY,
    sqs::queue::ENTRY,
    sqs::queue_policy::ENTRY,
    s3::bucket::ENTRY,
    s3::bucket_policy::ENTRY,
    s3::bucket_notification::ENTRY,
    s3::object::ENTRY,
    dynamodb::table::ENTRY,
    events::event_bus::ENTRY,
    events::rule::ENTRY,
    scheduler::schedule_group::ENTRY,
    scheduler::schedule::ENTRY,
    sfn::state_machine::ENTRY,
    logs::log_group::ENTRY,
    logs::metric_filter::ENTRY,
    logs::subscription_filter::ENTRY,
    logs::resource_policy::ENTRY,
    cloudwatch::metric_alarm::ENTRY,
    apigatewayv2::api::ENTRY,
    apigatewayv2::integration::ENTRY,
    apigatewayv2::route::ENTRY,
    apigatewayv2::authorizer::ENTRY,
    apigatewayv2::stage::ENTRY,
    kms::key::ENTRY,
    kms::alias::ENTRY,
    ssm::parameter::ENTRY,
    secretsmanager::secret::ENTRY,
    secretsmanager::secret_version::ENTRY,
    apigateway::rest_api::ENTRY,
    apigateway::resource::ENTRY,
    apigateway::method::ENTRY,
    apigateway::integration::ENTRY,
    apigateway::method_response::ENTRY,
    apigateway::integration_response::ENTRY,
    apigateway::deployment::ENTRY,
    apigateway::stage::ENTRY,
    kinesis::stream::ENTRY,
    firehose::delivery_stream::ENTRY,
    strata::random_id::ENTRY,
    strata::random_string::ENTRY,
];

/// Every registered type, in the docs' order.
pub fn catalogue() -> &'static [Entry] {
    ENTRIES
}

/// Where the generated reference lives, from the workspace root.
pub const REFERENCE_PATH: &str = "docs/resources.md";

/// The resource type reference of every registered type: what `docs/resources.md` holds.
pub fn reference() -> String {
    reference::markdown(ENTRIES)
}
