//! The uploads example as a user drives it: S3 notifies a Lambda that writes to a DynamoDB
//! table whose stream feeds a second Lambda, with log groups, a metric filter and an alarm to
//! SNS, and roles whose policies are separate resources. Applied through the built binary
//! against the emulator, checked through the AWS API, re-planned clean, changed through a
//! param, and destroyed leaving nothing.

use strata_tests::kit::{self, event_source_arns, function_names};
use strata_tests::{assert_code, copy_dir, run_strata, workspace_root, Emulator};

#[tokio::test(flavor = "multi_thread")]
async fn the_uploads_example_applies_replans_clean_follows_a_param_and_destroys_cleanly() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace_root().join("examples/uploads"), dir.path());
    let env = emu.aws_env();
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);
    let ctx = kit::context(&emu);

    assert_code(&strata(&["validate"]), 0);
    assert_code(&strata(&["lint"]), 0);
    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 18 added"),
        "{}",
        run.stdout
    );

    // The bucket notifies `ingest` for new objects under incoming/.
    let s3 = aws_sdk_s3::Client::new(&ctx.sdk);
    let notification = s3
        .get_bucket_notification_configuration()
        .bucket("uploads-bucket")
        .send()
        .await
        .unwrap();
    let lambdas = notification.lambda_function_configurations();
    assert_eq!(lambdas.len(), 1, "{lambdas:?}");
    assert!(
        lambdas[0]
            .lambda_function_arn()
            .ends_with(":function:uploads-ingest"),
        "{lambdas:?}"
    );

    // The table streams new images to `notify`.
    let table = aws_sdk_dynamodb::Client::new(&ctx.sdk)
        .describe_table()
        .table_name("uploads-table")
        .send()
        .await
        .unwrap();
    let table = table.table().unwrap();
    let stream_arn = table.latest_stream_arn().expect("a stream").to_string();
    assert_eq!(
        function_names(&ctx).await,
        ["uploads-ingest", "uploads-notify"]
    );
    assert_eq!(
        event_source_arns(&ctx, "uploads-notify").await,
        [stream_arn]
    );

    // Log groups kept 14 days; the alarm notifies the topic.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&ctx.sdk);
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/uploads-")
        .send()
        .await
        .unwrap();
    let retention: Vec<(String, Option<i32>)> = groups
        .log_groups()
        .iter()
        .map(|g| {
            (
                g.log_group_name().unwrap_or_default().to_string(),
                g.retention_in_days(),
            )
        })
        .collect();
    assert_eq!(
        retention,
        [
            ("/aws/lambda/uploads-ingest".to_string(), Some(14)),
            ("/aws/lambda/uploads-notify".to_string(), Some(14)),
        ]
    );
    let alarms = aws_sdk_cloudwatch::Client::new(&ctx.sdk)
        .describe_alarms()
        .alarm_names("uploads-ingest-errors-alarm")
        .send()
        .await
        .unwrap();
    let alarm = &alarms.metric_alarms()[0];
    assert_eq!(
        alarm.alarm_actions(),
        ["arn:aws:sns:us-east-1:123456789012:uploads-alerts"]
    );

    // The roles hold their policies through the separate resources, and re-plan clean.
    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // A param change reaches exactly the two log groups.
    let run = strata(&["plan", "--var", "retention_days=30"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert_code(
        &strata(&["apply", "--auto-approve", "--var", "retention_days=30"]),
        0,
    );
    let run = strata(&["plan", "--detailed-exitcode", "--var", "retention_days=30"]);
    assert_code(&run, 0);

    let run = strata(&["destroy", "--auto-approve", "--var", "retention_days=30"]);
    assert_code(&run, 0);
    assert!(function_names(&ctx).await.is_empty());
    let tables = aws_sdk_dynamodb::Client::new(&ctx.sdk)
        .list_tables()
        .send()
        .await
        .unwrap();
    assert!(tables.table_names().is_empty(), "{tables:?}");
    let buckets = s3.list_buckets().send().await.unwrap();
    assert!(buckets.buckets().is_empty(), "{buckets:?}");
    let groups = logs.describe_log_groups().send().await.unwrap();
    assert!(groups.log_groups().is_empty(), "{groups:?}");
}
