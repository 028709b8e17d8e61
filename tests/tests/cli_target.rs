//! `--target ADDR` through the CLI: only that resource and what it depends on (for destroy:
//! what depends on it).

use strata_tests::{assert_code, run_strata, Emulator};

const STACK: &str = r#"stack: targeted
region: us-east-1
resources:
  dead_letters:
    type: aws.sqs.queue
  work:
    type: aws.sqs.queue
    properties:
      redrive_policy: { dead_letter_target_arn: "${dead_letters.arn}", max_receive_count: 5 }
  events:
    type: aws.sns.topic
"#;

#[test]
fn a_target_plans_and_applies_only_it_and_what_it_depends_on() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let env = emu.aws_env();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();

    let run = run_strata(dir.path(), &["plan", "--target", "work"], &env);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+ dead_letters (aws.sqs.queue)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("events"), "{}", run.stdout);

    let run = run_strata(
        dir.path(),
        &["apply", "--auto-approve", "--target", "work"],
        &env,
    );
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 2 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    let run = run_strata(dir.path(), &["state", "list"], &env);
    assert_eq!(run.stdout, "dead_letters\nwork\n");

    // The rest is still to do.
    let run = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );

    // Destroying a target takes what depends on it along.
    let run = run_strata(
        dir.path(),
        &["destroy", "--auto-approve", "--target", "dead_letters"],
        &env,
    );
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Destroy complete: 0 added, 0 changed, 2 destroyed."),
        "{}",
        run.stdout
    );

    let run = run_strata(dir.path(), &["plan", "--target", "nope"], &env);
    assert_code(&run, 1);
    assert!(run.stderr.contains("--target `nope`"), "{}", run.stderr);
}
