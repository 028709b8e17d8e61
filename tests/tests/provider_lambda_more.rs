//! The Lambda types beyond functions, through the built binary against the emulator: a function
//! with `publish: true` publishes a version on create and on each code change, and an alias
//! that follows `${fn.version}` moves to it in place; a layer version is replaced when its
//! sources change; a function URL changes its authorization and CORS in place and is replaced
//! when it moves to an alias; a permission gains a `qualifier`. Then an HTTP API whose route
//! is guarded by a JWT authorizer and integrated with a Lambda alias (issue 11's shape): applied,
//! re-planned clean, changed in place, the authorizer replaced by a Lambda `REQUEST` one,
//! imported, destroyed. Each type goes through create, a read back with the SDK, a clean
//! re-plan, an in-place change that keeps its id, a replacing change, `state rm` + `import` +
//! a clean plan, and a destroy that leaves nothing.

use std::fs;
use std::path::Path;

use providers::aws::AwsContext;
use strata_tests::kit::ACCOUNT;
use strata_tests::{assert_code, Project, Run};

const ROLE: &str = r#"  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: { Service: lambda.amazonaws.com }
          Action: sts:AssumeRole
"#;

/// A small Python handler in `dir`, answering `greeting`.
fn write_handler(dir: &Path, greeting: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("index.py"),
        format!("def handler(event, context):\n    return {greeting:?}\n"),
    )
    .unwrap();
}

/// A layer's sources in `dir` (`python/helpers.py`), returning `word`.
fn write_layer(dir: &Path, word: &str) {
    fs::create_dir_all(dir.join("python")).unwrap();
    fs::write(
        dir.join("python/helpers.py"),
        format!("def word():\n    return {word:?}\n"),
    )
    .unwrap();
}

/// The state file of stack `stack` in the project, as JSON.
fn state(p: &Project, stack: &str) -> serde_json::Value {
    let text = fs::read_to_string(p.path().join(format!(".strata/{stack}.state.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The id recorded for `address`.
fn recorded_id(p: &Project, stack: &str, address: &str) -> String {
    let state = state(p, stack);
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address} in {state}"))
        .to_string()
}

/// An attribute recorded for `address`.
fn recorded_attr(p: &Project, stack: &str, address: &str, attr: &str) -> String {
    let state = state(p, stack);
    let value = &state["resources"][address]["attributes"][attr];
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => panic!("no attribute {attr} for {address} in {state}"),
    }
}

fn assert_clean_plan(p: &Project) {
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
}

fn apply(p: &Project) -> Run {
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    run
}

/// Forgets `address`, imports it again by `id`, and checks the next plan has nothing to do.
fn reimport(p: &Project, address: &str, id: &str) {
    assert_code(&p.strata(&["state", "rm", address]), 0);
    let run = p.strata(&["import", address, id]);
    assert_code(&run, 0);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
}

fn lambda(ctx: &AwsContext) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&ctx.sdk)
}

/// The published versions of `function` (not `$LATEST`), oldest first.
async fn published_versions(ctx: &AwsContext, function: &str) -> Vec<String> {
    let Ok(out) = lambda(ctx)
        .list_versions_by_function()
        .function_name(function)
        .send()
        .await
    else {
        return Vec::new();
    };
    out.versions()
        .iter()
        .filter_map(|v| v.version())
        .filter(|v| *v != "$LATEST")
        .map(str::to_string)
        .collect()
}

/// The version alias `name` of `function` points at, or `None` when there is no such alias.
async fn alias_version(ctx: &AwsContext, function: &str, name: &str) -> Option<String> {
    lambda(ctx)
        .get_alias()
        .function_name(function)
        .name(name)
        .send()
        .await
        .ok()
        .map(|a| a.function_version().unwrap_or_default().to_string())
}

/// The numbers of the versions layer `layer` has.
async fn layer_versions(ctx: &AwsContext, layer: &str) -> Vec<i64> {
    let Ok(out) = lambda(ctx)
        .list_layer_versions()
        .layer_name(layer)
        .send()
        .await
    else {
        return Vec::new();
    };
    let mut versions: Vec<i64> = out.layer_versions().iter().map(|v| v.version()).collect();
    versions.sort_unstable();
    versions
}

