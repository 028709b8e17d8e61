//! Running the built `strata` binary, and [`Project`]: a directory with its own emulator.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use crate::emulator::{workspace_root, Emulator};

/// The target directory: `$CARGO_TARGET_DIR` (relative to the workspace root if relative), else
/// `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_root().join(dir),
        _ => workspace_root().join("target"),
    }
}

/// Names a `strata` binary to run instead of the debug build (the benchmark's release build).
pub const STRATA_BIN_VAR: &str = "STRATA_BIN";

/// The path of the `strata` binary: `$STRATA_BIN` when set, else the debug build. Call
/// [`ensure_strata_built`] first ([`run_strata`] does).
pub fn strata_bin() -> PathBuf {
    match std::env::var_os(STRATA_BIN_VAR) {
        Some(bin) if !bin.is_empty() => PathBuf::from(bin),
        _ => target_dir()
            .join("debug")
            .join(format!("strata{}", std::env::consts::EXE_SUFFIX)),
    }
}

/// Builds the `strata` binary (`cargo build -p strata --quiet`) once per test process.
///
/// `cargo test` of this package does not build other packages' binaries, so tests must build it.
/// Panics if the build fails. Builds nothing when `$STRATA_BIN` names the binary.
pub fn ensure_strata_built() {
    if std::env::var_os(STRATA_BIN_VAR).is_some_and(|b| !b.is_empty()) {
        return;
    }
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let result = BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(&cargo)
            .args(["build", "-p", "strata", "--quiet"])
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`cargo build -p strata` failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The outcome of one `strata` run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The exit code; -1 when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `strata ARGS` in `dir` and waits for it.
///
/// stdin is null and `NO_COLOR=1`. Inherited `AWS_*` variables are removed so that the developer's
/// own AWS settings can never leak in; `env` is applied last (use [`Emulator::aws_env`]).
pub fn run_strata(dir: &Path, args: &[&str], env: &[(String, String)]) -> Run {
    let output = strata_command(dir, args, env)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", strata_bin().display()));
    Run::from(output)
}

/// Starts `strata ARGS` in `dir` as [`run_strata`] runs it, with stdout and stderr piped, and
/// does not wait: for tests that run two at once or interrupt one. [`wait`] collects the [`Run`].
pub fn spawn_strata(dir: &Path, args: &[&str], env: &[(String, String)]) -> Child {
    strata_command(dir, args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", strata_bin().display()))
}

/// Waits for a `strata` started with [`spawn_strata`] and collects what it printed.
pub fn wait(child: Child) -> Run {
    Run::from(child.wait_with_output().expect("strata runs"))
}

/// The command [`run_strata`] and [`spawn_strata`] run: the built binary in `dir`, stdin null,
/// `NO_COLOR=1`, inherited `AWS_*` variables removed and `env` applied last.
fn strata_command(dir: &Path, args: &[&str], env: &[(String, String)]) -> Command {
    ensure_strata_built();
    let mut cmd = Command::new(strata_bin());
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("NO_COLOR", "1");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

impl From<std::process::Output> for Run {
    fn from(output: std::process::Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Panics unless `text` holds every one of `needles`, showing the text.
pub fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
    }
}

/// Panics unless `run` exited with `code`, showing both streams.
pub fn assert_code(run: &Run, code: i32) {
    assert_eq!(run.code, code, "{}", exit_report(run, code));
}

/// [`assert_code`] for a run among many: the panic starts with `doing`, to say which one.
pub fn assert_code_while(run: &Run, code: i32, doing: &str) {
    assert_eq!(run.code, code, "{doing}: {}", exit_report(run, code));
}

fn exit_report(run: &Run, code: i32) -> String {
    format!(
        "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout, run.stderr
    )
}

/// AWS settings whose endpoint nothing listens on: a command that called AWS would fail to
/// connect, so a test that runs with them shows a command made no cloud call.
pub fn dead_endpoint() -> Vec<(String, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    vec![
        (
            "AWS_ENDPOINT_URL".into(),
            format!("http://127.0.0.1:{port}"),
        ),
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_REGION".into(), "us-east-1".into()),
    ]
}

/// A project directory (a temp dir holding `stack.yaml`) with an emulator of its own, for tests
/// that drive the binary through several commands. Dropping it removes both.
pub struct Project {
    dir: tempfile::TempDir,
    pub emu: Emulator,
}

impl Project {
    /// A new directory holding `stack` as `stack.yaml`, and a new emulator.
    pub fn new(stack: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.yaml"), stack).unwrap();
        Project {
            dir,
            emu: Emulator::start(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `strata ARGS` in the project against its emulator.
    pub fn strata(&self, args: &[&str]) -> Run {
        run_strata(self.path(), args, &self.emu.aws_env())
    }

    /// Replaces `stack.yaml` with `text`.
    pub fn write_stack(&self, text: &str) {
        std::fs::write(self.path().join("stack.yaml"), text).unwrap();
    }

    /// The providers' AWS context for the project's emulator.
    pub fn ctx(&self) -> providers::aws::AwsContext {
        self.emu.aws_context()
    }
}

/// Copies the directory tree `from` into `to` (made if missing), leaving out local state
/// (`.strata/`) so that the copy of an example starts as a fresh checkout does.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".strata" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}
