//! `strata state list | show | rm | mv | pull | push`: inspecting and editing the state.

use strata_tests::{assert_code, run_strata, Emulator};

const STACK: &str = r#"stack: states
region: us-east-1
resources:
  jobs:
    type: aws.sqs.queue
    properties: { visibility_timeout_seconds: 45 }
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
"#;

#[test]
fn state_mv_after_renaming_in_the_stack_leaves_a_clean_plan() {
    let emu = Emulator::start();
    let env = emu.aws_env();
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.yaml");
    std::fs::write(&stack, STACK).unwrap();
    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );

    let list = run_strata(dir.path(), &["state", "list"], &env);
    assert_code(&list, 0);
    assert_eq!(list.stdout, "jobs\njobs_policy\n");
    let show = run_strata(dir.path(), &["state", "show", "jobs"], &env);
    assert_code(&show, 0);
    insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "[ENDPOINT]")]}, {
        insta::assert_snapshot!(show.stdout);
    });

    // Renamed in the stack: without `state mv` that is a destroy and a create...
    std::fs::write(&stack, STACK.replace("jobs_policy:", "jobs_access:")).unwrap();
    let run = run_strata(dir.path(), &["plan"], &env);
    assert!(
        run.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to replace, 1 to destroy."),
        "{}",
        run.stdout
    );
    // ...with it, nothing.
    let run = run_strata(
        dir.path(),
        &["state", "mv", "jobs_policy", "jobs_access"],
        &env,
    );
    assert_code(&run, 0);
    assert_eq!(run.stdout, "Moved `jobs_policy` to `jobs_access`.\n");
    let run = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    let run = run_strata(dir.path(), &["state", "mv", "nope", "other"], &env);
    assert_code(&run, 1);
    let run = run_strata(dir.path(), &["state", "mv", "jobs", "jobs_access"], &env);
    assert_code(&run, 1);
    assert!(
        run.stderr.contains("already in the state"),
        "{}",
        run.stderr
    );

    // A target that is no address is refused before the state is touched.
    let state_file = dir.path().join(".strata/states.state.json");
    let before = std::fs::read(&state_file).unwrap();
    for bad in ["", "../../We ird$", "Jobs", "net..vpc", "jobs."] {
        let run = run_strata(dir.path(), &["state", "mv", "jobs", bad], &env);
        assert_code(&run, 1);
        assert!(
            run.stderr
                .contains(&format!("`{bad}` is not a resource address")),
            "{bad}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("net.vpc"), "{}", run.stderr);
    }
    assert_eq!(
        std::fs::read(&state_file).unwrap(),
        before,
        "the state is untouched"
    );
}

#[test]
fn state_rm_pull_and_push_guard_the_history() {
    let emu = Emulator::start();
    let env = emu.aws_env();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );

    let pulled = run_strata(dir.path(), &["state", "pull"], &env);
    assert_code(&pulled, 0);
    let saved: serde_json::Value = serde_json::from_str(&pulled.stdout).unwrap();
    let serial = saved["serial"].as_u64().unwrap();
    std::fs::write(dir.path().join("saved.json"), &pulled.stdout).unwrap();

    // Forgetting a resource: the next plan creates it again.
    let run = run_strata(dir.path(), &["state", "rm", "jobs_policy"], &env);
    assert_code(&run, 0);
    let run = run_strata(dir.path(), &["plan"], &env);
    assert!(
        run.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );

    // The saved copy is older now: refused, unless forced.
    let run = run_strata(dir.path(), &["state", "push", "saved.json"], &env);
    assert_code(&run, 1);
    assert!(
        run.stderr.contains("older than the current state"),
        "{}",
        run.stderr
    );
    let run = run_strata(
        dir.path(),
        &["state", "push", "--force", "saved.json"],
        &env,
    );
    assert_code(&run, 0);
    let run = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&run, 0);

    // Another history: refused, unless forced.
    let mut other = saved.clone();
    other["lineage"] = serde_json::json!("00000000-0000-4000-8000-000000000000");
    other["serial"] = serde_json::json!(serial + 10);
    std::fs::write(
        dir.path().join("other.json"),
        serde_json::to_string(&other).unwrap(),
    )
    .unwrap();
    let run = run_strata(dir.path(), &["state", "push", "other.json"], &env);
    assert_code(&run, 1);
    assert!(run.stderr.contains("another lineage"), "{}", run.stderr);
    let after: serde_json::Value =
        serde_json::from_str(&run_strata(dir.path(), &["state", "pull"], &env).stdout).unwrap();
    assert_eq!(after["lineage"], saved["lineage"], "the lineage is kept");
}
