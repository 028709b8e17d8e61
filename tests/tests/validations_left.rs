//! Which checks of stack input the providers still make, and why each is not (only) made when
//! the stack is loaded. No emulator.
//!
//! The test reads every `ProviderError::invalid(...)` in `providers/src` whose message names a
//! property, and sorts it:
//!
//! * **shape** — a property's kind or presence (`must be a mapping`, `is required`): the loader
//!   checks both for every value it knows ([`a_value_of_the_wrong_shape_is_refused_at_load`]);
//!   the provider repeats them for values known only at apply (`${queue.arn}`);
//! * **import id** — the `ID` of `strata import ADDR ID`, which is not in the stack;
//! * **at load** — a check over several properties or a property's content, which the type
//!   declares as its `TypeSchema::check` (or a `Prop` rule) and the loader makes when the values
//!   are known: each has a stack here that `validate` refuses at the property's
//!   file:line:column;
//! * **at apply** — what needs AWS or the moment of apply, each with the reason.
//!
//! A new provider-side check of stack input fails this test until it is sorted here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use stacks::LoadOptions;

/// Where a provider-side check of stack input is made besides the provider.
enum Why {
    /// The loader refuses this resource (`type`, `properties` as YAML) at load time, at this
    /// property (at the resource when empty: the check names none it was given).
    AtLoad(&'static str, &'static str, &'static str),
    /// Only at apply: why.
    AtApply(&'static str),
}

use Why::{AtApply, AtLoad};

/// Every provider-side check that is neither about shape nor about an import id:
/// (file under `providers/src`, the message as written in the source, where it is made too).
const SORTED: &[(&str, &str, Why)] = &[
    ("apigateway/rest_api.rs", "`endpoint_configuration.types` takes {}, not {t}", AtLoad(
        "aws.apigateway.rest_api",
        "name: api\nendpoint_configuration: { types: [PLANETARY] }",
        "endpoint_configuration",
    )),
    ("apigateway/rest_api.rs", "`endpoint_configuration.types` holds exactly one endpoint type", AtLoad(
        "aws.apigateway.rest_api",
        "name: api\nendpoint_configuration: { types: [REGIONAL, EDGE] }",
        "endpoint_configuration",
    )),
    ("apigatewayv2/authorizer.rs", "a JWT authorizer needs `jwt_configuration.issuer`", AtLoad(
        "aws.apigatewayv2.authorizer",
        "api_id: abc123\nname: jwt\nauthorizer_type: JWT\nidentity_sources: [$request.header.Authorization]\njwt_configuration: { audience: [app] }",
        "jwt_configuration",
    )),
    ("apigatewayv2/authorizer.rs", "a JWT authorizer needs `identity_sources` (`$request.header.Authorization`)", AtLoad(
        "aws.apigatewayv2.authorizer",
        "api_id: abc123\nname: jwt\nauthorizer_type: JWT\njwt_configuration: { issuer: 'https://issuer.example.com', audience: [app] }",
        "",
    )),
    ("apigatewayv2/authorizer.rs", "a REQUEST authorizer needs `authorizer_uri` (a Lambda function's invoke_arn)", AtLoad(
        "aws.apigatewayv2.authorizer",
        "api_id: abc123\nname: lambda\nauthorizer_type: REQUEST\nidentity_sources: [$request.header.Authorization]",
        "",
    )),
    ("document.rs", "`{prop}` is not fully known yet; it cannot be sent to AWS", AtApply(
        "a document holding a value known only at apply: the planner sends none, so this guards \
         the provider against a bug upstream, not against the stack",
    )),
    ("document.rs", "`{prop}` is text that is not a JSON document", AtLoad(
        "aws.sqs.queue",
        "policy: '{\"Version\": \"2012-10-17\", '",
        "policy",
    )),
    ("dynamodb/table.rs", "each of `{prop}` needs `{field}`", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id, type: S }]\nglobal_secondary_indexes: [{ name: by-owner }]",
        "global_secondary_indexes",
    )),
    ("dynamodb/table.rs", "each of `attributes` needs `name` and `type`", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id }]",
        "attributes",
    )),
    ("dynamodb/table.rs", "attribute `{name}` is defined twice in `attributes`", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id, type: S }, { name: id, type: N }]",
        "attributes",
    )),
    ("dynamodb/table.rs", "every key needs its type in `attributes`; missing: {}", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nrange_key: at\nattributes: [{ name: id, type: S }]",
        "attributes",
    )),
    ("dynamodb/table.rs", "index `{}` is declared twice", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id, type: S }, { name: owner, type: S }]\nglobal_secondary_indexes:\n  - { name: by-owner, hash_key: owner, projection_type: ALL }\n  - { name: by-owner, hash_key: owner, projection_type: KEYS_ONLY }",
        "",
    )),
    ("dynamodb/table.rs", "`stream_view_type` is required when `stream_enabled` is true", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id, type: S }]\nstream_enabled: true",
        "stream_enabled",
    )),
    ("dynamodb/table.rs", "`stream_view_type` is only for a table with `stream_enabled: true`", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id, type: S }]\nstream_view_type: NEW_IMAGE",
        "stream_view_type",
    )),
    ("dynamodb/table.rs", "`ttl` needs `attribute_name` when `enabled` is true", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id, type: S }]\nttl: { enabled: true }",
        "ttl",
    )),
    ("dynamodb/table.rs", "index `{}`: `non_key_attributes` goes with `projection_type: INCLUDE`, and only with it", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id, type: S }, { name: owner, type: S }]\nglobal_secondary_indexes: [{ name: by-owner, hash_key: owner, projection_type: ALL, non_key_attributes: [title] }]",
        "",
    )),
    ("dynamodb/table.rs", "{what}: `read_capacity` and `write_capacity` (at least 1) are required with `billing_mode: PROVISIONED`", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id, type: S }]\nbilling_mode: PROVISIONED\nread_capacity: 5",
        "read_capacity",
    )),
    ("dynamodb/table.rs", "{what}: `read_capacity` and `write_capacity` are for `billing_mode: PROVISIONED`; a `PAY_PER_REQUEST` table takes neither", AtLoad(
        "aws.dynamodb.table",
        "hash_key: id\nattributes: [{ name: id, type: S }]\nbilling_mode: PAY_PER_REQUEST\nread_capacity: 5\nwrite_capacity: 5",
        "read_capacity",
    )),
    ("ec2/mod.rs", "found {} {type_name} resources tagged for `{address}` ({}); delete the extra ones or remove their `{ADDRESS_TAG}` tag", AtApply(
        "what AWS holds: several objects tagged for one address, found when adopting after a crash",
    )),
    ("ec2/network_acl.rs", "`{what}.protocol` `{protocol}` is not `tcp`, `udp`, `icmp`, `all` or a protocol number from -1 to 255", AtLoad(
        "aws.ec2.network_acl",
        "vpc_id: ${vpc.id}\ningress: [{ rule_no: 100, action: allow, protocol: sctp, cidr_block: 0.0.0.0/0 }]",
        "ingress",
    )),
    ("events/rule.rs", "two targets have the id `{}`; target ids must be unique within a rule (give each target its own `id`)", AtLoad(
        "aws.events.rule",
        "schedule_expression: rate(5 minutes)\ntargets:\n  - { id: worker, arn: 'arn:aws:sqs:us-east-1:123456789012:a' }\n  - { id: worker, arn: 'arn:aws:sqs:us-east-1:123456789012:b' }",
        "",
    )),
    ("firehose/delivery_stream.rs", "`server_side_encryption` cannot be enabled on a delivery stream with a `kinesis_source_configuration` (the Kinesis stream's own encryption applies)", AtLoad(
        "aws.firehose.delivery_stream",
        "destination: extended_s3\nextended_s3_configuration: { role_arn: 'arn:aws:iam::123456789012:role/firehose', bucket_arn: 'arn:aws:s3:::sink' }\nkinesis_source_configuration: { kinesis_stream_arn: 'arn:aws:kinesis:us-east-1:123456789012:stream/in', role_arn: 'arn:aws:iam::123456789012:role/firehose' }\nserver_side_encryption: { enabled: true }",
        "server_side_encryption",
    )),
    ("kinesis/stream.rs", "`shard_count` is required for a provisioned stream (or set `stream_mode_details: { stream_mode: ON_DEMAND }`)", AtLoad(
        "aws.kinesis.stream",
        "stream_mode_details: { stream_mode: PROVISIONED }",
        "stream_mode_details",
    )),
    ("lambda/event_source_mapping.rs", "`starting_position` (TRIM_HORIZON or LATEST) is required for the stream source {source}", AtLoad(
        "aws.lambda.event_source_mapping",
        "function_name: worker\nevent_source_arn: arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
        "",
    )),
    ("ec2/flow_log.rs", "a flow log needs exactly one of `vpc_id`, `subnet_id` and `eni_id`", AtLoad(
        "aws.ec2.flow_log",
        "vpc_id: vpc-123\nsubnet_id: subnet-123\ntraffic_type: ALL\nlog_destination_type: s3\nlog_destination: arn:aws:s3:::logs",
        "vpc_id",
    )),
    ("ec2/flow_log.rs", "`max_aggregation_interval` must be 60 or 600 seconds", AtLoad(
        "aws.ec2.flow_log",
        "vpc_id: vpc-123\ntraffic_type: ALL\nlog_destination_type: s3\nlog_destination: arn:aws:s3:::logs\nmax_aggregation_interval: 300",
        "max_aggregation_interval",
    )),
    ("ec2/network_acl.rs", "`{what}.rule_no` is required, from {} to {}", AtLoad(
        "aws.ec2.network_acl",
        "vpc_id: vpc-123\ningress: [{ rule_no: 40000, action: allow, protocol: tcp, cidr_block: 0.0.0.0/0, from_port: 443, to_port: 443 }]",
        "ingress",
    )),
    ("ec2/network_acl.rs", "`{what}.action` is required: `allow` or `deny`", AtLoad(
        "aws.ec2.network_acl",
        "vpc_id: vpc-123\ningress: [{ rule_no: 100, protocol: tcp, cidr_block: 0.0.0.0/0, from_port: 443, to_port: 443 }]",
        "ingress",
    )),
    ("ec2/network_acl.rs", "`{what}` needs exactly one of `cidr_block` and `ipv6_cidr_block`", AtLoad(
        "aws.ec2.network_acl",
        "vpc_id: vpc-123\ningress: [{ rule_no: 100, action: allow, protocol: tcp, from_port: 443, to_port: 443 }]",
        "ingress",
    )),
    ("ec2/network_acl.rs", "`{what}` is for {}, so it needs `from_port` and `to_port`", AtLoad(
        "aws.ec2.network_acl",
        "vpc_id: vpc-123\ningress: [{ rule_no: 100, action: allow, protocol: tcp, cidr_block: 0.0.0.0/0 }]",
        "ingress",
    )),
    ("ec2/network_acl.rs", "`{prop}` has two rules numbered {rule_no}", AtLoad(
        "aws.ec2.network_acl",
        "vpc_id: ${vpc.id}\ningress:\n  - { rule_no: 100, action: allow, protocol: tcp, cidr_block: 0.0.0.0/0, from_port: 443, to_port: 443 }\n  - { rule_no: 100, action: allow, protocol: tcp, cidr_block: 0.0.0.0/0, from_port: 80, to_port: 80 }",
        "ingress",
    )),
    ("ec2/route_table.rs", "`routes[{i}]` ({destination}) needs exactly one of `gateway_id` and `nat_gateway_id`", AtLoad(
        "aws.ec2.route_table",
        "vpc_id: ${vpc.id}\nroutes: [{ destination_cidr_block: 0.0.0.0/0, gateway_id: igw-1, nat_gateway_id: nat-1 }]",
        "routes",
    )),
    ("ec2/route_table.rs", "`routes` has two routes to {destination}", AtLoad(
        "aws.ec2.route_table",
        "vpc_id: ${vpc.id}\nroutes:\n  - { destination_cidr_block: 0.0.0.0/0, gateway_id: igw-1 }\n  - { destination_cidr_block: 0.0.0.0/0, nat_gateway_id: nat-1 }",
        "routes",
    )),
    ("ec2/security_group.rs", "`{what}` allows {protocol}, so it needs `from_port` and `to_port`", AtLoad(
        "aws.ec2.security_group",
        "vpc_id: ${vpc.id}\ningress: [{ protocol: tcp, cidr_blocks: [10.0.0.0/16] }]",
        "ingress",
    )),
    ("ec2/security_group.rs", "`{what}` needs a source: `cidr_blocks`, `ipv6_cidr_blocks` or `source_security_group_id`", AtLoad(
        "aws.ec2.security_group",
        "vpc_id: ${vpc.id}\ningress: [{ protocol: tcp, from_port: 443, to_port: 443 }]",
        "ingress",
    )),
    ("events/rule.rs", "each target needs `arn`", AtLoad(
        "aws.events.rule",
        "schedule_expression: rate(5 minutes)\ntargets: [{ id: worker }]",
        "targets",
    )),
    ("events/rule.rs", "a rule needs `schedule_expression` or `event_pattern`", AtLoad(
        "aws.events.rule",
        "description: neither a schedule nor a pattern",
        "",
    )),
    ("firehose/delivery_stream.rs", "`server_side_encryption.key_arn` is required when `key_type` is CUSTOMER_MANAGED_CMK", AtLoad(
        "aws.firehose.delivery_stream",
        "destination: extended_s3\nextended_s3_configuration: { role_arn: 'arn:aws:iam::123456789012:role/firehose', bucket_arn: 'arn:aws:s3:::sink' }\nserver_side_encryption: { enabled: true, key_type: CUSTOMER_MANAGED_CMK }",
        "server_side_encryption",
    )),
    ("iam/role.rs", "`max_session_duration` {max_session} is out of range", AtLoad(
        "aws.iam.role",
        "assume_role_policy: { Version: '2012-10-17', Statement: [] }\nmax_session_duration: 99999999999",
        "max_session_duration",
    )),
    ("iam/user_group_membership.rs", "`groups` must name at least one group", AtLoad(
        "aws.iam.user_group_membership",
        "user: alice\ngroups: []",
        "groups",
    )),
    ("kinesis/stream.rs", "`kms_key_id` is required when `encryption_type` is KMS", AtLoad(
        "aws.kinesis.stream",
        "shard_count: 1\nencryption_type: KMS",
        "encryption_type",
    )),
    ("kinesis/stream.rs", "`shard_count` must not be set when `stream_mode_details.stream_mode` is ON_DEMAND", AtLoad(
        "aws.kinesis.stream",
        "shard_count: 2\nstream_mode_details: { stream_mode: ON_DEMAND }",
        "shard_count",
    )),
    ("kinesis/stream.rs", "`shard_count` {n} is out of range", AtLoad(
        "aws.kinesis.stream",
        "shard_count: 99999999999",
        "shard_count",
    )),
    ("kinesis/stream.rs", "`retention_period` {hours} is out of range", AtLoad(
        "aws.kinesis.stream",
        "shard_count: 1\nretention_period: 99999999999",
        "retention_period",
    )),
    ("lambda/code.rs", "`code` takes either `path` or `s3_bucket` and `s3_key`, not both", AtLoad(
        "aws.lambda.function",
        "runtime: python3.12\nhandler: app.handler\nrole: arn:aws:iam::123456789012:role/fn\ncode: { path: ., s3_bucket: artifacts, s3_key: fn.zip }",
        "code",
    )),
    ("lambda/code.rs", "`code` needs `path` (a directory or a .zip file), or both `s3_bucket` and `s3_key`", AtLoad(
        "aws.lambda.function",
        "runtime: python3.12\nhandler: app.handler\nrole: arn:aws:iam::123456789012:role/fn\ncode: { s3_bucket: artifacts }",
        "code",
    )),
    ("lambda/code.rs", "cannot read `code.path` {}: {e}", AtApply(
        "the directory is read when it is zipped, at apply (the loader checks that a path \
         written in the stack exists and is a directory or a .zip file); a build step may \
         write it between validate and apply",
    )),
    ("lambda/code.rs", "`code.path` {} holds no files to package", AtApply(
        "the directory is zipped at apply: a build step may fill an empty one between validate \
         and apply",
    )),
    ("lambda/event_source_mapping.rs", "`{prop}` {n} is out of range", AtLoad(
        "aws.lambda.event_source_mapping",
        "function_name: worker\nevent_source_arn: arn:aws:sqs:us-east-1:123456789012:jobs\nbatch_size: 99999999999",
        "batch_size",
    )),
    ("lambda/event_source_mapping.rs", "`starting_position` is only for stream sources, not the queue {source}", AtLoad(
        "aws.lambda.event_source_mapping",
        "function_name: worker\nevent_source_arn: arn:aws:sqs:us-east-1:123456789012:jobs\nstarting_position: LATEST",
        "starting_position",
    )),
    ("lambda/function.rs", "`{prop}` {n} is out of range", AtLoad(
        "aws.lambda.function",
        "runtime: python3.12\nhandler: app.handler\nrole: arn:aws:iam::123456789012:role/fn\ncode: { s3_bucket: artifacts, s3_key: fn.zip }\nmemory_size: 99999999999",
        "memory_size",
    )),
    ("lambda/layer_version.rs", "`{arn}` has no version number", AtApply(
        "reads the layer version ARN AWS answers with or `import` is given, not the stack",
    )),
    ("lambda/layer_version.rs", "`{arn}` is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)", AtApply(
        "reads the layer version ARN AWS answers with or `import` is given, not the stack",
    )),
    ("logs/log_group.rs", "`retention_in_days` {days} is out of range", AtLoad(
        "aws.logs.log_group",
        "retention_in_days: 4",
        "retention_in_days",
    )),
    ("logs/metric_filter.rs", "`metric_transformation`: {e}", AtApply(
        "the SDK's own refusal of a transformation without the fields the loader already \
         requires (`name`, `namespace`, `value`): a guard, unreachable from a loaded stack",
    )),
    ("provider.rs", "`{prop}` of {type_name} cannot be changed in place", AtApply(
        "the planner replaces a resource when such a property changes: a guard against a \
         planner bug, never stack input",
    )),
    ("s3/object.rs", "give an object's `source` or its `content`, not both", AtLoad(
        "aws.s3.object",
        "bucket: assets\nkey: index.html\nsource: stack.yaml\ncontent: hello",
        "source",
    )),
    ("s3/object.rs", "cannot read `source` {}: {e}", AtApply(
        "the file is read at apply (the loader checks that it exists and is a regular file); \
         a build step may write it between validate and apply",
    )),
    ("scheduler/schedule.rs", "`{key}` `{s}` is not an RFC 3339 time (`2030-01-01T00:00:00Z`)", AtLoad(
        "aws.scheduler.schedule",
        "schedule_expression: rate(5 minutes)\nflexible_time_window: { mode: 'OFF' }\ntarget: { arn: 'arn:aws:sqs:us-east-1:123456789012:jobs', role_arn: 'arn:aws:iam::123456789012:role/scheduler' }\nstart_date: tomorrow",
        "start_date",
    )),
    ("strata/mod.rs", "a {} is made by strata and kept only in its state: there is nothing to import; `strata apply` makes one", AtApply(
        "refuses `strata import` of a random value (there is nothing in AWS to read): the \
         command's input, not the stack's",
    )),
    ("strata/random_string.rs", "`{}` asks for characters that `{}: false` leaves out", AtLoad(
        "strata.random_string",
        "length: 8\nupper: false\nmin_upper: 2",
        "min_upper",
    )),
    ("strata/random_string.rs", "`length` is less than the `min_upper`, `min_lower`, `min_numeric` and `min_special` together ({minimums})", AtLoad(
        "strata.random_string",
        "length: 3\nmin_upper: 2\nmin_numeric: 2",
        "length",
    )),
    ("strata/random_string.rs", "`upper`, `lower`, `numeric` and `special` are all false: there is nothing to draw from", AtLoad(
        "strata.random_string",
        "length: 8\nupper: false\nlower: false\nnumeric: false\nspecial: false",
        "upper",
    )),
    ("sns/topic.rs", "`{topic_arn}` is not a topic ARN", AtApply(
        "reads the topic ARN AWS answers with or `import` is given, not the stack",
    )),
];

