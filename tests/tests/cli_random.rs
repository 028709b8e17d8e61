//! `strata.random_id` and `strata.random_string`, through the binary against the emulator: a
//! value is made once and kept in the state, so plans stay clean and a second apply keeps it;
//! a change of `keepers` makes a new one and what uses it follows; `sensitive: true` keeps the
//! string out of every plan, apply, output and `state show`; bad lengths are refused at
//! load time; and no request for them ever reaches AWS.

use strata_tests::kit::queue_names;
use strata_tests::proxy::{Faults, Proxy};
use strata_tests::{assert_code, run_strata, Emulator, Project, Run};

const STACK: &str = r#"stack: rnd
resources:
  suffix:
    type: strata.random_id
    properties:
      byte_length: 4
      keepers: { generation: "1" }
  logs:
    type: aws.s3.bucket
    properties:
      bucket: logs-${suffix.hex}
  token:
    type: strata.random_string
    properties: { length: 10, special: false, upper: false }
  jobs:
    type: aws.sqs.queue
    properties: { name: "jobs-${token.result}" }
  password:
    type: strata.random_string
    properties: { length: 24, min_special: 2, override_special: "_%@", sensitive: true }
  db_password:
    type: aws.ssm.parameter
    properties:
      name: /rnd/db-password
      type: SecureString
      value: ${password.result}
outputs:
  bucket: ${logs.bucket}
  password: { value: "${password.result}", sensitive: true }
"#;

/// The names of the buckets the emulator holds.
async fn bucket_names(p: &Project) -> Vec<String> {
    let s3 = aws_sdk_s3::Client::new(&p.ctx().sdk);
    let out = s3.list_buckets().send().await.unwrap();
    out.buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect()
}

/// The (decrypted) value of the SSM parameter the stack writes the password into, if any.
async fn stored_password(p: &Project) -> Option<String> {
    let ssm = aws_sdk_ssm::Client::new(&p.ctx().sdk);
    let out = ssm
        .get_parameter()
        .name("/rnd/db-password")
        .with_decryption(true)
        .send()
        .await
        .ok()?;
    out.parameter()?.value().map(str::to_string)
}

