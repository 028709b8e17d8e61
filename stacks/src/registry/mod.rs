//! Published modules: deterministic archives, registries, `strata.toml`, `strata.lock` and the
//! local cache (SPEC §4).
//!
//! What this module promises:
//! - [`archive::package`] turns a module directory into a zip whose bytes depend only on the
//!   files' relative paths and contents (sorted entries, fixed timestamps and modes), so the same
//!   sources always have the same SHA-256;
//! - [`publish`] never overwrites a published version: the archive is created only if absent and
//!   the registry's `NAME/index.json` is updated with a compare-and-swap;
//! - [`fetch`] resolves every registry module a stack uses (through local and published modules)
//!   to the highest published version matching its semver requirement, unless `strata.lock`
//!   already pins a matching one, verifies each archive against the index and the lock, unpacks
//!   it into `.strata/modules/REGISTRY/NAME/VERSION/` and writes `strata.lock`;
//! - the loader never talks to a registry: it uses the lock and the cache, and
//!   [`Cache::verified`] checks the SHA-256 of both the cached archive and the unpacked files on
//!   every use, so a tampered cache is an error, never silently used.

pub mod archive;
mod cache;
mod files;
mod ops;
mod store;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

pub use cache::Cache;
pub use files::{LockFile, LockedModule, Manifest, RegistryLocation, LOCK_VERSION};
pub use ops::{
    fetch, module_header, open_store, publish, Fetched, ModuleHeader, OpenS3, Published,
};
pub use store::{DirStore, Store, Versioned};

/// The file a module directory must hold.
pub const MODULE_FILE: &str = "module.yaml";
/// Registries by name, beside the stack file.
pub const MANIFEST_FILE: &str = "strata.toml";
/// Resolved module versions and their checksums, beside the stack file.
pub const LOCK_FILE: &str = "strata.lock";
/// Each published module's list of versions, at `NAME/index.json` in its registry.
pub const INDEX_FILE: &str = "index.json";
/// Where fetched modules are cached, relative to the stack file's directory.
pub const CACHE_DIR: &str = ".strata/modules";

/// What kind of failure a [`RegistryError`] is, for callers that react to one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file could not be read or written.
    Io,
    /// Bytes do not match the SHA-256 they must have (a tampered cache or registry).
    Checksum,
    /// The registry has no such module or version.
    NotFound,
    /// The version is already published; published versions never change.
    AlreadyPublished,
    /// A module is used that `strata module fetch` has not fetched (or pinned) yet.
    NotFetched,
    /// A file (`strata.toml`, `strata.lock`, `module.yaml`, an index or archive) is malformed.
    Invalid,
    /// The registry could not be reached or refused the request.
    Remote,
}

/// A registry, lock or cache failure: what happened and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryError {
    pub kind: ErrorKind,
    pub message: String,
    pub help: Option<String>,
}

impl RegistryError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> RegistryError {
        RegistryError {
            kind,
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> RegistryError {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn io(action: &str, path: &Path, error: std::io::Error) -> RegistryError {
        RegistryError::new(
            ErrorKind::Io,
            format!("{action} {}: {error}", path.display()),
        )
    }

    pub(crate) fn invalid(message: impl Into<String>) -> RegistryError {
        RegistryError::new(ErrorKind::Invalid, message)
    }
}

impl From<::files::Error> for RegistryError {
    fn from(e: ::files::Error) -> RegistryError {
        RegistryError::io(e.action, &e.path, e.source)
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RegistryError {}

/// Where a `modules:` entry's `source` points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A directory, relative to the file that declares the module.
    Local(PathBuf),
    /// `REGISTRY/NAME`, a published module.
    Registry { registry: String, name: String },
}

impl Source {
    /// Reads a `source:` value; `Err` says how to write one.
    pub fn parse(text: &str) -> Result<Source, String> {
        static REGISTRY_SOURCE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(&format!("^({REGISTRY_NAME_RULE})/({MODULE_NAME_RULE})$"))
                .expect("a valid regex")
        });
        let local = text == "."
            || text == ".."
            || text.starts_with("./")
            || text.starts_with("../")
            || text.starts_with('/');
        if local {
            return Ok(Source::Local(PathBuf::from(text)));
        }
        match REGISTRY_SOURCE.captures(text) {
            Some(c) => Ok(Source::Registry {
                registry: c[1].to_string(),
                name: c[2].to_string(),
            }),
            None => Err(format!(
                "write a directory starting with `./` (`./modules/{text}`) or a published module \
                 as REGISTRY/NAME (`acme/{}`)",
                text.rsplit('/').next().unwrap_or(text)
            )),
        }
    }
}

/// Names of registries in `strata.toml`.
pub(crate) const REGISTRY_NAME_RULE: &str = "[a-z][a-z0-9_-]{0,62}";
/// `module:` names: they name the module's directory in a registry.
pub(crate) const MODULE_NAME_RULE: &str = "[a-z][a-z0-9-]{0,62}";

pub(crate) fn is_module_name(name: &str) -> bool {
    static RULE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(&format!("^(?:{MODULE_NAME_RULE})$")).expect("a valid regex"));
    RULE.is_match(name)
}

pub(crate) fn is_registry_name(name: &str) -> bool {
    static RULE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!("^(?:{REGISTRY_NAME_RULE})$")).expect("a valid regex")
    });
    RULE.is_match(name)
}

/// The key of a version's archive in its registry: `NAME/VERSION.zip`.
pub fn archive_key(name: &str, version: &semver::Version) -> String {
    format!("{name}/{version}.{}", archive::ARCHIVE_EXTENSION)
}

/// The key of a module's index in its registry: `NAME/index.json`.
pub fn index_key(name: &str) -> String {
    format!("{name}/{INDEX_FILE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_directories_or_registry_names() {
        assert_eq!(
            Source::parse("./modules/net"),
            Ok(Source::Local("./modules/net".into()))
        );
        assert_eq!(
            Source::parse("../shared"),
            Ok(Source::Local("../shared".into()))
        );
        assert_eq!(
            Source::parse("acme/queue-with-dlq"),
            Ok(Source::Registry {
                registry: "acme".into(),
                name: "queue-with-dlq".into()
            })
        );
        assert!(Source::parse("modules/net/x").is_err());
        assert!(Source::parse("net").is_err());
        assert!(Source::parse("Acme/q").is_err());
    }
}
