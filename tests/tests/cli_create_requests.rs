//! Creates make the fewest requests their APIs allow, and what they record without reading
//! back is what AWS holds. Through the recording proxy: a queue with attributes and tags is
//! one `CreateQueue`; a role with managed and inline policies is `CreateRole` and then its
//! policy calls, with nothing read back; an event rule is `PutRule` and `PutTargets`; a Lambda
//! function (published or not) is `CreateFunction`, its permission `AddPermission`, its event
//! source mapping `CreateEventSourceMapping`; an HTTP API, its integration, route and stage
//! one create each; a topic `CreateTopic`, a subscription `Subscribe`, a queue policy
//! `SetQueueAttributes`. The state they leave equals, property by property, what each provider
//! reads from the emulator, so a plan without refresh and one with refresh are both empty.

use strata_tests::kit::assert_state_is_what_aws_holds;
use strata_tests::proxy::{Faults, Proxy};
use strata_tests::{assert_code_while, run_strata, Emulator};

const STACK: &str = r#"
stack: lean
region: us-east-1
tags: { team: intake }
resources:
  handler:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: main.handle
      role: ${worker.arn}
      code: { path: CODE }
      memory_size: 256
      timeout: 20
      description: Takes jobs
      environment: { QUEUE_URL: "${work.url}" }
      tags: { tier: gold }
  released:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: main.handle
      role: ${worker.arn}
      code: { path: CODE }
      publish: true
  from_work:
    type: aws.lambda.event_source_mapping
    properties: { function_name: "${handler.name}", event_source_arn: "${work.arn}", batch_size: 5 }
  api:
    type: aws.apigatewayv2.api
    properties:
      name: lean-jobs
      protocol_type: HTTP
      description: Jobs
      cors_configuration: { allow_origins: ["https://jobs.example.com"], allow_methods: [POST] }
  to_handler:
    type: aws.apigatewayv2.integration
    properties: { api_id: "${api.id}", integration_type: AWS_PROXY, integration_uri: "${handler.arn}" }
  post_jobs:
    type: aws.apigatewayv2.route
    properties: { api_id: "${api.id}", route_key: POST /jobs, target: "integrations/${to_handler.id}" }
  live:
    type: aws.apigatewayv2.stage
    properties: { api_id: "${api.id}", name: $default, auto_deploy: true }
  api_may_invoke:
    type: aws.lambda.permission
    properties:
      function_name: ${handler.name}
      principal: apigateway.amazonaws.com
      source_arn: ${api.execution_arn}/*/*
  news_to_inbox:
    type: aws.sns.subscription
    properties:
      topic_arn: ${news.arn}
      protocol: sqs
      endpoint: ${inbox.arn}
      raw_message_delivery: true
      filter_policy: { kind: [report] }
  inbox:
    type: aws.sqs.queue
  inbox_from_news:
    type: aws.sqs.queue_policy
    properties:
      queue_url: ${inbox.url}
      policy:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: { Service: sns.amazonaws.com }
          Action: sqs:SendMessage
          Resource: ${inbox.arn}
          Condition: { ArnEquals: { aws:SourceArn: "${news.arn}" } }
  notices:
    type: aws.sns.topic
    properties: { display_name: Notices, tags: { tier: gold } }
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
    ("lambda", "GetFunction"),
    ("lambda", "GetFunctionConfiguration"),
    ("lambda", "ListVersionsByFunction"),
    ("lambda", "GetPolicy"),
    ("lambda", "GetEventSourceMapping"),
    ("apigateway", "GetApi"),
    ("apigateway", "GetIntegration"),
    ("apigateway", "GetRoute"),
    ("apigateway", "GetStage"),
    ("sns", "GetTopicAttributes"),
    ("sns", "ListTagsForResource"),
    ("sns", "GetSubscriptionAttributes"),
];

#[tokio::test(flavor = "multi_thread")]
async fn creates_read_nothing_back_and_record_what_aws_holds() {
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, Faults::default());
    let env = proxy.aws_env();
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("src");
    std::fs::create_dir(&code).unwrap();
    std::fs::write(
        code.join("main.py"),
        "def handle(event, context):\n    return 200\n",
    )
    .unwrap();
    // Absolute, so that the providers read below (from the test's own directory) find it.
    let stack = STACK.replace("CODE", code.to_str().unwrap());
    std::fs::write(dir.path().join("stack.yaml"), stack).unwrap();

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
    assert_eq!(count("sqs", "CreateQueue"), 4, "{calls:#?}");
    assert_eq!(count("iam", "CreateRole"), 1, "{calls:#?}");
    assert_eq!(count("iam", "AttachRolePolicy"), 2, "{calls:#?}");
    assert_eq!(count("iam", "PutRolePolicy"), 2, "{calls:#?}");
    assert_eq!(count("events", "PutRule"), 2, "{calls:#?}");
    assert_eq!(count("events", "PutTargets"), 2, "{calls:#?}");
    assert_eq!(count("lambda", "CreateFunction"), 2, "{calls:#?}");
    assert_eq!(count("lambda", "AddPermission"), 1, "{calls:#?}");
    assert_eq!(count("lambda", "CreateEventSourceMapping"), 1, "{calls:#?}");
    for action in [
        "CreateApi",
        "CreateIntegration",
        "CreateRoute",
        "CreateStage",
    ] {
        assert_eq!(count("apigateway", action), 1, "{action}: {calls:#?}");
    }
    assert_eq!(count("sns", "CreateTopic"), 2, "{calls:#?}");
    assert_eq!(count("sns", "Subscribe"), 1, "{calls:#?}");
    assert_eq!(count("sqs", "SetQueueAttributes"), 1, "{calls:#?}");
    // Every request of the apply was one of those (and the one look-up of the account).
    let creates = calls
        .iter()
        .filter(|c| c.action != "GetCallerIdentity")
        .count();
    assert_eq!(
        creates,
        4 + 1 + 2 + 2 + 2 + 2 + 2 + 1 + 1 + 4 + 2 + 1 + 1,
        "{calls:#?}"
    );

    // Recorded without a read, and read now: the same, as the planner compares them; plans
    // with and without refresh are empty.
    assert_state_is_what_aws_holds(&emu, dir.path(), "lean", &env).await;
}
