//! The EventBridge provider (`aws.events.rule`) against the local emulator: create, read back
//! through the SDK and through the provider, update in place (rule settings, targets by id,
//! tags), find, delete, and delete again.

use std::collections::BTreeMap;

use aws_sdk_eventbridge::types::Target;
use providers::events::rule::RuleProvider;
use providers::Resource;
use serde_json::json;
use stacks::{Kind, Map, Value};
use strata_tests::kit::{context, delete, map, read, string_map, update, TestStack, ACCOUNT};
use strata_tests::{assert_code, run_strata, Emulator};

const STACK: TestStack = TestStack::named("orders");

fn queue_arn(name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}")
}

fn rule_arn(path: &str) -> String {
    format!("arn:aws:events:us-east-1:{ACCOUNT}:rule/{path}")
}

/// The "second plan is empty" guarantee: every property the stack gave reads back equal as
/// the planner compares them (event patterns and target inputs semantically).
fn assert_reads_back(resource: &Resource, requested: &Map) {
    let schema = providers::events::rule::schema();
    for (key, want) in requested {
        let got = resource
            .properties
            .get(key)
            .unwrap_or_else(|| panic!("property `{key}` of {} is not read back", resource.id));
        let kind = schema.prop(key).map_or(Kind::Any, |p| p.kind.clone());
        assert!(
            planner::compare::equivalent(&kind, want, got),
            "property `{key}` of {} reads back as {got}, not {want}",
            resource.id
        );
    }
}

/// The rule's targets as EventBridge lists them, by id.
async fn targets_of(
    events: &aws_sdk_eventbridge::Client,
    rule: &str,
    bus: &str,
) -> BTreeMap<String, Target> {
    events
        .list_targets_by_rule()
        .rule(rule)
        .event_bus_name(bus)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListTargetsByRule {rule}: {e:?}"))
        .targets()
        .iter()
        .map(|t| (t.id().to_string(), t.clone()))
        .collect()
}

async fn rule_tags(events: &aws_sdk_eventbridge::Client, arn: &str) -> BTreeMap<String, String> {
    events
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListTagsForResource {arn}: {e:?}"))
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn parse(text: &str) -> Value {
    Value::from_json(
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

fn order_pattern() -> serde_json::Value {
    json!({
        "source": ["shop.orders"],
        "detail-type": ["OrderPlaced"],
        "detail": { "amount": [{ "numeric": [">", 100] }] },
    })
}

#[tokio::test]
async fn a_pattern_rule_with_targets_reads_back_as_requested() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let rules = RuleProvider::new(&ctx);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);

    let requested = map(json!({
        "name": "orders-placed",
        "event_bus_name": "default",
        "description": "Orders over 100",
        "event_pattern": order_pattern(),
        "state": "DISABLED",
        "role_arn": format!("arn:aws:iam::{ACCOUNT}:role/events"),
        "targets": [
            {
                "id": "inbox",
                "arn": queue_arn("inbox"),
                "input": "{\"kind\": \"order\"}",
                "dead_letter_arn": queue_arn("inbox-dlq"),
            },
            {
                "id": "audit",
                "arn": queue_arn("audit"),
                "role_arn": format!("arn:aws:iam::{ACCOUNT}:role/audit"),
            },
        ],
        "tags": STACK.tags_for("placed", json!({ "team": "payments" })),
    }));
    let rule = STACK.create(&rules, "placed", &requested).await;
    assert_eq!(rule.id, "orders-placed");
    assert_eq!(
        rule.attributes["arn"],
        Value::str(rule_arn("orders-placed"))
    );
    assert_eq!(rule.attributes["name"], Value::str("orders-placed"));

    let described = events
        .describe_rule()
        .name("orders-placed")
        .send()
        .await
        .unwrap();
    assert_eq!(described.description(), Some("Orders over 100"));
    assert_eq!(described.state().map(|s| s.as_str()), Some("DISABLED"));
    assert_eq!(
        described.role_arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:role/events").as_str())
    );
    assert_eq!(described.schedule_expression(), None);
    let pattern = parse(described.event_pattern().expect("the rule has a pattern"));
    assert!(
        planner::compare::equivalent(
            &Kind::Document,
            &Value::from_json(order_pattern()),
            &pattern
        ),
        "{pattern}"
    );

    let targets = targets_of(&events, "orders-placed", "default").await;
    assert_eq!(targets.len(), 2);
    assert_eq!(targets["inbox"].arn(), queue_arn("inbox"));
    assert_eq!(targets["inbox"].input(), Some("{\"kind\": \"order\"}"));
    assert_eq!(
        targets["inbox"]
            .dead_letter_config()
            .and_then(|d| d.arn())
            .map(str::to_string),
        Some(queue_arn("inbox-dlq"))
    );
    assert_eq!(targets["inbox"].role_arn(), None);
    assert_eq!(
        targets["audit"].role_arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:role/audit").as_str())
    );
    assert_eq!(targets["audit"].input(), None);

    let tags = rule_tags(&events, &rule_arn("orders-placed")).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("payments"));
    assert_eq!(
        tags.get("strata:address").map(String::as_str),
        Some("placed")
    );
    assert_eq!(tags.len(), 3);

    assert_reads_back(&rule, &requested);
    let again = read(&rules, "placed", &rule)
        .await
        .expect("the rule exists");
    assert_reads_back(&again, &requested);
    assert_eq!(again, rule);
}

