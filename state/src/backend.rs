//! The local backend: state, backup, journal and lock files in `.strata/` beside the stack file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::durable;
use crate::journal::{self, Header};
use crate::lock::{self, LockGuard};
use crate::model::{Intent, State, STATE_VERSION};
use crate::recorder::Recorder;
use crate::{StateBackend, StateError};

/// What [`LocalBackend::load`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The state file with any leftover journal replayed on top; a fresh [`State::new`] when
    /// nothing has been recorded yet.
    pub state: State,
    /// Whether anything was recorded before: a state file, or the journal of a run that crashed
    /// before it first wrote one.
    pub exists: bool,
    /// Creates that were started but whose result was never recorded, oldest first. Each may or
    /// may not exist in AWS: find and adopt it, or resolve the intent.
    pub pending_intents: Vec<Intent>,
    /// For a remote state: the ETag of the object as read (`None`: there was none), so the write
    /// at the end of the run happens only if nobody wrote in between.
    pub(crate) remote_tag: Option<String>,
}

/// Stores one stack's state in a local directory (normally `<stack file dir>/.strata`):
/// `<stack>.state.json`, its `.backup`, `<stack>.journal` while a run records, and
/// `<stack>.lock` while a writer holds the lock. Every file is 0600; the directory is made 0700.
#[derive(Clone, Debug)]
pub struct LocalBackend {
    dir: PathBuf,
    stack: String,
}

impl LocalBackend {
    /// A backend for `stack` in `dir`. Nothing is touched until a method needs it; the
    /// directory is created by the first call that writes. `stack` must be a validated stack
    /// name (it becomes part of file names).
    pub fn new(dir: PathBuf, stack: &str) -> LocalBackend {
        LocalBackend {
            dir,
            stack: stack.to_string(),
        }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stack whose state this is.
    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// `<stack>.state.json`: the compacted state.
    pub fn state_path(&self) -> PathBuf {
        self.file("state.json")
    }

    /// `<stack>.state.json.backup`: the state file as it was before the last write.
    pub fn backup_path(&self) -> PathBuf {
        self.file("state.json.backup")
    }

    /// `<stack>.journal`: the records of the current (or a crashed) run.
    pub fn journal_path(&self) -> PathBuf {
        self.file("journal")
    }

    /// `<stack>.lock`: present while a writer holds the lock.
    pub fn lock_path(&self) -> PathBuf {
        self.file("lock")
    }

    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", self.stack))
    }

    /// Reads the state: the state file, then the records of a journal a crashed run left, in
    /// order. Read-only; call it after [`LocalBackend::lock`] when the state will be changed, so
    /// nobody writes between the read and the write.
    ///
    /// Errors: a damaged state file, a damaged journal line before the last, a file of another
    /// stack or lineage, a state version newer than [`STATE_VERSION`]. A torn last journal line
    /// is not an error: it never counted as done.
    pub fn load(&self) -> Result<Loaded, StateError> {
        let from_file = self.read_state_file()?;
        self.load_over(from_file, &self.state_path().display().to_string())
    }

    /// The state `from_file` (read from `location`, here or remote) with the journal replayed on
    /// top: the journal always lives in this directory.
    pub(crate) fn load_over(
        &self,
        from_file: Option<State>,
        location: &str,
    ) -> Result<Loaded, StateError> {
        let file_exists = from_file.is_some();
        let mut state = from_file.unwrap_or_else(|| State::new(&self.stack));
        let mut pending_intents = Vec::new();
        let mut journal_exists = false;
        let journal_path = self.journal_path();
        if let Some(contents) = journal::read(&journal_path)? {
            if let Some(header) = &contents.header {
                self.check_header(header, &state, file_exists, location)?;
                journal_exists = true;
                if !file_exists {
                    // A first run that crashed: its journal fixed the lineage.
                    state.lineage = header.lineage.clone();
                }
                for record in contents.records {
                    record.apply(&mut state, &mut pending_intents);
                }
            }
        }
        Ok(Loaded {
            state,
            exists: file_exists || journal_exists,
            pending_intents,
            remote_tag: None,
        })
    }

    /// Takes the lock for `operation` (such as `apply`), creating the directory if needed.
    /// Fails at once with [`StateError::Locked`], naming the holder, if another strata holds it.
    pub fn lock(&self, operation: &str) -> Result<LockGuard, StateError> {
        durable::ensure_dir(&self.dir)?;
        lock::acquire(&self.lock_path(), &self.state_path(), operation)
    }

