//! `count`, `for_each`, `condition` and `moved` through the built binary against the emulator:
//! instances apply under their own addresses and names, a second plan is clean, adding or
//! removing a key touches that instance alone, `--target` of a resource takes all its
//! instances, and a `moved` conversion of a plain resource into a `for_each` instance plans no
//! change. Mistakes exit 1 at their `file:line:column` before any cloud call.

use strata_tests::dead_endpoint;
use strata_tests::kit::queue_names;
use strata_tests::{assert_code, run_strata, Project};

const STACK: &str = r#"stack: inst
params:
  workers: { type: number, default: 2 }
  audit: { type: bool, default: false }
locals:
  queues: { main: 30, slow: 300 }
resources:
  queues:
    type: aws.sqs.queue
    for_each: ${locals.queues}
    properties:
      visibility_timeout_seconds: ${each.value}
      tags: { Role: "${each.key}" }
  workers:
    type: aws.sqs.queue
    count: ${params.workers}
    properties:
      delay_seconds: ${count.index}
      redrive_policy:
        dead_letter_target_arn: ${queues["main"].arn}
        max_receive_count: 3
  audit:
    type: aws.sqs.queue
    condition: ${params.audit}
  topic:
    type: aws.sns.topic
    properties:
      display_name: ${join("-", workers[*].name)}
outputs:
  queue_urls: ${queues[*].url}
  main: ${queues["main"].name}
  audit: ${audit.arn}
