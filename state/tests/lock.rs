//! One writer at a time.

mod common;

use common::{backend, STACK};
use state::{LocalBackend, State, StateError};

#[test]
fn a_second_lock_fails_at_once_naming_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let held = backend.lock("apply").unwrap();

    let err = backend.lock("destroy").unwrap_err();
    let StateError::Locked(holder) = &err else {
        panic!("expected Locked, got {err}");
    };
    assert_eq!(**holder, *held.info());
    assert_eq!(holder.operation, "apply");
    assert_eq!(holder.pid, std::process::id());
    let message = err.to_string();
    for part in [
        holder.who.as_str(),
        &format!("pid {}", holder.pid),
        "`strata apply`",
        holder.created_at.as_str(),
        &format!("strata force-unlock {}", holder.id),
    ] {
        assert!(message.contains(part), "{part:?} missing from {message}");
    }
    assert!(holder.who.contains('@'), "{}", holder.who);
}

#[test]
fn force_unlock_with_the_wrong_id_refuses_and_the_right_id_clears() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let held = backend.lock("apply").unwrap();
    let id = held.id().to_string();
    // The holder died: its guard never runs.
    std::mem::forget(held);

    let err = backend.force_unlock("not-the-id").unwrap_err();
    assert!(matches!(err, StateError::LockMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&id), "names the current id: {err}");
    assert!(backend.lock("apply").is_err(), "still locked");

    backend.force_unlock(&id).unwrap();
    assert!(!backend.lock_path().exists());
    backend.lock("apply").unwrap();
}

#[test]
fn force_unlock_without_a_lock_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let err = backend(tmp.path()).force_unlock("x").unwrap_err();
    assert!(matches!(err, StateError::NotLocked { .. }), "{err}");
}

#[test]
fn the_lock_is_released_when_its_guard_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    drop(backend.lock("apply").unwrap());
    assert!(!backend.lock_path().exists());
    backend.lock("apply").unwrap();
}

#[test]
fn a_guard_dropped_after_force_unlock_leaves_the_new_holders_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let old = backend.lock("apply").unwrap();
    backend.force_unlock(old.id()).unwrap();
    let new = backend.lock("apply").unwrap();
    drop(old);
    assert!(backend.lock_path().exists());
    let err = backend.lock("plan").unwrap_err();
    assert!(
        matches!(&err, StateError::Locked(info) if info.id == new.id()),
        "{err}"
    );
}

#[test]
fn another_stacks_lock_does_not_authorise_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let web = backend(tmp.path());
    let api = LocalBackend::new(web.dir().to_path_buf(), "api");
    let api_lock = api.lock("apply").unwrap();

    let err = web.write(&api_lock, &State::new(STACK)).unwrap_err();
    assert!(matches!(err, StateError::LockLost { .. }), "{err}");
    let err = web.recorder(&api_lock, web.load().unwrap()).err().unwrap();
    assert!(matches!(err, StateError::LockLost { .. }), "{err}");
    assert!(!web.state_path().exists());
}
