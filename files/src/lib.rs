//! The file primitives every strata crate shares, so each exists once with one behaviour:
//!
//! - [`durable`]: private files (0600) in private directories (0700), a file replaced atomically
//!   and durably ([`durable::write_private`]: temporary file in the same directory, write, fsync,
//!   rename, fsync the directory), and the small reads and removals around them. The state, the
//!   journal and lock, saved plan files, the module cache and `strata.lock` all go through it.
//! - [`capped`]: reading a text file the user names, capped and regular files only.
//! - [`chain`]: an error and its causes as one line, never a debug dump.
//! - [`digest`]: SHA-256 as lowercase hex ([`digest::sha256_hex`]), of bytes, of a stream
//!   ([`digest::Sha256Hex`]) or of a file ([`digest::sha256_file_hex`]).
//!
//! Errors are one type, [`Error`]: what was being done, to which path, and the I/O error, so a
//! caller can turn it into its own error without losing any of the three.

pub mod capped;
pub mod chain;
pub mod digest;
pub mod durable;

use std::io;
use std::path::PathBuf;

/// A file operation that failed. Displays as `{action} {path}: {source}` ("writing
/// .strata/web.state.json: No space left on device").
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {source}", path.display())]
pub struct Error {
    /// What strata was doing: "creating", "writing", "renaming into place", "syncing
    /// directory", ...
    pub action: &'static str,
    /// The file or directory involved.
    pub path: PathBuf,
    /// What the operating system said.
    #[source]
    pub source: io::Error,
}

impl Error {
    /// An error `source` while doing `action` to `path`.
    pub fn new(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error {
            action,
            path: path.into(),
            source,
        }
    }
}
