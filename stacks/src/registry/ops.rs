//! Publishing a module into a registry, and fetching what a stack uses into the lock and cache.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use files::digest::sha256_hex;

use super::archive;
use super::{
    archive_key, index_key, is_module_name, Cache, DirStore, ErrorKind, LockFile, LockedModule,
    Manifest, RegistryError, RegistryLocation, Source, Store, LOCK_VERSION, MODULE_FILE,
};
use crate::load::module_env::inside;
use crate::yaml::{self, Node, NodeKind, SourceFile};

/// How many times publishing re-reads an index that another publisher changed meanwhile.
const INDEX_RETRIES: usize = 5;

/// `module:` and `version:` of a module directory's `module.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleHeader {
    pub name: String,
    pub version: Option<Version>,
}

/// Reads the name and version of the module in `dir`.
pub fn module_header(dir: &Path) -> Result<ModuleHeader, RegistryError> {
    let path = dir.join(MODULE_FILE);
    let root = parse_yaml(&path)?;
    let entries = match &root.kind {
        NodeKind::Map(entries) => entries.as_slice(),
        _ => &[],
    };
    let field = |name: &str| entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v);
    let name = field("module").and_then(Node::scalar_text).ok_or_else(|| {
        RegistryError::invalid(format!("{} has no `module: NAME`", path.display()))
            .help("a module file starts with `module: NAME` and `version: X.Y.Z`")
    })?;
    if !is_module_name(&name) {
        return Err(RegistryError::invalid(format!(
            "{}: invalid module name `{name}`",
            path.display()
        ))
        .help("a module name starts with a lowercase letter and has only lowercase letters, digits and `-`"));
    }
    let version = match field("version").and_then(Node::scalar_text) {
        None => None,
        Some(text) => Some(Version::parse(&text).map_err(|e| {
            RegistryError::invalid(format!(
                "{}: `version: {text}` is not a semantic version ({e})",
                path.display()
            ))
            .help("write three numbers, such as `version: 1.2.0`")
        })?),
    };
    Ok(ModuleHeader { name, version })
}

fn parse_yaml(path: &Path) -> Result<Node, RegistryError> {
    let text = fs::read_to_string(path).map_err(|e| RegistryError::io("reading", path, e))?;
    let file = SourceFile::new(path, &text);
    yaml::parse(&file).map_err(|d| RegistryError::invalid(d.render(false)))
}

/// A registry's `NAME/index.json`: every published version and its archive's SHA-256.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Index {
    name: String,
    versions: BTreeMap<String, IndexEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct IndexEntry {
    sha256: String,
    /// The archive's file name beside the index.
    archive: String,
}

impl Index {
    fn read(store: &dyn Store, name: &str) -> Result<Option<(Index, String)>, RegistryError> {
        let key = index_key(name);
        let Some(found) = store.get(&key)? else {
            return Ok(None);
        };
        let index: Index = serde_json::from_slice(&found.bytes).map_err(|e| {
            RegistryError::invalid(format!("{} is not a module index: {e}", store.url(&key)))
        })?;
        Ok(Some((index, found.tag)))
    }

    fn encode(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("an index always encodes");
        bytes.push(b'\n');
        bytes
    }
}

/// What [`publish`] published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub name: String,
    pub version: Version,
    pub sha256: String,
    /// Where the archive now is.
    pub url: String,
}

