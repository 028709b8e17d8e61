//! One writer at a time.

mod common;

use std::time::Duration;

use common::{backend, STACK};
use state::{Backend, LocalBackend, State, StateError};

#[test]
fn a_second_lock_fails_at_once_naming_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let held = backend.lock("apply", Duration::ZERO).unwrap();

    let err = backend.lock("destroy", Duration::ZERO).unwrap_err();
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
    let held = backend.lock("apply", Duration::ZERO).unwrap();
    let id = held.id().to_string();
    // The holder died: its guard never runs.
    std::mem::forget(held);

    let err = backend.force_unlock("not-the-id").unwrap_err();
    assert!(matches!(err, StateError::LockMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&id), "names the current id: {err}");
    assert!(
        backend.lock("apply", Duration::ZERO).is_err(),
        "still locked"
    );

    backend.force_unlock(&id).unwrap();
    assert!(!backend.lock_path().exists());
    backend.lock("apply", Duration::ZERO).unwrap();
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
    drop(backend.lock("apply", Duration::ZERO).unwrap());
    assert!(!backend.lock_path().exists());
    backend.lock("apply", Duration::ZERO).unwrap();
}

#[test]
fn a_guard_dropped_after_force_unlock_leaves_the_new_holders_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let old = backend.lock("apply", Duration::ZERO).unwrap();
    backend.force_unlock(old.id()).unwrap();
    let new = backend.lock("apply", Duration::ZERO).unwrap();
    drop(old);
    assert!(backend.lock_path().exists());
    let err = backend.lock("plan", Duration::ZERO).unwrap_err();
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
    let api_lock = api.lock("apply", Duration::ZERO).unwrap();

    let err = web.write(&api_lock, &State::new(STACK)).unwrap_err();
    assert!(matches!(err, StateError::LockLost { .. }), "{err}");
    let err = web.recorder(&api_lock, web.load().unwrap()).err().unwrap();
    assert!(matches!(err, StateError::LockLost { .. }), "{err}");
    assert!(!web.state_path().exists());
}

/// How long a waiting test lets the holder keep the lock before it releases it.
const HELD_FOR: Duration = Duration::from_millis(300);

#[test]
fn a_lock_released_while_waiting_is_taken_and_one_not_waited_for_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let backend = backend(tmp.path());
    let held = backend.lock("apply", Duration::ZERO).unwrap();
    let err = backend.lock("destroy", Duration::ZERO).unwrap_err();
    assert!(matches!(err, StateError::Locked(_)), "{err}");

    let started = std::time::Instant::now();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(HELD_FOR);
        drop(held);
    });
    let taken = backend.lock("destroy", Duration::from_secs(2)).unwrap();
    assert!(started.elapsed() >= HELD_FOR, "{:?}", started.elapsed());
    assert_eq!(taken.info().operation, "destroy");
    releaser.join().unwrap();
}

#[test]
fn a_lock_never_released_fails_after_the_wait_naming_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    // Through the trait object the CLI holds.
    let backend: std::sync::Arc<dyn Backend> = std::sync::Arc::new(backend(tmp.path()));
    let held = backend.lock("apply", Duration::ZERO).unwrap();

    let wait = Duration::from_millis(600);
    let started = std::time::Instant::now();
    let err = backend.lock("destroy", wait).unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(&err, StateError::Locked(holder) if holder.id == held.id()),
        "{err}"
    );
    assert!(waited >= wait, "gave up after {waited:?}");
    assert!(
        waited < wait + state::LOCK_POLL_INTERVAL * 2,
        "waited {waited:?}"
    );
}

#[test]
fn open_builds_the_backend_the_stack_names() {
    let tmp = tempfile::tempdir().unwrap();
    let no_s3 = |_: Option<&str>| -> aws_sdk_s3::Client { unreachable!("a local backend") };
    let relative = stacks::Backend::Local {
        path: "state/here".into(),
    };
    let local = state::open(&relative, tmp.path(), STACK, no_s3);
    assert_eq!(
        local.location(),
        tmp.path()
            .join("state/here/web.state.json")
            .display()
            .to_string()
    );
    assert_eq!(local.stack(), STACK);
    let absolute = stacks::Backend::Local {
        path: tmp.path().join("abs"),
    };
    let local = state::open(&absolute, std::path::Path::new("elsewhere"), STACK, no_s3);
    assert_eq!(
        local.location(),
        tmp.path().join("abs/web.state.json").display().to_string()
    );

    let remote = stacks::Backend::S3 {
        bucket: "team-state".into(),
        key: "web/state.json".into(),
        region: Some("eu-west-1".into()),
    };
    let mut asked = None;
    let s3 = state::open(&remote, tmp.path(), STACK, |region| {
        asked = region.map(str::to_string);
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("eu-west-1"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    });
    assert_eq!(asked.as_deref(), Some("eu-west-1"));
    assert_eq!(s3.location(), "s3://team-state/web/state.json");
    assert!(!tmp.path().join(".strata").exists(), "nothing is touched");
}
