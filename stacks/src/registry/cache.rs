//! The local cache of fetched modules: `.strata/modules/REGISTRY/NAME/VERSION.zip` (the archive
//! as fetched) and `.strata/modules/REGISTRY/NAME/VERSION/` (its files, which the loader reads).

use std::fs;
use std::path::{Path, PathBuf};

use files::digest::sha256_hex;
use files::durable::{create_private_dir, sync_parent, write_private};

use super::archive::{self, ARCHIVE_EXTENSION};
use super::{ErrorKind, LockedModule, RegistryError, CACHE_DIR};

/// How the temporary directory a version is unpacked into is named: `VERSION.unpacking-PID`.
const UNPACKING: &str = ".unpacking-";

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
            let tmp = self.unpack_canonical(entry, &bytes)?;
            self.swap_in(&tmp, &dir)?;
        }
        let repacked = sha256_hex(&archive::package(&dir)?);
        if repacked != entry.sha256 {
            return Err(checksum_error(entry, &dir, &repacked));
        }
        Ok(dir)
    }

    /// Puts a fetched archive (already checked against its expected SHA-256) into the cache,
    /// replacing whatever was cached for that version. Returns the unpacked directory.
    ///
    /// The archive is first unpacked and checked to be canonical (its files pack again to the
    /// same bytes, which is how [`Cache::verified`] checks them on every use), so the cache and
    /// the lock never hold an archive the loader would refuse. Nothing is cached when it is not.
    pub fn store(&self, entry: &LockedModule, bytes: &[u8]) -> Result<PathBuf, RegistryError> {
        let tmp = self.unpack_canonical(entry, bytes)?;
        let archive_path = self.archive(&entry.name, &entry.version);
        let written = write_private(&archive_path, bytes);
        if let Err(e) = written {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e.into());
        }
        let dir = self.dir(&entry.name, &entry.version);
        self.swap_in(&tmp, &dir)?;
        Ok(dir)
    }

    /// Unpacks `bytes` into a temporary sibling of the version's directory and checks that the
    /// files pack again to the same bytes. Returns the temporary directory; on any failure it is
    /// removed.
    fn unpack_canonical(
        &self,
        entry: &LockedModule,
        bytes: &[u8],
    ) -> Result<PathBuf, RegistryError> {
        let dir = self.dir(&entry.name, &entry.version);
        if let Some(parent) = dir.parent() {
            create_private_dir(parent)?;
        }
        let mut tmp_name = dir.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!("{UNPACKING}{}", std::process::id()));
        let tmp = dir.with_file_name(tmp_name);
        remove_dir(&tmp)?;
        let checked = archive::unpack(bytes, &tmp).and_then(|()| {
            let repacked = sha256_hex(&archive::package(&tmp)?);
            let sha256 = sha256_hex(bytes);
            if repacked == sha256 {
                return Ok(());
            }
            Err(RegistryError::new(
                ErrorKind::Invalid,
                format!(
                    "the archive of module `{}` {} (SHA-256 {sha256}) is not one `strata module publish` makes: its files pack to SHA-256 {repacked}",
                    entry.name, entry.version
                ),
            )
            .help("strata verifies a module by packing its files again, so it uses only archives made by `strata module package` or `publish`; ask the publisher to publish a new version with `strata module publish`"))
        });
        match checked {
            Ok(()) => Ok(tmp),
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                Err(e)
            }
        }
    }

    /// Renames the unpacked `tmp` over `dir`, so a crash never leaves half a module.
    fn swap_in(&self, tmp: &Path, dir: &Path) -> Result<(), RegistryError> {
        let swapped = remove_dir(dir).and_then(|()| {
            fs::rename(tmp, dir).map_err(|e| RegistryError::io("renaming into place", dir, e))
        });
        if let Err(e) = swapped {
            let _ = fs::remove_dir_all(tmp);
            return Err(e);
        }
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
