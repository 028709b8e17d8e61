//! The S3 state backend against the emulator: the built binary for what a person does (apply,
//! two applies at once, a held lock, force-unlock, migrating local state), the state crate for
//! the conditional write that protects the state object.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use state::s3::S3Store;
use state::{Backend, Intent, S3Backend, StateError};
use strata_tests::kit::{self, queue_urls};
use strata_tests::{assert_code, run_strata, spawn_strata, wait, Emulator, Run};

const BUCKET: &str = "team-state";
const KEY: &str = "orders/state.json";
/// Enough queues that an apply holds the lock for a while (a few rounds of `--parallelism 10`):
/// the second apply starts once the first holds the lock, and must meet it.
const QUEUES: usize = 30;

/// A stack of `QUEUES` queues whose state is in the emulator's S3.
fn stack() -> String {
    let mut text = format!(
        "stack: orders\nbackend:\n  s3: {{ bucket: {BUCKET}, key: {KEY}, region: us-east-1 }}\nresources:\n"
    );
    for i in 0..QUEUES {
        text.push_str(&format!("  q{i}: {{ type: aws.sqs.queue }}\n"));
    }
    text
}

/// A path-style S3 client on the emulator (also the stack reference tests').
pub(crate) async fn s3(emu: &Emulator) -> aws_sdk_s3::Client {
    let sdk = emu.sdk_config(providers::aws::http_client()).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    )
}

async fn create_bucket(client: &aws_sdk_s3::Client) {
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
}

async fn object(client: &aws_sdk_s3::Client, key: &str) -> Option<Vec<u8>> {
    match client.get_object().bucket(BUCKET).key(key).send().await {
        Ok(out) => Some(out.body.collect().await.unwrap().into_bytes().to_vec()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => None,
        Err(e) => panic!("reading s3://{BUCKET}/{key}: {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_applies_at_once_on_the_s3_backend_let_exactly_one_write_and_name_the_holder() {
    let emu = Emulator::start();
    let client = s3(&emu).await;
    create_bucket(&client).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), stack()).unwrap();
    let env = emu.aws_env();

    // The second starts as soon as the first holds the lock, so they overlap even on a loaded
    // machine; which one wins is still up to the lock.
    let first = spawn_strata(dir.path(), &["apply", "--auto-approve"], &env);
    let lock_key = format!("{KEY}.lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while object(&client, &lock_key).await.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first apply never took the lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let second = spawn_strata(dir.path(), &["apply", "--auto-approve"], &env);
    let runs = [wait(first), wait(second)];

    let winners: Vec<&Run> = runs.iter().filter(|r| r.code == 0).collect();
    let losers: Vec<&Run> = runs.iter().filter(|r| r.code != 0).collect();
    assert_eq!(
        (winners.len(), losers.len()),
        (1, 1),
        "exactly one apply must win: {runs:#?}"
    );
    let winner = winners[0];
    let loser = losers[0];
    assert_code(loser, 1);
    assert!(
        winner
            .stdout
            .contains(&format!("Apply complete: {QUEUES} added")),
        "{}",
        winner.stdout
    );
    for part in [
        "the state is locked by ",
        "`strata apply`) since ",
        "strata force-unlock ",
    ] {
        assert!(
            loser.stderr.contains(part),
            "{part:?} missing:\n{}",
            loser.stderr
        );
    }
    assert!(
        !loser.stdout.contains("creating"),
        "the loser changed nothing:\n{}",
        loser.stdout
    );

    // The state object holds every resource once; the lock is released; AWS has each queue once.
    let bytes = object(&client, KEY).await.expect("the state object exists");
    let state: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let resources = state["resources"].as_object().unwrap();
    assert_eq!(resources.len(), QUEUES, "{state:#}");
    assert_eq!(state["serial"], 1);
    assert!(object(&client, &format!("{KEY}.lock")).await.is_none());
    assert_eq!(queue_urls(&kit::context(&emu)).await.len(), QUEUES);

    let run = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&run, 0);
    let run = run_strata(dir.path(), &["state", "list"], &env);
    assert_code(&run, 0);
    assert_eq!(run.stdout.lines().count(), QUEUES, "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_lock_stops_apply_at_once_until_force_unlock_with_its_id() {
    let emu = Emulator::start();
    let client = s3(&emu).await;
    create_bucket(&client).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), stack()).unwrap();
    let env = emu.aws_env();
    let lock = serde_json::json!({
        "id": "0b5e-held",
        "operation": "apply",
        "who": "ana@build-7",
        "pid": 4242,
        "path": format!("s3://{BUCKET}/{KEY}"),
        "created_at": "2025-01-02T03:04:05Z",
    });
    client
        .put_object()
        .bucket(BUCKET)
        .key(format!("{KEY}.lock"))
        .body(ByteStream::from(lock.to_string().into_bytes()))
        .send()
        .await
        .unwrap();

    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &env);
    assert_code(&run, 1);
    assert!(
        run.stderr.contains(
            "the state is locked by ana@build-7 (pid 4242, `strata apply`) since 2025-01-02T03:04:05Z; lock id 0b5e-held"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        queue_urls(&kit::context(&emu)).await.len(),
        0,
        "nothing was created"
    );
    assert!(object(&client, KEY).await.is_none(), "no state was written");

    let run = run_strata(dir.path(), &["force-unlock", "not-the-id"], &env);
    assert_code(&run, 1);
    assert!(run.stderr.contains("0b5e-held"), "{}", run.stderr);
    let run = run_strata(dir.path(), &["force-unlock", "0b5e-held"], &env);
    assert_code(&run, 0);
    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &env);
    assert_code(&run, 0);
    assert_eq!(queue_urls(&kit::context(&emu)).await.len(), QUEUES);
}

