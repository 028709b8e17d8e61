//! Every end-to-end test in one test binary: each file of this folder is one module, so the
//! SDK-heavy test code is compiled and linked once, not once per file (one binary per file
//! filled the CI disk).

mod architecture;
mod cli_bad_input;
mod cli_cloud_errors;
mod cli_drift;
mod cli_graph_init_help;
mod cli_import;
mod cli_interrupt;
mod cli_json_events;
mod cli_lint;
mod cli_partial_create;
mod cli_plan_formats;
mod cli_policy_encoding;
mod cli_ported_stacks;
mod cli_queue_and_topic;
mod cli_removed_properties;
mod cli_saved_plans;
mod cli_sensitive_params;
mod cli_state;
mod cli_target;
mod emulator;
mod example_build_hosts;
mod example_modules;
mod example_network;
mod example_orders_api;
mod example_serverless;
mod example_uploads;
mod lint_rules;
mod modules_registry;
mod provider_apigatewayv2;
mod provider_dynamodb;
mod provider_ec2;
mod provider_ec2_more;
mod provider_events;
mod provider_iam;
mod provider_iam_more;
mod provider_iam_role_policy_attachment;
mod provider_lambda;
mod provider_lambda_more;
mod provider_logs;
mod provider_s3;
mod provider_sns;
mod provider_sqs;
mod replacement;
mod state_s3;
