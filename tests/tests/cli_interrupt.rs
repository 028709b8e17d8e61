//! Ctrl-C during `apply`: strata starts nothing new, lets the running operation finish and
//! records it, exits 130, and the next apply finishes the job without a duplicate. A kill -9
//! mid-apply leaves its lock behind; the next run takes it over, as nobody holds it.

use std::io::{BufRead, BufReader};
use std::process::Command;

use strata_tests::kit::{self, queue_urls};
use strata_tests::{run_strata, spawn_strata, Emulator};

const QUEUES: usize = 12;

fn stack() -> String {
    let mut text = String::from("stack: slow\nresources:\n");
    for i in 0..QUEUES {
        text.push_str(&format!("  q{i:02}:\n    type: aws.sqs.queue\n"));
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_apply_exits_130_keeps_what_was_created_and_the_next_apply_finishes() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), stack()).unwrap();

    // One operation at a time, so there is always more left to start when Ctrl-C arrives.
    let mut child = spawn_strata(
        dir.path(),
        &["apply", "--auto-approve", "--parallelism", "1"],
        &emu.aws_env(),
    );
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let created = line.contains(": created in");
        seen.push(line);
        if created {
            break;
        }
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "stdout:\n{}\n{}\nstderr:\n{stderr}",
        seen.join("\n"),
        rest.join("\n")
    );
    assert!(stderr.contains("Interrupted"), "{stderr}");

    let ctx = kit::context(&emu);
    let created = queue_urls(&ctx).await.len();
    assert!(
        (1..QUEUES).contains(&created),
        "created {created} of {QUEUES}"
    );

    // Everything that was created is recorded: the plan adds only the rest.
    let run = run_strata(dir.path(), &["plan"], &emu.aws_env());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = format!("Plan: {} to add, 0 to change", QUEUES - created);
    assert!(run.stdout.contains(&expected), "{}", run.stdout);

    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &emu.aws_env());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = queue_urls(&ctx).await.len();
    assert_eq!(all, QUEUES, "never a duplicate");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_kill_9_mid_apply_the_next_apply_takes_over_the_lock_and_finishes_without_a_duplicate(
) {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), stack()).unwrap();

    let mut child = spawn_strata(
        dir.path(),
        &["apply", "--auto-approve", "--parallelism", "1"],
        &emu.aws_env(),
    );
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains(": created in") {
            break;
        }
    }
    let lock = dir.path().join(".strata").join("slow.lock");
    assert!(lock.exists(), "the apply holds its lock");
    child.kill().unwrap(); // SIGKILL: no handler runs, the lock stays.
    child.wait().unwrap();
    assert!(lock.exists(), "a killed apply leaves its lock");
    let held: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    assert_eq!(held["pid"], child.id());

    // No force-unlock: the next apply takes the lock over, says so once, and converges.
    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &emu.aws_env());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let said: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("Took over the lock"))
        .collect();
    assert_eq!(said.len(), 1, "{}", run.stderr);
    assert!(
        said[0].contains(&format!("(pid {}, `strata apply`", child.id())),
        "{}",
        said[0]
    );
    assert!(!lock.exists(), "the lock is released at the end");
    let ctx = kit::context(&emu);
    assert_eq!(queue_urls(&ctx).await.len(), QUEUES, "never a duplicate");
    let run = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &emu.aws_env());
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(!run.stderr.contains("Took over"), "{}", run.stderr);
}
