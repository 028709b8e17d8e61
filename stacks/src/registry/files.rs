//! `strata.toml` (which registries exist) and `strata.lock` (which versions a stack uses).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use files::durable::write_private;
use serde::{Deserialize, Serialize};

use super::{is_registry_name, ErrorKind, RegistryError, LOCK_FILE, MANIFEST_FILE};
use crate::suggest::hint;

/// Where a registry keeps its modules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryLocation {
    /// A directory (resolved against the directory of `strata.toml`).
    Dir(PathBuf),
    /// `s3://BUCKET/PREFIX`: objects `PREFIX/NAME/...` in `BUCKET`.
    S3 { bucket: String, prefix: String },
}

impl RegistryLocation {
    /// Reads a location as written in `strata.toml`; relative directories are taken from `base`.
    fn parse(text: &str, base: &Path) -> Result<RegistryLocation, String> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err("an S3 registry is `s3://BUCKET/PREFIX`".into());
            }
            return Ok(RegistryLocation::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
            });
        }
        if text.contains("://") {
            return Err(
                "a registry is a directory (`./registry`) or an S3 location (`s3://BUCKET/PREFIX`)"
                    .into(),
            );
        }
        if text.is_empty() {
            return Err("the registry's location is empty".into());
        }
        Ok(RegistryLocation::Dir(base.join(text)))
    }

    /// How the location reads in messages and in `strata.lock`.
    pub fn display(&self) -> String {
        match self {
            RegistryLocation::Dir(path) => path.display().to_string(),
            RegistryLocation::S3 { bucket, prefix } if prefix.is_empty() => {
                format!("s3://{bucket}")
            }
            RegistryLocation::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }
}

/// `strata.toml`: registries by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The file, whether or not it exists.
    pub path: PathBuf,
    pub registries: BTreeMap<String, RegistryLocation>,
    /// The locations as written, for `strata.lock`'s `source`.
    written: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    #[serde(default)]
    registries: BTreeMap<String, String>,
}

impl Manifest {
    /// Reads `strata.toml` in `project_dir` (the stack file's directory). A missing file is an
    /// empty manifest: a stack that uses no registry needs none.
    pub fn load(project_dir: &Path) -> Result<Manifest, RegistryError> {
        let path = project_dir.join(MANIFEST_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Manifest {
                    path,
                    ..Manifest::default()
                })
            }
            Err(e) => return Err(RegistryError::io("reading", &path, e)),
        };
        let file: ManifestFile = toml::from_str(&text).map_err(|e| {
            RegistryError::invalid(format!("{} is not valid: {}", path.display(), e.message()))
                .help("write `[registries]` and one `NAME = \"./dir\"` or `NAME = \"s3://bucket/prefix\"` per line")
        })?;
        let mut registries = BTreeMap::new();
        for (name, location) in &file.registries {
            if !is_registry_name(name) {
                return Err(RegistryError::invalid(format!(
                    "{}: invalid registry name `{name}`",
                    path.display()
                ))
                .help("a registry name starts with a lowercase letter and has only lowercase letters, digits, `-` and `_`"));
            }
            let parsed = RegistryLocation::parse(location, project_dir).map_err(|e| {
                RegistryError::invalid(format!(
                    "{}: registry `{name}` = \"{location}\": {e}",
                    path.display()
                ))
            })?;
            registries.insert(name.clone(), parsed);
        }
        Ok(Manifest {
            path,
            registries,
            written: file.registries,
        })
    }

    /// The registry named `name`, or an error listing the known ones.
    pub fn registry(&self, name: &str) -> Result<&RegistryLocation, RegistryError> {
        self.registries.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.registries.keys().map(String::as_str).collect();
            let help = hint(name, known.iter().copied()).unwrap_or_else(|| {
                format!(
                    "name it in {} beside the stack: `[registries]` then `{name} = \"./registry\"` or `{name} = \"s3://BUCKET/PREFIX\"`",
                    MANIFEST_FILE
                )
            });
            RegistryError::new(
                ErrorKind::NotFound,
                format!(
                    "unknown registry `{name}`: {} names {}",
                    self.path.display(),
                    if known.is_empty() {
                        "no registries".to_string()
                    } else {
                        crate::suggest::list_names(&known)
                    }
                ),
            )
            .help(help)
        })
    }

    /// The location of registry `name` as written in the file (`./registry`), for messages and
    /// `strata.lock`.
    pub fn written(&self, name: &str) -> Option<&str> {
        self.written.get(name).map(String::as_str)
    }
}

/// The format version of `strata.lock`.
pub const LOCK_VERSION: u32 = 1;

/// `strata.lock`: every published module a stack uses, pinned to a version and its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    pub version: u32,
    #[serde(default, rename = "module")]
    pub modules: Vec<LockedModule>,
}

