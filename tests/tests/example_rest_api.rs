//! The rest-api example as a user drives it: a REST API whose every path goes to a Lambda
//! function through a proxy integration, served at `prod`. Applied through the built binary
//! against the emulator, checked through the AWS API, re-planned clean; then a new method
//! changes the deployment's triggers, and the redeploy creates the new deployment, moves the
//! stage to it, and only then deletes the old one (the order `apply --json` reports), so the
//! stage never points at nothing; destroyed leaving nothing. (The function is never invoked:
//! the emulator needs Docker for that.)

use serde_json::Value as Json;
use strata_tests::kit;
use strata_tests::{assert_code, copy_dir, run_strata, workspace_root, Emulator};

/// A GET on the API's root answered by a mock, added to the deployment's triggers.
fn with_root_method(stack: &str) -> String {
    let root = r#"  root_get:
    type: aws.apigateway.method
    properties:
      rest_api_id: ${api.id}
      resource_id: ${api.root_resource_id}
      http_method: GET
      authorization: NONE

  root_mock:
    type: aws.apigateway.integration
    properties:
      rest_api_id: ${api.id}
      resource_id: ${api.root_resource_id}
      http_method: ${root_get.http_method}
      type: MOCK
      request_templates:
        application/json: '{"statusCode": 200}'

outputs:
"#;
    assert!(stack.contains("      triggers:\n") && stack.contains("\noutputs:\n"));
    stack
        .replace(
            "      triggers:\n",
            "      triggers:\n        root: ${root_mock.id} ${root_get.id}\n",
        )
        .replace("\noutputs:\n", &format!("\n{root}"))
}

/// The `(event type, address, operation, id)` of each step event of an `apply --json` run.
fn steps(stdout: &str) -> Vec<(String, String, String, String)> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|e| e["type"] == "started" || e["type"] == "finished")
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("type"), s("address"), s("operation"), s("id"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rest_api_example_redeploys_new_deployment_first_and_destroys_cleanly() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace_root().join("examples/rest-api"), dir.path());
    let env = emu.aws_env();
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);
    let ctx = kit::context(&emu);
    let apis = aws_sdk_apigateway::Client::new(&ctx.sdk);

    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 10 added"),
        "{}",
        run.stdout
    );

    let listed = apis.get_rest_apis().send().await.unwrap();
    assert_eq!(listed.items().len(), 1, "{listed:?}");
    let api_id = listed.items()[0].id().unwrap().to_string();
    let resources = apis
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let proxy = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/{proxy+}"))
        .unwrap_or_else(|| panic!("no /{{proxy+}} resource: {resources:?}"));
    let proxy_id = proxy.id().unwrap().to_string();
    let method = apis
        .get_method()
        .rest_api_id(&api_id)
        .resource_id(&proxy_id)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(method.authorization_type(), Some("NONE"));
    let integration = apis
        .get_integration()
        .rest_api_id(&api_id)
        .resource_id(&proxy_id)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(integration.r#type().map(|t| t.as_str()), Some("AWS_PROXY"));
    assert_eq!(
        integration.uri(),
        Some(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
             arn:aws:lambda:us-east-1:123456789012:function:shop-api-handler/invocations"
        )
    );
    let stage = apis
        .get_stage()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let first = stage.deployment_id().unwrap().to_string();
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let policy = lambda
        .get_policy()
        .function_name("shop-api-handler")
        .send()
        .await
        .unwrap();
    assert!(
        policy
            .policy()
            .unwrap()
            .contains(&format!("execute-api:us-east-1:123456789012:{api_id}/*/*")),
        "{policy:?}"
    );

    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // A new method changes the triggers: a new deployment, made before the old one goes.
    let stack = std::fs::read_to_string(dir.path().join("stack.yaml")).unwrap();
    std::fs::write(dir.path().join("stack.yaml"), with_root_method(&stack)).unwrap();
    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("+/- deployment (aws.apigateway.deployment) must be replaced"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Plan: 2 to add, 1 to change, 1 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    let run = strata(&["apply", "--auto-approve", "--json"]);
    assert_code(&run, 0);
    let steps = steps(&run.stdout);
    let at = |kind: &str, address: &str, operation: &str| {
        steps
            .iter()
            .position(|(k, a, o, _)| k == kind && a == address && o == operation)
            .unwrap_or_else(|| panic!("no {kind} {operation} of {address}: {steps:?}"))
    };
    let created = at("finished", "deployment", "create");
    let moved = (
        at("started", "prod", "update"),
        at("finished", "prod", "update"),
    );
    let deleted = at("started", "deployment", "delete");
    assert!(
        created < moved.0 && moved.1 < deleted,
        "the stage moves between the new deployment's create and the old one's delete: {steps:?}"
    );
    let second = steps[created].3.clone();
    assert_ne!(second, first);
    assert_eq!(steps[at("finished", "deployment", "delete")].3, first);

    let stage = apis
        .get_stage()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.deployment_id(), Some(second.as_str()));
    let deployments: Vec<String> = apis
        .get_deployments()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter_map(|d| d.id().map(str::to_string))
        .collect();
    assert_eq!(deployments, vec![second.clone()]);
    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    let run = strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    let left = apis.get_rest_apis().send().await.unwrap();
    assert!(left.items().is_empty(), "{left:?}");
    assert!(kit::function_names(&ctx).await.is_empty());
}
