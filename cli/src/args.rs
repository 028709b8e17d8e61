//! The command line, as SPEC §6 defines it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

mod module;
mod run;
mod state;
mod tools;

pub use module::{ModuleArgs, ModuleCommand};
pub use run::{ApplyArgs, DestroyArgs, PlanArgs, PlanFormat};
pub use state::{DriftArgs, ImportArgs, OutputArgs, StateArgs, StateCommand};
pub use tools::{
    CompletionsArgs, GraphArgs, GraphFormat, IamFormat, IamPolicyArgs, InitArgs, LintArgs,
    LintFormat,
};

/// strata: infrastructure as code for AWS.
///
/// A stack file (YAML) declares resources; strata plans the changes against what exists and
/// applies them in parallel, recording every step.
///
/// Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error, 2 changes (plan and
/// drift with --detailed-exitcode), 130 interrupted.
#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("STRATA_COMMIT"), ")"),
    propagate_version = true
)]
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
    /// How long to wait for a lock another strata holds, such as `30s` or `5m` (default: fail
    /// at once, naming the holder).
    #[arg(long = "lock-timeout", global = true, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration)]
    pub lock_timeout: Duration,
    /// The most requests strata has open at AWS at once, across every resource (refresh and
    /// apply queue the rest): lower it for an account with tight API rate limits.
    #[arg(long = "max-requests", global = true, env = "STRATA_MAX_REQUESTS", value_name = "N", default_value_t = providers::in_flight::DEFAULT_MAX_REQUESTS as u16, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_requests: u16,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a working example stack to start from (refuses to overwrite one).
    ///
    /// Example: strata init orders && cd orders && strata validate
    #[command(verbatim_doc_comment)]
    Init(InitArgs),
    /// Parse, resolve and check the stack; makes no cloud call.
    ///
    /// Example: strata validate -f stack.yaml
    #[command(verbatim_doc_comment)]
    Validate,
    /// Show what apply would change; optionally save it for `strata apply FILE`.
    ///
    /// Examples:
    ///   strata plan --detailed-exitcode
    ///   strata plan --out plan.bin && strata apply plan.bin
    ///   strata plan --format json > plan.json
    ///   strata plan --format markdown --refresh=false > comment.md
    #[command(verbatim_doc_comment)]
    Plan(PlanArgs),
    /// Apply the changes (asks for `yes` on a terminal), or exactly a saved plan.
    ///
    /// A saved plan is applied without asking (saving it was the review), and refused when
    /// the state, the stack file or the params changed since it was made.
    ///
    /// Examples:
    ///   strata apply --auto-approve
    ///   strata apply plan.bin
    ///   strata apply plan.bin --json > apply-log.jsonl
    #[command(verbatim_doc_comment)]
    Apply(ApplyArgs),
    /// Destroy everything the stack created.
    ///
    /// Example: strata destroy --auto-approve
    #[command(verbatim_doc_comment)]
    Destroy(DestroyArgs),
    /// Show the stack's outputs after apply.
    ///
    /// Example: strata output queue_url
    #[command(verbatim_doc_comment)]
    Output(OutputArgs),
    /// Compare every resource in the state with AWS and list what changed outside strata.
    ///
    /// Reads only: no lock is taken and nothing is written. Properties strata applied are
    /// compared the way plan compares them; deleted resources are listed too.
    ///
    /// Example: strata drift --detailed-exitcode   # exit 2 when something drifted
    #[command(verbatim_doc_comment)]
    Drift(DriftArgs),
    /// Bring an existing AWS resource under strata: read it into the state at ADDR.
    ///
    /// ADDR must be declared in the stack (its type comes from there). The next plan shows
    /// how the resource differs from the stack.
    ///
    /// Examples:
    ///   strata import work https://sqs.us-east-1.amazonaws.com/123456789012/orders-work
    ///   strata import events arn:aws:sns:us-east-1:123456789012:orders-events
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
    /// Inspect and edit the recorded state.
    ///
    /// Examples:
    ///   strata state list
    ///   strata state mv old_name new_name
    ///   strata state pull > backup.json && strata state push backup.json
    #[command(verbatim_doc_comment)]
    State(StateArgs),
    /// Remove a stale lock left by a strata that was killed.
    ///
    /// Example: strata force-unlock 7c9e6679-7425-40de-944b-e07fc1f90ae7
    #[command(verbatim_doc_comment)]
    ForceUnlock {
        /// The lock id shown in the error that named the holder.
        lock_id: String,
    },
    /// Security checks over the stack (no cloud call): exit 1 when anything is found.
    ///
    /// Rules: SG001 internet to a port other than 80/443, IAM001 `*` on `*`, IAM002
    /// AdministratorAccess, IAM003 a role anyone may assume, POL001 a resource policy open to
    /// anyone, LMB001 a function anyone may invoke, SQS001 an unencrypted queue.
    ///
    /// Examples:
    ///   strata lint
    ///   strata lint --skip SQS001 --format json
    #[command(verbatim_doc_comment)]
    Lint(LintArgs),
    /// The IAM policy a CI deployer needs for the whole life of this stack: plan, apply,
    /// update of any property, import, drift and destroy, scoped to the ARNs the stack names.
    ///
    /// Examples:
    ///   strata iam-policy
    ///   strata iam-policy --format json > deployer-policy.json
    ///   strata plan --emit-iam --format json   # only what applying this plan needs
    #[command(verbatim_doc_comment)]
    IamPolicy(IamPolicyArgs),
    /// Print the stack's dependency graph (no cloud call).
    ///
    /// An arrow `a -> b` means b depends on a: a is created first.
    ///
    /// Examples:
    ///   strata graph | dot -Tsvg > graph.svg
    ///   strata graph --format mermaid
    #[command(verbatim_doc_comment)]
    Graph(GraphArgs),
    /// Print the JSON Schema of the stack file format, for editors.
    ///
    /// Example: strata schema > stack.schema.json
    /// then start stack.yaml with `# yaml-language-server: $schema=stack.schema.json`
    #[command(verbatim_doc_comment)]
    Schema,
    /// Print a shell completion script.
    ///
    /// Example: strata completions bash > ~/.local/share/bash-completion/completions/strata
    #[command(verbatim_doc_comment)]
    Completions(CompletionsArgs),
    /// Reusable modules: package, publish to a registry, fetch what the stack uses.
    ///
    /// Examples:
    ///   strata module publish modules/queue-with-dlq --registry acme
    ///   strata module fetch
    #[command(verbatim_doc_comment)]
    Module(ModuleArgs),
}
