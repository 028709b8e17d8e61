//! Plans for machines and for pull requests: `plan --format json` (validated against its
//! published schema, stable across runs) and `plan --format markdown` (always fits a comment).

use std::collections::BTreeMap;
use std::path::Path;

use stacks::{Map, Value};
use state::{Backend, LocalBackend, ResourceState, State};
use strata_tests::{assert_code, run_strata, workspace_root, Emulator};

const BEFORE: &str = r#"stack: formats
region: us-east-1
resources:
  keep:
    type: aws.sqs.queue
  tuned:
    type: aws.sqs.queue
    properties: { message_retention_seconds: 345600 }
  renamed:
    type: aws.sns.topic
    properties: { name: formats-topic-a }
  doomed:
    type: aws.sqs.queue
"#;

const AFTER: &str = r#"stack: formats
region: us-east-1
params:
  token: { type: string, default: s3cr3t-t0ken }
resources:
  keep:
    type: aws.sqs.queue
  tuned:
    type: aws.sqs.queue
    properties: { message_retention_seconds: 86400 }
  renamed:
    type: aws.sns.topic
    properties: { name: formats-topic-b }
  fresh:
    type: aws.sqs.queue
    properties:
      redrive_policy: { dead_letter_target_arn: "${keep.arn}", max_receive_count: 3 }
outputs:
  fresh_url: ${fresh.url}
  token: { value: "${params.token}", sensitive: true }
"#;

fn plan_schema() -> serde_json::Value {
    let text = std::fs::read_to_string(workspace_root().join("docs/plan-format.schema.json"))
        .expect("docs/plan-format.schema.json");
    serde_json::from_str(&text).expect("the plan schema is JSON")
}

#[test]
fn a_json_plan_matches_its_published_schema_and_is_the_same_every_time() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let env = emu.aws_env();
    std::fs::write(dir.path().join("stack.yaml"), BEFORE).unwrap();
    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );
    std::fs::write(dir.path().join("stack.yaml"), AFTER).unwrap();

    let first = run_strata(
        dir.path(),
        &["plan", "--format", "json", "--detailed-exitcode"],
        &env,
    );
    assert_code(&first, 2);
    let second = run_strata(dir.path(), &["plan", "--json"], &env);
    assert_code(&second, 0);
    assert_eq!(
        first.stdout, second.stdout,
        "the same input gives the same bytes"
    );
    assert!(!first.stdout.contains("s3cr3t-t0ken"), "{}", first.stdout);

    let plan: serde_json::Value = serde_json::from_str(&first.stdout).expect("JSON on stdout");
    let validator = jsonschema::validator_for(&plan_schema()).expect("a valid JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(&plan)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let actions: BTreeMap<&str, &str> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap(),
                c["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        BTreeMap::from([
            ("doomed", "delete"),
            ("fresh", "create"),
            ("keep", "no_op"),
            ("renamed", "replace"),
            ("tuned", "update"),
        ])
    );

    insta::with_settings!({filters => vec![
        (r"127\.0\.0\.1:\d+", "[ENDPOINT]"),
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[UUID]"),
        (r#""source_hash": "[0-9a-f]{64}""#, r#""source_hash": "[HASH]""#),
    ]}, {
        insta::assert_snapshot!(first.stdout);
    });

    // A schema that can fail: a broken document is rejected.
    let mut broken = plan.clone();
    broken["resource_changes"][0]["action"] = serde_json::json!("explode");
    assert!(!validator.is_valid(&broken));
}

/// How many queues the synthetic stack declares, and how many others the state holds.
const DECLARED: usize = 2_000;
const RECORDED_ONLY: usize = 40;

fn big_stack(dir: &Path) {
    let mut stack = String::from("stack: big\nregion: us-east-1\nresources:\n");
    for i in 0..DECLARED {
        stack.push_str(&format!(
            "  queue_{i:04}:\n    type: aws.sqs.queue\n    properties: {{ visibility_timeout_seconds: {} }}\n",
            30 + i % 100
        ));
    }
    std::fs::write(dir.join("stack.yaml"), stack).unwrap();

    let mut state = State::new("big");
    for i in 0..RECORDED_ONLY {
        let name = format!("big-old-{i:02}");
        let url = format!("https://sqs.us-east-1.amazonaws.com/123456789012/{name}");
        state.resources.insert(
            format!("old_{i:02}"),
            ResourceState {
                type_name: "aws.sqs.queue".into(),
                id: url.clone(),
                properties: Map::from([("name".to_string(), Value::str(&name))]),
                attributes: Map::from([("url".to_string(), Value::str(&url))]),
                dependencies: vec![],
                create_before_destroy: false,
                tainted: false,
                sensitive: Vec::new(),
            },
        );
    }
    let backend = LocalBackend::new(dir.join(".strata"), "big");
    let lock = backend
        .lock("test setup", std::time::Duration::ZERO)
        .unwrap();
    backend.write(&lock, &state).unwrap();
}

