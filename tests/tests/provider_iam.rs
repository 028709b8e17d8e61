//! The IAM providers (`aws.iam.role`, `aws.iam.policy`) against the local emulator: create,
//! read back through the SDK and through the provider, update in place, find, delete, and
//! delete again; and a role replaced through the CLI.

use std::path::Path;

use planner::compare::equivalent;
use providers::document::document_from_aws;
use providers::iam::policy::PolicyProvider;
use providers::iam::role::RoleProvider;
use serde_json::json;
use stacks::{Kind, Value};
use strata_tests::kit::{
    assert_reads_back_as_planned, context, delete, map, read, update, TestStack, ACCOUNT,
};
use strata_tests::{assert_code, run_strata, Emulator};

const STACK: TestStack = TestStack::named("orders");

/// A trust policy with a single `Statement` object (not a list), as people write them.
fn lambda_trust() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole",
        }
    })
}

fn read_queues(queue: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
            "Resource": format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{queue}"),
        }]
    })
}

/// A document as IAM returns it (URL-encoded JSON) as plain JSON.
fn parse_document(text: &str) -> serde_json::Value {
    document_from_aws("document", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_json()
}

async fn attached(iam: &aws_sdk_iam::Client, role: &str) -> Vec<String> {
    let mut arns: Vec<String> = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    arns.sort();
    arns
}

async fn inline_names(iam: &aws_sdk_iam::Client, role: &str) -> Vec<String> {
    let mut names = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .policy_names()
        .to_vec();
    names.sort();
    names
}

async fn inline_document(iam: &aws_sdk_iam::Client, role: &str, name: &str) -> serde_json::Value {
    let out = iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .unwrap();
    parse_document(out.policy_document())
}

#[tokio::test]
async fn a_role_reads_back_as_requested_updates_each_part_in_place_and_deletes_cleanly() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let roles = RoleProvider::new(&ctx);
    let policies = PolicyProvider::new(&ctx);
    let iam = aws_sdk_iam::Client::new(&ctx.sdk);

    let boundary = STACK
        .create(
            &policies,
            "boundary",
            &map(json!({
                "name": "orders-boundary",
                "path": "/",
                "policy": read_queues("*"),
                "tags": STACK.tags_for("boundary", json!({})),
            })),
        )
        .await;
    let boundary_arn = boundary.attributes["arn"].as_str().unwrap().to_string();
    let read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    let lambda_basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

    let requested = map(json!({
        "name": "orders-worker",
        "path": "/service/",
        "assume_role_policy": lambda_trust(),
        // Not in IAM's (alphabetical) order: it must read back in the stack's order.
        "managed_policy_arns": [read_only, lambda_basic],
        "inline_policies": { "queues": read_queues("orders-jobs") },
        "description": "runs the order workers",
        "max_session_duration": 7200,
        "permissions_boundary": boundary_arn,
        "tags": STACK.tags_for("worker", json!({ "team": "payments" })),
    }));
    let role = STACK.create(&roles, "worker", &requested).await;
    assert_eq!(role.id, "orders-worker");
    assert_eq!(
        role.attributes["arn"],
        Value::str(format!("arn:aws:iam::{ACCOUNT}:role/service/orders-worker"))
    );
    assert_eq!(role.attributes["name"], Value::str("orders-worker"));
    let role_id = role.attributes["id"].as_str().unwrap().to_string();
    assert!(!role_id.is_empty());

    // Through the SDK.
    let live = iam
        .get_role()
        .role_name("orders-worker")
        .send()
        .await
        .unwrap();
    let live = live.role().unwrap();
    assert_eq!(live.path(), "/service/");
    assert_eq!(live.role_id(), role_id);
    assert_eq!(live.description(), Some("runs the order workers"));
    assert_eq!(live.max_session_duration(), Some(7200));
    assert_eq!(
        live.permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(boundary_arn.as_str())
    );
    assert_eq!(
        parse_document(live.assume_role_policy_document().unwrap()),
        lambda_trust()
    );
    let mut want = vec![read_only.to_string(), lambda_basic.to_string()];
    want.sort();
    assert_eq!(attached(&iam, "orders-worker").await, want);
    assert_eq!(inline_names(&iam, "orders-worker").await, vec!["queues"]);
    assert_eq!(
        inline_document(&iam, "orders-worker", "queues").await,
        read_queues("orders-jobs")
    );

    // Through the provider: what create returned and what a later read returns.
    assert_reads_back_as_planned(&roles, &role, &requested);
    let again = read(&roles, "worker", &role)
        .await
        .expect("the role exists");
    assert_reads_back_as_planned(&roles, &again, &requested);
    assert_eq!(again, role);

    // Update every in-place part at once.
    let second = map(json!({
        "name": "orders-worker",
        "path": "/service/",
        "assume_role_policy": {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Service": ["lambda.amazonaws.com", "events.amazonaws.com"] },
                "Action": "sts:AssumeRole",
            }]
        },
        "managed_policy_arns": [lambda_basic, boundary_arn],
        "inline_policies": {
            "queues": read_queues("orders-retries"),
            "more": read_queues("orders-more"),
        },
        "description": "runs the order workers and retries",
        "max_session_duration": 3600,
        "tags": STACK.tags_for("worker", json!({ "team": "orders" })),
    }));
    let updated = update(
        &roles,
        "worker",
        &again,
        &second,
        &[
            "assume_role_policy",
            "managed_policy_arns",
            "inline_policies",
            "description",
            "max_session_duration",
            "permissions_boundary",
            "tags",
        ],
    )
    .await;
    assert_eq!(updated.id, role.id);
    assert_eq!(updated.attributes["id"], Value::str(&role_id));
    assert_reads_back_as_planned(&roles, &updated, &second);
    assert!(
        !updated.properties.contains_key("permissions_boundary"),
        "{:?}",
        updated.properties.get("permissions_boundary")
    );

    let live = iam
        .get_role()
        .role_name("orders-worker")
        .send()
        .await
        .unwrap();
    let live = live.role().unwrap();
    assert_eq!(
        live.description(),
        Some("runs the order workers and retries")
    );
    assert_eq!(live.max_session_duration(), Some(3600));
    assert!(live
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
        .is_none());
    let mut want = vec![lambda_basic.to_string(), boundary_arn.clone()];
    want.sort();
    assert_eq!(attached(&iam, "orders-worker").await, want);
    assert_eq!(
        inline_names(&iam, "orders-worker").await,
        vec!["more", "queues"]
    );
    assert_eq!(
        inline_document(&iam, "orders-worker", "queues").await,
        read_queues("orders-retries")
    );
    let tags = iam
        .list_role_tags()
        .role_name("orders-worker")
        .send()
        .await
        .unwrap();
    let team: Vec<&str> = tags
        .tags()
        .iter()
        .filter(|t| t.key() == "team")
        .map(|t| t.value())
        .collect();
    assert_eq!(team, vec!["orders"]);

    // Only the description changes: the session duration stays.
    let mut third = second.clone();
    third.insert("description".into(), Value::str("retries only"));
    let updated = update(&roles, "worker", &updated, &third, &["description"]).await;
    assert_reads_back_as_planned(&roles, &updated, &third);

    let found = STACK
        .find(&roles, "worker", &third)
        .await
        .expect("found by name");
    assert_eq!(found.id, role.id);
    assert_reads_back_as_planned(&roles, &found, &third);

    // Delete detaches the managed policies and deletes the inline ones first.
    delete(&roles, "worker", &updated).await;
    let gone = iam.get_role().role_name("orders-worker").send().await;
    assert!(gone.is_err(), "the role still exists: {gone:?}");
    delete(&roles, "worker", &updated).await;
    assert_eq!(read(&roles, "worker", &updated).await, None);
    assert_eq!(STACK.find(&roles, "worker", &third).await, None);
}

