//! The secrets example as a user drives it: a KMS key and its alias, a SecureString parameter
//! encrypted with the key, and a Secrets Manager secret whose value holds a password passed as
//! a sensitive param. Applied through the built binary against the emulator, checked through
//! the AWS API, re-planned clean, and destroyed leaving nothing (the key scheduled for
//! deletion, the secret deleted at once); the password is printed by no command.

use providers::aws::AwsContext;
use strata_tests::{assert_code, copy_dir, run_strata, workspace_root, Emulator, Run};

const PASSWORD: &str = "hunter2-6c0e-TOPSECRET";

fn assert_hidden(run: &Run) {
    assert!(
        !run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD),
        "the password is shown:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

/// The id recorded for `address`.
fn recorded_id(dir: &std::path::Path, address: &str) -> String {
    let text = std::fs::read_to_string(dir.join(".strata/secrets.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string()
}

async fn parameter(ctx: &AwsContext, name: &str) -> Option<String> {
    let out = aws_sdk_ssm::Client::new(&ctx.sdk)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .ok()?;
    out.parameter()?.value().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_secrets_example_applies_replans_clean_never_prints_the_password_and_destroys_cleanly()
{
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace_root().join("examples/secrets"), dir.path());
    let env = emu.aws_env();
    let var = format!("db_password={PASSWORD}");
    let strata = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--var", var.as_str()]);
        let run = run_strata(dir.path(), &all, &env);
        assert_hidden(&run);
        run
    };
    let ctx = strata_tests::kit::context(&emu);

    assert_code(&strata(&["validate"]), 0);
    assert_code(&strata(&["lint"]), 0);
    assert_code(&strata(&["plan", "--json"]), 0);
    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 6 added"),
        "{}",
        run.stdout
    );

    // The parameter holds the password, encrypted with the stack's key.
    let key = recorded_id(dir.path(), "key");
    let kms = aws_sdk_kms::Client::new(&ctx.sdk);
    let meta = kms.describe_key().key_id(&key).send().await.unwrap();
    let key_arn = meta.key_metadata().unwrap().arn().unwrap().to_string();
    assert_eq!(
        parameter(&ctx, "/secrets/app/db-password").await.as_deref(),
        Some(PASSWORD)
    );
    let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .values("/secrets/app/db-password")
        .build()
        .unwrap();
    let described = aws_sdk_ssm::Client::new(&ctx.sdk)
        .describe_parameters()
        .parameter_filters(filter)
        .send()
        .await
        .unwrap();
    let described = &described.parameters()[0];
    assert_eq!(described.r#type().map(|t| t.as_str()), Some("SecureString"));
    assert_eq!(described.key_id(), Some(key_arn.as_str()));
    let aliases = kms.list_aliases().send().await.unwrap();
    assert!(
        aliases
            .aliases()
            .iter()
            .any(|a| a.alias_name() == Some("alias/secrets-app")
                && a.target_key_id() == Some(key.as_str())),
        "{aliases:?}"
    );

    // The secret, under the same key, holds the login with the password.
    let secret = recorded_id(dir.path(), "db_login");
    let sm = aws_sdk_secretsmanager::Client::new(&ctx.sdk);
    let described = sm
        .describe_secret()
        .secret_id(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(described.kms_key_id(), Some(key_arn.as_str()));
    let value = sm
        .get_secret_value()
        .secret_id(&secret)
        .send()
        .await
        .unwrap();
    let login: serde_json::Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
    assert_eq!(login["username"], "app");
    assert_eq!(login["password"], PASSWORD);

    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    for address in ["db_password", "db_login_value"] {
        let run = strata(&["state", "show", address]);
        assert_code(&run, 0);
        assert!(run.stdout.contains("(sensitive)"), "{}", run.stdout);
    }
    assert_code(&strata(&["output"]), 0);

    let run = strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    let meta = kms.describe_key().key_id(&key).send().await.unwrap();
    assert_eq!(
        meta.key_metadata().unwrap().key_state(),
        Some(&aws_sdk_kms::types::KeyState::PendingDeletion)
    );
    let aliases = kms.list_aliases().send().await.unwrap();
    assert!(
        !aliases
            .aliases()
            .iter()
            .any(|a| a.alias_name() == Some("alias/secrets-app")),
        "{aliases:?}"
    );
    assert_eq!(parameter(&ctx, "/secrets/app/db-password").await, None);
    assert_eq!(parameter(&ctx, "/secrets/app/db-host").await, None);
    assert!(sm
        .describe_secret()
        .secret_id(&secret)
        .send()
        .await
        .is_err());
}
