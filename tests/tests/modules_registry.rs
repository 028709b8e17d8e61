//! Published modules end to end, through the built binary against the emulator: publish to a
//! directory registry and to an S3 registry, fetch by a semver requirement into strata.lock,
//! apply a stack with two instances of one module, and refuse what must be refused (a version
//! published twice, a tampered cache, an unresolvable requirement, a module never fetched).

use std::fs;
use std::path::PathBuf;

use strata_tests::kit::queue_names;
use strata_tests::{
    assert_code, assert_contains, copy_dir, run_strata, workspace_root, Project, Run,
};

/// The example module, as published from examples/modules/queue-with-dlq.
const QUEUE_MODULE: &str = include_str!("../../examples/modules/queue-with-dlq/module.yaml");

/// A stack with two instances of the published queue module.
const STACK: &str = "\
stack: orders
modules:
  jobs:
    source: acme/queue-with-dlq
    version: \"^1.0\"
    inputs: { visibility: 90 }
  mail:
    source: acme/queue-with-dlq
    version: \"^1.0\"
outputs:
  jobs_url: ${jobs.queue_url}
  mail_url: ${mail.queue_url}
";

/// A project whose `strata.toml` names registry `acme` at `location`.
fn project(location: &str) -> Project {
    let p = Project::new(STACK);
    fs::write(
        p.path().join("strata.toml"),
        format!("[registries]\nacme = \"{location}\"\n"),
    )
    .unwrap();
    p
}

/// The module source at `src/queue-with-dlq` of `p`, at `version`.
fn module_at(p: &Project, version: &str) -> PathBuf {
    let dir = p.path().join("src/queue-with-dlq");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("module.yaml"),
        QUEUE_MODULE.replace("version: 1.0.0", &format!("version: {version}")),
    )
    .unwrap();
    dir
}

fn publish(p: &Project, version: &str) -> Run {
    module_at(p, version);
    p.strata(&[
        "module",
        "publish",
        "src/queue-with-dlq",
        "--registry",
        "acme",
    ])
}

fn lock_file(p: &Project) -> String {
    fs::read_to_string(p.path().join("strata.lock")).unwrap()
}

