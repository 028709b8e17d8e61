//! `aws.scheduler.schedule_group` and `aws.scheduler.schedule` through the built binary against
//! the emulator: a group and a schedule in it sending to a queue apply and re-plan clean (AWS's
//! default retry policy and time zone do not show as changes); a new expression and window
//! change the schedule in place and a tag changes the group in place; a new schedule name
//! replaces it (the old one is gone); both import by id and re-plan clean; destroy leaves only
//! the default group; a window AWS does not take is refused at load time.

use providers::aws::AwsContext;
use strata_tests::{assert_code, run_strata, Project};

/// A group tagged `team`, a role Scheduler assumes, a queue, and a schedule `name` in the group
/// on `expression` with a flexible window of `window` minutes.
fn stack(name: &str, expression: &str, window: u32, team: &str) -> String {
    format!(
        r#"stack: jobs
region: us-east-1
resources:
  group:
    type: aws.scheduler.schedule_group
    properties:
      tags: {{ team: {team} }}
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: {{ Effect: Allow, Principal: {{ Service: scheduler.amazonaws.com }}, Action: sts:AssumeRole }}
  inbox:
    type: aws.sqs.queue
  nightly:
    type: aws.scheduler.schedule
    properties:
      name: {name}
      group_name: ${{group.name}}
      description: Nightly settlement
      schedule_expression: "{expression}"
      flexible_time_window: {{ mode: FLEXIBLE, maximum_window_in_minutes: {window} }}
      target:
        arn: ${{inbox.arn}}
        role_arn: ${{role.arn}}
        input: {{ job: settle }}
"#
    )
}

/// The `GROUP/NAME` of every schedule in the account, sorted.
async fn schedules(ctx: &AwsContext) -> Vec<String> {
    let out = aws_sdk_scheduler::Client::new(&ctx.sdk)
        .list_schedules()
        .send()
        .await
        .unwrap();
    let mut all: Vec<String> = out
        .schedules()
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s.group_name().unwrap_or_default(),
                s.name().unwrap_or_default()
            )
        })
        .collect();
    all.sort();
    all
}

/// The names of the schedule groups in the account, sorted.
async fn groups(ctx: &AwsContext) -> Vec<String> {
    let out = aws_sdk_scheduler::Client::new(&ctx.sdk)
        .list_schedule_groups()
        .send()
        .await
        .unwrap();
    let mut all: Vec<String> = out
        .schedule_groups()
        .iter()
        .filter_map(|g| g.name().map(str::to_string))
        .collect();
    all.sort();
    all
}

/// The id recorded for `address`.
fn recorded_id(p: &Project, address: &str) -> String {
    let text = std::fs::read_to_string(p.path().join(".strata/jobs.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_in_its_group_updates_in_place_replaces_on_a_new_name_imports_and_destroys() {
    let p = Project::new(&stack("settle", "cron(0 2 * * ? *)", 15, "payments"));
    let ctx = p.ctx();
    let scheduler = aws_sdk_scheduler::Client::new(&ctx.sdk);

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(recorded_id(&p, "group"), "jobs-group");
    assert_eq!(recorded_id(&p, "nightly"), "jobs-group/settle");
    let schedule = scheduler
        .get_schedule()
        .group_name("jobs-group")
        .name("settle")
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.schedule_expression(), Some("cron(0 2 * * ? *)"));
    assert_eq!(schedule.description(), Some("Nightly settlement"));
    let window = schedule.flexible_time_window().unwrap();
    assert_eq!(window.mode().as_str(), "FLEXIBLE");
    assert_eq!(window.maximum_window_in_minutes(), Some(15));
    let target = schedule.target().unwrap();
    assert!(target.arn().ends_with(":jobs-inbox"), "{target:?}");
    assert!(target.role_arn().ends_with(":role/jobs-role"), "{target:?}");
    let input: serde_json::Value = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(input, serde_json::json!({ "job": "settle" }));
    let group = scheduler
        .get_schedule_group()
        .name("jobs-group")
        .send()
        .await
        .unwrap();
    let group_arn = group.arn().unwrap().to_string();
    let tags = scheduler
        .list_tags_for_resource()
        .resource_arn(&group_arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "payments"),
        "{tags:?}"
    );

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // Another expression and window, another tag on the group: in place, the same ids.
    p.write_stack(&stack("settle", "rate(6 hours)", 60, "finance"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(recorded_id(&p, "nightly"), "jobs-group/settle");
    let schedule = scheduler
        .get_schedule()
        .group_name("jobs-group")
        .name("settle")
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.schedule_expression(), Some("rate(6 hours)"));
    assert_eq!(
        schedule
            .flexible_time_window()
            .unwrap()
            .maximum_window_in_minutes(),
        Some(60)
    );
    let tags = scheduler
        .list_tags_for_resource()
        .resource_arn(&group_arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "finance"),
        "{tags:?}"
    );
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // A new name: a new schedule; the old one is deleted.
    p.write_stack(&stack("settle-v2", "rate(6 hours)", 60, "finance"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ nightly (aws.scheduler.schedule) must be replaced"),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(recorded_id(&p, "nightly"), "jobs-group/settle-v2");
    assert_eq!(schedules(&ctx).await, ["jobs-group/settle-v2"]);
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // Both forgotten, then imported by their ids: nothing to do.
    assert_code(&p.strata(&["state", "rm", "group"]), 0);
    assert_code(&p.strata(&["state", "rm", "nightly"]), 0);
    assert_code(&p.strata(&["import", "group", "jobs-group"]), 0);
    assert_code(&p.strata(&["import", "nightly", "jobs-group/settle-v2"]), 0);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    assert!(schedules(&ctx).await.is_empty());
    assert_eq!(groups(&ctx).await, ["default"]);
}

#[test]
fn a_flexible_window_longer_than_a_day_is_refused_at_load_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        stack("settle", "rate(1 hour)", 2000, "payments"),
    )
    .unwrap();
    let run = run_strata(dir.path(), &["validate"], &[]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:"), "{}", run.stderr);
    assert!(run.stderr.contains("1 to 1440"), "{}", run.stderr);
}
