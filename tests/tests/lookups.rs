//! Lookups (SPEC §10) against the emulator, through `providers::lookups::read_lookup` and the
//! test kit's SDK context: every lookup type finds what exists, says so naming the type and
//! its filter when nothing matches, and, where it gives one object, refuses a filter that
//! matches more than one. Secrets come back sensitive.
//!
//! Single-valued types whose names AWS keeps unique in a region (a role, a parameter, a secret,
//! a topic, a queue, a function, a bucket) cannot match two objects; for them "more than one"
//! is the unit test of `only` in the provider crate, and here only found and not found.

use providers::aws::AwsContext;
use providers::lookups::{read_lookup, LookupError};
use serde_json::json;
use stacks::Value;
use strata_tests::kit::{self, ACCOUNT};
use strata_tests::Emulator;

/// Reads lookup `type_name` with `args`.
async fn read(
    ctx: &AwsContext,
    type_name: &str,
    args: serde_json::Value,
) -> Result<Value, LookupError> {
    read_lookup(ctx, type_name, &Value::from_json(args)).await
}

/// Reads a lookup that must find something, and returns its attributes.
async fn found(ctx: &AwsContext, type_name: &str, args: serde_json::Value) -> stacks::Map {
    match read(ctx, type_name, args.clone()).await {
        Ok(Value::Map(map)) => map,
        other => panic!("{type_name} {args}: {other:?}"),
    }
}

fn string(map: &stacks::Map, attr: &str) -> String {
    map.get(attr)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("`{attr}` is not a string: {map:?}"))
        .to_string()
}