    /// Removes the lock, but only if its id is `lock_id` (the id the locked error printed), so
    /// a stale command line cannot remove a lock taken since. Otherwise
    /// [`StateError::LockMismatch`] names the current id, or [`StateError::NotLocked`].
    pub fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        lock::force_unlock(&self.lock_path(), lock_id)
    }

    /// Starts recording a run on top of `loaded` (from [`LocalBackend::load`] under the same
    /// lock). A journal left by a crashed run is continued, its torn last line cut off, so its
    /// records and pending intents carry over until [`Recorder::finish`] compacts them. The
    /// caller keeps `lock` alive until the recorder is finished.
    pub fn recorder(&self, lock: &LockGuard, loaded: Loaded) -> Result<Recorder, StateError> {
        self.check_guard(lock)?;
        let (journal, replayed_changes) = self.open_journal(&loaded)?;
        Ok(Recorder::new(
            StateBackend::Local(self.clone()),
            self.clone(),
            lock.id().to_string(),
            loaded,
            journal,
            replayed_changes,
        ))
    }

    /// The journal a crashed run left, reopened to continue it (its torn last line cut off), and
    /// whether it recorded changes to the state; `None` when there is none yet.
    pub(crate) fn open_journal(
        &self,
        loaded: &Loaded,
    ) -> Result<(Option<journal::Writer>, bool), StateError> {
        let journal_path = self.journal_path();
        let mut journal = None;
        let mut replayed_changes = false;
        if let Some(contents) = journal::read(&journal_path)? {
            if let Some(header) = &contents.header {
                if header.lineage != loaded.state.lineage {
                    return Err(StateError::LineageMismatch {
                        path: journal_path,
                        expected: loaded.state.lineage.clone(),
                        found: header.lineage.clone(),
                    });
                }
                replayed_changes = contents.records.iter().any(|record| {
                    matches!(
                        record,
                        journal::Record::Put { .. }
                            | journal::Record::Remove { .. }
                            | journal::Record::Outputs { .. }
                    )
                });
                journal = Some(journal::Writer::reopen(&journal_path, &contents)?);
            }
            // A journal without a complete header recorded nothing; the first record replaces it.
        }
        Ok((journal, replayed_changes))
    }

    /// Writes `state` as the new state file, for commands that edit state directly (`state rm`,
    /// `state mv`, `state push`): serial set above both the current and the given one, the
    /// previous file kept as backup, the write atomic. A leftover journal is folded in: its
    /// pending intents are kept, its other records are superseded by `state` (which, from
    /// [`LocalBackend::load`], already includes them).
    ///
    /// Refuses a state of another stack or lineage, or one older than the current file.
    pub fn write(&self, lock: &LockGuard, state: &State) -> Result<(), StateError> {
        self.check_guard(lock)?;
        let (next, current) = checked_write(state, &self.stack, self.state_path(), || self.load())?;
        self.commit(&next, &current.pending_intents)
    }

    /// Makes `state` the state file (its serial already bumped by the caller) and leaves a
    /// journal holding only `pending` intents, or none. The order makes every crash point safe:
    /// the backup is replaced atomically, then the state file; a journal still there after that
    /// replays idempotently onto the state it was compacted into.
    pub(crate) fn commit(&self, state: &State, pending: &[Intent]) -> Result<(), StateError> {
        durable::ensure_dir(&self.dir)?;
        let path = self.state_path();
        let mut bytes = serde_json::to_vec_pretty(state)
            .map_err(|e| StateError::corrupt(&path, format!("cannot encode the state: {e}")))?;
        bytes.push(b'\n');
        durable::keep_backup(&path, &self.backup_path())?;
        durable::write_atomic(&path, &bytes)?;
        self.settle_journal(state, pending)
    }

    /// After the state file is up to date: removes the journal, or rewrites it with just the
    /// intents that are still pending (they must outlive the run until something resolves them).
    pub(crate) fn settle_journal(
        &self,
        state: &State,
        pending: &[Intent],
    ) -> Result<(), StateError> {
        let path = self.journal_path();
        if pending.is_empty() {
            if path.exists() {
                durable::remove_if_present(&path)?;
                durable::sync_parent(&path)?;
            }
            Ok(())
        } else {
            journal::rewrite(&path, &Header::of(state), pending)
        }
    }

    /// The guard must be this backend's lock, and still held.
    fn check_guard(&self, lock: &LockGuard) -> Result<(), StateError> {
        if lock.path() != Some(self.lock_path().as_path()) {
            return Err(StateError::LockLost {
                id: lock.id().to_string(),
                path: self.lock_path(),
            });
        }
        lock.check_held()
    }

    /// The state file, validated, or `None` when there is none yet.
    fn read_state_file(&self) -> Result<Option<State>, StateError> {
        let path = self.state_path();
        let Some(bytes) = durable::read_optional(&path)? else {
            return Ok(None);
        };
        decode_state(&bytes, &path, &self.stack).map(Some)
    }

    /// A journal must continue this stack's state file: same stack and lineage, and started from
    /// its serial (or from the one before, when a crash fell between writing the compacted state
    /// file and removing the journal: replaying it again changes nothing).
    fn check_header(
        &self,
        header: &Header,
        state: &State,
        file_exists: bool,
        location: &str,
    ) -> Result<(), StateError> {
        let path = self.journal_path();
        if header.stack != self.stack {
            return Err(StateError::WrongStack {
                path,
                expected: self.stack.clone(),
                found: header.stack.clone(),
            });
        }
        if !file_exists {
            if header.serial == 0 {
                return Ok(());
            }
            return Err(StateError::corrupt(
                path,
                format!(
                    "the journal continues state serial {} but {location} is missing; restore it \
                     from its backup ({})",
                    header.serial,
                    if location.starts_with("s3://") {
                        format!("{location}.backup")
                    } else {
                        self.backup_path().display().to_string()
                    }
                ),
            ));
        }
        if header.lineage != state.lineage {
            return Err(StateError::LineageMismatch {
                path,
                expected: state.lineage.clone(),
                found: header.lineage.clone(),
            });
        }
        if header.serial != state.serial && header.serial + 1 != state.serial {
            return Err(StateError::corrupt(
                path,
                format!(
                    "the journal continues state serial {} but the state file is at serial {}; \
                     it does not belong to this state file",
                    header.serial, state.serial
                ),
            ));
        }
        Ok(())
    }
}

