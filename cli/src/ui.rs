//! Terminal facts and the one place errors are printed.

use std::io::IsTerminal;

/// Success (and, with `--detailed-exitcode`, no changes).
pub const EXIT_OK: i32 = 0;
/// An error.
pub const EXIT_ERROR: i32 = 1;
/// Success with changes (only with `--detailed-exitcode`).
pub const EXIT_CHANGES: i32 = 2;
/// Interrupted by Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Whether to colour: a terminal, no `--no-color`, no `NO_COLOR`.
pub fn use_color(no_color_flag: bool, stream_is_terminal: bool) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    stream_is_terminal && !no_color_flag && !no_color_env
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Prints `error: MESSAGE` and an optional `help:` line to stderr, coloured as every
/// diagnostic is ([`stacks::Diagnostic::render_brief`]).
/// Without a `help`, a cloud error gets the advice strata has for it
/// ([`planner::iam::access_denied_help`], [`providers::aws::help_for`]).
pub fn error(color: bool, message: &str, help: Option<&str>) {
    let mut diagnostic = stacks::Diagnostic::new(message);
    // Refused as not authorised: the action, and the statement of `strata iam-policy` that
    // grants it.
    let denied = planner::iam::access_denied_help(message);
    let help = help
        .or(denied.as_deref())
        .or_else(|| providers::aws::help_for(message));
    if let Some(help) = help {
        diagnostic = diagnostic.help(help);
    }
    eprintln!("{}", diagnostic.render_brief(color));
}

/// Asks a question on the terminal; true only for exactly `yes`.
pub fn confirm(question: &str) -> bool {
    use std::io::{BufRead, Write};
    print!("{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    line.trim() == "yes"
}