impl Default for LockFile {
    fn default() -> LockFile {
        LockFile {
            version: LOCK_VERSION,
            modules: Vec::new(),
        }
    }
}

/// One pinned module version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedModule {
    /// `REGISTRY/NAME`, as the stack's `source:` names it.
    pub name: String,
    /// The exact version (semver).
    pub version: String,
    /// Where the archive was fetched from.
    pub source: String,
    /// SHA-256 of the archive, lowercase hex.
    pub sha256: String,
}

impl LockedModule {
    /// The pinned version, parsed.
    pub fn semver(&self) -> Result<semver::Version, RegistryError> {
        semver::Version::parse(&self.version).map_err(|e| {
            RegistryError::invalid(format!(
                "{LOCK_FILE}: `{}` has an invalid version `{}`: {e}",
                self.name, self.version
            ))
        })
    }
}

const LOCK_HEADER: &str = "# Written by `strata module fetch`: the exact version and SHA-256 of every published\n\
                           # module this stack uses. Commit it, so every run uses the same bytes.\n\n";

impl LockFile {
    /// Reads `strata.lock` in `project_dir`; `None` when there is none.
    pub fn load(project_dir: &Path) -> Result<Option<LockFile>, RegistryError> {
        let path = project_dir.join(LOCK_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(RegistryError::io("reading", &path, e)),
        };
        let lock: LockFile = toml::from_str(&text).map_err(|e| {
            RegistryError::invalid(format!("{} is not valid: {}", path.display(), e.message()))
                .help("run `strata module fetch` to write it again")
        })?;
        if lock.version > LOCK_VERSION {
            return Err(RegistryError::invalid(format!(
                "{} was written by a newer strata (lock version {}); upgrade strata",
                path.display(),
                lock.version
            )));
        }
        Ok(Some(lock))
    }

    /// Writes `strata.lock` in `project_dir` atomically and durably
    /// ([`files::durable::write_private`]), entries sorted.
    pub fn save(&self, project_dir: &Path) -> Result<(), RegistryError> {
        let mut sorted = self.clone();
        sorted.modules.sort();
        sorted.modules.dedup();
        let body = toml::to_string(&sorted)
            .map_err(|e| RegistryError::invalid(format!("cannot encode {LOCK_FILE}: {e}")))?;
        let path = project_dir.join(LOCK_FILE);
        Ok(write_private(
            &path,
            format!("{LOCK_HEADER}{body}").as_bytes(),
        )?)
    }

    /// The highest pinned version of `name` that `requirement` accepts.
    pub fn find(&self, name: &str, requirement: &semver::VersionReq) -> Option<&LockedModule> {
        self.modules
            .iter()
            .filter(|m| m.name == name)
            .filter_map(|m| m.semver().ok().map(|v| (v, m)))
            .filter(|(v, _)| requirement.matches(v))
            .max_by(|(a, _), (b, _)| a.cmp(b))
            .map(|(_, m)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_are_directories_or_s3_locations() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(
            tmp.path().join(MANIFEST_FILE),
            "[registries]\nacme = \"./registry\"\nshared = \"s3://modules/strata/\"\n",
        )
        .unwrap();
        let manifest = Manifest::load(tmp.path()).unwrap();
        assert_eq!(
            manifest.registry("acme").unwrap(),
            &RegistryLocation::Dir(tmp.path().join("./registry"))
        );
        assert_eq!(
            manifest.registry("shared").unwrap(),
            &RegistryLocation::S3 {
                bucket: "modules".into(),
                prefix: "strata".into()
            }
        );
        let err = manifest.registry("acme2").unwrap_err();
        assert_eq!(err.help.as_deref(), Some("did you mean `acme`?"));
    }

    #[test]
    fn the_lock_round_trips_and_finds_the_highest_matching_version() {
        let tmp = tempfile::tempdir().unwrap();
        let entry = |v: &str| LockedModule {
            name: "acme/q".into(),
            version: v.into(),
            source: format!("./registry/q/{v}.zip"),
            sha256: "ab".into(),
        };
        let lock = LockFile {
            version: LOCK_VERSION,
            modules: vec![entry("1.2.0"), entry("1.0.0"), entry("2.0.0")],
        };
        lock.save(tmp.path()).unwrap();
        let text = fs::read_to_string(tmp.path().join(LOCK_FILE)).unwrap();
        assert!(text.starts_with("# Written by"), "{text}");
        assert!(text.contains("[[module]]"), "{text}");
        let back = LockFile::load(tmp.path()).unwrap().unwrap();
        let req = semver::VersionReq::parse("^1.0").unwrap();
        assert_eq!(back.find("acme/q", &req).unwrap().version, "1.2.0");
        let req = semver::VersionReq::parse("^3").unwrap();
        assert!(back.find("acme/q", &req).is_none());
    }
}
