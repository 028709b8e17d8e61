//! The walking skeleton as a user drives it: the built `strata` binary against the emulator,
//! with the queue-and-topic example, checked through the AWS API.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use providers::aws::AwsContext;
use strata_tests::kit::{queue_urls, topic_arns};
use strata_tests::{assert_code, Project};

const STACK: &str = include_str!("../../examples/queue-and-topic/stack.yaml");

/// The files in the project's `.strata/` (none when it does not exist).
fn state_files(p: &Project) -> Vec<PathBuf> {
    match std::fs::read_dir(p.path().join(".strata")) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

async fn subscriptions(ctx: &AwsContext) -> Vec<(String, String)> {
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);
    sns.list_subscriptions()
        .send()
        .await
        .unwrap()
        .subscriptions
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            (
                s.topic_arn.unwrap_or_default(),
                s.endpoint.unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_and_topic_stack_plans_applies_updates_replaces_and_destroys() {
    let p = Project::new(STACK);
    let ctx = p.ctx();

    let run = p.strata(&["validate"]);
    assert_code(&run, 0);

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("Plan: 5 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(known after apply)"), "{}", run.stdout);

    // No terminal and no --auto-approve: refuse and create nothing.
    let run = p.strata(&["apply"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
    assert!(queue_urls(&ctx).await.is_empty());
    assert!(topic_arns(&ctx).await.is_empty());

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("work: creating"), "{}", run.stdout);
    assert!(run.stdout.contains("work: created in"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Apply complete: 5 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    let queues = queue_urls(&ctx).await;
    assert_eq!(queues.len(), 2, "{queues:?}");
    assert!(
        queues.iter().any(|u| u.ends_with("/orders-work")),
        "{queues:?}"
    );
    assert!(
        queues
            .iter()
            .any(|u| u.ends_with("/orders-dead_letters") || u.ends_with("/orders-dead-letters")),
        "{queues:?}"
    );
    let topics = topic_arns(&ctx).await;
    assert_eq!(topics.len(), 1);
    let subs = subscriptions(&ctx).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].0, topics[0]);

    // The queue policy lets the topic send.
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
    let work_url = queues
        .iter()
        .find(|u| u.ends_with("/orders-work"))
        .unwrap()
        .clone();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&work_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let policy = attrs
        .get(&aws_sdk_sqs::types::QueueAttributeName::Policy)
        .expect("the work queue has a policy");
    assert!(policy.contains("sns.amazonaws.com"), "{policy}");
    assert_eq!(
        attrs
            .get(&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
            .map(String::as_str),
        Some("45")
    );

    let run = p.strata(&["output", "--json"]);
    assert_code(&run, 0);
    let outputs: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outputs["queue_url"]["value"], serde_json::json!(work_url));
    let run = p.strata(&["output", "queue_url"]);
    assert_eq!(run.stdout.trim(), work_url);

    // State files are private.
    let files = state_files(&p);
    assert!(!files.is_empty());
    for f in &files {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", f.display());
    }

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // An in-place update: the same queue, a new timeout.
    let run = p.strata(&["plan", "--detailed-exitcode", "--var", "visibility=90"]);
    assert_code(&run, 2);
    assert!(
        run.stdout.contains("visibility_timeout_seconds: 45 -> 90"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    let run = p.strata(&["apply", "--auto-approve", "--var", "visibility=90"]);
    assert_code(&run, 0);
    assert_eq!(queue_urls(&ctx).await, queues, "the same queues");
    let run = p.strata(&["plan", "--detailed-exitcode", "--var", "visibility=90"]);
    assert_code(&run, 0);
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&work_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    assert_eq!(
        attrs
            .get(&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
            .map(String::as_str),
        Some("90")
    );

    // Renaming the topic replaces it, and the subscription follows.
    let renamed = STACK.replace(
        "      display_name: Orders (${params.env})",
        "      name: orders-events-v2\n      display_name: Orders (${params.env})",
    );
    p.write_stack(&renamed);
    let run = p.strata(&["plan", "--var", "visibility=90"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("-/+ events (aws.sns.topic)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("# forces replacement"),
        "{}",
        run.stdout
    );
    let run = p.strata(&["apply", "--auto-approve", "--var", "visibility=90"]);
    assert_code(&run, 0);
    let topics = topic_arns(&ctx).await;
    assert_eq!(topics.len(), 1, "only the new topic exists: {topics:?}");
    assert!(topics[0].ends_with(":orders-events-v2"), "{topics:?}");
    let subs = subscriptions(&ctx).await;
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(
        subs[0].0, topics[0],
        "the subscription points at the new topic"
    );
    let run = p.strata(&["plan", "--detailed-exitcode", "--var", "visibility=90"]);
    assert_code(&run, 0);

    // Destroy leaves nothing; the next plan adds all five again.
    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(queue_urls(&ctx).await.is_empty());
    assert!(topic_arns(&ctx).await.is_empty());
    assert!(subscriptions(&ctx).await.is_empty());
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("Plan: 5 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
}

#[test]
fn a_second_writer_fails_at_once_naming_the_holder() {
    let p = Project::new(STACK);
    // Hold the lock as a running apply would.
    use state::Backend;
    let backend = state::LocalBackend::new(p.path().join(".strata"), "orders");
    let _lock = backend.lock("apply", std::time::Duration::ZERO).unwrap();
    let run = p.strata(&["plan"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("locked"), "{}", run.stderr);
    assert!(run.stderr.contains("force-unlock"), "{}", run.stderr);
}

/// A topic with its policy declared as a separate `aws.sns.topic_policy`.
fn topic_with_policy(topic_name: &str, sid: &str) -> String {
    format!(
        r#"stack: policed
region: us-east-1
resources:
  events:
    type: aws.sns.topic
    properties: {{ name: {topic_name} }}
  events_policy:
    type: aws.sns.topic_policy
    properties:
      arn: ${{events.arn}}
      policy:
        Version: "2012-10-17"
        Statement:
          Sid: {sid}
          Effect: Allow
          Principal: {{ Service: events.amazonaws.com }}
          Action: sns:Publish
          Resource: ${{events.arn}}
"#
    )
}

async fn policy_sid(ctx: &AwsContext, arn: &str) -> String {
    let attrs = strata_tests::kit::topic_attributes(&aws_sdk_sns::Client::new(&ctx.sdk), arn).await;
    let policy: serde_json::Value = serde_json::from_str(&attrs["Policy"]).unwrap();
    policy["Statement"]["Sid"]
        .as_str()
        .or_else(|| policy["Statement"][0]["Sid"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_topic_policy_is_updated_in_place_replaced_with_its_topic_and_leaves_nothing() {
    let p = Project::new(&topic_with_policy("policed-a", "First"));
    let ctx = p.ctx();
    let arn = |name: &str| {
        format!(
            "arn:aws:sns:us-east-1:{}:{name}",
            strata_tests::kit::ACCOUNT
        )
    };

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(policy_sid(&ctx, &arn("policed-a")).await, "First");
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // A new statement id: the policy changes in place, the topic stays.
    p.write_stack(&topic_with_policy("policed-a", "Second"));
    let run = p.strata(&["plan"]);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(policy_sid(&ctx, &arn("policed-a")).await, "Second");
    assert_eq!(topic_arns(&ctx).await, vec![arn("policed-a")]);

    // A new topic name replaces the topic, and with it the policy on it.
    p.write_stack(&topic_with_policy("policed-b", "Second"));
    let run = p.strata(&["plan"]);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 0 to change, 2 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(topic_arns(&ctx).await, vec![arn("policed-b")]);
    assert_eq!(policy_sid(&ctx, &arn("policed-b")).await, "Second");
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    assert!(topic_arns(&ctx).await.is_empty());
}
