//! `strata module package | publish | fetch`, and the S3 clients that S3 registries and the S3
//! state backend use. The work itself is in `stacks::registry`; this file only adds the S3
//! side of a registry (the CLI owns the AWS clients), prints, and picks the exit code.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use providers::aws::{AwsContext, AwsOptions};
use stacks::registry::{self, ErrorKind, Manifest, RegistryError, Store, Versioned};
use state::s3::{Condition, S3Store, Written};

use crate::args::Global;
use crate::commands::{Failure, Outcome};
use crate::ui::EXIT_OK;

#[derive(Debug, Args)]
pub struct ModuleArgs {
    #[command(subcommand)]
    pub command: ModuleCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModuleCommand {
    /// Pack a module directory into a deterministic archive; print its path and SHA-256.
    ///
    /// The same files always give the same bytes (sorted entries, fixed timestamps and modes).
    ///
    /// Example: strata module package modules/queue-with-dlq
    #[command(verbatim_doc_comment)]
    Package {
        /// The module directory (it holds module.yaml).
        dir: PathBuf,
        /// Where to write the archive (default: ./NAME-VERSION.zip).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Publish a module directory to a registry named in strata.toml.
    ///
    /// Publishes it under its `module:` name and `version:`; a published version never
    /// changes, so publishing it again fails.
    ///
    /// Example: strata module publish modules/queue-with-dlq --registry acme
    #[command(verbatim_doc_comment)]
    Publish {
        /// The module directory (it holds module.yaml).
        dir: PathBuf,
        /// The registry, as named under `[registries]` in strata.toml beside the stack.
        #[arg(long, value_name = "NAME")]
        registry: String,
    },
    /// Resolve the stack's published modules into strata.lock and download them.
    ///
    /// Keeps the versions strata.lock pins while they still match; --upgrade takes the
    /// highest published versions that match instead. validate, plan and apply then use
    /// strata.lock and the cache in .strata/modules, offline.
    ///
    /// Example: strata module fetch
    #[command(verbatim_doc_comment)]
    Fetch {
        /// Ignore the pinned versions: take the highest matching ones.
        #[arg(long)]
        upgrade: bool,
    },
}

pub(crate) fn module(global: &Global, args: &ModuleArgs) -> Outcome {
    match &args.command {
        ModuleCommand::Package { dir, out } => package(dir, out.as_deref()),
        ModuleCommand::Publish { dir, registry } => publish(global, dir, registry),
        ModuleCommand::Fetch { upgrade } => fetch(global, *upgrade),
    }
}

impl From<RegistryError> for Failure {
    fn from(e: RegistryError) -> Failure {
        let failure = Failure::new(e.message);
        match e.help {
            Some(help) => failure.help(help),
            None => failure,
        }
    }
}

fn package(dir: &Path, out: Option<&Path>) -> Outcome {
    let header = registry::module_header(dir)?;
    let bytes = registry::archive::package(dir)?;
    let sha256 = files::digest::sha256_hex(&bytes);
    let file_name = match &header.version {
        Some(version) => format!(
            "{}-{version}.{}",
            header.name,
            registry::archive::ARCHIVE_EXTENSION
        ),
        None => format!("{}.{}", header.name, registry::archive::ARCHIVE_EXTENSION),
    };
    let path = out.map_or_else(|| PathBuf::from(&file_name), Path::to_path_buf);
    std::fs::write(&path, &bytes)
        .map_err(|e| Failure::new(format!("writing {}: {e}", path.display())))?;
    println!("{}", path.display());
    println!("sha256 {sha256}");
    Ok(EXIT_OK)
}

fn publish(global: &Global, dir: &Path, registry_name: &str) -> Outcome {
    let manifest = Manifest::load(&project_dir(&global.file))?;
    let mut open_s3 = s3_opener(global);
    let store = registry::open_store(&manifest, registry_name, &mut open_s3)?;
    let published = registry::publish(store.as_ref(), dir)?;
    println!(
        "Published module `{}` {} to registry `{registry_name}`: {}",
        published.name, published.version, published.url
    );
    println!("sha256 {}", published.sha256);
    Ok(EXIT_OK)
}

fn fetch(global: &Global, upgrade: bool) -> Outcome {
    let mut open_s3 = s3_opener(global);
    let fetched = registry::fetch(&global.file, &mut open_s3, upgrade)?;
    for f in &fetched {
        println!(
            "{} {}: {} (sha256 {})",
            f.entry.name,
            f.entry.version,
            if f.downloaded {
                "downloaded"
            } else {
                "cached, verified"
            },
            f.entry.sha256
        );
    }
    let lock = project_dir(&global.file).join(registry::LOCK_FILE);
    match fetched.len() {
        0 => println!(
            "The stack uses no published modules; wrote an empty {}.",
            lock.display()
        ),
        n => println!(
            "Wrote {} ({n} module{}).",
            lock.display(),
            if n == 1 { "" } else { "s" }
        ),
    }
    Ok(EXIT_OK)
}

/// The directory of the stack file: `strata.toml`, `strata.lock` and `.strata/` are there.
fn project_dir(stack_file: &Path) -> PathBuf {
    match stack_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Opens S3 registries with clients built from the global options.
fn s3_opener(global: &Global) -> impl FnMut(&str, &str) -> Result<Box<dyn Store>, RegistryError> {
    let global = global.clone();
    move |bucket: &str, prefix: &str| {
        let client = s3_client(&global, None, None);
        Ok(Box::new(S3Registry {
            store: S3Store::new(client, bucket),
            prefix: prefix.to_string(),
        }) as Box<dyn Store>)
    }
}

/// An S3 client from `--region`/`--profile`/`--endpoint-url` (and the `AWS_*` environment),
/// the stack's region as a fallback, and `region` (a backend's own) over all of them. Against a
/// custom endpoint (the emulator) S3 needs path-style addressing.
pub(crate) fn s3_client(
    global: &Global,
    stack_region: Option<&str>,
    region: Option<&str>,
) -> aws_sdk_s3::Client {
    let options = AwsOptions {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    let stack_region = stack_region.map(str::to_string);
    let region = region.map(str::to_string);
    // The configuration loads asynchronously; load it on the state crate's I/O runtime, where
    // every call of the client then runs.
    state::s3::block_on(async move {
        let ctx = AwsContext::load(&options, stack_region.as_deref()).await;
        let mut config =
            aws_sdk_s3::config::Builder::from(&ctx.sdk).force_path_style(ctx.custom_endpoint);
        if let Some(region) = region {
            config = config.region(aws_sdk_s3::config::Region::new(region));
        }
        aws_sdk_s3::Client::from_conf(config.build())
    })
}

/// A registry in S3: keys under `prefix` in one bucket, with the conditional writes publishing
/// needs (`If-None-Match: *` to create, `If-Match` on the ETag to replace).
struct S3Registry {
    store: S3Store,
    prefix: String,
}

impl S3Registry {
    fn key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }
}

fn remote(e: state::s3::S3Error) -> RegistryError {
    RegistryError::new(ErrorKind::Remote, e.to_string())
        .help("check the bucket in strata.toml, your AWS credentials and region")
}

impl Store for S3Registry {
    fn url(&self, key: &str) -> String {
        self.store.url(&self.key(key))
    }

    fn get(&self, key: &str) -> Result<Option<Versioned>, RegistryError> {
        Ok(self
            .store
            .get(&self.key(key))
            .map_err(remote)?
            .map(|o| Versioned {
                bytes: o.bytes,
                tag: o.etag,
            }))
    }

    fn create(&self, key: &str, bytes: &[u8]) -> Result<bool, RegistryError> {
        let written = self
            .store
            .put(&self.key(key), bytes.to_vec(), Condition::IfAbsent)
            .map_err(remote)?;
        Ok(matches!(written, Written::Done { .. }))
    }

    fn replace(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&str>,
    ) -> Result<bool, RegistryError> {
        let condition = match expected {
            Some(tag) => Condition::IfMatch(tag),
            None => Condition::IfAbsent,
        };
        let written = self
            .store
            .put(&self.key(key), bytes.to_vec(), condition)
            .map_err(remote)?;
        Ok(matches!(written, Written::Done { .. }))
    }
}
