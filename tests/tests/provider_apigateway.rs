//! `aws.apigateway.*` (REST APIs) through the built binary against the emulator: an API with a
//! resource, a method answered by a mock integration, a method response and an integration
//! response, a deployment and a stage apply and read back through the AWS API; a second plan is
//! clean; the API's description and the stage's settings change in place keeping their ids; a
//! new HTTP method replaces the method and everything keyed by it, and new triggers replace
//! the deployment, new one first, with the stage moved to it and the old one gone; every type
//! is forgotten and imported back by Terraform's import id to a clean plan; bad values are
//! refused at load time naming their line; destroy leaves nothing.

use strata_tests::dead_endpoint;
use strata_tests::{assert_code, run_strata, Project};

/// The stack: `description` of the API, `method` of the resource's method, `trigger` of the
/// deployment, `env` of the stage's variables.
fn stack(description: &str, method: &str, trigger: &str, env: &str) -> String {
    format!(
        r#"stack: rest
region: us-east-1
resources:
  api:
    type: aws.apigateway.rest_api
    properties:
      name: rest-items
      description: {description}
      endpoint_configuration: {{ types: [REGIONAL] }}
      tags: {{ owner: items }}
  items:
    type: aws.apigateway.resource
    properties: {{ rest_api_id: "${{api.id}}", parent_id: "${{api.root_resource_id}}", path_part: items }}
  list:
    type: aws.apigateway.method
    properties:
      rest_api_id: ${{api.id}}
      resource_id: ${{items.id}}
      http_method: {method}
      authorization: NONE
      request_parameters: {{ method.request.querystring.page: false }}
  list_mock:
    type: aws.apigateway.integration
    properties:
      rest_api_id: ${{api.id}}
      resource_id: ${{items.id}}
      http_method: ${{list.http_method}}
      type: MOCK
      request_templates: {{ application/json: '{{"statusCode": 200}}' }}
      passthrough_behavior: WHEN_NO_TEMPLATES
  list_ok:
    type: aws.apigateway.method_response
    properties:
      rest_api_id: ${{api.id}}
      resource_id: ${{items.id}}
      http_method: ${{list.http_method}}
      status_code: "200"
      response_models: {{ application/json: Empty }}
  list_mock_ok:
    type: aws.apigateway.integration_response
    properties:
      rest_api_id: ${{api.id}}
      resource_id: ${{items.id}}
      http_method: ${{list_mock.http_method}}
      status_code: ${{list_ok.status_code}}
      response_templates: {{ application/json: '{{"items": []}}' }}
  release:
    type: aws.apigateway.deployment
    properties:
      rest_api_id: ${{api.id}}
      description: items release
      triggers: {{ release: "{trigger}" }}
    depends_on: [list_mock_ok]
  test:
    type: aws.apigateway.stage
    properties:
      rest_api_id: ${{api.id}}
      stage_name: test
      deployment_id: ${{release.id}}
      description: testing
      variables: {{ env: {env} }}
      tags: {{ owner: items }}
"#
    )
}