fn assert_hidden(run: &Run, secret: &str, doing: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{doing} shows the sensitive string:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

/// The one bucket named after the random id, and its hex suffix.
async fn logs_bucket(p: &Project) -> (String, String) {
    let buckets = bucket_names(p).await;
    assert_eq!(buckets.len(), 1, "{buckets:?}");
    let name = buckets[0].clone();
    let hex = name
        .strip_prefix("logs-")
        .expect("a logs- bucket")
        .to_string();
    assert_eq!(hex.len(), 8, "4 bytes are 8 hex digits: {name}");
    assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
    (name, hex)
}

#[tokio::test(flavor = "multi_thread")]
async fn random_values_are_made_once_kept_replaced_by_keepers_and_hidden_when_sensitive() {
    let p = Project::new(STACK);

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let (bucket, hex) = logs_bucket(&p).await;
    let queues = queue_names(&p.ctx()).await;
    assert_eq!(queues.len(), 1, "{queues:?}");
    let token = queues[0].strip_prefix("jobs-").expect("a jobs- queue");
    assert_eq!(token.len(), 10, "{token}");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "only lower-case letters and digits were asked for: {token}"
    );
    let secret = stored_password(&p).await.expect("the password reached SSM");
    assert_eq!(secret.chars().count(), 24, "{secret}");
    assert!(
        secret.chars().filter(|c| "_%@".contains(*c)).count() >= 2,
        "min_special of override_special: {secret}"
    );
    assert!(
        secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_%@".contains(c)),
        "{secret}"
    );
    assert_hidden(&run, &secret, "apply");

    // Kept: the next plan is clean, and another apply changes nothing.
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert_hidden(&run, &secret, "plan");
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(logs_bucket(&p).await.0, bucket);
    assert_eq!(stored_password(&p).await.as_deref(), Some(secret.as_str()));

    // Never shown: outputs, state show, plan formats.
    let run = p.strata(&["output"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("password = (sensitive)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("bucket = \"logs-{hex}\"")),
        "{}",
        run.stdout
    );
    assert_hidden(&run, &secret, "output");
    let run = p.strata(&["state", "show", "password"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("result: (sensitive)"), "{}", run.stdout);
    assert_hidden(&run, &secret, "state show");
    let run = p.strata(&["state", "show", "db_password"]);
    assert_code(&run, 0);
    assert_hidden(&run, &secret, "state show of what uses it");
    for format in ["json", "markdown"] {
        let run = p.strata(&["plan", "--format", format]);
        assert_code(&run, 0);
        assert_hidden(&run, &secret, format);
    }

    // A new keeper makes new bytes: the bucket named after them is replaced; the strings stay.
    p.write_stack(&STACK.replace(r#"generation: "1""#, r#"generation: "2""#));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout.contains("suffix") && run.stdout.contains("logs"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("keepers") && run.stdout.contains("# forces replacement"),
        "{}",
        run.stdout
    );
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_hidden(&run, &secret, "apply of the new keeper");
    let (new_bucket, new_hex) = logs_bucket(&p).await;
    assert_ne!(new_hex, hex, "a new keeper makes new bytes");
    assert_ne!(new_bucket, bucket);
    assert_eq!(stored_password(&p).await.as_deref(), Some(secret.as_str()));
    assert_eq!(queue_names(&p.ctx()).await, queues);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // Hiding a string already made keeps it: `sensitive` changes in place.
    p.write_stack(
        &STACK
            .replace(r#"generation: "1""#, r#"generation: "2""#)
            .replace("upper: false }", "upper: false, sensitive: true }"),
    );
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "only the string's `sensitive` changes:\n{}",
        run.stdout
    );
    assert_eq!(queue_names(&p.ctx()).await, queues);
    let run = p.strata(&["state", "show", "token"]);
    assert_code(&run, 0);
    assert_hidden(&run, token, "state show of a string made sensitive");

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert_hidden(&run, &secret, "destroy");
    assert!(bucket_names(&p).await.is_empty());
    assert!(queue_names(&p.ctx()).await.is_empty());
    assert_eq!(stored_password(&p).await, None);
    let run = p.strata(&["state", "list"]);
    assert_code(&run, 0);
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
}

const LOCAL_ONLY: &str = r#"stack: local
resources:
  suffix:
    type: strata.random_id
    properties: { byte_length: 16, prefix: "app-" }
  token:
    type: strata.random_string
    properties: { length: 12 }
outputs:
  hex: ${suffix.hex}
  dec: ${suffix.dec}
"#;

/// Random values call no AWS API: applying, planning and destroying a stack of them sends the
/// emulator nothing, `strata iam-policy` grants nothing for them, and `import` is refused.
#[test]
fn random_values_send_nothing_to_aws_and_need_no_permission() {
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, Faults::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), LOCAL_ONLY).unwrap();
    let env = proxy.aws_env();
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);

    assert_code(&strata(&["apply", "--auto-approve"]), 0);
    let hex = strata(&["output", "hex"]);
    assert_code(&hex, 0);
    let hex = hex.stdout.trim().to_string();
    assert!(hex.starts_with("app-") && hex.len() == 4 + 32, "{hex}");
    let dec = strata(&["output", "dec"]);
    assert!(dec.stdout.trim().starts_with("app-"), "{}", dec.stdout);
    assert_code(&strata(&["plan", "--detailed-exitcode"]), 0);
    assert_code(&strata(&["destroy", "--auto-approve"]), 0);
    let run = strata(&["import", "token", "abc"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("nothing to import"), "{}", run.stderr);
    let calls = proxy.calls();
    assert!(calls.is_empty(), "requests reached AWS: {calls:?}");

    let run = strata(&["iam-policy"]);
    assert_code(&run, 0);
    assert!(
        !run.stdout.contains("suffix") && !run.stdout.contains("token"),
        "a statement for a random value:\n{}",
        run.stdout
    );
}

/// Lengths that cannot be made are refused at load time, at the value's place, before any
/// cloud call.
#[test]
fn impossible_lengths_are_refused_at_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad_id = "stack: bad\nresources:\n  suffix:\n    type: strata.random_id\n    properties:\n      byte_length: 0\n";
    std::fs::write(dir.path().join("stack.yaml"), bad_id).unwrap();
    let run = run_strata(dir.path(), &["plan"], &[]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:6:"), "{}", run.stderr);
    assert!(run.stderr.contains("byte_length"), "{}", run.stderr);

    let bad_string = "stack: bad\nresources:\n  pw:\n    type: strata.random_string\n    properties:\n      length: 3\n      min_upper: 2\n      min_numeric: 2\n";
    std::fs::write(dir.path().join("stack.yaml"), bad_string).unwrap();
    let run = run_strata(dir.path(), &["plan"], &[]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:6:7"), "{}", run.stderr);
    assert!(
        run.stderr.contains("`length` is less than"),
        "{}",
        run.stderr
    );
}
