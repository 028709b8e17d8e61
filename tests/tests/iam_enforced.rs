//! The deployer's IAM policy proven by moto with IAM enforcement switched on (issue 16): a user
//! holding only the policy `plan --emit-iam` prints applies the queue-and-topic example; a user
//! holding only `strata iam-policy` plans, applies, re-plans (nothing to do) and destroys it; and
//! a user holding the emitted policy less one action is refused, with an error naming the action.
//!
//! moto 5.2.5's gaps, worked around in the policy the users get (see README "iam-policy"): it
//! checks the resource only for SQS calls on an existing queue (and IAM, STS); every other call,
//! `sqs:CreateQueue` and `sqs:GetQueueUrl` included, is authorised against `*`, so those
//! statements get `Resource: "*"` (same actions). Its signature check fails on a form body
//! holding `(` or a space (the example's topic display name), so the topic is named plainly.

use serde_json::{json, Value as Json};
use strata_tests::{assert_code_while, run_strata, Emulator};

const STACK: &str = include_str!("../../examples/queue-and-topic/stack.yaml");

/// The example as stack `name`, with a display name moto's signature check accepts.
fn stack(name: &str) -> String {
    let text = STACK
        .replace("stack: orders", &format!("stack: {name}"))
        .replace("Orders (${params.env})", "Orders-${params.env}");
    assert!(text.contains(&format!("stack: {name}")) && !text.contains("Orders ("));
    text
}

/// The policy documents strata printed (one, or a list when split).
fn documents(printed: &str) -> Vec<Json> {
    match serde_json::from_str(printed).expect("the policy is JSON") {
        Json::Array(docs) => docs,
        doc => vec![doc],
    }
}

