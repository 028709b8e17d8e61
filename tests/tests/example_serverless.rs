//! The serverless example as a user drives it: HTTP API -> Lambda -> SQS with a dead-letter
//! queue, SNS fan-out, two EventBridge rules and an IAM role, applied through the built binary
//! against the emulator; then the `env` param changes and everything that refers to the
//! renamed queues follows in one apply.

use strata_tests::kit::{self, event_source_arns, function_names, queue_names};
use strata_tests::{assert_code, copy_dir, run_strata, workspace_root, Emulator};

#[tokio::test(flavor = "multi_thread")]
async fn the_serverless_example_applies_follows_a_renamed_env_and_destroys_cleanly() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let example = workspace_root().join("examples/serverless");
    copy_dir(&example, dir.path());
    let env = emu.aws_env();
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);
    let ctx = kit::context(&emu);

    assert_code(&strata(&["validate"]), 0);
    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 15 added"),
        "{}",
        run.stdout
    );
    assert_eq!(
        queue_names(&ctx).await,
        ["shop-dev-dead-letters", "shop-dev-orders"]
    );
    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // A new environment renames the queues; what refers to them follows in one apply.
    let run = strata(&["plan", "--var", "env=staging"]);
    assert_code(&run, 0);
    for follows in [
        "fanout_to_orders",
        "intake_from_queue",
        "orders_from_fanout",
        "intake",
    ] {
        assert!(
            run.stdout.contains(&format!(" {follows} (")),
            "{follows} should change:\n{}",
            run.stdout
        );
    }
    let run = strata(&["apply", "--auto-approve", "--var", "env=staging"]);
    assert_code(&run, 0);
    assert_eq!(
        queue_names(&ctx).await,
        ["shop-staging-dead-letters", "shop-staging-orders"]
    );

    // The function's environment, the subscription and the event source mapping point at the
    // new queue.
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let function = lambda
        .get_function_configuration()
        .function_name("shop-staging-intake")
        .send()
        .await
        .unwrap();
    let vars = function.environment.unwrap().variables.unwrap();
    assert!(
        vars["QUEUE_URL"].ends_with("/shop-staging-orders"),
        "{vars:?}"
    );
    let sources = event_source_arns(&ctx, "shop-staging-intake").await;
    assert_eq!(sources.len(), 1);
    assert!(sources[0].ends_with(":shop-staging-orders"), "{sources:?}");
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);
    let subs = sns
        .list_subscriptions()
        .send()
        .await
        .unwrap()
        .subscriptions
        .unwrap_or_default();
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert!(subs[0]
        .endpoint
        .as_deref()
        .unwrap()
        .ends_with(":shop-staging-orders"));

    let run = strata(&["plan", "--detailed-exitcode", "--var", "env=staging"]);
    assert_code(&run, 0);

    let run = strata(&["destroy", "--auto-approve", "--var", "env=staging"]);
    assert_code(&run, 0);
    assert!(queue_names(&ctx).await.is_empty());
    let functions = function_names(&ctx).await;
    assert!(functions.is_empty(), "{functions:?}");
    let iam = aws_sdk_iam::Client::new(&ctx.sdk);
    let roles = iam.list_roles().send().await.unwrap().roles;
    assert!(
        roles.iter().all(|r| !r.role_name.starts_with("shop-")),
        "{:?}",
        roles.iter().map(|r| &r.role_name).collect::<Vec<_>>()
    );
    let apis = aws_sdk_apigatewayv2::Client::new(&ctx.sdk)
        .get_apis()
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert!(apis.is_empty());
    let rules = aws_sdk_eventbridge::Client::new(&ctx.sdk)
        .list_rules()
        .send()
        .await
        .unwrap()
        .rules
        .unwrap_or_default();
    assert!(rules.is_empty(), "{rules:?}");
}
