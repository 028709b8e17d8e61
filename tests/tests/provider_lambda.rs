//! The Lambda providers (`aws.lambda.function`, `aws.lambda.permission`,
//! `aws.lambda.event_source_mapping`) against the local emulator: create, read back through the
//! SDK and through the provider, update in place, find, delete, and delete again; the
//! deterministic packaging of code; and code changes seen through read, update and the CLI.
//! Functions are never invoked (the emulator would need Docker).

use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, SystemTime};

use providers::aws::AwsContext;
use providers::lambda::code::{code_sha256, package_path, zip_directory};
use providers::lambda::event_source_mapping::EventSourceMappingProvider;
use providers::lambda::function::{FunctionProvider, CODE_CHANGED};
use providers::lambda::permission::PermissionProvider;
use serde_json::json;
use stacks::{Map, Value};
use strata_tests::kit::{
    assert_reads_back_as_planned, context, delete, differing, map, read, refresh, update,
    TestStack, ACCOUNT,
};
use strata_tests::{assert_code, run_strata, Emulator};

const STACK: TestStack = TestStack::named("orders");

/// A role Lambda can assume (the emulator checks that the role exists).
async fn lambda_role(ctx: &AwsContext, name: &str) -> String {
    let iam = aws_sdk_iam::Client::new(&ctx.sdk);
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Principal": { "Service": "lambda.amazonaws.com" },
                        "Action": "sts:AssumeRole" }]
    });
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string()
}

/// A small Python function's sources in `dir`.
fn write_sources(dir: &Path, greeting: &str) {
    fs::create_dir_all(dir.join("lib")).unwrap();
    fs::write(
        dir.join("index.py"),
        format!("from lib.words import word\n\ndef handler(event, context):\n    return word() + {greeting:?}\n"),
    )
    .unwrap();
    fs::write(dir.join("lib/__init__.py"), "").unwrap();
    fs::write(
        dir.join("lib/words.py"),
        "def word():\n    return 'hello '\n",
    )
    .unwrap();
}

/// Sets every file's modification time under `dir` to `when`.
fn touch_all(dir: &Path, when: SystemTime) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            touch_all(&path, when);
        } else {
            File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
    }
}

fn function_props(name: &str, role: &str, code: serde_json::Value) -> Map {
    map(json!({
        "name": name,
        "runtime": "python3.12",
        "handler": "index.handler",
        "role": role,
        "code": code,
        "memory_size": 128,
        "timeout": 3,
        "tags": STACK.tags_for(name, json!({})),
    }))
}

async fn live_sha(lambda: &aws_sdk_lambda::Client, name: &str) -> String {
    lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .code_sha256()
        .unwrap()
        .to_string()
}

/// One entry of a zip's central directory, as far as determinism is concerned.
struct ZipEntry {
    name: String,
    dos_time: u16,
    dos_date: u16,
    /// The Unix mode (the high half of the external attributes).
    mode: u32,
}

/// Reads the central directory of a zip archive, in archive order (APPNOTE 4.3.12).
fn central_directory(zip: &[u8]) -> Vec<ZipEntry> {
    let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]);
    let mut entries = Vec::new();
    let mut i = zip
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("a central directory");
    while zip[i..].starts_with(b"PK\x01\x02") {
        let name_len = usize::from(u16_at(i + 28));
        let extra_len = usize::from(u16_at(i + 30));
        let comment_len = usize::from(u16_at(i + 32));
        entries.push(ZipEntry {
            name: String::from_utf8(zip[i + 46..i + 46 + name_len].to_vec()).unwrap(),
            dos_time: u16_at(i + 12),
            dos_date: u16_at(i + 14),
            mode: u32_at(i + 38) >> 16,
        });
        i += 46 + name_len + extra_len + comment_len;
    }
    entries
}

