//! kill -9 mid-apply, through the fault-injection proxy: strata is killed when the Nth request
//! of an apply of the network and serverless examples reaches AWS, for every 4th N of the
//! apply. Each time, from a fresh checkout, the next `apply` takes the dead run's lock over
//! (no `force-unlock`) and converges, a following plan is clean, the emulator holds exactly
//! what the example makes (nothing duplicated), and destroy leaves nothing, even when it is
//! killed too at the same request and run again.

use strata_tests::census::{Census, Example};
use strata_tests::proxy::{Call, Fault, Faults, Proxy};
use strata_tests::{assert_code_while, kit, run_strata, spawn_strata, wait, Emulator};

/// Kill at every this many requests of an apply.
const EVERY: usize = 4;

/// At most this many kill points per example, to bound the test's time (each is an apply cut
/// short, an apply, a plan and a destroy). Both examples' applies make fewer than
/// `EVERY * MAX_KILLS` requests, so every 4th request is tried.
const MAX_KILLS: usize = 20;

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_every_4th_request_of_the_network_apply_the_next_apply_converges() {
    kill_at_every_4th_request(Example::Network, &["CreateVpc", "CreateNatGateway"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_every_4th_request_of_the_serverless_apply_the_next_apply_converges() {
    kill_at_every_4th_request(
        Example::Serverless,
        &[
            "CreateQueue",
            "CreateTopic",
            "CreateRole",
            "CreateFunction",
            "CreateEventSourceMapping",
            "AddPermission",
            "CreateApi",
            "CreateRoute",
            "PutRule",
        ],
    )
    .await;
}

async fn kill_at_every_4th_request(example: Example, named: &[&str]) {
    let emu = Emulator::start();
    let ctx = kit::context(&emu);
    let proxy = Proxy::start(&emu, Faults::default());
    let env = proxy.aws_env();
    let before = example.census(&ctx).await;
    let apply = ["apply", "--auto-approve"];

    // A clean apply through the proxy: how many requests an apply makes, and that the proxy
    // names what it forwards.
    let dir = example.checkout();
    let run = run_strata(dir.path(), &apply, &env);
    assert_code_while(&run, 0, "the clean apply");
    let clean = proxy.calls();
    for action in named {
        assert!(
            clean.iter().any(|c| c.action == *action),
            "{action} not among the calls: {}",
            actions(&clean)
        );
    }
    assert!(clean
        .iter()
        .all(|c| c.status.is_some() && c.fault.is_none()));
    assert_eq!(example.census(&ctx).await.since(&before), example.made());
    assert_code_while(
        &run_strata(dir.path(), &["destroy", "--auto-approve"], &env),
        0,
        "destroying the clean apply",
    );
    assert_eq!(example.census(&ctx).await.since(&before), Census::default());

    let destroy = ["destroy", "--auto-approve"];
    let mut recovered = Vec::new();
    let mut destroys_recovered = Vec::new();
    for at in (EVERY..clean.len()).step_by(EVERY).take(MAX_KILLS) {
        let dir = example.checkout();
        proxy.clear();
        let child = spawn_strata(dir.path(), &apply, &env);
        proxy.kill_at(at, child.id());
        let killed = wait(child);
        let calls = proxy.calls();
        let Some(cut) = calls.iter().find(|c| c.fault == Some(Fault::Killed)) else {
            // The apply made fewer requests this time (waits poll as long as they need) and
            // finished before request `at`.
            assert_code_while(&killed, 0, &format!("an apply not killed at request {at}"));
            assert_code_while(
                &run_strata(dir.path(), &["destroy", "--auto-approve"], &env),
                0,
                "destroy",
            );
            continue;
        };
        let doing = format!(
            "after a kill -9 at request {at} ({} {})",
            cut.service, cut.action
        );
        assert_eq!(killed.code, -1, "{doing}: the apply was not killed");

        let run = run_strata(dir.path(), &apply, &env);
        assert_code_while(&run, 0, &doing);
        assert!(
            run.stderr.contains("Took over the lock"),
            "{doing}: the apply did not say it took the lock over:\n{}",
            run.stderr
        );
        let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
        assert_code_while(&plan, 0, &format!("{doing}, the plan after converging"));
        assert_eq!(
            example.census(&ctx).await.since(&before),
            example.made(),
            "{doing}: the emulator holds something twice or lacks something"
        );
        recovered.push(format!("{at} {}", cut.action));

        // The destroy is killed at the same request, when it makes that many; the next
        // destroy finishes the job.
        proxy.clear();
        let child = spawn_strata(dir.path(), &destroy, &env);
        proxy.kill_at(at, child.id());
        let first = wait(child);
        let cut = proxy
            .calls()
            .into_iter()
            .find(|c| c.fault == Some(Fault::Killed));
        let doing = match &cut {
            Some(cut) => {
                assert_eq!(first.code, -1, "{doing}: the destroy was not killed");
                let doing = format!(
                    "{doing}, then a kill -9 of destroy at request {at} ({} {})",
                    cut.service, cut.action
                );
                let run = run_strata(dir.path(), &destroy, &env);
                assert_code_while(&run, 0, &doing);
                assert!(
                    run.stderr.contains("Took over the lock"),
                    "{doing}: {}",
                    run.stderr
                );
                destroys_recovered.push(format!("{at} {}", cut.action));
                doing
            }
            None => {
                assert_code_while(&first, 0, &format!("{doing}, destroy"));
                doing
            }
        };
        assert_eq!(
            example.census(&ctx).await.since(&before),
            Census::default(),
            "{doing}: destroy left something behind"
        );
    }
    eprintln!(
        "{example:?}: an apply makes {} requests; killed and recovered at {} points: {}; \
         destroys killed and recovered at {} points: {}",
        clean.len(),
        recovered.len(),
        recovered.join(", "),
        destroys_recovered.len(),
        destroys_recovered.join(", ")
    );
    assert!(
        !destroys_recovered.is_empty(),
        "no destroy was long enough to be killed"
    );
    assert!(
        recovered.len() + 1 >= (clean.len() - 1) / EVERY,
        "too few kill points were reached: {recovered:?} of {} requests",
        clean.len()
    );
}

fn actions(calls: &[Call]) -> String {
    calls
        .iter()
        .map(|c| format!("{} {}", c.service, c.action))
        .collect::<Vec<_>>()
        .join(", ")
}