/// The id recorded for `address` in the project's state.
fn recorded_id(p: &Project, address: &str) -> String {
    let text = std::fs::read_to_string(p.path().join(".strata/rest.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string()
}

async fn deployment_ids(apis: &aws_sdk_apigateway::Client, api_id: &str) -> Vec<String> {
    apis.get_deployments()
        .rest_api_id(api_id)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter_map(|d| d.id().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rest_api_applies_changes_in_place_replaces_by_key_imports_and_destroys_cleanly() {
    let p = Project::new(&stack("Items", "GET", "v1", "test"));
    let apis = aws_sdk_apigateway::Client::new(&p.ctx().sdk);

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 8 added"),
        "{}",
        run.stdout
    );
    let api_id = recorded_id(&p, "api");
    let api = apis
        .get_rest_api()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    assert_eq!(api.name(), Some("rest-items"));
    assert_eq!(api.description(), Some("Items"));
    assert_eq!(
        api.endpoint_configuration().unwrap().types()[0].as_str(),
        "REGIONAL"
    );
    assert_eq!(
        api.tags().unwrap().get("owner").map(String::as_str),
        Some("items")
    );
    let items = recorded_id(&p, "items");
    let resource = apis
        .get_resource()
        .rest_api_id(&api_id)
        .resource_id(&items)
        .send()
        .await
        .unwrap();
    assert_eq!(resource.path(), Some("/items"));
    assert_eq!(recorded_id(&p, "list"), format!("{api_id}/{items}/GET"));
    let method = apis
        .get_method()
        .rest_api_id(&api_id)
        .resource_id(&items)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        method
            .request_parameters()
            .unwrap()
            .get("method.request.querystring.page"),
        Some(&false)
    );
    let integration = apis
        .get_integration()
        .rest_api_id(&api_id)
        .resource_id(&items)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(integration.r#type().map(|t| t.as_str()), Some("MOCK"));
    assert_eq!(
        integration.passthrough_behavior(),
        Some("WHEN_NO_TEMPLATES")
    );
    let response = apis
        .get_method_response()
        .rest_api_id(&api_id)
        .resource_id(&items)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.response_models().unwrap().get("application/json"),
        Some(&"Empty".to_string())
    );
    let answer = apis
        .get_integration_response()
        .rest_api_id(&api_id)
        .resource_id(&items)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.response_templates().unwrap().get("application/json"),
        Some(&r#"{"items": []}"#.to_string())
    );
    let first = recorded_id(&p, "release");
    let stage = apis
        .get_stage()
        .rest_api_id(&api_id)
        .stage_name("test")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.deployment_id(), Some(first.as_str()));
    assert_eq!(
        stage.variables().unwrap().get("env").map(String::as_str),
        Some("test")
    );

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // In place: the API's description and the stage's variables keep their ids.
    p.write_stack(&stack("All the items", "GET", "v1", "staging"));
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 0 added, 2 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    assert_eq!(recorded_id(&p, "api"), api_id);
    assert_eq!(recorded_id(&p, "test"), "test");
    let api = apis
        .get_rest_api()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    assert_eq!(api.description(), Some("All the items"));
    let stage = apis
        .get_stage()
        .rest_api_id(&api_id)
        .stage_name("test")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stage.variables().unwrap().get("env").map(String::as_str),
        Some("staging")
    );
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // Replacements: another HTTP method is another method (and integration and responses);
    // new triggers are a new deployment, created first, the stage moved to it.
    p.write_stack(&stack("All the items", "POST", "v2", "staging"));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    for line in [
        "+/- list (aws.apigateway.method) must be replaced",
        "+/- release (aws.apigateway.deployment) must be replaced",
        "~ test (aws.apigateway.stage) will be updated in place",
        "Plan: 0 to add, 1 to change, 5 to replace, 0 to destroy.",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(recorded_id(&p, "list"), format!("{api_id}/{items}/POST"));
    assert_eq!(
        recorded_id(&p, "list_mock_ok"),
        format!("{api_id}/{items}/POST/200")
    );
    let gone = apis
        .get_method()
        .rest_api_id(&api_id)
        .resource_id(&items)
        .http_method("GET")
        .send()
        .await;
    assert!(gone.is_err(), "the GET method is gone: {gone:?}");
    let second = recorded_id(&p, "release");
    assert_ne!(second, first);
    assert_eq!(deployment_ids(&apis, &api_id).await, vec![second.clone()]);
    let stage = apis
        .get_stage()
        .rest_api_id(&api_id)
        .stage_name("test")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.deployment_id(), Some(second.as_str()));
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // Forgotten and imported back by Terraform's ids: nothing to do afterwards.
    for (address, id) in [
        ("api", api_id.clone()),
        ("items", format!("{api_id}/{items}")),
        ("list", format!("{api_id}/{items}/POST")),
        ("list_mock", format!("{api_id}/{items}/POST")),
        ("list_ok", format!("{api_id}/{items}/POST/200")),
        ("list_mock_ok", format!("{api_id}/{items}/POST/200")),
        ("release", format!("{api_id}/{second}")),
        ("test", format!("{api_id}/test")),
    ] {
        assert_code(&p.strata(&["state", "rm", address]), 0);
        let run = p.strata(&["import", address, &id]);
        assert_code(&run, 0);
    }
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    let left = apis.get_rest_apis().send().await.unwrap();
    assert!(left.items().is_empty(), "{left:?}");
}

#[test]
fn bad_rest_api_values_are_refused_at_load_time_naming_their_line() {
    let long_stage = "s".repeat(129);
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "an API without a name",
            "  api:\n    type: aws.apigateway.rest_api\n    properties: { description: x }\n"
                .to_string(),
            "stack.yaml:6:5",
            "name",
        ),
        (
            "a resource without a path segment",
            "  r:\n    type: aws.apigateway.resource\n    properties: { rest_api_id: a, parent_id: b }\n"
                .to_string(),
            "stack.yaml:6:5",
            "path_part",
        ),
        (
            "an unknown authorization",
            "  m:\n    type: aws.apigateway.method\n    properties: { rest_api_id: a, resource_id: b, http_method: GET, authorization: OPEN }\n"
                .to_string(),
            "stack.yaml:6:84",
            "OPEN",
        ),
        (
            "an integration timeout over 29 seconds",
            "  i:\n    type: aws.apigateway.integration\n    properties: { rest_api_id: a, resource_id: b, http_method: GET, type: MOCK, timeout_in_millis: 30000 }\n"
                .to_string(),
            "stack.yaml:6:100",
            "30000",
        ),
        (
            "a status code of four digits",
            "  mr:\n    type: aws.apigateway.method_response\n    properties: { rest_api_id: a, resource_id: b, http_method: GET, status_code: \"2000\" }\n"
                .to_string(),
            "stack.yaml:6:82",
            "status_code",
        ),
        (
            "an unknown content handling",
            "  ir:\n    type: aws.apigateway.integration_response\n    properties: { rest_api_id: a, resource_id: b, http_method: GET, status_code: \"200\", content_handling: CONVERT_TO_JSON }\n"
                .to_string(),
            "stack.yaml:6:107",
            "CONVERT_TO_JSON",
        ),
        (
            "a trigger that is not a string",
            "  d:\n    type: aws.apigateway.deployment\n    properties: { rest_api_id: a, triggers: { release: [1, 2] } }\n"
                .to_string(),
            "stack.yaml:6:56",
            "triggers",
        ),
        (
            "a stage name over 128 characters",
            format!(
                "  s:\n    type: aws.apigateway.stage\n    properties: {{ rest_api_id: a, deployment_id: b, stage_name: {long_stage} }}\n"
            ),
            "stack.yaml:6:65",
            "stage_name",
        ),
    ];
    let env = dead_endpoint();
    let mut failures = Vec::new();
    for (what, resources, location, phrase) in cases {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("stack: bad\nregion: us-east-1\nresources:\n{resources}");
        std::fs::write(dir.path().join("stack.yaml"), &text).unwrap();
        let run = run_strata(dir.path(), &["validate"], &env);
        let ok = run.code == 1
            && run.stderr.contains(location)
            && run.stderr.contains(phrase)
            && !run.stderr.contains("dispatch failure");
        if !ok {
            failures.push(format!("{what}: exit {}\n{}", run.code, run.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
