//! The CloudWatch Logs types (`aws.logs.log_group`, `aws.logs.metric_filter`,
//! `aws.logs.subscription_filter`, `aws.logs.resource_policy`) and `aws.cloudwatch.metric_alarm`
//! through the built binary against the emulator: each is created and read back through the
//! SDK, re-plans clean, changes in place under the same id, is replaced by a new object with
//! the old one gone, is imported by its id to a clean plan, and leaves nothing after destroy.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_cloudwatchlogs::types::{LogGroup, MetricFilter, SubscriptionFilter};
use providers::aws::AwsContext;
use strata_tests::kit::ACCOUNT;
use strata_tests::{assert_code, Project, Run};

fn logs(ctx: &AwsContext) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&ctx.sdk)
}

fn cloudwatch(ctx: &AwsContext) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&ctx.sdk)
}

/// The recorded id and attributes of `address` in the project's state for `stack`.
fn recorded(p: &Project, stack: &str, address: &str) -> (String, serde_json::Value) {
    let path = p.path().join(format!(".strata/{stack}.state.json"));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let resource = &state["resources"][address];
    let id = resource["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string();
    (id, resource["attributes"].clone())
}

fn assert_plan_line(run: &Run, line: &str) {
    assert!(
        run.stdout.contains(line),
        "wanted `{line}` in:\n{}",
        run.stdout
    );
}

/// Applies and expects success.
fn apply(p: &Project) {
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
}

/// A second plan has nothing to do.
fn assert_clean_plan(p: &Project) {
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
}

/// Forgets `address`, imports it again by `id`, and expects a clean plan.
fn reimport(p: &Project, address: &str, id: &str) {
    let run = p.strata(&["state", "rm", address]);
    assert_code(&run, 0);
    let run = p.strata(&["import", address, id]);
    assert_code(&run, 0);
}

/// Every log group whose name starts with `prefix`.
async fn log_groups(ctx: &AwsContext, prefix: &str) -> Vec<LogGroup> {
    logs(ctx)
        .describe_log_groups()
        .log_group_name_prefix(prefix)
        .send()
        .await
        .unwrap()
        .log_groups()
        .to_vec()
}

async fn log_group(ctx: &AwsContext, name: &str) -> Option<LogGroup> {
    log_groups(ctx, name)
        .await
        .into_iter()
        .find(|g| g.log_group_name() == Some(name))
}

async fn log_group_tags(ctx: &AwsContext, arn: &str) -> BTreeMap<String, String> {
    logs(ctx)
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// Every metric filter in the region.
async fn metric_filters(ctx: &AwsContext) -> Vec<MetricFilter> {
    logs(ctx)
        .describe_metric_filters()
        .send()
        .await
        .unwrap()
        .metric_filters()
        .to_vec()
}

/// The names and documents of the region's log resource policies.
async fn resource_policies(ctx: &AwsContext) -> BTreeMap<String, serde_json::Value> {
    logs(ctx)
        .describe_resource_policies()
        .send()
        .await
        .unwrap()
        .resource_policies()
        .iter()
        .map(|p| {
            (
                p.policy_name().unwrap_or_default().to_string(),
                serde_json::from_str(p.policy_document().unwrap_or("null")).unwrap(),
            )
        })
        .collect()
}

/// A log group with a metric filter on it, and an account-level resource policy.
fn logs_stack(
    group: &str,
    retention: u32,
    team: &str,
    filter: &str,
    pattern: &str,
    policy: &str,
    service: &str,
) -> String {
    format!(
        r#"stack: logs
region: us-east-1
resources:
  app:
    type: aws.logs.log_group
    properties:
      name: {group}
      retention_in_days: {retention}
      tags: {{ team: {team} }}
  errors:
    type: aws.logs.metric_filter
    properties:
      name: {filter}
      log_group_name: ${{app.name}}
      pattern: "{pattern}"
      metric_transformation: {{ name: Errors, namespace: App/Logs, value: "1" }}
  delivery:
    type: aws.logs.resource_policy
    properties:
      policy_name: {policy}
      policy_document:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: {{ Service: {service} }}
          Action: [logs:CreateLogStream, logs:PutLogEvents]
          Resource: ${{app.arn}}:*
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn log_groups_metric_filters_and_resource_policies_live_a_whole_life_through_the_cli() {
    let p = Project::new(&logs_stack(
        "app-logs",
        7,
        "web",
        "errors",
        "ERROR",
        "delivery",
        "events.amazonaws.com",
    ));
    let ctx = p.ctx();

    // Created: each reads back through the SDK as the stack wrote it.
    apply(&p);
    let group = log_group(&ctx, "app-logs")
        .await
        .expect("the log group exists");
    assert_eq!(group.retention_in_days(), Some(7));
    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:app-logs");
    let (id, attrs) = recorded(&p, "logs", "app");
    assert_eq!(id, "app-logs");
    assert_eq!(attrs["arn"], arn.as_str(), "the ARN has no trailing `:*`");
    let tags = log_group_tags(&ctx, &arn).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("web"));
    assert_eq!(tags.get("strata:address").map(String::as_str), Some("app"));
    let filters = metric_filters(&ctx).await;
    assert_eq!(filters.len(), 1, "{filters:?}");
    assert_eq!(filters[0].filter_pattern(), Some("ERROR"));
    assert_eq!(
        filters[0].metric_transformations()[0].metric_name(),
        "Errors"
    );
    assert_eq!(recorded(&p, "logs", "errors").0, "app-logs:errors");
    let policies = resource_policies(&ctx).await;
    assert_eq!(
        policies["delivery"]["Statement"]["Resource"],
        format!("{arn}:*").as_str()
    );
    assert_clean_plan(&p);

    // In place: retention, tags, the pattern and the policy document change under the same ids.
    p.write_stack(&logs_stack(
        "app-logs",
        30,
        "api",
        "errors",
        "WARN",
        "delivery",
        "delivery.logs.amazonaws.com",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert_plan_line(
        &run,
        "Plan: 0 to add, 3 to change, 0 to replace, 0 to destroy.",
    );
    apply(&p);
    assert_eq!(recorded(&p, "logs", "app").0, "app-logs");
    assert_eq!(recorded(&p, "logs", "errors").0, "app-logs:errors");
    assert_eq!(recorded(&p, "logs", "delivery").0, "delivery");
    let group = log_group(&ctx, "app-logs").await.unwrap();
    assert_eq!(group.retention_in_days(), Some(30));
    assert_eq!(
        log_group_tags(&ctx, &arn)
            .await
            .get("team")
            .map(String::as_str),
        Some("api")
    );
    // The last listed: the emulator keeps the filter's earlier version beside the new one
    // (AWS replaces it); the provider reads the last, and its delete removes both.
    let current = metric_filters(&ctx)
        .await
        .into_iter()
        .rfind(|f| f.filter_name() == Some("errors"))
        .unwrap();
    assert_eq!(current.filter_pattern(), Some("WARN"));
    assert_eq!(
        resource_policies(&ctx).await["delivery"]["Statement"]["Principal"]["Service"],
        "delivery.logs.amazonaws.com"
    );
    assert_clean_plan(&p);

    // Never expire: retention 0 removes the retention policy.
    p.write_stack(&logs_stack(
        "app-logs",
        0,
        "api",
        "errors",
        "WARN",
        "delivery",
        "delivery.logs.amazonaws.com",
    ));
    apply(&p);
    assert_eq!(
        log_group(&ctx, "app-logs")
            .await
            .unwrap()
            .retention_in_days(),
        None
    );
    assert_clean_plan(&p);

    // Replaced: a new group name replaces the group and, through `${app.name}`, its filter;
    // a new filter and policy name replace those. The old objects are gone.
    p.write_stack(&logs_stack(
        "app-logs-v2",
        0,
        "api",
        "warnings",
        "WARN",
        "delivery-v2",
        "delivery.logs.amazonaws.com",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert_plan_line(
        &run,
        "Plan: 0 to add, 0 to change, 3 to replace, 0 to destroy.",
    );
    apply(&p);
    assert!(log_group(&ctx, "app-logs").await.is_none());
    assert!(log_group(&ctx, "app-logs-v2").await.is_some());
    let names: Vec<(String, String)> = metric_filters(&ctx)
        .await
        .iter()
        .map(|f| {
            (
                f.log_group_name().unwrap_or_default().to_string(),
                f.filter_name().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![("app-logs-v2".to_string(), "warnings".to_string())]
    );
    let policies = resource_policies(&ctx).await;
    assert_eq!(policies.keys().collect::<Vec<_>>(), vec!["delivery-v2"]);
    assert_eq!(
        recorded(&p, "logs", "app").1["arn"],
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:app-logs-v2").as_str()
    );
    assert_clean_plan(&p);

    // Imported by their ids: the next plan has nothing to do.
    reimport(&p, "app", "app-logs-v2");
    reimport(&p, "errors", "app-logs-v2:warnings");
    reimport(&p, "delivery", "delivery-v2");
    assert_clean_plan(&p);

    // Destroyed: nothing is left.
    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(log_groups(&ctx, "app-logs").await.is_empty());
    assert!(metric_filters(&ctx).await.is_empty());
    assert!(resource_policies(&ctx).await.is_empty());
}

/// A log group streamed to a Lambda function through a subscription filter, with the
/// permission that lets CloudWatch Logs invoke the function.
fn subscription_stack(filter: &str, pattern: &str) -> String {
    format!(
        r#"stack: subs
region: us-east-1
resources:
  fn_role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: {{ Effect: Allow, Principal: {{ Service: lambda.amazonaws.com }}, Action: sts:AssumeRole }}
  ship:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: index.handler
      role: ${{fn_role.arn}}
      code: {{ path: src }}
  logs_may_invoke:
    type: aws.lambda.permission
    properties:
      function_name: ${{ship.name}}
      principal: logs.amazonaws.com
      source_arn: ${{app.arn}}:*
  app:
    type: aws.logs.log_group
  to_ship:
    type: aws.logs.subscription_filter
    depends_on: [logs_may_invoke]
    properties:
      name: {filter}
      log_group_name: ${{app.name}}
      filter_pattern: "{pattern}"
      destination_arn: ${{ship.arn}}
"#
    )
}

async fn subscription_filters(ctx: &AwsContext, group: &str) -> Vec<SubscriptionFilter> {
    match logs(ctx)
        .describe_subscription_filters()
        .log_group_name(group)
        .send()
        .await
    {
        Ok(out) => out.subscription_filters().to_vec(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_filter_streams_a_log_group_to_a_lambda_function_through_a_whole_life() {
    let p = Project::new(&subscription_stack("to-ship", "ERROR"));
    std::fs::create_dir_all(p.path().join("src")).unwrap();
    std::fs::write(
        p.path().join("src/index.py"),
        "def handler(event, context):\n    return len(event)\n",
    )
    .unwrap();
    let ctx = p.ctx();

    apply(&p);
    let function_arn = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:subs-ship");
    let filters = subscription_filters(&ctx, "subs-app").await;
    assert_eq!(filters.len(), 1, "{filters:?}");
    assert_eq!(filters[0].filter_name(), Some("to-ship"));
    assert_eq!(filters[0].filter_pattern(), Some("ERROR"));
    assert_eq!(filters[0].destination_arn(), Some(function_arn.as_str()));
    assert_eq!(recorded(&p, "subs", "to_ship").0, "subs-app|to-ship");
    assert_clean_plan(&p);

    // In place: a new pattern is put under the same filter.
    p.write_stack(&subscription_stack("to-ship", "WARN"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert_plan_line(
        &run,
        "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.",
    );
    apply(&p);
    assert_eq!(recorded(&p, "subs", "to_ship").0, "subs-app|to-ship");
    let filters = subscription_filters(&ctx, "subs-app").await;
    assert_eq!(filters.len(), 1, "{filters:?}");
    assert_eq!(filters[0].filter_pattern(), Some("WARN"));
    assert_clean_plan(&p);

    // Replaced: a new name is a new filter, and the old one is gone.
    p.write_stack(&subscription_stack("ship-all", "WARN"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert_plan_line(
        &run,
        "-/+ to_ship (aws.logs.subscription_filter) must be replaced",
    );
    apply(&p);
    let names: Vec<_> = subscription_filters(&ctx, "subs-app")
        .await
        .iter()
        .map(|f| f.filter_name().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, vec!["ship-all"]);
    assert_eq!(recorded(&p, "subs", "to_ship").0, "subs-app|ship-all");

    reimport(&p, "to_ship", "subs-app|ship-all");
    assert_clean_plan(&p);

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(log_groups(&ctx, "subs-").await.is_empty());
    assert!(subscription_filters(&ctx, "subs-app").await.is_empty());
}

/// An alarm on a Lambda metric that notifies an SNS topic of the same stack.
fn alarm_stack(name_line: &str, threshold: &str, extra: &str, team: &str) -> String {
    format!(
        r#"stack: alarms
region: us-east-1
resources:
  oncall:
    type: aws.sns.topic
  errors:
    type: aws.cloudwatch.metric_alarm
    properties:{name_line}
      namespace: AWS/Lambda
      metric_name: Errors
      statistic: Sum
      dimensions: {{ FunctionName: worker }}
      period: 60
      evaluation_periods: 2
      datapoints_to_alarm: 1
      threshold: {threshold}
      comparison_operator: GreaterThanOrEqualToThreshold
      alarm_actions: ["${{oncall.arn}}"]
      tags: {{ team: {team} }}{extra}
"#
    )
}

async fn alarm(ctx: &AwsContext, name: &str) -> Option<aws_sdk_cloudwatch::types::MetricAlarm> {
    cloudwatch(ctx)
        .describe_alarms()
        .alarm_names(name)
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .first()
        .cloned()
}

async fn alarm_tags(ctx: &AwsContext, arn: &str) -> BTreeMap<String, String> {
    cloudwatch(ctx)
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_metric_alarm_notifying_a_topic_of_its_stack_lives_a_whole_life_through_the_cli() {
    let described =
        "\n      alarm_description: Lambda errors\n      ok_actions: [\"${oncall.arn}\"]";
    let p = Project::new(&alarm_stack("", "1", described, "web"));
    let ctx = p.ctx();

    apply(&p);
    let topic = format!("arn:aws:sns:us-east-1:{ACCOUNT}:alarms-oncall");
    let created = alarm(&ctx, "alarms-errors")
        .await
        .expect("the alarm exists");
    assert_eq!(created.alarm_actions(), std::slice::from_ref(&topic));
    assert_eq!(created.ok_actions(), std::slice::from_ref(&topic));
    assert_eq!(created.threshold(), Some(1.0));
    assert_eq!(created.treat_missing_data(), Some("missing"));
    assert_eq!(created.actions_enabled(), Some(true));
    assert_eq!(created.alarm_description(), Some("Lambda errors"));
    let arn = created.alarm_arn().unwrap().to_string();
    assert_eq!(
        alarm_tags(&ctx, &arn).await.get("team").map(String::as_str),
        Some("web")
    );
    let (id, attrs) = recorded(&p, "alarms", "errors");
    assert_eq!(id, "alarms-errors");
    assert_eq!(attrs["arn"], arn.as_str());
    assert_clean_plan(&p);

    // In place: the whole alarm is put again, so the description and OK action taken out of
    // the stack are cleared; tags change by key. Same alarm, same ARN.
    p.write_stack(&alarm_stack(
        "",
        "5.5",
        "\n      treat_missing_data: notBreaching",
        "api",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert_plan_line(
        &run,
        "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.",
    );
    apply(&p);
    let changed = alarm(&ctx, "alarms-errors").await.unwrap();
    assert_eq!(changed.threshold(), Some(5.5));
    assert_eq!(changed.treat_missing_data(), Some("notBreaching"));
    assert_eq!(changed.alarm_description(), None);
    assert!(changed.ok_actions().is_empty(), "{changed:?}");
    assert_eq!(changed.alarm_actions(), std::slice::from_ref(&topic));
    assert_eq!(recorded(&p, "alarms", "errors").0, "alarms-errors");
    assert_eq!(
        alarm_tags(&ctx, &arn).await.get("team").map(String::as_str),
        Some("api")
    );
    assert_clean_plan(&p);

    // Replaced: a new name is a new alarm, and the old one is gone.
    p.write_stack(&alarm_stack(
        "\n      alarm_name: worker-errors",
        "5.5",
        "\n      treat_missing_data: notBreaching",
        "api",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert_plan_line(
        &run,
        "-/+ errors (aws.cloudwatch.metric_alarm) must be replaced",
    );
    apply(&p);
    assert!(alarm(&ctx, "alarms-errors").await.is_none());
    let replaced = alarm(&ctx, "worker-errors")
        .await
        .expect("the new alarm exists");
    assert_eq!(replaced.alarm_actions(), std::slice::from_ref(&topic));
    assert_eq!(recorded(&p, "alarms", "errors").0, "worker-errors");

    reimport(&p, "errors", "worker-errors");
    assert_clean_plan(&p);

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(cloudwatch(&ctx)
        .describe_alarms()
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .is_empty());

    // A comparison outside CloudWatch's set is refused before any call.
    p.write_stack(
        &alarm_stack("", "1", "", "web").replace("GreaterThanOrEqualToThreshold", "Above"),
    );
    let run = p.strata(&["plan"]);
    assert_code(&run, 1);
    assert!(
        run.stderr.contains(
            "`Above` is not an allowed value of property `comparison_operator` on \
             aws.cloudwatch.metric_alarm"
        ),
        "{}",
        run.stderr
    );
}
