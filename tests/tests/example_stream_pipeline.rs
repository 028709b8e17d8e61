//! The stream-pipeline example as a user drives it: a Kinesis stream read by a Lambda (an event
//! source mapping from the stream), archived to S3 by a Firehose delivery stream, and fed by a
//! log group's subscription filter (through a role CloudWatch Logs assumes). Applied through
//! the built binary against the emulator, checked through the AWS API (a log line reaches the
//! stream), re-planned clean, changed through params in place, and destroyed leaving nothing.

use aws_sdk_kinesis::types::ShardIteratorType;
use strata_tests::kit::{self, event_source_arns, function_names};
use strata_tests::{assert_code, copy_dir, run_strata, workspace_root, Emulator};

use crate::provider_kinesis_stream::{stream, stream_names};

const STREAM: &str = "pipeline-clicks";

/// The partner API token: a sensitive param, never printed.
const TOKEN: &str = "tok-5ecr3t-9f8e7d";
const TOKEN_VAR: &str = "partner_token=tok-5ecr3t-9f8e7d";

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_pipeline_example_applies_replans_clean_follows_params_and_destroys_cleanly() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &workspace_root().join("examples/stream-pipeline"),
        dir.path(),
    );
    let env = emu.aws_env();
    // The partner token comes in as a CI job passes a secret, on every command.
    let strata = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--var", TOKEN_VAR]);
        let run = run_strata(dir.path(), &args, &env);
        assert!(
            !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
            "the token was printed by `strata {}`:\n{}\n{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
        run
    };
    let ctx = kit::context(&emu);

    assert_code(&strata(&["validate"]), 0);
    assert_code(&strata(&["lint"]), 0);
    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 20 added"),
        "{}",
        run.stdout
    );

    // The stream, kept 48 hours, encrypted with the pipeline's key.
    let summary = stream(&ctx, STREAM).await.expect("the stream exists");
    let stream_arn = summary.stream_arn().to_string();
    assert_eq!(summary.retention_period_hours(), 48);
    let key_arn = summary
        .key_id()
        .expect("the stream is encrypted")
        .to_string();
    assert!(key_arn.starts_with("arn:aws:kms:"), "{key_arn}");

    // The token, as a SecureString under that key and as a secret, readable by the consumer.
    let parameter = aws_sdk_ssm::Client::new(&ctx.sdk)
        .get_parameter()
        .name("/pipeline/partner-token")
        .with_decryption(true)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!(parameter.value(), Some(TOKEN));
    assert_eq!(parameter.r#type().map(|t| t.as_str()), Some("SecureString"));
    let lambda_config = aws_sdk_lambda::Client::new(&ctx.sdk)
        .get_function_configuration()
        .function_name("pipeline-consumer")
        .send()
        .await
        .unwrap();
    let variables = lambda_config.environment().unwrap().variables().unwrap();
    let secret_arn = &variables["TOKEN_SECRET"];
    assert_eq!(variables["TOKEN_PARAMETER"], "/pipeline/partner-token");
    let secret = aws_sdk_secretsmanager::Client::new(&ctx.sdk)
        .get_secret_value()
        .secret_id(secret_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(secret.secret_string(), Some(TOKEN));
    let run = strata(&["state", "show", "partner_secret_value"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("(sensitive)"), "{}", run.stdout);

    // The consumer reads the stream from its latest record, 100 at a time.
    assert_eq!(function_names(&ctx).await, ["pipeline-consumer"]);
    assert_eq!(
        event_source_arns(&ctx, "pipeline-consumer").await,
        std::slice::from_ref(&stream_arn)
    );
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let mappings = lambda
        .list_event_source_mappings()
        .function_name("pipeline-consumer")
        .send()
        .await
        .unwrap();
    let mapping = &mappings.event_source_mappings()[0];
    assert_eq!(
        mapping.starting_position().map(|p| p.as_str()),
        Some("LATEST")
    );
    assert_eq!(mapping.batch_size(), Some(100));

    // Firehose reads the stream with its role and writes gzipped objects under clicks/.
    let delivery = aws_sdk_firehose::Client::new(&ctx.sdk)
        .describe_delivery_stream()
        .delivery_stream_name("pipeline-to-archive")
        .send()
        .await
        .unwrap()
        .delivery_stream_description
        .unwrap();
    let source = delivery
        .source()
        .and_then(|s| s.kinesis_stream_source_description())
        .unwrap();
    assert_eq!(source.kinesis_stream_arn(), Some(stream_arn.as_str()));
    assert!(
        source
            .role_arn()
            .is_some_and(|r| r.ends_with(":role/pipeline-firehose-role")),
        "{source:?}"
    );
    let s3 = delivery.destinations()[0]
        .extended_s3_destination_description()
        .unwrap();
    assert_eq!(s3.bucket_arn(), "arn:aws:s3:::pipeline-archive");
    assert_eq!(s3.prefix(), Some("clicks/"));
    assert_eq!(s3.compression_format().as_str(), "GZIP");

    // The log group's filter sends to the stream through the logs role; a log line arrives.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&ctx.sdk);
    let filters = logs
        .describe_subscription_filters()
        .log_group_name("/pipeline/web")
        .send()
        .await
        .unwrap();
    let filter = &filters.subscription_filters()[0];
    assert_eq!(filter.destination_arn(), Some(stream_arn.as_str()));
    assert!(
        filter
            .role_arn()
            .is_some_and(|r| r.ends_with(":role/pipeline-logs-role")),
        "{filter:?}"
    );
    logs.create_log_stream()
        .log_group_name("/pipeline/web")
        .log_stream_name("web-1")
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    logs.put_log_events()
        .log_group_name("/pipeline/web")
        .log_stream_name("web-1")
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now)
                .message(r#"{"event": "click", "page": "/home"}"#)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let kinesis = aws_sdk_kinesis::Client::new(&ctx.sdk);
    let shards = kinesis
        .list_shards()
        .stream_name(STREAM)
        .send()
        .await
        .unwrap();
    let iterator = kinesis
        .get_shard_iterator()
        .stream_name(STREAM)
        .shard_id(shards.shards()[0].shard_id())
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let records = kinesis
        .get_records()
        .shard_iterator(iterator.shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(records.records().len(), 1, "{records:?}");

    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // A longer retention changes the stream in place, not the readers of it.
    let run = strata(&["plan", "--var", "retention_hours=72"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert_code(
        &strata(&["apply", "--auto-approve", "--var", "retention_hours=72"]),
        0,
    );
    let summary = stream(&ctx, STREAM).await.expect("the stream exists");
    assert_eq!(summary.stream_arn(), stream_arn);
    assert_eq!(summary.retention_period_hours(), 72);
    let run = strata(&["plan", "--detailed-exitcode", "--var", "retention_hours=72"]);
    assert_code(&run, 0);

    let run = strata(&["destroy", "--auto-approve", "--var", "retention_hours=72"]);
    assert_code(&run, 0);
    assert!(stream_names(&ctx).await.is_empty());
    assert!(function_names(&ctx).await.is_empty());
    let delivery_streams = aws_sdk_firehose::Client::new(&ctx.sdk)
        .list_delivery_streams()
        .send()
        .await
        .unwrap();
    assert!(
        delivery_streams.delivery_stream_names().is_empty(),
        "{delivery_streams:?}"
    );
    let buckets = aws_sdk_s3::Client::new(&ctx.sdk)
        .list_buckets()
        .send()
        .await
        .unwrap();
    assert!(buckets.buckets().is_empty(), "{buckets:?}");
    let groups = logs.describe_log_groups().send().await.unwrap();
    assert!(groups.log_groups().is_empty(), "{groups:?}");
    let roles = aws_sdk_iam::Client::new(&ctx.sdk)
        .list_roles()
        .path_prefix("/")
        .send()
        .await
        .unwrap();
    let ours: Vec<&str> = roles
        .roles()
        .iter()
        .map(|r| r.role_name())
        .filter(|n| n.starts_with("pipeline-"))
        .collect();
    assert!(ours.is_empty(), "{ours:?}");
}