"#;

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.retain(|n| n.starts_with("inst-"));
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_apply_under_their_keys_and_a_changed_key_touches_that_instance_alone() {
    let p = Project::new(STACK);
    let ctx = p.ctx();

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(
        sorted(queue_names(&ctx).await),
        [
            "inst-queues-main",
            "inst-queues-slow",
            "inst-workers-0",
            "inst-workers-1"
        ]
    );
    let run = p.strata(&["state", "list"]);
    assert_code(&run, 0);
    for address in [
        r#"queues["main"]"#,
        r#"queues["slow"]"#,
        "workers[0]",
        "workers[1]",
        "topic",
    ] {
        assert!(
            run.stdout.lines().any(|l| l.trim() == address),
            "{address} in:\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("audit"), "{}", run.stdout);
    // Graphs quote instance addresses as DOT and Mermaid read them.
    let run = p.strata(&["graph"]);
    assert!(
        run.stdout
            .contains(r#""queues[\"main\"]" -> "workers[0]";"#),
        "{}",
        run.stdout
    );
    let run = p.strata(&["graph", "--format", "mermaid"]);
    assert!(
        run.stdout
            .contains(r#"["queues[#quot;main#quot;] (aws.sqs.queue)"]"#),
        "{}",
        run.stdout
    );

    let run = p.strata(&["output", "--json"]);
    assert_code(&run, 0);
    let outputs: serde_json::Value = serde_json::from_str(&run.stdout).expect("json outputs");
    assert_eq!(outputs["main"]["value"], "inst-queues-main", "{outputs}");
    assert_eq!(
        outputs["audit"]["value"],
        serde_json::Value::Null,
        "{outputs}"
    );
    let urls = outputs["queue_urls"]["value"].as_array().expect("a list");
    assert_eq!(urls.len(), 2, "{outputs}");
    assert!(
        urls[0].as_str().unwrap().ends_with("/inst-queues-main"),
        "{outputs}"
    );

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // One more key and one more worker: those instances alone.
    let grown = STACK
        .replace("slow: 300 }", "slow: 300, bulk: 60 }")
        .replace("default: 2 }", "default: 3 }");
    p.write_stack(&grown);
    let run = p.strata(&["plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains(r#"+ queues["bulk"] (aws.sqs.queue) will be created"#),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("+ workers[2] (aws.sqs.queue) will be created"),
        "{}",
        run.stdout
    );
    // The topic's display name joins every worker's name.
    assert!(
        run.stdout
            .contains("~ topic (aws.sns.topic) will be updated in place"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Plan: 2 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );

    // A key removed: that instance is destroyed, nothing else changes.
    let shrunk = STACK.replace(", slow: 300 }", " }");
    p.write_stack(&shrunk);
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("0 to add, 0 to change, 0 to replace, 1 to destroy"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(r#"- queues["slow"]"#), "{}", run.stdout);
    assert!(!queue_names(&ctx)
        .await
        .contains(&"inst-queues-slow".to_string()));

    // A condition turned on makes the resource at its plain address.
    let audited = shrunk.replace(
        "audit: { type: bool, default: false }",
        "audit: { type: bool, default: true }",
    );
    p.write_stack(&audited);
    // `--target workers` takes every instance of it (and what they depend on), nothing else.
    let run = p.strata(&["plan", "--target", "workers"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("+ audit (aws.sqs.queue)"),
        "{}",
        run.stdout
    );
    assert!(queue_names(&ctx).await.contains(&"inst-audit".to_string()));

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(sorted(queue_names(&ctx).await), Vec::<String>::new());
}

const PLAIN: &str = r#"stack: mv
resources:
  queue:
    type: aws.sqs.queue
    properties:
      name: mv-main
      visibility_timeout_seconds: 45
  reader:
    type: aws.sqs.queue
    properties:
      redrive_policy:
        dead_letter_target_arn: ${queue.arn}
        max_receive_count: 2
"#;

const MOVED: &str = r#"stack: mv
resources:
  queues:
    type: aws.sqs.queue
    for_each: [main]
    properties:
      name: mv-${each.key}
      visibility_timeout_seconds: 45
  reader:
    type: aws.sqs.queue
    properties:
      redrive_policy:
        dead_letter_target_arn: ${queues["main"].arn}
        max_receive_count: 2
moved:
  - { from: queue, to: 'queues["main"]' }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_moved_plain_resource_becomes_a_for_each_instance_without_any_change() {
    let p = Project::new(PLAIN);
    let ctx = p.ctx();
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let before = strata_tests::kit::queue_urls(&ctx).await;

    p.write_stack(MOVED);
    let run = p.strata(&["plan", "--out", "move.plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains(r#"~ queue -> queues["main"] (moved)"#),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy (1 moved)."),
        "{}",
        run.stdout
    );
    let run = p.strata(&["plan", "--format", "json"]);
    assert_code(&run, 0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("a json plan");
    let moved: Vec<&serde_json::Value> = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("moved_from").is_some())
        .collect();
    assert_eq!(moved.len(), 1, "{json}");
    assert_eq!(moved[0]["moved_from"], "queue");
    assert_eq!(moved[0]["address"], r#"queues["main"]"#);
    assert_eq!(moved[0]["action"], "no_op");

    let run = p.strata(&["apply", "move.plan"]);
    assert_code(&run, 0);
    let run = p.strata(&["state", "list"]);
    assert!(run.stdout.contains(r#"queues["main"]"#), "{}", run.stdout);
    assert!(
        !run.stdout.lines().any(|l| l.trim() == "queue"),
        "{}",
        run.stdout
    );
    assert_eq!(
        strata_tests::kit::queue_urls(&ctx).await,
        before,
        "the same queues"
    );
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
}

/// (what, the stack, location, a phrase of the message)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "for_each over a value known only after apply",
        "stack: d\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16 }\n  subnets:\n    type: aws.ec2.subnet\n    for_each: ${vpc.id}\n    properties: { vpc_id: \"${vpc.id}\", cidr_block: 10.0.1.0/24 }\n",
        "stack.yaml:8:15",
        "`for_each` of resource `subnets` depends on `${vpc.id}`, known only after apply",
    ),
    (
        "count that is not a whole number",
        "stack: d\nresources:\n  q:\n    type: aws.sqs.queue\n    count: 1.5\n",
        "stack.yaml:5:12",
        "`count` of resource `q` must be a whole number",
    ),
    (
        "an instance that does not exist",
        "stack: d\nresources:\n  q:\n    type: aws.sqs.queue\n    for_each: [a, b]\n  r:\n    type: aws.sqs.queue\n    properties:\n      name: ${q[\"c\"].name}\n",
        "stack.yaml:9:17",
        "resource `q` has no instance [\"c\"]",
    ),
    (
        "a repeated resource used without a key",
        "stack: d\nresources:\n  q:\n    type: aws.sqs.queue\n    count: 2\n  r:\n    type: aws.sqs.queue\n    properties:\n      name: ${q.name}-r\n",
        "stack.yaml:9:13",
        "resource `q` has `count`: `${q.name}` does not say which instance",
    ),
    (
        "each outside for_each",
        "stack: d\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: ${each.key}\n",
        "stack.yaml:6:13",
        "`${each.key}` is only known inside a resource with `for_each`",
    ),
    (
        "an unknown lookup",
        "stack: d\nlookups:\n  azs: { type: aws.ec2.availability_zones }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: ${lookups.zones.names[0]}\n",
        "stack.yaml:8:15",
        "unknown lookup `zones`",
    ),
    (
        "an unknown attribute of a lookup",
        "stack: d\nlookups:\n  azs: { type: aws.ec2.availability_zones }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: ${lookups.azs.name[0]}\n",
        "stack.yaml:8:15",
        "unknown attribute `name` of lookup `azs` (aws.ec2.availability_zones)",
    ),
    (
        "an unknown lookup type",
        "stack: d\nlookups:\n  azs: { type: aws.ec2.zones }\n",
        "stack.yaml:3:16",
        "unknown lookup type `aws.ec2.zones`",
    ),
    (
        "name and name_prefix together",
        "stack: d\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: a\n      name_prefix: b-\n",
        "stack.yaml:6:7",
        "resource `q` has both `name` and `name_prefix`",
    ),
    (
        "a moved target the stack does not declare",
        "stack: d\nresources:\n  q:\n    type: aws.sqs.queue\nmoved:\n  - { from: old, to: 'qs[\"a\"]' }\n",
        "stack.yaml:6:22",
        "`moved` names `qs[\"a\"]`, which this stack does not declare",
    ),
];

#[test]
fn instance_mistakes_exit_1_at_their_column_before_any_cloud_call() {
    let env = dead_endpoint();
    let mut failures = Vec::new();
    for (what, stack, location, phrase) in CASES {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.yaml"), stack).unwrap();
        for command in [&["validate"][..], &["plan"][..]] {
            let run = run_strata(dir.path(), command, &env);
            let ok = run.code == 1
                && run.stderr.contains(location)
                && run.stderr.contains(phrase)
                && !run.stderr.contains("127.0.0.1");
            if !ok {
                failures.push(format!(
                    "{what} ({}): exit {}\n{}",
                    command[0], run.code, run.stderr
                ));
            }
        }
        assert!(
            !dir.path().join(".strata").exists(),
            "{what}: no state is written"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

const PREFIXED: &str = r#"stack: pfx
resources:
  jobs:
    type: aws.sqs.queue
    lifecycle: { create_before_destroy: true }
    properties:
      name_prefix: pfx-jobs-
      fifo_queue: false
"#;

fn prefixed(names: Vec<String>) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| n.starts_with("pfx-jobs-"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn name_prefix_chooses_a_name_once_and_a_new_one_for_each_replacement() {
    let p = Project::new(PREFIXED);
    let ctx = p.ctx();
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let first = prefixed(queue_names(&ctx).await);
    assert_eq!(first.len(), 1, "{first:?}");
    let suffix = &first[0]["pfx-jobs-".len()..];
    assert!(
        suffix.len() == 8 && suffix.chars().all(|c| c.is_ascii_hexdigit()),
        "{first:?}"
    );
    assert!(
        run.stdout.contains(&first[0]),
        "the plan shows the chosen name:\n{}",
        run.stdout
    );

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // A replacement (with create_before_destroy) gets a new name, so both exist for a moment.
    p.write_stack(&PREFIXED.replace("fifo_queue: false", "fifo_queue: true"));
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let second = prefixed(queue_names(&ctx).await);
    assert_eq!(second.len(), 1, "the old queue is gone: {second:?}");
    assert_ne!(second, first);
    assert!(second[0].ends_with(".fifo"), "{second:?}");
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(prefixed(queue_names(&ctx).await).is_empty());
}

const MODULES: &str = r#"stack: mods
params:
  envs: { type: list, default: [dev, prod] }
modules:
  work:
    source: ./queue-with-dlq
    for_each: ${params.envs}
    inputs:
      visibility: '${each.key == "prod" ? 120 : 30}'
  spare:
    source: ./queue-with-dlq
    condition: false
resources:
  alerts:
    type: aws.sns.topic
    properties:
      display_name: ${work["prod"].queue_arn}
outputs:
  urls: ${work[*].queue_url}
  spare: ${spare.queue_url}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_module_with_for_each_makes_one_instance_per_key() {
    let p = Project::new(MODULES);
    strata_tests::copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/modules/queue-with-dlq"),
        &p.path().join("queue-with-dlq"),
    );
    let ctx = p.ctx();
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let mut names: Vec<String> = queue_names(&ctx).await;
    names.sort();
    assert_eq!(
        names,
        [
            "mods-work-dev-dlq",
            "mods-work-dev-queue",
            "mods-work-prod-dlq",
            "mods-work-prod-queue"
        ]
    );
    let run = p.strata(&["state", "list"]);
    assert!(
        run.stdout.contains(r#"work["prod"].queue"#),
        "{}",
        run.stdout
    );
    let run = p.strata(&["output", "--json"]);
    let outputs: serde_json::Value = serde_json::from_str(&run.stdout).expect("json outputs");
    let urls = outputs["urls"]["value"].as_array().expect("a list");
    assert!(
        urls[1].as_str().unwrap().ends_with("/mods-work-prod-queue"),
        "{outputs}"
    );
    assert_eq!(outputs["spare"]["value"], serde_json::Value::Null);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // One environment less: that instance's resources alone are destroyed.
    p.write_stack(&MODULES.replace("default: [dev, prod]", "default: [prod]"));
    let run = p.strata(&["plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 0 to change, 0 to replace, 2 to destroy."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(r#"- work["dev"].queue"#),
        "{}",
        run.stdout
    );
    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
}

/// A type's check over several properties (`TypeSchema::check`) with a number known only at
/// apply (`read_capacity` from another resource): the check waits for the provider, and the
/// resource stays in the stack (it was once dropped without a word).
#[test]
fn a_number_known_only_at_apply_keeps_its_resource_in_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        "stack: d\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { delay_seconds: 5 }\n  t:\n    type: aws.dynamodb.table\n    properties:\n      hash_key: id\n      attributes: [{ name: id, type: S }]\n      billing_mode: PROVISIONED\n      read_capacity: ${q.delay_seconds}\n      write_capacity: 5\n",
    )
    .unwrap();
    let run = run_strata(dir.path(), &["validate"], &dead_endpoint());
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("2 resources"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}
