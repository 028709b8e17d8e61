//! [`ModuleEnv`]: what the stack's directory knows about published modules (`strata.toml`,
//! `strata.lock`, the cache), and the path arithmetic module directories need.

use std::cell::OnceCell;
use std::path::{Component, Path, PathBuf};

use semver::VersionReq;

use crate::registry::{self, Cache, LockFile, Manifest, RegistryError};

/// What the stack's directory knows about published modules: `strata.toml`, `strata.lock` and
/// the cache, read once (and only when a published module is used).
pub(crate) struct ModuleEnv {
    pub(super) project_dir: PathBuf,
    pub(super) manifest: OnceCell<Result<Manifest, RegistryError>>,
    pub(super) lock: OnceCell<Result<Option<LockFile>, RegistryError>>,
}

impl ModuleEnv {
    pub(crate) fn new(stack_path: &Path) -> ModuleEnv {
        let project_dir = match stack_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        ModuleEnv {
            project_dir,
            manifest: OnceCell::new(),
            lock: OnceCell::new(),
        }
    }

    /// The directory of the stack file.
    pub(crate) fn project_dir(&self) -> &Path {
        &self.project_dir
    }

    /// `dir` as a path from the stack file's directory: relative when both can be resolved
    /// (`modules/api`, `../shared/api`, `.strata/modules/team/api/1.0.0`), else absolute.
    pub(crate) fn path_from_project(&self, dir: &Path) -> PathBuf {
        match (
            std::fs::canonicalize(&self.project_dir),
            std::fs::canonicalize(dir),
        ) {
            (Ok(base), Ok(dir)) => relative_path(&dir, &base),
            _ => normalize(dir),
        }
    }

    /// The verified cached directory of the version of `registry/name` that `strata.lock`
    /// pins for `requirement`.
    pub(super) fn registry_dir(
        &self,
        registry: &str,
        name: &str,
        requirement: &VersionReq,
    ) -> Result<PathBuf, RegistryError> {
        let manifest = self
            .manifest
            .get_or_init(|| Manifest::load(&self.project_dir))
            .as_ref()
            .map_err(Clone::clone)?;
        manifest.registry(registry)?;
        let lock = self
            .lock
            .get_or_init(|| LockFile::load(&self.project_dir))
            .as_ref()
            .map_err(Clone::clone)?;
        let full = format!("{registry}/{name}");
        let not_fetched = |message: String| {
            RegistryError::new(registry::ErrorKind::NotFetched, message).help(
                "run `strata module fetch` to resolve published modules into strata.lock and download them",
            )
        };
        let Some(lock) = lock else {
            return Err(not_fetched(format!(
                "module `{full}` is not fetched: there is no {} beside the stack",
                registry::LOCK_FILE
            )));
        };
        let Some(entry) = lock.find(&full, requirement) else {
            let pinned: Vec<&str> = lock
                .modules
                .iter()
                .filter(|m| m.name == full)
                .map(|m| m.version.as_str())
                .collect();
            return Err(not_fetched(format!(
                "no version of `{full}` matching `{requirement}` is pinned in {}{}",
                registry::LOCK_FILE,
                if pinned.is_empty() {
                    String::new()
                } else {
                    format!(" (it pins {})", pinned.join(", "))
                }
            )));
        };
        Cache::new(&self.project_dir).verified(entry)
    }
}

/// `path` as a path from `base`; both absolute and free of `.` and `..` (canonical).
fn relative_path(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<Component> = path.components().collect();
    let base: Vec<Component> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for component in &path[common..] {
        out.push(component);
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system, so messages show plain paths.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let popped =
                    matches!(out.components().next_back(), Some(Component::Normal(_))) && out.pop();
                if !popped {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// Whether `relative`, taken from the directory `base`, stays inside `root` (canonical): both as
/// written (`..` and absolute paths) and once symbolic links are followed, when it exists.
pub(crate) fn inside(root: &Path, base: &Path, relative: &Path) -> bool {
    let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
    let written = normalize(&base.join(relative));
    let real = std::fs::canonicalize(&written).unwrap_or_else(|_| written.clone());
    written.starts_with(root) && real.starts_with(root)
}
