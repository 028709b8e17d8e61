//! [`Emulator`]: a private moto server on a free loopback port, stopped when dropped.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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

    /// Switches IAM enforcement on from the next request (moto's `POST /moto-api/reset-auth`,
    /// `INITIAL_NO_AUTH_ACTION_COUNT` = 0): from then on a call needs the keys of a user the
    /// emulator holds, and the user's policies must allow it. The default `test` keys stop
    /// working, so make the users first.
    pub fn enforce_iam(&self) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .expect("connect to the emulator");
        // moto reads the body as the bare number (a form content type would hide it).
        write!(
            stream,
            "POST /moto-api/reset-auth HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Type: text/plain\r\n\
             Content-Length: 1\r\nConnection: close\r\n\r\n0",
            self.port
        )
        .expect("write to the emulator");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .expect("read the emulator's answer");
        assert!(
            answer.contains("\"status\": \"ok\""),
            "moto did not switch IAM enforcement on: {answer}"
        );
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

    /// The providers' AWS context for this emulator, in `us-east-1`.
    pub fn aws_context(&self) -> providers::aws::AwsContext {
        providers::aws::AwsContext::for_endpoint(&self.url, "us-east-1")
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
