//! The API Gateway v2 providers (`aws.apigatewayv2.api`, `.integration`, `.route`, `.stage`)
//! against the local emulator: create, read back through the SDK and through the provider,
//! update in place, find, delete, and delete again.

use std::collections::BTreeMap;

use providers::apigatewayv2::api::ApiProvider;
use providers::apigatewayv2::integration::IntegrationProvider;
use providers::apigatewayv2::route::RouteProvider;
use providers::apigatewayv2::stage::StageProvider;
use providers::Resource;
use serde_json::json;
use stacks::{Map, Value};
use strata_tests::kit::{
    assert_reads_back, context, delete, map, read, string_map, update, TestStack, ACCOUNT,
};
use strata_tests::{assert_code, run_strata, Emulator};

const STACK: TestStack = TestStack::named("shop");

fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}")
}

fn api_props(name: &str) -> Map {
    map(json!({
        "name": name,
        "protocol_type": "HTTP",
        "tags": STACK.tags_for("api", json!({})),
    }))
}

fn api_id(api: &Resource) -> String {
    api.attributes["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_http_api_reads_back_as_requested_with_its_endpoint_and_execution_arn() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let requested = map(json!({
        "name": "shop-dev",
        "protocol_type": "HTTP",
        "description": "Order intake",
        "cors_configuration": {
            "allow_origins": ["https://shop.example.com"],
            "allow_methods": ["POST", "GET"],
            "allow_headers": ["content-type"],
            "max_age": 300,
        },
        "tags": STACK.tags_for("api", json!({ "team": "orders" })),
    }));
    let api = STACK.create(&apis, "api", &requested).await;
    let id = api.id.clone();
    assert_eq!(api.attributes["id"], Value::str(&id));
    assert_eq!(
        api.attributes["execution_arn"],
        Value::str(format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{id}"))
    );

    let got = client.get_api().api_id(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("shop-dev"));
    assert_eq!(got.description(), Some("Order intake"));
    assert_eq!(got.protocol_type().map(|p| p.as_str()), Some("HTTP"));
    let cors = got.cors_configuration().expect("CORS is configured");
    assert_eq!(cors.allow_origins(), ["https://shop.example.com"]);
    assert_eq!(cors.allow_methods(), ["POST", "GET"]);
    assert_eq!(cors.allow_headers(), ["content-type"]);
    assert_eq!(cors.max_age(), Some(300));
    let tags = got.tags().cloned().unwrap_or_default();
    assert_eq!(tags.get("team").map(String::as_str), Some("orders"));
    assert_eq!(tags.get("strata:address").map(String::as_str), Some("api"));
    assert_eq!(
        api.attributes["api_endpoint"],
        Value::str(got.api_endpoint().unwrap())
    );

    assert_reads_back(&api, &requested);
    let again = read(&apis, "api", &api).await.expect("the API exists");
    assert_eq!(again, api);
}

#[tokio::test]
async fn a_websocket_api_is_created_with_a_route_selection_expression() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let requested = map(json!({ "name": "shop-live", "protocol_type": "WEBSOCKET" }));
    let api = STACK.create(&apis, "live", &requested).await;
    let got = client.get_api().api_id(&api.id).send().await.unwrap();
    assert_eq!(got.protocol_type().map(|p| p.as_str()), Some("WEBSOCKET"));
    assert_eq!(
        got.route_selection_expression(),
        Some("$request.body.action")
    );
    assert_reads_back(&api, &requested);
}

