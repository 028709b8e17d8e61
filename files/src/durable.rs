//! Durable, private files: everything strata writes may hold secrets (state holds properties
//! as applied, a saved plan holds params), so every file made here is 0600 and every directory
//! 0700, whatever the umask. A file that replaces another does so atomically and durably
//! ([`write_private`]): after a crash it is either the old file or the whole new one, never a
//! mix, and once the call returns the new one survives a power loss.
//!
//! One thing here cannot be tested from a program: that the directory was fsynced (so the
//! rename survives a power loss). The tests check what can be seen: the mode, that the file is
//! replaced (a reader of the old file keeps the old bytes), and that a failed write leaves no
//! temporary file behind.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::Error;

/// Mode of every file strata writes.
pub const FILE_MODE: u32 = 0o600;
/// Mode of every directory strata creates (`.strata/`, the module cache, ...).
pub const DIR_MODE: u32 = 0o700;
/// How the temporary sibling of a file being replaced ends: `.NAME.RANDOM.tmp`.
pub const TMP_SUFFIX: &str = ".tmp";

/// Replaces (or creates) `path` with `bytes`, atomically and durably: a temporary file in the
/// same directory (mode 0600), the bytes written and fsynced, renamed over `path`, then the
/// directory fsynced so the rename itself survives a crash. The file is 0600 even when it
/// replaces one with another mode. On any failure the temporary file is removed and `path` is
/// left as it was.
///
/// The directory must exist (see [`create_private_dir`]). Concurrent writers of the same path
/// do not collide (each has its own temporary name); the last rename wins.
///
/// The directory fsync cannot be observed by a test; it is what makes the new name, not just
/// the new bytes, durable.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = parent_dir(path);
    let Some(name) = path.file_name() else {
        return Err(Error::new(
            "writing",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
        ));
    };
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TMP_SUFFIX)
        .permissions(Permissions::from_mode(FILE_MODE))
        .tempfile_in(dir)
        .map_err(|e| Error::new("creating a temporary file in", dir, e))?;
    // Dropping `tmp` on any early return below removes the temporary file.
    let file = tmp.as_file_mut();
    // The mode asked for at creation is narrowed by the umask; make it exactly 0600.
    let written = file
        .set_permissions(Permissions::from_mode(FILE_MODE))
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        return Err(Error::new("writing", tmp.path(), e));
    }
    tmp.persist(path)
        .map_err(|e| Error::new("renaming into place", path, e.error))?;
    sync_dir(dir)
}

/// Creates `dir` and any missing parents, each 0700 and each made durable in its parent. A
/// directory that already exists is left as it is (its mode is not changed); a path that
/// exists but is not a directory is an error.
pub fn create_private_dir(dir: &Path) -> Result<(), Error> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    match DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => sync_parent(dir),
        // Made meanwhile by someone else: as good as made here.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(Error::new("creating directory", dir, e)),
    }
}

/// Options for a private (0600) file, for files written in place (a journal appended to, a
/// lock created with `create_new`). Combine with `write`, `append`, `create_new`, ...
pub fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(FILE_MODE);
    options
}

/// Makes the directory entry of `path` (its creation, rename or removal) survive a crash, by
/// fsyncing the directory that holds it.
pub fn sync_parent(path: &Path) -> Result<(), Error> {
    sync_dir(parent_dir(path))
}

/// Fsyncs the directory `dir` itself.
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::new("syncing directory", dir, e))
}

/// Reads a whole file, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::new("reading", path, e)),
    }
}

/// Removes a file; one that is already gone is fine. The removal is not synced: call
/// [`sync_parent`] when it must survive a crash.
pub fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::new("removing", path, e)),
    }
}

/// The directory holding `path`: `.` for a bare file name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_written_file_is_private_even_when_it_replaces_a_public_one() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("plan.json");
        write_private(&path, b"one").unwrap();
        assert_eq!(mode(&path), FILE_MODE);

        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(mode(&path), FILE_MODE);
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(
            names(tmp.path()),
            ["plan.json"],
            "no temporary file is left"
        );
    }

    #[test]
    fn the_file_is_replaced_whole_so_a_reader_of_the_old_one_keeps_the_old_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("state.json");
        write_private(&path, b"old contents").unwrap();
        let mut old = File::open(&path).unwrap();

        write_private(&path, b"new").unwrap();

        let mut seen = String::new();
        old.read_to_string(&mut seen).unwrap();
        assert_eq!(
            seen, "old contents",
            "renamed over, never rewritten in place"
        );
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_failed_write_leaves_the_target_as_it_was_and_no_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        // A directory cannot be replaced by a file: the rename fails after the temporary file
        // was written.
        let target = tmp.path().join("taken");
        fs::create_dir(&target).unwrap();
        let err = write_private(&target, b"bytes").unwrap_err();
        assert_eq!(err.action, "renaming into place");
        assert_eq!(err.path, target);
        assert!(target.is_dir());
        assert_eq!(
            names(tmp.path()),
            ["taken"],
            "the temporary file was removed"
        );

        // A missing directory fails before anything is written.
        let err = write_private(&tmp.path().join("missing/file"), b"x").unwrap_err();
        assert_eq!(err.path, tmp.path().join("missing"));
        assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn directories_are_made_private_with_their_parents_and_existing_ones_are_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let existing = tmp.path().join("project");
        fs::create_dir(&existing).unwrap();
        fs::set_permissions(&existing, Permissions::from_mode(0o755)).unwrap();

        let nested = existing.join(".strata/modules/acme");
        create_private_dir(&nested).unwrap();
        assert!(nested.is_dir());
        assert_eq!(mode(&existing.join(".strata")), DIR_MODE);
        assert_eq!(mode(&existing.join(".strata/modules")), DIR_MODE);
        assert_eq!(mode(&nested), DIR_MODE);
        assert_eq!(
            mode(&existing),
            0o755,
            "an existing directory keeps its mode"
        );
        create_private_dir(&nested).unwrap();

        let file = tmp.path().join("a-file");
        fs::write(&file, "x").unwrap();
        let err = create_private_dir(&file).unwrap_err();
        assert_eq!(err.action, "creating directory");
    }

    #[test]
    fn reading_and_removing_a_missing_file_is_not_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("none");
        assert!(read_optional(&path).unwrap().is_none());
        remove_if_present(&path).unwrap();
        fs::write(&path, "x").unwrap();
        assert_eq!(read_optional(&path).unwrap().unwrap(), b"x");
        remove_if_present(&path).unwrap();
        assert!(!path.exists());
    }
}
