//! `aws.events.event_bus`, and `aws.events.rule` on it, through the built binary against the
//! emulator: a custom bus and a rule on it (named by `${bus.name}`, so the rule is made after
//! the bus and deleted before it) routing to a queue apply and re-plan clean; a tag changes the
//! bus in place and a target input changes the rule in place; a new bus name replaces the bus
//! and, through the reference, the rule (the old ones are gone); both import by id and re-plan
//! clean; destroy leaves only the default bus; a name too long is refused at load time.

use providers::aws::AwsContext;
use strata_tests::{assert_code, run_strata, Project};

/// A bus named `bus_name` tagged `team`, and a rule on it sending order events to a queue
/// with `input`.
fn stack(bus_name: &str, team: &str, input: &str) -> String {
    format!(
        r#"stack: buses
region: us-east-1
resources:
  orders:
    type: aws.sqs.queue
  bus:
    type: aws.events.event_bus
    properties:
      name: {bus_name}
      description: Order events
      tags: {{ team: {team} }}
  placed:
    type: aws.events.rule
    properties:
      event_bus_name: ${{bus.name}}
      event_pattern:
        source: [shop.orders]
        detail-type: [OrderPlaced]
      targets:
        - id: queue
          arn: ${{orders.arn}}
          input: {{ kind: {input} }}
"#
    )
}

/// The names of the buses in the account, sorted.
async fn bus_names(ctx: &AwsContext) -> Vec<String> {
    let out = aws_sdk_eventbridge::Client::new(&ctx.sdk)
        .list_event_buses()
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = out
        .event_buses()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// The names of the rules on `bus`; empty when the bus is gone.
async fn rule_names(ctx: &AwsContext, bus: &str) -> Vec<String> {
    let out = aws_sdk_eventbridge::Client::new(&ctx.sdk)
        .list_rules()
        .event_bus_name(bus)
        .send()
        .await;
    let Ok(out) = out else {
        return Vec::new();
    };
    out.rules()
        .iter()
        .filter_map(|r| r.name().map(str::to_string))
        .collect()
}

/// The id recorded for `address`.
fn recorded_id(p: &Project, address: &str) -> String {
    let text = std::fs::read_to_string(p.path().join(".strata/buses.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_bus_and_a_rule_on_it_update_in_place_replace_together_import_and_destroy() {
    let p = Project::new(&stack("shop-orders", "payments", "placed"));
    let ctx = p.ctx();
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 3 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    assert_eq!(recorded_id(&p, "bus"), "shop-orders");
    assert_eq!(recorded_id(&p, "placed"), "shop-orders/buses-placed");
    let bus = events
        .describe_event_bus()
        .name("shop-orders")
        .send()
        .await
        .unwrap();
    assert_eq!(bus.description(), Some("Order events"));
    let bus_arn = bus.arn().unwrap().to_string();
    let tags = events
        .list_tags_for_resource()
        .resource_arn(&bus_arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "payments"),
        "{tags:?}"
    );
    assert_eq!(rule_names(&ctx, "shop-orders").await, ["buses-placed"]);
    let targets = events
        .list_targets_by_rule()
        .rule("buses-placed")
        .event_bus_name("shop-orders")
        .send()
        .await
        .unwrap();
    assert_eq!(targets.targets().len(), 1, "{targets:?}");
    assert!(targets.targets()[0].arn().ends_with(":buses-orders"));

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // A tag on the bus and the input of the rule's target: both in place.
    p.write_stack(&stack("shop-orders", "orders", "priority"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let tags = events
        .list_tags_for_resource()
        .resource_arn(&bus_arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "orders"),
        "{tags:?}"
    );
    let targets = events
        .list_targets_by_rule()
        .rule("buses-placed")
        .event_bus_name("shop-orders")
        .send()
        .await
        .unwrap();
    assert!(
        targets.targets()[0]
            .input()
            .is_some_and(|i| i.contains("priority")),
        "{targets:?}"
    );
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // Another bus name: a new bus, and the rule that names it follows; the old ones are gone.
    p.write_stack(&stack("shop-orders-v2", "orders", "priority"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ bus (aws.events.event_bus) must be replaced"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-/+ placed (aws.events.rule) must be replaced"),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(bus_names(&ctx).await, ["default", "shop-orders-v2"]);
    assert!(rule_names(&ctx, "shop-orders").await.is_empty());
    assert_eq!(rule_names(&ctx, "shop-orders-v2").await, ["buses-placed"]);
    assert_eq!(recorded_id(&p, "placed"), "shop-orders-v2/buses-placed");
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // Both forgotten, then imported by their ids: nothing to do.
    assert_code(&p.strata(&["state", "rm", "bus"]), 0);
    assert_code(&p.strata(&["state", "rm", "placed"]), 0);
    assert_code(&p.strata(&["import", "bus", "shop-orders-v2"]), 0);
    assert_code(
        &p.strata(&["import", "placed", "shop-orders-v2/buses-placed"]),
        0,
    );
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    assert_eq!(bus_names(&ctx).await, ["default"]);
}

#[test]
fn an_event_bus_name_longer_than_eventbridge_takes_is_refused_at_load_time() {
    let dir = tempfile::tempdir().unwrap();
    let long = "b".repeat(257);
    std::fs::write(
        dir.path().join("stack.yaml"),
        stack(&long, "payments", "placed"),
    )
    .unwrap();
    let run = run_strata(dir.path(), &["validate"], &[]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:9:"), "{}", run.stderr);
    assert!(run.stderr.contains("257 characters"), "{}", run.stderr);
}
