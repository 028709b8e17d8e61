//! Stack references, the state side (SPEC §11): another stack's outputs read from its local
//! backend without its lock, and the consumer records a producer's plan names.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{backend, STACK};
use stacks::Value;
use state::{Backend, LocalBackend, StateError};

/// Applies the producer once, recording `outputs` as its outputs.
fn apply_outputs(producer: &LocalBackend, outputs: BTreeMap<String, Value>) {
    let lock = producer.lock("apply", Duration::ZERO).unwrap();
    let loaded = producer.load().unwrap();
    let mut recorder = producer.recorder(&lock, loaded).unwrap();
    recorder.set_outputs(outputs).unwrap();
    recorder.finish().unwrap();
}

fn network_outputs() -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("vpc_id".to_string(), Value::str("vpc-123")),
        (
            "db_password".to_string(),
            Value::Sensitive(Box::new(Value::str("hunter2"))),
        ),
    ])
}

#[test]
fn outputs_are_read_while_the_producer_holds_its_lock_and_secrets_stay_sensitive() {
    let tmp = tempfile::tempdir().unwrap();
    let producer = backend(tmp.path());
    apply_outputs(&producer, network_outputs());

    // The producer is applying again: a consumer still reads what it last wrote.
    let _held = producer.lock("apply", Duration::ZERO).unwrap();
    let reader = LocalBackend::new(tmp.path().join(".strata"), STACK);
    let outputs = reader.read_outputs().unwrap();
    assert_eq!(outputs, network_outputs());
    assert!(matches!(outputs["db_password"], Value::Sensitive(_)));
    assert_eq!(outputs["db_password"].render(), "(sensitive)");
    // Reading did not take or disturb the lock.
    assert!(matches!(
        reader.lock("plan", Duration::ZERO),
        Err(StateError::Locked(_))
    ));
}

#[test]
fn a_stack_never_applied_is_a_clear_error_naming_the_stack_and_where_it_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let reader = LocalBackend::new(tmp.path().join("network/.strata"), "network");
    let err = reader.read_outputs().unwrap_err();
    assert!(matches!(err, StateError::NoState { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("no state of stack `network`"), "{shown}");
    assert!(
        shown.contains("network/.strata/network.state.json"),
        "{shown}"
    );
    assert!(shown.contains("apply that stack first"), "{shown}");
}

#[test]
fn a_state_of_another_stack_at_that_place_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    apply_outputs(&backend(tmp.path()), network_outputs());
    // A file copied under the name of another stack.
    std::fs::copy(
        tmp.path().join(".strata/web.state.json"),
        tmp.path().join(".strata/api.state.json"),
    )
    .unwrap();
    let err = LocalBackend::new(tmp.path().join(".strata"), "api")
        .read_outputs()
        .unwrap_err();
    assert!(matches!(err, StateError::WrongStack { .. }), "{err:?}");
}

#[test]
fn consumers_are_recorded_beside_the_producer_state_and_listed_per_output() {
    let tmp = tempfile::tempdir().unwrap();
    let producer = backend(tmp.path());
    apply_outputs(&producer, network_outputs());
    assert!(producer.consumers().unwrap().is_empty());

    assert!(producer
        .record_consumer("app", &["vpc_id".into(), "db_password".into()])
        .unwrap());
    assert!(producer
        .record_consumer("jobs", &["vpc_id".into()])
        .unwrap());
    // The same outputs again write nothing.
    assert!(!producer
        .record_consumer("jobs", &["vpc_id".into()])
        .unwrap());

    let record = tmp.path().join(".strata/web.consumers/app.json");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(written["consumer"], "app");
    assert_eq!(
        written["outputs"],
        serde_json::json!(["db_password", "vpc_id"])
    );
    assert!(written["recorded_at"].as_str().unwrap().ends_with('Z'));

    let consumers = producer.consumers().unwrap();
    assert_eq!(consumers["vpc_id"], vec!["app", "jobs"]);
    assert_eq!(consumers["db_password"], vec!["app"]);

    // `app` stops reading the password, `jobs` stops reading anything.
    assert!(producer.record_consumer("app", &["vpc_id".into()]).unwrap());
    assert!(producer.record_consumer("jobs", &[]).unwrap());
    assert!(!producer.record_consumer("jobs", &[]).unwrap());
    let consumers = producer.consumers().unwrap();
    assert_eq!(
        consumers,
        BTreeMap::from([("vpc_id".to_string(), vec!["app".to_string()])])
    );
    assert!(!tmp.path().join(".strata/web.consumers/jobs.json").exists());
}

#[test]
fn a_consumer_name_that_is_not_a_stack_name_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let producer = backend(tmp.path());
    let err = producer
        .record_consumer("../escape", &["vpc_id".into()])
        .unwrap_err();
    assert!(matches!(err, StateError::BadConsumer { .. }), "{err:?}");
    assert!(!tmp.path().join(".strata").exists());
}
