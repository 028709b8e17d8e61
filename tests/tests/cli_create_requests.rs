//! Creates make the fewest requests their APIs allow, and what they record without reading
//! back is what AWS holds. Through the recording proxy: a queue with attributes and tags is
//! one `CreateQueue`; a role with managed and inline policies is `CreateRole` and then its
//! policy calls, with nothing read back; an event rule is `PutRule` and `PutTargets`. The state
//! they leave equals, property by property, what each provider reads from the emulator, so a
//! plan without refresh and one with refresh are both empty.

use providers::ReadRequest;
use strata_tests::kit::{context, differing};
use strata_tests::proxy::{Faults, Proxy};
use strata_tests::{assert_code_while, run_strata, Emulator};

const STACK: &str = r#"
stack: lean
region: us-east-1
tags: { team: intake }
resources:
  dead_letters:
    type: aws.sqs.queue
    properties: { message_retention_seconds: 1209600 }
  work:
    type: aws.sqs.queue
    properties:
      visibility_timeout_seconds: 60
      delay_seconds: 5
      redrive_policy: { dead_letter_target_arn: "${dead_letters.arn}", max_receive_count: 4 }
      tags: { tier: gold }
  jobs:
    type: aws.sqs.queue
    properties: { fifo_queue: true, content_based_deduplication: true }
  worker:
    type: aws.iam.role
    properties:
      description: Reads the work queue
      max_session_duration: 7200
      assume_role_policy:
        Version: "2012-10-17"
        Statement: { Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: sts:AssumeRole }
      managed_policy_arns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
        - arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess
      inline_policies:
        receive:
          Version: "2012-10-17"
          Statement: { Effect: Allow, Action: [sqs:ReceiveMessage, sqs:DeleteMessage], Resource: "${work.arn}" }
        send: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "${dead_letters.arn}"}]}'
  news:
    type: aws.sns.topic
  nightly:
    type: aws.events.rule
    properties:
      description: Every night
      schedule_expression: cron(0 3 * * ? *)
      targets:
        - { arn: "${news.arn}", input: '{"report":  "nightly", "n": 1}' }
        - { id: work, arn: "${work.arn}" }
  placed:
    type: aws.events.rule
    properties:
      event_pattern: { source: [shop.orders], detail-type: [OrderPlaced] }
      state: DISABLED
      targets: [{ arn: "${news.arn}" }]
"#;

/// Requests to read back what was just created, which no create makes any more.
const READ_BACKS: &[(&str, &str)] = &[
    ("sqs", "GetQueueAttributes"),
    ("sqs", "ListQueueTags"),
    ("iam", "GetRole"),
    ("iam", "ListAttachedRolePolicies"),
    ("iam", "ListRolePolicies"),
    ("iam", "GetRolePolicy"),
    ("events", "DescribeRule"),
    ("events", "ListTargetsByRule"),
    ("events", "ListTagsForResource"),
];

#[tokio::test(flavor = "multi_thread")]
async fn creates_read_nothing_back_and_record_what_aws_holds() {
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, Faults::default());
    let env = proxy.aws_env();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();

    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &env);
    assert_code_while(&run, 0, "the apply");
    let calls = proxy.calls();
    let count = |service: &str, action: &str| {
        calls
            .iter()
            .filter(|c| c.service == service && c.action == action)
            .count()
    };
    for (service, action) in READ_BACKS {
        assert_eq!(count(service, action), 0, "{service} {action}: {calls:#?}");
    }
    assert_eq!(count("sqs", "CreateQueue"), 3, "{calls:#?}");
    assert_eq!(count("iam", "CreateRole"), 1, "{calls:#?}");
    assert_eq!(count("iam", "AttachRolePolicy"), 2, "{calls:#?}");
    assert_eq!(count("iam", "PutRolePolicy"), 2, "{calls:#?}");
    assert_eq!(count("events", "PutRule"), 2, "{calls:#?}");
    assert_eq!(count("events", "PutTargets"), 2, "{calls:#?}");

    // Recorded without a read, and read now: the same, as the planner compares them.
    let text = std::fs::read_to_string(dir.path().join(".strata/lean.state.json")).unwrap();
    let state: state::State = serde_json::from_str(&text).unwrap();
    let registry = providers::aws_registry(&context(&emu));
    for (address, recorded) in &state.resources {
        let provider = registry.get(&recorded.type_name).unwrap();
        let live = provider
            .read(ReadRequest {
                address: address.clone(),
                id: recorded.id.clone(),
                prior_properties: recorded.properties.clone(),
                prior_attributes: recorded.attributes.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("reading {address}: {e}"))
            .unwrap_or_else(|| panic!("{address} is gone"));
        let differs = differing(provider.as_ref(), &live, &recorded.properties);
        assert!(
            differs.is_empty(),
            "{address} was recorded as {:?}\nbut reads as {:?}\ndiffering in {differs:?}",
            recorded.properties,
            live.properties
        );
        assert_eq!(live.attributes, recorded.attributes, "{address}");
    }

    for plan in [
        &["plan", "--detailed-exitcode", "--refresh=false"][..],
        &["plan", "--detailed-exitcode"],
    ] {
        let run = run_strata(dir.path(), plan, &env);
        assert_code_while(&run, 0, &plan.join(" "));
    }
}
