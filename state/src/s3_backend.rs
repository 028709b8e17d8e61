//! The S3 backend: the state as one S3 object, shared by everyone who applies the stack.
//!
//! - The lock is an object `KEY.lock` created with `If-None-Match: *`: of two strata taking it at
//!   once exactly one succeeds; the other reads the holder from the object and fails naming it
//!   (at once, or after waiting for it: see [`Backend::lock`]).
//! - The state object is written at the end of a run with `If-Match` on the ETag read after the
//!   lock was taken (or `If-None-Match: *` when there was none), so even a writer that bypassed
//!   the lock can never overwrite a newer state.
//! - Per-operation recording stays local and cheap: the journal is appended and fsynced in the
//!   state directory beside the stack file (`.strata/`), exactly as for the local backend, and
//!   compacted into the S3 object when the run ends. A crashed run's journal (and lock) stay
//!   behind; running strata again on the same machine replays the journal onto the S3 state.
//! - The previous state is copied to `KEY.backup` before each write.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backend::{decode_state, encode_state, Backend};
use crate::consumers::{self, ConsumerRecord};
use crate::error::StateError;
use crate::local_journal::LocalJournal;
use crate::lock::{HeldLock, LockGuard};
use crate::model::{Intent, Loaded, LockInfo, State};
use crate::s3::{Condition, S3Store, Written};
use crate::store::Store;

/// How many times taking the lock is retried when the lock object vanished between the failed
/// create and the read of its holder (its holder released it in that instant).
const LOCK_RACE_RETRIES: usize = 3;

/// One stack's state in S3: the object `KEY`, its lock `KEY.lock` and its backup `KEY.backup`,
/// with the journal of a running (or crashed) apply kept locally. Its operations are those of
/// [`Backend`].
#[derive(Clone, Debug)]
pub struct S3Backend {
    store: S3Store,
    key: String,
    local: LocalJournal,
}

/// The lock object of an S3 backend.
#[derive(Debug)]
struct LockObject {
    store: S3Store,
    key: String,
}

impl S3Backend {
    /// The state of `stack` at `key` in `store`'s bucket; the journal lives in `journal_dir`
    /// (the `.strata/` directory beside the stack file).
    pub fn new(store: S3Store, key: impl Into<String>, journal_dir: PathBuf, stack: &str) -> Self {
        S3Backend {
            store,
            key: key.into(),
            local: LocalJournal::new(journal_dir, stack),
        }
    }

    /// The key of the lock object.
    pub fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    /// The key of the previous state.
    pub fn backup_key(&self) -> String {
        format!("{}.backup", self.key)
    }

    /// `KEY.consumers/`: the prefix of one record per stack that reads this stack's outputs.
    pub fn consumers_prefix(&self) -> String {
        format!("{}.consumers/", self.key)
    }

    /// The local journal of a run in progress (or one that crashed).
    pub fn journal_path(&self) -> PathBuf {
        self.local.path()
    }
}

impl Backend for S3Backend {
    /// Reads the state object, with a local journal left by a crashed run replayed on top.
    fn load(&self) -> Result<Loaded, StateError> {
        let location = self.location();
        let (state, tag) = match self.store.get(&self.key)? {
            Some(object) => (
                Some(decode_state(
                    &object.bytes,
                    Path::new(&location),
                    self.local.stack(),
                )?),
                Some(object.etag),
            ),
            None => (None, None),
        };
        let backup = self.store.url(&self.backup_key());
        let mut loaded = self.local.load_over(state, &location, &backup)?;
        loaded.remote_tag = tag;
        Ok(loaded)
    }

    fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        let key = self.lock_key();
        let Some((current, etag)) = read_lock(&self.store, &key)? else {
            return Err(StateError::NotLocked {
                path: PathBuf::from(self.store.url(&key)),
            });
        };
        if current.id != lock_id {
            return Err(StateError::LockMismatch {
                given: lock_id.to_string(),
                current: current.id,
                who: current.who,
            });
        }
        if self.store.delete(&key, Some(&etag))? {
            Ok(())
        } else {
            // Retaken between the read and the delete: report the new holder.
            match read_lock(&self.store, &key)? {
                Some((holder, _)) => Err(StateError::LockMismatch {
                    given: lock_id.to_string(),
                    current: holder.id,
                    who: holder.who,
                }),
                None => Ok(()),
            }
        }
    }

    /// `s3://BUCKET/KEY`.
    fn location(&self) -> String {
        self.store.url(&self.key)
    }
}

impl Store for S3Backend {
    fn journal(&self) -> &LocalJournal {
        &self.local
    }

    fn lock_place(&self) -> String {
        self.store.url(&self.lock_key())
    }