#[test]
fn zipping_the_same_directory_twice_gives_identical_bytes_even_after_touching_mtimes() {
    let dir = tempfile::tempdir().unwrap();
    write_sources(dir.path(), "world");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::write(dir.path().join("bootstrap"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(
            dir.path().join("bootstrap"),
            fs::Permissions::from_mode(0o700),
        )
        .unwrap();
    }
    let first = zip_directory(dir.path()).unwrap();
    let second = zip_directory(dir.path()).unwrap();
    assert_eq!(first, second);

    touch_all(dir.path(), SystemTime::now() + Duration::from_secs(3600));
    let touched = zip_directory(dir.path()).unwrap();
    assert_eq!(first, touched, "modification times leak into the archive");
    let package = package_path(dir.path()).unwrap();
    assert_eq!(package.zip, first);
    assert_eq!(package.sha256, code_sha256(&first));

    // The same files written in another order, in another directory: the same archive.
    let other = tempfile::tempdir().unwrap();
    fs::create_dir_all(other.path().join("lib")).unwrap();
    for name in ["lib/words.py", "lib/__init__.py", "index.py", "bootstrap"] {
        if dir.path().join(name).exists() {
            fs::copy(dir.path().join(name), other.path().join(name)).unwrap();
        }
    }
    assert_eq!(zip_directory(other.path()).unwrap(), first);

    // Entries sorted by path, every timestamp 1980-01-01 00:00, modes 0644 or 0755.
    let entries = central_directory(&first);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.contains(&"lib/words.py"), "{names:?}");
    for entry in &entries {
        assert_eq!(
            (entry.dos_date, entry.dos_time),
            (0x0021, 0),
            "{}",
            entry.name
        );
        let want = if entry.name == "bootstrap" {
            0o100755
        } else {
            0o100644
        };
        assert_eq!(entry.mode, want, "{} has mode {:o}", entry.name, entry.mode);
    }

    // A changed byte is a different package.
    write_sources(dir.path(), "there");
    assert_ne!(package_path(dir.path()).unwrap().sha256, package.sha256);
}

#[test]
fn an_empty_directory_or_a_plain_file_is_not_a_package() {
    let dir = tempfile::tempdir().unwrap();
    let err = package_path(dir.path()).unwrap_err();
    assert!(err.to_string().contains("no files"), "{err}");
    fs::write(dir.path().join("index.py"), "x = 1\n").unwrap();
    let err = package_path(&dir.path().join("index.py")).unwrap_err();
    assert!(err.to_string().contains(".zip"), "{err}");
}

