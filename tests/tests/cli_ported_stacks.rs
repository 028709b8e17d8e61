//! Shapes found porting real Terraform stacks, through the built binary against the emulator:
//! empty CORS lists, an event rule with both a schedule and a pattern, targets without an `id`
//! and with a mapping as `input`, documents written as JSON text, and a Lambda subscribed to a
//! topic. Each applies, and the next plan (and `drift`) is clean.

use providers::aws::AwsContext;
use strata_tests::{assert_code, Project};

const STACK: &str = r#"stack: ported
region: us-east-1
resources:
  api:
    type: aws.apigatewayv2.api
    properties:
      name: ported
      cors_configuration:
        allow_origins: ["https://shop.example.com"]
        allow_headers: []
  jobs:
    type: aws.sqs.queue
  jobs_policy:
    type: aws.sqs.queue_policy
    properties:
      queue_url: ${jobs.url}
      policy: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "${jobs.arn}"}]}'
  nightly:
    type: aws.events.rule
    properties:
      schedule_expression: rate(1 day)
      event_pattern: { source: [orders] }
      targets:
        - arn: ${jobs.arn}
          input: { kind: nightly, batch: 5 }
"#;

async fn rule_targets(ctx: &AwsContext) -> Vec<aws_sdk_eventbridge::types::Target> {
    aws_sdk_eventbridge::Client::new(&ctx.sdk)
        .list_targets_by_rule()
        .rule("ported-nightly")
        .send()
        .await
        .unwrap()
        .targets()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn ported_shapes_apply_and_then_plan_and_drift_clean() {
    let p = Project::new(STACK);
    let ctx = p.ctx();

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);

    // The target's id is the queue's name; its input went as the JSON of the mapping.
    let targets = rule_targets(&ctx).await;
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!(targets[0].id(), "ported-jobs");
    let input: serde_json::Value = serde_json::from_str(targets[0].input().unwrap()).unwrap();
    assert_eq!(input, serde_json::json!({ "kind": "nightly", "batch": 5 }));
    let rule = aws_sdk_eventbridge::Client::new(&ctx.sdk)
        .describe_rule()
        .name("ported-nightly")
        .send()
        .await
        .unwrap();
    assert_eq!(rule.schedule_expression(), Some("rate(1 day)"));
    assert!(rule.event_pattern().unwrap().contains("orders"));

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    let run = p.strata(&["drift", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // Reordering nothing but the input's keys changes nothing either.
    p.write_stack(&STACK.replace(
        "{ kind: nightly, batch: 5 }",
        "'{\"batch\": 5, \"kind\": \"nightly\"}'",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
}

#[test]
fn a_document_written_as_text_that_is_not_json_is_an_error_at_its_line() {
    let p = Project::new(
        "stack: ported\nresources:\n  jobs:\n    type: aws.sqs.queue\n    properties:\n      policy: '{\"Version\": '\n",
    );
    let run = p.strata(&["validate"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:6:15"), "{}", run.stderr);
    assert!(run.stderr.contains("not JSON"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lambda_subscribed_to_a_topic_applies_replans_clean_and_destroys() {
    let p = Project::new(
        r#"stack: fanout
region: us-east-1
resources:
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: { Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: sts:AssumeRole }
  worker:
    type: aws.lambda.function
    properties: { runtime: python3.12, handler: main.handle, role: "${role.arn}", code: { path: src } }
  events:
    type: aws.sns.topic
  events_invoke_worker:
    type: aws.lambda.permission
    properties: { function_name: "${worker.name}", principal: sns.amazonaws.com, source_arn: "${events.arn}" }
  worker_subscription:
    type: aws.sns.subscription
    properties: { topic_arn: "${events.arn}", protocol: lambda, endpoint: "${worker.arn}" }
    depends_on: [events_invoke_worker]
"#,
    );
    std::fs::create_dir(p.path().join("src")).unwrap();
    std::fs::write(
        p.path().join("src/main.py"),
        "def handle(event, context):\n    return 1\n",
    )
    .unwrap();
    let ctx = p.ctx();

    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let subscriptions = aws_sdk_sns::Client::new(&ctx.sdk)
        .list_subscriptions()
        .send()
        .await
        .unwrap();
    let endpoints: Vec<(&str, &str)> = subscriptions
        .subscriptions()
        .iter()
        .map(|s| (s.protocol().unwrap_or(""), s.endpoint().unwrap_or("")))
        .collect();
    assert_eq!(
        endpoints,
        [(
            "lambda",
            "arn:aws:lambda:us-east-1:123456789012:function:fanout-worker"
        )]
    );
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    let subscriptions = aws_sdk_sns::Client::new(&ctx.sdk)
        .list_subscriptions()
        .send()
        .await
        .unwrap();
    assert!(subscriptions.subscriptions().is_empty());
}
