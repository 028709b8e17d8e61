//! The local backend: state, backup, journal and lock files in `.strata/` beside the stack file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use files::durable;

use crate::backend::{decode_state, encode_state, Backend};
use crate::consumers::{self, ConsumerRecord};
use crate::durable::keep_backup;
use crate::error::StateError;
use crate::local_journal::LocalJournal;
use crate::lock::{self, LockGuard};
use crate::model::{Intent, Loaded, State};
use crate::store::Store;

/// Stores one stack's state in a local directory (normally `<stack file dir>/.strata`):
/// `<stack>.state.json`, its `.backup`, `<stack>.journal` while a run records, and
/// `<stack>.lock` while a writer holds the lock. Every file is 0600; the directory is made 0700.
/// Its operations are those of [`Backend`].
#[derive(Clone, Debug)]
pub struct LocalBackend {
    files: LocalJournal,
}

impl LocalBackend {
    /// A backend for `stack` in `dir`. Nothing is touched until a method needs it; the
    /// directory is created by the first call that writes. `stack` must be a validated stack
    /// name (it becomes part of file names).
    pub fn new(dir: PathBuf, stack: &str) -> LocalBackend {
        LocalBackend {
            files: LocalJournal::new(dir, stack),
        }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.files.dir()
    }

    /// `<stack>.state.json`: the compacted state.
    pub fn state_path(&self) -> PathBuf {
        self.files.file("state.json")
    }

    /// `<stack>.state.json.backup`: the state file as it was before the last write.
    pub fn backup_path(&self) -> PathBuf {
        self.files.file("state.json.backup")
    }

    /// `<stack>.journal`: the records of the current (or a crashed) run.
    pub fn journal_path(&self) -> PathBuf {
        self.files.path()
    }

    /// `<stack>.lock`: present while a writer holds the lock.
    pub fn lock_path(&self) -> PathBuf {
        self.files.file("lock")
    }

    /// `<stack>.consumers/`: one record per stack that reads this stack's outputs.
    pub fn consumers_dir(&self) -> PathBuf {
        self.files.file("consumers")
    }

    /// The state file, validated, or `None` when there is none yet.
    fn read_state_file(&self) -> Result<Option<State>, StateError> {
        let path = self.state_path();
        let Some(bytes) = durable::read_optional(&path)? else {
            return Ok(None);
        };
        decode_state(&bytes, &path, self.files.stack()).map(Some)
    }
}

impl Backend for LocalBackend {
    fn load(&self) -> Result<Loaded, StateError> {
        let from_file = self.read_state_file()?;
        self.files.load_over(
            from_file,
            &self.location(),
            &self.backup_path().display().to_string(),
        )
    }

    fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        lock::force_unlock(&self.lock_path(), lock_id)
    }

    fn location(&self) -> String {
        self.state_path().display().to_string()
    }
}

impl Store for LocalBackend {
    fn journal(&self) -> &LocalJournal {
        &self.files
    }

    fn lock_place(&self) -> String {
        self.lock_path().display().to_string()
    }

    /// Creates the directory if needed, then the lock file.
    fn try_lock(&self, operation: &str) -> Result<LockGuard, StateError> {
        durable::create_private_dir(self.dir())?;
        lock::acquire(&self.lock_path(), &self.state_path(), operation)
    }

    /// The order makes every crash point safe: the backup is replaced atomically, then the
    /// state file; a journal still there after that replays idempotently onto the state it was
    /// compacted into. There is no remote version to compare (`_expected`).
    fn commit(
        &self,
        state: &State,
        pending: &[Intent],
        _expected: Option<&str>,
    ) -> Result<(), StateError> {
        durable::create_private_dir(self.dir())?;
        let path = self.state_path();
        let bytes = encode_state(state, &self.location())?;
        keep_backup(&path, &self.backup_path())?;
        durable::write_private(&path, &bytes)?;
        self.files.settle(state, pending)
    }

    fn shared(&self) -> Arc<dyn Store> {
        Arc::new(self.clone())
    }

    fn read_stored(&self) -> Result<Option<State>, StateError> {
        self.read_state_file()
    }

    fn read_consumer(&self, name: &str) -> Result<Option<ConsumerRecord>, StateError> {
        let path = self.consumers_dir().join(name);
        match durable::read_optional(&path)? {
            Some(bytes) => consumers::decode(&bytes, &path.display().to_string()).map(Some),
            None => Ok(None),
        }
    }

    fn read_consumers(&self) -> Result<Vec<ConsumerRecord>, StateError> {
        let dir = self.consumers_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StateError::io("reading", dir, e)),
        };
        let mut records = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StateError::io("reading", &dir, e))?;
            let name = entry.file_name();
            if let Some(name) = name.to_str().filter(|n| n.ends_with(".json")) {
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
        let dir = self.consumers_dir();
        let path = dir.join(name);
        match record {
            Some(record) => {
                durable::create_private_dir(&dir)?;
                durable::write_private(&path, &consumers::encode(record))?;
            }
            None => durable::remove_if_present(&path)?,
        }
        Ok(())
    }
}
