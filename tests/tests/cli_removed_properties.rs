//! Taking an optional property out of the stack clears it in AWS, as Terraform does: the plan
//! shows `old -> null` as an in-place change, apply resets it, and the next plan is clean.

use aws_sdk_sqs::types::QueueAttributeName;
use strata_tests::kit::{topic_arns, topic_attributes};
use strata_tests::{assert_code, assert_contains, Project};

const TRUST: &str = r#"
      assume_role_policy:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: { Service: lambda.amazonaws.com }
          Action: sts:AssumeRole"#;

/// Every resettable property set.
fn full() -> String {
    format!(
        r#"stack: unset
resources:
  dlq: {{ type: aws.sqs.queue }}
  jobs:
    type: aws.sqs.queue
    properties:
      redrive_policy: {{ dead_letter_target_arn: "${{dlq.arn}}", max_receive_count: 3 }}
  events:
    type: aws.sns.topic
    properties: {{ display_name: Events }}
  sub:
    type: aws.sns.subscription
    properties:
      topic_arn: ${{events.arn}}
      protocol: sqs
      endpoint: ${{jobs.arn}}
      filter_policy: {{ kind: [order] }}
  runner:
    type: aws.iam.role
    properties:{TRUST}
      description: Runs the worker
      managed_policy_arns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
      inline_policies:
        read:
          Version: "2012-10-17"
          Statement: {{ Effect: Allow, Action: sqs:ReceiveMessage, Resource: "${{jobs.arn}}" }}
  worker:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: handler.handle
      role: ${{runner.arn}}
      code: {{ path: src }}
      description: Works through jobs
      environment: {{ MODE: fast }}
  api:
    type: aws.apigatewayv2.api
    properties:
      name: unset-api
      description: The API
      cors_configuration: {{ allow_origins: ["*"] }}
"#
    )
}

/// The same resources with only their required properties.
fn bare() -> String {
    format!(
        r#"stack: unset
resources:
  dlq: {{ type: aws.sqs.queue }}
  jobs: {{ type: aws.sqs.queue }}
  events: {{ type: aws.sns.topic }}
  sub:
    type: aws.sns.subscription
    properties: {{ topic_arn: "${{events.arn}}", protocol: sqs, endpoint: "${{jobs.arn}}" }}
  runner:
    type: aws.iam.role
    properties:{TRUST}
  worker:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: handler.handle
      role: ${{runner.arn}}
      code: {{ path: src }}
  api:
    type: aws.apigatewayv2.api
    properties: {{ name: unset-api }}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_optional_property_taken_out_of_the_stack_is_cleared_in_aws() {
    let p = Project::new(&full());
    std::fs::create_dir_all(p.path().join("src")).unwrap();
    std::fs::write(
        p.path().join("src/handler.py"),
        "def handle(e, c):\n    return 1\n",
    )
    .unwrap();
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    p.write_stack(&bare());
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert_contains(
        &run.stdout,
        &[
        "~ redrive_policy:",
        "~ display_name: \"Events\" -> null",
        "~ filter_policy:",
        "~ description: \"Runs the worker\" -> null",
        "~ managed_policy_arns: [\"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\"] -> null",
        "~ description: \"Works through jobs\" -> null",
        "~ environment:",
        "~ description: \"The API\" -> null",
        "~ cors_configuration:",
        "Plan: 0 to add, 6 to change, 0 to replace, 0 to destroy.",
        ],
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // What AWS holds now.
    let sdk = p.ctx().sdk;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .get_queue_url()
        .queue_name("unset-jobs")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    for gone in [
        QueueAttributeName::RedrivePolicy,
        QueueAttributeName::Policy,
    ] {
        assert!(
            attrs.get(&gone).is_none_or(|v| v.is_empty()),
            "{gone:?} is still {:?}",
            attrs.get(&gone)
        );
    }

    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = &topic_arns(&p.ctx()).await[0];
    let topic_attrs = topic_attributes(&sns, topic).await;
    assert_eq!(
        topic_attrs
            .get("DisplayName")
            .map(String::as_str)
            .unwrap_or(""),
        ""
    );
    let sub = sns
        .list_subscriptions()
        .send()
        .await
        .unwrap()
        .subscriptions
        .unwrap()[0]
        .subscription_arn
        .clone()
        .unwrap();
    let sub_attrs = sns
        .get_subscription_attributes()
        .subscription_arn(sub)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    assert_eq!(
        sub_attrs
            .get("FilterPolicy")
            .map(String::as_str)
            .unwrap_or(""),
        ""
    );

    let iam = aws_sdk_iam::Client::new(&sdk);
    let role = iam
        .get_role()
        .role_name("unset-runner")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.description.as_deref().unwrap_or(""), "");
    let attached = iam
        .list_attached_role_policies()
        .role_name("unset-runner")
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty());
    let inline = iam
        .list_role_policies()
        .role_name("unset-runner")
        .send()
        .await
        .unwrap();
    assert!(inline.policy_names().is_empty());

    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let function = lambda
        .get_function_configuration()
        .function_name("unset-worker")
        .send()
        .await
        .unwrap();
    assert_eq!(function.description.as_deref().unwrap_or(""), "");
    let vars = function
        .environment
        .and_then(|e| e.variables)
        .unwrap_or_default();
    assert!(vars.is_empty(), "{vars:?}");

    let apis = aws_sdk_apigatewayv2::Client::new(&sdk)
        .get_apis()
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert_eq!(apis.len(), 1);
    assert_eq!(apis[0].description.as_deref().unwrap_or(""), "");
    assert!(apis[0].cors_configuration.is_none());

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
}
