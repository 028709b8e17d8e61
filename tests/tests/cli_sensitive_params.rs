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

/// A sensitive param refused for its type or for `allowed`: the error names the param and the
/// place, never the value, whether it came from `--var`, a var file or the stack's `default:`.
#[test]
fn a_refused_sensitive_value_is_never_echoed_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let stack = "stack: sens\nparams:\n  token:\n    type: string\n    sensitive: true\n    allowed: [alpha, beta]\n  port:\n    type: number\n    sensitive: true\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"q-${params.token}\" }\n";
    std::fs::write(dir.path().join("stack.yaml"), stack).unwrap();
    std::fs::write(
        dir.path().join("vars.yaml"),
        "token: Tok3nFromFile\nport: P0rtFromFile\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("default.yaml"),
        "stack: sens\nparams:\n  token:\n    type: number\n    sensitive: true\n    default: Tok3nDefault\nresources: {}\n",
    )
    .unwrap();
    let no_cloud: Vec<(String, String)> = Vec::new();

    let run = strata_tests::run_strata(
        dir.path(),
        &[
            "validate",
            "--var",
            "token=Tok3nOnCli",
            "--var",
            "port=P0rtOnCli",
        ],
        &no_cloud,
    );
    assert_code(&run, 1);
    assert_hidden(&run, "Tok3nOnCli");
    assert_hidden(&run, "P0rtOnCli");
    assert!(run.stderr.contains("param `token`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("allowed values: `alpha` or `beta`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("param `port` is a number"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("has no value"), "{}", run.stderr);

    let run = strata_tests::run_strata(dir.path(), &["plan", "--var-file", "vars.yaml"], &no_cloud);
    assert_code(&run, 1);
    assert_hidden(&run, "Tok3nFromFile");
    assert_hidden(&run, "P0rtFromFile");
    assert!(run.stderr.contains("vars.yaml:1:8"), "{}", run.stderr);
    assert!(run.stderr.contains("vars.yaml:2:7"), "{}", run.stderr);

    let run = strata_tests::run_strata(dir.path(), &["validate", "-f", "default.yaml"], &no_cloud);
    assert_code(&run, 1);
    assert_hidden(&run, "Tok3nDefault");
    assert!(run.stderr.contains("default.yaml:6:14"), "{}", run.stderr);
}

/// Once applied from a sensitive param, a value stays hidden after the stack stops marking
/// it: the state records where its secrets were.
#[tokio::test(flavor = "multi_thread")]
async fn a_value_once_sensitive_stays_hidden_when_the_stack_stops_marking_it() {
    let p = Project::new(STACK);
    let var = format!("token={SECRET}");
    assert_code(&p.strata(&["apply", "--auto-approve", "--var", &var]), 0);
    let state = std::fs::read_to_string(p.path().join(".strata/vault.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(
        state["resources"]["alerts"]["sensitive"],
        serde_json::json!(["/display_name"])
    );

    // The stack now sets a plain value where the secret was.
    p.write_stack(
        "stack: vault\nresources:\n  alerts:\n    type: aws.sns.topic\n    properties:\n      display_name: public\noutputs:\n  topic: ${alerts.arn}\n",
    );
    let run = p.strata(&["plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("~ display_name: (sensitive) -> \"public\""),
        "{}",
        run.stdout
    );
    assert_hidden(&run, SECRET);
    for format in ["json", "markdown"] {
        let run = p.strata(&["plan", "--format", format]);
        assert_code(&run, 0);
        assert_hidden(&run, SECRET);
    }
    let run = p.strata(&["state", "show", "alerts"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("display_name: (sensitive)"),
        "{}",
        run.stdout
    );
    assert_hidden(&run, SECRET);
    let run = p.strata(&["drift"]);
    assert_hidden(&run, SECRET);

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_hidden(&run, SECRET);
    // What is recorded now is not a secret, and is shown.
    let run = p.strata(&["state", "show", "alerts"]);
    assert!(
        run.stdout.contains("display_name: \"public\""),
        "{}",
        run.stdout
    );
}
