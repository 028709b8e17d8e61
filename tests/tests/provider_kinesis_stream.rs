//! `aws.kinesis.stream` through the built binary against the emulator: a provisioned and an
//! on-demand stream apply and re-plan clean; shard count, retention (down as well as up),
//! shard-level metrics, encryption, tags and the capacity mode change in place on the same
//! stream; a new name replaces it and the old one is gone; `state rm` + `import` by name plans
//! nothing; a retention outside 24..8760 is refused at load time; destroy leaves no stream.

use aws_sdk_kinesis::types::StreamDescriptionSummary;
use providers::aws::AwsContext;
use strata_tests::{assert_code, Project};

/// The stack: streams `clicks` and `events` with these settings (YAML lines under
/// `properties:`).
fn stack(settings: &str, events: &str) -> String {
    format!(
        r#"stack: kin
region: us-east-1
resources:
  clicks:
    type: aws.kinesis.stream
    properties:
{settings}
  events:
    type: aws.kinesis.stream
    properties:
{events}
"#
    )
}

const FIRST: &str = "      shard_count: 1
      retention_period: 48
      shard_level_metrics: [IncomingBytes]
      tags: { team: data }";

const CHANGED: &str = "      shard_count: 2
      retention_period: 24
      shard_level_metrics: [OutgoingBytes]
      encryption_type: KMS
      kms_key_id: alias/aws/kinesis
      tags: { team: analytics }";

const RENAMED: &str = "      name: kin-clicks-v2
      shard_count: 2
      encryption_type: KMS
      kms_key_id: alias/aws/kinesis
      tags: { team: analytics }";

const ON_DEMAND: &str = "      stream_mode_details: { stream_mode: ON_DEMAND }";

const PROVISIONED: &str = "      stream_mode_details: { stream_mode: PROVISIONED }
      shard_count: 1";

const BAD_RETENTION: &str = "      shard_count: 1
      retention_period: 12";

/// The summary of stream `name`; `None` when it does not exist.
pub(crate) async fn stream(ctx: &AwsContext, name: &str) -> Option<StreamDescriptionSummary> {
    aws_sdk_kinesis::Client::new(&ctx.sdk)
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .ok()
        .and_then(|o| o.stream_description_summary)
}

/// Every stream name in the account, sorted.
pub(crate) async fn stream_names(ctx: &AwsContext) -> Vec<String> {
    let out = aws_sdk_kinesis::Client::new(&ctx.sdk)
        .list_streams()
        .send()
        .await
        .unwrap();
    let mut names = out.stream_names().to_vec();
    names.sort();
    names
}

/// The tags of stream `name`, as `KEY=VALUE` strings without strata's own, sorted.
async fn user_tags(ctx: &AwsContext, name: &str) -> Vec<String> {
    let out = aws_sdk_kinesis::Client::new(&ctx.sdk)
        .list_tags_for_stream()
        .stream_name(name)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<String> = out
        .tags()
        .iter()
        .filter(|t| !t.key().starts_with("strata:"))
        .map(|t| format!("{}={}", t.key(), t.value().unwrap_or_default()))
        .collect();
    tags.sort();
    tags
}

fn metrics(summary: &StreamDescriptionSummary) -> Vec<String> {
    let mut names: Vec<String> = summary
        .enhanced_monitoring()
        .iter()
        .flat_map(|m| m.shard_level_metrics())
        .map(|m| m.as_str().to_string())
        .collect();
    names.sort();
    names
}

/// The id recorded for `address` in the state of stack `stack`.
pub(crate) fn recorded_id(p: &Project, stack: &str, address: &str) -> String {
    let path = p.path().join(format!(".strata/{stack}.state.json"));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string()
}

/// Asserts `plan --detailed-exitcode` finds nothing to do.
pub(crate) fn assert_clean_plan(p: &Project) {
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_apply_change_in_place_replace_on_a_new_name_import_and_destroy_cleanly() {
    let p = Project::new(&stack(FIRST, ON_DEMAND));
    let ctx = p.ctx();

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 2 added"),
        "{}",
        run.stdout
    );
    let clicks = stream(&ctx, "kin-clicks").await.expect("clicks exists");
    assert_eq!(clicks.stream_status().as_str(), "ACTIVE");
    assert_eq!(clicks.open_shard_count(), 1);
    assert_eq!(clicks.retention_period_hours(), 48);
    assert_eq!(metrics(&clicks), ["IncomingBytes"]);
    assert_eq!(user_tags(&ctx, "kin-clicks").await, ["team=data"]);
    let events = stream(&ctx, "kin-events").await.expect("events exists");
    assert_eq!(
        events
            .stream_mode_details()
            .map(|d| d.stream_mode().as_str()),
        Some("ON_DEMAND")
    );
    assert_eq!(recorded_id(&p, "kin", "clicks"), "kin-clicks");
    assert_clean_plan(&p);

    // Shards, retention (lowered), metrics, encryption and tags: one in-place update; the
    // on-demand stream becomes provisioned with one shard.
    p.write_stack(&stack(CHANGED, PROVISIONED));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    for line in [
        "~ clicks (aws.kinesis.stream) will be updated in place",
        "~ events (aws.kinesis.stream) will be updated in place",
        "Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy.",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let after = stream(&ctx, "kin-clicks").await.expect("clicks exists");
    assert_eq!(after.stream_arn(), clicks.stream_arn());
    assert_eq!(
        after.stream_creation_timestamp(),
        clicks.stream_creation_timestamp(),
        "the same stream, not a new one"
    );
    assert_eq!(after.open_shard_count(), 2);
    assert_eq!(after.retention_period_hours(), 24);
    assert_eq!(metrics(&after), ["OutgoingBytes"]);
    assert_eq!(after.encryption_type().map(|e| e.as_str()), Some("KMS"));
    assert_eq!(after.key_id(), Some("alias/aws/kinesis"));
    assert_eq!(user_tags(&ctx, "kin-clicks").await, ["team=analytics"]);
    let provisioned = stream(&ctx, "kin-events").await.expect("events exists");
    assert_eq!(provisioned.stream_arn(), events.stream_arn());
    assert_eq!(
        provisioned
            .stream_mode_details()
            .map(|d| d.stream_mode().as_str()),
        Some("PROVISIONED")
    );
    assert_eq!(provisioned.open_shard_count(), 1);
    assert_clean_plan(&p);

    // A new name is a new stream; the metrics taken out are cleared on it.
    p.write_stack(&stack(RENAMED, PROVISIONED));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ clicks (aws.kinesis.stream) must be replaced"),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(stream_names(&ctx).await, ["kin-clicks-v2", "kin-events"]);
    assert_eq!(recorded_id(&p, "kin", "clicks"), "kin-clicks-v2");
    assert_clean_plan(&p);

    // Forgotten, then imported by name: nothing to do.
    assert_code(&p.strata(&["state", "rm", "clicks"]), 0);
    assert_code(&p.strata(&["import", "clicks", "kin-clicks-v2"]), 0);
    assert_clean_plan(&p);
    assert_code(&p.strata(&["state", "rm", "events"]), 0);
    assert_code(&p.strata(&["import", "events", "kin-events"]), 0);
    assert_clean_plan(&p);

    // A retention Kinesis refuses never reaches it.
    p.write_stack(&stack(BAD_RETENTION, PROVISIONED));
    let run = p.strata(&["validate"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:8:25"), "{}", run.stderr);
    assert!(run.stderr.contains("retention_period"), "{}", run.stderr);
    p.write_stack(&stack(RENAMED, PROVISIONED));

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(stream_names(&ctx).await.is_empty());
}