fn strings(map: &stacks::Map, attr: &str) -> Vec<String> {
    map.get(attr)
        .and_then(Value::as_list)
        .unwrap_or_else(|| panic!("`{attr}` is not a list: {map:?}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The lookup finds nothing, and the error names the type and the filter's `shown` part.
async fn assert_not_found(ctx: &AwsContext, type_name: &str, args: serde_json::Value, shown: &str) {
    let err = read(ctx, type_name, args).await.unwrap_err();
    assert!(matches!(err, LookupError::NotFound { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{type_name} found nothing matching")),
        "{message}"
    );
    assert!(message.contains(shown), "{message}");
}

/// The lookup matches more than one, and the error names the type, the filter and each match.
async fn assert_ambiguous(
    ctx: &AwsContext,
    type_name: &str,
    args: serde_json::Value,
    matches: &[&str],
) {
    let err = read(ctx, type_name, args).await.unwrap_err();
    let LookupError::Ambiguous { found, .. } = &err else {
        panic!("not ambiguous: {err:?}");
    };
    let mut expected: Vec<String> = matches.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(found, &expected);
    let message = err.to_string();
    assert!(message.starts_with(type_name), "{message}");
    assert!(message.contains("narrow the filter"), "{message}");
    for id in matches {
        assert!(message.contains(id), "{message}");
    }
}

async fn vpc(ec2: &aws_sdk_ec2::Client, cidr: &str, name: &str) -> String {
    let out = ec2.create_vpc().cidr_block(cidr).send().await.unwrap();
    let id = out.vpc().unwrap().vpc_id().unwrap().to_string();
    tag(ec2, &id, &[("Name", name), ("env", "test")]).await;
    id
}

async fn tag(ec2: &aws_sdk_ec2::Client, id: &str, tags: &[(&str, &str)]) {
    let tags = tags
        .iter()
        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build());
    ec2.create_tags()
        .resources(id)
        .set_tags(Some(tags.collect()))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn ec2_lookups_find_zones_a_vpc_its_subnets_and_a_security_group() {
    let emu = Emulator::start();
    let ctx = kit::context(&emu);
    let ec2 = aws_sdk_ec2::Client::new(&ctx.sdk);

    // Availability zones: every zone of the region, sorted, names and ids in step.
    let zones = found(&ctx, "aws.ec2.availability_zones", json!({})).await;
    let names = strings(&zones, "names");
    assert!(names.contains(&"us-east-1a".to_string()), "{names:?}");
    assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    assert_eq!(strings(&zones, "zone_ids").len(), names.len());
    let fewer = found(
        &ctx,
        "aws.ec2.availability_zones",
        json!({ "state": "available", "exclude_names": ["us-east-1a"] }),
    )
    .await;
    assert_eq!(strings(&fewer, "names"), names[1..].to_vec());

    // VPCs: by tags (SPEC's `filter: { tags: ... }` and Terraform's `tags`), id, CIDR, default.
    let shared = vpc(&ec2, "10.1.0.0/16", "shared").await;
    let other = vpc(&ec2, "10.2.0.0/16", "other").await;
    let by_tags = found(
        &ctx,
        "aws.ec2.vpc",
        json!({ "filter": { "tags": { "Name": "shared" } } }),
    )
    .await;
    assert_eq!(string(&by_tags, "id"), shared);
    assert_eq!(string(&by_tags, "cidr_block"), "10.1.0.0/16");
    assert_eq!(
        string(&by_tags, "arn"),
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/{shared}")
    );
    assert_eq!(
        by_tags["tags"],
        Value::from_json(json!({ "Name": "shared", "env": "test" }))
    );
    assert_eq!(by_tags["default"], Value::Bool(false));
    let by_id = found(&ctx, "aws.ec2.vpc", json!({ "id": other })).await;
    assert_eq!(string(&by_id, "cidr_block"), "10.2.0.0/16");
    let by_cidr = found(&ctx, "aws.ec2.vpc", json!({ "cidr_block": "10.2.0.0/16" })).await;
    assert_eq!(string(&by_cidr, "id"), other);
    let by_ec2_filter = found(
        &ctx,
        "aws.ec2.vpc",
        json!({ "tags": { "env": "test" }, "filter": { "cidr": "10.1.0.0/16" } }),
    )
    .await;
    assert_eq!(string(&by_ec2_filter, "id"), shared);
    let default = found(&ctx, "aws.ec2.vpc", json!({ "default": true })).await;
    assert_eq!(default["default"], Value::Bool(true));
    assert_ne!(string(&default, "id"), shared);
    assert_ambiguous(
        &ctx,
        "aws.ec2.vpc",
        json!({ "tags": { "env": "test" } }),
        &[&shared, &other],
    )
    .await;
    assert_not_found(
        &ctx,
        "aws.ec2.vpc",
        json!({ "filter": { "tags": { "Name": "missing" } } }),
        r#"{ filter: { tags: { Name: "missing" } } }"#,
    )
    .await;

    // Subnets: every match, sorted; none is an empty list, not an error.
    let mut in_shared = Vec::new();
    for cidr in ["10.1.1.0/24", "10.1.2.0/24"] {
        let out = ec2
            .create_subnet()
            .vpc_id(&shared)
            .cidr_block(cidr)
            .send()
            .await
            .unwrap();
        in_shared.push(out.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    ec2.create_subnet()
        .vpc_id(&other)
        .cidr_block("10.2.1.0/24")
        .send()
        .await
        .unwrap();
    in_shared.sort();
    let subnets = found(
        &ctx,
        "aws.ec2.subnets",
        json!({ "filter": { "vpc-id": shared } }),
    )
    .await;
    assert_eq!(strings(&subnets, "ids"), in_shared);
    let none = found(
        &ctx,
        "aws.ec2.subnets",
        json!({ "filter": { "vpc-id": "vpc-00000000" } }),
    )
    .await;
    assert_eq!(strings(&none, "ids"), Vec::<String>::new());

    // Security groups: a name used in two VPCs needs the VPC too.
    let mut web = Vec::new();
    for in_vpc in [&shared, &other] {
        let out = ec2
            .create_security_group()
            .group_name("web")
            .description("web servers")
            .vpc_id(in_vpc)
            .send()
            .await
            .unwrap();
        web.push(out.group_id().unwrap().to_string());
    }
    let group = found(
        &ctx,
        "aws.ec2.security_group",
        json!({ "name": "web", "vpc_id": shared }),
    )
    .await;
    assert_eq!(string(&group, "id"), web[0]);
    assert_eq!(string(&group, "vpc_id"), shared);
    assert_eq!(string(&group, "description"), "web servers");
    assert_eq!(
        string(&group, "arn"),
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{}", web[0])
    );
    let by_id = found(&ctx, "aws.ec2.security_group", json!({ "id": web[1] })).await;
    assert_eq!(string(&by_id, "vpc_id"), other);
    assert_ambiguous(
        &ctx,
        "aws.ec2.security_group",
        json!({ "name": "web" }),
        &[&web[0], &web[1]],
    )
    .await;
    assert_not_found(
        &ctx,
        "aws.ec2.security_group",
        json!({ "name": "nope" }),
        r#"{ name: "nope" }"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_lookups_find_aws_managed_and_own_policies_and_roles() {
    let emu = Emulator::start();
    let ctx = kit::context(&emu);
    let iam = aws_sdk_iam::Client::new(&ctx.sdk);

    // An AWS managed policy, by name (SPEC §10's example).
    let admin = found(
        &ctx,
        "aws.iam.policy",
        json!({ "name": "AdministratorAccess" }),
    )
    .await;
    assert_eq!(
        string(&admin, "arn"),
        "arn:aws:iam::aws:policy/AdministratorAccess"
    );
    let document: serde_json::Value = serde_json::from_str(&string(&admin, "policy")).unwrap();
    assert_eq!(document["Statement"][0]["Action"], "*");

    // A customer policy of the same name as an AWS managed one (IAM allows it): the name alone
    // matches both, a path prefix tells them apart.
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"*"}]}"#;
    let own = iam
        .create_policy()
        .policy_name("AdministratorAccess")
        .path("/team-a/")
        .description("not what it says")
        .policy_document(document)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    assert_eq!(
        own,
        format!("arn:aws:iam::{ACCOUNT}:policy/team-a/AdministratorAccess")
    );
    assert_ambiguous(
        &ctx,
        "aws.iam.policy",
        json!({ "name": "AdministratorAccess" }),
        &["arn:aws:iam::aws:policy/AdministratorAccess", &own],
    )
    .await;
    let team_a = found(
        &ctx,
        "aws.iam.policy",
        json!({ "name": "AdministratorAccess", "path_prefix": "/team-a/" }),
    )
    .await;
    assert_eq!(string(&team_a, "arn"), own);
    assert_eq!(string(&team_a, "path"), "/team-a/");
    assert_eq!(string(&team_a, "description"), "not what it says");
    let written: serde_json::Value = serde_json::from_str(document).unwrap();
    let read: serde_json::Value = serde_json::from_str(&string(&team_a, "policy")).unwrap();
    assert_eq!(read, written);
    let by_arn = found(
        &ctx,
        "aws.iam.policy",
        json!({ "arn": "arn:aws:iam::aws:policy/AdministratorAccess" }),
    )
    .await;
    assert_eq!(string(&by_arn, "name"), "AdministratorAccess");
    assert_eq!(string(&by_arn, "path"), "/");
    assert_not_found(
        &ctx,
        "aws.iam.policy",
        json!({ "name": "NoSuchPolicy" }),
        "NoSuchPolicy",
    )
    .await;
    assert_not_found(
        &ctx,
        "aws.iam.policy",
        json!({ "arn": format!("arn:aws:iam::{ACCOUNT}:policy/gone") }),
        "policy/gone",
    )
    .await;

    // A role, by name.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("app-role")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let role = found(&ctx, "aws.iam.role", json!({ "name": "app-role" })).await;
    assert_eq!(
        string(&role, "arn"),
        format!("arn:aws:iam::{ACCOUNT}:role/app-role")
    );
    let read: serde_json::Value =
        serde_json::from_str(&string(&role, "assume_role_policy")).unwrap();
    assert_eq!(
        read,
        serde_json::from_str::<serde_json::Value>(trust).unwrap()
    );
    assert_not_found(
        &ctx,
        "aws.iam.role",
        json!({ "name": "no-role" }),
        "no-role",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn parameter_and_secret_lookups_keep_secrets_sensitive() {
    let emu = Emulator::start();
    let ctx = kit::context(&emu);
    let ssm = aws_sdk_ssm::Client::new(&ctx.sdk);
    use aws_sdk_ssm::types::ParameterType;
    for (name, kind, value) in [
        ("/conf/endpoint", ParameterType::String, "db.internal:5432"),
        (
            "/conf/password",
            ParameterType::SecureString,
            "Pa55-TOPSECRET",
        ),
    ] {
        ssm.put_parameter()
            .name(name)
            .r#type(kind)
            .value(value)
            .send()
            .await
            .unwrap();
    }
    let plain = found(
        &ctx,
        "aws.ssm.parameter",
        json!({ "name": "/conf/endpoint" }),
    )
    .await;
    assert_eq!(plain["value"], Value::str("db.internal:5432"));
    assert_eq!(string(&plain, "type"), "String");
    assert_eq!(plain["version"], Value::int(1));
    let secure = found(
        &ctx,
        "aws.ssm.parameter",
        json!({ "name": "/conf/password" }),
    )
    .await;
    assert_eq!(
        secure["value"],
        Value::Sensitive(Box::new(Value::str("Pa55-TOPSECRET")))
    );
    assert!(!Value::Map(secure.clone()).render().contains("TOPSECRET"));
    assert_eq!(string(&secure, "type"), "SecureString");
    assert_not_found(
        &ctx,
        "aws.ssm.parameter",
        json!({ "name": "/conf/nope" }),
        "/conf/nope",
    )
    .await;

    let secrets = aws_sdk_secretsmanager::Client::new(&ctx.sdk);
    let created = secrets
        .create_secret()
        .name("db-credentials")
        .secret_string(r#"{"password":"S3cret-TOPSECRET"}"#)
        .send()
        .await
        .unwrap();
    let version = found(
        &ctx,
        "aws.secretsmanager.secret_version",
        json!({ "secret_id": "db-credentials" }),
    )
    .await;
    assert_eq!(
        version["secret_string"],
        Value::Sensitive(Box::new(Value::str(r#"{"password":"S3cret-TOPSECRET"}"#)))
    );
    assert!(!Value::Map(version.clone()).render().contains("TOPSECRET"));
    assert_eq!(string(&version, "arn"), created.arn().unwrap());
    assert_eq!(
        string(&version, "version_id"),
        created.version_id().unwrap()
    );
    assert!(strings(&version, "version_stages").contains(&"AWSCURRENT".to_string()));
    assert_not_found(
        &ctx,
        "aws.secretsmanager.secret_version",
        json!({ "secret_id": "no-such-secret" }),
        "no-such-secret",
    )
    .await;
}

/// A deployment package Lambda accepts: one Python file.
fn handler_zip() -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file("index.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    writer
        .write_all(b"def handler(event, context):\n    return event\n")
        .unwrap();
    writer.finish().unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread")]
async fn topic_queue_function_and_bucket_lookups_find_by_name() {
    let emu = Emulator::start();
    let ctx = kit::context(&emu);

    // A topic whose name another topic's name ends with is not taken for it.
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);
    let orders = sns.create_topic().name("orders").send().await.unwrap();
    sns.create_topic().name("old-orders").send().await.unwrap();
    let topic = found(&ctx, "aws.sns.topic", json!({ "name": "orders" })).await;
    assert_eq!(string(&topic, "arn"), orders.topic_arn().unwrap());
    assert_not_found(&ctx, "aws.sns.topic", json!({ "name": "nope" }), "nope").await;

    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
    let url = sqs
        .create_queue()
        .queue_name("jobs")
        .tags("team", "payments")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let queue = found(&ctx, "aws.sqs.queue", json!({ "name": "jobs" })).await;
    assert_eq!(string(&queue, "url"), url);
    assert_eq!(
        string(&queue, "arn"),
        format!("arn:aws:sqs:us-east-1:{ACCOUNT}:jobs")
    );
    assert_eq!(
        queue["tags"],
        Value::from_json(json!({ "team": "payments" }))
    );
    assert_not_found(&ctx, "aws.sqs.queue", json!({ "name": "nope" }), "nope").await;

    let iam = aws_sdk_iam::Client::new(&ctx.sdk);
    let role = iam
        .create_role()
        .role_name("worker-role")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    lambda
        .create_function()
        .function_name("worker")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("index.handler")
        .role(&role_arn)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(handler_zip().into())
                .build(),
        )
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("TOKEN", "tok-TOPSECRET")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let function = found(
        &ctx,
        "aws.lambda.function",
        json!({ "function_name": "worker" }),
    )
    .await;
    let arn = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:worker");
    assert_eq!(string(&function, "arn"), arn);
    assert_eq!(string(&function, "qualified_arn"), format!("{arn}:$LATEST"));
    assert_eq!(
        string(&function, "invoke_arn"),
        format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations")
    );
    assert_eq!(string(&function, "role"), role_arn);
    assert_eq!(string(&function, "runtime"), "python3.12");
    assert!(matches!(function["environment"], Value::Sensitive(_)));
    assert!(!Value::Map(function.clone()).render().contains("TOPSECRET"));
    assert_not_found(
        &ctx,
        "aws.lambda.function",
        json!({ "function_name": "nope" }),
        "nope",
    )
    .await;

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&ctx.sdk)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("acme-assets")
        .send()
        .await
        .unwrap();
    let bucket = found(&ctx, "aws.s3.bucket", json!({ "bucket": "acme-assets" })).await;
    assert_eq!(string(&bucket, "arn"), "arn:aws:s3:::acme-assets");
    assert_eq!(string(&bucket, "region"), "us-east-1");
    assert_eq!(
        string(&bucket, "bucket_regional_domain_name"),
        "acme-assets.s3.us-east-1.amazonaws.com"
    );
    assert_not_found(
        &ctx,
        "aws.s3.bucket",
        json!({ "bucket": "no-such-bucket-here" }),
        "no-such-bucket-here",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_type_or_argument_is_refused_before_any_cloud_call() {
    // No emulator: nothing may be called.
    let ctx = AwsContext::for_endpoint("http://127.0.0.1:9", "us-east-1");
    let err = read(&ctx, "aws.ec2.vpcs", json!({})).await.unwrap_err();
    assert_eq!(err.to_string(), "unknown lookup type `aws.ec2.vpcs`");
    let err = read(&ctx, "aws.sqs.queue", json!({ "queue_name": "jobs" }))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown argument `queue_name` (it takes name)"),
        "{err}"
    );
    let err = read(&ctx, "aws.sqs.queue", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("`name` is required"), "{err}");
}
