//! AWS throttling a fifth of the requests, through the fault-injection proxy (each service's
//! own throttling error): both examples converge in one apply, plan clean and destroy cleanly.
//! And a no-op plan of a large stack never has more requests in flight than the bound.

use providers::in_flight::DEFAULT_MAX_REQUESTS;
use strata_tests::census::{Census, Example};
use strata_tests::proxy::{Fault, Faults, Proxy};
use strata_tests::{assert_code_while, ensure_strata_built, kit, run_strata, Emulator};

/// The share of requests throttled.
const THROTTLE_PERCENT: u32 = 20;

#[tokio::test(flavor = "multi_thread")]
async fn the_network_example_converges_in_one_apply_under_20_per_cent_throttling() {
    converges_under_throttling(Example::Network, 10).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_serverless_example_converges_in_one_apply_under_20_per_cent_throttling() {
    converges_under_throttling(Example::Serverless, 20).await;
}

async fn converges_under_throttling(example: Example, seed: u64) {
    let emu = Emulator::start();
    let ctx = kit::context(&emu);
    let before = example.census(&ctx).await;
    let proxy = Proxy::start(&emu, Faults::throttle(THROTTLE_PERCENT, seed));
    let env = proxy.aws_env();
    let dir = example.checkout();

    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &env);
    assert_code_while(&run, 0, "the apply under throttling");
    let calls = proxy.calls();
    let throttled = calls
        .iter()
        .filter(|c| c.fault == Some(Fault::Throttled))
        .count();
    eprintln!(
        "{example:?}: {throttled} of {} requests of the apply throttled",
        calls.len()
    );
    assert!(throttled >= calls.len() / 10, "{throttled} throttled");
    assert_eq!(example.census(&ctx).await.since(&before), example.made());

    let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code_while(&plan, 0, "the plan under throttling");
    let destroy = run_strata(dir.path(), &["destroy", "--auto-approve"], &env);
    assert_code_while(&destroy, 0, "the destroy under throttling");
    assert_eq!(example.census(&ctx).await.since(&before), Census::default());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_throttled_three_times_in_a_row_is_retried_until_it_passes() {
    let emu = Emulator::start();
    // The SDK's default policy makes 3 attempts: all three are throttled. (A topic, whose
    // create strata does not wrap in retries of its own.)
    let proxy = Proxy::start(
        &emu,
        Faults {
            throttle_first: 3,
            ..Faults::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        "stack: patient\nregion: us-east-1\nresources:\n  news:\n    type: aws.sns.topic\n",
    )
    .unwrap();

    // With the SDK's default of 3 attempts, chosen in the environment, the apply fails.
    let mut env = proxy.aws_env();
    env.push(("AWS_MAX_ATTEMPTS".into(), "3".into()));
    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &env);
    assert_code_while(&run, 1, "an apply allowed 3 attempts");
    assert!(
        run.stderr.contains("Throttling: Rate exceeded"),
        "{}",
        run.stderr
    );

    // strata's own policy outlasts them.
    proxy.set_faults(Faults {
        throttle_first: 3,
        ..Faults::default()
    });
    proxy.clear();
    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &proxy.aws_env());
    assert_code_while(
        &run,
        0,
        "an apply whose first call is throttled three times",
    );
    let calls = proxy.calls();
    let creates: Vec<_> = calls.iter().filter(|c| c.action == "CreateTopic").collect();
    assert_eq!(creates.len(), 4, "{calls:?}");
    assert!(creates[..3]
        .iter()
        .all(|c| c.fault == Some(Fault::Throttled)));
    assert_eq!(creates[3].status, Some(200));
}

#[test]
fn a_refused_connection_fails_at_once_however_patient_the_retry_policy() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        "stack: nowhere\nregion: us-east-1\nresources:\n  news:\n    type: aws.sns.topic\n",
    )
    .unwrap();
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    ensure_strata_built();
    let started = std::time::Instant::now();
    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &env);
    assert_code_while(&run, 1, "an apply against a closed port");
    assert!(run.stderr.contains("Connection refused"), "{}", run.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "a refused connection was retried for {:?}",
        started.elapsed()
    );
}

