//! [`Proxy`]: a loopback HTTP proxy in front of an [`Emulator`] that injects faults and records
//! every request, for tests that prove what strata does when AWS is slow, throttles, refuses a
//! call, or strata is killed mid-run.
//!
//! Point strata at it with [`Proxy::aws_env`] instead of [`Emulator::aws_env`]. It forwards each
//! request to the emulator and the response back (bodies framed by `Content-Length` or chunked;
//! the SDK's keep-alive connections are kept alive), and on the way, as [`Faults`] say:
//!
//! * waits a fixed latency before forwarding;
//! * answers a share of requests with the throttling error of the protocol the service speaks
//!   (EC2: `RequestLimitExceeded`; query services: `Throttling`; JSON services:
//!   `ThrottlingException`; REST-JSON services: 429 `TooManyRequestsException`; S3: 503
//!   `SlowDown`), chosen by a seed so that a run is reproducible;
//! * refuses the first request of each named action once, with an access-denied error that
//!   neither the SDK nor strata retries, so the failure reaches strata;
//! * SIGKILLs a process when the Nth request arrives ([`Proxy::kill_at`]), before forwarding it.
//!
//! Every request is recorded as a [`Call`]: the service (from the SigV4 credential scope), the
//! action (`Action=` of a query request, the `X-Amz-Target` suffix of a JSON request, a name
//! for the common REST calls of Lambda, API Gateway and S3, else `METHOD path`), how many
//! requests were in flight when it arrived, and what became of it. [`Proxy::peak_in_flight`] is
//! the most the proxy held at once.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::Emulator;

/// How long the proxy waits for the emulator to connect, and for either side to send.
const IO_TIMEOUT: Duration = Duration::from_secs(120);

/// What the proxy does to the requests it forwards. `Faults::default()` forwards every
/// request unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Added to every request before it is forwarded or answered with a fault.
    pub latency: Duration,
    /// Per cent of requests (0–100) answered with the service's throttling error instead of
    /// being forwarded.
    pub throttle_percent: u32,
    /// Chooses which requests are throttled: request number `n` (counted from
    /// [`Proxy::set_faults`]) is throttled when a hash of `seed` and `n` falls in the share, so
    /// the same order of requests meets the same throttling.
    pub seed: u64,
    /// The first this many requests after [`Proxy::set_faults`] are throttled, whatever the
    /// share: a request throttled several times in a row.
    pub throttle_first: u64,
    /// Actions (`AttachInternetGateway`, `CreateRoute`) whose first request after
    /// [`Proxy::set_faults`] is refused with an access-denied error nobody retries.
    pub refuse_once: Vec<String>,
}

impl Faults {
    /// No fault, only `latency` added to every request.
    pub fn latency(latency: Duration) -> Faults {
        Faults {
            latency,
            ..Faults::default()
        }
    }

    /// `percent` per cent of requests throttled, chosen by `seed`.
    pub fn throttle(percent: u32, seed: u64) -> Faults {
        Faults {
            throttle_percent: percent,
            seed,
            ..Faults::default()
        }
    }

    /// The first request of each of `actions` refused once.
    pub fn refuse_once(actions: &[&str]) -> Faults {
        Faults {
            refuse_once: actions.iter().map(|a| a.to_string()).collect(),
            ..Faults::default()
        }
    }
}

/// What the proxy did with a request instead of forwarding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answered with the service's throttling error.
    Throttled,
    /// Answered with an access-denied error ([`Faults::refuse_once`]).
    Refused,
    /// Its arrival killed the process [`Proxy::kill_at`] named; it was never forwarded.
    Killed,
}

/// One request the proxy received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Its number, from 1, counted since the proxy started or was last [`Proxy::clear`]ed.
    pub seq: usize,
    /// The service of the SigV4 credential scope (`ec2`, `sqs`, `lambda`, `apigateway`); empty
    /// for an unsigned request.
    pub service: String,
    /// The API action (`CreateVpc`, `GetQueueAttributes`, `CreateFunction`, `PutObject`), or
    /// `METHOD path` for a REST call the proxy has no name for.
    pub action: String,
    pub method: String,
    /// The request path, without the query string (what a REST call names).
    pub path: String,
    /// The query string, undecoded.
    pub query: String,
    /// The resource a query or JSON call names (the first of [`NAMING_FIELDS`] it sends: a
    /// queue URL, an ARN, a role name, a VPC id; for a REST call, the first in its JSON body);
    /// empty when it names none.
    pub resource: String,
    /// Requests in flight through the proxy when this one arrived, itself included.
    pub in_flight: usize,
    /// What the proxy did instead of forwarding it, if anything.
    pub fault: Option<Fault>,
    /// The HTTP status strata received; `None` when it received no answer (killed, or the
    /// emulator did not answer).
    pub status: Option<u16>,
    /// When the proxy received it.
    pub received: Instant,
    /// How long the emulator took to answer it once forwarded (the added latency and any
    /// fault excluded); zero when it was not forwarded or not answered.
    pub upstream: Duration,
}