#[test]
fn a_markdown_plan_of_two_thousand_resources_fits_a_comment_and_lists_destroys_first() {
    let dir = tempfile::tempdir().unwrap();
    big_stack(dir.path());
    // Without refresh, planning creates and deletes needs no AWS call: an endpoint nobody
    // listens on proves it.
    let env: Vec<(String, String)> = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let run = run_strata(
        dir.path(),
        &[
            "plan",
            "--format",
            "markdown",
            "--refresh=false",
            "--detailed-exitcode",
        ],
        &env,
    );
    assert_code(&run, 2);
    let text = &run.stdout;
    assert!(
        text.chars().count() < 60_000,
        "{} characters",
        text.chars().count()
    );
    assert_eq!(
        text.lines().next(),
        Some("**Plan: 2000 to add, 0 to change, 0 to replace, 40 to destroy.**")
    );
    let first_destroy = text.find("will be destroyed").expect("a destroy");
    let first_create = text.find("will be created").expect("a create");
    assert!(first_destroy < first_create, "destroys come first");
    for i in 0..RECORDED_ONLY {
        assert!(
            text.contains(&format!("old_{i:02}")),
            "old_{i:02} is not listed"
        );
    }
    assert!(
        text.contains("more changes (0 destroys or replaces) not shown in full"),
        "{}",
        &text[text.len().saturating_sub(400)..]
    );
    // The graph of the changes comes first, collapsed to one node per type and action.
    let graph = text
        .split("```mermaid\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a mermaid graph");
    assert!(graph.starts_with("flowchart LR\n"), "{graph}");
    assert!(graph.contains(": 2000 to add\"]:::create"), "{graph}");
    assert!(graph.contains(": 40 to destroy\"]:::delete"), "{graph}");
    assert!(graph.len() < 2_000, "{} bytes", graph.len());
}

/// What a replacement drags along, at a glance: the Markdown plan and `graph --plan` draw the
/// changed resources and the edges between them, coloured by action.
#[test]
fn a_plan_graph_shows_what_a_replacement_drags_along_coloured_by_action() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let env = emu.aws_env();
    let stack = |topic: &str| {
        format!(
            "stack: dragged\nregion: us-east-1\nresources:\n  events:\n    type: aws.sns.topic\n    properties: {{ name: {topic} }}\n  inbox:\n    type: aws.sqs.queue\n  feed:\n    type: aws.sns.subscription\n    properties: {{ topic_arn: \"${{events.arn}}\", protocol: sqs, endpoint: \"${{inbox.arn}}\" }}\n"
        )
    };
    std::fs::write(dir.path().join("stack.yaml"), stack("dragged-a")).unwrap();
    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );
    std::fs::write(dir.path().join("stack.yaml"), stack("dragged-b")).unwrap();

    let run = run_strata(
        dir.path(),
        &["graph", "--plan", "--format", "mermaid"],
        &env,
    );
    assert_code(&run, 0);
    let graph = &run.stdout;
    assert!(graph.starts_with("flowchart LR\n"), "{graph}");
    assert!(
        graph.contains("events[\"-/+ events (aws.sns.topic)\"]:::replace"),
        "{graph}"
    );
    assert!(
        graph.contains("feed[\"-/+ feed (aws.sns.subscription)\"]:::replace"),
        "{graph}"
    );
    assert!(graph.contains("  events --> feed\n"), "{graph}");
    assert!(
        !graph.contains("inbox"),
        "an unchanged queue is left out: {graph}"
    );

    let run = run_strata(dir.path(), &["plan", "--format", "markdown"], &env);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains(&format!("```mermaid\n{graph}```")),
        "{}",
        run.stdout
    );
}