#[tokio::test]
async fn a_trust_policy_with_a_single_statement_object_reads_back_equal_after_normalisation() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let roles = RoleProvider::new(&ctx);
    let requested = map(json!({
        "name": "orders-single",
        "path": "/",
        "assume_role_policy": {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": { "Service": "lambda.amazonaws.com" },
                "Action": ["sts:AssumeRole"],
            }
        },
        "max_session_duration": 3600,
        "tags": STACK.tags_for("single", json!({})),
    }));
    let role = STACK.create(&roles, "single", &requested).await;
    let again = read(&roles, "single", &role)
        .await
        .expect("the role exists");
    let read_back = &again.properties["assume_role_policy"];
    assert!(
        equivalent(&Kind::Document, &requested["assume_role_policy"], read_back),
        "{read_back}"
    );
    // The same statement written as a one-element list is the same document.
    let as_list = Value::from_json(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": ["lambda.amazonaws.com"] },
            "Action": "sts:AssumeRole",
        }]
    }));
    assert!(equivalent(&Kind::Document, &as_list, read_back));
    // And a different action is not.
    let other = Value::from_json(json!({
        "Version": "2012-10-17",
        "Statement": { "Effect": "Allow", "Principal": { "Service": "lambda.amazonaws.com" },
                       "Action": "sts:TagSession" }
    }));
    assert!(!equivalent(&Kind::Document, &other, read_back));
    delete(&roles, "single", &role).await;
}