/// The function URL's authorization type and CORS `max_age`, or `None` without a URL.
async fn url_settings(ctx: &AwsContext, function: &str) -> Option<(String, Option<i32>)> {
    let out = lambda(ctx)
        .get_function_url_config()
        .function_name(function)
        .send()
        .await
        .ok()?;
    Some((
        out.auth_type().as_str().to_string(),
        out.cors().and_then(|c| c.max_age()),
    ))
}

/// The statement ids in the policy of `function` (qualified by `qualifier`).
async fn statement_ids(ctx: &AwsContext, function: &str, qualifier: Option<&str>) -> Vec<String> {
    let Ok(out) = lambda(ctx)
        .get_policy()
        .function_name(function)
        .set_qualifier(qualifier.map(str::to_string))
        .send()
        .await
    else {
        return Vec::new();
    };
    let policy: serde_json::Value = serde_json::from_str(out.policy().unwrap_or("{}")).unwrap();
    policy["Statement"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|s| s["Sid"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The Lambda stack: a layer, a function using it that publishes versions, an alias on its
/// latest version, a URL and a permission. `alias` is the alias's name; `url` the URL's
/// settings; `permission_qualifier` an extra line of the permission's properties.
fn lambda_stack(alias: &str, alias_description: &str, url: &str, permission_extra: &str) -> String {
    format!(
        r#"stack: more
region: us-east-1
resources:
{ROLE}  deps:
    type: aws.lambda.layer_version
    properties:
      layer_name: more-deps
      code: {{ path: ./layer }}
      compatible_runtimes: [python3.12, python3.11]
      description: shared helpers
      license_info: MIT
  api:
    type: aws.lambda.function
    properties:
      name: more-api
      runtime: python3.12
      handler: index.handler
      role: ${{role.arn}}
      code: {{ path: ./src }}
      layers: ["${{deps.arn}}"]
      publish: true
  live:
    type: aws.lambda.alias
    properties:
      name: {alias}
      function_name: ${{api.name}}
      function_version: ${{api.version}}
      description: {alias_description}
  url:
    type: aws.lambda.function_url
    properties:
      function_name: ${{api.name}}
{url}
  allow_api:
    type: aws.lambda.permission
    properties:
      function_name: ${{api.name}}
      principal: apigateway.amazonaws.com
      source_account: "{ACCOUNT}"
{permission_extra}
"#
    )
}

const URL_V1: &str = r#"      authorization_type: NONE
      cors: { allow_origins: ["https://b.example", "https://a.example"], allow_methods: [GET], max_age: 300 }"#;
const URL_V2: &str = r#"      authorization_type: AWS_IAM
      cors: { allow_origins: ["https://b.example", "https://a.example"], allow_methods: [GET], max_age: 600 }"#;
const URL_V3: &str = r#"      qualifier: ${live.name}
      authorization_type: AWS_IAM
      cors: { allow_origins: ["https://b.example", "https://a.example"], allow_methods: [GET], max_age: 600 }"#;

#[tokio::test(flavor = "multi_thread")]
async fn published_versions_aliases_layers_urls_and_qualified_permissions_live_their_whole_life() {
    let p = Project::new(&lambda_stack("live", "what callers use", URL_V1, ""));
    write_handler(&p.path().join("src"), "one");
    write_layer(&p.path().join("layer"), "first");
    let ctx = p.ctx();

    // Created: the function published version 1, the alias points at it, the layer is at 1.
    apply(&p);
    assert_eq!(published_versions(&ctx, "more-api").await, vec!["1"]);
    assert_eq!(recorded_attr(&p, "more", "api", "version"), "1");
    assert!(recorded_attr(&p, "more", "api", "qualified_arn").ends_with(":function:more-api:1"));
    assert_eq!(
        alias_version(&ctx, "more-api", "live").await.as_deref(),
        Some("1")
    );
    assert_eq!(layer_versions(&ctx, "more-deps").await, vec![1]);
    let layer_v1 = recorded_id(&p, "more", "deps");
    assert!(layer_v1.ends_with(":layer:more-deps:1"), "{layer_v1}");
    assert_eq!(
        url_settings(&ctx, "more-api").await,
        Some(("NONE".to_string(), Some(300)))
    );
    let url_id = recorded_attr(&p, "more", "url", "url_id");
    assert!(recorded_attr(&p, "more", "url", "function_url").contains(&url_id));
    let statement = recorded_attr(&p, "more", "allow_api", "statement_id");
    assert!(statement_ids(&ctx, "more-api", None)
        .await
        .contains(&statement));
    let alias_arn = recorded_id(&p, "more", "live");
    assert_eq!(
        alias_arn,
        format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:more-api:live")
    );
    assert_clean_plan(&p);

    // In place: new code publishes version 2 and the alias moves to it, keeping its ARN; the
    // URL changes its authorization and CORS, keeping its URL.
    write_handler(&p.path().join("src"), "two");
    p.write_stack(&lambda_stack("live", "what callers call", URL_V2, ""));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(!run.stdout.contains("-/+"), "{}", run.stdout);
    apply(&p);
    assert_eq!(published_versions(&ctx, "more-api").await, vec!["1", "2"]);
    assert_eq!(recorded_attr(&p, "more", "api", "version"), "2");
    assert_eq!(
        alias_version(&ctx, "more-api", "live").await.as_deref(),
        Some("2")
    );
    assert_eq!(recorded_id(&p, "more", "live"), alias_arn);
    assert_eq!(
        url_settings(&ctx, "more-api").await,
        Some(("AWS_IAM".to_string(), Some(600)))
    );
    assert_eq!(recorded_attr(&p, "more", "url", "url_id"), url_id);
    assert_clean_plan(&p);

    // Replacing: new layer sources publish layer version 2 (the function takes it, which
    // publishes function version 3), a new alias name makes a new alias, the URL moves to the
    // alias, and the permission gains the alias as its qualifier.
    write_layer(&p.path().join("layer"), "second");
    p.write_stack(&lambda_stack(
        "current",
        "what callers call",
        URL_V3,
        "      qualifier: ${live.name}",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    for replaced in [
        "-/+ deps (aws.lambda.layer_version) must be replaced",
        "-/+ live (aws.lambda.alias) must be replaced",
        "-/+ url (aws.lambda.function_url) must be replaced",
        "-/+ allow_api (aws.lambda.permission) must be replaced",
    ] {
        assert!(run.stdout.contains(replaced), "{replaced}\n{}", run.stdout);
    }
    apply(&p);
    assert_eq!(layer_versions(&ctx, "more-deps").await, vec![2]);
    let layer_v2 = recorded_id(&p, "more", "deps");
    assert!(layer_v2.ends_with(":layer:more-deps:2"), "{layer_v2}");
    assert_eq!(
        published_versions(&ctx, "more-api").await,
        vec!["1", "2", "3"]
    );
    assert_eq!(alias_version(&ctx, "more-api", "live").await, None);
    assert_eq!(
        alias_version(&ctx, "more-api", "current").await.as_deref(),
        Some("3")
    );
    assert_eq!(recorded_id(&p, "more", "url"), "more-api/current");
    assert!(statement_ids(&ctx, "more-api", Some("current"))
        .await
        .contains(&statement));
    let permission_id = recorded_id(&p, "more", "allow_api");
    assert_eq!(permission_id, format!("more-api:current/{statement}"));
    assert_clean_plan(&p);

    // Forgotten and imported again, each by the id import takes: nothing to do after.
    reimport(&p, "deps", &layer_v2);
    reimport(&p, "live", "more-api/current");
    reimport(&p, "url", "more-api/current");
    reimport(&p, "allow_api", &permission_id);
    // An imported function's code is compared with the package `./src` makes, as after an
    // apply: the same sources, nothing to do, and no version published.
    reimport(&p, "api", "more-api");
    assert_eq!(
        published_versions(&ctx, "more-api").await,
        vec!["1", "2", "3"]
    );

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(lambda(&ctx)
        .get_function()
        .function_name("more-api")
        .send()
        .await
        .is_err());
    assert!(layer_versions(&ctx, "more-deps").await.is_empty());
}

/// An HTTP API whose route (at `route_address`, for `route_key`) is guarded by authorizer
/// `auth` and integrated with a Lambda alias. `authorizer` is the authorizer's properties;
/// `route` the route's authorization lines.
fn api_stack(authorizer: &str, route_address: &str, route_key: &str, route: &str) -> String {
    format!(
        r#"stack: gw
region: us-east-1
resources:
{ROLE}  fn:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: index.handler
      role: ${{role.arn}}
      code: {{ path: ./src }}
      publish: true
  live:
    type: aws.lambda.alias
    properties:
      name: live
      function_name: ${{fn.name}}
      function_version: ${{fn.version}}
  http:
    type: aws.apigatewayv2.api
    properties:
      name: gw-http
      protocol_type: HTTP
  auth:
    type: aws.apigatewayv2.authorizer
    properties:
      api_id: ${{http.id}}
{authorizer}
  backend:
    type: aws.apigatewayv2.integration
    properties:
      api_id: ${{http.id}}
      integration_type: AWS_PROXY
      integration_uri: ${{live.invoke_arn}}
  {route_address}:
    type: aws.apigatewayv2.route
    properties:
      api_id: ${{http.id}}
      route_key: "{route_key}"
      target: integrations/${{backend.id}}
      authorizer_id: ${{auth.id}}
{route}
  default_stage:
    type: aws.apigatewayv2.stage
    properties:
      api_id: ${{http.id}}
      name: $default
      auto_deploy: true
  allow_api:
    type: aws.lambda.permission
    properties:
      function_name: ${{fn.name}}
      qualifier: ${{live.name}}
      principal: apigateway.amazonaws.com
      source_arn: ${{http.execution_arn}}/*/*
"#
    )
}

const JWT_V1: &str = r#"      authorizer_type: JWT
      identity_sources: [$request.header.Authorization]
      jwt_configuration: { audience: [orders], issuer: "https://issuer.example.com" }"#;
const JWT_V2: &str = r#"      authorizer_type: JWT
      identity_sources: [$request.header.Authorization]
      jwt_configuration: { audience: [web, orders], issuer: "https://login.example.com" }"#;
const LAMBDA_AUTH: &str = r#"      authorizer_type: REQUEST
      authorizer_uri: ${live.invoke_arn}
      identity_sources: [$request.header.X-Api-Key]
      authorizer_payload_format_version: "2.0"
      enable_simple_responses: true"#;
const JWT_ROUTE_V1: &str = r#"      authorization_type: JWT
      authorization_scopes: [orders.read]"#;
const JWT_ROUTE_V2: &str = r#"      authorization_type: JWT
      authorization_scopes: [orders.write, orders.read]"#;
const CUSTOM_ROUTE: &str = "      authorization_type: CUSTOM";

fn apis(ctx: &AwsContext) -> aws_sdk_apigatewayv2::Client {
    aws_sdk_apigatewayv2::Client::new(&ctx.sdk)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http_api_route_behind_a_jwt_authorizer_and_a_lambda_alias_lives_its_whole_life() {
    let p = Project::new(&api_stack(JWT_V1, "orders", "GET /orders", JWT_ROUTE_V1));
    write_handler(&p.path().join("src"), "orders");
    let ctx = p.ctx();

    apply(&p);
    let api_id = recorded_id(&p, "gw", "http");
    let auth_id = recorded_id(&p, "gw", "auth");
    let route_id = recorded_id(&p, "gw", "orders");
    let found = apis(&ctx)
        .get_authorizer()
        .api_id(&api_id)
        .authorizer_id(&auth_id)
        .send()
        .await
        .unwrap();
    assert_eq!(found.authorizer_type().map(|t| t.as_str()), Some("JWT"));
    assert_eq!(found.name(), Some("gw-auth"));
    let jwt = found.jwt_configuration().unwrap();
    assert_eq!(jwt.issuer(), Some("https://issuer.example.com"));
    assert_eq!(jwt.audience(), ["orders"]);
    let route = apis(&ctx)
        .get_route()
        .api_id(&api_id)
        .route_id(&route_id)
        .send()
        .await
        .unwrap();
    assert_eq!(route.authorization_type().map(|a| a.as_str()), Some("JWT"));
    assert_eq!(route.authorizer_id(), Some(auth_id.as_str()));
    assert_eq!(route.authorization_scopes(), ["orders.read"]);
    let integration = apis(&ctx)
        .get_integration()
        .api_id(&api_id)
        .integration_id(recorded_id(&p, "gw", "backend"))
        .send()
        .await
        .unwrap();
    assert!(integration
        .integration_uri()
        .unwrap()
        .contains(":function:gw-fn:live/invocations"));
    assert!(statement_ids(&ctx, "gw-fn", Some("live"))
        .await
        .contains(&recorded_attr(&p, "gw", "allow_api", "statement_id")));
    assert_clean_plan(&p);

    // In place: another issuer and audience, and another scope; both keep their ids.
    p.write_stack(&api_stack(JWT_V2, "orders", "GET /orders", JWT_ROUTE_V2));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    apply(&p);
    assert_eq!(recorded_id(&p, "gw", "auth"), auth_id);
    assert_eq!(recorded_id(&p, "gw", "orders"), route_id);
    let found = apis(&ctx)
        .get_authorizer()
        .api_id(&api_id)
        .authorizer_id(&auth_id)
        .send()
        .await
        .unwrap();
    let jwt = found.jwt_configuration().unwrap();
    assert_eq!(jwt.issuer(), Some("https://login.example.com"));
    let mut audience = jwt.audience().to_vec();
    audience.sort();
    assert_eq!(audience, ["orders", "web"]);
    assert_clean_plan(&p);

    // Replacing: a Lambda REQUEST authorizer in place of the JWT one is a new authorizer; the
    // JWT route goes (its scopes with it) and a route for the Lambda authorizer comes.
    p.write_stack(&api_stack(LAMBDA_AUTH, "admin", "GET /admin", CUSTOM_ROUTE));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ auth (aws.apigatewayv2.authorizer) must be replaced"),
        "{}",
        run.stdout
    );
    apply(&p);
    let new_auth = recorded_id(&p, "gw", "auth");
    assert_ne!(new_auth, auth_id);
    assert!(apis(&ctx)
        .get_authorizer()
        .api_id(&api_id)
        .authorizer_id(&auth_id)
        .send()
        .await
        .is_err());
    let found = apis(&ctx)
        .get_authorizer()
        .api_id(&api_id)
        .authorizer_id(&new_auth)
        .send()
        .await
        .unwrap();
    assert_eq!(found.authorizer_type().map(|t| t.as_str()), Some("REQUEST"));
    // Unless given, a REQUEST authorizer of an HTTP API caches answers for 300 s.
    assert_eq!(found.authorizer_result_ttl_in_seconds(), Some(300));
    assert!(found
        .authorizer_uri()
        .unwrap()
        .contains(":function:gw-fn:live/invocations"));
    let route = apis(&ctx)
        .get_route()
        .api_id(&api_id)
        .route_id(recorded_id(&p, "gw", "admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        route.authorization_type().map(|a| a.as_str()),
        Some("CUSTOM")
    );
    assert!(apis(&ctx)
        .get_route()
        .api_id(&api_id)
        .route_id(&route_id)
        .send()
        .await
        .is_err());
    assert_eq!(route.authorizer_id(), Some(new_auth.as_str()));
    assert_clean_plan(&p);

    reimport(&p, "auth", &format!("{api_id}/{new_auth}"));
    let route_id = recorded_id(&p, "gw", "admin");
    reimport(&p, "admin", &format!("{api_id}/{route_id}"));

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(apis(&ctx).get_api().api_id(&api_id).send().await.is_err());
    assert!(lambda(&ctx)
        .get_function()
        .function_name("gw-fn")
        .send()
        .await
        .is_err());
}