#[tokio::test]
async fn updating_an_api_changes_its_name_description_and_cors_in_place() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let first = map(json!({
        "name": "shop-dev",
        "protocol_type": "HTTP",
        "description": "first",
        "cors_configuration": { "allow_origins": ["https://a.example.com"] },
        "tags": STACK.tags_for("api", json!({})),
    }));
    let api = STACK.create(&apis, "api", &first).await;

    let second = map(json!({
        "name": "shop-dev-2",
        "protocol_type": "HTTP",
        "description": "second",
        "cors_configuration": {
            "allow_origins": ["https://b.example.com"],
            "allow_methods": ["POST"],
            "max_age": 60,
        },
        "tags": STACK.tags_for("api", json!({})),
    }));
    let updated = update(
        &apis,
        "api",
        &api,
        &second,
        &["name", "description", "cors_configuration"],
    )
    .await;
    assert_eq!(updated.id, api.id);
    assert_eq!(updated.attributes, api.attributes);
    let got = client.get_api().api_id(&api.id).send().await.unwrap();
    assert_eq!(got.name(), Some("shop-dev-2"));
    assert_eq!(got.description(), Some("second"));
    let cors = got.cors_configuration().expect("CORS is configured");
    assert_eq!(cors.allow_origins(), ["https://b.example.com"]);
    assert_eq!(cors.allow_methods(), ["POST"]);
    assert_eq!(cors.max_age(), Some(60));
    assert_reads_back(&updated, &second);

    // Without CORS and a description, the API has neither.
    let third = map(json!({
        "name": "shop-dev-2",
        "protocol_type": "HTTP",
        "tags": STACK.tags_for("api", json!({})),
    }));
    let bare = update(
        &apis,
        "api",
        &updated,
        &third,
        &["description", "cors_configuration"],
    )
    .await;
    let got = client.get_api().api_id(&api.id).send().await.unwrap();
    assert!(got.cors_configuration().is_none(), "{got:?}");
    assert_eq!(got.description().unwrap_or(""), "");
    assert!(!bare.properties.contains_key("cors_configuration"));
    assert!(!bare.properties.contains_key("description"));
    assert_reads_back(&bare, &third);
}

#[tokio::test]
async fn updating_api_tags_adds_changes_and_removes_only_the_keys_that_differ() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let first = map(json!({
        "name": "shop-dev",
        "protocol_type": "HTTP",
        "tags": STACK.tags_for("api", json!({ "team": "orders", "env": "dev", "old": "x" })),
    }));
    let api = STACK.create(&apis, "api", &first).await;
    let arn = format!("arn:aws:apigateway:us-east-1::/apis/{}", api.id);
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("owner", "ops")
        .send()
        .await
        .unwrap();

    let second = map(json!({
        "name": "shop-dev",
        "protocol_type": "HTTP",
        "tags": STACK.tags_for("api", json!({ "team": "orders", "env": "prod", "new": "y" })),
    }));
    let updated = update(&apis, "api", &api, &second, &["tags"]).await;
    assert_eq!(updated.id, api.id);

    let tags: BTreeMap<String, String> = client
        .get_tags()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let expected = string_map([
        ("env", "prod"),
        ("new", "y"),
        ("owner", "ops"),
        ("strata:address", "api"),
        ("strata:stack", STACK.name),
        ("team", "orders"),
    ]);
    assert_eq!(tags, expected);
    assert!(!updated.properties["tags"]
        .as_map()
        .unwrap()
        .contains_key("old"));
}

#[tokio::test]
async fn a_deleted_api_is_gone_and_deleting_reading_or_finding_it_again_is_harmless() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    // Another API with the same name but another address must not be taken for ours.
    let mut neighbour = api_props("shop-dev");
    neighbour.insert(
        "tags".into(),
        Value::from_json(STACK.tags_for("other", json!({}))),
    );
    STACK.create(&apis, "other", &neighbour).await;
    let requested = api_props("shop-dev");
    let api = STACK.create(&apis, "api", &requested).await;

    let found = STACK
        .find(&apis, "api", &requested)
        .await
        .expect("the API is found by its tags");
    assert_eq!(found, api);
    assert_eq!(STACK.find(&apis, "missing", &requested).await, None);

    delete(&apis, "api", &api).await;
    let gone = client
        .get_api()
        .api_id(&api.id)
        .send()
        .await
        .expect_err("the API is gone");
    assert_eq!(
        aws_sdk_apigatewayv2::error::ProvideErrorMetadata::code(&gone),
        Some("NotFoundException"),
        "{gone:?}"
    );

    delete(&apis, "api", &api).await;
    assert_eq!(read(&apis, "api", &api).await, None);
    assert_eq!(STACK.find(&apis, "api", &requested).await, None);
}