/// One `ProviderError::invalid(...)` call in the providers' code.
#[derive(Debug)]
struct Site {
    /// The file, from `providers/src`.
    file: String,
    line: usize,
    /// The message as written (a `format!` string with its `{...}` holes).
    message: String,
}

#[test]
fn every_provider_side_check_of_stack_input_is_made_at_load_or_needs_apply() {
    let root = strata_tests::workspace_root().join("providers/src");
    let sites = sites(&root);
    assert!(
        sites.len() > 100,
        "found only {} checks: the scan is broken",
        sites.len()
    );
    let mut unsorted = Vec::new();
    let mut seen = BTreeSet::new();
    let (mut shape, mut ids, mut at_load, mut at_apply) = (0, 0, 0, 0);
    for site in &sites {
        if !site.message.contains('`') || site.message.starts_with("AWS returned") {
            continue;
        }
        if is_shape(&site.message) {
            shape += 1;
            continue;
        }
        if is_import_id(&site.message) {
            ids += 1;
            continue;
        }
        match SORTED
            .iter()
            .find(|(file, message, _)| *file == site.file && *message == site.message)
        {
            Some((_, message, why)) => {
                seen.insert((site.file.as_str(), *message));
                match why {
                    AtLoad(..) => at_load += 1,
                    AtApply(reason) => {
                        assert!(!reason.is_empty());
                        at_apply += 1
                    }
                }
            }
            None => unsorted.push(format!(
                "providers/src/{}:{}: {}",
                site.file, site.line, site.message
            )),
        }
    }
    assert!(
        unsorted.is_empty(),
        "provider-side checks of stack input not sorted in tests/tests/validations_left.rs \
         (make them at load through the type's `TypeSchema::check` or a `Prop` rule and add a \
         stack the loader refuses, or say why they need apply):\n{}",
        unsorted.join("\n")
    );
    let stale: Vec<_> = SORTED
        .iter()
        .filter(|(file, message, _)| !seen.contains(&(*file, *message)))
        .map(|(file, message, _)| format!("{file}: {message}"))
        .collect();
    assert!(
        stale.is_empty(),
        "sorted checks no provider makes any more:\n{}",
        stale.join("\n")
    );
    eprintln!(
        "provider-side checks of stack input: {shape} of shape (made at load for known values), \
         {ids} of import ids, {at_load} of several properties or a value's content (made at \
         load), {at_apply} that need apply"
    );
}

