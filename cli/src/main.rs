//! The `strata` binary: parse the command line, call the libraries, render, exit.

mod args;
mod commands;
mod progress;
mod ui;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
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
    let code = runtime.block_on(commands::run(cli));
    // Leave background tasks (a waiting Ctrl-C handler) behind rather than wait for them.
    runtime.shutdown_background();
    std::process::exit(code);
}
