//! The orders-api example as a user drives it: an HTTP API whose routes need a JWT, in front
//! of a Lambda alias that each deploy moves to a newly published version. Applied through the
//! built binary against the emulator, checked through the AWS API, re-planned clean, redeployed
//! with new code, re-pointed at another issuer, and destroyed leaving nothing.

use strata_tests::kit::{self, function_names};
use strata_tests::{assert_code, copy_dir, run_strata, workspace_root, Emulator};

#[tokio::test(flavor = "multi_thread")]
async fn the_orders_api_example_deploys_new_code_behind_its_alias_and_destroys_cleanly() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace_root().join("examples/orders-api"), dir.path());
    let env = emu.aws_env();
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);
    let ctx = kit::context(&emu);
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let apis = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 12 added"),
        "{}",
        run.stdout
    );
    let alias = lambda
        .get_alias()
        .function_name("orders-api-handler")
        .name("live")
        .send()
        .await
        .unwrap();
    assert_eq!(alias.function_version(), Some("1"));
    let alias_arn = alias.alias_arn().unwrap().to_string();

    let api_id = apis.get_apis().send().await.unwrap().items()[0]
        .api_id()
        .unwrap()
        .to_string();
    let authorizers = apis
        .get_authorizers()
        .api_id(&api_id)
        .send()
        .await
        .map(|out| out.items().to_vec());
    // moto has no GetAuthorizers; the routes name the authorizer either way.
    let routes = apis.get_routes().api_id(&api_id).send().await.unwrap();
    let mut scopes: Vec<(String, Vec<String>)> = routes
        .items()
        .iter()
        .map(|r| {
            assert_eq!(
                r.authorization_type().map(|t| t.as_str()),
                Some("JWT"),
                "{r:?}"
            );
            assert!(r.authorizer_id().is_some(), "{r:?}");
            (
                r.route_key().unwrap_or_default().to_string(),
                r.authorization_scopes().to_vec(),
            )
        })
        .collect();
    scopes.sort();
    assert_eq!(
        scopes,
        [
            ("GET /orders".to_string(), vec!["orders.read".to_string()]),
            ("POST /orders".to_string(), vec!["orders.write".to_string()]),
        ]
    );
    if let Ok(authorizers) = authorizers {
        assert_eq!(authorizers.len(), 1, "{authorizers:?}");
    }

    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // New code: a new version is published and the alias moves to it, in one apply.
    let handler = dir.path().join("src/handler.py");
    let code = std::fs::read_to_string(&handler).unwrap();
    std::fs::write(&handler, format!("{code}\n# v2\n")).unwrap();
    let run = strata(&["plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("version = \"2\""), "{}", run.stdout);
    let alias = lambda
        .get_alias()
        .function_name("orders-api-handler")
        .name("live")
        .send()
        .await
        .unwrap();
    assert_eq!(alias.function_version(), Some("2"));
    assert_eq!(alias.alias_arn(), Some(alias_arn.as_str()));
    assert_code(&strata(&["plan", "--detailed-exitcode"]), 0);

    // Another issuer changes the authorizer in place.
    let run = strata(&[
        "apply",
        "--auto-approve",
        "--var",
        "issuer=https://id.example.org",
    ]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 0 added, 1 changed"),
        "{}",
        run.stdout
    );

    let run = strata(&[
        "destroy",
        "--auto-approve",
        "--var",
        "issuer=https://id.example.org",
    ]);
    assert_code(&run, 0);
    assert!(function_names(&ctx).await.is_empty());
    assert!(apis.get_apis().send().await.unwrap().items().is_empty());
}
