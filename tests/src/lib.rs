//! Helpers shared by strata's end-to-end tests.
//!
//! * [`Emulator`] starts a private moto server (the local AWS emulator) on a free loopback port and
//!   stops it when dropped. The server comes from `$STRATA_MOTO_SERVER`, else from the repository's
//!   `.venv` (made by `scripts/emulator.sh install`). A missing emulator fails the test: tests never
//!   skip.
//! * [`run_strata`] runs the built `strata` binary (building it once per test process with
//!   [`ensure_strata_built`]) and captures its exit code and output; [`spawn_strata`] starts it
//!   without waiting. [`assert_code`] checks a [`Run`]'s exit code and shows what it printed.
//! * [`Project`] is a project directory with its own emulator, for tests that drive the binary
//!   through several commands; [`copy_dir`] copies an example into one.
//! * [`kit`] holds what the tests share on the AWS side: the provider-test steps and asserts, and
//!   reads of what the emulator holds.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub mod kit;

/// How long [`Emulator::start`] waits for the server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
}

/// The moto server executable: `$STRATA_MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server`.
/// Never one found on `PATH`.
pub fn moto_server_path() -> PathBuf {
    match std::env::var_os("STRATA_MOTO_SERVER") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join(".venv/bin/moto_server"),
    }
}

/// A moto server of this test's own, on `127.0.0.1` and a free port. Dropping it stops the server.
pub struct Emulator {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    child: Child,
    port: u16,
    log: PathBuf,
    // Holds the log file's directory; removed when the emulator is dropped.
    _dir: tempfile::TempDir,
}

impl Emulator {
    /// Starts an emulator and waits (up to 30 s) until it answers `GET /moto-api/`.
    ///
    /// Panics, with the reason and the server log's tail, when it cannot be started: a test that
    /// needs the emulator fails without one rather than skipping.
    pub fn start() -> Emulator {
        let moto = moto_server_path();
        if !moto.is_file() {
            panic!(
                "the AWS emulator (moto server) is not installed: {} does not exist.\n\
                 Run `scripts/emulator.sh install` in the repository root (or set STRATA_MOTO_SERVER \
                 to a moto_server executable).",
                moto.display()
            );
        }
        // A port can be taken between choosing it and the server binding it; then moto exits
        // and we try another.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::try_start(&moto) {
                Ok(emulator) => return emulator,
                Err(e) => failures.push(e),
            }
        }
        panic!(
            "could not start the AWS emulator ({}):\n{}",
            moto.display(),
            failures.join("\n---\n")
        );
    }

    fn try_start(moto: &Path) -> Result<Emulator, String> {
        let dir = tempfile::Builder::new()
            .prefix("strata-moto-")
            .tempdir()
            .map_err(|e| format!("cannot create a temp dir: {e}"))?;
        let port = free_port();
        let log = dir.path().join(format!("moto-{port}.log"));
        let out =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot clone log handle: {e}"))?;
        let child = Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot spawn {}: {e}", moto.display()))?;
        let mut emulator = Emulator {
            url: format!("http://127.0.0.1:{port}"),
            child,
            port,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = emulator.child.try_wait().ok().flatten() {
                return Err(format!(
                    "moto_server on port {port} exited ({status}); log tail:\n{}",
                    emulator.log_tail(30)
                ));
            }
            if let Ok((200, _)) = emulator.http_get("/moto-api/") {
                // Make sure it was our server that answered, not one that took the port first.
                std::thread::sleep(Duration::from_millis(50));
                if emulator.child.try_wait().ok().flatten().is_none() {
                    return Ok(emulator);
                }
                continue;
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "moto_server did not answer on {}/moto-api/ within {}s; log tail:\n{}",
                    emulator.url,
                    START_TIMEOUT.as_secs(),
                    emulator.log_tail(30)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port the emulator listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path of the server's log file (valid while the emulator lives).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log.display()));
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// A plain HTTP/1.0 `GET` of `path` on the emulator: the status code and the body.
    pub fn http_get(&self, path: &str) -> io::Result<(u16, String)> {
        http_get(self.port, path)
    }

    /// The environment that points the AWS SDK (and so `strata`) at this emulator.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.url.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// An SDK config for this emulator (us-east-1, static `test`/`test` credentials).
    ///
    /// The workspace builds `aws-config` without default features, so it has no HTTP client of
    /// its own: pass one, e.g. `providers::aws::http_client()`.
    pub async fn sdk_config(
        &self,
        http_client: impl aws_sdk_sqs::config::HttpClient + 'static,
    ) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(http_client)
            .endpoint_url(&self.url)
            .region("us-east-1")
            .credentials_provider(aws_credential_types::Credentials::new(
                "test", "test", None, None, "static",
            ))
            .load()
            .await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- AWS emulator log ({}), last lines ---\n{}\n---",
                self.url,
                self.log_tail(40)
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port, never the same one twice in this process.
fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(Default::default);
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        drop(listener);
        if given.lock().unwrap_or_else(|e| e.into_inner()).insert(port) {
            return port;
        }
    }
}

fn http_get(port: u16, path: &str) -> io::Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not an HTTP response: {:?}", head.lines().next()),
            )
        })?;
    Ok((status, body.to_string()))
}

/// The target directory: `$CARGO_TARGET_DIR` (relative to the workspace root if relative), else
/// `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_root().join(dir),
        _ => workspace_root().join("target"),
    }
}

/// The path of the debug `strata` binary. Call [`ensure_strata_built`] first ([`run_strata`] does).
pub fn strata_bin() -> PathBuf {
    target_dir()
        .join("debug")
        .join(format!("strata{}", std::env::consts::EXE_SUFFIX))
}

/// Builds the `strata` binary (`cargo build -p strata --quiet`) once per test process.
///
/// `cargo test` of this package does not build other packages' binaries, so tests must build it.
/// Panics if the build fails.
pub fn ensure_strata_built() {
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
        kit::context(&self.emu)
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
