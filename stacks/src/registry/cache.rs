//! The local cache of fetched modules: `.strata/modules/REGISTRY/NAME/VERSION.zip` (the archive
//! as fetched) and `.strata/modules/REGISTRY/NAME/VERSION/` (its files, which the loader reads).

use std::fs;
use std::path::{Path, PathBuf};

use files::digest::sha256_hex;
use files::durable::{create_private_dir, sync_parent, write_private};

use super::archive::{self, ARCHIVE_EXTENSION};
use super::{ErrorKind, LockedModule, RegistryError, CACHE_DIR};

/// The module cache of one project (the directory of a stack file).
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache of the stack files in `project_dir`.
    pub fn new(project_dir: &Path) -> Cache {
        Cache {
            root: project_dir.join(CACHE_DIR),
        }
    }

    /// The directory of the unpacked files of `name` (`REGISTRY/NAME`) at `version`.
    pub fn dir(&self, name: &str, version: &str) -> PathBuf {
        self.root.join(name).join(version)
    }

    /// The cached archive of `name` at `version`.
    pub fn archive(&self, name: &str, version: &str) -> PathBuf {
        self.root
            .join(name)
            .join(format!("{version}.{ARCHIVE_EXTENSION}"))
    }

    /// The unpacked directory of a pinned module, after checking that both the cached archive and
    /// the unpacked files still have the pinned SHA-256 (the files are packed again: packing is
    /// deterministic). A missing directory is unpacked again from the verified archive.
    pub fn verified(&self, entry: &LockedModule) -> Result<PathBuf, RegistryError> {
        let archive_path = self.archive(&entry.name, &entry.version);
        let bytes = match fs::read(&archive_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RegistryError::new(
                    ErrorKind::NotFetched,
                    format!(
                        "module `{}` {} is pinned in strata.lock but not fetched into {}",
                        entry.name,
                        entry.version,
                        self.root.display()
                    ),
                )
                .help("run `strata module fetch` to download it"));
            }
            Err(e) => return Err(RegistryError::io("reading", &archive_path, e)),
        };
        let found = sha256_hex(&bytes);
        if found != entry.sha256 {
            return Err(checksum_error(entry, &archive_path, &found));
        }
        let dir = self.dir(&entry.name, &entry.version);
        if !dir.is_dir() {
            self.unpack_into(&bytes, &dir)?;
        }
        let repacked = sha256_hex(&archive::package(&dir)?);
        if repacked != entry.sha256 {
            return Err(checksum_error(entry, &dir, &repacked));
        }
        Ok(dir)
    }

    /// Puts a fetched archive (already checked against its expected SHA-256) into the cache,
    /// replacing whatever was cached for that version. Returns the unpacked directory.
    pub fn store(&self, entry: &LockedModule, bytes: &[u8]) -> Result<PathBuf, RegistryError> {
        let archive_path = self.archive(&entry.name, &entry.version);
        if let Some(parent) = archive_path.parent() {
            create_private_dir(parent)?;
        }
        write_private(&archive_path, bytes)?;
        let dir = self.dir(&entry.name, &entry.version);
        self.unpack_into(bytes, &dir)?;
        Ok(dir)
    }

    /// Unpacks into a temporary sibling, then swaps it in, so a crash never leaves half a module.
    fn unpack_into(&self, bytes: &[u8], dir: &Path) -> Result<(), RegistryError> {
        let mut tmp_name = dir.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".unpacking-{}", std::process::id()));
        let tmp = dir.with_file_name(tmp_name);
        remove_dir(&tmp)?;
        archive::unpack(bytes, &tmp)?;
        remove_dir(dir)?;
        fs::rename(&tmp, dir).map_err(|e| RegistryError::io("renaming into place", dir, e))?;
        Ok(sync_parent(dir)?)
    }
}

fn remove_dir(dir: &Path) -> Result<(), RegistryError> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RegistryError::io("removing", dir, e)),
    }
}

fn checksum_error(entry: &LockedModule, path: &Path, found: &str) -> RegistryError {
    RegistryError::new(
        ErrorKind::Checksum,
        format!(
            "checksum mismatch for module `{}` {}: {} has SHA-256 {found}, but strata.lock pins {}",
            entry.name,
            entry.version,
            path.display(),
            entry.sha256
        ),
    )
    .help(format!(
        "the cached copy was changed since it was fetched; delete {} and run `strata module fetch` to download it again",
        path.display()
    ))
}