#[test]
fn each_check_sorted_as_made_at_load_refuses_its_stack_at_the_property() {
    let catalog = providers::catalog();
    let mut problems = Vec::new();
    for (file, message, why) in SORTED {
        let AtLoad(type_name, properties, property) = why else {
            continue;
        };
        let text = stack(type_name, properties);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.yaml");
        std::fs::write(&path, &text).unwrap();
        let key = match *property {
            "" => "it:".to_string(),
            named => format!("{named}:"),
        };
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(&key))
            .map(|i| i + 1);
        match stacks::load(&path, &LoadOptions::default(), &catalog) {
            Ok(_) => problems.push(format!("{file}: `{message}`: the stack loaded:\n{text}")),
            Err(diags) => {
                let shown = diags.render(false);
                let at = line.map(|l| format!("stack.yaml:{l}:"));
                let placed = at.as_ref().is_some_and(|at| shown.contains(at.as_str()));
                if !placed
                    || !shown.contains(&format!("`{property}"))
                    || shown.contains("(known after apply)")
                {
                    problems.push(format!(
                        "{file}: `{message}`: refused, but not at `{property}` ({at:?}):\n{shown}"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn a_value_of_the_wrong_shape_is_refused_at_load() {
    let catalog = providers::catalog();
    for (type_name, properties, property) in [
        ("aws.apigatewayv2.stage", "api_id: abc\nname: prod\nauto_deploy: sometimes", "auto_deploy"),
        ("aws.apigatewayv2.api", "protocol_type: HTTP\ncors_configuration: [a, b]", "cors_configuration"),
        ("aws.cloudwatch.metric_alarm", "metric_name: Errors\nnamespace: AWS/Lambda\ncomparison_operator: GreaterThanThreshold\nevaluation_periods: 1\nperiod: 60\nstatistic: Sum\nthreshold: many", "threshold"),
        ("aws.iam.role", "assume_role_policy: { Version: '2012-10-17', Statement: [] }\nmanaged_policy_arns: arn:aws:iam::aws:policy/ReadOnlyAccess", "managed_policy_arns"),
        ("aws.logs.metric_filter", "log_group_name: app\npattern: ERROR", "metric_transformation"),
    ] {
        let text = stack(type_name, properties);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.yaml");
        std::fs::write(&path, &text).unwrap();
        let shown = match stacks::load(&path, &LoadOptions::default(), &catalog) {
            Ok(_) => panic!("{type_name}: the stack loaded:\n{text}"),
            Err(diags) => diags.render(false),
        };
        assert!(shown.contains(&format!("`{property}`")), "{type_name}:\n{shown}");
        assert!(shown.contains("stack.yaml:"), "{type_name}: no position:\n{shown}");
    }
}

/// A stack with a VPC (for `${vpc.id}`) and the resource `it` of `type_name`.
fn stack(type_name: &str, properties: &str) -> String {
    let properties: String = properties.lines().map(|l| format!("      {l}\n")).collect();
    format!(
        "stack: checks\nregion: us-east-1\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    \
         properties:\n      cidr_block: 10.0.0.0/16\n  it:\n    type: {type_name}\n    \
         properties:\n{properties}"
    )
}

/// A kind or presence check: the loader makes it for every known value.
fn is_shape(message: &str) -> bool {
    let shape_words = [
        "must be a ",
        "must be an ",
        "must be true or false",
        "must be {what}",
        "must map ",
        "must be a list",
    ];
    shape_words.iter().any(|w| message.contains(w)) || message.ends_with(" is required")
}

/// A check of the `ID` given to `strata import`.
fn is_import_id(message: &str) -> bool {
    message.contains("{id}")
        || message.contains("not named as")
        || message.contains("has no recorded")
}

/// Every `ProviderError::invalid(...)` outside tests in the files below `root`.
fn sites(root: &Path) -> Vec<Site> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("\n#[cfg(test)]").next().unwrap_or_default();
        let file = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let mut from = 0;
        while let Some(found) = code[from..].find("ProviderError::invalid(") {
            let start = from + found;
            from = start + 1;
            let rest = code[start + "ProviderError::invalid(".len()..].trim_start();
            let rest = rest.strip_prefix("format!(").unwrap_or(rest).trim_start();
            let Some(message) = string_literal(rest) else {
                continue;
            };
            out.push(Site {
                file: file.clone(),
                line: code[..start].lines().count(),
                message,
            });
        }
    }
    out
}

/// The string literal `text` starts with, its line continuations (`\` newline and the
/// indentation after it) removed.
fn string_literal(text: &str) -> Option<String> {
    let mut chars = text.strip_prefix('"')?.chars().peekable();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                '\n' => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                }
                'n' => out.push('\n'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