#[tokio::test(flavor = "multi_thread")]
async fn local_state_moves_to_s3_with_one_state_push() {
    let emu = Emulator::start();
    let client = s3(&emu).await;
    create_bucket(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let local =
        "stack: orders\nresources:\n  q0: { type: aws.sqs.queue }\n  q1: { type: aws.sqs.queue }\n";
    std::fs::write(dir.path().join("stack.yaml"), local).unwrap();
    let env = emu.aws_env();
    assert_code(
        &run_strata(dir.path(), &["apply", "--auto-approve"], &env),
        0,
    );

    let remote = local.replace(
        "resources:",
        &format!("backend:\n  s3: {{ bucket: {BUCKET}, key: {KEY} }}\nresources:"),
    );
    std::fs::write(dir.path().join("stack.yaml"), remote).unwrap();
    let run = run_strata(
        dir.path(),
        &["state", "push", ".strata/orders.state.json"],
        &env,
    );
    assert_code(&run, 0);
    let state: serde_json::Value =
        serde_json::from_slice(&object(&client, KEY).await.expect("pushed")).unwrap();
    assert_eq!(state["resources"].as_object().unwrap().len(), 2);

    let run = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code(&run, 0);
    assert_eq!(queue_urls(&kit::context(&emu)).await.len(), 2);

    // The deployer's policy covers the state object, its lock and its backup too.
    let run = run_strata(dir.path(), &["iam-policy", "--format", "json"], &env);
    assert_code(&run, 0);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let documents = match printed {
        serde_json::Value::Array(documents) => documents,
        one => vec![one],
    };
    let statements: Vec<&serde_json::Value> = documents
        .iter()
        .flat_map(|d| d["Statement"].as_array().unwrap())
        .collect();
    let grants = |action: &str, resource: &str| {
        statements.iter().any(|s| {
            let has = |field: &str, want: &str| match &s[field] {
                serde_json::Value::String(one) => one == want,
                serde_json::Value::Array(many) => many.iter().any(|v| v == want),
                _ => false,
            };
            has("Action", action) && has("Resource", resource)
        })
    };
    for suffix in ["", ".lock", ".backup"] {
        for action in ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] {
            let object = format!("arn:aws:s3:::{BUCKET}/{KEY}{suffix}");
            assert!(
                grants(action, &object),
                "{action} on {object}:\n{}",
                run.stdout
            );
        }
    }
    assert!(
        grants("s3:ListBucket", &format!("arn:aws:s3:::{BUCKET}")),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_object_changed_behind_a_runs_back_is_never_overwritten() {
    let emu = Emulator::start();
    let client = s3(&emu).await;
    create_bucket(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let backend = S3Backend::new(
        S3Store::new(client.clone(), BUCKET),
        KEY,
        dir.path().join(".strata"),
        "orders",
    );

    // A first run records a queue.
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let loaded = backend.load().unwrap();
    assert!(!loaded.exists);
    let mut recorder = backend.recorder(&lock, loaded).unwrap();
    let intent = Intent::new("q", "aws.sqs.queue", Default::default());
    let id = intent.id.clone();
    recorder.intent(intent).unwrap();
    recorder.put("q", queue("q"), Some(&id)).unwrap();
    recorder.finish().unwrap();
    assert!(matches!(
        backend.lock("apply", Duration::ZERO),
        Err(StateError::Locked(_))
    ));
    drop(lock);
    let err = backend.lock("apply", Duration::ZERO).map(|_| ()).err();
    assert!(
        err.is_none(),
        "dropping the guard released the lock: {err:?}"
    );

    // A second run reads it; then someone overwrites the object without the lock.
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let loaded = backend.load().unwrap();
    assert_eq!(loaded.state.serial, 1);
    let mut recorder = backend.recorder(&lock, loaded.clone()).unwrap();
    let mut theirs = loaded.state.clone();
    theirs.serial = 7;
    client
        .put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(ByteStream::from(serde_json::to_vec(&theirs).unwrap()))
        .send()
        .await
        .unwrap();
    recorder.put("r", queue("r"), None).unwrap();
    let err = recorder.finish().unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("was not overwritten"), "{err}");
    let now: serde_json::Value =
        serde_json::from_slice(&object(&client, KEY).await.unwrap()).unwrap();
    assert_eq!(now["serial"], 7, "their write stands");
    assert!(
        backend.journal_path().exists(),
        "this run's records are kept in the local journal"
    );
    drop(lock);
}

/// How long the S3 lock's holder keeps it before releasing it, in the waiting test.
const HELD_FOR: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_lock_is_waited_for_up_to_the_wait_and_then_refused_naming_the_holder() {
    let emu = Emulator::start();
    let client = s3(&emu).await;
    create_bucket(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let backend = S3Backend::new(
        S3Store::new(client.clone(), BUCKET),
        KEY,
        dir.path().join(".strata"),
        "orders",
    );

    // Not waited for: refused at once.
    let held = backend.lock("apply", Duration::ZERO).unwrap();
    let err = backend.lock("destroy", Duration::ZERO).unwrap_err();
    assert!(
        matches!(&err, StateError::Locked(holder) if holder.id == held.id()),
        "{err}"
    );

    // Released while waiting: taken.
    let started = std::time::Instant::now();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(HELD_FOR);
        drop(held);
    });
    let taken = backend.lock("destroy", Duration::from_secs(2)).unwrap();
    assert!(started.elapsed() >= HELD_FOR, "{:?}", started.elapsed());
    releaser.join().unwrap();

    // Never released: refused once the wait is over, naming the holder.
    let wait = Duration::from_millis(600);
    let started = std::time::Instant::now();
    let err = backend.lock("apply", wait).unwrap_err();
    assert!(started.elapsed() >= wait, "{:?}", started.elapsed());
    assert!(
        matches!(&err, StateError::Locked(holder) if holder.id == taken.id()),
        "{err}"
    );
    assert!(err.to_string().contains("`strata destroy`"), "{err}");
}

fn queue(name: &str) -> state::ResourceState {
    state::ResourceState {
        type_name: "aws.sqs.queue".into(),
        id: format!("https://sqs/{name}"),
        properties: Default::default(),
        attributes: Default::default(),
        dependencies: vec![],
        create_before_destroy: false,
        tainted: false,
        sensitive: Vec::new(),
    }
}
