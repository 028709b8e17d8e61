//! Recording runs: the journal, compaction into the state file, crash recovery.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::time::Duration;

use common::{backend, identity, queue, STACK};
use stacks::Value;
use state::{Backend, Intent, LocalBackend, State, StateError, STATE_VERSION};

/// Runs one complete apply that puts each of `names`, and returns the state it finished with.
fn apply(backend: &LocalBackend, names: &[&str]) -> State {
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let loaded = backend.load().unwrap();
    let mut recorder = backend.recorder(&lock, loaded).unwrap();
    for name in names {
        recorder
            .put(&format!("queue.{name}"), queue(name), None)
            .unwrap();
    }
    recorder.finish().unwrap()
}

fn journal_lines(backend: &LocalBackend) -> Vec<String> {
    fs::read_to_string(backend.journal_path())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_finished_run_round_trips_through_the_state_file() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let loaded = backend.load().unwrap();
    assert!(!loaded.exists);
    assert_eq!(loaded.state.serial, 0);
    assert_eq!(loaded.state.version, STATE_VERSION);
    assert_eq!(loaded.state.stack, STACK);

    let mut recorder = backend.recorder(&lock, loaded).unwrap();
    let intent = Intent::new("queue.orders", "aws.sqs.queue", identity("orders"));
    let intent_id = intent.id.clone();
    recorder.intent(intent).unwrap();
    assert_eq!(recorder.pending_intents().len(), 1);
    recorder
        .put("queue.orders", queue("orders"), Some(&intent_id))
        .unwrap();
    assert!(recorder.pending_intents().is_empty());
    let mut outputs = BTreeMap::new();
    outputs.insert("url".to_string(), Value::str("https://example"));
    recorder.set_outputs(outputs.clone()).unwrap();
    let finished = recorder.finish().unwrap();
    drop(lock);

    assert_eq!(finished.serial, 1);
    assert_eq!(finished.outputs, outputs);
    assert!(
        !backend.journal_path().exists(),
        "the journal is compacted away"
    );
    let again = backend.load().unwrap();
    assert!(again.exists);
    assert!(again.pending_intents.is_empty());
    assert_eq!(again.state, finished);
    assert_eq!(
        again.state.resources["queue.orders"].properties["secret"],
        Value::Sensitive(Box::new(Value::str("hunter2"))),
        "sensitive values are kept as applied"
    );
}

#[test]
fn every_file_is_created_with_mode_0600_in_a_0700_directory() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;

    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a"]);
    // A state file someone made readable must not leak into a readable backup.
    fs::set_permissions(backend.state_path(), fs::Permissions::from_mode(0o644)).unwrap();

    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    assert_eq!(mode(backend.dir()), 0o700);
    assert_eq!(mode(&backend.lock_path()), 0o600);
    let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
    recorder
        .intent(Intent::new("queue.b", "aws.sqs.queue", identity("b")))
        .unwrap();
    assert_eq!(mode(&backend.journal_path()), 0o600);
    recorder.put("queue.c", queue("c"), None).unwrap();
    recorder.finish().unwrap();

    // The state file is the renamed temporary file; the journal, still holding the pending
    // intent, was rewritten through a temporary file too.
    assert_eq!(mode(&backend.state_path()), 0o600);
    assert_eq!(mode(&backend.backup_path()), 0o600);
    assert_eq!(mode(&backend.journal_path()), 0o600);
    let leftovers: Vec<_> = fs::read_dir(backend.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_previous_state_is_kept_as_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let first = apply(&backend, &["a"]);
    assert!(
        !backend.backup_path().exists(),
        "nothing to back up on the first write"
    );
    let second = apply(&backend, &["b"]);

    let backup: State = serde_json::from_slice(&fs::read(backend.backup_path()).unwrap()).unwrap();
    assert_eq!(backup, first);
    assert_eq!(second.serial, first.serial + 1);
    assert_eq!(second.lineage, first.lineage);
    assert_eq!(second.resources.len(), 2);
}

