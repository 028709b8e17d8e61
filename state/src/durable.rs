//! What the state adds to [`files::durable`] (private files, atomic and durable replacement):
//! keeping the previous state file as its backup without copying it.

use std::fs::{self, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use files::durable::{remove_if_present, sync_parent, write_private, FILE_MODE, TMP_SUFFIX};

use crate::error::StateError;

/// Keeps the current `path` as `backup`, atomically, without copying its bytes: a hard link to
/// the old file is made under a temporary name, then renamed over the previous backup. When the
/// file system cannot link, the bytes are copied instead. Does nothing if `path` is missing.
pub(crate) fn keep_backup(path: &Path, backup: &Path) -> Result<(), StateError> {
    if !path.exists() {
        return Ok(());
    }
    // Only the lock holder writes the backup, so one fixed temporary name is enough; a leftover
    // from a crash is removed before use.
    let tmp = link_path(backup);
    remove_if_present(&tmp)?;
    match fs::hard_link(path, &tmp) {
        Ok(()) => {
            // The link shares the old file's inode; make sure it is private whatever made it.
            fs::set_permissions(&tmp, Permissions::from_mode(FILE_MODE))
                .map_err(|e| StateError::io("setting permissions of", &tmp, e))?;
            fs::rename(&tmp, backup)
                .map_err(|e| StateError::io("renaming into place", backup, e))?;
            Ok(sync_parent(backup)?)
        }
        Err(_) => {
            let bytes = fs::read(path).map_err(|e| StateError::io("reading", path, e))?;
            Ok(write_private(backup, &bytes)?)
        }
    }
}

/// The temporary name of the link that becomes `backup`: `NAME.tmp` beside it.
fn link_path(backup: &Path) -> PathBuf {
    let mut name = backup.file_name().unwrap_or_default().to_os_string();
    name.push(TMP_SUFFIX);
    backup.with_file_name(name)
}
