//! strata's speed figures (`bash scripts/bench.sh`): how close an apply comes to what the
//! dependency graph allows, how many requests each operation costs, and how fast the local
//! commands are on large stacks. It prints figures and asserts no time: it is a benchmark,
//! never a test (`cargo test` builds it and does not run it).
//!
//! Against the emulator behind the test kit's proxy, which adds [`LATENCY`] to every request:
//!
//! * each example's apply time divided by its **critical-path bound**: the longest chain of
//!   resources in the dependency graph (counted in resources, each its own link) times the
//!   latency, as if every create needed exactly one request and strata spent nothing itself.
//!   One request per resource is the least any create needs, and a resource cannot start before
//!   what it references exists, so no apply can beat the bound;
//! * requests per resource for the create, the no-op plan (with refresh) and the destroy, with
//!   the create's requests by action;
//! * [`QUEUES`] independent queues applied at the default parallelism: the apply time divided
//!   by `ceil(QUEUES / parallelism) × latency`, the bound of one request each, and their
//!   no-op plan (a refresh of every queue) at several bounds on requests in flight;
//!
//! and locally (no latency): `validate` and `plan --refresh=false` of 1,000 and 5,000 queues,
//! against no state (everything to add), against a state recording them all (nothing to do)
//! and as a destroy plan of them all (every one a delete), each the best of [`RUNS`] runs,
//! with the most memory a run held (peak RSS).
//!
//! The binary it times is `$STRATA_BIN` (the script builds a release binary), else the debug
//! build.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engine::executor::DEFAULT_PARALLELISM;
use strata_tests::proxy::{Faults, Proxy};
use strata_tests::{assert_code_while, run_strata, strata_bin, workspace_root, Emulator};

/// Added by the proxy to every request: about what a call to AWS takes from a laptop.
const LATENCY: Duration = Duration::from_millis(100);

/// The independent queues of the wide apply.
const QUEUES: usize = 200;

/// The bounds on requests in flight the wide no-op plan is timed at.
const MAX_REQUESTS: [usize; 4] = [8, 16, 32, 64];

/// The stack sizes of the local figures.
const LOCAL_SIZES: [usize; 2] = [1_000, 5_000];

/// Runs per local figure; the best is printed.
const RUNS: usize = 3;

/// The argument that makes this binary time one command ([`measure_child`]).
const MEASURE: &str = "--measure";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(MEASURE) {
        measure_child(&args[1..]);
        return;
    }
    // `speed serverless wide`: only those parts (serverless, network, wide, local).
    let wanted = |part: &str| args.is_empty() || args.iter().any(|a| a == part);
    println!(
        "strata speed figures: {}, {} ms added to every request",
        strata_bin().display(),
        LATENCY.as_millis()
    );
    for example in examples() {
        if wanted(&example) {
            bench_example(&example);
        }
    }
    if wanted("wide") {
        bench_wide_apply();
    }
    if wanted("local") {
        for size in LOCAL_SIZES {
            bench_local(size);
            bench_language(size);
        }
    }
}

/// The longest chain of resources in `stack`'s dependency graph, counted in resources.
fn longest_chain(stack: &stacks::Stack) -> usize {
    fn depth(
        graph: &stacks::DependencyGraph,
        address: &str,
        memo: &mut HashMap<String, usize>,
    ) -> usize {
        if let Some(&d) = memo.get(address) {
            return d;
        }
        let d = 1 + graph
            .dependencies(address)
            .iter()
            .map(|dep| depth(graph, dep, memo))
            .max()
            .unwrap_or(0);
        memo.insert(address.to_string(), d);
        d
    }
    let mut memo = HashMap::new();
    stack
        .graph
        .addresses()
        .map(|a| depth(&stack.graph, a, &mut memo))
        .max()
        .unwrap_or(0)
}

