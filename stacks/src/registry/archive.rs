//! Deterministic module archives: a zip whose bytes depend only on the module's files.
//!
//! Entries are the module directory's regular files, by relative path with `/` separators,
//! written by [`crate::archive::zip_files`]: in byte order, every entry with the same timestamp
//! (1980-01-01 00:00, the zip epoch), the same mode (0644) and the same compression. Hidden
//! files and directories (`.git`, `.strata`, `.DS_Store`) are left out, and symbolic links are
//! refused, so what is published is exactly what `module.yaml` can use. Packing the same files
//! twice, on any machine, gives the same bytes.

use std::fs;
use std::io::{Cursor, Read};
use std::path::{Component, Path, PathBuf};

use files::durable::{create_private_dir, write_private};
use zip::ZipArchive;

use super::{ErrorKind, RegistryError, MODULE_FILE};
use crate::archive::{zip_files, ArchiveError, Modes};

/// The archive format's file extension.
pub const ARCHIVE_EXTENSION: &str = "zip";
/// Refuse to unpack more than this many entries or bytes (a zip bomb, not a module).
const MAX_ENTRIES: usize = 10_000;
const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;

/// Packs the module in `dir` (which must hold `module.yaml`) into a deterministic zip.
pub fn package(dir: &Path) -> Result<Vec<u8>, RegistryError> {
    if !dir.join(MODULE_FILE).is_file() {
        return Err(RegistryError::invalid(format!(
            "{} is not a module: it has no {MODULE_FILE}",
            dir.display()
        ))
        .help("a module is a directory holding module.yaml (`module: NAME`, `version: X.Y.Z`)"));
    }
    let mut files = Vec::new();
    collect(dir, "", &mut files)?;
    zip_files(&files, Modes::Uniform).map_err(|e| match e {
        ArchiveError::Read { path, source } => RegistryError::io("reading", &path, source),
        ArchiveError::Zip { path, source } => {
            RegistryError::invalid(format!("packing {}: {source}", path.display()))
        }
        ArchiveError::Finish(e) => {
            RegistryError::invalid(format!("packing {}: {e}", dir.display()))
        }
    })
}

/// Every regular file below `dir`, as (`a/b.yaml`, its path), hidden names left out.
fn collect(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), RegistryError> {
    let entries = fs::read_dir(dir).map_err(|e| RegistryError::io("reading directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| RegistryError::io("reading directory", dir, e))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(RegistryError::invalid(format!(
                "{} has a name that is not UTF-8; rename it",
                path.display()
            )));
        };
        if name.starts_with('.') {
            continue;
        }
        let file_type = entry
            .file_type()
            .map_err(|e| RegistryError::io("reading", &path, e))?;
        let relative = format!("{prefix}{name}");
        if file_type.is_symlink() {
            return Err(RegistryError::invalid(format!(
                "{} is a symbolic link; a module holds plain files only",
                path.display()
            ))
            .help("copy the file into the module instead of linking it"));
        } else if file_type.is_dir() {
            collect(&path, &format!("{relative}/"), out)?;
        } else if file_type.is_file() {
            out.push((relative, path));
        }
    }
    Ok(())
}

/// Unpacks an archive made by [`package`] into `dest` (created; it should not exist yet).
/// Entries that would land outside `dest` are refused. Directories are made 0700 and files
/// written 0600 and durably, like every file in `.strata/`.
pub fn unpack(bytes: &[u8], dest: &Path) -> Result<(), RegistryError> {
    let corrupt = |e: &dyn std::fmt::Display| {
        RegistryError::new(
            ErrorKind::Invalid,
            format!("a module archive is damaged: {e}"),
        )
    };
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?;
    if archive.len() > MAX_ENTRIES {
        return Err(corrupt(&format!("it has {} entries", archive.len())));
    }
    create_private_dir(dest)?;
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| corrupt(&e))?;
        let name = entry.name().map_err(|e| corrupt(&e))?.to_string();
        let relative = Path::new(&name);
        let safe = relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        if !safe || name.is_empty() {
            return Err(corrupt(&format!(
                "entry `{name}` points outside the module"
            )));
        }
        let target = dest.join(relative);
        if entry.is_dir() {
            create_private_dir(&target)?;
            continue;
        }
        if let Some(parent) = target.parent() {
            create_private_dir(parent)?;
        }
        let mut contents = Vec::new();
        (&mut entry)
            .take(MAX_UNPACKED_BYTES.saturating_sub(total) + 1)
            .read_to_end(&mut contents)
            .map_err(|e| corrupt(&e))?;
        total += contents.len() as u64;
        if total > MAX_UNPACKED_BYTES {
            return Err(corrupt(&"it unpacks to more than 256 MiB"));
        }
        write_private(&target, &contents)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use files::digest::sha256_hex;

    fn module(dir: &Path) {
        fs::create_dir_all(dir.join("files/nested")).unwrap();
        fs::write(dir.join(MODULE_FILE), "module: q\nversion: 1.0.0\n").unwrap();
        fs::write(dir.join("files/b.txt"), "b").unwrap();
        fs::write(dir.join("files/nested/a.txt"), "a").unwrap();
        fs::write(dir.join(".hidden"), "never packed").unwrap();
    }

    #[test]
    fn the_same_files_always_pack_to_the_same_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
        module(&one);
        // Written in another order, at another time, with other modes.
        fs::create_dir_all(two.join("files/nested")).unwrap();
        fs::write(two.join("files/nested/a.txt"), "a").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(two.join("files/b.txt"), "b").unwrap();
        fs::write(two.join(MODULE_FILE), "module: q\nversion: 1.0.0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(two.join("files/b.txt"), fs::Permissions::from_mode(0o600)).unwrap();

        let a = package(&one).unwrap();
        let b = package(&two).unwrap();
        assert_eq!(sha256_hex(&a), sha256_hex(&b));

        fs::write(two.join("files/b.txt"), "changed").unwrap();
        assert_ne!(sha256_hex(&a), sha256_hex(&package(&two).unwrap()));
    }

    #[test]
    fn unpacking_and_packing_again_gives_the_same_bytes_without_hidden_files() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        module(&src);
        let bytes = package(&src).unwrap();
        let out = tmp.path().join("out");
        unpack(&bytes, &out).unwrap();
        assert!(!out.join(".hidden").exists());
        assert_eq!(
            fs::read_to_string(out.join("files/nested/a.txt")).unwrap(),
            "a"
        );
        assert_eq!(package(&out).unwrap(), bytes);
    }

    #[test]
    fn a_directory_without_module_yaml_is_not_packed() {
        let tmp = tempfile::tempdir().unwrap();
        let err = package(tmp.path()).unwrap_err();
        assert!(err.message.contains("no module.yaml"), "{err}");
    }
}
