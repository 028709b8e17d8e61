//! The `strata` binary: parse the command line, call the libraries, render, exit.
//!
//! Each command lives in a file of its own and reaches the engine through `context.rs`; no
//! command file imports another.

mod apply;
mod args;
mod context;
mod drift;
mod graph;
mod iam;
mod import;
mod init;
mod lint;
mod module_cmd;
mod output;
mod plan;
mod progress;
mod reads;
mod s3;
mod state_cmd;
mod ui;

use args::{Cli, Command};
use clap::Parser;

fn main() {
    // clap exits 2 on a usage error, which `--detailed-exitcode` means "changes": exit 1.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() {
                ui::EXIT_ERROR
            } else {
                ui::EXIT_OK
            });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            std::process::exit(ui::EXIT_ERROR);
        }
    };
    let code = runtime.block_on(run(cli));
    // Leave background tasks (a waiting Ctrl-C handler) behind rather than wait for them.
    runtime.shutdown_background();
    std::process::exit(code);
}

/// Runs the command and prints the failure that ended it, if any; returns the exit code.
async fn run(cli: Cli) -> i32 {
    let global = &cli.global;
    let result = match &cli.command {
        Command::Validate => validate(global),
        Command::Plan(args) => plan::plan(global, args).await,
        Command::Apply(args) => apply::apply(global, args).await,
        Command::Destroy(args) => apply::destroy(global, args).await,
        Command::Output(args) => output::output(global, args),
        Command::ForceUnlock { lock_id } => state_cmd::force_unlock(global, lock_id),
        Command::Drift(args) => drift::drift(global, args).await,
        Command::Import(args) => import::import(global, args).await,
        Command::State(args) => state_cmd::state(global, args).await,
        Command::Graph(args) => graph::graph(global, args).await,
        Command::Lint(args) => lint::lint(global, args),
        Command::IamPolicy(args) => iam::iam_policy(global, args).await,
        Command::Init(args) => init::init(global, args),
        Command::Schema => init::schema(),
        Command::Completions(args) => init::completions(args),
        Command::Module(args) => module_cmd::module(global, args),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            if !failure.message.is_empty() {
                let color = ui::use_color(global.no_color, ui::stderr_is_terminal());
                ui::error(color, &failure.message, failure.help.as_deref());
            }
            failure.code
        }
    }
}

/// `strata validate`: load and check everything, no cloud call.
fn validate(global: &args::Global) -> context::Outcome {
    let stack = context::load_stack(global)?;
    println!(
        "The stack `{}` is valid: {} resource{}, {} output{}.",
        stack.name,
        stack.resources.len(),
        context::plural(stack.resources.len()),
        stack.outputs.len(),
        context::plural(stack.outputs.len()),
    );
    Ok(ui::EXIT_OK)
}