/// Applies and destroys, untimed, a copy of the stack in `dir` under another stack name (so no
/// physical name is reused): the emulator loads a service's code on the first request to it,
/// most of a second that AWS never costs, so every figure is of an emulator that has served
/// each service the run calls.
fn warm_up(proxy: &Proxy, dir: &Path, extra: &[&str]) {
    let copy = tempfile::tempdir().unwrap();
    strata_tests::copy_dir(dir, copy.path());
    let file = copy.path().join("stack.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut renamed = false;
    let text: Vec<String> = text
        .lines()
        .map(|line| match line.strip_prefix("stack: ") {
            Some(name) if !renamed => {
                renamed = true;
                format!("stack: warm-{name}")
            }
            _ => line.to_string(),
        })
        .collect();
    assert!(renamed, "{} names no stack", file.display());
    std::fs::write(&file, text.join("\n")).unwrap();
    fetch_modules(proxy, copy.path());
    for args in [["apply", "--auto-approve"], ["destroy", "--auto-approve"]] {
        let args: Vec<&str> = args.iter().chain(extra).copied().collect();
        let run = run_strata(copy.path(), &args, &proxy.aws_env());
        assert_code_while(&run, 0, &format!("the warm-up {}", args[0]));
    }
}

/// Fetches the modules a stack takes from a registry, if any, before anything is timed.
fn fetch_modules(proxy: &Proxy, dir: &Path) {
    if dir.join("strata.toml").exists() {
        let run = run_strata(dir, &["module", "fetch"], &proxy.aws_env());
        assert_code_while(&run, 0, "module fetch");
    }
}

/// One timed run of strata through the proxy.
struct Timed {
    elapsed: Duration,
    calls: Vec<strata_tests::proxy::Call>,
    start: Instant,
}

impl Timed {
    /// Where the time went: before the first request, after the last answer, and the
    /// emulator's own time per request (the proxy's latency excluded).
    fn split(&self) -> String {
        let (Some(first), Some(last)) = (
            self.calls.iter().map(|c| c.received).min(),
            self.calls
                .iter()
                .map(|c| c.received + LATENCY + c.upstream)
                .max(),
        ) else {
            return "no requests".to_string();
        };
        let end = self.start + self.elapsed;
        let upstream: Duration = self.calls.iter().map(|c| c.upstream).sum();
        format!(
            "{:.0} ms before the first request, {:.0} ms after the last answer; the emulator took {:.1} ms per request",
            (first - self.start).as_secs_f64() * 1000.0,
            end.saturating_duration_since(last).as_secs_f64() * 1000.0,
            upstream.as_secs_f64() * 1000.0 / self.calls.len() as f64,
        )
    }
}

/// Runs strata in `dir` through `proxy`; returns the wall time and the requests it made.
fn timed(proxy: &Proxy, dir: &Path, args: &[&str], extra: &[&str], doing: &str) -> Timed {
    let args: Vec<&str> = args.iter().chain(extra).copied().collect();
    proxy.clear();
    let start = Instant::now();
    let run = run_strata(dir, &args, &proxy.aws_env());
    let elapsed = start.elapsed();
    assert_code_while(&run, 0, doing);
    Timed {
        elapsed,
        calls: proxy.calls(),
        start,
    }
}

/// `12 sqs:CreateQueue, 3 iam:GetRole`: the requests by action, most first.
fn by_action(calls: &[strata_tests::proxy::Call]) -> String {
    let mut counts: Vec<_> = strata_tests::proxy::by_action(calls).into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
        .iter()
        .map(|(action, n)| format!("{n} {action}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// The examples the figures are of: every directory of `examples/` holding a stack, by name
/// (`multi-stack/network`); `multi-stack/app` reads that stack's outputs and is left out.
fn examples() -> Vec<String> {
    let root = workspace_root().join("examples");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if dir.join("stack.yaml").exists() {
            found.push(name);
        } else if dir.join("network/stack.yaml").exists() {
            found.push(format!("{name}/network"));
        }
    }
    found.sort();
    found
}

/// What every command of an example is given: the values of its params without a default
/// (the secrets a CI job would pass).
fn example_args(name: &str) -> &'static [&'static str] {
    match name {
        "secrets" => &["--var", "db_password=Bench-passw0rd-1"],
        "stream-pipeline" => &["--var", "partner_token=bench-token-1"],
        _ => &[],
    }
}

fn bench_example(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    strata_tests::copy_dir(&workspace_root().join("examples").join(name), dir.path());
    let extra = example_args(name);
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, Faults::latency(LATENCY));
    fetch_modules(&proxy, dir.path());
    let options = stacks::LoadOptions {
        vars: extra
            .iter()
            .skip(1)
            .step_by(2)
            .map(|v| v.to_string())
            .collect(),
        ..Default::default()
    };
    let stack = stacks::load(
        &dir.path().join("stack.yaml"),
        &options,
        &providers::catalog(),
    )
    .unwrap_or_else(|d| panic!("{name} does not load: {d:?}"));
    let resources = stack.resources.len();
    let chain = longest_chain(&stack);
    let bound = LATENCY * chain as u32;

    warm_up(&proxy, dir.path(), extra);
    let apply = timed(
        &proxy,
        dir.path(),
        &["apply", "--auto-approve"],
        extra,
        "apply",
    );
    let plan = timed(&proxy, dir.path(), &["plan"], extra, "no-op plan");
    let destroy = timed(
        &proxy,
        dir.path(),
        &["destroy", "--auto-approve"],
        extra,
        "destroy",
    );
    let per = |t: &Timed| t.calls.len() as f64 / resources as f64;
    println!("\n{name} example: {resources} resources, longest chain {chain}");
    println!(
        "  apply    {:>8}  = {:.2} x the critical-path bound ({chain} x {} ms = {})",
        seconds(apply.elapsed),
        apply.elapsed.as_secs_f64() / bound.as_secs_f64(),
        LATENCY.as_millis(),
        seconds(bound),
    );
    println!("           {}", apply.split());
    if std::env::var_os("STRATA_BENCH_TRACE").is_some() {
        for c in &apply.calls {
            println!(
                "    {:>6.0} ms  {:<28} emulator {:>5.0} ms",
                (c.received - apply.start).as_secs_f64() * 1000.0,
                c.action,
                c.upstream.as_secs_f64() * 1000.0
            );
        }
    }
    println!(
        "  requests per resource: create {:.2} ({} requests), no-op plan {:.2} ({} in {}), destroy {:.2} ({} in {})",
        per(&apply),
        apply.calls.len(),
        per(&plan),
        plan.calls.len(),
        seconds(plan.elapsed),
        per(&destroy),
        destroy.calls.len(),
        seconds(destroy.elapsed),
    );
    println!("  create's requests: {}", by_action(&apply.calls));
    println!("  no-op plan's requests: {}", by_action(&plan.calls));
    println!("  destroy's requests: {}", by_action(&destroy.calls));
}

/// A stack of `n` independent queues.
fn queues_stack(n: usize) -> String {
    let mut stack = String::from("stack: wide\nregion: us-east-1\nresources:\n");
    for i in 0..n {
        stack.push_str(&format!("  q{i}:\n    type: aws.sqs.queue\n"));
    }
    stack
}

fn bench_wide_apply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), queues_stack(QUEUES)).unwrap();
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, Faults::latency(LATENCY));
    warm_up(&proxy, dir.path(), &[]);
    let apply = timed(
        &proxy,
        dir.path(),
        &["apply", "--auto-approve"],
        &[],
        "apply",
    );
    let rounds = QUEUES.div_ceil(DEFAULT_PARALLELISM);
    let bound = LATENCY * rounds as u32;
    println!("\n{QUEUES} independent queues, parallelism {DEFAULT_PARALLELISM}");
    println!(
        "  apply    {:>8}  = {:.2} x the bound of one request each ({rounds} x {} ms = {})",
        seconds(apply.elapsed),
        apply.elapsed.as_secs_f64() / bound.as_secs_f64(),
        LATENCY.as_millis(),
        seconds(bound),
    );
    println!("           {}", apply.split());
    println!(
        "  {} requests ({:.2} per queue), at most {} in flight: {}",
        apply.calls.len(),
        apply.calls.len() as f64 / QUEUES as f64,
        proxy.peak_in_flight(),
        by_action(&apply.calls)
    );
    // A refresh is as fast as the requests in flight allow: the no-op plan at several bounds.
    for max in MAX_REQUESTS {
        let max = max.to_string();
        let plan = timed(
            &proxy,
            dir.path(),
            &["plan", "--max-requests", &max],
            &[],
            "no-op plan",
        );
        println!(
            "  no-op plan with --max-requests {max:>3}: {:>8}, {} requests, at most {} in flight",
            seconds(plan.elapsed),
            plan.calls.len(),
            proxy.peak_in_flight()
        );
    }
}

