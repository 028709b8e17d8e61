//! Stack references (SPEC §11) from the S3 backend against the emulator: a consumer opens the
//! producer's backend as its `stack_refs` entry names it (`state::open`), reads its outputs
//! while the producer holds its lock, secrets still sensitive, and records what it read beside
//! the producer's state object, where the producer's plan finds the consumers per output.

use std::collections::BTreeMap;
use std::time::Duration;

use stacks::Value;
use state::s3::S3Store;
use state::{Backend, S3Backend, StateError};
use strata_tests::Emulator;

use crate::state_s3::s3;

const BUCKET: &str = "acme-state";
const KEY: &str = "network/state.json";

fn outputs() -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("vpc_id".to_string(), Value::str("vpc-123")),
        (
            "db_password".to_string(),
            Value::Sensitive(Box::new(Value::str("hunter2"))),
        ),
    ])
}

/// The producer's backend as a consumer's `stack_refs` entry names it.
fn as_referenced(
    client: &aws_sdk_s3::Client,
    key: &str,
    consumer_dir: &std::path::Path,
) -> std::sync::Arc<dyn Backend> {
    let config = stacks::Backend::S3 {
        bucket: BUCKET.to_string(),
        key: key.to_string(),
        region: Some("us-east-1".to_string()),
    };
    state::open(&config, consumer_dir, "network", |_| client.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consumer_reads_outputs_from_s3_without_the_lock_and_is_recorded_beside_the_state() {
    let emu = Emulator::start();
    let client = s3(&emu).await;
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    let producer_dir = tempfile::tempdir().unwrap();
    let consumer_dir = tempfile::tempdir().unwrap();
    let producer = S3Backend::new(
        S3Store::new(client.clone(), BUCKET),
        KEY,
        producer_dir.path().join(".strata"),
        "network",
    );

    // Before the producer was ever applied: a clear error naming where it looked.
    let referenced = as_referenced(&client, KEY, consumer_dir.path());
    let err = referenced.read_outputs().unwrap_err();
    assert!(matches!(err, StateError::NoState { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("no state of stack `network` at s3://acme-state/network/state.json"),
        "{err}"
    );

    let lock = producer.lock("apply", Duration::ZERO).unwrap();
    let loaded = producer.load().unwrap();
    let mut recorder = producer.recorder(&lock, loaded).unwrap();
    recorder.set_outputs(outputs()).unwrap();
    recorder.finish().unwrap();
    drop(lock);

    // The producer applies again and holds its lock: the consumer still reads.
    let held = producer.lock("apply", Duration::ZERO).unwrap();
    let read = referenced.read_outputs().unwrap();
    assert_eq!(read, outputs());
    assert!(matches!(read["db_password"], Value::Sensitive(_)));
    assert!(matches!(
        producer.lock("plan", Duration::ZERO),
        Err(StateError::Locked(_))
    ));
    // Nothing of the consumer's was written beside its own stack file.
    assert!(!consumer_dir.path().join(".strata").exists());

    // Two consumers record what they read; the producer lists them per output.
    assert!(referenced
        .record_consumer("app", &["vpc_id".into(), "db_password".into()])
        .unwrap());
    assert!(referenced
        .record_consumer("jobs", &["vpc_id".into()])
        .unwrap());
    assert!(!referenced
        .record_consumer("jobs", &["vpc_id".into()])
        .unwrap());
    let record = client
        .get_object()
        .bucket(BUCKET)
        .key(format!("{KEY}.consumers/app.json"))
        .send()
        .await
        .unwrap();
    let record: serde_json::Value =
        serde_json::from_slice(&record.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(record["consumer"], "app");
    assert_eq!(
        record["outputs"],
        serde_json::json!(["db_password", "vpc_id"])
    );
    let consumers = producer.consumers().unwrap();
    assert_eq!(consumers["vpc_id"], vec!["app", "jobs"]);
    assert_eq!(consumers["db_password"], vec!["app"]);

    // A consumer that reads nothing any more takes its record away.
    assert!(referenced.record_consumer("app", &[]).unwrap());
    assert_eq!(
        producer.consumers().unwrap(),
        BTreeMap::from([("vpc_id".to_string(), vec!["jobs".to_string()])])
    );
    drop(held);

    // Another key holds no state of that name.
    let elsewhere = as_referenced(&client, "other/state.json", consumer_dir.path());
    assert!(matches!(
        elsewhere.read_outputs(),
        Err(StateError::NoState { .. })
    ));
}
