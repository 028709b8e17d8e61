//! [`StateBackend`]: the one type the CLI holds, whichever backend a stack names.

use crate::backend::{Loaded, LocalBackend};
use crate::lock::LockGuard;
use crate::model::State;
use crate::recorder::Recorder;
use crate::s3_backend::S3Backend;
use crate::StateError;

/// Where a stack's state lives (SPEC §1 `backend:`), with the same operations and promises for
/// each: [`StateBackend::lock`] fails at once naming the holder, [`StateBackend::load`] replays
/// a crashed run's journal, a [`Recorder`] makes each operation durable before it counts, and
/// [`StateBackend::write`] refuses a state of another stack or lineage, or an older one.
#[derive(Clone, Debug)]
pub enum StateBackend {
    /// `.strata/` (or `backend.local.path`) beside the stack file.
    Local(LocalBackend),
    /// One S3 object, locked with a conditional write.
    S3(S3Backend),
}

impl StateBackend {
    /// The recorded state (see [`LocalBackend::load`], [`S3Backend::load`]).
    pub fn load(&self) -> Result<Loaded, StateError> {
        match self {
            StateBackend::Local(b) => b.load(),
            StateBackend::S3(b) => b.load(),
        }
    }

    /// Takes the lock for `operation`, or fails at once with [`StateError::Locked`].
    pub fn lock(&self, operation: &str) -> Result<LockGuard, StateError> {
        match self {
            StateBackend::Local(b) => b.lock(operation),
            StateBackend::S3(b) => b.lock(operation),
        }
    }

    /// Starts recording a run on top of `loaded`, under `lock`.
    pub fn recorder(&self, lock: &LockGuard, loaded: Loaded) -> Result<Recorder, StateError> {
        match self {
            StateBackend::Local(b) => b.recorder(lock, loaded),
            StateBackend::S3(b) => b.recorder(lock, loaded),
        }
    }

    /// Replaces the state, for commands that edit it directly (`state push`, `rm`, `mv`).
    pub fn write(&self, lock: &LockGuard, state: &State) -> Result<(), StateError> {
        match self {
            StateBackend::Local(b) => b.write(lock, state),
            StateBackend::S3(b) => b.write(lock, state),
        }
    }

    /// Removes the lock if its id is `lock_id`.
    pub fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        match self {
            StateBackend::Local(b) => b.force_unlock(lock_id),
            StateBackend::S3(b) => b.force_unlock(lock_id),
        }
    }

    /// Where the state is, for messages: a file path or `s3://BUCKET/KEY`.
    pub fn location(&self) -> String {
        match self {
            StateBackend::Local(b) => b.state_path().display().to_string(),
            StateBackend::S3(b) => b.location(),
        }
    }

    /// The stack whose state this is.
    pub fn stack(&self) -> &str {
        match self {
            StateBackend::Local(b) => b.stack(),
            StateBackend::S3(b) => b.stack(),
        }
    }
}

impl From<LocalBackend> for StateBackend {
    fn from(backend: LocalBackend) -> StateBackend {
        StateBackend::Local(backend)
    }
}

impl From<S3Backend> for StateBackend {
    fn from(backend: S3Backend) -> StateBackend {
        StateBackend::S3(backend)
    }
}