/// The local figures for a stack of `n` queues: validate, and plan without refresh against no
/// state and against a state recording every queue (applied to the emulator, no latency).
fn bench_local(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), queues_stack(n)).unwrap();
    let emu = Emulator::start();
    let env = emu.aws_env();
    println!("\n{n} queues, locally (best of {RUNS}; peak RSS)");
    let validate = measure(dir.path(), &["validate"], &env);
    println!("  validate                        {validate}");
    let plan = ["plan", "--refresh=false"];
    println!(
        "  plan --refresh=false, no state  {}",
        measure(dir.path(), &plan, &env)
    );
    let start = Instant::now();
    let parallelism = (4 * DEFAULT_PARALLELISM).to_string();
    let run = run_strata(
        dir.path(),
        &["apply", "--auto-approve", "--parallelism", &parallelism],
        &env,
    );
    assert_code_while(&run, 0, "the apply that records every queue");
    let applied = start.elapsed();
    println!(
        "  plan --refresh=false, {n} recorded, nothing to do  {}   (the apply took {})",
        measure(dir.path(), &plan, &env),
        seconds(applied)
    );
    println!(
        "  plan --destroy --refresh=false, {n} to delete  {}",
        measure(dir.path(), &["plan", "--destroy", "--refresh=false"], &env)
    );
}

