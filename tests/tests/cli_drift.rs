//! `strata drift`: changes made behind strata's back, found and reported, nothing written.

use std::path::Path;

use aws_sdk_sqs::types::QueueAttributeName;
use strata_tests::{assert_code, kit, run_strata, Emulator};

const STACK: &str = r#"stack: drifty
region: us-east-1
resources:
  jobs:
    type: aws.sqs.queue
    properties: { visibility_timeout_seconds: 45 }
  calm:
    type: aws.sqs.queue
  events:
    type: aws.sns.topic
    properties: { display_name: Drift }
"#;

/// Every file in `.strata/` with its bytes, to prove nothing was written.
fn state_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join(".strata"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queue_changed_and_a_topic_deleted_out_of_band_are_reported_as_drift() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let env = emu.aws_env();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );

    let run = run_strata(dir.path(), &["drift", "--detailed-exitcode"], &env);
    assert_code(&run, 0);
    assert_eq!(
        run.stdout,
        "No drift: 3 resources match what strata applied.\n"
    );

    // Behind strata's back: a new visibility timeout, and the topic deleted.
    let ctx = kit::context(&emu);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
    let url = sqs
        .get_queue_url()
        .queue_name("drifty-jobs")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "120")
        .send()
        .await
        .unwrap();
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);
    sns.delete_topic()
        .topic_arn("arn:aws:sns:us-east-1:123456789012:drifty-events")
        .send()
        .await
        .unwrap();

    let before = state_files(dir.path());
    let run = run_strata(dir.path(), &["drift", "--detailed-exitcode"], &env);
    assert_code(&run, 2);
    assert_eq!(state_files(dir.path()), before, "drift writes nothing");
    insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "[ENDPOINT]")]}, {
        insta::assert_snapshot!(run.stdout);
    });

    // Without the flag, drift is still a success.
    let run = run_strata(dir.path(), &["drift"], &env);
    assert_code(&run, 0);
}