#[tokio::test]
async fn deleting_a_role_takes_it_out_of_its_instance_profiles_first() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let roles = RoleProvider::new(&ctx);
    let iam = aws_sdk_iam::Client::new(&ctx.sdk);
    let requested = map(json!({
        "name": "orders-ec2",
        "path": "/",
        "assume_role_policy": {
            "Version": "2012-10-17",
            "Statement": { "Effect": "Allow", "Principal": { "Service": "ec2.amazonaws.com" },
                           "Action": "sts:AssumeRole" }
        },
        "managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "inline_policies": { "queues": read_queues("orders-jobs") },
        "tags": STACK.tags_for("ec2", json!({})),
    }));
    let role = STACK.create(&roles, "ec2", &requested).await;
    iam.create_instance_profile()
        .instance_profile_name("orders-ec2")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("orders-ec2")
        .role_name("orders-ec2")
        .send()
        .await
        .unwrap();

    delete(&roles, "ec2", &role).await;
    assert_eq!(read(&roles, "ec2", &role).await, None);
    let profile = iam
        .get_instance_profile()
        .instance_profile_name("orders-ec2")
        .send()
        .await
        .unwrap();
    assert!(profile.instance_profile().unwrap().roles().is_empty());
}

async fn policy_versions(iam: &aws_sdk_iam::Client, arn: &str) -> Vec<(String, bool)> {
    let mut versions: Vec<(String, bool)> = iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap().to_string(), v.is_default_version()))
        .collect();
    versions.sort();
    versions
}

#[tokio::test]
async fn a_policy_change_makes_a_new_default_version_and_never_exceeds_five() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let policies = PolicyProvider::new(&ctx);
    let iam = aws_sdk_iam::Client::new(&ctx.sdk);

    let requested = map(json!({
        "name": "orders-readers",
        "path": "/app/",
        "description": "reads the order queues",
        "policy": read_queues("orders-0"),
        "tags": STACK.tags_for("readers", json!({ "team": "payments" })),
    }));
    let policy = STACK.create(&policies, "readers", &requested).await;
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/app/orders-readers");
    assert_eq!(policy.id, arn);
    assert_eq!(policy.attributes["arn"], Value::str(&arn));
    let policy_id = policy.attributes["id"].as_str().unwrap().to_string();
    assert!(!policy_id.is_empty());

    let live = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    let live = live.policy().unwrap();
    assert_eq!(live.policy_name(), Some("orders-readers"));
    assert_eq!(live.path(), Some("/app/"));
    assert_eq!(live.description(), Some("reads the order queues"));
    let version = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id(live.default_version_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        parse_document(version.policy_version().unwrap().document().unwrap()),
        read_queues("orders-0")
    );

    assert_reads_back_as_planned(&policies, &policy, &requested);
    let again = read(&policies, "readers", &policy).await.expect("exists");
    assert_reads_back_as_planned(&policies, &again, &requested);

    // Six changes: the sixth and later each delete the oldest non-default version first.
    let mut current = again;
    let mut desired = requested.clone();
    for n in 1..=6 {
        desired.insert(
            "policy".into(),
            Value::from_json(read_queues(&format!("orders-{n}"))),
        );
        current = update(&policies, "readers", &current, &desired, &["policy"]).await;
        assert_eq!(current.id, arn);
        assert_eq!(current.attributes["id"], Value::str(&policy_id));
        assert_reads_back_as_planned(&policies, &current, &desired);
        let versions = policy_versions(&iam, &arn).await;
        assert!(versions.len() <= 5, "{versions:?}");
        assert_eq!(
            versions.iter().filter(|(_, d)| *d).count(),
            1,
            "{versions:?}"
        );
    }
    let versions = policy_versions(&iam, &arn).await;
    let default = versions.iter().find(|(_, d)| *d).unwrap();
    assert_eq!(default.0, "v7");
    assert!(
        !versions.iter().any(|(v, _)| v == "v1" || v == "v2"),
        "{versions:?}"
    );

    // Tags change in place.
    desired.insert(
        "tags".into(),
        Value::from_json(STACK.tags_for("readers", json!({ "team": "orders" }))),
    );
    let retagged = update(&policies, "readers", &current, &desired, &["tags"]).await;
    assert_reads_back_as_planned(&policies, &retagged, &desired);
    let tags = iam
        .list_policy_tags()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == "team" && t.value() == "orders"));

    let found = STACK
        .find(&policies, "readers", &desired)
        .await
        .expect("found by name and path");
    assert_eq!(found.id, arn);
    let elsewhere = {
        let mut props = desired.clone();
        props.insert("path".into(), Value::str("/other/"));
        props
    };
    assert_eq!(STACK.find(&policies, "readers", &elsewhere).await, None);

    // Delete removes the non-default versions, then the policy.
    delete(&policies, "readers", &retagged).await;
    assert!(iam.get_policy().policy_arn(&arn).send().await.is_err());
    delete(&policies, "readers", &retagged).await;
    assert_eq!(read(&policies, "readers", &retagged).await, None);
    assert_eq!(STACK.find(&policies, "readers", &desired).await, None);
}

