//! The S3 backend: the state as one S3 object, shared by everyone who applies the stack.
//!
//! - The lock is an object `KEY.lock` created with `If-None-Match: *`: of two strata taking it at
//!   once exactly one succeeds; the other reads the holder from the object and fails at once.
//! - The state object is written at the end of a run with `If-Match` on the ETag read after the
//!   lock was taken (or `If-None-Match: *` when there was none), so even a writer that bypassed
//!   the lock can never overwrite a newer state.
//! - Per-operation recording stays local and cheap: the journal is appended and fsynced in the
//!   state directory beside the stack file (`.strata/`), exactly as for the local backend, and
//!   compacted into the S3 object when the run ends. A crashed run's journal (and lock) stay
//!   behind; running strata again on the same machine replays the journal onto the S3 state.
//! - The previous state is copied to `KEY.backup` before each write.

use std::path::{Path, PathBuf};

use crate::backend::{checked_write, decode_state, Loaded, LocalBackend};
use crate::lock::{Holder, LockGuard, LockInfo};
use crate::model::{Intent, State};
use crate::recorder::Recorder;
use crate::s3::{Condition, S3Store, Written};
use crate::{StateBackend, StateError};

/// How many times taking the lock is retried when the lock object vanished between the failed
/// create and the read of its holder (its holder released it in that instant).
const LOCK_RACE_RETRIES: usize = 3;

/// One stack's state in S3: the object `KEY`, its lock `KEY.lock` and its backup `KEY.backup`,
/// with the journal of a running (or crashed) apply kept locally.
#[derive(Clone, Debug)]
pub struct S3Backend {
    store: S3Store,
    key: String,
    local: LocalBackend,
}

impl S3Backend {
    /// The state of `stack` at `key` in `store`'s bucket; the journal lives in `journal_dir`
    /// (the `.strata/` directory beside the stack file).
    pub fn new(store: S3Store, key: impl Into<String>, journal_dir: PathBuf, stack: &str) -> Self {
        S3Backend {
            store,
            key: key.into(),
            local: LocalBackend::new(journal_dir, stack),
        }
    }

    /// `s3://BUCKET/KEY`.
    pub fn location(&self) -> String {
        self.store.url(&self.key)
    }

    /// The key of the lock object.
    pub fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    /// The key of the previous state.
    pub fn backup_key(&self) -> String {
        format!("{}.backup", self.key)
    }

    /// The local journal of a run in progress (or one that crashed).
    pub fn journal_path(&self) -> PathBuf {
        self.local.journal_path()
    }

    /// The stack whose state this is.
    pub fn stack(&self) -> &str {
        self.local.stack()
    }

    /// Reads the state object, with a local journal left by a crashed run replayed on top.
    /// Call it after [`S3Backend::lock`] when the state will be changed: the ETag read here is
    /// the one the final write requires.
    pub fn load(&self) -> Result<Loaded, StateError> {
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
        let mut loaded = self.local.load_over(state, &location)?;
        loaded.remote_tag = tag;
        Ok(loaded)
    }

    /// Takes the lock for `operation`, or fails at once with [`StateError::Locked`] naming the
    /// holder.
    pub fn lock(&self, operation: &str) -> Result<LockGuard, StateError> {
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
                            Holder::S3 {
                                store: self.store.clone(),
                                key,
                            },
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

    /// Removes the lock, but only if its id is `lock_id`.
    pub fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
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

    /// Starts recording a run on top of `loaded` (from [`S3Backend::load`] under `lock`).
    pub fn recorder(&self, lock: &LockGuard, loaded: Loaded) -> Result<Recorder, StateError> {
        self.check_guard(lock)?;
        let (journal, replayed_changes) = self.local.open_journal(&loaded)?;
        Ok(Recorder::new(
            StateBackend::S3(self.clone()),
            self.local.clone(),
            lock.id().to_string(),
            loaded,
            journal,
            replayed_changes,
        ))
    }

    /// Writes `state` as the new state object, for commands that edit state directly (`state
    /// push`, `state rm`, `state mv`), with the same checks as [`LocalBackend::write`]: this
    /// stack's, the same lineage as an existing state, not older; serial set above both.
    /// Pushing a local state file into an empty S3 location is how state is migrated.
    pub fn write(&self, lock: &LockGuard, state: &State) -> Result<(), StateError> {
        self.check_guard(lock)?;
        let location = PathBuf::from(self.location());
        let (next, current) = checked_write(state, self.local.stack(), location, || self.load())?;
        self.commit(
            &next,
            &current.pending_intents,
            current.remote_tag.as_deref(),
        )
    }

    /// Writes `state` (serial already bumped) if the object's ETag is still `expected` (`None`:
    /// if there is still no object), after copying the current one to the backup; then leaves a
    /// local journal holding only `pending` intents, or none.
    pub(crate) fn commit(
        &self,
        state: &State,
        pending: &[Intent],
        expected: Option<&str>,
    ) -> Result<(), StateError> {
        let mut bytes = serde_json::to_vec_pretty(state).map_err(|e| {
            StateError::corrupt(self.location(), format!("cannot encode the state: {e}"))
        })?;
        bytes.push(b'\n');
        let condition = match expected {
            Some(etag) => {
                self.store.copy(&self.key, &self.backup_key())?;
                Condition::IfMatch(etag)
            }
            None => Condition::IfAbsent,
        };
        match self.store.put(&self.key, bytes, condition)? {
            Written::Done { .. } => self.local.settle_journal(state, pending),
            Written::ConditionFailed => Err(StateError::Conflict {
                location: self.location(),
                journal: self.local.journal_path(),
            }),
        }
    }

    /// Fails unless this backend's lock object still holds lock `id`.
    pub(crate) fn check_lock(&self, id: &str) -> Result<(), StateError> {
        check_held(&self.store, &self.lock_key(), id)
    }

    fn check_guard(&self, lock: &LockGuard) -> Result<(), StateError> {
        let ours = lock.s3_key() == Some((self.store.bucket(), self.lock_key().as_str()));
        if !ours {
            return Err(StateError::LockLost {
                id: lock.id().to_string(),
                path: PathBuf::from(self.store.url(&self.lock_key())),
            });
        }
        lock.check_held()
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

/// Fails unless the lock object at `key` holds lock `id`.
pub(crate) fn check_held(store: &S3Store, key: &str, id: &str) -> Result<(), StateError> {
    match read_lock(store, key)? {
        Some((info, _)) if info.id == id => Ok(()),
        _ => Err(StateError::LockLost {
            id: id.to_string(),
            path: PathBuf::from(store.url(key)),
        }),
    }
}

/// Deletes the lock object at `key` if it still holds lock `id` (and has not changed since it
/// was read). Errors are ignored: a lock left behind names its id for `force-unlock`.
pub(crate) fn release(store: &S3Store, key: &str, id: &str) {
    if let Ok(Some((info, etag))) = read_lock(store, key) {
        if info.id == id {
            let _ = store.delete(key, Some(&etag));
        }
    }
}