#[test]
fn the_serial_strictly_increases_on_every_write_and_the_lineage_stays() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let mut serials = vec![];
    let lineage = apply(&backend, &["a"]).lineage;
    serials.push(backend.load().unwrap().state.serial);
    apply(&backend, &["b"]);
    serials.push(backend.load().unwrap().state.serial);

    let lock = backend.lock("state rm", Duration::ZERO).unwrap();
    let mut state = backend.load().unwrap().state;
    state.resources.remove("queue.a");
    backend.write(&lock, &state).unwrap();
    let written = backend.load().unwrap().state;
    serials.push(written.serial);

    assert_eq!(serials, vec![1, 2, 3]);
    assert_eq!(written.lineage, lineage);
    assert!(!written.resources.contains_key("queue.a"));
}

#[test]
fn finishing_without_changes_keeps_the_serial_and_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a"]);
    let before = fs::read(backend.state_path()).unwrap();

    // The same put again, no outputs change, an intent resolved: nothing to write.
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
    let intent = Intent::new("queue.x", "aws.sqs.queue", identity("x"));
    let intent_id = intent.id.clone();
    recorder.intent(intent).unwrap();
    recorder.resolve(&intent_id).unwrap();
    recorder.put("queue.a", queue("a"), None).unwrap();
    recorder.remove("queue.never-there").unwrap();
    let finished = recorder.finish().unwrap();

    assert_eq!(finished.serial, 1);
    assert_eq!(fs::read(backend.state_path()).unwrap(), before);
    assert!(!backend.backup_path().exists());
    assert!(!backend.journal_path().exists());
}

#[test]
fn a_crashed_run_is_replayed_with_its_puts_and_its_pending_intent() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["kept", "deleted"]);

    let pending = Intent::new("queue.maybe", "aws.sqs.queue", identity("maybe"));
    {
        let lock = backend.lock("apply", Duration::ZERO).unwrap();
        let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
        let done = Intent::new("queue.created", "aws.sqs.queue", identity("created"));
        let done_id = done.id.clone();
        recorder.intent(done).unwrap();
        recorder
            .put("queue.created", queue("created"), Some(&done_id))
            .unwrap();
        recorder.remove("queue.deleted").unwrap();
        recorder.intent(pending.clone()).unwrap();
        // The process dies here: no finish.
        drop(recorder);
    }

    let loaded = backend.load().unwrap();
    assert!(loaded.exists);
    assert_eq!(
        loaded.state.serial, 1,
        "the state file itself was not rewritten"
    );
    let addresses: Vec<_> = loaded.state.resources.keys().cloned().collect();
    assert_eq!(addresses, ["queue.created", "queue.kept"]);
    assert_eq!(loaded.pending_intents, vec![pending.clone()]);

    // The next run adopts what the intent created, continuing the same journal.
    let lines_before = journal_lines(&backend).len();
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let mut recorder = backend.recorder(&lock, loaded).unwrap();
    recorder
        .put("queue.maybe", queue("maybe"), Some(&pending.id))
        .unwrap();
    assert_eq!(journal_lines(&backend).len(), lines_before + 1);
    let finished = recorder.finish().unwrap();
    assert_eq!(finished.serial, 2);
    assert_eq!(finished.resources.len(), 3);
    assert!(!backend.journal_path().exists());
    assert!(backend.load().unwrap().pending_intents.is_empty());
}

#[test]
fn a_first_run_that_crashed_is_recovered_without_a_state_file() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let lineage = {
        let lock = backend.lock("apply", Duration::ZERO).unwrap();
        let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
        recorder.put("queue.a", queue("a"), None).unwrap();
        recorder.state().lineage.clone()
    };
    assert!(!backend.state_path().exists());

    let loaded = backend.load().unwrap();
    assert!(loaded.exists, "a journal is recorded state");
    assert_eq!(loaded.state.lineage, lineage);
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let finished = backend.recorder(&lock, loaded).unwrap().finish().unwrap();
    assert_eq!(finished.serial, 1, "replayed changes are compacted");
    assert_eq!(finished.lineage, lineage);
    assert!(finished.resources.contains_key("queue.a"));
}