/// How many of `calls` each action was, keyed `service:Action` (`ec2:CreateVpc`): what a run
/// asked of AWS, to compare whole with what it should have asked.
pub fn by_action(calls: &[Call]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for call in calls {
        *counts
            .entry(format!("{}:{}", call.service, call.action))
            .or_default() += 1;
    }
    counts
}

/// A loopback proxy in front of an emulator, injecting [`Faults`] and recording every
/// request. Dropping it stops accepting connections.
pub struct Proxy {
    url: String,
    shared: Arc<Shared>,
    port: u16,
}

impl Proxy {
    /// Starts a proxy on a free loopback port in front of `emu`.
    pub fn start(emu: &Emulator, faults: Faults) -> Proxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Shared {
            upstream: SocketAddr::from((Ipv4Addr::LOCALHOST, emu.port())),
            state: Mutex::new(State::new(faults)),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accepting);
                std::thread::spawn(move || serve(&shared, stream));
            }
        });
        Proxy {
            url: format!("http://127.0.0.1:{port}"),
            shared,
            port,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The environment that points the AWS SDK (and so `strata`) at this proxy.
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

    /// Replaces the faults, from the next request on; the throttling sequence and the
    /// actions refused once start afresh.
    pub fn set_faults(&self, faults: Faults) {
        let mut state = self.shared.state();
        state.faults = faults;
        state.numbered = 0;
        state.refused.clear();
    }

    /// Every request received since the proxy started or was last [`clear`](Self::clear)ed, in
    /// the order they arrived.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.state().calls.clone()
    }

    /// The most requests in flight through the proxy at once (arrived, and not yet answered)
    /// since it started or was last cleared.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.peak.load(Ordering::SeqCst)
    }

    /// Forgets the recorded calls, the peak and a kill not yet made, and starts counting
    /// requests from 1 again (what [`kill_at`](Self::kill_at) counts). Call it before starting
    /// the run to observe.
    pub fn clear(&self) {
        let mut state = self.shared.state();
        state.calls.clear();
        state.kill = None;
        state.generation += 1;
        self.shared.peak.store(
            self.shared.in_flight.load(Ordering::SeqCst),
            Ordering::SeqCst,
        );
    }

    /// SIGKILLs `pid` when request number `n` (counted as [`Call::seq`]) arrives, before it is
    /// forwarded; that request is recorded as [`Fault::Killed`] and its connection dropped. If
    /// `n` requests have already arrived, the next one kills. One kill at a time: a second call
    /// replaces the first.
    pub fn kill_at(&self, n: usize, pid: u32) {
        self.shared.state().kill = Some(Kill { at: n, pid });
    }

    /// Whether a request recorded since the last [`clear`](Self::clear) killed a process.
    pub fn killed(&self) -> bool {
        self.shared
            .state()
            .calls
            .iter()
            .any(|c| c.fault == Some(Fault::Killed))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

/// What the connection threads share.
struct Shared {
    upstream: SocketAddr,
    state: Mutex<State>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    stopped: AtomicBool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct State {
    faults: Faults,
    /// Requests numbered since the faults were set: what throttling draws on.
    numbered: u64,
    /// Actions already refused once.
    refused: HashSet<String>,
    kill: Option<Kill>,
    calls: Vec<Call>,
    /// How many times the record was cleared: a request answered after a clear does not
    /// write its status into the new record.
    generation: u64,
}

impl State {
    fn new(faults: Faults) -> State {
        State {
            faults,
            numbered: 0,
            refused: HashSet::new(),
            kill: None,
            calls: Vec::new(),
            generation: 0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Kill {
    at: usize,
    pid: u32,
}

/// Serves one client connection: each request in turn, for as long as the client keeps it
/// open.
fn serve(shared: &Shared, client: TcpStream) {
    let _ = client.set_read_timeout(Some(IO_TIMEOUT));
    let Ok(read_half) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = client;
    while let Ok(Some(request)) = read_request(&mut reader, &mut writer) {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.peak.fetch_max(now, Ordering::SeqCst);
        // `handle` counts the request out once it is answered.
        let keep_alive = handle(shared, &request, now, &mut writer);
        if !keep_alive || request.wants_close() {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// What the proxy decided to do with one request.
enum Decision {
    Forward,
    Fault(Fault),
}

/// Records `request`, applies the faults and answers it. Returns whether the connection may
/// carry another request.
fn handle(shared: &Shared, request: &Request, in_flight: usize, client: &mut TcpStream) -> bool {
    let service = request.service();
    let action = request.action(&service);
    let (index, generation, decision, latency) = {
        let mut state = shared.state();
        let seq = state.calls.len() + 1;
        state.numbered += 1;
        let numbered = state.numbered;
        let kill = state.kill.filter(|k| seq >= k.at);
        let decision = if let Some(kill) = kill {
            state.kill = None;
            // Synchronously, so that the process is gone before anything else it sent is
            // answered.
            let _ = Command::new("kill")
                .args(["-KILL", &kill.pid.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            Decision::Fault(Fault::Killed)
        } else if service.is_empty() {
            Decision::Forward
        } else if state.faults.refuse_once.contains(&action) && state.refused.insert(action.clone())
        {
            Decision::Fault(Fault::Refused)
        } else if numbered <= state.faults.throttle_first
            || throttled(state.faults.seed, numbered, state.faults.throttle_percent)
        {
            Decision::Fault(Fault::Throttled)
        } else {
            Decision::Forward
        };
        state.calls.push(Call {
            seq,
            service: service.clone(),
            action: action.clone(),
            method: request.method.clone(),
            path: request.path().to_string(),
            query: request.query().to_string(),
            resource: request.resource(),
            in_flight,
            fault: match decision {
                Decision::Fault(fault) => Some(fault),
                Decision::Forward => None,
            },
            status: None,
            received: Instant::now(),
            upstream: Duration::ZERO,
        });
        (
            state.calls.len() - 1,
            state.generation,
            decision,
            state.faults.latency,
        )
    };
    std::thread::sleep(latency);
    let mut upstream = Duration::ZERO;
    let response = match decision {
        Decision::Fault(Fault::Killed) => None,
        Decision::Fault(fault) => Some(fault_response(fault, &service, request).to_bytes(false)),
        Decision::Forward => {
            let start = Instant::now();
            let response = forward(shared.upstream, request)
                .ok()
                .map(|response| response.to_bytes(request.method == "HEAD"));
            upstream = start.elapsed();
            response
        }
    };
    // Answered from here on: the client may send its next request as soon as it reads this
    // response, and the two must not be counted in flight together.
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let answered = response.and_then(|bytes| {
        client.write_all(&bytes).ok()?;
        status_of(&bytes)
    });
    let mut state = shared.state();
    if state.generation == generation {
        if let Some(call) = state.calls.get_mut(index) {
            call.status = answered;
            call.upstream = upstream;
        }
    }
    answered.is_some()
}

/// The status code of a response's bytes (`HTTP/1.1 200 OK`).
fn status_of(response: &[u8]) -> Option<u16> {
    let line = response.split(|b| *b == b'\r').next()?;
    std::str::from_utf8(line)
        .ok()?
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

/// Whether request number `n` falls in the throttled share: a SplitMix64 hash of the seed and
/// `n`, so the choice is spread evenly and reproducible.
fn throttled(seed: u64, n: u64, percent: u32) -> bool {
    if percent == 0 {
        return false;
    }
    let mut z = seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z % 100 < u64::from(percent)
}

/// A request as received: its head parsed, its body as sent and decoded.
struct Request {
    method: String,
    target: String,
    version: String,
    /// Header names as sent, in order.
    headers: Vec<(String, String)>,
    /// The body bytes as they came on the wire (chunked framing included).
    raw_body: Vec<u8>,
    /// The body without chunked framing.
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
            || self.version == "HTTP/1.0"
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The service of the SigV4 credential scope: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
    fn service(&self) -> String {
        let from_header = self.header("authorization").and_then(|auth| {
            let credential = auth.split("Credential=").nth(1)?;
            let scope: Vec<&str> = credential.split([',', ' ']).next()?.split('/').collect();
            scope.get(3).map(|s| s.to_string())
        });
        // A presigned URL carries the scope in the query instead.
        from_header
            .or_else(|| {
                form_value(self.query(), "X-Amz-Credential")
                    .and_then(|c| c.split('/').nth(3).map(str::to_string))
            })
            .unwrap_or_default()
    }

    /// The API action: `Action=` of a query request, the `X-Amz-Target` suffix of a JSON
    /// request, a name for the common REST calls, else `METHOD path`.
    fn action(&self, service: &str) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_string();
        }
        let form = String::from_utf8_lossy(&self.body);
        if let Some(action) =
            form_value(&form, "Action").or_else(|| form_value(self.query(), "Action"))
        {
            return action;
        }
        rest_action(service, &self.method, self.path(), self.query())
            .unwrap_or_else(|| format!("{} {}", self.method, self.path()))
    }

    /// The resource a query (form) or JSON call names: the first of [`NAMING_FIELDS`] it sends
    /// (in a REST call's JSON body too).
    fn resource(&self) -> String {
        let form = String::from_utf8_lossy(&self.body);
        if form_value(&form, "Action").is_none() {
            // A JSON call, or a REST call with a JSON body (Scheduler's `GroupName`).
            let json: serde_json::Value =
                serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null);
            return NAMING_FIELDS
                .iter()
                .find_map(|key| json.get(key).and_then(|v| v.as_str()))
                .unwrap_or_default()
                .to_string();
        }
        NAMING_FIELDS
            .iter()
            .find_map(|key| {
                form_value(&form, key).or_else(|| form_value(&form, &format!("{key}.1")))
            })
            .unwrap_or_default()
    }

    /// The request as sent to the emulator: the same, on a connection of its own that closes
    /// after the response.
    fn upstream_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target).into_bytes();
        for (name, value) in &self.headers {
            if is_hop_by_hop(name) || name.eq_ignore_ascii_case("expect") {
                continue;
            }
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"connection: close\r\n\r\n");
        out.extend_from_slice(&self.raw_body);
        out
    }
}

/// A response to send to the client.
struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// The response framed by `Content-Length` for a keep-alive connection. For a `HEAD`
    /// request the upstream headers (its `Content-Length` included) go as they came, with no
    /// body.
    fn to_bytes(&self, head_request: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason).into_bytes();
        for (name, value) in &self.headers {
            let framing = name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding");
            if is_hop_by_hop(name) || (framing && !head_request) {
                continue;
            }
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if !head_request && !no_body(self.status) {
            out.extend_from_slice(format!("content-length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if !head_request {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// Reads one request from the client; `None` when the client closed the connection between
/// requests. Answers `Expect: 100-continue` itself.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    client: &mut TcpStream,
) -> io::Result<Option<Request>> {
    let mut line = String::new();
    // Tolerate blank lines between requests.
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not an HTTP request line: {line:?}"),
        ));
    };
    let (method, target, version) = (method.to_string(), target.to_string(), version.to_string());
    let headers = read_headers(reader)?;
    if header(&headers, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let (raw_body, body) = read_body(reader, &headers, false)?;
    Ok(Some(Request {
        method,
        target,
        version,
        headers,
        raw_body,
        body,
    }))
}

fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(headers);
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
}

/// Reads a body framed as `headers` say: chunked, `Content-Length`, or (for a response, when
/// `to_eof`) everything until the connection closes. Returns the bytes as sent and
/// the body decoded.
fn read_body(
    reader: &mut impl BufRead,
    headers: &[(String, String)],
    to_eof: bool,
) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let chunked = header(headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut raw = Vec::new();
        let mut body = Vec::new();
        loop {
            let mut size_line = String::new();
            if reader.read_line(&mut size_line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            raw.extend_from_slice(size_line.as_bytes());
            let size_text = size_line.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, then the blank line.
                loop {
                    let mut trailer = String::new();
                    if reader.read_line(&mut trailer)? == 0 {
                        break;
                    }
                    raw.extend_from_slice(trailer.as_bytes());
                    if trailer.trim().is_empty() {
                        break;
                    }
                }
                return Ok((raw, body));
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            raw.extend_from_slice(&chunk);
            body.extend_from_slice(&chunk[..size]);
        }
    }
    if let Some(length) = header(headers, "content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        return Ok((body.clone(), body));
    }
    let mut body = Vec::new();
    if to_eof {
        reader.read_to_end(&mut body)?;
    }
    Ok((body.clone(), body))
}

/// Sends `request` to the emulator on a connection of its own and reads the whole response.
fn forward(upstream: SocketAddr, request: &Request) -> io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&upstream, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.write_all(&request.upstream_bytes())?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let mut parts = line.trim_end().splitn(3, ' ');
        let _version = parts.next();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad status line"))?;
        let reason = parts.next().unwrap_or_default().to_string();
        let headers = read_headers(&mut reader)?;
        if (100..200).contains(&status) {
            continue; // an interim response: the real one follows
        }
        let body = if request.method == "HEAD" || no_body(status) {
            Vec::new()
        } else {
            read_body(&mut reader, &headers, true)?.1
        };
        return Ok(Response {
            status,
            reason,
            headers,
            body,
        });
    }
}

/// The wire protocols whose errors the proxy imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// EC2's query protocol: `<Response><Errors><Error>`.
    Ec2,
    /// The query protocol of IAM, SNS, STS, CloudWatch: `<ErrorResponse><Error>`.
    Query,
    /// JSON with `X-Amz-Target` (SQS, DynamoDB, EventBridge, CloudWatch Logs): `__type`.
    Json,
    /// REST-JSON (Lambda, API Gateway): the code in `x-amzn-ErrorType`.
    RestJson,
    /// S3's REST-XML: `<Error><Code>`.
    RestXml,
}

fn protocol(service: &str, request: &Request) -> Protocol {
    if request.header("x-amz-target").is_some() {
        Protocol::Json
    } else if service == "ec2" {
        Protocol::Ec2
    } else if service == "s3" {
        Protocol::RestXml
    } else if form_value(&String::from_utf8_lossy(&request.body), "Action").is_some()
        || form_value(request.query(), "Action").is_some()
    {
        Protocol::Query
    } else {
        Protocol::RestJson
    }
}

/// The error AWS would send for `fault`, in the protocol `service` speaks: throttling as each
/// service reports it (EC2's 503 `RequestLimitExceeded`, 400 `Throttling` or
/// `ThrottlingException`, 429 `TooManyRequestsException`, S3's 503 `SlowDown`), and for a
/// refusal the access-denied error of each (`UnauthorizedOperation`, `AccessDenied`,
/// `AccessDeniedException`), which no retry policy retries.
fn fault_response(fault: Fault, service: &str, request: &Request) -> Response {
    let throttle = fault == Fault::Throttled;
    let message = if throttle {
        "Rate exceeded"
    } else {
        "injected by the test proxy: not authorized to perform this operation"
    };
    let request_id = "00000000-0000-0000-0000-000000000000";
    let xml = ("content-type".to_string(), "text/xml".to_string());
    match protocol(service, request) {
        Protocol::Ec2 => {
            let (status, code) = if throttle {
                (503, "RequestLimitExceeded")
            } else {
                (403, "UnauthorizedOperation")
            };
            Response {
                status,
                reason: reason(status),
                headers: vec![xml],
                body: format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
                     <Code>{code}</Code><Message>{message}</Message></Error></Errors>\
                     <RequestID>{request_id}</RequestID></Response>"
                )
                .into_bytes(),
            }
        }
        Protocol::Query => {
            let (status, code) = if throttle {
                (400, "Throttling")
            } else {
                (403, "AccessDenied")
            };
            Response {
                status,
                reason: reason(status),
                headers: vec![xml],
                body: format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                     <Message>{message}</Message></Error><RequestId>{request_id}</RequestId>\
                     </ErrorResponse>"
                )
                .into_bytes(),
            }
        }
        Protocol::Json => {
            let (code, query_code) = if throttle {
                ("ThrottlingException", "ThrottlingException")
            } else {
                ("AccessDeniedException", "AccessDenied")
            };
            let content_type = request
                .header("content-type")
                .unwrap_or("application/x-amz-json-1.1")
                .to_string();
            Response {
                status: 400,
                reason: reason(400),
                headers: vec![
                    ("content-type".to_string(), content_type),
                    // SQS's JSON protocol names the query-compatible code here.
                    (
                        "x-amzn-query-error".to_string(),
                        format!("{query_code};Sender"),
                    ),
                ],
                body: format!(r#"{{"__type":"{code}","message":"{message}"}}"#).into_bytes(),
            }
        }
        Protocol::RestJson => {
            let (status, code) = if throttle {
                (429, "TooManyRequestsException")
            } else {
                (403, "AccessDeniedException")
            };
            Response {
                status,
                reason: reason(status),
                headers: vec![
                    ("content-type".to_string(), "application/json".to_string()),
                    ("x-amzn-ErrorType".to_string(), code.to_string()),
                    ("x-amzn-RequestId".to_string(), request_id.to_string()),
                ],
                body: format!(r#"{{"message":"{message}"}}"#).into_bytes(),
            }
        }
        Protocol::RestXml => {
            let (status, code) = if throttle {
                (503, "SlowDown")
            } else {
                (403, "AccessDenied")
            };
            Response {
                status,
                reason: reason(status),
                headers: vec![xml],
                body: format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                     <Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
                )
                .into_bytes(),
            }
        }
    }
}

fn reason(status: u16) -> String {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "",
    }
    .to_string()
}

/// The request fields that name the resource a query or JSON call acts on, most specific
/// first (a form's list takes its first item: `VpcEndpointId.1`).
pub const NAMING_FIELDS: &[&str] = &[
    "QueueUrl",
    "TopicArn",
    "SubscriptionArn",
    "ResourceArn",
    "resourceArn",
    "ResourceARN",
    "stateMachineArn",
    "TableName",
    "InstanceProfileName",
    "RoleName",
    "UserName",
    "GroupName",
    "PolicyArn",
    "AlarmName",
    "AlarmNames.member",
    "VpcEndpointId",
    "FlowLogId",
    "NatGatewayId",
    "InternetGatewayId",
    "RouteTableId",
    "NetworkAclId",
    "GroupId",
    "SubnetId",
    "AllocationId",
    "VpcId",
    "ResourceId",
    "logGroupName",
    "logGroupIdentifier",
    "StreamARN",
    "StreamName",
    "DeliveryStreamName",
    "SecretId",
    "TargetKeyId",
    "AliasName",
    "KeyId",
    "Rule",
    "QueueName",
    "Name",
    "name",
    "EventBusName",
];

/// The action of a REST call of Lambda, API Gateway v2 or S3 (path-style), for the calls strata
/// makes; `None` for one the proxy has no name for.
fn rest_action(service: &str, method: &str, path: &str, query: &str) -> Option<String> {
    let path = path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).filter(|s| !s.is_empty()).collect();
    match service {
        "lambda" => LAMBDA
            .iter()
            .find(|(m, pattern, _)| *m == method && matches(pattern, &segments))
            .map(|(_, _, action)| action.to_string()),
        "apigateway" => apigateway_action(method, &segments),
        "s3" => s3_action(method, &segments, query),
        _ => None,
    }
}

