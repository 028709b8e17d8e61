//! A param declared `sensitive: true`, as a CI job passes a secret with `--var`: it reaches AWS,
//! but no plan (text, JSON, Markdown, saved file), progress line, `state show` or drift report
//! shows it.

use strata_tests::kit::{topic_arns, topic_attributes};
use strata_tests::{assert_code, Project, Run};

const STACK: &str = r#"stack: vault
params:
  token: { type: string, sensitive: true }
resources:
  alerts:
    type: aws.sns.topic
    properties:
      display_name: ${params.token}
outputs:
  topic: ${alerts.arn}
"#;

const SECRET: &str = "S3CR3T-4a7f";

fn assert_hidden(run: &Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the secret is shown:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sensitive_param_reaches_aws_and_is_never_shown() {
    let p = Project::new(STACK);
    let var = format!("token={SECRET}");
    let strata = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--var", &var]);
        p.strata(&all)
    };

    let run = strata(&["plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("+ display_name: (sensitive)"),
        "{}",
        run.stdout
    );
    assert_hidden(&run, SECRET);
    for format in ["json", "markdown"] {
        let run = strata(&["plan", "--format", format]);
        assert_code(&run, 0);
        assert_hidden(&run, SECRET);
    }
    let run = strata(&["plan", "--out", "reviewed.plan"]);
    assert_code(&run, 0);
    let saved = std::fs::read_to_string(p.path().join("reviewed.plan")).unwrap();
    assert!(!saved.contains(SECRET), "the secret is in the plan file");

    let run = strata(&["apply", "reviewed.plan"]);
    assert_code(&run, 0);
    assert_hidden(&run, SECRET);
    let sns = aws_sdk_sns::Client::new(&p.ctx().sdk);
    let topic = topic_arns(&p.ctx()).await.remove(0);
    let attributes = topic_attributes(&sns, &topic).await;
    assert_eq!(attributes["DisplayName"], SECRET, "AWS has the real value");

    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    let run = strata(&["state", "show", "alerts"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("display_name: (sensitive)"),
        "{}",
        run.stdout
    );
    assert_hidden(&run, SECRET);

    // A new secret is a change, shown without either value.
    let run = p.strata(&["plan", "--var", "token=N3W-S3CR3T", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("~ display_name: (sensitive) -> (sensitive)"),
        "{}",
        run.stdout
    );
    assert_hidden(&run, SECRET);
    assert_hidden(&run, "N3W-S3CR3T");

    // Changed out of band: drift reports it without printing either value.
    sns.set_topic_attributes()
        .topic_arn(&topic)
        .attribute_name("DisplayName")
        .attribute_value("0UT-0F-BAND")
        .send()
        .await
        .unwrap();
    let run = strata(&["drift", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(run.stdout.contains("display_name"), "{}", run.stdout);
    assert_hidden(&run, SECRET);
    assert_hidden(&run, "0UT-0F-BAND");

    assert_code(&strata(&["destroy", "--auto-approve"]), 0);
}

/// A destroy plan lists what is deleted with its values as they are now: what the stack marks
/// sensitive stays hidden there too, in every format and in the saved file.
#[tokio::test(flavor = "multi_thread")]
async fn a_destroy_plan_never_shows_a_sensitive_param_in_any_format() {
    let p = Project::new(STACK);
    let var = format!("token={SECRET}");
    let strata = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--var", &var]);
        p.strata(&all)
    };
    assert_code(&strata(&["apply", "--auto-approve"]), 0);

    for format in ["json", "markdown", "text"] {
        let run = strata(&["plan", "--destroy", "--format", format]);
        assert_code(&run, 0);
        assert!(run.stdout.contains("alerts"), "{}", run.stdout);
        assert_hidden(&run, SECRET);
    }
    let run = strata(&["plan", "--destroy", "--out", "destroy.plan"]);
    assert_code(&run, 0);
    let saved = std::fs::read_to_string(p.path().join("destroy.plan")).unwrap();
    assert!(saved.contains("alerts"), "{saved}");
    assert!(
        !saved.contains(SECRET),
        "the secret is in the destroy plan file"
    );

    let run = strata(&["destroy", "--json", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("\"destroyed\":1"), "{}", run.stdout);
    assert_hidden(&run, SECRET);
}