#[test]
fn a_torn_last_journal_line_is_ignored_and_cut_before_the_next_record() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    {
        let lock = backend.lock("apply", Duration::ZERO).unwrap();
        let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
        recorder.put("queue.a", queue("a"), None).unwrap();
    }
    // A crash in the middle of writing the next record.
    let mut journal = fs::OpenOptions::new()
        .append(true)
        .open(backend.journal_path())
        .unwrap();
    journal
        .write_all(br#"{"op":"put","address":"queue.torn","reso"#)
        .unwrap();
    drop(journal);

    let loaded = backend.load().unwrap();
    let addresses: Vec<_> = loaded.state.resources.keys().cloned().collect();
    assert_eq!(addresses, ["queue.a"]);

    {
        let lock = backend.lock("apply", Duration::ZERO).unwrap();
        let mut recorder = backend.recorder(&lock, loaded).unwrap();
        recorder.put("queue.c", queue("c"), None).unwrap();
    }
    let text = fs::read_to_string(backend.journal_path()).unwrap();
    assert!(
        !text.contains("queue.torn"),
        "the torn tail was cut: {text}"
    );
    let addresses: Vec<_> = backend
        .load()
        .unwrap()
        .state
        .resources
        .into_keys()
        .collect();
    assert_eq!(addresses, ["queue.a", "queue.c"]);
}

#[test]
fn a_damaged_journal_line_before_the_last_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    {
        let lock = backend.lock("apply", Duration::ZERO).unwrap();
        let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
        recorder.put("queue.a", queue("a"), None).unwrap();
        recorder.put("queue.b", queue("b"), None).unwrap();
    }
    let mut lines = journal_lines(&backend);
    lines[1] = "{not json".to_string();
    fs::write(backend.journal_path(), lines.join("\n") + "\n").unwrap();

    let err = backend.load().unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("journal line 2"), "{err}");
}

#[test]
fn an_intent_still_pending_outlives_the_run_that_recorded_it() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a"]);
    let intent = Intent::new("queue.maybe", "aws.sqs.queue", identity("maybe"));
    {
        let lock = backend.lock("apply", Duration::ZERO).unwrap();
        let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
        recorder.intent(intent.clone()).unwrap();
        recorder.put("queue.b", queue("b"), None).unwrap();
        // The create call timed out: strata cannot tell whether it happened.
        recorder.finish().unwrap();
    }
    assert_eq!(journal_lines(&backend).len(), 2, "a header and the intent");
    let loaded = backend.load().unwrap();
    assert_eq!(loaded.state.serial, 2);
    assert_eq!(loaded.pending_intents, vec![intent.clone()]);

    // A later run finds nothing and forgets it; the state file is not rewritten for that.
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let mut recorder = backend.recorder(&lock, loaded).unwrap();
    recorder.resolve(&intent.id).unwrap();
    assert_eq!(recorder.finish().unwrap().serial, 2);
    assert!(!backend.journal_path().exists());
}

#[test]
fn a_crash_between_compaction_and_removing_the_journal_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a", "b"]);
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
    recorder.remove("queue.a").unwrap();
    recorder.put("queue.c", queue("c"), None).unwrap();
    let journal = fs::read(backend.journal_path()).unwrap();
    let finished = recorder.finish().unwrap();
    drop(lock);
    // As if the process died after renaming the new state file into place.
    fs::write(backend.journal_path(), journal).unwrap();

    let loaded = backend.load().unwrap();
    assert_eq!(loaded.state, finished);
}

