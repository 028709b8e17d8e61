//! The arguments of `strata module`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
