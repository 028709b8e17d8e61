//! `aws.secretsmanager.secret` and `aws.secretsmanager.secret_version` through the built binary
//! against the emulator: a secret with a policy and a version apply and re-plan clean; the
//! description and the version's labels change in place; a new secret string is a new version
//! (made current), a new name a new secret; both import back to a clean plan; destroy deletes
//! a secret with a 0-day window at once and schedules one with a 7-day window. The secret
//! string is never printed, and a recovery window of 3 days is refused before any cloud call.

use providers::aws::AwsContext;
use strata_tests::{assert_code, Project};

use crate::provider_kms::{assert_hidden, recorded_id};

const SECRET: &str = "s3cr3t-4411-TOPSECRET";
const NEW_SECRET: &str = "r0tat3d-8812-TOPSECRET";

fn stack(name: &str, description: &str, secret: &str, stages: &str) -> String {
    format!(
        r#"stack: vault
region: us-east-1
resources:
  db:
    type: aws.secretsmanager.secret
    properties:
      name: {name}
      description: {description}
      recovery_window_in_days: 0
      policy:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: {{ AWS: "arn:aws:iam::123456789012:root" }}
          Action: secretsmanager:GetSecretValue
          Resource: "*"
      tags: {{ team: payments }}
  db_value:
    type: aws.secretsmanager.secret_version
    properties:
      secret_id: ${{db.arn}}
      secret_string: {secret}
      version_stages: {stages}
  kept:
    type: aws.secretsmanager.secret
    properties:
      recovery_window_in_days: 7
"#
    )
}

/// The secret's description and when it is to be deleted; `None` when it does not exist.
async fn secret(ctx: &AwsContext, id: &str) -> Option<(Option<String>, bool)> {
    let out = aws_sdk_secretsmanager::Client::new(&ctx.sdk)
        .describe_secret()
        .secret_id(id)
        .send()
        .await
        .ok()?;
    Some((
        out.description().map(str::to_string),
        out.deleted_date().is_some(),
    ))
}

/// The current value of the secret and its version id and labels.
async fn current(ctx: &AwsContext, id: &str) -> (String, String, Vec<String>) {
    let out = aws_sdk_secretsmanager::Client::new(&ctx.sdk)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .unwrap();
    let mut stages = out.version_stages().to_vec();
    stages.sort();
    (
        out.secret_string().unwrap().to_string(),
        out.version_id().unwrap().to_string(),
        stages,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_and_versions_change_in_place_replace_import_destroy_and_never_print_the_value() {
    let p = Project::new(&stack("vault/db", "Database login", SECRET, "[AWSCURRENT]"));
    let ctx = p.ctx();

    for args in [&["plan"][..], &["plan", "--json"]] {
        let run = p.strata(args);
        assert_code(&run, 0);
        assert_hidden(&run, SECRET);
    }
    let run = p.strata(&["apply", "--auto-approve", "--json"]);
    assert_code(&run, 0);
    assert_hidden(&run, SECRET);
    let arn = recorded_id(&p, "vault", "db");
    assert!(arn.contains(":secret:vault/db-"), "{arn}");
    assert_eq!(
        secret(&ctx, &arn).await,
        Some((Some("Database login".to_string()), false))
    );
    let policy = aws_sdk_secretsmanager::Client::new(&ctx.sdk)
        .get_resource_policy()
        .secret_id(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        policy
            .resource_policy()
            .unwrap()
            .contains("secretsmanager:GetSecretValue"),
        "{policy:?}"
    );
    let (value, version, stages) = current(&ctx, &arn).await;
    assert_eq!(value, SECRET);
    assert_eq!(stages, ["AWSCURRENT"]);
    assert_eq!(
        recorded_id(&p, "vault", "db_value"),
        format!("{arn}|{version}")
    );

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    let run = p.strata(&["state", "show", "db_value"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("secret_string: (sensitive)"),
        "{}",
        run.stdout
    );
    assert_hidden(&run, SECRET);

    // The description and the version's labels change in place.
    p.write_stack(&stack(
        "vault/db",
        "Main database login",
        SECRET,
        "[AWSCURRENT, blue]",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(recorded_id(&p, "vault", "db"), arn);
    assert_eq!(
        secret(&ctx, &arn).await,
        Some((Some("Main database login".to_string()), false))
    );
    let (_, same, stages) = current(&ctx, &arn).await;
    assert_eq!(same, version);
    assert_eq!(stages, ["AWSCURRENT", "blue"]);
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // A new secret string is a new version, made current.
    p.write_stack(&stack(
        "vault/db",
        "Main database login",
        NEW_SECRET,
        "[AWSCURRENT]",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ db_value (aws.secretsmanager.secret_version) must be replaced"),
        "{}",
        run.stdout
    );
    assert_hidden(&run, SECRET);
    assert_hidden(&run, NEW_SECRET);
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_hidden(&run, SECRET);
    assert_hidden(&run, NEW_SECRET);
    let (value, new_version, _) = current(&ctx, &arn).await;
    assert_eq!(value, NEW_SECRET);
    assert_ne!(new_version, version);
    assert_eq!(
        recorded_id(&p, "vault", "db_value"),
        format!("{arn}|{new_version}")
    );
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // A new name is another secret; the old one (window 0) is deleted at once.
    p.write_stack(&stack(
        "vault/main-db",
        "Main database login",
        NEW_SECRET,
        "[AWSCURRENT]",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ db (aws.secretsmanager.secret) must be replaced"),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(secret(&ctx, &arn).await, None);
    let new_arn = recorded_id(&p, "vault", "db");
    assert!(new_arn.contains(":secret:vault/main-db-"), "{new_arn}");
    assert_eq!(current(&ctx, &new_arn).await.0, NEW_SECRET);

    // Forgotten, then imported: the next plan has nothing to do.
    let version_id = recorded_id(&p, "vault", "db_value");
    for (address, id) in [("db", new_arn.as_str()), ("db_value", version_id.as_str())] {
        assert_code(&p.strata(&["state", "rm", address]), 0);
        let run = p.strata(&["import", address, id]);
        assert_code(&run, 0);
        assert_hidden(&run, NEW_SECRET);
    }
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // Destroy: `db` (window 0) is deleted at once, `kept` (7 days) is scheduled.
    let kept = recorded_id(&p, "vault", "kept");
    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert_hidden(&run, NEW_SECRET);
    assert_eq!(secret(&ctx, &new_arn).await, None);
    assert_eq!(secret(&ctx, &kept).await, Some((None, true)));
}

#[test]
fn a_recovery_window_of_three_days_is_refused_at_load() {
    let p = Project::new(
        r#"stack: vault
resources:
  db:
    type: aws.secretsmanager.secret
    properties: { recovery_window_in_days: 3 }
"#,
    );
    let run = p.strata(&["validate"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:5:"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("0 (delete at once, without recovery) or 7 to 30 days"),
        "{}",
        run.stderr
    );
}
