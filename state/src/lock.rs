//! One writer at a time: the guard a taken lock gives, the wait for a lock someone else holds,
//! and the local lock file, created with `O_EXCL` and holding who took it and why. (The S3
//! backend's lock object lives with that backend; both are behind [`HeldLock`].)

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use files::durable::{self, private_file};

use crate::error::StateError;
use crate::model::{now_rfc3339, LockInfo};

/// How often a lock someone else holds is tried again while waiting for it
/// ([`crate::Backend::lock`] with a non-zero wait).
pub const LOCK_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How many times to re-read a lock file that exists but is still empty: its holder created it
/// a moment ago and is writing it. Together with [`EMPTY_LOCK_PAUSE`] this bounds how long a
/// second strata waits before failing (a few tens of milliseconds).
const EMPTY_LOCK_RETRIES: u32 = 5;
/// The pause between those re-reads.
const EMPTY_LOCK_PAUSE: Duration = Duration::from_millis(10);

/// Proof that this process holds the lock. Writing state asks for it; dropping it releases the
/// lock, but only if the lock still holds this guard's id (after a `force-unlock` another
/// strata may own it, and its lock is left alone).
#[derive(Debug)]
pub struct LockGuard {
    held: Arc<dyn HeldLock>,
    info: LockInfo,
    /// The lock this one replaced: a local lock whose holder was no longer running.
    taken_over: Option<LockInfo>,
}

/// A lock as its backend keeps it (a file, an S3 object): what a guard and a recorder need to
/// check that it is still theirs and to release it.
pub(crate) trait HeldLock: Send + Sync + fmt::Debug {
    /// Where the lock is (the lock file's path, the lock object's `s3://` URL): a guard belongs
    /// to the backend whose lock is at the same place.
    fn place(&self) -> String;

    /// Fails with [`StateError::LockLost`] unless the lock still holds lock `id`.
    fn check_held(&self, id: &str) -> Result<(), StateError>;

    /// Removes the lock if it still holds lock `id`. Errors are ignored: a lock left behind is
    /// reported by the next run with the id to force-unlock.
    fn release(&self, id: &str);
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
    /// What was written into the lock.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// The lock id, as `force-unlock` wants it.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The lock of a strata that is no longer running, which taking this one removed (local
    /// locks only: the holder's pid is checked on this host).
    pub fn taken_over(&self) -> Option<&LockInfo> {
        self.taken_over.as_ref()
    }

    pub(crate) fn new(held: Arc<dyn HeldLock>, info: LockInfo) -> LockGuard {
        LockGuard {
            held,
            info,
            taken_over: None,
        }
    }

    /// Where the lock is; see [`HeldLock::place`].
    pub(crate) fn place(&self) -> String {
        self.held.place()
    }

    /// The lock itself, for a recorder to check it is still held when it finishes.
    pub(crate) fn held(&self) -> Arc<dyn HeldLock> {
        Arc::clone(&self.held)
    }

    /// Fails unless the lock still holds this guard's id.
    pub(crate) fn check_held(&self) -> Result<(), StateError> {
        self.held.check_held(&self.info.id)
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.held.release(&self.info.id);
    }
}

/// Tries `attempt` until it takes the lock, for up to `wait`: while it fails with
/// [`StateError::Locked`] (someone holds the lock) it is tried again every
/// [`LOCK_POLL_INTERVAL`]; once `wait` is over, that error, naming the holder, is returned. Any
/// other error is returned at once. `wait` zero tries once.
pub(crate) fn waiting(
    wait: Duration,
    mut attempt: impl FnMut() -> Result<LockGuard, StateError>,
) -> Result<LockGuard, StateError> {
    // A wait too long to represent is a wait without end.
    let deadline = Instant::now().checked_add(wait);
    loop {
        match attempt() {
            Err(StateError::Locked(holder)) => {
                let pause = match deadline {
                    Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                    None => LOCK_POLL_INTERVAL,
                };
                if pause.is_zero() {
                    return Err(StateError::Locked(holder));
                }
                thread::sleep(pause.min(LOCK_POLL_INTERVAL));
            }
            other => return other,
        }
    }
}

/// The local lock file at a path.
#[derive(Debug)]
struct LockFile(PathBuf);

impl HeldLock for LockFile {
    fn place(&self) -> String {
        self.0.display().to_string()
    }

    fn check_held(&self, id: &str) -> Result<(), StateError> {
        check_held(&self.0, id)
    }

    fn release(&self, id: &str) {
        let _ = remove_if_holds(&self.0, id);
    }
}

/// Fails unless the lock file at `path` holds lock `id`: a run whose lock was force-unlocked
/// (and perhaps taken by another strata) must not write.
fn check_held(path: &Path, id: &str) -> Result<(), StateError> {
    match read(path) {
        Ok(Some(info)) if info.id == id => Ok(()),
        _ => Err(StateError::LockLost {
            id: id.to_string(),
            path: path.to_path_buf(),
        }),
    }
}