#[tokio::test]
async fn a_function_reads_back_as_requested_updates_in_place_and_deletes_cleanly() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let functions = FunctionProvider::new(&ctx);
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let ec2 = aws_sdk_ec2::Client::new(&ctx.sdk);
    let role = lambda_role(&ctx, "orders-fn").await;
    let src = tempfile::tempdir().unwrap();
    write_sources(src.path(), "world");
    let local_sha = package_path(src.path()).unwrap().sha256;

    let vpc = ec2
        .create_vpc()
        .cidr_block("10.7.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let mut subnets = Vec::new();
    for cidr in ["10.7.1.0/24", "10.7.2.0/24"] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let group = ec2
        .create_security_group()
        .vpc_id(&vpc)
        .group_name("orders-fn")
        .description("orders function")
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    // Subnets in the reverse of any order AWS might use: they must read back as written.
    subnets.reverse();

    let requested = map(json!({
        "name": "orders-api",
        "runtime": "python3.12",
        "handler": "index.handler",
        "role": role,
        "code": { "path": src.path().to_str().unwrap() },
        "memory_size": 256,
        "timeout": 10,
        "environment": { "TABLE": "orders", "LEVEL": "debug" },
        "description": "takes orders",
        "architectures": ["arm64"],
        "vpc_config": { "subnet_ids": subnets, "security_group_ids": [group] },
        "reserved_concurrent_executions": 5,
        "tags": STACK.tags_for("api", json!({ "team": "payments" })),
    }));
    let function = STACK.create(&functions, "api", &requested).await;
    assert_eq!(function.id, "orders-api");
    let arn = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders-api");
    assert_eq!(function.attributes["arn"], Value::str(&arn));
    assert_eq!(function.attributes["name"], Value::str("orders-api"));
    assert_eq!(
        function.attributes["invoke_arn"],
        Value::str(format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
        ))
    );
    assert_eq!(function.attributes["code_sha256"], Value::str(&local_sha));
    assert!(function.attributes["version"].as_str().is_some());

    // Through the SDK.
    let live = lambda
        .get_function()
        .function_name("orders-api")
        .send()
        .await
        .unwrap();
    let config = live.configuration().unwrap();
    assert_eq!(config.runtime().map(|r| r.as_str()), Some("python3.12"));
    assert_eq!(config.handler(), Some("index.handler"));
    assert_eq!(config.role(), Some(role.as_str()));
    assert_eq!(config.memory_size(), Some(256));
    assert_eq!(config.timeout(), Some(10));
    assert_eq!(config.description(), Some("takes orders"));
    assert_eq!(config.code_sha256(), Some(local_sha.as_str()));
    let vars = config.environment().unwrap().variables().unwrap();
    assert_eq!(vars.get("TABLE").map(String::as_str), Some("orders"));
    assert_eq!(
        config
            .architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        vec!["arm64"]
    );
    let mut live_subnets = config.vpc_config().unwrap().subnet_ids().to_vec();
    live_subnets.sort();
    let mut want_subnets = subnets.clone();
    want_subnets.sort();
    assert_eq!(live_subnets, want_subnets);
    assert_eq!(
        live.concurrency()
            .and_then(|c| c.reserved_concurrent_executions()),
        Some(5)
    );
    assert_eq!(
        live.tags().unwrap().get("team").map(String::as_str),
        Some("payments")
    );

    // Through the provider.
    assert_reads_back_as_planned(&functions, &function, &requested);
    let again = refresh(
        &functions,
        "api",
        &function.id,
        &requested,
        &function.attributes,
    )
    .await
    .expect("the function exists");
    assert_reads_back_as_planned(&functions, &again, &requested);

    // In place: configuration, concurrency and tags; the code is not uploaded again.
    let mut second = requested.clone();
    second.insert("memory_size".into(), Value::int(512));
    second.insert("timeout".into(), Value::int(30));
    second.insert(
        "environment".into(),
        Value::from_json(json!({ "TABLE": "orders-v2" })),
    );
    second.insert("description".into(), Value::str("takes more orders"));
    second.remove("reserved_concurrent_executions");
    second.insert(
        "tags".into(),
        Value::from_json(STACK.tags_for("api", json!({ "team": "orders" }))),
    );
    let mut changed_props = vec![
        "memory_size",
        "timeout",
        "environment",
        "description",
        "tags",
    ];
    // An explicit null in the stack takes the reservation away.
    second.insert("reserved_concurrent_executions".into(), Value::Null);
    changed_props.push("reserved_concurrent_executions");
    let updated = update(&functions, "api", &again, &second, &changed_props).await;
    assert_eq!(updated.id, function.id);
    assert_eq!(updated.attributes["arn"], Value::str(&arn));
    assert_eq!(updated.attributes["code_sha256"], Value::str(&local_sha));
    let mut expected = second.clone();
    expected.remove("reserved_concurrent_executions");
    assert_reads_back_as_planned(&functions, &updated, &expected);
    assert!(!updated
        .properties
        .contains_key("reserved_concurrent_executions"));

    let live = lambda
        .get_function()
        .function_name("orders-api")
        .send()
        .await
        .unwrap();
    let config = live.configuration().unwrap();
    assert_eq!(config.memory_size(), Some(512));
    assert_eq!(config.timeout(), Some(30));
    assert_eq!(config.description(), Some("takes more orders"));
    let vars = config.environment().unwrap().variables().unwrap();
    assert_eq!(vars.len(), 1, "{vars:?}");
    assert_eq!(vars.get("TABLE").map(String::as_str), Some("orders-v2"));
    assert!(live
        .concurrency()
        .and_then(|c| c.reserved_concurrent_executions())
        .is_none());
    assert_eq!(
        live.tags().unwrap().get("team").map(String::as_str),
        Some("orders")
    );

    let found = STACK
        .find(&functions, "api", &expected)
        .await
        .expect("found by name");
    assert_eq!(found.id, function.id);
    assert_reads_back_as_planned(&functions, &found, &expected);

    delete(&functions, "api", &updated).await;
    assert!(lambda
        .get_function()
        .function_name("orders-api")
        .send()
        .await
        .is_err());
    delete(&functions, "api", &updated).await;
    assert_eq!(read(&functions, "api", &updated).await, None);
    assert_eq!(STACK.find(&functions, "api", &expected).await, None);
}

