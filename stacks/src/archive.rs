//! Deterministic zip archives: bytes that depend only on the files' names and contents (and,
//! where [`Modes::KeepExecutable`] asks, their executable bits).
//!
//! Entries are written in name order; every one has the zip epoch as its timestamp
//! (1980-01-01 00:00), deflate at a fixed level, a mode from [`Modes`], and no directory
//! entries or extra fields. Packing the same files twice, on any machine, gives the same bytes,
//! so a hash of the archive identifies its contents. Module archives (`registry::archive`) and
//! Lambda deployment packages (`providers::lambda::code`) are both written here; each chooses
//! which files go in.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The mode of a file without an executable bit, or of every file under [`Modes::Uniform`].
const FILE_MODE: u32 = 0o644;
/// The mode of a file with an executable bit under [`Modes::KeepExecutable`].
const EXECUTABLE_MODE: u32 = 0o755;
/// A fixed deflate level, so a change of the library's default never changes the bytes.
const DEFLATE_LEVEL: i64 = 6;

/// The modes entries get: the one thing the two kinds of archive disagree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modes {
    /// 0644 for every file, whatever it had on disk (module archives hold no programs).
    Uniform,
    /// 0755 for a file with an executable bit on disk, 0644 for the rest (a Lambda package's
    /// `bootstrap` or native binary must stay runnable).
    KeepExecutable,
}

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A file to pack could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The zip library refused the file at `path`.
    #[error("cannot zip {}: {source}", path.display())]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    /// The zip library could not finish the archive.
    #[error("cannot finish the archive: {0}")]
    Finish(zip::result::ZipError),
}

/// Why [`files_below`] could not list a directory.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A symbolic link below the directory points back into one being walked.
    #[error("cannot package {}: a symbolic link loops back into {}", dir.display(), target.display())]
    Loop { dir: PathBuf, target: PathBuf },
    /// A name below the directory is not UTF-8 (archive names are).
    #[error("cannot package {}: the name is not UTF-8", path.display())]
    NotUtf8 { path: PathBuf },
}

/// Zips `files`, each `(name in the archive, path on disk)` with `/`-separated names, into a
/// deterministic archive (see the module's documentation). The order of `files` does not
/// matter: entries are sorted by name.
pub fn zip_files(files: &[(String, PathBuf)], modes: Modes) -> Result<Vec<u8>, ArchiveError> {
    let mut files: Vec<&(String, PathBuf)> = files.iter().collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, path) in files {
        let read = |source| ArchiveError::Read {
            path: path.clone(),
            source,
        };
        let zip = |source| ArchiveError::Zip {
            path: path.clone(),
            source,
        };
        let bytes = fs::read(path).map_err(read)?;
        let mode = match modes {
            Modes::KeepExecutable if is_executable(&fs::metadata(path).map_err(read)?) => {
                EXECUTABLE_MODE
            }
            _ => FILE_MODE,
        };
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(DEFLATE_LEVEL))
            .last_modified_time(DateTime::default())
            .unix_permissions(mode);
        writer.start_file(name.as_str(), options).map_err(zip)?;
        writer.write_all(&bytes).map_err(|e| zip(e.into()))?;
    }
    Ok(writer.finish().map_err(ArchiveError::Finish)?.into_inner())
}

/// Every regular file below `dir`, as (`a/b.py` with `/` separators, its path), in no set
/// order. Symbolic links are followed, and a link back into a directory being walked is an
/// error rather than an endless walk; sockets, FIFOs and devices have no content and are left
/// out. What a Lambda package holds, and what a saved plan fingerprints of it.
pub fn files_below(dir: &Path) -> Result<Vec<(String, PathBuf)>, WalkError> {
    let mut files = Vec::new();
    collect(dir, "", &mut Vec::new(), &mut files)?;
    Ok(files)
}

/// Adds the files under `dir` (whose archive path is `prefix`) to `files`; `ancestors` holds
/// the directories being walked.
fn collect(
    dir: &Path,
    prefix: &str,
    ancestors: &mut Vec<PathBuf>,
    files: &mut Vec<(String, PathBuf)>,
) -> Result<(), WalkError> {
    let unreadable = |path: &Path, source| WalkError::Read {
        path: path.to_path_buf(),
        source,
    };
    let canonical = fs::canonicalize(dir).map_err(|e| unreadable(dir, e))?;
    if ancestors.contains(&canonical) {
        return Err(WalkError::Loop {
            dir: dir.to_path_buf(),
            target: canonical,
        });
    }
    ancestors.push(canonical);
    for item in fs::read_dir(dir).map_err(|e| unreadable(dir, e))? {
        let item = item.map_err(|e| unreadable(dir, e))?;
        let path = item.path();
        let file_name = item.file_name();
        let Some(file_name) = file_name.to_str() else {
            return Err(WalkError::NotUtf8 { path });
        };
        let name = format!("{prefix}{file_name}");
        let meta = fs::metadata(&path).map_err(|e| unreadable(&path, e))?;
        if meta.is_dir() {
            collect(&path, &format!("{name}/"), ancestors, files)?;
        } else if meta.is_file() {
            files.push((name, path));
        }
    }
    ancestors.pop();
    Ok(())
}

/// SHA-256 over what `paths` hold, in order: a file's bytes, or the files a Lambda package of
/// a directory would hold ([`files_below`]; names in byte order, each with its bytes and
/// whether it is executable). A saved plan keeps it to tell that code it would upload changed
/// since it was made.
pub fn fingerprint_files(paths: &[PathBuf]) -> Result<String, String> {
    let mut hasher = files::digest::Sha256Hex::new();
    for path in paths {
        let read = |p: &Path, e: std::io::Error| format!("cannot read {}: {e}", p.display());
        let mut files = if fs::metadata(path).map_err(|e| read(path, e))?.is_dir() {
            files_below(path).map_err(|e| e.to_string())?
        } else {
            vec![(String::new(), path.clone())]
        };
        files.sort();
        hasher.update(path.to_string_lossy().as_bytes());
        for (name, file) in &files {
            let bytes = fs::read(file).map_err(|e| read(file, e))?;
            let executable = is_executable(&file.metadata().map_err(|e| read(file, e))?);
            hasher.update([0u8]);
            hasher.update(name.as_bytes());
            hasher.update([0u8, u8::from(executable)]);
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
    }
    Ok(hasher.finish())
}

/// Whether any execute bit is set (always false where there are none).
#[cfg(unix)]
pub(crate) fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
pub(crate) fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn only_keep_executable_gives_an_executable_file_0755() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("bootstrap");
        fs::write(&script, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o700)).unwrap();
        let files = [("bootstrap".to_string(), script)];
        let mode = |modes| {
            let bytes = zip_files(&files, modes).unwrap();
            let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
            let mode = archive.by_index(0).unwrap().unix_mode();
            mode.map(|m| m & 0o777)
        };
        assert_eq!(mode(Modes::KeepExecutable), Some(EXECUTABLE_MODE));
        assert_eq!(mode(Modes::Uniform), Some(FILE_MODE));
    }

    #[test]
    fn the_order_files_are_given_in_does_not_change_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, "a").unwrap();
        fs::write(&b, "b").unwrap();
        let forward = [("a".to_string(), a.clone()), ("b".to_string(), b.clone())];
        let backward = [("b".to_string(), b), ("a".to_string(), a)];
        assert_eq!(
            zip_files(&forward, Modes::Uniform).unwrap(),
            zip_files(&backward, Modes::Uniform).unwrap()
        );
    }
}
