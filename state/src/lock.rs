//! One writer at a time: a lock file created with `O_EXCL` (or, for the S3 backend, a lock
//! object created with `If-None-Match: *`), holding who took it and why.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::durable::{self, private_file};
use crate::model::now_rfc3339;
use crate::s3::S3Store;
use crate::s3_backend;
use crate::StateError;

/// How many times to re-read a lock file that exists but is still empty: its holder created it
/// a moment ago and is writing it. Together with [`EMPTY_LOCK_PAUSE`] this bounds how long a
/// second strata waits before failing (a few tens of milliseconds; it never waits for the lock).
const EMPTY_LOCK_RETRIES: u32 = 5;
/// The pause between those re-reads.
const EMPTY_LOCK_PAUSE: Duration = Duration::from_millis(10);

/// Who holds the lock, as written into the lock file, so a second strata can say who to ask.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A uuid; `force-unlock` must be given it, so an old error message cannot remove a newer lock.
    pub id: String,
    /// The command holding the lock, such as `apply`.
    pub operation: String,
    /// `user@host` of the holder.
    pub who: String,
    /// The holder's process id on that host.
    pub pid: u32,
    /// The state file the lock guards.
    pub path: String,
    /// When the lock was taken, RFC 3339.
    pub created_at: String,
}

/// Proof that this process holds the lock. Writing state asks for it; dropping it releases the
/// lock, but only if the lock file still holds this guard's id (after a `force-unlock` another
/// strata may own it, and its lock is left alone).
#[derive(Debug)]
pub struct LockGuard {
    holder: Holder,
    info: LockInfo,
}

/// Where the lock a guard holds lives.
#[derive(Debug)]
pub(crate) enum Holder {
    File(PathBuf),
    S3 { store: S3Store, key: String },
}

impl LockInfo {
    /// Who is taking the lock now, for `operation`, guarding the state at `location`.
    pub(crate) fn now(operation: &str, location: String) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{}@{}", user_name(), host_name()),
            pid: std::process::id(),
            path: location,
            created_at: now_rfc3339(),
        }
    }
}

impl LockGuard {
    /// What was written into the lock file.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// The lock id, as `force-unlock` wants it.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    pub(crate) fn new(holder: Holder, info: LockInfo) -> LockGuard {
        LockGuard { holder, info }
    }

    /// The lock file, for a local lock.
    pub(crate) fn path(&self) -> Option<&Path> {
        match &self.holder {
            Holder::File(path) => Some(path),
            Holder::S3 { .. } => None,
        }
    }

    /// The bucket and key of the lock object, for an S3 lock.
    pub(crate) fn s3_key(&self) -> Option<(&str, &str)> {
        match &self.holder {
            Holder::S3 { store, key } => Some((store.bucket(), key)),
            Holder::File(_) => None,
        }
    }

    /// Fails unless the lock (file or object) still holds this guard's id.
    pub(crate) fn check_held(&self) -> Result<(), StateError> {
        match &self.holder {
            Holder::File(path) => check_held(path, &self.info.id),
            Holder::S3 { store, key } => s3_backend::check_held(store, key, &self.info.id),
        }
    }
}

/// Fails unless the lock file at `path` holds lock `id`: a run whose lock was force-unlocked
/// (and perhaps taken by another strata) must not write.
pub(crate) fn check_held(path: &Path, id: &str) -> Result<(), StateError> {
    match read(path) {
        Ok(Some(info)) if info.id == id => Ok(()),
        _ => Err(StateError::LockLost {
            id: id.to_string(),
            path: path.to_path_buf(),
        }),
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Nothing useful can be done with an error while dropping; a lock left behind is
        // reported by the next run with the id to force-unlock.
        match &self.holder {
            Holder::File(path) => {
                if self.check_held().is_ok() {
                    let _ = durable::remove_if_present(path);
                }
            }
            Holder::S3 { store, key } => s3_backend::release(store, key, &self.info.id),
        }
    }
}

/// Takes the lock at `path` or fails at once with the holder's [`LockInfo`].
pub(crate) fn acquire(
    path: &Path,
    state_path: &Path,
    operation: &str,
) -> Result<LockGuard, StateError> {
    let info = LockInfo::now(operation, state_path.display().to_string());
    let mut file = match private_file().write(true).create_new(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(held_by(path)),
        Err(e) => return Err(StateError::io("creating lock", path, e)),
    };
    let json = serde_json::to_vec_pretty(&info).expect("a LockInfo always encodes");
    if let Err(e) = file.write_all(&json).and_then(|()| file.sync_all()) {
        // The file is ours and half-written: leave no lock nobody holds.
        let _ = durable::remove_if_present(path);
        return Err(StateError::io("writing lock", path, e));
    }
    let guard = LockGuard::new(Holder::File(path.to_path_buf()), info);
    durable::sync_parent(path)?;
    Ok(guard)
}

/// The error for a lock that someone else holds.
fn held_by(path: &Path) -> StateError {
    for _ in 0..EMPTY_LOCK_RETRIES {
        match read(path) {
            Ok(Some(info)) => return StateError::Locked(Box::new(info)),
            Ok(None) => thread::sleep(EMPTY_LOCK_PAUSE),
            Err(e) => return e,
        }
    }
    StateError::corrupt(
        path,
        "the lock file is empty; if no other strata is running, delete it",
    )
}

/// Reads the lock at `path`: `Ok(None)` when it is missing or still empty (being written).
pub(crate) fn read(path: &Path) -> Result<Option<LockInfo>, StateError> {
    match durable::read_optional(path)? {
        None => Ok(None),
        Some(bytes) if bytes.is_empty() => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            StateError::corrupt(
                path,
                format!(
                    "the lock file cannot be read ({e}); if no other strata is running, delete it"
                ),
            )
        }),
    }
}

/// Removes the lock at `path` if its id is `lock_id`.
pub(crate) fn force_unlock(path: &Path, lock_id: &str) -> Result<(), StateError> {
    let Some(current) = read(path)? else {
        return Err(StateError::NotLocked {
            path: path.to_path_buf(),
        });
    };
    if current.id != lock_id {
        return Err(StateError::LockMismatch {
            given: lock_id.to_string(),
            current: current.id,
            who: current.who,
        });
    }
    durable::remove_if_present(path)?;
    durable::sync_parent(path)
}

/// The login name, from the environment a shell sets.
fn user_name() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The host name, without libc: the kernel's file on Linux, else the environment, else the
/// `hostname` program.
fn host_name() -> String {
    let from_file = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok());
    let from_command = || {
        std::process::Command::new("hostname")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
    };
    from_file
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(from_command)
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locked_message_names_the_holder_and_the_way_out() {
        let info = LockInfo {
            id: "0b5e".into(),
            operation: "apply".into(),
            who: "ana@build-7".into(),
            pid: 4242,
            path: ".strata/web.state.json".into(),
            created_at: "2025-01-02T03:04:05Z".into(),
        };
        assert_eq!(
            StateError::Locked(Box::new(info)).to_string(),
            "the state is locked by ana@build-7 (pid 4242, `strata apply`) since \
             2025-01-02T03:04:05Z; lock id 0b5e\n\
             if no other strata is running, run `strata force-unlock 0b5e`"
        );
    }

    #[test]
    fn the_holder_is_named_user_at_host() {
        let who = format!("{}@{}", user_name(), host_name());
        let (user, host) = who.split_once('@').unwrap();
        assert!(!user.is_empty() && !host.is_empty(), "{who}");
    }
}