/// Publishes the module in `dir` under its `module:` name and `version:`: the archive at
/// `NAME/VERSION.zip`, then the version and its SHA-256 in `NAME/index.json`.
///
/// A version is published once: if the index already lists it, or another archive already sits
/// at its key, this fails with [`ErrorKind::AlreadyPublished`] and changes nothing. (An archive
/// with the same bytes left by an interrupted publish is completed, not refused.)
pub fn publish(store: &dyn Store, dir: &Path) -> Result<Published, RegistryError> {
    let header = module_header(dir)?;
    let Some(version) = header.version.clone() else {
        return Err(RegistryError::invalid(format!(
            "{} has no `version:`; a published module needs one",
            dir.join(MODULE_FILE).display()
        ))
        .help("add `version: 1.0.0` below `module:`"));
    };
    let name = header.name;
    let bytes = archive::package(dir)?;
    let sha256 = sha256_hex(&bytes);
    let key = archive_key(&name, &version);
    let already = |existing: &str| {
        RegistryError::new(
            ErrorKind::AlreadyPublished,
            format!(
                "module `{name}` {version} is already published at {} (SHA-256 {existing})",
                store.url(&key)
            ),
        )
        .help("published versions never change: raise `version:` in module.yaml and publish again")
    };

    let mut current = Index::read(store, &name)?;
    if let Some(entry) = current
        .as_ref()
        .and_then(|(index, _)| index.versions.get(&version.to_string()))
    {
        return Err(already(&entry.sha256));
    }
    if !store.create(&key, &bytes)? {
        let existing = store
            .get(&key)?
            .map(|v| sha256_hex(&v.bytes))
            .unwrap_or_default();
        if existing != sha256 {
            return Err(already(&existing));
        }
    }
    for _ in 0..INDEX_RETRIES {
        let (mut index, tag) = match current.take() {
            Some((index, tag)) => (index, Some(tag)),
            None => (
                Index {
                    name: name.clone(),
                    ..Index::default()
                },
                None,
            ),
        };
        if let Some(entry) = index.versions.get(&version.to_string()) {
            if entry.sha256 == sha256 {
                break;
            }
            return Err(already(&entry.sha256));
        }
        index.versions.insert(
            version.to_string(),
            IndexEntry {
                sha256: sha256.clone(),
                archive: format!("{version}.{}", archive::ARCHIVE_EXTENSION),
            },
        );
        if store.replace(&index_key(&name), &index.encode(), tag.as_deref())? {
            return Ok(Published {
                name,
                version,
                sha256,
                url: store.url(&key),
            });
        }
        current = Index::read(store, &name)?;
    }
    // Someone else listed it meanwhile (with the same bytes), or the index kept changing.
    match Index::read(store, &name)? {
        Some((index, _))
            if index
                .versions
                .get(&version.to_string())
                .is_some_and(|e| e.sha256 == sha256) =>
        {
            Ok(Published {
                name,
                version,
                sha256,
                url: store.url(&key),
            })
        }
        _ => Err(RegistryError::new(
            ErrorKind::Remote,
            format!(
                "{} kept changing while publishing; try again",
                store.url(&index_key(&name))
            ),
        )),
    }
}

/// Opens an S3 registry (`bucket`, `prefix`): the CLI owns the AWS clients.
pub type OpenS3<'a> = dyn FnMut(&str, &str) -> Result<Box<dyn Store>, RegistryError> + 'a;

/// The store of the registry `name` of `strata.toml`.
pub fn open_store(
    manifest: &Manifest,
    name: &str,
    open_s3: &mut OpenS3<'_>,
) -> Result<Box<dyn Store>, RegistryError> {
    match manifest.registry(name)? {
        RegistryLocation::Dir(path) => Ok(Box::new(DirStore::new(
            path.clone(),
            manifest.written(name).unwrap_or_default(),
        ))),
        RegistryLocation::S3 { bucket, prefix } => open_s3(bucket, prefix),
    }
}

/// One module [`fetch`] pinned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    pub entry: LockedModule,
    /// Whether it was downloaded now (rather than found, verified, in the cache).
    pub downloaded: bool,
}

/// A `modules:` entry that names a published module.
#[derive(Clone, Debug)]
struct Requirement {
    registry: String,
    name: String,
    req: VersionReq,
    /// The file that declares it, for messages.
    used_in: PathBuf,
}

impl Requirement {
    fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.name)
    }
}