#[tokio::test]
async fn a_lambda_integration_reads_back_with_post_and_payload_2_0_and_updates_in_place() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let integrations = IntegrationProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let api = STACK.create(&apis, "api", &api_props("shop-dev")).await;
    let requested = map(json!({
        "api_id": api_id(&api),
        "integration_type": "AWS_PROXY",
        "integration_uri": function_arn("intake"),
    }));
    let integration = STACK.create(&integrations, "intake", &requested).await;
    assert_eq!(integration.attributes["id"], Value::str(&integration.id));

    let got = client
        .get_integration()
        .api_id(api_id(&api))
        .integration_id(&integration.id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.integration_type().map(|t| t.as_str()),
        Some("AWS_PROXY")
    );
    assert_eq!(got.integration_uri(), Some(function_arn("intake").as_str()));
    assert_eq!(got.integration_method(), Some("POST"));
    assert_eq!(got.payload_format_version(), Some("2.0"));

    assert_reads_back(&integration, &requested);
    assert_eq!(
        integration.properties["payload_format_version"],
        Value::str("2.0")
    );
    assert_eq!(
        integration.properties["integration_method"],
        Value::str("POST")
    );
    let again = read(&integrations, "intake", &integration)
        .await
        .expect("the integration exists");
    assert_eq!(again, integration);

    let second = map(json!({
        "api_id": api_id(&api),
        "integration_type": "AWS_PROXY",
        "integration_uri": function_arn("intake-v2"),
        "payload_format_version": "1.0",
        "timeout_in_millis": 10000,
    }));
    let updated = update(
        &integrations,
        "intake",
        &integration,
        &second,
        &[
            "integration_uri",
            "payload_format_version",
            "timeout_in_millis",
        ],
    )
    .await;
    assert_eq!(updated.id, integration.id);
    let got = client
        .get_integration()
        .api_id(api_id(&api))
        .integration_id(&integration.id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.integration_uri(),
        Some(function_arn("intake-v2").as_str())
    );
    assert_eq!(got.payload_format_version(), Some("1.0"));
    assert_eq!(got.timeout_in_millis(), Some(10000));
    assert_reads_back(&updated, &second);
}

#[tokio::test]
async fn an_http_proxy_integration_is_not_given_the_lambda_payload_format() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let integrations = IntegrationProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let api = STACK.create(&apis, "api", &api_props("shop-dev")).await;
    let requested = map(json!({
        "api_id": api_id(&api),
        "integration_type": "HTTP_PROXY",
        "integration_uri": "https://backend.example.com/orders",
        "integration_method": "ANY",
    }));
    let integration = STACK.create(&integrations, "backend", &requested).await;
    let got = client
        .get_integration()
        .api_id(api_id(&api))
        .integration_id(&integration.id)
        .send()
        .await
        .unwrap();
    assert_ne!(got.payload_format_version(), Some("2.0"));
    assert_eq!(got.integration_method(), Some("ANY"));
    assert_reads_back(&integration, &requested);
}

#[tokio::test]
async fn a_route_reads_back_as_requested_and_changes_its_route_key_in_place() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let integrations = IntegrationProvider::new(&ctx);
    let routes = RouteProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let api = STACK.create(&apis, "api", &api_props("shop-dev")).await;
    let integration = STACK
        .create(
            &integrations,
            "intake",
            &map(json!({
                "api_id": api_id(&api),
                "integration_type": "AWS_PROXY",
                "integration_uri": function_arn("intake"),
            })),
        )
        .await;
    let target = format!("integrations/{}", integration.id);
    let requested = map(json!({
        "api_id": api_id(&api),
        "route_key": "POST /orders",
        "target": target,
        "authorization_type": "NONE",
    }));
    let route = STACK.create(&routes, "post_orders", &requested).await;
    assert_eq!(route.attributes["id"], Value::str(&route.id));

    let got = client
        .get_route()
        .api_id(api_id(&api))
        .route_id(&route.id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.route_key(), Some("POST /orders"));
    assert_eq!(got.target(), Some(target.as_str()));
    assert_eq!(got.authorization_type().map(|a| a.as_str()), Some("NONE"));
    assert_reads_back(&route, &requested);
    let again = read(&routes, "post_orders", &route)
        .await
        .expect("the route exists");
    assert_eq!(again, route);

    let second = map(json!({
        "api_id": api_id(&api),
        "route_key": "PUT /orders",
        "target": target,
        "authorization_type": "AWS_IAM",
    }));
    let updated = update(
        &routes,
        "post_orders",
        &route,
        &second,
        &["route_key", "authorization_type"],
    )
    .await;
    assert_eq!(updated.id, route.id);
    let got = client
        .get_route()
        .api_id(api_id(&api))
        .route_id(&route.id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.route_key(), Some("PUT /orders"));
    assert_eq!(
        got.authorization_type().map(|a| a.as_str()),
        Some("AWS_IAM")
    );
    assert_eq!(got.target(), Some(target.as_str()));
    assert_reads_back(&updated, &second);

    let found = STACK
        .find(&routes, "post_orders", &second)
        .await
        .expect("the route is found by its key");
    assert_eq!(found, updated);
    assert_eq!(STACK.find(&routes, "post_orders", &requested).await, None);
}