/// Takes the lock file at `path` (guarding the state at `state_path`) or fails at once with
/// [`StateError::Locked`], naming the holder.
///
/// A lock whose holder is gone (taken on this host by a process that is no longer running, as
/// after a kill -9 or a crash) is taken over: removed if it is still that lock, then taken as
/// usual; [`LockGuard::taken_over`] names it so the user is told.
pub(crate) fn acquire(
    path: &Path,
    state_path: &Path,
    operation: &str,
) -> Result<LockGuard, StateError> {
    match create(path, state_path, operation) {
        Err(StateError::Locked(holder)) if holder_is_gone(&holder) => {
            remove_if_holds(path, &holder.id)?;
            let mut guard = create(path, state_path, operation)?;
            guard.taken_over = Some(*holder);
            Ok(guard)
        }
        other => other,
    }
}

/// Creates the lock file, or fails with [`StateError::Locked`] naming its holder.
fn create(path: &Path, state_path: &Path, operation: &str) -> Result<LockGuard, StateError> {
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
    let guard = LockGuard::new(Arc::new(LockFile(path.to_path_buf())), info);
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
    if current.id != lock_id || !remove_if_holds(path, lock_id)? {
        let now = read(path)?.unwrap_or(current);
        return Err(StateError::LockMismatch {
            given: lock_id.to_string(),
            current: now.id,
            who: now.who,
        });
    }
    Ok(())
}

/// Removes the lock file at `path` if it holds lock `id`, and says whether it did. Compare and
/// delete in one step: the file is first renamed aside (atomic), then its id is checked; a
/// lock another strata took in between is put back (`hard_link` creates the name only if it
/// is free), so no one removes a lock they did not read.
fn remove_if_holds(path: &Path, id: &str) -> Result<bool, StateError> {
    let aside = path.with_extension(format!("lock.{}.removing", uuid::Uuid::new_v4()));
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(StateError::io("moving lock aside", path, e)),
    }
    let ours = matches!(read(&aside), Ok(Some(info)) if info.id == id);
    if !ours {
        // Someone else's lock: put it back unless a third strata has locked meanwhile (that
        // one's own lock stands; this one's holder finds its lock lost when it next writes).
        let _ = std::fs::hard_link(&aside, path);
    }
    durable::remove_if_present(&aside)?;
    durable::sync_parent(path)?;
    Ok(ours)
}

/// True when `holder` took its lock on this host and its process is no longer running. A lock
/// taken on another host, or whose process cannot be checked, is never taken as gone.
fn holder_is_gone(holder: &LockInfo) -> bool {
    let on_this_host = holder
        .who
        .rsplit_once('@')
        .is_some_and(|(_, host)| host == host_name());
    on_this_host && holder.pid != std::process::id() && process_is_gone(holder.pid)
}

/// Linux: `/proc/<pid>` is missing, or the process is a zombie (killed, not yet reaped).
#[cfg(target_os = "linux")]
fn process_is_gone(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(e) => e.kind() == io::ErrorKind::NotFound,
        // `pid (comm) S ...`: the state follows the last `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| matches!(state, 'Z' | 'X')),
    }
}

/// Elsewhere a process is never taken as gone: the lock waits for `force-unlock`.
#[cfg(not(target_os = "linux"))]
fn process_is_gone(_pid: u32) -> bool {
    false
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

    /// A lock file as a strata with `pid` on `host` would have left it.
    fn left_by(dir: &Path, pid: u32, host: &str) -> (PathBuf, LockInfo) {
        let path = dir.join("web.lock");
        let info = LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: "apply".into(),
            who: format!("ana@{host}"),
            pid,
            path: "web.state.json".into(),
            created_at: "2025-01-02T03:04:05Z".into(),
        };
        std::fs::write(&path, serde_json::to_vec(&info).unwrap()).unwrap();
        (path, info)
    }

    /// The pid of a process that has run and been reaped.
    fn finished_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_lock_whose_process_is_gone_on_this_host_is_taken_over_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let (path, stale) = left_by(dir.path(), finished_pid(), &host_name());
        let guard = acquire(&path, Path::new("web.state.json"), "plan").unwrap();
        assert_eq!(guard.taken_over(), Some(&stale));
        assert_eq!(read(&path).unwrap().unwrap().id, guard.id());
        drop(guard);
        assert!(!path.exists());
        // Nothing is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_lock_of_a_running_process_or_of_another_host_is_not_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut running = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let (path, live) = left_by(dir.path(), running.id(), &host_name());
        let err = acquire(&path, Path::new("web.state.json"), "plan").unwrap_err();
        running.kill().unwrap();
        running.wait().unwrap();
        assert!(
            matches!(&err, StateError::Locked(holder) if holder.id == live.id),
            "{err}"
        );

        let (path, elsewhere) = left_by(dir.path(), finished_pid(), "another-host");
        let err = acquire(&path, Path::new("web.state.json"), "plan").unwrap_err();
        assert!(
            matches!(&err, StateError::Locked(holder) if holder.id == elsewhere.id),
            "{err}"
        );
    }

    #[test]
    fn removing_a_lock_by_id_leaves_a_lock_with_another_id_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let (path, info) = left_by(dir.path(), 4242, "build-7");
        assert!(!remove_if_holds(&path, "some-other-id").unwrap());
        assert_eq!(read(&path).unwrap().unwrap(), info);
        assert!(remove_if_holds(&path, &info.id).unwrap());
        assert!(!path.exists());
        assert!(!remove_if_holds(&path, &info.id).unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
