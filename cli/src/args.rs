//! The command line, as SPEC §6 defines it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// strata: infrastructure as code for AWS.
///
/// A stack file (YAML) declares resources; strata plans the changes against what exists and
/// applies them in parallel, recording every step.
///
/// Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error, 2 changes (plan and
/// drift with --detailed-exitcode), 130 interrupted.
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
    Module(crate::module_cmd::ModuleArgs),
}

/// How `plan` prints the plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// For a person at a terminal.
    #[default]
    Text,
    /// For tools: docs/plan-format.md (versioned, stable).
    Json,
    /// For a pull-request comment (at most 60,000 characters).
    Markdown,
}

/// How `graph` prints the graph.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz.
    #[default]
    Dot,
    /// Mermaid (renders in GitHub Markdown).
    Mermaid,
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
    /// Only this resource (or module instance) and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Also save the plan to FILE (mode 0600, secrets redacted) for `strata apply FILE`.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Print the plan as JSON (the same as --format json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl PlanArgs {
    /// The format asked for, `--json` included.
    pub fn format(&self) -> PlanFormat {
        if self.json {
            PlanFormat::Json
        } else {
            self.format
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `strata plan --out FILE`: apply exactly it.
    #[arg(value_name = "PLANFILE", conflicts_with_all = ["targets", "refresh"])]
    pub plan_file: Option<PathBuf>,
    /// Apply without asking (required when not on a terminal).
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// How many resources change at once.
    #[arg(long, default_value_t = planner::executor::DEFAULT_PARALLELISM)]
    pub parallelism: usize,
    /// Read each resource from AWS before diffing (default true).
    #[arg(long = "refresh", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub refresh: bool,
    /// Only this resource (or module instance) and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Print newline-delimited JSON events (the plan, each operation, the summary) instead of
    /// text, for CI logs and tools (needs --auto-approve or a plan file).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Destroy without asking (required when not on a terminal).
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// How many resources change at once.
    #[arg(long, default_value_t = planner::executor::DEFAULT_PARALLELISM)]
    pub parallelism: usize,
    /// Only this resource (or module instance) and what depends on it (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Print newline-delimited JSON events instead of text (needs --auto-approve).
    #[arg(long)]
    pub json: bool,
}

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

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Leave out a rule by id (repeatable), such as `--skip SQS001`.
    #[arg(long, value_name = "RULE")]
    pub skip: Vec<String>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
}

/// How `lint` prints its findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// One block per finding: file:line:column, rule, what and how to fix it.
    #[default]
    Text,
    /// `{"findings": [...]}`, for tools.
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The directory to create the stack in (created if missing); else where -f points.
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
