//! The bound on requests in flight, through the built binary: an apply wider than the bound
//! never has more requests open at AWS at once than `providers::in_flight::DEFAULT_MAX_REQUESTS`,
//! however high `--parallelism` is. AWS is a loopback stand-in that takes 300 ms per request
//! and counts how many it holds at once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use providers::in_flight::DEFAULT_MAX_REQUESTS;
use strata_tests::{assert_code, run_strata};

/// How many queues the stack declares: more than the bound, so that the bound is what limits.
const QUEUES: usize = 3 * DEFAULT_MAX_REQUESTS;

/// A slow stand-in for SQS that refuses every request (AccessDenied, which nobody retries)
/// after 300 ms; returns its URL and the most requests it held at once.
fn slow_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let open = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let seen = most.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4 * QUEUES) {
            let Ok(mut stream) = stream else { continue };
            let (open, most) = (open.clone(), most.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(300));
                open.fetch_sub(1, Ordering::SeqCst);
                let answer = r#"{"__type":"com.amazonaws.sqs#AccessDenied","message":"denied"}"#;
                let response = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\n\
                     x-amzn-query-error: AccessDenied;Sender\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    (url, seen)
}

/// Applies the wide stack against the slow stand-in with `extra` arguments; returns the most
/// requests the stand-in held at once.
fn peak_in_flight(extra: &[&str]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let mut stack = String::from("stack: wide\nregion: us-east-1\nresources:\n");
    for i in 0..QUEUES {
        stack.push_str(&format!("  q{i}:\n    type: aws.sqs.queue\n"));
    }
    std::fs::write(dir.path().join("stack.yaml"), stack).unwrap();
    let (url, most) = slow_server();
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_MAX_ATTEMPTS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let parallelism = (2 * QUEUES).to_string();
    let mut args = vec!["apply", "--auto-approve", "--parallelism", &parallelism];
    args.extend(extra);
    let run = run_strata(dir.path(), &args, &env);
    assert_code(&run, 1);
    most.load(Ordering::SeqCst)
}

#[test]
fn a_wide_apply_never_has_more_requests_in_flight_than_the_bound() {
    let most = peak_in_flight(&[]);
    assert!(
        most <= DEFAULT_MAX_REQUESTS,
        "{most} requests were in flight at once, more than {DEFAULT_MAX_REQUESTS}"
    );
    assert!(most > 1, "the requests ran one at a time: {most}");
}

#[test]
fn max_requests_lowers_the_bound_for_an_account_with_tight_rate_limits() {
    let most = peak_in_flight(&["--max-requests", "8"]);
    assert!(
        (2..=8).contains(&most),
        "{most} requests were in flight at once with --max-requests 8"
    );
}