fn write_stack(dir: &Path, path: &str) {
    let stack = format!(
        r#"stack: orders
resources:
  worker:
    type: aws.iam.role
    properties:
      path: {path}
      assume_role_policy:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: {{ Service: lambda.amazonaws.com }}
          Action: sts:AssumeRole
      managed_policy_arns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
      inline_policies:
        queues:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: sqs:ReceiveMessage
              Resource: "*"
"#
    );
    std::fs::write(dir.join("stack.yaml"), stack).unwrap();
}

#[tokio::test]
async fn changing_a_roles_path_replaces_it_and_a_second_plan_is_empty() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let env = emu.aws_env();
    let iam = aws_sdk_iam::Client::new(&context(&emu).sdk);

    write_stack(dir.path(), "/");
    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );
    let first = iam
        .get_role()
        .role_name("orders-worker")
        .send()
        .await
        .unwrap();
    let first_id = first.role().unwrap().role_id().to_string();
    let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&plan, 0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);

    write_stack(dir.path(), "/service/");
    let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&plan, 2);
    assert!(plan.stdout.contains("-/+"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("forces replacement"),
        "{}",
        plan.stdout
    );
    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );

    let second = iam
        .get_role()
        .role_name("orders-worker")
        .send()
        .await
        .unwrap();
    let second = second.role().unwrap();
    assert_eq!(second.path(), "/service/");
    assert_ne!(second.role_id(), first_id, "the role was not replaced");
    let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&plan, 0);

    assert_code(
        &run_strata(dir.path(), &["destroy", "--auto-approve"], &env),
        0,
    );
    assert!(iam
        .get_role()
        .role_name("orders-worker")
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn a_role_whose_policy_cannot_be_attached_is_not_left_behind() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let roles = RoleProvider::new(&ctx);
    let iam = aws_sdk_iam::Client::new(&ctx.sdk);
    let requested = map(json!({
        "name": "orders-broken",
        "path": "/",
        "assume_role_policy": lambda_trust(),
        "managed_policy_arns": [format!("arn:aws:iam::{ACCOUNT}:policy/does-not-exist")],
        "tags": STACK.tags_for("broken", json!({})),
    }));
    let err = STACK
        .try_create(&roles, "broken", &requested)
        .await
        .expect_err("attaching a missing policy fails");
    assert!(err.to_string().contains("does-not-exist"), "{err}");
    // The engine records nothing for a failed create, so the role must not exist.
    let gone = iam.get_role().role_name("orders-broken").send().await;
    assert!(
        gone.is_err(),
        "the half-created role was left behind: {gone:?}"
    );
}
