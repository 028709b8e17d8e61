//! A policy whose strings hold a percent sign (`Sid: "%Aé"`) through the built binary: it plans,
//! applies, reaches AWS as written and plans clean again. IAM hands documents back URL-encoded;
//! only that whole text is decoded, never a string inside the document.

use strata_tests::kit::queue_urls;
use strata_tests::{assert_code, assert_code_while, assert_contains, Project};

/// The statement id every policy of the stack carries: a `%` escape cut short by a two-byte
/// character, which a decoder of pieces of strings trips over.
const SID: &str = "%Aé";

fn stack() -> String {
    format!(
        r#"stack: encoded
resources:
  jobs:
    type: aws.sqs.queue
    properties:
      policy:
        Version: "2012-10-17"
        Statement:
          - Sid: "{SID}"
            Effect: Allow
            Principal: {{ Service: sns.amazonaws.com }}
            Action: sqs:SendMessage
            Resource: "*"
  runner:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement:
          - Sid: "{SID}"
            Effect: Allow
            Principal: {{ Service: lambda.amazonaws.com }}
            Action: sts:AssumeRole
      inline_policies:
        read:
          Version: "2012-10-17"
          Statement:
            - Sid: "{SID}"
              Effect: Allow
              Action: sqs:ReceiveMessage
              Resource: ${{jobs.arn}}
  reader:
    type: aws.iam.policy
    properties:
      policy:
        Version: "2012-10-17"
        Statement:
          - Sid: "{SID}"
            Effect: Allow
            Action: sqs:GetQueueAttributes
            Resource: "*"
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_with_a_percent_sign_in_a_string_plans_applies_and_plans_clean() {
    let p = Project::new(&stack());

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code_while(&run, 2, "the first plan");
    assert_contains(&run.stdout, &["Plan: 3 to add, 0 to change"]);

    assert_code_while(&p.strata(&["apply", "--auto-approve"]), 0, "apply");
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code_while(&run, 0, "the plan after apply");
    assert_contains(&run.stdout, &["No changes."]);

    // AWS holds the id as written, in every document.
    let sdk = p.ctx().sdk;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let role = iam
        .get_role()
        .role_name("encoded-runner")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let trust = role.assume_role_policy_document.unwrap_or_default();
    assert_eq!(sids(&trust), [SID], "trust policy: {trust}");
    let inline = iam
        .get_role_policy()
        .role_name("encoded-runner")
        .policy_name("read")
        .send()
        .await
        .unwrap();
    assert_eq!(sids(inline.policy_document()), [SID]);

    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = queue_urls(&p.ctx()).await.remove(0);
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let policy = attrs
        .get(&aws_sdk_sqs::types::QueueAttributeName::Policy)
        .cloned()
        .unwrap_or_default();
    assert_eq!(sids(&policy), [SID], "queue policy: {policy}");

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
}

/// The `Sid`s of a policy document as AWS returns it (JSON, or URL-encoded JSON).
fn sids(document: &str) -> Vec<String> {
    let json = providers::document::parse_document_text(document)
        .unwrap_or_else(|e| panic!("not a document ({e}): {document}"));
    let statements = match &json["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    };
    statements
        .iter()
        .filter_map(|s| s["Sid"].as_str().map(str::to_string))
        .collect()
}
