//! The journal every backend keeps locally, in the state directory beside the stack file
//! (`<dir>/<stack>.journal`): replayed on top of the state as read, continued by the next run
//! after a crash, and settled once the state is written.

use std::path::{Path, PathBuf};

use files::durable;

use crate::error::StateError;
use crate::journal::{self, Header, Record, Writer};
use crate::model::{Intent, Loaded, State};

/// One stack's journal in a local directory. The directory is created (0700) by the first
/// record; nothing is touched before.
#[derive(Clone, Debug)]
pub struct LocalJournal {
    dir: PathBuf,
    stack: String,
}

impl LocalJournal {
    /// The journal of `stack` (a validated stack name: it becomes part of file names) in `dir`.
    pub(crate) fn new(dir: PathBuf, stack: &str) -> LocalJournal {
        LocalJournal {
            dir,
            stack: stack.to_string(),
        }
    }

    /// The directory holding it (and, for the local backend, the state and lock files).
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stack whose journal this is.
    pub(crate) fn stack(&self) -> &str {
        &self.stack
    }

    /// `<dir>/<stack>.<suffix>`: how every file of the stack in this directory is named.
    pub(crate) fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", self.stack))
    }

    /// `<stack>.journal`.
    pub(crate) fn path(&self) -> PathBuf {
        self.file("journal")
    }

    /// The state `from_file` (read from `location`, here or remote, whose backup is `backup`)
    /// with the journal replayed on top.
    pub(crate) fn load_over(
        &self,
        from_file: Option<State>,
        location: &str,
        backup: &str,
    ) -> Result<Loaded, StateError> {
        let file_exists = from_file.is_some();
        let mut state = from_file.unwrap_or_else(|| State::new(&self.stack));
        let mut pending_intents = Vec::new();
        let mut journal_exists = false;
        if let Some(contents) = journal::read(&self.path())? {
            if let Some(header) = &contents.header {
                self.check_header(header, &state, file_exists, location, backup)?;
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

    /// The journal a crashed run left, reopened to continue it (its torn last line cut off), and
    /// whether it recorded changes to the state; `None` when there is none yet.
    pub(crate) fn reopen(&self, loaded: &Loaded) -> Result<(Option<Writer>, bool), StateError> {
        let journal_path = self.path();
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
                        Record::Put { .. } | Record::Remove { .. } | Record::Outputs { .. }
                    )
                });
                journal = Some(Writer::reopen(&journal_path, &contents)?);
            }
            // A journal without a complete header recorded nothing; the first record replaces it.
        }
        Ok((journal, replayed_changes))
    }

    /// Starts a new journal continuing `state`, creating the directory if needed (the S3
    /// backend takes no local lock, so it may not exist yet).
    pub(crate) fn start(&self, state: &State) -> Result<Writer, StateError> {
        durable::create_private_dir(&self.dir)?;
        Writer::create(&self.path(), &Header::of(state))
    }

    /// After the state is written: removes the journal, or rewrites it with just the intents
    /// that are still pending (they must outlive the run until something resolves them).
    pub(crate) fn settle(&self, state: &State, pending: &[Intent]) -> Result<(), StateError> {
        let path = self.path();
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

    /// A journal must continue this stack's state file: same stack and lineage, and started from
    /// its serial (or from the one before, when a crash fell between writing the compacted state
    /// file and removing the journal: replaying it again changes nothing).
    fn check_header(
        &self,
        header: &Header,
        state: &State,
        file_exists: bool,
        location: &str,
        backup: &str,
    ) -> Result<(), StateError> {
        let path = self.path();
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
                     from its backup ({backup})",
                    header.serial,
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
