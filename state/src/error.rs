//! The one error type of the state crate.

use std::io;
use std::path::PathBuf;

use crate::model::LockInfo;
use crate::s3::S3Error;

/// Everything that can go wrong reading or writing state. Each variant names the file involved,
/// so the CLI can print it as is and a person knows what to look at.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A file operation failed; `action` says what strata was doing ("writing", "reading", ...).
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A state, journal or lock file exists but cannot be understood. Nothing was changed.
    #[error("{} is damaged: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },

    /// Another strata holds the lock; carries the holder so the message can name it (boxed to
    /// keep every `Result` of this crate small).
    #[error(
        "the state is locked by {} (pid {}, `strata {}`) since {}; lock id {}\n\
         if no other strata is running, run `strata force-unlock {}`",
        .0.who, .0.pid, .0.operation, .0.created_at, .0.id, .0.id
    )]
    Locked(Box<LockInfo>),

    /// `force-unlock` was given an id that is not the current lock's; the lock was left alone.
    #[error(
        "lock id {given} does not match the current lock {current} (held by {who}); \
         nothing was unlocked"
    )]
    LockMismatch {
        given: String,
        current: String,
        who: String,
    },

    /// `force-unlock` found no lock to remove.
    #[error("the state is not locked ({} does not exist)", path.display())]
    NotLocked { path: PathBuf },

    /// The lock this run took is gone or now belongs to someone else (it was force-unlocked),
    /// so writing would clobber another writer's state.
    #[error(
        "this run's lock {id} is no longer held ({}); refusing to write the state",
        path.display()
    )]
    LockLost { id: String, path: PathBuf },

    /// The file belongs to another stack: a copied `.strata` directory or a renamed stack.
    #[error("{} holds the state of stack `{found}`, not `{expected}`", path.display())]
    WrongStack {
        path: PathBuf,
        expected: String,
        found: String,
    },

    /// Two pieces of state that must describe the same history do not (a journal left over from
    /// another state, or `state push` of an unrelated state). Mixing them would lose resources.
    #[error(
        "{} belongs to a different state (lineage {found}, expected {expected}); \
         refusing to mix them",
        path.display()
    )]
    LineageMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },

    /// The file was written by a newer strata whose format this one cannot promise to keep.
    #[error(
        "{} was written by a newer strata (state version {found}; this strata reads up to \
         {supported}); upgrade strata",
        path.display()
    )]
    VersionTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// An S3 call of the S3 backend failed; nothing was changed by it.
    #[error("{action} {location}: {message}")]
    Remote {
        action: &'static str,
        location: String,
        message: String,
    },

    /// The remote state changed between this run's read and its write (its ETag no longer
    /// matches): someone wrote it without holding the lock, or after a `force-unlock`. Nothing
    /// was overwritten; this run's records stay in the local journal.
    #[error(
        "the state at {location} changed since this run read it, so it was not overwritten; \
         this run's changes are kept in {}. Someone wrote the state without holding the lock \
         (or after `strata force-unlock`): compare the two before running strata again",
        journal.display()
    )]
    Conflict { location: String, journal: PathBuf },

    /// Another stack's state was asked for (a `stack_refs` entry) and there is none there.
    #[error(
        "there is no state of stack `{stack}` at {location}: apply that stack first, or check the \
         stack reference's backend and stack name"
    )]
    NoState { location: String, stack: String },

    /// A consumer record was asked for a name that is not a stack name (it becomes a file name).
    #[error("`{name}` is not a stack name; no consumer record was written")]
    BadConsumer { name: String },

    /// A state to be written is older than the one on disk (a stale `state push`).
    #[error(
        "{} is at serial {current}, newer than the state being written (serial {given}); \
         refusing to overwrite newer state",
        path.display()
    )]
    StaleSerial {
        path: PathBuf,
        current: u64,
        given: u64,
    },
}

impl From<S3Error> for StateError {
    fn from(e: S3Error) -> StateError {
        StateError::Remote {
            action: e.action,
            location: e.url,
            message: e.message,
        }
    }
}

impl From<files::Error> for StateError {
    fn from(e: files::Error) -> StateError {
        StateError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}

impl StateError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StateError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        StateError::Corrupt {
            path: path.into(),
            message: message.into(),
        }
    }
}
