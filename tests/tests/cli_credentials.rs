//! Credentials from every source the AWS CLI reads, and cloud errors a person can act on,
//! through the built binary: a `credential_process` profile, an assume-role profile, web
//! identity (as GitHub Actions and GitLab issue it), a profile that does not exist, an SSO
//! profile with no cached token, and AWS refusing (connection refused, AccessDenied,
//! throttling): each error is one line naming what was done, with a `help:` line, never the
//! SDK's debug dump.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;

use strata_tests::kit::queue_names;
use strata_tests::{assert_code, run_strata, Emulator, Run};

const STACK: &str =
    "stack: creds\nregion: us-east-1\nresources:\n  jobs:\n    type: aws.sqs.queue\n";

/// A project directory holding the stack, an AWS config file `config` and an empty
/// credentials file unless the caller writes one.
fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    std::fs::write(dir.path().join("config"), config).unwrap();
    std::fs::write(dir.path().join("credentials"), "").unwrap();
    dir
}

/// The environment of a run with no access keys: only the config and credentials files in
/// `dir`, `HOME` there too (no cached SSO token), no instance metadata, AWS at `endpoint`.
fn env(dir: &Path, endpoint: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("HOME", dir.to_str().unwrap()),
        ("AWS_CONFIG_FILE", dir.join("config").to_str().unwrap()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("credentials").to_str().unwrap(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

fn assert_no_debug_dump(run: &Run) {
    for dump in ["DispatchFailure(", "ConnectorError {", "Some(", "SdkBody"] {
        assert!(
            !run.stderr.contains(dump),
            "the error shows the SDK's debug dump ({dump}):\n{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_process_profile_supplies_the_credentials() {
    let emu = Emulator::start();
    let dir = project("");
    let marker = dir.path().join("process-ran");
    let script = dir.path().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", \"SecretAccessKey\": \"secret\"}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config"),
        format!(
            "[profile ci]\ncredential_process = sh {}\nregion = us-east-1\n",
            script.display()
        ),
    )
    .unwrap();

    let run = run_strata(
        dir.path(),
        &["apply", "--auto-approve"],
        &env(dir.path(), &emu.url, &[("AWS_PROFILE", "ci")]),
    );
    assert_code(&run, 0);
    assert!(marker.exists(), "the credential process was not run");
    assert_eq!(
        queue_names(&strata_tests::kit::context(&emu)).await,
        ["creds-jobs"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assume_role_profile_and_web_identity_supply_the_credentials() {
    let emu = Emulator::start();
    let dir = project(
        "[profile deployer]\nrole_arn = arn:aws:iam::123456789012:role/deployer\nsource_profile = base\n",
    );
    std::fs::write(
        dir.path().join("credentials"),
        "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = secret\n",
    )
    .unwrap();
    let run = run_strata(
        dir.path(),
        &["--profile", "deployer", "apply", "--auto-approve"],
        &env(dir.path(), &emu.url, &[]),
    );
    assert_code(&run, 0);

    // Web identity, as a CI system issues it: a role and a token file, no profile.
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln").unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        STACK.replace("  jobs:", "  jobs:\n    type: aws.sqs.queue\n  more:"),
    )
    .unwrap();
    let run = run_strata(
        dir.path(),
        &["apply", "--auto-approve"],
        &env(
            dir.path(),
            &emu.url,
            &[
                ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci"),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
                ("AWS_ROLE_SESSION_NAME", "ci"),
            ],
        ),
    );
    assert_code(&run, 0);
    assert_eq!(
        queue_names(&strata_tests::kit::context(&emu)).await,
        ["creds-jobs", "creds-more"]
    );
}

#[test]
fn a_profile_that_does_not_exist_is_named_before_any_call() {
    let dir = project("[profile other]\nregion = us-east-1\n");
    let run = run_strata(
        dir.path(),
        &["--profile", "nope", "plan"],
        &env(dir.path(), "http://127.0.0.1:9", &[]),
    );
    assert_code(&run, 1);
    assert!(
        run.stderr
            .contains("error: the AWS profile `nope` is not defined"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("help: "), "{}", run.stderr);
    assert_no_debug_dump(&run);
}

#[test]
fn an_sso_profile_without_a_cached_token_says_to_log_in() {
    let dir = project(
        "[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n\
         sso_account_id = 123456789012\nsso_role_name = Deployer\nregion = us-east-1\n",
    );
    let run = run_strata(
        dir.path(),
        &["--profile", "sso", "apply", "--auto-approve"],
        &env(
            dir.path(),
            "http://127.0.0.1:9",
            &[("AWS_MAX_ATTEMPTS", "1")],
        ),
    );
    assert_code(&run, 1);
    assert!(
        run.stderr.contains("error: creating aws.sqs.queue `jobs`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("aws sso login"), "{}", run.stderr);
    assert_no_debug_dump(&run);
}

/// A stand-in for AWS on loopback that answers every request with `status` and the error
/// `body` (`content_type`: SQS's JSON or SNS's XML), for at most `max` requests; returns its
/// URL.
fn refusing_server(
    status: u16,
    code: &'static str,
    content_type: &'static str,
    body: &'static str,
    max: usize,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
            let Ok(mut stream) = stream else { continue };
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
            let mut request_body = vec![0; length];
            let _ = reader.read_exact(&mut request_body);
            let response = format!(
                "HTTP/1.1 {status} Bad Request\r\ncontent-type: {content_type}\r\n\
                 x-amzn-query-error: {code};Sender\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

fn keys() -> [(&'static str, &'static str); 3] {
    [
        ("AWS_ACCESS_KEY_ID", "AKIDTEST"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_MAX_ATTEMPTS", "2"),
    ]
}

#[test]
fn access_denied_and_throttling_name_the_resource_and_say_what_to_do() {
    let dir = project("");
    let denied = refusing_server(
        400,
        "AccessDenied",
        "application/x-amz-json-1.0",
        r#"{"__type":"com.amazonaws.sqs#AccessDenied","message":"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sqs:createqueue"}"#,
        20,
    );
    let run = run_strata(
        dir.path(),
        &["apply", "--auto-approve"],
        &env(dir.path(), &denied, &keys()),
    );
    assert_code(&run, 1);
    assert!(
        run.stderr.contains(
            "error: creating aws.sqs.queue `jobs` (creds-jobs): AccessDenied: User: \
             arn:aws:iam::123456789012:user/ci is not authorized to perform: sqs:createqueue"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("help: the credentials in use may not make this call"),
        "{}",
        run.stderr
    );
    assert_no_debug_dump(&run);

    // A topic: SNS's create has no retries of strata's own beyond the SDK's, which
    // AWS_MAX_ATTEMPTS bounds, so the test ends quickly.
    let dir = project("");
    std::fs::write(
        dir.path().join("stack.yaml"),
        "stack: creds\nregion: us-east-1\nresources:\n  events:\n    type: aws.sns.topic\n",
    )
    .unwrap();
    let throttled = refusing_server(
        400,
        "Throttling",
        "text/xml",
        "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
         <Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>",
        20,
    );
    let run = run_strata(
        dir.path(),
        &["apply", "--auto-approve"],
        &env(dir.path(), &throttled, &keys()),
    );
    assert_code(&run, 1);
    assert!(
        run.stderr.contains(
            "error: creating aws.sns.topic `events` (creds-events): Throttling: Rate exceeded"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("help: AWS kept throttling the request"),
        "{}",
        run.stderr
    );
    assert_no_debug_dump(&run);
}

#[test]
fn a_refused_connection_says_to_check_the_endpoint() {
    let dir = project("");
    let run = run_strata(
        dir.path(),
        &["apply", "--auto-approve"],
        &env(dir.path(), "http://127.0.0.1:9", &keys()),
    );
    assert_code(&run, 1);
    assert!(run.stderr.contains("Connection refused"), "{}", run.stderr);
    assert!(
        run.stderr.contains("help: AWS could not be reached"),
        "{}",
        run.stderr
    );
    assert_no_debug_dump(&run);
}
