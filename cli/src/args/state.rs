//! The arguments of the commands that read or edit the state without planning: `output`,
//! `drift`, `import`, `state`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// One output's name; all outputs when omitted.
    pub name: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Exit 2 when something drifted, 0 when nothing did, 1 on error.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The address in the stack to import into, such as `work`.
    pub address: String,
    /// The resource's id in AWS, as its type knows it (queue URL, topic ARN, ...).
    pub id: String,
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub command: StateCommand,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses in the state.
    ///
    /// Example: strata state list
    #[command(verbatim_doc_comment)]
    List,
    /// Show one resource as recorded: type, id, properties, attributes, dependencies.
    ///
    /// Example: strata state show work
    #[command(verbatim_doc_comment)]
    Show {
        /// The address, as `state list` prints it.
        address: String,
    },
    /// Forget a resource: it stays in AWS, strata no longer manages it.
    ///
    /// Example: strata state rm work
    #[command(verbatim_doc_comment)]
    Rm {
        /// The address to forget.
        address: String,
    },
    /// Rename a resource in the state, after renaming it in the stack.
    ///
    /// Example: strata state mv work jobs
    #[command(verbatim_doc_comment)]
    Mv {
        /// The address it has now.
        from: String,
        /// The address it is declared under in the stack.
        to: String,
    },
    /// Print the state as JSON (it holds secret values as applied: keep it private).
    ///
    /// Example: strata state pull > state.json
    #[command(verbatim_doc_comment)]
    Pull,
    /// Replace the state with FILE (a state as `state pull` prints it).
    ///
    /// Refused when FILE has another lineage or a lower serial than the current state,
    /// unless --force.
    ///
    /// Example: strata state push state.json
    #[command(verbatim_doc_comment)]
    Push {
        /// The state file to push (not `file`: that is the global `-f` flag's id).
        #[arg(value_name = "FILE")]
        path: PathBuf,
        /// Push even a state of another lineage or an older serial.
        #[arg(long)]
        force: bool,
    },
}