/// A state file's bytes, validated: a version this strata reads, a strata state, this stack's.
/// `path` names where they came from in errors (a file, or `s3://...`).
pub(crate) fn decode_state(bytes: &[u8], path: &Path, stack: &str) -> Result<State, StateError> {
    /// Just enough of a state file to tell a newer format from a damaged file.
    #[derive(Deserialize)]
    struct VersionOnly {
        version: u32,
    }

    let version = serde_json::from_slice::<VersionOnly>(bytes).map(|v| v.version);
    if let Ok(found) = version {
        if found > STATE_VERSION {
            return Err(StateError::VersionTooNew {
                path: path.to_path_buf(),
                found,
                supported: STATE_VERSION,
            });
        }
    }
    let state: State = serde_json::from_slice(bytes)
        .map_err(|e| StateError::corrupt(path, format!("not a strata state file: {e}")))?;
    if state.stack != stack {
        return Err(StateError::WrongStack {
            path: path.to_path_buf(),
            expected: stack.to_string(),
            found: state.stack,
        });
    }
    Ok(state)
}

/// What a direct write (`state rm`, `state mv`, `state push`) commits, for either backend:
/// `state` with the current format version and a serial above both its own and the current
/// one. Refused when `state` is another stack's, newer than this version reads, of another
/// lineage than an existing state, or older than it; `path` names the state in the error.
/// `load` reads the current state, which is returned too (its pending intents and remote tag
/// go with the commit); it is read only once the checks that need no current state passed.
pub(crate) fn checked_write(
    state: &State,
    stack: &str,
    path: PathBuf,
    load: impl FnOnce() -> Result<Loaded, StateError>,
) -> Result<(State, Loaded), StateError> {
    if state.stack != stack {
        return Err(StateError::WrongStack {
            path,
            expected: stack.to_string(),
            found: state.stack.clone(),
        });
    }
    if state.version > STATE_VERSION {
        return Err(StateError::VersionTooNew {
            path,
            found: state.version,
            supported: STATE_VERSION,
        });
    }
    let current = load()?;
    if current.exists {
        if state.lineage != current.state.lineage {
            return Err(StateError::LineageMismatch {
                path,
                expected: current.state.lineage,
                found: state.lineage.clone(),
            });
        }
        if state.serial < current.state.serial {
            return Err(StateError::StaleSerial {
                path,
                current: current.state.serial,
                given: state.serial,
            });
        }
    }
    let mut next = state.clone();
    next.version = STATE_VERSION;
    next.serial = state.serial.max(current.state.serial) + 1;
    Ok((next, current))
}