/// Resolves every published module the stack at `stack_file` uses (directly, through local
/// modules, or through other published modules), downloads what the cache lacks, and writes
/// `strata.lock` beside the stack with exactly the versions used.
///
/// A version already pinned in `strata.lock` that still satisfies its requirement is kept
/// (`upgrade` ignores the pins and takes the highest matching versions). Every archive is
/// checked against the index's and the lock's SHA-256. `open_s3` opens S3 registries.
pub fn fetch(
    stack_file: &Path,
    open_s3: &mut OpenS3<'_>,
    upgrade: bool,
) -> Result<Vec<Fetched>, RegistryError> {
    let project_dir = match stack_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let manifest = Manifest::load(&project_dir)?;
    let old = LockFile::load(&project_dir)?.unwrap_or_default();
    let cache = Cache::new(&project_dir);
    let mut stores: BTreeMap<String, Box<dyn Store>> = BTreeMap::new();
    let mut visited = BTreeSet::new();
    let mut queue: VecDeque<Requirement> = requirements(stack_file, &mut visited, None)?.into();
    let mut fetched: Vec<Fetched> = Vec::new();

    while let Some(requirement) = queue.pop_front() {
        let full = requirement.full_name();
        let satisfied = fetched.iter().any(|f| {
            f.entry.name == full && f.entry.semver().is_ok_and(|v| requirement.req.matches(&v))
        });
        if satisfied {
            continue;
        }
        if !stores.contains_key(&requirement.registry) {
            let store = open_store(&manifest, &requirement.registry, open_s3).map_err(|e| {
                let message = format!("{} (used in {})", e.message, requirement.used_in.display());
                RegistryError { message, ..e }
            })?;
            stores.insert(requirement.registry.clone(), store);
        }
        let store = stores
            .get(&requirement.registry)
            .expect("opened just above")
            .as_ref();
        let pinned = if upgrade {
            None
        } else {
            old.find(&full, &requirement.req)
        };
        let (result, dir) = match pinned {
            Some(entry) => fetch_pinned(store, &cache, entry)?,
            None => fetch_new(store, &cache, &requirement, &old)?,
        };
        check_contents(&dir, &requirement.name, &result.entry)?;
        let root = fs::canonicalize(&dir).map_err(|e| RegistryError::io("reading", &dir, e))?;
        queue.extend(requirements(
            &dir.join(MODULE_FILE),
            &mut visited,
            Some(&root),
        )?);
        fetched.push(result);
    }

    let lock = LockFile {
        version: LOCK_VERSION,
        modules: fetched.iter().map(|f| f.entry.clone()).collect(),
    };
    lock.save(&project_dir)?;
    Ok(fetched)
}

/// A version pinned in the lock: the cache if it verifies, else downloaded and checked against
/// the pinned SHA-256.
fn fetch_pinned(
    store: &dyn Store,
    cache: &Cache,
    entry: &LockedModule,
) -> Result<(Fetched, PathBuf), RegistryError> {
    match cache.verified(entry) {
        Ok(dir) => {
            return Ok((
                Fetched {
                    entry: entry.clone(),
                    downloaded: false,
                },
                dir,
            ))
        }
        Err(e) if matches!(e.kind, ErrorKind::NotFetched | ErrorKind::Checksum) => {}
        Err(e) => return Err(e),
    }
    let version = entry.semver()?;
    let name = entry
        .name
        .split_once('/')
        .map_or(entry.name.as_str(), |(_, n)| n);
    let key = archive_key(name, &version);
    let bytes = store
        .get(&key)?
        .ok_or_else(|| {
            RegistryError::new(
                ErrorKind::NotFound,
                format!(
                    "module `{}` {} is pinned in strata.lock, but {} no longer exists",
                    entry.name,
                    entry.version,
                    store.url(&key)
                ),
            )
            .help("run `strata module fetch --upgrade` to pin a version that is published")
        })?
        .bytes;
    let found = sha256_hex(&bytes);
    if found != entry.sha256 {
        return Err(RegistryError::new(
            ErrorKind::Checksum,
            format!(
                "checksum mismatch for module `{}` {}: {} has SHA-256 {found}, but strata.lock pins {}",
                entry.name,
                entry.version,
                store.url(&key),
                entry.sha256
            ),
        )
        .help("a published version changed, or strata.lock was edited; find out which before trusting either"));
    }
    let dir = cache.store(entry, &bytes)?;
    Ok((
        Fetched {
            entry: entry.clone(),
            downloaded: true,
        },
        dir,
    ))
}