#[tokio::test]
async fn stages_are_invoked_at_the_endpoint_or_below_it_and_change_settings_in_place() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let stages = StageProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let api = STACK.create(&apis, "api", &api_props("shop-dev")).await;
    let endpoint = api.attributes["api_endpoint"].as_str().unwrap().to_string();

    let default_stage = STACK
        .create(
            &stages,
            "default_stage",
            &map(json!({ "api_id": api_id(&api), "name": "$default", "auto_deploy": true })),
        )
        .await;
    assert_eq!(default_stage.id, "$default");
    assert_eq!(
        default_stage.attributes["invoke_url"],
        Value::str(&endpoint)
    );

    let requested = map(json!({
        "api_id": api_id(&api),
        "name": "prod",
        "auto_deploy": false,
        "stage_variables": { "env": "prod", "color": "blue" },
        "default_route_settings": { "throttling_burst_limit": 100, "throttling_rate_limit": 50.5 },
    }));
    let prod = STACK.create(&stages, "prod", &requested).await;
    assert_eq!(prod.id, "prod");
    assert_eq!(prod.attributes["id"], Value::str("prod"));
    assert_eq!(
        prod.attributes["invoke_url"],
        Value::str(format!("{endpoint}/prod"))
    );
    let got = client
        .get_stage()
        .api_id(api_id(&api))
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(got.auto_deploy(), Some(false));
    let variables = got.stage_variables().cloned().unwrap_or_default();
    assert_eq!(variables.get("env").map(String::as_str), Some("prod"));
    assert_eq!(variables.get("color").map(String::as_str), Some("blue"));
    let settings = got.default_route_settings().expect("route settings");
    assert_eq!(settings.throttling_burst_limit(), Some(100));
    assert_eq!(settings.throttling_rate_limit(), Some(50.5));
    assert_reads_back(&prod, &requested);
    assert_eq!(read(&stages, "prod", &prod).await, Some(prod.clone()));

    // Deploy automatically, change one variable and drop the other.
    let second = map(json!({
        "api_id": api_id(&api),
        "name": "prod",
        "auto_deploy": true,
        "stage_variables": { "env": "production" },
        "default_route_settings": { "throttling_burst_limit": 100, "throttling_rate_limit": 50.5 },
    }));
    let updated = update(
        &stages,
        "prod",
        &prod,
        &second,
        &["auto_deploy", "stage_variables"],
    )
    .await;
    assert_eq!(updated.id, prod.id);
    assert_eq!(updated.attributes, prod.attributes);
    let got = client
        .get_stage()
        .api_id(api_id(&api))
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(got.auto_deploy(), Some(true));
    let variables = got.stage_variables().cloned().unwrap_or_default();
    assert_eq!(variables.get("env").map(String::as_str), Some("production"));
    assert_eq!(variables.get("color").map(String::as_str).unwrap_or(""), "");
    assert_reads_back(&updated, &second);

    let found = STACK
        .find(&stages, "prod", &second)
        .await
        .expect("the stage is found by API and name");
    assert_eq!(found, updated);
}