/// Lambda's REST calls: method, path pattern (`*` is one segment), action.
const LAMBDA: &[(&str, &str, &str)] = &[
    ("POST", "2015-03-31/functions", "CreateFunction"),
    ("GET", "2015-03-31/functions", "ListFunctions"),
    ("GET", "2015-03-31/functions/*", "GetFunction"),
    ("DELETE", "2015-03-31/functions/*", "DeleteFunction"),
    (
        "GET",
        "2015-03-31/functions/*/configuration",
        "GetFunctionConfiguration",
    ),
    (
        "PUT",
        "2015-03-31/functions/*/configuration",
        "UpdateFunctionConfiguration",
    ),
    ("PUT", "2015-03-31/functions/*/code", "UpdateFunctionCode"),
    ("GET", "2015-03-31/functions/*/policy", "GetPolicy"),
    ("POST", "2015-03-31/functions/*/policy", "AddPermission"),
    (
        "DELETE",
        "2015-03-31/functions/*/policy/*",
        "RemovePermission",
    ),
    ("POST", "2015-03-31/functions/*/versions", "PublishVersion"),
    (
        "GET",
        "2015-03-31/functions/*/versions",
        "ListVersionsByFunction",
    ),
    ("POST", "2015-03-31/functions/*/aliases", "CreateAlias"),
    ("GET", "2015-03-31/functions/*/aliases", "ListAliases"),
    ("GET", "2015-03-31/functions/*/aliases/*", "GetAlias"),
    ("PUT", "2015-03-31/functions/*/aliases/*", "UpdateAlias"),
    ("DELETE", "2015-03-31/functions/*/aliases/*", "DeleteAlias"),
    (
        "PUT",
        "2017-10-31/functions/*/concurrency",
        "PutFunctionConcurrency",
    ),
    (
        "GET",
        "2019-09-30/functions/*/concurrency",
        "GetFunctionConcurrency",
    ),
    (
        "DELETE",
        "2017-10-31/functions/*/concurrency",
        "DeleteFunctionConcurrency",
    ),
    (
        "POST",
        "2021-10-31/functions/*/url",
        "CreateFunctionUrlConfig",
    ),
    ("GET", "2021-10-31/functions/*/url", "GetFunctionUrlConfig"),
    (
        "PUT",
        "2021-10-31/functions/*/url",
        "UpdateFunctionUrlConfig",
    ),
    (
        "DELETE",
        "2021-10-31/functions/*/url",
        "DeleteFunctionUrlConfig",
    ),
    (
        "POST",
        "2015-03-31/event-source-mappings",
        "CreateEventSourceMapping",
    ),
    (
        "GET",
        "2015-03-31/event-source-mappings",
        "ListEventSourceMappings",
    ),
    (
        "GET",
        "2015-03-31/event-source-mappings/*",
        "GetEventSourceMapping",
    ),
    (
        "PUT",
        "2015-03-31/event-source-mappings/*",
        "UpdateEventSourceMapping",
    ),
    (
        "DELETE",
        "2015-03-31/event-source-mappings/*",
        "DeleteEventSourceMapping",
    ),
    ("GET", "2017-03-31/tags/*", "ListTags"),
    ("POST", "2017-03-31/tags/*", "TagResource"),
    ("DELETE", "2017-03-31/tags/*", "UntagResource"),
    (
        "POST",
        "2018-10-31/layers/*/versions",
        "PublishLayerVersion",
    ),
    ("GET", "2018-10-31/layers/*/versions", "ListLayerVersions"),
    ("GET", "2018-10-31/layers/*/versions/*", "GetLayerVersion"),
    (
        "DELETE",
        "2018-10-31/layers/*/versions/*",
        "DeleteLayerVersion",
    ),
];