#[tokio::test]
async fn an_edited_source_file_reads_as_a_code_change_and_the_update_uploads_it() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let functions = FunctionProvider::new(&ctx);
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let role = lambda_role(&ctx, "orders-code").await;
    let src = tempfile::tempdir().unwrap();
    write_sources(src.path(), "world");

    let requested = function_props(
        "orders-code",
        &role,
        json!({ "path": src.path().to_str().unwrap() }),
    );
    let function = STACK.create(&functions, "code", &requested).await;
    let first_sha = live_sha(&lambda, "orders-code").await;
    assert_eq!(function.attributes["code_sha256"], Value::str(&first_sha));

    // Unchanged sources, even with new modification times: no difference.
    touch_all(src.path(), SystemTime::now() + Duration::from_secs(60));
    let same = refresh(
        &functions,
        "code",
        &function.id,
        &requested,
        &function.attributes,
    )
    .await
    .unwrap();
    assert!(differing(&functions, &same, &requested).is_empty());
    assert_eq!(same.properties["code"], requested["code"]);

    // An edited file: `code` reads back as changed, and only `code`.
    write_sources(src.path(), "strata");
    let edited = refresh(
        &functions,
        "code",
        &function.id,
        &requested,
        &function.attributes,
    )
    .await
    .unwrap();
    assert_eq!(differing(&functions, &edited, &requested), vec!["code"]);
    assert_eq!(
        edited.properties["code"].as_map().unwrap()["path"],
        Value::str(CODE_CHANGED)
    );

    // The update uploads the new package.
    let updated = update(&functions, "code", &edited, &requested, &["code"]).await;
    let second_sha = live_sha(&lambda, "orders-code").await;
    assert_ne!(second_sha, first_sha);
    assert_eq!(second_sha, package_path(src.path()).unwrap().sha256);
    assert_eq!(updated.attributes["code_sha256"], Value::str(&second_sha));
    assert_reads_back_as_planned(&functions, &updated, &requested);
    let after = refresh(
        &functions,
        "code",
        &function.id,
        &requested,
        &updated.attributes,
    )
    .await
    .unwrap();
    assert!(differing(&functions, &after, &requested).is_empty());

    // A directory that is gone reads as changed too (plans and destroys still work).
    let gone = map(json!({ "path": src.path().join("missing").to_str().unwrap() }));
    let mut recorded = requested.clone();
    recorded.insert("code".into(), Value::Map(gone));
    let unreadable = refresh(
        &functions,
        "code",
        &function.id,
        &recorded,
        &updated.attributes,
    )
    .await
    .unwrap();
    assert_eq!(differing(&functions, &unreadable, &recorded), vec!["code"]);

    delete(&functions, "code", &updated).await;
}

#[tokio::test]
async fn a_zip_file_is_uploaded_as_it_is() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let functions = FunctionProvider::new(&ctx);
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let role = lambda_role(&ctx, "orders-zip").await;
    let src = tempfile::tempdir().unwrap();
    write_sources(src.path(), "zip");
    let bytes = zip_directory(src.path()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("function.zip");
    fs::write(&zip, &bytes).unwrap();

    let requested = function_props(
        "orders-zip",
        &role,
        json!({ "path": zip.to_str().unwrap() }),
    );
    let function = STACK.create(&functions, "zip", &requested).await;
    assert_eq!(live_sha(&lambda, "orders-zip").await, code_sha256(&bytes));
    let again = read(&functions, "zip", &function).await.unwrap();
    assert_reads_back_as_planned(&functions, &again, &requested);
    delete(&functions, "zip", &function).await;
}