/// The highest published version matching the requirement, downloaded and checked against the
/// index's SHA-256, and against `old`'s SHA-256 when the lock already pinned that version (a
/// published version never changes: one that did is refused, not re-pinned).
fn fetch_new(
    store: &dyn Store,
    cache: &Cache,
    requirement: &Requirement,
    old: &LockFile,
) -> Result<(Fetched, PathBuf), RegistryError> {
    let full = requirement.full_name();
    let Some((index, _)) = Index::read(store, &requirement.name)? else {
        return Err(RegistryError::new(
            ErrorKind::NotFound,
            format!(
                "module `{full}` is not published: {} does not exist (used in {})",
                store.url(&index_key(&requirement.name)),
                requirement.used_in.display()
            ),
        )
        .help(format!(
            "publish it with `strata module publish DIR --registry {}`, or check the name",
            requirement.registry
        )));
    };
    let mut published: Vec<(Version, &IndexEntry)> = index
        .versions
        .iter()
        .filter_map(|(v, e)| Version::parse(v).ok().map(|v| (v, e)))
        .collect();
    published.sort_by(|a, b| a.0.cmp(&b.0));
    let Some((version, index_entry)) = published
        .iter()
        .rev()
        .find(|(v, _)| requirement.req.matches(v))
    else {
        let list: Vec<String> = published.iter().map(|(v, _)| v.to_string()).collect();
        return Err(RegistryError::new(
            ErrorKind::NotFound,
            format!(
                "no published version of `{full}` matches `{}` (used in {}); published: {}",
                requirement.req,
                requirement.used_in.display(),
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                }
            ),
        )
        .help("change the module's `version:` requirement, or publish a matching version"));
    };
    let key = archive_key(&requirement.name, version);
    let bytes = store
        .get(&key)?
        .ok_or_else(|| {
            RegistryError::new(
                ErrorKind::NotFound,
                format!(
                    "{} lists `{full}` {version}, but {} does not exist",
                    store.url(&index_key(&requirement.name)),
                    store.url(&key)
                ),
            )
        })?
        .bytes;
    let found = sha256_hex(&bytes);
    if found != index_entry.sha256 {
        return Err(RegistryError::new(
            ErrorKind::Checksum,
            format!(
                "checksum mismatch for module `{full}` {version}: {} has SHA-256 {found}, but the registry's index lists {}",
                store.url(&key),
                index_entry.sha256
            ),
        )
        .help("the published archive was changed after publishing; ask its publisher"));
    }
    let pinned = old
        .modules
        .iter()
        .find(|m| m.name == full && m.semver().is_ok_and(|v| &v == version));
    if let Some(pinned) = pinned.filter(|m| m.sha256 != found) {
        return Err(RegistryError::new(
            ErrorKind::Checksum,
            format!(
                "module `{full}` {version} was republished with different bytes: strata.lock pins SHA-256 {}, but {} now has SHA-256 {found}",
                pinned.sha256,
                store.url(&key)
            ),
        )
        .help(format!(
            "a published version must never change, so nothing was re-pinned; ask the publisher why it changed. Once you trust the new bytes, delete the `{full}` {version} entry from strata.lock and run `strata module fetch` again"
        )));
    }
    let entry = LockedModule {
        name: full,
        version: version.to_string(),
        source: store.url(&key),
        sha256: found,
    };
    let dir = cache.store(&entry, &bytes)?;
    Ok((
        Fetched {
            entry,
            downloaded: true,
        },
        dir,
    ))
}