/// Whether `segments` match `pattern`, whose `*` segments match any one segment.
fn matches(pattern: &str, segments: &[&str]) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    pattern.len() == segments.len()
        && pattern
            .iter()
            .zip(segments)
            .all(|(p, s)| *p == "*" || p == s)
}

/// API Gateway v2: `/v2/apis[/ID[/KIND[/ID]]]` and `/v2/tags/ARN`.
fn apigateway_action(method: &str, segments: &[&str]) -> Option<String> {
    let verb = || match method {
        "POST" => Some("Create"),
        "GET" => Some("Get"),
        "PATCH" => Some("Update"),
        "DELETE" => Some("Delete"),
        _ => None,
    };
    match segments {
        ["v2", "tags", _] => match method {
            "GET" => Some("GetTags".into()),
            "POST" => Some("TagResource".into()),
            "DELETE" => Some("UntagResource".into()),
            _ => None,
        },
        ["v2", "apis"] => match method {
            "GET" => Some("GetApis".into()),
            "POST" => Some("CreateApi".into()),
            _ => None,
        },
        ["v2", "apis", _] => Some(format!("{}Api", verb()?)),
        ["v2", "apis", _, kind] => {
            let one = singular(kind)?;
            match method {
                "GET" => Some(format!("Get{one}s")),
                "POST" => Some(format!("Create{one}")),
                _ => None,
            }
        }
        ["v2", "apis", _, kind, _] => Some(format!("{}{}", verb()?, singular(kind)?)),
        _ => None,
    }
}

