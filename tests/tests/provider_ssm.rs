//! `aws.ssm.parameter` through the built binary against the emulator: a `SecureString`
//! encrypted with a stack's KMS key and a plain `String` apply and re-plan clean; a new value
//! overwrites in place as a new version; a new name replaces the parameter; import reads it
//! back to a clean plan; destroy leaves nothing. The value is never printed: not by `plan`,
//! `plan --json`, `apply`, `apply --json`, `state show` nor an error AWS returns.

use providers::aws::AwsContext;
use strata_tests::{assert_code, Project};

use crate::provider_kms::{assert_hidden, recorded_id};

const SECRET: &str = "Pa55-9f3c-TOPSECRET";
const NEW_SECRET: &str = "N3w-7d21-TOPSECRET";

fn stack(name: &str, value: &str, description: &str) -> String {
    format!(
        r#"stack: conf
region: us-east-1
resources:
  key:
    type: aws.kms.key
    properties: {{ deletion_window_in_days: 7 }}
  password:
    type: aws.ssm.parameter
    properties:
      name: {name}
      type: SecureString
      value: {value}
      key_id: ${{key.key_id}}
      description: {description}
      tags: {{ team: payments }}
  endpoint:
    type: aws.ssm.parameter
    properties:
      type: String
      value: db.internal:5432
"#
    )
}

/// The parameter `name` decrypted: its value, version and type; `None` when it is gone.
async fn parameter(ctx: &AwsContext, name: &str) -> Option<(String, i64, String)> {
    let out = aws_sdk_ssm::Client::new(&ctx.sdk)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .ok()?;
    let param = out.parameter()?;
    Some((
        param.value()?.to_string(),
        param.version(),
        param.r#type()?.as_str().to_string(),
    ))
}

async fn key_of(ctx: &AwsContext, name: &str) -> Option<String> {
    let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .values(name)
        .build()
        .unwrap();
    let out = aws_sdk_ssm::Client::new(&ctx.sdk)
        .describe_parameters()
        .parameter_filters(filter)
        .send()
        .await
        .unwrap();
    out.parameters().first()?.key_id().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secure_parameter_overwrites_in_place_replaces_on_a_new_name_imports_and_is_never_printed(
) {
    let p = Project::new(&stack("/conf/db/password", SECRET, "Database password"));
    let ctx = p.ctx();

    for args in [&["plan"][..], &["plan", "--json"]] {
        let run = p.strata(args);
        assert_code(&run, 0);
        assert_hidden(&run, SECRET);
    }
    let run = p.strata(&["apply", "--auto-approve", "--json"]);
    assert_code(&run, 0);
    assert_hidden(&run, SECRET);
    let key = recorded_id(&p, "conf", "key");
    assert_eq!(
        parameter(&ctx, "/conf/db/password").await,
        Some((SECRET.to_string(), 1, "SecureString".to_string()))
    );
    assert_eq!(key_of(&ctx, "/conf/db/password").await, Some(key.clone()));
    assert_eq!(recorded_id(&p, "conf", "password"), "/conf/db/password");
    // A parameter the stack does not name gets the stack's deterministic name.
    assert_eq!(
        parameter(&ctx, "conf-endpoint").await,
        Some(("db.internal:5432".to_string(), 1, "String".to_string()))
    );

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    let run = p.strata(&["state", "show", "password"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("value: (sensitive)"), "{}", run.stdout);
    assert_hidden(&run, SECRET);

    // A new value and description overwrite the parameter: version 2, same name.
    p.write_stack(&stack("/conf/db/password", NEW_SECRET, "Rotated password"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout.contains("~ value: (sensitive) -> (sensitive)"),
        "{}",
        run.stdout
    );
    assert_hidden(&run, SECRET);
    assert_hidden(&run, NEW_SECRET);
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_hidden(&run, SECRET);
    assert_hidden(&run, NEW_SECRET);
    assert_eq!(
        parameter(&ctx, "/conf/db/password").await,
        Some((NEW_SECRET.to_string(), 2, "SecureString".to_string()))
    );
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // A new name is another parameter; the old one is deleted.
    p.write_stack(&stack(
        "/conf/db/main-password",
        NEW_SECRET,
        "Rotated password",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ password (aws.ssm.parameter) must be replaced"),
        "{}",
        run.stdout
    );
    assert_hidden(&run, NEW_SECRET);
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(parameter(&ctx, "/conf/db/password").await, None);
    assert_eq!(
        parameter(&ctx, "/conf/db/main-password").await,
        Some((NEW_SECRET.to_string(), 1, "SecureString".to_string()))
    );

    // Forgotten, then imported by name: the next plan has nothing to do.
    assert_code(&p.strata(&["state", "rm", "password"]), 0);
    let run = p.strata(&["import", "password", "/conf/db/main-password"]);
    assert_code(&run, 0);
    assert_hidden(&run, NEW_SECRET);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert_hidden(&run, NEW_SECRET);
    assert_eq!(parameter(&ctx, "/conf/db/main-password").await, None);
    assert_eq!(parameter(&ctx, "conf-endpoint").await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parameter_aws_refuses_is_reported_without_its_value() {
    let p = Project::new(&format!(
        r#"stack: conf
region: us-east-1
resources:
  pin:
    type: aws.ssm.parameter
    properties:
      name: /conf/taken
      type: SecureString
      value: {SECRET}
"#
    ));
    aws_sdk_ssm::Client::new(&p.ctx().sdk)
        .put_parameter()
        .name("/conf/taken")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value("someone else's")
        .send()
        .await
        .unwrap();
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 1);
    assert!(
        run.stderr.contains("ParameterAlreadyExists"),
        "{}",
        run.stderr
    );
    assert_hidden(&run, SECRET);
    let run = p.strata(&["apply", "--auto-approve", "--json"]);
    assert_code(&run, 1);
    assert!(
        run.stdout.contains("ParameterAlreadyExists"),
        "{}",
        run.stdout
    );
    assert_hidden(&run, SECRET);
}

#[test]
fn a_type_ssm_does_not_have_and_a_reserved_name_are_refused_at_load() {
    let p = Project::new(
        r#"stack: conf
resources:
  password:
    type: aws.ssm.parameter
    properties: { name: aws-password, type: Secret, value: x }
"#,
    );
    let run = p.strata(&["validate"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:5:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("starts with `aws` or `ssm`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("SecureString"), "{}", run.stderr);
}