/// `doc` less `without` (when given), with the resources moto cannot check widened to `*`.
fn for_moto(doc: &Json, without: Option<&str>) -> Json {
    let mut statements = Vec::new();
    let mut on_star = Vec::new();
    for statement in doc["Statement"].as_array().expect("statements") {
        let actions: Vec<String> = match &statement["Action"] {
            Json::String(a) => vec![a.clone()],
            Json::Array(list) => list
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect(),
            other => panic!("Action is {other}"),
        };
        let actions: Vec<String> = actions
            .into_iter()
            .filter(|a| Some(a.as_str()) != without)
            .collect();
        if actions.is_empty() {
            continue;
        }
        let mut statement = statement.clone();
        statement["Action"] = json!(actions);
        if actions.iter().all(|a| a.starts_with("sqs:")) {
            on_star.extend(
                actions
                    .iter()
                    .filter(|a| *a == "sqs:CreateQueue" || *a == "sqs:GetQueueUrl")
                    .cloned(),
            );
        } else {
            statement["Resource"] = json!("*");
        }
        statements.push(statement);
    }
    on_star.sort();
    on_star.dedup();
    if !on_star.is_empty() {
        statements.push(json!({
            "Sid": "MotoAuthorisesOnStar", "Effect": "Allow", "Action": on_star, "Resource": "*"
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Makes IAM user `name` holding exactly `docs` (inline policies) and returns the environment
/// that runs strata as it against `emu`.
async fn user_holding(emu: &Emulator, name: &str, docs: &[Json]) -> Vec<(String, String)> {
    let iam = aws_sdk_iam::Client::new(&strata_tests::kit::context(emu).sdk);
    iam.create_user().user_name(name).send().await.unwrap();
    for (i, doc) in docs.iter().enumerate() {
        iam.put_user_policy()
            .user_name(name)
            .policy_name(format!("strata-{i}"))
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
    }
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let mut env = emu.aws_env();
    for (k, v) in env.iter_mut() {
        match k.as_str() {
            "AWS_ACCESS_KEY_ID" => *v = key.access_key_id.clone(),
            "AWS_SECRET_ACCESS_KEY" => *v = key.secret_access_key.clone(),
            _ => {}
        }
    }
    env
}

/// A project directory holding the example as stack `name`.
fn project(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), stack(name)).unwrap();
    dir
}

/// Each removed action, and the address whose create calls it.
const REMOVED: &[(&str, &str)] = &[
    ("sns:CreateTopic", "events"),
    ("sqs:CreateQueue", "dead_letters"),
    ("sqs:SetQueueAttributes", "work_from_events"),
    ("sns:Subscribe", "work_subscription"),
];

#[tokio::test(flavor = "multi_thread")]
async fn users_holding_only_the_printed_policies_deploy_and_one_action_less_is_refused() {
    let emu = Emulator::start();
    let admin = emu.aws_env();

    // While enforcement is off: print each policy and make the user holding it.
    let emitted_dir = project("emitted");
    let run = run_strata(
        emitted_dir.path(),
        &["plan", "--emit-iam", "--format", "json"],
        &admin,
    );
    assert_code_while(&run, 0, "plan --emit-iam");
    let emitted = documents(&run.stdout);
    let moto_docs: Vec<Json> = emitted.iter().map(|d| for_moto(d, None)).collect();
    let emitted_env = user_holding(&emu, "emitted", &moto_docs).await;

    let life_dir = project("life");
    let run = run_strata(life_dir.path(), &["iam-policy", "--format", "json"], &admin);
    assert_code_while(&run, 0, "iam-policy");
    let life: Vec<Json> = documents(&run.stdout)
        .iter()
        .map(|d| for_moto(d, None))
        .collect();
    let life_env = user_holding(&emu, "life", &life).await;

    let mut less = Vec::new();
    for (i, (action, address)) in REMOVED.iter().enumerate() {
        let name = format!("less{i}");
        let dir = project(&name);
        let run = run_strata(
            dir.path(),
            &["plan", "--emit-iam", "--format", "json"],
            &admin,
        );
        assert_code_while(&run, 0, "plan --emit-iam");
        let docs: Vec<Json> = documents(&run.stdout)
            .iter()
            .map(|d| for_moto(d, Some(action)))
            .collect();
        assert!(
            docs.iter()
                .all(|d| !d.to_string().contains(&format!("\"{action}\""))),
            "{action} is still granted"
        );
        assert!(
            run.stdout.contains(&format!("\"{action}\"")),
            "the emitted policy does not grant {action}"
        );
        let env = user_holding(&emu, &name, &docs).await;
        less.push((dir, env, *action, *address));
    }

    emu.enforce_iam();
    // The emitted policy applies the plan.
    let run = run_strata(
        emitted_dir.path(),
        &["apply", "--auto-approve"],
        &emitted_env,
    );
    assert_code_while(
        &run,
        0,
        "applying with only the policy plan --emit-iam printed",
    );

    // The whole-life policy plans, applies, re-plans and destroys.
    let run = run_strata(life_dir.path(), &["plan"], &life_env);
    assert_code_while(&run, 0, "planning with only iam-policy");
    let run = run_strata(life_dir.path(), &["apply", "--auto-approve"], &life_env);
    assert_code_while(&run, 0, "applying with only iam-policy");
    let run = run_strata(life_dir.path(), &["plan", "--detailed-exitcode"], &life_env);
    assert_code_while(&run, 0, "re-planning with only iam-policy (nothing to do)");
    let run = run_strata(life_dir.path(), &["destroy", "--auto-approve"], &life_env);
    assert_code_while(&run, 0, "destroying with only iam-policy");

    // One action less: the apply fails at the resource whose create calls it.
    let mut refused = Vec::new();
    for (dir, env, action, address) in &less {
        let run = run_strata(dir.path(), &["apply", "--auto-approve"], env);
        assert_code_while(&run, 1, &format!("applying without {action}"));
        assert!(
            run.stderr.contains(&format!("`{address}`"))
                && run
                    .stderr
                    .contains(&format!("not authorized to perform: {action}")),
            "without {action} the apply should fail at `{address}`, naming {action}:\n{}",
            run.stderr
        );
        refused.push(*action);
    }
    eprintln!(
        "moto refused the apply without each of: {}",
        refused.join(", ")
    );
}
