//! `aws.sfn.state_machine` through the built binary against the emulator: a machine whose
//! definition is a YAML mapping, with logging to a log group, applies and re-plans clean; a new
//! definition, tracing and tags change it in place (same ARN); a new name replaces it (the old
//! one is gone); import by ARN re-plans clean; destroy leaves nothing; a bad `type` is refused
//! at load time.

use providers::aws::AwsContext;
use strata_tests::{assert_code, run_strata, Project};

/// A role Step Functions assumes, a log group, and a state machine named `name` whose one
/// state is a `Pass` with `result`, traced when `traced`.
fn stack(name: &str, result: &str, traced: bool, team: &str) -> String {
    format!(
        r#"stack: flows
region: us-east-1
resources:
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: {{ Effect: Allow, Principal: {{ Service: states.amazonaws.com }}, Action: sts:AssumeRole }}
  logs:
    type: aws.logs.log_group
    properties: {{ retention_in_days: 7 }}
  flow:
    type: aws.sfn.state_machine
    properties:
      name: {name}
      role_arn: ${{role.arn}}
      definition:
        Comment: Order intake
        StartAt: Accept
        States:
          Accept: {{ Type: Pass, Result: {{ status: {result} }}, End: true }}
      logging_configuration:
        level: ERROR
        include_execution_data: true
        log_destination: "${{logs.arn}}:*"
      tracing_configuration: {{ enabled: {traced} }}
      tags: {{ team: {team} }}
"#
    )
}

/// The machines in the account, by name and ARN.
async fn machines(ctx: &AwsContext) -> Vec<(String, String)> {
    let out = aws_sdk_sfn::Client::new(&ctx.sdk)
        .list_state_machines()
        .send()
        .await
        .unwrap();
    let mut all: Vec<(String, String)> = out
        .state_machines()
        .iter()
        .map(|m| (m.name().to_string(), m.state_machine_arn().to_string()))
        .collect();
    all.sort();
    all
}

/// The id recorded for `address`.
fn recorded_id(p: &Project, address: &str) -> String {
    let text = std::fs::read_to_string(p.path().join(".strata/flows.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_machine_applies_changes_in_place_replaces_on_a_new_name_imports_and_destroys() {
    let p = Project::new(&stack("orders-flow", "accepted", false, "payments"));
    let ctx = p.ctx();
    let sfn = aws_sdk_sfn::Client::new(&ctx.sdk);

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let arn = recorded_id(&p, "flow");
    assert!(arn.ends_with(":stateMachine:orders-flow"), "{arn}");
    let machine = sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let definition: serde_json::Value = serde_json::from_str(machine.definition()).unwrap();
    assert_eq!(
        definition["States"]["Accept"]["Result"]["status"],
        "accepted"
    );
    assert_eq!(machine.r#type().as_str(), "STANDARD");
    assert!(
        machine.role_arn().ends_with(":role/flows-role"),
        "{machine:?}"
    );
    let logging = machine.logging_configuration().unwrap();
    assert_eq!(logging.level().map(|l| l.as_str()), Some("ERROR"));
    assert!(logging.include_execution_data());
    assert_eq!(
        logging.destinations()[0]
            .cloud_watch_logs_log_group()
            .and_then(|g| g.log_group_arn()),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:flows-logs:*")
    );
    let tags = sfn
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let tag = |key: &str| {
        tags.tags()
            .iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value())
            .map(str::to_string)
    };
    assert_eq!(tag("team").as_deref(), Some("payments"));
    assert_eq!(tag("strata:address").as_deref(), Some("flow"));

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // A new definition, tracing on and another tag: one in-place update, the same ARN.
    p.write_stack(&stack("orders-flow", "queued", true, "orders"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(recorded_id(&p, "flow"), arn);
    let machine = sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(machine.definition().contains("queued"), "{machine:?}");
    assert!(machine.tracing_configuration().unwrap().enabled());
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // A new name is a new machine; the old one is deleted.
    p.write_stack(&stack("orders-flow-v2", "queued", true, "orders"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ flow (aws.sfn.state_machine) must be replaced"),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let new_arn = recorded_id(&p, "flow");
    assert_ne!(new_arn, arn);
    assert_eq!(
        machines(&ctx).await,
        vec![("orders-flow-v2".to_string(), new_arn.clone())]
    );
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // Forgotten, then imported by its ARN: nothing to do.
    assert_code(&p.strata(&["state", "rm", "flow"]), 0);
    assert_code(&p.strata(&["import", "flow", &new_arn]), 0);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    assert!(machines(&ctx).await.is_empty());
}

#[test]
fn a_state_machine_type_aws_does_not_offer_is_refused_at_load_time() {
    let dir = tempfile::tempdir().unwrap();
    let text = stack("orders-flow", "accepted", false, "payments").replace(
        "      name: orders-flow\n",
        "      name: orders-flow\n      type: FAST\n",
    );
    std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    let run = run_strata(dir.path(), &["validate"], &[]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:"), "{}", run.stderr);
    assert!(run.stderr.contains("FAST"), "{}", run.stderr);
    assert!(run.stderr.contains("EXPRESS"), "{}", run.stderr);
}
