//! Durable, private file writes: every file strata creates here is 0600 in a 0700 directory,
//! and a file that replaces another does so atomically (write a temporary file, fsync, rename,
//! fsync the directory), so a crash leaves either the old file or the new one, never a mix.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::StateError;

/// Mode of every file strata writes: state holds secrets as applied.
pub(crate) const FILE_MODE: u32 = 0o600;
/// Mode of the `.strata` directory when strata creates it.
pub(crate) const DIR_MODE: u32 = 0o700;

/// Creates `dir` (0700) if it is missing; an existing directory is left as it is.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), StateError> {
    match DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => sync_parent(dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(StateError::io("creating directory", dir, e)),
    }
}

/// Options for a new private file; `create_new` refuses to open one that exists.
pub(crate) fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(FILE_MODE);
    options
}

/// Makes the directory entries of `path` (a create, rename or removal) survive a crash.
pub(crate) fn sync_parent(path: &Path) -> Result<(), StateError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StateError::io("syncing directory", dir, e))
}

/// Reads a whole file, or `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::io("reading", path, e)),
    }
}

/// Removes a file; one that is already gone is fine.
pub(crate) fn remove_if_present(path: &Path) -> Result<(), StateError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StateError::io("removing", path, e)),
    }
}

/// The temporary sibling used while replacing `path`. Only the lock holder writes, so one fixed
/// name is enough; a leftover from a crash is removed before use.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Replaces `path` with `bytes` atomically: the file is either the old one or the whole new one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let tmp = tmp_path(path);
    remove_if_present(&tmp)?;
    let mut file = private_file()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| StateError::io("creating", &tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| StateError::io("writing", &tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| StateError::io("renaming into place", path, e))?;
    sync_parent(path)
}

/// Keeps the current `path` as `backup`, atomically, without copying its bytes: a hard link to
/// the old file is made under a temporary name, then renamed over the previous backup. When the
/// file system cannot link, the bytes are copied instead. Does nothing if `path` is missing.
pub(crate) fn keep_backup(path: &Path, backup: &Path) -> Result<(), StateError> {
    if !path.exists() {
        return Ok(());
    }
    let tmp = tmp_path(backup);
    remove_if_present(&tmp)?;
    match fs::hard_link(path, &tmp) {
        Ok(()) => {
            // The link shares the old file's inode; make sure it is private whatever made it.
            fs::set_permissions(&tmp, Permissions::from_mode(FILE_MODE))
                .map_err(|e| StateError::io("setting permissions of", &tmp, e))?;
            fs::rename(&tmp, backup)
                .map_err(|e| StateError::io("renaming into place", backup, e))?;
            sync_parent(backup)
        }
        Err(_) => {
            let bytes = fs::read(path).map_err(|e| StateError::io("reading", path, e))?;
            write_atomic(backup, &bytes)
        }
    }
}
