//! The arguments of the commands that need no state: `lint`, `graph`, `init`, `completions`.

use std::path::PathBuf;

use clap::Args;

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
    /// The graph of a plan instead: only what changes, coloured by action (reads the state
    /// and AWS, as `plan` does).
    #[arg(long)]
    pub plan: bool,
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

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t = IamFormat::Text)]
    pub format: IamFormat,
}

/// How `iam-policy` and `plan --emit-iam` print the policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum IamFormat {
    /// One block per statement, grouped by resource.
    #[default]
    Text,
    /// The IAM policy document (a list of documents when over IAM's size limit).
    Json,
}
