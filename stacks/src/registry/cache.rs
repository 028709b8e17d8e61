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
            // The files were changed, unless the archive never packed to itself (pinned by an
            // older strata, which did not check): then say that, not "changed".
            let tmp = self.unpack_canonical(entry, &bytes)?;
            remove_dir(&tmp)?;
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

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;

    /// A zip of `entries` as a hand-made tool would write it, not as `package` does.
    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn entry(bytes: &[u8]) -> LockedModule {
        LockedModule {
            name: "acme/q".into(),
            version: "1.0.0".into(),
            source: "./registry/q/1.0.0.zip".into(),
            sha256: sha256_hex(bytes),
        }
    }

    /// Every file below `dir`.
    fn files_below(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).into_iter().flatten() {
            let path = e.unwrap().path();
            match path.is_dir() {
                true => out.extend(files_below(&path)),
                false => out.push(path),
            }
        }
        out
    }

    #[test]
    fn an_archive_that_is_refused_is_not_cached_and_leaves_no_temporary_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let module = b"module: q\nversion: 1.0.0\n".as_slice();

        let hidden = zip_of(&[("module.yaml", module), (".extra", b"x")]);
        let err = cache.store(&entry(&hidden), &hidden).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid, "{err}");
        assert!(
            err.message
                .contains("is not one `strata module publish` makes"),
            "{err}"
        );

        let escaping = zip_of(&[("module.yaml", module), ("../x", b"x")]);
        let err = cache.store(&entry(&escaping), &escaping).unwrap_err();
        assert!(err.message.contains("points outside the module"), "{err}");

        let root = tmp.path().join(CACHE_DIR);
        assert_eq!(files_below(&root), Vec::<PathBuf>::new());
        let left: Vec<_> = fs::read_dir(root.join("acme/q")).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_pinned_archive_that_never_packed_to_itself_is_named_so_not_called_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        // As an older strata cached it, without checking.
        let bytes = zip_of(&[
            ("module.yaml", b"module: q\nversion: 1.0.0\n"),
            (".extra", b"x"),
        ]);
        let pinned = entry(&bytes);
        let archive_path = cache.archive(&pinned.name, &pinned.version);
        create_private_dir(archive_path.parent().unwrap()).unwrap();
        write_private(&archive_path, &bytes).unwrap();
        archive::unpack(&bytes, &cache.dir(&pinned.name, &pinned.version)).unwrap();
        let err = cache.verified(&pinned).unwrap_err();
        assert!(
            err.message
                .contains("is not one `strata module publish` makes"),
            "{err}"
        );

        // A canonical archive whose unpacked files were edited is "changed since fetched".
        let src = tmp.path().join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("module.yaml"), "module: q\nversion: 1.0.0\n").unwrap();
        let bytes = archive::package(&src).unwrap();
        let pinned = entry(&bytes);
        let dir = cache.store(&pinned, &bytes).unwrap();
        fs::write(
            dir.join("module.yaml"),
            "module: q\nversion: 1.0.0\n# edited\n",
        )
        .unwrap();
        let err = cache.verified(&pinned).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Checksum);
        assert!(
            err.help.unwrap().contains("changed since it was fetched"),
            "the help says what happened"
        );
        let left: Vec<_> = fs::read_dir(dir.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().contains(UNPACKING))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
