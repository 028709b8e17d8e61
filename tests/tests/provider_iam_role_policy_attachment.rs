//! `aws.iam.role_policy_attachment` through the built binary against the emulator: a role
//! whose managed policies are attached by separate resources applies and re-plans clean (the
//! role does not claim them), a new policy ARN replaces the attachment, import reads one back,
//! and destroy leaves the role and every attachment gone.

use providers::aws::AwsContext;
use strata_tests::kit::ACCOUNT;
use strata_tests::{assert_code, Project};

const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const LAMBDA_BASIC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/// A role (with no `managed_policy_arns`), a customer policy, and two attachments: the
/// customer policy and the AWS managed policy `managed`.
fn stack(managed: &str) -> String {
    format!(
        r#"stack: attach
region: us-east-1
resources:
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: {{ Effect: Allow, Principal: {{ Service: lambda.amazonaws.com }}, Action: sts:AssumeRole }}
  queues:
    type: aws.iam.policy
    properties:
      policy:
        Version: "2012-10-17"
        Statement: {{ Effect: Allow, Action: sqs:ReceiveMessage, Resource: "*" }}
  role_queues:
    type: aws.iam.role_policy_attachment
    properties: {{ role: "${{role.name}}", policy_arn: "${{queues.arn}}" }}
  role_managed:
    type: aws.iam.role_policy_attachment
    properties: {{ role: "${{role.name}}", policy_arn: {managed} }}
"#
    )
}

/// The policy ARNs attached to `role`, sorted; empty when the role is gone.
async fn attached(ctx: &AwsContext, role: &str) -> Vec<String> {
    let out = aws_sdk_iam::Client::new(&ctx.sdk)
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await;
    let Ok(out) = out else {
        return Vec::new();
    };
    let mut arns: Vec<String> = out
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    arns.sort();
    arns
}

async fn role_exists(ctx: &AwsContext, role: &str) -> bool {
    aws_sdk_iam::Client::new(&ctx.sdk)
        .get_role()
        .role_name(role)
        .send()
        .await
        .is_ok()
}

/// The id recorded for `address` in the project's state.
fn recorded_id(p: &Project, address: &str) -> String {
    let text = std::fs::read_to_string(p.path().join(".strata/attach.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn separate_attachments_apply_replan_clean_replace_on_a_new_arn_and_destroy_cleanly() {
    let p = Project::new(&stack(READ_ONLY));
    let ctx = p.ctx();

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 4 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    let customer = format!("arn:aws:iam::{ACCOUNT}:policy/attach-queues");
    assert_eq!(
        attached(&ctx, "attach-role").await,
        vec![customer.clone(), READ_ONLY.to_string()]
    );
    assert_eq!(
        recorded_id(&p, "role_managed"),
        format!("attach-role/{READ_ONLY}")
    );

    // The role leaves `managed_policy_arns` out, so the attachments are not its to clear.
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // Another policy is another attachment: replaced, the old one detached.
    p.write_stack(&stack(LAMBDA_BASIC));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ role_managed (aws.iam.role_policy_attachment) must be replaced"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(
        attached(&ctx, "attach-role").await,
        vec![customer.clone(), LAMBDA_BASIC.to_string()]
    );
    assert_eq!(
        recorded_id(&p, "role_managed"),
        format!("attach-role/{LAMBDA_BASIC}")
    );
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // Forgotten, then imported by its id: the next plan has nothing to do.
    let run = p.strata(&["state", "rm", "role_managed"]);
    assert_code(&run, 0);
    let id = format!("attach-role/{LAMBDA_BASIC}");
    let run = p.strata(&["import", "role_managed", &id]);
    assert_code(&run, 0);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // The role imported again: what the attachments made is not the role's to clear.
    assert_code(&p.strata(&["state", "rm", "role"]), 0);
    assert_code(&p.strata(&["import", "role", "attach-role"]), 0);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // An attachment detached behind strata's back is attached again.
    aws_sdk_iam::Client::new(&ctx.sdk)
        .detach_role_policy()
        .role_name("attach-role")
        .policy_arn(LAMBDA_BASIC)
        .send()
        .await
        .unwrap();
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("+ role_managed (aws.iam.role_policy_attachment) will be created"),
        "{}",
        run.stdout
    );
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(
        attached(&ctx, "attach-role").await,
        vec![customer, LAMBDA_BASIC.to_string()]
    );

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(!role_exists(&ctx, "attach-role").await);
    assert!(attached(&ctx, "attach-role").await.is_empty());
}

#[test]
fn an_import_id_without_a_policy_arn_is_an_error_naming_the_expected_shape() {
    let p = Project::new(&stack(READ_ONLY));
    let run = p.strata(&["import", "role_managed", "attach-role"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("ROLE/POLICY_ARN"), "{}", run.stderr);
}