/// The `sha256 HEX` line a module command prints.
fn sha_line(run: &Run) -> String {
    run.stdout
        .lines()
        .find(|l| l.starts_with("sha256 "))
        .unwrap_or_else(|| panic!("no sha256 line in:\n{}", run.stdout))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_module_from_a_directory_registry_is_pinned_fetched_and_applied_twice_over() {
    let p = project("./registry");

    // Packaging is deterministic.
    let dir = module_at(&p, "1.0.0");
    let one = p.strata(&["module", "package", dir.to_str().unwrap(), "--out", "a.zip"]);
    assert_code(&one, 0);
    let two = p.strata(&["module", "package", dir.to_str().unwrap(), "--out", "b.zip"]);
    assert_code(&two, 0);
    assert_eq!(sha_line(&one), sha_line(&two));
    assert_eq!(
        fs::read(p.path().join("a.zip")).unwrap(),
        fs::read(p.path().join("b.zip")).unwrap()
    );

    for version in ["1.0.0", "1.1.0", "2.0.0"] {
        let run = publish(&p, version);
        assert_code(&run, 0);
        assert_contains(
            &run.stdout,
            &[&format!(
                "Published module `queue-with-dlq` {version} to registry `acme`: ./registry/queue-with-dlq/{version}.zip"
            )],
        );
        if version == "1.0.0" {
            assert_eq!(
                sha_line(&run),
                sha_line(&one),
                "what is published is what is packaged"
            );
        }
    }
    let again = publish(&p, "1.0.0");
    assert_code(&again, 1);
    assert_contains(
        &again.stderr,
        &[
            "module `queue-with-dlq` 1.0.0 is already published",
            "raise `version:`",
        ],
    );

    // Not fetched yet: every command that loads the stack says what to do.
    let run = p.strata(&["validate"]);
    assert_code(&run, 1);
    assert_contains(
        &run.stderr,
        &["is not fetched", "run `strata module fetch`"],
    );

    let run = p.strata(&["module", "fetch"]);
    assert_code(&run, 0);
    assert_contains(&run.stdout, &["acme/queue-with-dlq 1.1.0: downloaded"]);
    let lock = lock_file(&p);
    assert_contains(
        &lock,
        &[
            "name = \"acme/queue-with-dlq\"",
            "version = \"1.1.0\"",
            "source = \"./registry/queue-with-dlq/1.1.0.zip\"",
            "sha256 = \"",
        ],
    );

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_contains(
        &run.stdout,
        &["Apply complete: 4 added", "jobs.queue: created"],
    );
    assert_eq!(
        queue_names(&p.ctx()).await,
        [
            "orders-jobs-dlq",
            "orders-jobs-queue",
            "orders-mail-dlq",
            "orders-mail-queue"
        ]
    );
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    let run = p.strata(&["state", "list"]);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        ["jobs.dlq", "jobs.queue", "mail.dlq", "mail.queue"]
    );

    // A tampered cache is refused, by every use; fetch repairs it from the registry.
    let cached = p
        .path()
        .join(".strata/modules/acme/queue-with-dlq/1.1.0.zip");
    let mut bytes = fs::read(&cached).unwrap();
    bytes.extend_from_slice(b"tampered");
    fs::write(&cached, bytes).unwrap();
    for command in [&["validate"][..], &["plan"][..]] {
        let run = p.strata(command);
        assert_code(&run, 1);
        assert_contains(
            &run.stderr,
            &["checksum mismatch for module `acme/queue-with-dlq` 1.1.0"],
        );
    }
    let run = p.strata(&["module", "fetch"]);
    assert_code(&run, 0);
    assert_contains(&run.stdout, &["acme/queue-with-dlq 1.1.0: downloaded"]);
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    // An unresolvable requirement fails clearly and leaves the lock alone.
    fs::write(p.path().join("stack.yaml"), STACK.replace("^1.0", "^3")).unwrap();
    let run = p.strata(&["module", "fetch"]);
    assert_code(&run, 1);
    assert_contains(
        &run.stderr,
        &[
            "no published version of `acme/queue-with-dlq` matches `^3`",
            "published: 1.0.0, 1.1.0, 2.0.0",
        ],
    );
    assert_eq!(lock_file(&p), lock);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_module_from_an_s3_registry_is_resolved_by_its_semver_requirement() {
    let p = project("s3://acme-modules/strata");
    let sdk = p.emu.sdk_config(providers::aws::http_client()).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("acme-modules")
        .send()
        .await
        .unwrap();

    for version in ["1.0.0", "1.0.3", "1.2.0"] {
        let run = publish(&p, version);
        assert_code(&run, 0);
        assert_contains(
            &run.stdout,
            &[&format!(
                "s3://acme-modules/strata/queue-with-dlq/{version}.zip"
            )],
        );
    }
    let again = publish(&p, "1.2.0");
    assert_code(&again, 1);
    assert_contains(&again.stderr, &["already published"]);
    let index = s3
        .get_object()
        .bucket("acme-modules")
        .key("strata/queue-with-dlq/index.json")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    assert_eq!(
        index["versions"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["1.0.0", "1.0.3", "1.2.0"]
    );

    fs::write(p.path().join("stack.yaml"), STACK.replace("^1.0", "~1.0")).unwrap();
    let run = p.strata(&["module", "fetch"]);
    assert_code(&run, 0);
    assert_contains(&run.stdout, &["acme/queue-with-dlq 1.0.3: downloaded"]);
    assert_contains(
        &lock_file(&p),
        &["source = \"s3://acme-modules/strata/queue-with-dlq/1.0.3.zip\""],
    );

    // Widening the requirement keeps the pin while it matches; --upgrade takes the newest.
    fs::write(p.path().join("stack.yaml"), STACK).unwrap();
    let run = p.strata(&["module", "fetch"]);
    assert_code(&run, 0);
    assert_contains(
        &run.stdout,
        &["acme/queue-with-dlq 1.0.3: cached, verified"],
    );
    let run = p.strata(&["module", "fetch", "--upgrade"]);
    assert_code(&run, 0);
    assert_contains(&run.stdout, &["acme/queue-with-dlq 1.2.0: downloaded"]);

    let run = p.strata(&["validate"]);
    assert_code(&run, 0);
    assert_contains(&run.stdout, &["4 resources, 2 outputs"]);
    let run = p.strata(&["plan"]);
    assert_code(&run, 0);
    assert_contains(
        &run.stdout,
        &[
            "jobs.queue",
            "mail.dlq",
            "Plan: 4 to add, 0 to change, 0 to replace, 0 to destroy.",
        ],
    );
}

#[test]
fn the_modules_example_fetches_what_its_committed_lock_pins_and_validates() {
    let example = workspace_root().join("examples/modules");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example, dir.path());
    let lock = fs::read_to_string(dir.path().join("strata.lock")).unwrap();

    let run = run_strata(dir.path(), &["module", "fetch"], &[]);
    assert_code(&run, 0);
    assert_contains(&run.stdout, &["acme/queue-with-dlq 1.0.0: downloaded"]);
    assert_eq!(
        fs::read_to_string(dir.path().join("strata.lock")).unwrap(),
        lock,
        "the committed lock already pins what the registry holds"
    );
    let run = run_strata(dir.path(), &["validate"], &[]);
    assert_code(&run, 0);
    assert_contains(
        &run.stdout,
        &["The stack `platform` is valid: 12 resources"],
    );
}