    /// Creates the lock object with `If-None-Match: *`; of two strata taking it at once exactly
    /// one succeeds.
    fn try_lock(&self, operation: &str) -> Result<LockGuard, StateError> {
        let key = self.lock_key();
        let info = LockInfo::now(operation, self.location());
        let bytes = serde_json::to_vec_pretty(&info).expect("a LockInfo always encodes");
        for _ in 0..LOCK_RACE_RETRIES {
            match self.store.put(&key, bytes.clone(), Condition::IfAbsent)? {
                Written::Done { .. } => {
                    // Read it back. Real S3 makes `If-None-Match` atomic, so this always finds
                    // our own lock; an emulator that checks and writes in two steps may let a
                    // concurrent writer overwrite it, and then only the last writer holds it.
                    return match read_lock(&self.store, &key)? {
                        Some((held, _)) if held.id == info.id => Ok(LockGuard::new(
                            Arc::new(LockObject {
                                store: self.store.clone(),
                                key,
                            }),
                            info,
                        )),
                        Some((other, _)) => Err(StateError::Locked(Box::new(other))),
                        None => Err(StateError::LockLost {
                            id: info.id,
                            path: PathBuf::from(self.store.url(&key)),
                        }),
                    };
                }
                Written::ConditionFailed => {
                    if let Some((holder, _)) = read_lock(&self.store, &key)? {
                        return Err(StateError::Locked(Box::new(holder)));
                    }
                    // Released in between: try again.
                }
            }
        }
        Err(StateError::Remote {
            action: "taking the lock",
            location: self.store.url(&key),
            message: "the lock kept changing hands; try again".into(),
        })
    }

    /// Writes `state` if the object's ETag is still `expected` (`None`: if there is still no
    /// object), after copying the current one to the backup; [`StateError::Conflict`]
    /// otherwise, the journal kept.
    fn commit(
        &self,
        state: &State,
        pending: &[Intent],
        expected: Option<&str>,
    ) -> Result<(), StateError> {
        let bytes = encode_state(state, &self.location())?;
        let condition = match expected {
            Some(etag) => {
                self.store.copy(&self.key, &self.backup_key())?;
                Condition::IfMatch(etag)
            }
            None => Condition::IfAbsent,
        };
        match self.store.put(&self.key, bytes, condition)? {
            Written::Done { .. } => self.local.settle(state, pending),
            Written::ConditionFailed => Err(StateError::Conflict {
                location: self.location(),
                journal: self.local.path(),
            }),
        }
    }

    fn shared(&self) -> Arc<dyn Store> {
        Arc::new(self.clone())
    }

    fn read_stored(&self) -> Result<Option<State>, StateError> {
        let location = self.location();
        match self.store.get(&self.key)? {
            Some(object) => {
                decode_state(&object.bytes, Path::new(&location), self.local.stack()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn read_consumer(&self, name: &str) -> Result<Option<ConsumerRecord>, StateError> {
        let key = format!("{}{name}", self.consumers_prefix());
        match self.store.get(&key)? {
            Some(object) => consumers::decode(&object.bytes, &self.store.url(&key)).map(Some),
            None => Ok(None),
        }
    }

    fn read_consumers(&self) -> Result<Vec<ConsumerRecord>, StateError> {
        let prefix = self.consumers_prefix();
        let mut records = Vec::new();
        for key in self.store.list(&prefix)? {
            if let Some(name) = key.strip_prefix(&prefix).filter(|n| n.ends_with(".json")) {
                records.extend(self.read_consumer(name)?);
            }
        }
        Ok(records)
    }

    fn write_consumer(
        &self,
        name: &str,
        record: Option<&ConsumerRecord>,
    ) -> Result<(), StateError> {
        let key = format!("{}{name}", self.consumers_prefix());
        match record {
            Some(record) => {
                self.store
                    .put(&key, consumers::encode(record), Condition::Always)?;
            }
            None => {
                self.store.delete(&key, None)?;
            }
        }
        Ok(())
    }
}

impl HeldLock for LockObject {
    fn place(&self) -> String {
        self.store.url(&self.key)
    }

    fn check_held(&self, id: &str) -> Result<(), StateError> {
        match read_lock(&self.store, &self.key)? {
            Some((info, _)) if info.id == id => Ok(()),
            _ => Err(StateError::LockLost {
                id: id.to_string(),
                path: PathBuf::from(self.place()),
            }),
        }
    }

    /// Deletes the lock object if it still holds lock `id`, and only if it has not changed
    /// since it was read.
    fn release(&self, id: &str) {
        if let Ok(Some((info, etag))) = read_lock(&self.store, &self.key) {
            if info.id == id {
                let _ = self.store.delete(&self.key, Some(&etag));
            }
        }
    }
}

/// The lock object at `key` and its ETag, or `None` when there is none.
fn read_lock(store: &S3Store, key: &str) -> Result<Option<(LockInfo, String)>, StateError> {
    let Some(object) = store.get(key)? else {
        return Ok(None);
    };
    let info = serde_json::from_slice(&object.bytes).map_err(|e| {
        StateError::corrupt(
            store.url(key),
            format!(
                "the lock object cannot be read ({e}); if no other strata is running, delete it"
            ),
        )
    })?;
    Ok(Some((info, object.etag)))
}