#[tokio::test]
async fn a_schedule_rule_gets_the_default_bus_and_state_and_is_read_by_its_name() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let rules = RuleProvider::new(&ctx);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);

    // What the loader passes: the schema's defaults filled in.
    let requested = map(json!({
        "name": "orders-nightly",
        "event_bus_name": "default",
        "state": "ENABLED",
        "schedule_expression": "cron(0 3 * * ? *)",
        "targets": [{ "id": "report", "arn": queue_arn("reports"), "input": "{\"report\":\"nightly\"}" }],
    }));
    let rule = STACK.create(&rules, "nightly", &requested).await;
    let described = events
        .describe_rule()
        .name("orders-nightly")
        .send()
        .await
        .unwrap();
    assert_eq!(described.schedule_expression(), Some("cron(0 3 * * ? *)"));
    assert_eq!(described.event_pattern(), None);
    assert_eq!(described.state().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(described.event_bus_name(), Some("default"));

    // Read from the id alone (as an import would), with nothing recorded.
    let bare = Resource {
        id: rule.id.clone(),
        ..Resource::default()
    };
    let read_back = read(&rules, "nightly", &bare)
        .await
        .expect("the rule exists");
    assert_reads_back(&read_back, &requested);
    assert!(!read_back.properties.contains_key("description"));
    assert!(!read_back.properties.contains_key("event_pattern"));
}

#[tokio::test]
async fn a_rule_with_neither_a_schedule_nor_a_pattern_is_refused_before_any_call_and_both_is_a_rule(
) {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let rules = RuleProvider::new(&ctx);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);

    let both = map(json!({
        "name": "orders-both",
        "schedule_expression": "rate(1 hour)",
        "event_pattern": order_pattern(),
    }));
    let made = STACK.create(&rules, "both", &both).await;
    assert_eq!(
        made.properties["schedule_expression"].as_str(),
        Some("rate(1 hour)")
    );
    assert!(made.properties.contains_key("event_pattern"));
    let neither = map(json!({ "name": "orders-neither" }));
    let err = STACK
        .try_create(&rules, "neither", &neither)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`schedule_expression`"), "{err}");

    let listed = events.list_rules().send().await.unwrap();
    let names: Vec<&str> = listed.rules().iter().filter_map(|r| r.name()).collect();
    assert_eq!(names, ["orders-both"]);
}

#[tokio::test]
async fn updating_a_rule_changes_its_settings_in_place_and_leaves_its_targets_alone() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let rules = RuleProvider::new(&ctx);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);

    let target = json!({ "id": "inbox", "arn": queue_arn("inbox") });
    let first = map(json!({
        "name": "orders-placed",
        "description": "first",
        "event_pattern": order_pattern(),
        "state": "ENABLED",
        "role_arn": format!("arn:aws:iam::{ACCOUNT}:role/events"),
        "targets": [target],
    }));
    let rule = STACK.create(&rules, "placed", &first).await;

    // New description and state, the role dropped, a schedule in place of the pattern.
    let second = map(json!({
        "name": "orders-placed",
        "description": "second",
        "schedule_expression": "rate(5 minutes)",
        "state": "DISABLED",
        "targets": [target],
    }));
    let updated = update(
        &rules,
        "placed",
        &rule,
        &second,
        &[
            "description",
            "state",
            "role_arn",
            "event_pattern",
            "schedule_expression",
        ],
    )
    .await;
    assert_eq!(updated.id, rule.id);
    assert_eq!(updated.attributes, rule.attributes);

    let described = events
        .describe_rule()
        .name("orders-placed")
        .send()
        .await
        .unwrap();
    assert_eq!(described.description(), Some("second"));
    assert_eq!(described.state().map(|s| s.as_str()), Some("DISABLED"));
    assert_eq!(described.role_arn(), None);
    assert_eq!(described.event_pattern(), None);
    assert_eq!(described.schedule_expression(), Some("rate(5 minutes)"));
    let targets = targets_of(&events, "orders-placed", "default").await;
    assert_eq!(targets.keys().collect::<Vec<_>>(), ["inbox"]);

    assert_reads_back(&updated, &second);
    assert!(!updated.properties.contains_key("role_arn"));
    assert!(!updated.properties.contains_key("event_pattern"));
}