#[tokio::test]
async fn deleted_integrations_routes_and_stages_are_gone_and_deleting_them_again_is_harmless() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let apis = ApiProvider::new(&ctx);
    let integrations = IntegrationProvider::new(&ctx);
    let routes = RouteProvider::new(&ctx);
    let stages = StageProvider::new(&ctx);
    let client = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);

    let api = STACK.create(&apis, "api", &api_props("shop-dev")).await;
    let integration_props = map(json!({
        "api_id": api_id(&api),
        "integration_type": "AWS_PROXY",
        "integration_uri": function_arn("intake"),
    }));
    let integration = STACK
        .create(&integrations, "intake", &integration_props)
        .await;
    let route_props = map(json!({
        "api_id": api_id(&api),
        "route_key": "POST /orders",
        "target": format!("integrations/{}", integration.id),
    }));
    let route = STACK.create(&routes, "post_orders", &route_props).await;
    let stage_props = map(json!({ "api_id": api_id(&api), "name": "$default" }));
    let stage = STACK.create(&stages, "default_stage", &stage_props).await;

    assert_eq!(
        STACK
            .find(&integrations, "intake", &integration_props)
            .await,
        Some(integration.clone())
    );

    delete(&routes, "post_orders", &route).await;
    delete(&integrations, "intake", &integration).await;
    delete(&stages, "default_stage", &stage).await;
    let id = api_id(&api);
    let code =
        |e: &dyn aws_sdk_apigatewayv2::error::ProvideErrorMetadata| e.code().map(str::to_string);
    let gone = client
        .get_route()
        .api_id(&id)
        .route_id(&route.id)
        .send()
        .await
        .expect_err("the route is gone");
    assert_eq!(code(&gone).as_deref(), Some("NotFoundException"));
    let gone = client
        .get_integration()
        .api_id(&id)
        .integration_id(&integration.id)
        .send()
        .await
        .expect_err("the integration is gone");
    assert_eq!(code(&gone).as_deref(), Some("NotFoundException"));
    let gone = client
        .get_stage()
        .api_id(&id)
        .stage_name("$default")
        .send()
        .await
        .expect_err("the stage is gone");
    assert_eq!(code(&gone).as_deref(), Some("NotFoundException"));

    delete(&routes, "post_orders", &route).await;
    delete(&integrations, "intake", &integration).await;
    delete(&stages, "default_stage", &stage).await;
    assert_eq!(read(&routes, "post_orders", &route).await, None);
    assert_eq!(read(&integrations, "intake", &integration).await, None);
    assert_eq!(read(&stages, "default_stage", &stage).await, None);
    assert_eq!(
        STACK
            .find(&integrations, "intake", &integration_props)
            .await,
        None
    );
    assert_eq!(STACK.find(&routes, "post_orders", &route_props).await, None);
    assert_eq!(
        STACK.find(&stages, "default_stage", &stage_props).await,
        None
    );

    // With the API gone, its children are gone too, and deleting them is still harmless.
    delete(&apis, "api", &api).await;
    assert_eq!(read(&routes, "post_orders", &route).await, None);
    assert_eq!(read(&stages, "default_stage", &stage).await, None);
    delete(&routes, "post_orders", &route).await;
    delete(&integrations, "intake", &integration).await;
    delete(&stages, "default_stage", &stage).await;
    assert_eq!(STACK.find(&routes, "post_orders", &route_props).await, None);
}

async fn stage_names(client: &aws_sdk_apigatewayv2::Client, api_id: &str) -> Vec<String> {
    let mut names: Vec<String> = client
        .get_stages()
        .api_id(api_id)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter_map(|s| s.stage_name().map(str::to_string))
        .collect();
    names.sort();
    names
}

const API_STACK: &str = r#"stack: shop
resources:
  api:
    type: aws.apigatewayv2.api
    properties:
      name: shop
      cors_configuration: { allow_origins: ["https://shop.example.com"], allow_methods: [POST] }
  intake:
    type: aws.apigatewayv2.integration
    properties:
      api_id: ${api.id}
      integration_type: AWS_PROXY
      integration_uri: arn:aws:lambda:us-east-1:123456789012:function:intake
  post_orders:
    type: aws.apigatewayv2.route
    properties:
      api_id: ${api.id}
      route_key: POST /orders
      target: integrations/${intake.id}
  stage:
    type: aws.apigatewayv2.stage
    properties:
      api_id: ${api.id}
      name: STAGE
      auto_deploy: true
outputs:
  url: ${stage.invoke_url}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn renaming_a_stage_replaces_it_and_an_applied_api_plans_no_changes() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let env = emu.aws_env();
    let client = aws_sdk_apigatewayv2::Client::new(&context(&emu).sdk);
    let write = |stage: &str| {
        std::fs::write(
            dir.path().join("stack.yaml"),
            API_STACK.replace("STAGE", stage),
        )
        .unwrap()
    };
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);

    write("dev");
    assert_code(&strata(&["apply", "--auto-approve"]), 0);
    let apis = client.get_apis().send().await.unwrap();
    assert_eq!(apis.items().len(), 1);
    let api = &apis.items()[0];
    let api_id = api.api_id().unwrap().to_string();
    assert_eq!(stage_names(&client, &api_id).await, ["dev"]);
    let run = strata(&["output", "url"]);
    assert_code(&run, 0);
    assert_eq!(
        run.stdout.trim().trim_matches('"'),
        format!("{}/dev", api.api_endpoint().unwrap())
    );
    assert_code(&strata(&["plan", "--detailed-exitcode"]), 0);

    write("prod");
    let run = strata(&["plan"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("-/+ stage"), "{}", run.stdout);
    assert!(run.stdout.contains("forces replacement"), "{}", run.stdout);
    assert_code(&strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(stage_names(&client, &api_id).await, ["prod"]);
    assert_code(&strata(&["plan", "--detailed-exitcode"]), 0);

    assert_code(&strata(&["destroy", "--auto-approve"]), 0);
    assert!(client.get_apis().send().await.unwrap().items().is_empty());
}
