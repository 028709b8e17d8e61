//! The `strata` binary: parse the command line, call the libraries, render, exit.

mod args;
mod commands;
mod drift;
mod graph;
mod import;
mod init;
mod lint;
mod module_cmd;
mod planfile;
mod progress;
mod state_cmd;
mod ui;

use clap::Parser;

fn main() {
    // clap exits 2 on a usage error, which `--detailed-exitcode` means "changes": exit 1.
    let cli = match args::Cli::try_parse() {
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
    let code = runtime.block_on(commands::run(cli));
    // Leave background tasks (a waiting Ctrl-C handler) behind rather than wait for them.
    runtime.shutdown_background();
    std::process::exit(code);
}
