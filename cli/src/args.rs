//! The command line, as SPEC §6 defines it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// strata: infrastructure as code for AWS.
///
/// A stack file (YAML) declares resources; strata plans the changes against what exists and
/// applies them in parallel, recording every step.
#[derive(Debug, Parser)]
#[command(name = "strata", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// The stack file.
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        default_value = "stack.yaml"
    )]
    pub file: PathBuf,
    /// AWS region (overrides the stack's `region:`).
    #[arg(long, global = true, env = "AWS_REGION")]
    pub region: Option<String>,
    /// AWS profile from your shared config.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Send AWS calls to this endpoint (a local emulator).
    #[arg(long = "endpoint-url", global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Never colour the output (NO_COLOR is honoured too).
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
    /// Set a param: NAME=VALUE (repeatable).
    #[arg(long = "var", global = true, value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read params from a YAML mapping (repeatable; later files win, --var wins over all).
    #[arg(long = "var-file", global = true, value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, resolve and check the stack; makes no cloud call.
    ///
    /// Example: strata validate -f stack.yaml
    Validate,
    /// Show what apply would change.
    ///
    /// Example: strata plan --detailed-exitcode
    Plan(PlanArgs),
    /// Apply the changes (asks for `yes` on a terminal).
    ///
    /// Example: strata apply --auto-approve
    Apply(ApplyArgs),
    /// Destroy everything the stack created.
    ///
    /// Example: strata destroy --auto-approve
    Destroy(DestroyArgs),
    /// Show the stack's outputs after apply.
    ///
    /// Example: strata output queue_url
    Output(OutputArgs),
    /// Remove a stale lock left by a strata that was killed.
    ///
    /// Example: strata force-unlock 7c9e6679-7425-40de-944b-e07fc1f90ae7
    ForceUnlock {
        /// The lock id shown in the error that named the holder.
        lock_id: String,
    },
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 2 when there are changes, 0 when there are none, 1 on error.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Read each resource from AWS before diffing (default true).
    #[arg(long = "refresh", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub refresh: bool,
    /// Plan the destruction of everything in the state.
    #[arg(long)]
    pub destroy: bool,
    /// Only this resource and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply without asking (required when not on a terminal).
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// How many resources change at once.
    #[arg(long, default_value_t = planner::executor::DEFAULT_PARALLELISM)]
    pub parallelism: usize,
    /// Read each resource from AWS before diffing (default true).
    #[arg(long = "refresh", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub refresh: bool,
    /// Only this resource and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Destroy without asking (required when not on a terminal).
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// How many resources change at once.
    #[arg(long, default_value_t = planner::executor::DEFAULT_PARALLELISM)]
    pub parallelism: usize,
    /// Only this resource and what depends on it (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// One output's name; all outputs when omitted.
    pub name: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