#[test]
fn a_journal_from_another_state_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let elsewhere = common::backend(other.path());
    apply(&backend, &["a"]);
    apply(&elsewhere, &["z"]);
    {
        let lock = elsewhere.lock("apply", Duration::ZERO).unwrap();
        let mut recorder = elsewhere
            .recorder(&lock, elsewhere.load().unwrap())
            .unwrap();
        recorder.put("queue.y", queue("y"), None).unwrap();
    }
    fs::copy(elsewhere.journal_path(), backend.journal_path()).unwrap();

    let err = backend.load().unwrap_err();
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err}");
}

#[test]
fn a_state_file_from_a_newer_strata_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a"]);
    let mut json: serde_json::Value =
        serde_json::from_slice(&fs::read(backend.state_path()).unwrap()).unwrap();
    json["version"] = serde_json::json!(STATE_VERSION + 1);
    json["resources"] = serde_json::json!(["a format this strata does not know"]);
    fs::write(backend.state_path(), json.to_string()).unwrap();

    let err = backend.load().unwrap_err();
    assert!(matches!(err, StateError::VersionTooNew { .. }), "{err}");
    assert!(err.to_string().contains("upgrade strata"), "{err}");
}

#[test]
fn a_state_file_of_another_stack_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a"]);
    let api = LocalBackend::new(backend.dir().to_path_buf(), "api");
    fs::copy(backend.state_path(), api.state_path()).unwrap();

    let err = api.load().unwrap_err();
    assert!(matches!(err, StateError::WrongStack { .. }), "{err}");
    assert!(err.to_string().contains("`web`, not `api`"), "{err}");
}

#[test]
fn a_damaged_state_file_is_an_error_not_an_empty_state() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a"]);
    fs::write(backend.state_path(), "{\"version\": 1, \"lin").unwrap();
    let err = backend.load().unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
}

#[test]
fn writing_refuses_another_lineage_and_an_older_serial() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a"]);
    let old = backend.load().unwrap().state;
    apply(&backend, &["b"]);
    let lock = backend.lock("state push", Duration::ZERO).unwrap();

    let mut unrelated = State::new(STACK);
    unrelated.serial = 99;
    let err = backend.write(&lock, &unrelated).unwrap_err();
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err}");

    let err = backend.write(&lock, &old).unwrap_err();
    assert!(matches!(err, StateError::StaleSerial { .. }), "{err}");
    assert_eq!(
        backend.load().unwrap().state.serial,
        2,
        "nothing was written"
    );
}

#[test]
fn writing_state_after_a_crash_keeps_the_pending_intents() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a"]);
    let intent = Intent::new("queue.maybe", "aws.sqs.queue", identity("maybe"));
    {
        let lock = backend.lock("apply", Duration::ZERO).unwrap();
        let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
        recorder.put("queue.b", queue("b"), None).unwrap();
        recorder.intent(intent.clone()).unwrap();
    }

    let lock = backend.lock("state rm", Duration::ZERO).unwrap();
    let mut state = backend.load().unwrap().state;
    state.resources.remove("queue.a");
    backend.write(&lock, &state).unwrap();

    let loaded = backend.load().unwrap();
    let addresses: Vec<_> = loaded.state.resources.keys().cloned().collect();
    assert_eq!(
        addresses,
        ["queue.b"],
        "the crashed run's put is kept, the rm holds"
    );
    assert_eq!(loaded.state.serial, 2);
    assert_eq!(loaded.pending_intents, vec![intent]);
}

#[test]
fn finishing_after_the_lock_was_forced_away_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    apply(&backend, &["a"]);
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
    recorder.put("queue.b", queue("b"), None).unwrap();
    backend.force_unlock(lock.id()).unwrap();

    let err = recorder.finish().unwrap_err();
    assert!(matches!(err, StateError::LockLost { .. }), "{err}");
    assert_eq!(
        backend.load().unwrap().state.resources.len(),
        2,
        "the journal still holds the put for the next run"
    );
    let state: State = serde_json::from_slice(&fs::read(backend.state_path()).unwrap()).unwrap();
    assert_eq!(state.serial, 1);
}