#[tokio::test]
async fn a_permission_reads_back_as_requested_and_deletes_only_its_statement() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let functions = FunctionProvider::new(&ctx);
    let permissions = PermissionProvider::new(&ctx);
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let role = lambda_role(&ctx, "orders-perm").await;
    let src = tempfile::tempdir().unwrap();
    write_sources(src.path(), "perm");
    let function = STACK
        .create(
            &functions,
            "fn",
            &function_props(
                "orders-fn",
                &role,
                json!({ "path": src.path().to_str().unwrap() }),
            ),
        )
        .await;
    let function_arn = function.attributes["arn"].as_str().unwrap().to_string();

    let api = map(json!({
        "function_name": "orders-fn",
        "principal": "apigateway.amazonaws.com",
        "action": "lambda:InvokeFunction",
        "source_arn": format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/*/*"),
        // The deterministic statement id the core derives from stack and address.
        "statement_id": "orders-allow-api",
    }));
    let allow_api = STACK.create(&permissions, "allow_api", &api).await;
    assert_eq!(allow_api.id, "orders-fn/orders-allow-api");
    assert_eq!(
        allow_api.attributes["statement_id"],
        Value::str("orders-allow-api")
    );
    assert_reads_back_as_planned(&permissions, &allow_api, &api);

    let account = map(json!({
        "function_name": function_arn,
        "principal": ACCOUNT,
        "action": "lambda:GetFunction",
        "source_account": ACCOUNT,
        "statement_id": "orders-allow-account",
    }));
    let allow_account = STACK.create(&permissions, "allow_account", &account).await;
    assert_eq!(
        allow_account.id,
        format!("{function_arn}/orders-allow-account")
    );
    assert_reads_back_as_planned(&permissions, &allow_account, &account);

    // Through the SDK: both statements are in the function's policy.
    let policy = lambda
        .get_policy()
        .function_name("orders-fn")
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let sids: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert!(sids.contains(&"orders-allow-api"), "{policy}");
    assert!(sids.contains(&"orders-allow-account"), "{policy}");

    let again = read(&permissions, "allow_api", &allow_api).await.unwrap();
    assert_reads_back_as_planned(&permissions, &again, &api);
    let found = STACK
        .find(&permissions, "allow_api", &api)
        .await
        .expect("found");
    assert_eq!(found.id, allow_api.id);

    delete(&permissions, "allow_api", &allow_api).await;
    assert_eq!(read(&permissions, "allow_api", &allow_api).await, None);
    assert!(read(&permissions, "allow_account", &allow_account)
        .await
        .is_some());
    delete(&permissions, "allow_api", &allow_api).await;
    assert_eq!(STACK.find(&permissions, "allow_api", &api).await, None);

    // The last statement goes, then the function: its permissions are gone with it.
    delete(&permissions, "allow_account", &allow_account).await;
    assert_eq!(
        read(&permissions, "allow_account", &allow_account).await,
        None
    );
    delete(&functions, "fn", &function).await;
    assert_eq!(read(&permissions, "allow_api", &allow_api).await, None);
    delete(&permissions, "allow_api", &allow_api).await;
}

#[tokio::test]
async fn an_event_source_mapping_updates_in_place_keeping_its_uuid() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let functions = FunctionProvider::new(&ctx);
    let mappings = EventSourceMappingProvider::new(&ctx);
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
    let role = lambda_role(&ctx, "orders-esm").await;
    let src = tempfile::tempdir().unwrap();
    write_sources(src.path(), "esm");
    let code = json!({ "path": src.path().to_str().unwrap() });
    let first = STACK
        .create(
            &functions,
            "worker",
            &function_props("orders-worker", &role, code.clone()),
        )
        .await;
    let second = STACK
        .create(
            &functions,
            "retry",
            &function_props("orders-retry", &role, code),
        )
        .await;
    let queue_url = sqs
        .create_queue()
        .queue_name("orders-jobs")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let queue_arn = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:orders-jobs");

    let requested = map(json!({
        "function_name": "orders-worker",
        "event_source_arn": queue_arn,
        "batch_size": 5,
        "maximum_batching_window_in_seconds": 2,
        "enabled": true,
    }));
    let mapping = STACK.create(&mappings, "jobs", &requested).await;
    assert_eq!(mapping.attributes["id"], Value::str(&mapping.id));
    assert_eq!(mapping.attributes["state"], Value::str("Enabled"));
    assert_reads_back_as_planned(&mappings, &mapping, &requested);

    let live = lambda
        .get_event_source_mapping()
        .uuid(&mapping.id)
        .send()
        .await
        .unwrap();
    assert_eq!(live.batch_size(), Some(5));
    assert_eq!(live.event_source_arn(), Some(queue_arn.as_str()));
    assert_eq!(live.function_arn(), first.attributes["arn"].as_str());

    let again = read(&mappings, "jobs", &mapping).await.unwrap();
    assert_reads_back_as_planned(&mappings, &again, &requested);

    // Another function (given by ARN), batch size and switched off: the same mapping.
    let second_arn = second.attributes["arn"].as_str().unwrap().to_string();
    let changed = map(json!({
        "function_name": second_arn,
        "event_source_arn": queue_arn,
        "batch_size": 8,
        "maximum_batching_window_in_seconds": 2,
        "enabled": false,
    }));
    let updated = update(
        &mappings,
        "jobs",
        &again,
        &changed,
        &["function_name", "batch_size", "enabled"],
    )
    .await;
    assert_eq!(updated.id, mapping.id);
    assert_eq!(updated.attributes["state"], Value::str("Disabled"));
    assert_reads_back_as_planned(&mappings, &updated, &changed);
    let live = lambda
        .get_event_source_mapping()
        .uuid(&mapping.id)
        .send()
        .await
        .unwrap();
    assert_eq!(live.batch_size(), Some(8));
    assert_eq!(live.function_arn(), Some(second_arn.as_str()));
    assert_eq!(live.state(), Some("Disabled"));

    let found = STACK
        .find(&mappings, "jobs", &changed)
        .await
        .expect("found");
    assert_eq!(found.id, mapping.id);
    assert_reads_back_as_planned(&mappings, &found, &changed);

    delete(&mappings, "jobs", &updated).await;
    assert!(lambda
        .get_event_source_mapping()
        .uuid(&mapping.id)
        .send()
        .await
        .is_err());
    delete(&mappings, "jobs", &updated).await;
    assert_eq!(read(&mappings, "jobs", &updated).await, None);
    assert_eq!(STACK.find(&mappings, "jobs", &changed).await, None);
    let _ = queue_url;
}

const FUNCTION_STACK: &str = r#"stack: orders
resources:
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: { Service: lambda.amazonaws.com }
          Action: sts:AssumeRole
      managed_policy_arns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
  api:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: index.handler
      role: ${role.arn}
      code: { path: ./src }
      environment: { TABLE: orders }
  allow_api:
    type: aws.lambda.permission
    properties:
      function_name: ${api.name}
      principal: apigateway.amazonaws.com
"#;

#[tokio::test]
async fn editing_a_functions_sources_plans_a_code_update_and_apply_uploads_it() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let env = emu.aws_env();
    let lambda = aws_sdk_lambda::Client::new(&context(&emu).sdk);
    fs::write(dir.path().join("stack.yaml"), FUNCTION_STACK).unwrap();
    write_sources(&dir.path().join("src"), "world");

    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );
    let first_sha = live_sha(&lambda, "orders-api").await;
    assert_eq!(
        first_sha,
        package_path(&dir.path().join("src")).unwrap().sha256
    );
    let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&plan, 0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);

    write_sources(&dir.path().join("src"), "strata");
    let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&plan, 2);
    assert!(plan.stdout.contains("code"), "{}", plan.stdout);
    assert!(plan.stdout.contains("1 to change"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("-/+"), "{}", plan.stdout);
    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );
    let second_sha = live_sha(&lambda, "orders-api").await;
    assert_ne!(second_sha, first_sha);
    let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&plan, 0);

    assert_code(
        &run_strata(dir.path(), &["destroy", "--auto-approve"], &env),
        0,
    );
    assert!(lambda
        .get_function()
        .function_name("orders-api")
        .send()
        .await
        .is_err());
}
