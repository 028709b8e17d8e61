//! Where a registry's objects live: a directory here, an S3 bucket in the CLI (which owns the
//! AWS clients). Both give the two guarantees publishing needs: create-if-absent, and replace
//! only if unchanged since read.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use files::digest::sha256_hex;

use super::RegistryError;

/// An object and a tag that changes whenever it does (an S3 ETag, a SHA-256 for a file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versioned {
    pub bytes: Vec<u8>,
    pub tag: String,
}

/// A registry's objects, by `/`-separated key (`queue-with-dlq/index.json`).
pub trait Store {
    /// The URL of `key`, for messages and `strata.lock` (`./registry/q/1.0.0.zip`,
    /// `s3://bucket/prefix/q/1.0.0.zip`).
    fn url(&self, key: &str) -> String;

    /// The object at `key`, or `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<Versioned>, RegistryError>;

    /// Creates `key` holding `bytes` only if it does not exist; `Ok(false)` when it does (it is
    /// then left unchanged).
    fn create(&self, key: &str, bytes: &[u8]) -> Result<bool, RegistryError>;

    /// Replaces `key` with `bytes` only if its tag is still `expected` (`None`: only if it still
    /// does not exist); `Ok(false)` when someone changed it since.
    fn replace(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&str>,
    ) -> Result<bool, RegistryError>;
}

/// A registry in a local (or shared, mounted) directory.
///
/// `create` is atomic (a complete temporary file is hard-linked to the key, which fails if the
/// key exists). `replace` compares the current file's SHA-256 with the expected tag, then
/// renames a temporary file over it: atomic for readers, and safe against concurrent publishers
/// except in the instant between the comparison and the rename.
#[derive(Clone, Debug)]
pub struct DirStore {
    root: PathBuf,
    /// The location as written in `strata.toml`, for URLs.
    written: String,
}

impl DirStore {
    pub fn new(root: PathBuf, written: impl Into<String>) -> DirStore {
        DirStore {
            root,
            written: written.into(),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn temporary(&self, path: &Path) -> Result<PathBuf, RegistryError> {
        let parent = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(parent).map_err(|e| RegistryError::io("creating", parent, e))?;
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".tmp-{}-{}", std::process::id(), unique()));
        Ok(path.with_file_name(name))
    }

    fn write_temporary(&self, path: &Path, bytes: &[u8]) -> Result<PathBuf, RegistryError> {
        let tmp = self.temporary(path)?;
        let mut file =
            fs::File::create(&tmp).map_err(|e| RegistryError::io("creating", &tmp, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| RegistryError::io("writing", &tmp, e))?;
        Ok(tmp)
    }
}

/// A number unique within this process, for temporary names.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Store for DirStore {
    fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.written.trim_end_matches('/'))
    }

    fn get(&self, key: &str) -> Result<Option<Versioned>, RegistryError> {
        let path = self.path(key);
        match fs::read(&path) {
            Ok(bytes) => {
                let tag = sha256_hex(&bytes);
                Ok(Some(Versioned { bytes, tag }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RegistryError::io("reading", &path, e)),
        }
    }

    fn create(&self, key: &str, bytes: &[u8]) -> Result<bool, RegistryError> {
        let path = self.path(key);
        let tmp = self.write_temporary(&path, bytes)?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(RegistryError::io("creating", &path, e)),
        }
    }

    fn replace(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&str>,
    ) -> Result<bool, RegistryError> {
        let current = self.get(key)?.map(|v| v.tag);
        if current.as_deref() != expected {
            return Ok(false);
        }
        if expected.is_none() {
            return self.create(key, bytes);
        }
        let path = self.path(key);
        let tmp = self.write_temporary(&path, bytes)?;
        fs::rename(&tmp, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            RegistryError::io("renaming into place", &path, e)
        })?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_store_creates_once_and_replaces_only_what_it_read() {
        let tmp = tempfile::tempdir().unwrap();
        let store = DirStore::new(tmp.path().to_path_buf(), "./registry");
        assert!(store.get("q/index.json").unwrap().is_none());
        assert!(store.create("q/1.0.0.zip", b"one").unwrap());
        assert!(!store.create("q/1.0.0.zip", b"two").unwrap());
        assert_eq!(store.get("q/1.0.0.zip").unwrap().unwrap().bytes, b"one");

        assert!(store.replace("q/index.json", b"v1", None).unwrap());
        let tag = store.get("q/index.json").unwrap().unwrap().tag;
        assert!(!store.replace("q/index.json", b"v2", None).unwrap());
        assert!(store.replace("q/index.json", b"v2", Some(&tag)).unwrap());
        assert!(!store.replace("q/index.json", b"v3", Some(&tag)).unwrap());
        assert_eq!(store.url("q/1.0.0.zip"), "./registry/q/1.0.0.zip");
        let leftovers: Vec<_> = fs::read_dir(tmp.path().join("q"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }
}