/// The same `n` queues written as one resource with `for_each` over a param and functions in
/// its properties: what the language costs against [`queues_stack`]'s flat declarations.
fn for_each_stack(n: usize) -> String {
    let keys: Vec<String> = (0..n).map(|i| format!("q{i}")).collect();
    format!(
        "stack: wide\nregion: us-east-1\nparams:\n  names: {{ type: list, default: [{}] }}\n\
         locals:\n  prefix: ${{stack.name}}-work\nresources:\n  q:\n    type: aws.sqs.queue\n\
         \x20   for_each: ${{params.names}}\n    properties:\n\
         \x20     name: ${{format(\"%s-%s\", locals.prefix, each.key)}}\n\
         \x20     visibility_timeout_seconds: ${{30 + length(each.key) * 10}}\n\
         \x20     tags: {{ Shard: \"${{substr(sha256(each.key), 0, 2)}}\" }}\n",
        keys.join(", ")
    )
}

/// Validate and plan without refresh (no state) of [`for_each_stack`], locally.
fn bench_language(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), for_each_stack(n)).unwrap();
    let emu = Emulator::start();
    let env = emu.aws_env();
    println!("\n{n} queues from one `for_each` with functions, locally (best of {RUNS}; peak RSS)");
    println!(
        "  validate                        {}",
        measure(dir.path(), &["validate"], &env)
    );
    println!(
        "  plan --refresh=false, no state  {}",
        measure(dir.path(), &["plan", "--refresh=false"], &env)
    );
}

/// Times `strata ARGS` in `dir`, [`RUNS`] times, in a child process of this binary of its own,
/// so that the peak RSS it reads is of those runs alone.
fn measure(dir: &Path, args: &[&str], env: &[(String, String)]) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg(MEASURE)
        .arg(dir)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "measuring {args:?} failed");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// In the child: runs `strata ARGS` in `DIR` [`RUNS`] times and prints the best time and the
/// peak RSS of its children (the strata runs, and nothing else).
fn measure_child(args: &[String]) {
    let (dir, args) = args.split_first().expect("--measure DIR ARGS...");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut best = Duration::MAX;
    for _ in 0..RUNS {
        let start = Instant::now();
        let run = run_strata(Path::new(dir), &args, &aws_env_of_this_process());
        best = best.min(start.elapsed());
        assert_code_while(&run, 0, &format!("strata {}", args.join(" ")));
    }
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    // Linux reports kilobytes.
    let peak_mb = usage.max_rss() as f64 / 1024.0;
    println!("{:>7.1} ms  {peak_mb:>6.1} MB", best.as_secs_f64() * 1000.0);
}

/// The `AWS_*` variables the parent gave this child ([`run_strata`] clears inherited ones).
fn aws_env_of_this_process() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .collect()
}