/// `integrations` → `Integration`, for API Gateway's kinds of sub-resource.
fn singular(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "integrations" => "Integration",
        "routes" => "Route",
        "stages" => "Stage",
        "authorizers" => "Authorizer",
        "deployments" => "Deployment",
        "models" => "Model",
        _ => return None,
    })
}

/// S3, path-style (as strata calls it with an endpoint URL): `/BUCKET` with a sub-resource in
/// the query, or `/BUCKET/KEY`.
fn s3_action(method: &str, segments: &[&str], query: &str) -> Option<String> {
    let keys: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('=').next().unwrap_or_default())
        .collect();
    let verb = match method {
        "GET" => "Get",
        "PUT" => "Put",
        "DELETE" => "Delete",
        _ => "",
    };
    match segments.len() {
        0 => (method == "GET").then(|| "ListBuckets".to_string()),
        1 => {
            let sub = keys.iter().find_map(|k| s3_bucket_sub(k));
            Some(match (method, sub) {
                (_, Some(("", action))) => action.into(),
                (_, Some((name, _))) if !verb.is_empty() => format!("{verb}{name}"),
                ("PUT", None) => "CreateBucket".into(),
                ("HEAD", None) => "HeadBucket".into(),
                ("DELETE", None) => "DeleteBucket".into(),
                ("GET", None) if keys.contains(&"list-type") => "ListObjectsV2".into(),
                ("GET", None) => "ListObjects".into(),
                _ => return None,
            })
        }
        _ => {
            let tagging = keys.contains(&"tagging");
            Some(match method {
                "PUT" if tagging => "PutObjectTagging".into(),
                "GET" if tagging => "GetObjectTagging".into(),
                "DELETE" if tagging => "DeleteObjectTagging".into(),
                "PUT" => "PutObject".into(),
                "GET" => "GetObject".into(),
                "HEAD" => "HeadObject".into(),
                "DELETE" => "DeleteObject".into(),
                _ => return None,
            })
        }
    }
}

