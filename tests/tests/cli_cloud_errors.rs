//! What a person sees when AWS cannot be reached or refuses: one verdict line per run, and the
//! error naming what was being done to which resource.

use strata_tests::{assert_code, run_strata};

#[test]
fn a_failed_apply_has_one_verdict_line_and_names_the_resource() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        "stack: offline\nresources:\n  jobs:\n    type: aws.sqs.queue\n",
    )
    .unwrap();
    // Nobody listens on port 9: every call is refused.
    let env: Vec<(String, String)> = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_MAX_ATTEMPTS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &env);
    assert_code(&run, 1);
    let verdicts: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("complete") || l.contains("failed"))
        .filter(|l| !l.starts_with("jobs:"))
        .collect();
    assert_eq!(
        verdicts,
        ["Apply failed: 0 added, 0 changed, 0 destroyed."],
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("error: creating aws.sqs.queue `jobs` (offline-jobs): "),
        "{}",
        run.stderr
    );
}