/// The archive must hold the module it is published as.
fn check_contents(dir: &Path, name: &str, entry: &LockedModule) -> Result<(), RegistryError> {
    let header = module_header(dir)?;
    let version = entry.semver()?;
    if header.name != name || header.version.as_ref() != Some(&version) {
        return Err(RegistryError::invalid(format!(
            "the archive of `{}` {} holds module `{}` {}",
            entry.name,
            entry.version,
            header.name,
            header
                .version
                .map_or_else(|| "without a version".to_string(), |v| v.to_string())
        )));
    }
    Ok(())
}

/// Every published module that `file` (a stack or module file) uses, directly or through the
/// local modules it uses. Local module files already `visited` are not read again. In a
/// published module (`published_root`, its canonical directory) a local module outside that
/// directory is refused, as the loader refuses it.
fn requirements(
    file: &Path,
    visited: &mut BTreeSet<PathBuf>,
    published_root: Option<&Path>,
) -> Result<Vec<Requirement>, RegistryError> {
    let canonical = fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    if !visited.insert(canonical) {
        return Ok(Vec::new());
    }
    let root = parse_yaml(file)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let NodeKind::Map(entries) = &root.kind else {
        return Ok(out);
    };
    let Some((_, modules)) = entries.iter().find(|(k, _)| k.name == "modules") else {
        return Ok(out);
    };
    let NodeKind::Map(modules) = &modules.kind else {
        return Ok(out);
    };
    for (key, node) in modules {
        let NodeKind::Map(fields) = &node.kind else {
            continue;
        };
        let field = |name: &str| fields.iter().find(|(k, _)| k.name == name).map(|(_, v)| v);
        let Some(source) = field("source").and_then(Node::scalar_text) else {
            continue;
        };
        let invalid = |message: String| {
            RegistryError::invalid(format!(
                "{}:{}: module `{}`: {message}",
                file.display(),
                key.pos.line,
                key.name
            ))
        };
        match Source::parse(&source).map_err(invalid)? {
            Source::Local(dir) => {
                if let Some(root) = published_root {
                    if !inside(root, base, &dir) {
                        return Err(invalid(format!(
                            "`{source}` is outside this published module's directory"
                        ))
                        .help("a published module uses only what its archive holds: a local module inside it is a directory below its module.yaml"));
                    }
                }
                let module_file = base.join(dir).join(MODULE_FILE);
                if module_file.is_file() {
                    out.extend(requirements(&module_file, visited, published_root)?);
                }
            }
            Source::Registry { registry, name } => {
                let text = field("version").and_then(Node::scalar_text).ok_or_else(|| {
                    invalid(format!(
                        "`{source}` is a published module and needs `version:`, a semver requirement such as \"^1.0\""
                    ))
                })?;
                let req = VersionReq::parse(&text).map_err(|e| {
                    invalid(format!(
                        "`version: {text}` is not a semver requirement ({e})"
                    ))
                })?;
                out.push(Requirement {
                    registry,
                    name,
                    req,
                    used_in: file.to_path_buf(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_module(dir: &Path, name: &str, version: &str, extra: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(
            dir.join(MODULE_FILE),
            format!("module: {name}\nversion: {version}\n{extra}"),
        )
        .unwrap();
    }

    fn open_dir(_: &str, _: &str) -> Result<Box<dyn Store>, RegistryError> {
        unreachable!("no S3 in unit tests")
    }

    #[test]
    fn a_version_is_published_once_and_listed_in_the_index() {
        let tmp = tempfile::tempdir().unwrap();
        let store = DirStore::new(tmp.path().join("registry"), "./registry");
        let src = tmp.path().join("q");
        write_module(&src, "q", "1.0.0", "");
        let published = publish(&store, &src).unwrap();
        assert_eq!(published.url, "./registry/q/1.0.0.zip");
        let index: Index =
            serde_json::from_slice(&store.get("q/index.json").unwrap().unwrap().bytes).unwrap();
        assert_eq!(index.versions["1.0.0"].sha256, published.sha256);

        let err = publish(&store, &src).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AlreadyPublished, "{err}");
        write_module(&src, "q", "1.0.0", "description: changed\n");
        let err = publish(&store, &src).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AlreadyPublished, "{err}");
        write_module(&src, "q", "1.1.0", "");
        publish(&store, &src).unwrap();
    }

    #[test]
    fn fetch_pins_the_highest_matching_version_and_keeps_the_pin_until_upgrade() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        fs::create_dir_all(&project).unwrap();
        fs::write(
            project.join("strata.toml"),
            "[registries]\nacme = \"./registry\"\n",
        )
        .unwrap();
        let store = DirStore::new(project.join("registry"), "./registry");
        let src = tmp.path().join("q");
        for version in ["1.0.0", "1.2.0", "2.0.0"] {
            write_module(&src, "q", version, "");
            publish(&store, &src).unwrap();
        }
        let stack = project.join("stack.yaml");
        fs::write(
            &stack,
            "stack: s\nmodules:\n  a: { source: acme/q, version: \"^1.0\" }\n",
        )
        .unwrap();
        let fetched = fetch(&stack, &mut open_dir, false).unwrap();
        assert_eq!(fetched.len(), 1);
        assert_eq!(fetched[0].entry.version, "1.2.0");
        assert_eq!(fetched[0].entry.source, "./registry/q/1.2.0.zip");
        assert!(fetched[0].downloaded);
        let lock = LockFile::load(&project).unwrap().unwrap();
        assert_eq!(lock.modules, vec![fetched[0].entry.clone()]);

        write_module(&src, "q", "1.3.0", "");
        publish(&store, &src).unwrap();
        let again = fetch(&stack, &mut open_dir, false).unwrap();
        assert_eq!(again[0].entry.version, "1.2.0", "the pin is kept");
        assert!(!again[0].downloaded, "the verified cache is used");
        let upgraded = fetch(&stack, &mut open_dir, true).unwrap();
        assert_eq!(upgraded[0].entry.version, "1.3.0");

        fs::write(
            &stack,
            "stack: s\nmodules:\n  a: { source: acme/q, version: \"^3\" }\n",
        )
        .unwrap();
        let err = fetch(&stack, &mut open_dir, false).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert!(
            err.message
                .contains("published: 1.0.0, 1.2.0, 1.3.0, 2.0.0"),
            "{err}"
        );
    }

    #[test]
    fn upgrade_refuses_a_pinned_version_republished_with_other_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        fs::create_dir_all(&project).unwrap();
        fs::write(
            project.join("strata.toml"),
            "[registries]\nacme = \"./registry\"\n",
        )
        .unwrap();
        let store = DirStore::new(project.join("registry"), "./registry");
        let src = tmp.path().join("q");
        write_module(&src, "q", "1.0.0", "");
        let first = publish(&store, &src).unwrap();
        let stack = project.join("stack.yaml");
        fs::write(
            &stack,
            "stack: s\nmodules:\n  a: { source: acme/q, version: \"^1\" }\n",
        )
        .unwrap();
        fetch(&stack, &mut open_dir, false).unwrap();
        let lock = fs::read(project.join(crate::registry::LOCK_FILE)).unwrap();

        fs::remove_dir_all(project.join("registry/q")).unwrap();
        write_module(&src, "q", "1.0.0", "description: other bytes\n");
        let second = publish(&store, &src).unwrap();
        let err = fetch(&stack, &mut open_dir, true).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Checksum, "{err}");
        assert!(err.message.contains(&first.sha256), "{err}");
        assert!(err.message.contains(&second.sha256), "{err}");
        assert_eq!(
            fs::read(project.join(crate::registry::LOCK_FILE)).unwrap(),
            lock,
            "nothing is re-pinned"
        );
        // Without --upgrade the verified cache keeps serving the pinned bytes.
        fetch(&stack, &mut open_dir, false).unwrap();
    }
}