/// A bucket sub-resource of the query: the name that follows Get/Put/Delete in its actions,
/// and the action when it has one of its own.
fn s3_bucket_sub(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "policy" => ("BucketPolicy", ""),
        "tagging" => ("BucketTagging", ""),
        "versioning" => ("BucketVersioning", ""),
        "notification" => ("BucketNotificationConfiguration", ""),
        "lifecycle" => ("BucketLifecycleConfiguration", ""),
        "encryption" => ("BucketEncryption", ""),
        "publicAccessBlock" => ("PublicAccessBlock", ""),
        "ownershipControls" => ("BucketOwnershipControls", ""),
        "cors" => ("BucketCors", ""),
        "acl" => ("BucketAcl", ""),
        "website" => ("BucketWebsite", ""),
        "logging" => ("BucketLogging", ""),
        "object-lock" => ("ObjectLockConfiguration", ""),
        "replication" => ("BucketReplication", ""),
        "accelerate" => ("BucketAccelerateConfiguration", ""),
        "versions" => ("", "ListObjectVersions"),
        "location" => ("", "GetBucketLocation"),
        "delete" => ("", "DeleteObjects"),
        _ => return None,
    })
}

/// The value of `name` in a URL-encoded form or query string, decoded.
fn form_value(form: &str, name: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

/// `text` with its `%XX` escapes (and `+`) decoded.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Headers about one connection, which the proxy sets itself on each side.
fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "proxy-connection",
        "upgrade",
        "te",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Statuses whose responses never carry a body.
fn no_body(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_calls_are_named_as_the_api_names_them() {
        let name = |service, method, path, query| rest_action(service, method, path, query);
        assert_eq!(
            name("lambda", "POST", "/2015-03-31/functions", ""),
            Some("CreateFunction".into())
        );
        assert_eq!(
            name("lambda", "GET", "/2015-03-31/functions/f/configuration", ""),
            Some("GetFunctionConfiguration".into())
        );
        assert_eq!(
            name("lambda", "POST", "/2015-03-31/event-source-mappings/", ""),
            Some("CreateEventSourceMapping".into())
        );
        assert_eq!(
            name("apigateway", "POST", "/v2/apis/a1/routes", ""),
            Some("CreateRoute".into())
        );
        assert_eq!(
            name("apigateway", "PATCH", "/v2/apis/a1/stages/%24default", ""),
            Some("UpdateStage".into())
        );
        assert_eq!(
            name("apigateway", "GET", "/v2/apis/a1/integrations", ""),
            Some("GetIntegrations".into())
        );
        assert_eq!(
            name("s3", "PUT", "/bucket", ""),
            Some("CreateBucket".into())
        );
        assert_eq!(
            name("s3", "GET", "/bucket", "policy"),
            Some("GetBucketPolicy".into())
        );
        assert_eq!(
            name("s3", "PUT", "/bucket", "publicAccessBlock"),
            Some("PutPublicAccessBlock".into())
        );
        assert_eq!(
            name("s3", "GET", "/bucket", "list-type=2&prefix=a"),
            Some("ListObjectsV2".into())
        );
        assert_eq!(
            name("s3", "PUT", "/bucket/a/b.txt", ""),
            Some("PutObject".into())
        );
        assert_eq!(name("lambda", "GET", "/2099-01-01/nothing", ""), None);
    }

    #[test]
    fn throttling_takes_about_the_share_asked_for_and_repeats_with_the_seed() {
        let hits = (1..=10_000).filter(|n| throttled(7, *n, 20)).count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
        let again = (1..=10_000).filter(|n| throttled(7, *n, 20)).count();
        assert_eq!(hits, again);
        assert_eq!((1..=1_000).filter(|n| throttled(7, *n, 0)).count(), 0);
        assert_eq!((1..=1_000).filter(|n| throttled(7, *n, 100)).count(), 1_000);
    }

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(
            form_value("Action=CreateVpc&Version=2016-11-15", "Action"),
            Some("CreateVpc".into())
        );
        assert_eq!(
            form_value(
                "X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fs3%2Faws4_request",
                "X-Amz-Credential"
            ),
            Some("test/20260101/us-east-1/s3/aws4_request".into())
        );
    }
}
