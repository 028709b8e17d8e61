//! [`Backend`]: where a stack's state lives, behind one set of operations and promises.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::consumers::{self, ConsumerRecord};
use crate::error::StateError;
use crate::lock::{self, LockGuard};
use crate::model::{Loaded, State, STATE_VERSION};
use crate::recorder::Recorder;
use crate::store::Store;

/// Where a stack's state lives (SPEC §1 `backend:`): [`crate::LocalBackend`] or
/// [`crate::S3Backend`], usually opened with `state::open` and held as `Arc<dyn Backend>`.
/// Every backend keeps the same promises: [`Backend::lock`] lets one writer in at a time and
/// names the holder to the others, [`Backend::load`] replays a crashed run's journal, a
/// [`Recorder`] makes each operation durable before it counts, and [`Backend::write`] refuses a
/// state of another stack or lineage, or an older one.
///
/// The trait is sealed: only this crate implements it.
pub trait Backend: Store {
    /// Reads the state, with the records of a journal a crashed run left replayed on top, in
    /// order. Read-only; call it after [`Backend::lock`] when the state will be changed, so
    /// nobody writes between the read and the write (for S3, the ETag read here is the one the
    /// final write requires).
    ///
    /// Errors: a damaged state, a damaged journal line before the last, a state of another
    /// stack or lineage, a state version newer than [`STATE_VERSION`]. A torn last journal line
    /// is not an error: it never counted as done.
    fn load(&self) -> Result<Loaded, StateError>;

    /// Removes the lock, but only if its id is `lock_id` (the id the locked error printed), so
    /// a stale command line cannot remove a lock taken since. Otherwise
    /// [`StateError::LockMismatch`] names the current id, or [`StateError::NotLocked`].
    fn force_unlock(&self, lock_id: &str) -> Result<(), StateError>;

    /// Where the state is, for messages: a file path or `s3://BUCKET/KEY`.
    fn location(&self) -> String;

    /// The stack whose state this is.
    fn stack(&self) -> &str {
        self.journal().stack()
    }

    /// Takes the lock for `operation` (such as `apply`; it is named to whoever else tries).
    /// While another strata holds it, tries again every [`lock::LOCK_POLL_INTERVAL`] for up to
    /// `wait`, then fails with [`StateError::Locked`], naming the holder. `Duration::ZERO`
    /// fails at once.
    fn lock(&self, operation: &str, wait: Duration) -> Result<LockGuard, StateError> {
        lock::waiting(wait, || self.try_lock(operation))
    }

    /// Starts recording a run on top of `loaded` (from [`Backend::load`] under the same
    /// lock). A journal left by a crashed run is continued, its torn last line cut off, so its
    /// records and pending intents carry over until [`Recorder::finish`] writes them. The
    /// caller keeps `lock` alive until the recorder is finished.
    fn recorder(&self, lock: &LockGuard, loaded: Loaded) -> Result<Recorder, StateError> {
        self.check_guard(lock)?;
        let (journal, replayed_changes) = self.journal().reopen(&loaded)?;
        Ok(Recorder::new(
            self.shared(),
            lock.held(),
            lock.id().to_string(),
            loaded,
            journal,
            replayed_changes,
        ))
    }

    /// Writes `state` as the new state, for commands that edit state directly (`state rm`,
    /// `state mv`, `state push`): serial set above both the current and the given one, the
    /// previous state kept as backup, the write atomic. A leftover journal is folded in: its
    /// pending intents are kept, its other records are superseded by `state` (which, from
    /// [`Backend::load`], already includes them). Pushing a local state into an empty S3
    /// location is how state is migrated.
    ///
    /// Refuses a state of another stack or lineage, or one older than the current state.
    fn write(&self, lock: &LockGuard, state: &State) -> Result<(), StateError> {
        self.check_guard(lock)?;
        let location = PathBuf::from(self.location());
        let (next, current) = checked_write(state, self.stack(), location, || self.load())?;
        self.commit(
            &next,
            &current.pending_intents,
            current.remote_tag.as_deref(),
        )
    }

    /// The outputs of this stack as its last apply recorded them, for another stack's
    /// `stack_refs` (SPEC §11): read without taking the lock (a producer's apply in progress
    /// does not block its consumers; they see the state it last wrote), sensitive outputs
    /// still [`stacks::Value::Sensitive`]. [`StateError::NoState`] when the stack has no state
    /// there.
    fn read_outputs(&self) -> Result<BTreeMap<String, stacks::Value>, StateError> {
        match self.read_stored()? {
            Some(state) => Ok(state.outputs),
            None => Err(StateError::NoState {
                location: self.location(),
                stack: self.stack().to_string(),
            }),
        }
    }

    /// Records, beside this (producing) stack's state, that stack `consumer` reads `outputs`,
    /// so a plan of this stack can name it ([`Backend::consumers`]). Its record replaces the
    /// one it left before; no outputs removes it. Unchanged outputs write nothing. Returns
    /// whether the record changed. Takes no lock: each consumer writes only its own record.
    fn record_consumer(&self, consumer: &str, outputs: &[String]) -> Result<bool, StateError> {
        let name = consumers::record_name(consumer)?;
        let record = ConsumerRecord::new(consumer, outputs);
        let before = self.read_consumer(&name)?;
        if record.outputs.is_empty() {
            if before.is_none() {
                return Ok(false);
            }
            self.write_consumer(&name, None)?;
            return Ok(true);
        }
        if before.is_some_and(|b| b.outputs == record.outputs) {
            return Ok(false);
        }
        self.write_consumer(&name, Some(&record))?;
        Ok(true)
    }

    /// Per output of this stack, the stacks that recorded reading it (sorted): what a plan
    /// that changes or removes the output names (`! vpc_id is read by stacks: app, jobs`).
    fn consumers(&self) -> Result<BTreeMap<String, Vec<String>>, StateError> {
        Ok(consumers::by_output(self.read_consumers()?))
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

/// The state as a state file holds it: pretty JSON and a final newline. `location` names it in
/// the (never expected) error.
pub(crate) fn encode_state(state: &State, location: &str) -> Result<Vec<u8>, StateError> {
    let mut bytes = serde_json::to_vec_pretty(state)
        .map_err(|e| StateError::corrupt(location, format!("cannot encode the state: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// What a direct write (`state rm`, `state mv`, `state push`) commits, for any backend:
/// `state` with the current format version and a serial above both its own and the current
/// one. Refused when `state` is another stack's, newer than this version reads, of another
/// lineage than an existing state, or older than it; `path` names the state in the error.
/// `load` reads the current state, which is returned too (its pending intents and remote tag
/// go with the commit); it is read only once the checks that need no current state passed.
fn checked_write(
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