#[tokio::test]
async fn updating_targets_puts_only_new_or_changed_ones_and_removes_only_the_dropped_ones() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let rules = RuleProvider::new(&ctx);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);

    let first = map(json!({
        "name": "orders-placed",
        "event_pattern": order_pattern(),
        "targets": [
            { "id": "kept", "arn": queue_arn("kept") },
            { "id": "changed", "arn": queue_arn("changed"), "input": "{\"v\":1}" },
            { "id": "dropped", "arn": queue_arn("dropped") },
        ],
    }));
    let rule = STACK.create(&rules, "placed", &first).await;

    // Someone changes the target strata keeps as it is: if strata rewrote it, this would go.
    events
        .put_targets()
        .rule("orders-placed")
        .targets(
            Target::builder()
                .id("kept")
                .arn(queue_arn("kept"))
                .input("{\"by\":\"hand\"}")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let second = map(json!({
        "name": "orders-placed",
        "event_pattern": order_pattern(),
        "targets": [
            { "id": "added", "arn": queue_arn("added") },
            { "id": "kept", "arn": queue_arn("kept") },
            { "id": "changed", "arn": queue_arn("changed-too"), "input": "{\"v\":2}" },
        ],
    }));
    let updated = update(&rules, "placed", &rule, &second, &["targets"]).await;
    assert_eq!(updated.id, rule.id);

    let targets = targets_of(&events, "orders-placed", "default").await;
    assert_eq!(
        targets.keys().map(String::as_str).collect::<Vec<_>>(),
        ["added", "changed", "kept"]
    );
    assert_eq!(targets["changed"].arn(), queue_arn("changed-too"));
    assert_eq!(targets["changed"].input(), Some("{\"v\":2}"));
    assert_eq!(targets["added"].arn(), queue_arn("added"));
    assert_eq!(
        targets["kept"].input(),
        Some("{\"by\":\"hand\"}"),
        "the untouched target was rewritten"
    );

    // The read keeps the stack's order of targets.
    let ids: Vec<&str> = updated.properties["targets"]
        .as_list()
        .unwrap()
        .iter()
        .map(|t| t.as_map().unwrap()["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["added", "kept", "changed"]);
    assert_eq!(
        updated.properties["targets"].as_list().unwrap()[2],
        second["targets"].as_list().unwrap()[2]
    );
}

#[tokio::test]
async fn updating_rule_tags_adds_changes_and_removes_only_the_keys_that_differ() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let rules = RuleProvider::new(&ctx);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);

    let first = map(json!({
        "name": "orders-nightly",
        "schedule_expression": "rate(1 day)",
        "tags": STACK.tags_for("nightly", json!({ "team": "payments", "env": "dev", "old": "x" })),
    }));
    let rule = STACK.create(&rules, "nightly", &first).await;
    let arn = rule_arn("orders-nightly");
    events
        .tag_resource()
        .resource_arn(&arn)
        .tags(
            aws_sdk_eventbridge::types::Tag::builder()
                .key("owner")
                .value("ops")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let second = map(json!({
        "name": "orders-nightly",
        "schedule_expression": "rate(1 day)",
        "tags": STACK.tags_for("nightly", json!({ "team": "payments", "env": "prod", "new": "y" })),
    }));
    let updated = update(&rules, "nightly", &rule, &second, &["tags"]).await;
    assert_eq!(updated.id, rule.id);

    let expected = string_map([
        ("env", "prod"),
        ("new", "y"),
        ("owner", "ops"),
        ("strata:address", "nightly"),
        ("strata:stack", STACK.name),
        ("team", "payments"),
    ]);
    assert_eq!(rule_tags(&events, &arn).await, expected);
    let read_tags = updated.properties["tags"].as_map().unwrap();
    assert_eq!(read_tags.get("env"), Some(&Value::str("prod")));
    assert!(!read_tags.contains_key("old"));
}

#[tokio::test]
async fn a_rule_on_a_custom_bus_is_identified_by_bus_and_name() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let rules = RuleProvider::new(&ctx);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);
    events.create_event_bus().name("shop").send().await.unwrap();

    let requested = map(json!({
        "name": "orders-on-shop",
        "event_bus_name": "shop",
        "event_pattern": { "source": ["shop.orders"] },
        "targets": [{ "id": "inbox", "arn": queue_arn("inbox") }],
    }));
    let rule = STACK.create(&rules, "on_shop", &requested).await;
    assert_eq!(rule.id, "shop/orders-on-shop");
    assert_eq!(
        rule.attributes["arn"],
        Value::str(rule_arn("shop/orders-on-shop"))
    );
    assert!(events
        .describe_rule()
        .name("orders-on-shop")
        .send()
        .await
        .is_err());
    let bare = Resource {
        id: rule.id.clone(),
        ..Resource::default()
    };
    let read_back = read(&rules, "on_shop", &bare)
        .await
        .expect("the rule exists");
    assert_reads_back(&read_back, &requested);

    delete(&rules, "on_shop", &rule).await;
    assert_eq!(read(&rules, "on_shop", &rule).await, None);
}

