//! `strata import ADDR ID` for every resource type: a resource made elsewhere is read into the
//! state, and when the stack describes it as it is, the next plan has nothing to do.
//!
//! Table-driven: covering a new type is one more row in [`CASES`].

use std::collections::BTreeMap;
use std::path::Path;

use strata_tests::{assert_code_while, run_strata, Emulator};

/// One type to import: a stack holding it (and what it needs). Each row has its own stack
/// name, so the rows share one emulator.
struct Case {
    name: &'static str,
    stack: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "aws.sqs.queue",
        stack: r#"stack: import-queue
region: us-east-1
resources:
  jobs:
    type: aws.sqs.queue
    properties:
      visibility_timeout_seconds: 40
      message_retention_seconds: 86400
      tags: { team: imports }
"#,
    },
    Case {
        name: "aws.sqs.queue_policy",
        stack: r#"stack: import-policy
region: us-east-1
resources:
  jobs:
    type: aws.sqs.queue
  jobs_policy:
    type: aws.sqs.queue_policy
    properties:
      queue_url: ${jobs.url}
      policy:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: { Service: sns.amazonaws.com }
          Action: sqs:SendMessage
          Resource: ${jobs.arn}
"#,
    },
    Case {
        name: "aws.sns.topic",
        stack: r#"stack: import-topic
region: us-east-1
resources:
  events:
    type: aws.sns.topic
    properties: { display_name: Imported, tags: { team: imports } }
"#,
    },
    Case {
        name: "aws.sns.topic_policy",
        stack: r#"stack: import-topic-policy
region: us-east-1
resources:
  events:
    type: aws.sns.topic
  events_policy:
    type: aws.sns.topic_policy
    properties:
      arn: ${events.arn}
      policy:
        Version: "2012-10-17"
        Statement:
          Sid: AllowEvents
          Effect: Allow
          Principal: { Service: events.amazonaws.com }
          Action: sns:Publish
          Resource: ${events.arn}
"#,
    },
    Case {
        name: "aws.sns.subscription",
        stack: r#"stack: import-subscription
region: us-east-1
resources:
  jobs:
    type: aws.sqs.queue
  events:
    type: aws.sns.topic
  jobs_subscription:
    type: aws.sns.subscription
    properties:
      topic_arn: ${events.arn}
      protocol: sqs
      endpoint: ${jobs.arn}
      raw_message_delivery: true
"#,
    },
];

/// address -> id, from a project's state file.
fn recorded_ids(dir: &Path, stack: &str) -> BTreeMap<String, String> {
    let path = dir.join(".strata").join(format!("{stack}.state.json"));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    state["resources"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(address, r)| (address.clone(), r["id"].as_str().unwrap().to_string()))
        .collect()
}

fn stack_name(stack: &str) -> &str {
    stack
        .lines()
        .find_map(|l| l.strip_prefix("stack: "))
        .expect("a stack: line")
}

#[test]
fn every_type_imported_into_a_matching_stack_plans_no_changes() {
    let emu = Emulator::start();
    let env = emu.aws_env();
    for case in CASES {
        // Made by one strata project...
        let made = tempfile::tempdir().unwrap();
        std::fs::write(made.path().join("stack.yaml"), case.stack).unwrap();
        let run = run_strata(made.path(), &["apply", "--auto-approve"], &env);
        assert_code_while(&run, 0, case.name);
        let ids = recorded_ids(made.path(), stack_name(case.stack));

        // ...imported by another that has no state yet.
        let adopter = tempfile::tempdir().unwrap();
        std::fs::write(adopter.path().join("stack.yaml"), case.stack).unwrap();
        for (address, id) in &ids {
            let run = run_strata(adopter.path(), &["import", address, id], &env);
            assert_code_while(&run, 0, &format!("{}: import {address}", case.name));
            assert!(
                run.stdout.contains(&format!("as `{address}`")),
                "{}",
                run.stdout
            );
        }
        let run = run_strata(adopter.path(), &["plan", "--detailed-exitcode"], &env);
        assert_code_while(&run, 0, &format!("{}: plan after import", case.name));
        assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    }
}

#[test]
fn importing_over_a_managed_address_a_missing_id_or_an_undeclared_address_is_an_error() {
    let emu = Emulator::start();
    let env = emu.aws_env();
    let dir = tempfile::tempdir().unwrap();
    let case = &CASES[0];
    std::fs::write(dir.path().join("stack.yaml"), case.stack).unwrap();
    assert_code_while(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
        "apply",
    );
    let ids = recorded_ids(dir.path(), stack_name(case.stack));
    let url = &ids["jobs"];

    let over = run_strata(dir.path(), &["import", "jobs", url], &env);
    assert_code_while(&over, 1, "import over a managed address");
    let missing_url = url.replace("import-queue-jobs", "no-such-queue");
    let run = run_strata(dir.path(), &["state", "rm", "jobs"], &env);
    assert_code_while(&run, 0, "state rm");
    let missing = run_strata(dir.path(), &["import", "jobs", &missing_url], &env);
    assert_code_while(&missing, 1, "import a missing id");
    let undeclared = run_strata(dir.path(), &["import", "jbos", url], &env);
    assert_code_while(&undeclared, 1, "import an undeclared address");

    insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "[ENDPOINT]")]}, {
        insta::assert_snapshot!(format!(
            "--- over a managed address\n{}--- a missing id\n{}--- an undeclared address\n{}",
            over.stderr, missing.stderr, undeclared.stderr
        ));
    });
}
