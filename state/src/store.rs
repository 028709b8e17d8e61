//! What a backend does that only this crate calls: the sealed half of [`crate::Backend`].
//!
//! The trait is public (so it can bound [`crate::Backend`]) but lives in a private module, so no
//! other crate can name it: nobody outside implements a backend, and the promises of this crate
//! hold for every backend there is.

use std::path::PathBuf;
use std::sync::Arc;

use crate::consumers::ConsumerRecord;
use crate::error::StateError;
use crate::local_journal::LocalJournal;
use crate::lock::LockGuard;
use crate::model::{Intent, State};

/// The per-backend steps the shared parts of [`crate::Backend`] (waiting for the lock,
/// recording a run, a direct write) are made of.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The run journal, always local (beside the stack file), whatever the backend.
    fn journal(&self) -> &LocalJournal;

    /// Where this backend's lock is (see `HeldLock::place`), to tell its guards from others.
    fn lock_place(&self) -> String;

    /// Takes the lock for `operation` once: [`StateError::Locked`], naming the holder, when
    /// someone holds it.
    fn try_lock(&self, operation: &str) -> Result<LockGuard, StateError>;

    /// Makes `state` (its serial already bumped) the stored state, keeping the previous one as
    /// the backup, and leaves a journal holding only `pending` intents, or none. `expected` is
    /// the remote version loaded (see `Loaded::remote_tag`); a backend that stores remotely
    /// writes only if it is still current.
    fn commit(
        &self,
        state: &State,
        pending: &[Intent],
        expected: Option<&str>,
    ) -> Result<(), StateError>;

    /// This backend, shared, for a recorder to commit through when its run ends.
    fn shared(&self) -> Arc<dyn Store>;

    /// The stored state as last written, without replaying any journal and without the lock:
    /// what another stack reads. `None` when there is none.
    fn read_stored(&self) -> Result<Option<State>, StateError>;

    /// The consumer record in the file `name` (`app.json`), if there is one.
    fn read_consumer(&self, name: &str) -> Result<Option<ConsumerRecord>, StateError>;

    /// Every consumer record beside the state.
    fn read_consumers(&self) -> Result<Vec<ConsumerRecord>, StateError>;

    /// Writes the consumer record in the file `name`, or removes it (`None`).
    fn write_consumer(&self, name: &str, record: Option<&ConsumerRecord>)
        -> Result<(), StateError>;

    /// The guard must be this backend's lock, and still held.
    fn check_guard(&self, lock: &LockGuard) -> Result<(), StateError> {
        let place = self.lock_place();
        if lock.place() != place {
            return Err(StateError::LockLost {
                id: lock.id().to_string(),
                path: PathBuf::from(place),
            });
        }
        lock.check_held()
    }
}
