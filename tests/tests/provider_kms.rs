//! `aws.kms.key` and `aws.kms.alias` through the built binary against the emulator: keys and an
//! alias apply and re-plan clean; a key's description, rotation and enabled switch change in
//! place and an alias moves to another key in place; `multi_region` replaces a key (the old
//! one is scheduled for deletion with its window) and a new alias name replaces the alias;
//! both import back to a clean plan; destroy schedules every key's deletion and removes the
//! alias; an alias name without `alias/` and a window outside 7..30 are refused before any
//! cloud call.

use providers::aws::AwsContext;
use strata_tests::{assert_code, Project, Run};

/// Two keys and an alias. `first` takes `description`, `rotation`, `enabled` and
/// `multi_region`; the alias `alias` names the key `target`.
fn stack(
    description: &str,
    rotation: bool,
    enabled: bool,
    multi: bool,
    alias: &str,
    target: &str,
) -> String {
    format!(
        r#"stack: vault
region: us-east-1
resources:
  first:
    type: aws.kms.key
    properties:
      description: {description}
      enable_key_rotation: {rotation}
      is_enabled: {enabled}
      multi_region: {multi}
      deletion_window_in_days: 7
      tags: {{ team: payments }}
  second:
    type: aws.kms.key
    properties:
      description: Second key
  alias:
    type: aws.kms.alias
    properties:
      name: {alias}
      target_key_id: ${{{target}.key_id}}
"#
    )
}

/// The id recorded for `address` in the state of stack `stack`.
pub(crate) fn recorded_id(p: &Project, stack: &str, address: &str) -> String {
    let text =
        std::fs::read_to_string(p.path().join(format!(".strata/{stack}.state.json"))).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string()
}

/// Fails when `secret` is anywhere in what `run` printed.
pub(crate) fn assert_hidden(run: &Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the secret is shown:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

/// A key's metadata as KMS describes it.
async fn key(ctx: &AwsContext, id: &str) -> aws_sdk_kms::types::KeyMetadata {
    aws_sdk_kms::Client::new(&ctx.sdk)
        .describe_key()
        .key_id(id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
}

async fn rotation(ctx: &AwsContext, id: &str) -> bool {
    aws_sdk_kms::Client::new(&ctx.sdk)
        .get_key_rotation_status()
        .key_id(id)
        .send()
        .await
        .unwrap()
        .key_rotation_enabled()
}

/// The key the alias `name` names, or `None` when there is no such alias.
async fn alias_target(ctx: &AwsContext, name: &str) -> Option<String> {
    let out = aws_sdk_kms::Client::new(&ctx.sdk)
        .list_aliases()
        .send()
        .await
        .unwrap();
    out.aliases()
        .iter()
        .find(|a| a.alias_name() == Some(name))
        .and_then(|a| a.target_key_id().map(str::to_string))
}

/// Asserts the key is scheduled for deletion about `days` days from now.
async fn assert_scheduled(ctx: &AwsContext, id: &str, days: i64) {
    let meta = key(ctx, id).await;
    assert_eq!(
        meta.key_state(),
        Some(&aws_sdk_kms::types::KeyState::PendingDeletion),
        "{id}"
    );
    let when = meta.deletion_date().expect("a deletion date").secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let away = (when - now) as f64 / 86_400.0;
    assert!((away - days as f64).abs() < 0.1, "{away} days");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_and_aliases_change_in_place_replace_import_and_destroy_by_scheduling_deletion() {
    let p = Project::new(&stack(
        "Orders key",
        true,
        true,
        false,
        "alias/orders",
        "first",
    ));
    let ctx = p.ctx();

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 3 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    let first = recorded_id(&p, "vault", "first");
    let second = recorded_id(&p, "vault", "second");
    let meta = key(&ctx, &first).await;
    assert_eq!(meta.description(), Some("Orders key"));
    assert!(meta.enabled());
    assert!(rotation(&ctx, &first).await);
    assert!(!rotation(&ctx, &second).await);
    let tags = aws_sdk_kms::Client::new(&ctx.sdk)
        .list_resource_tags()
        .key_id(&first)
        .send()
        .await
        .unwrap();
    let tag = |k: &str| {
        tags.tags()
            .iter()
            .find(|t| t.tag_key() == k)
            .map(|t| t.tag_value().to_string())
    };
    assert_eq!(tag("team").as_deref(), Some("payments"));
    assert_eq!(tag("strata:address").as_deref(), Some("first"));
    assert_eq!(
        alias_target(&ctx, "alias/orders").await,
        Some(first.clone())
    );
    assert_eq!(recorded_id(&p, "vault", "alias"), "alias/orders");

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // Description, rotation and the enabled switch change in place; the alias moves.
    p.write_stack(&stack(
        "Retired key",
        false,
        false,
        false,
        "alias/orders",
        "second",
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
    assert_eq!(recorded_id(&p, "vault", "first"), first);
    let meta = key(&ctx, &first).await;
    assert_eq!(meta.description(), Some("Retired key"));
    assert!(!meta.enabled());
    assert!(!rotation(&ctx, &first).await);
    assert_eq!(
        alias_target(&ctx, "alias/orders").await,
        Some(second.clone())
    );
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // A multi-Region key is another key: the old one is scheduled for deletion after its
    // 7-day window. A new alias name is another alias: the old one is gone.
    p.write_stack(&stack(
        "Retired key",
        false,
        false,
        true,
        "alias/orders-v2",
        "second",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ first (aws.kms.key) must be replaced"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-/+ alias (aws.kms.alias) must be replaced"),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let replaced = recorded_id(&p, "vault", "first");
    assert_ne!(replaced, first);
    assert_eq!(key(&ctx, &replaced).await.multi_region(), Some(true));
    assert_scheduled(&ctx, &first, 7).await;
    assert_eq!(alias_target(&ctx, "alias/orders").await, None);
    assert_eq!(
        alias_target(&ctx, "alias/orders-v2").await,
        Some(second.clone())
    );
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // Forgotten, then imported by key id and alias name: the next plan has nothing to do.
    for (address, id) in [("first", replaced.as_str()), ("alias", "alias/orders-v2")] {
        assert_code(&p.strata(&["state", "rm", address]), 0);
        assert_code(&p.strata(&["import", address, id]), 0);
    }
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // A key scheduled for deletion behind strata's back is gone: the plan makes it again.
    aws_sdk_kms::Client::new(&ctx.sdk)
        .schedule_key_deletion()
        .key_id(&replaced)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout.contains("+ first (aws.kms.key) will be created"),
        "{}",
        run.stdout
    );

    // Destroy schedules the deletion of what is left, `second` after AWS's default 30 days.
    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert_scheduled(&ctx, &second, 30).await;
    assert_eq!(alias_target(&ctx, "alias/orders-v2").await, None);
}

#[test]
fn an_alias_name_without_alias_and_a_window_outside_seven_to_thirty_are_refused_at_load() {
    let p = Project::new(
        r#"stack: vault
resources:
  key:
    type: aws.kms.key
    properties: { deletion_window_in_days: 3 }
  alias:
    type: aws.kms.alias
    properties: { name: orders-key, target_key_id: "${key.key_id}" }
"#,
    );
    let run = p.strata(&["validate"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:5:"), "{}", run.stderr);
    assert!(run.stderr.contains("is out of range"), "{}", run.stderr);
    assert!(run.stderr.contains("AWS takes 7 to 30"), "{}", run.stderr);
    assert!(run.stderr.contains("stack.yaml:8:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("does not start with `alias/`"),
        "{}",
        run.stderr
    );
}
