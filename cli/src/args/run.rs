//! The arguments of the commands that plan and apply: `plan`, `apply`, `destroy`.

use std::path::PathBuf;

use clap::Args;

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
    /// Print the least-privilege IAM policy that applying this plan needs instead of the plan
    /// (`--format json`: the policy document, a list of documents when over IAM's size limit).
    #[arg(long = "emit-iam")]
    pub emit_iam: bool,
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
    #[arg(long, default_value_t = engine::DEFAULT_PARALLELISM)]
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
    #[arg(long, default_value_t = engine::DEFAULT_PARALLELISM)]
    pub parallelism: usize,
    /// Only this resource (or module instance) and what depends on it (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Print newline-delimited JSON events instead of text (needs --auto-approve).
    #[arg(long)]
    pub json: bool,
}