/// How many queues the large stack declares.
const QUEUES: usize = 1000;

/// How many of them the plan under throttling refreshes (`--target`), to keep it short: at a
/// few requests in flight, 30 % throttled, with backoff between attempts.
const THROTTLED_QUEUES: usize = 200;

/// Latency added to each request of the plan, so that requests overlap as over a real network.
const PLAN_LATENCY: std::time::Duration = std::time::Duration::from_millis(50);

#[tokio::test(flavor = "multi_thread")]
async fn a_no_op_plan_of_200_queues_never_has_more_requests_in_flight_than_the_bound_and_fewer_once_throttled(
) {
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, Faults::default());
    let env = proxy.aws_env();
    let dir = tempfile::tempdir().unwrap();
    let mut stack = String::from("stack: wide\nregion: us-east-1\nresources:\n");
    for i in 0..QUEUES {
        stack.push_str(&format!("  q{i:03}:\n    type: aws.sqs.queue\n"));
    }
    std::fs::write(dir.path().join("stack.yaml"), stack).unwrap();
    let parallelism = QUEUES.to_string();
    let run = run_strata(
        dir.path(),
        &["apply", "--auto-approve", "--parallelism", &parallelism],
        &env,
    );
    assert_code_while(&run, 0, "applying the queues");
    let apply_peak = proxy.peak_in_flight();
    assert!(
        apply_peak <= DEFAULT_MAX_REQUESTS,
        "the apply had {apply_peak} requests in flight"
    );

    proxy.set_faults(Faults::latency(PLAN_LATENCY));
    proxy.clear();
    let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_code_while(&plan, 0, "the no-op plan");
    let calls = proxy.calls();
    let peak = proxy.peak_in_flight();
    eprintln!(
        "a no-op plan of {QUEUES} queues: {} requests, at most {peak} in flight (the apply: {apply_peak})",
        calls.len()
    );
    assert!(calls.len() >= QUEUES, "{} requests", calls.len());
    assert!(
        peak <= DEFAULT_MAX_REQUESTS,
        "{peak} requests were in flight at once, more than {DEFAULT_MAX_REQUESTS}"
    );
    assert!(
        peak >= DEFAULT_MAX_REQUESTS / 2,
        "the refresh hardly ran in parallel ({peak} at most in flight): the bound is not what \
         limits it"
    );
    assert!(calls.iter().all(|c| c.in_flight <= DEFAULT_MAX_REQUESTS));

    // AWS throttling 30 % of the requests: once strata has seen it throttle, it sends fewer at
    // once instead of the same burst again, and the plan still completes.
    proxy.set_faults(Faults {
        latency: PLAN_LATENCY,
        ..Faults::throttle(30, 7)
    });
    proxy.clear();
    let targets: Vec<String> = (0..THROTTLED_QUEUES).map(|i| format!("q{i:03}")).collect();
    let mut args = vec!["plan", "--detailed-exitcode"];
    for target in &targets {
        args.extend(["--target", target.as_str()]);
    }
    let plan = run_strata(dir.path(), &args, &env);
    assert_code_while(&plan, 0, "the no-op plan under 30 % throttling");
    let calls = proxy.calls();
    assert!(
        calls.iter().any(|c| c.fault == Some(Fault::Throttled)),
        "the proxy throttled nothing"
    );
    // The bound halves at each round of requests AWS throttles: by the second half of the
    // plan it is far below where it started.
    let later = &calls[calls.len() / 2..];
    let later_peak = later.iter().map(|c| c.in_flight).max().unwrap_or(0);
    eprintln!(
        "the same plan under 30 % throttling: {} requests, at most {later_peak} in flight in \
         its second half (unthrottled: {peak})",
        calls.len()
    );
    assert!(
        later.len() >= THROTTLED_QUEUES / 2,
        "{} requests",
        later.len()
    );
    assert!(
        later_peak <= DEFAULT_MAX_REQUESTS / 4,
        "{later_peak} requests were still in flight at once after AWS throttled"
    );
}