#[tokio::test]
async fn a_deleted_rule_is_gone_with_its_targets_and_deleting_reading_or_finding_it_again_is_harmless(
) {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let rules = RuleProvider::new(&ctx);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);

    let requested = map(json!({
        "name": "orders-placed",
        "event_bus_name": "default",
        "event_pattern": order_pattern(),
        "targets": [
            { "id": "a", "arn": queue_arn("a") },
            { "id": "b", "arn": queue_arn("b") },
        ],
        "tags": STACK.tags_for("placed", json!({})),
    }));
    let rule = STACK.create(&rules, "placed", &requested).await;

    let found = STACK
        .find(&rules, "placed", &requested)
        .await
        .expect("the rule is found by its name");
    assert_eq!(found, rule);
    assert_eq!(
        STACK
            .find(&rules, "other", &map(json!({ "name": "orders-other" })))
            .await,
        None
    );

    delete(&rules, "placed", &rule).await;
    let gone = events
        .describe_rule()
        .name("orders-placed")
        .send()
        .await
        .expect_err("the rule is gone");
    assert_eq!(
        aws_sdk_eventbridge::error::ProvideErrorMetadata::code(&gone),
        Some("ResourceNotFoundException"),
        "{gone:?}"
    );
    assert!(events.list_rules().send().await.unwrap().rules().is_empty());

    delete(&rules, "placed", &rule).await;
    assert_eq!(read(&rules, "placed", &rule).await, None);
    assert_eq!(STACK.find(&rules, "placed", &requested).await, None);
}

async fn rule_names(events: &aws_sdk_eventbridge::Client) -> Vec<String> {
    let mut names: Vec<String> = events
        .list_rules()
        .send()
        .await
        .unwrap()
        .rules()
        .iter()
        .filter_map(|r| r.name().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn renaming_a_rule_replaces_it_while_a_reordered_pattern_or_a_new_target_does_not() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let env = emu.aws_env();
    let events = aws_sdk_eventbridge::Client::new(&context(&emu).sdk);
    let write = |text: &str| std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);

    write(
        r#"stack: shop
resources:
  placed:
    type: aws.events.rule
    properties:
      description: Orders placed
      event_pattern:
        source: [shop.orders]
        detail-type: [OrderPlaced]
      targets:
        - { id: inbox, arn: "arn:aws:sqs:us-east-1:123456789012:inbox" }
"#,
    );
    assert_code(&strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(rule_names(&events).await, ["shop-placed"]);
    assert_code(&strata(&["plan", "--detailed-exitcode"]), 0);

    // The same pattern with its keys the other way round is no change; a second target is an
    // update in place.
    write(
        r#"stack: shop
resources:
  placed:
    type: aws.events.rule
    properties:
      description: Orders placed
      event_pattern:
        detail-type: [OrderPlaced]
        source: [shop.orders]
      targets:
        - { id: inbox, arn: "arn:aws:sqs:us-east-1:123456789012:inbox" }
        - { id: audit, arn: "arn:aws:sqs:us-east-1:123456789012:audit" }
"#,
    );
    let run = strata(&["plan"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("~ placed"), "{}", run.stdout);
    assert!(!run.stdout.contains("event_pattern"), "{}", run.stdout);
    assert_code(&strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(targets_of(&events, "shop-placed", "default").await.len(), 2);
    assert_code(&strata(&["plan", "--detailed-exitcode"]), 0);

    // A new name is a new rule: the old one goes, targets and all.
    write(
        r#"stack: shop
resources:
  placed:
    type: aws.events.rule
    properties:
      name: shop-orders-placed
      description: Orders placed
      event_pattern:
        detail-type: [OrderPlaced]
        source: [shop.orders]
      targets:
        - { id: inbox, arn: "arn:aws:sqs:us-east-1:123456789012:inbox" }
        - { id: audit, arn: "arn:aws:sqs:us-east-1:123456789012:audit" }
"#,
    );
    let run = strata(&["plan"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("-/+ placed"), "{}", run.stdout);
    assert!(run.stdout.contains("forces replacement"), "{}", run.stdout);
    assert_code(&strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(rule_names(&events).await, ["shop-orders-placed"]);
    assert_eq!(
        targets_of(&events, "shop-orders-placed", "default")
            .await
            .len(),
        2
    );
    assert_code(&strata(&["plan", "--detailed-exitcode"]), 0);

    assert_code(&strata(&["destroy", "--auto-approve"]), 0);
    assert!(rule_names(&events).await.is_empty());
}
