//! A published module is what its verified archive holds, and nothing else, through the built
//! binary (offline: a directory registry): its local paths and local modules stay inside it,
//! `module fetch` pins only archives the loader accepts and refuses a version republished with
//! other bytes, a refused unpack leaves nothing behind, and `.strata/` is private.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use strata_tests::{assert_code, assert_contains, run_strata, Run};

/// A project directory with `strata.toml` naming registry `acme` at `./registry`, and `stack`.
fn project(stack: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("stack.yaml"), stack).unwrap();
    fs::write(
        dir.path().join("strata.toml"),
        "[registries]\nacme = \"./registry\"\n",
    )
    .unwrap();
    dir
}

fn strata(dir: &Path, args: &[&str]) -> Run {
    run_strata(dir, args, &[])
}

/// Writes `files` (relative path, text) below `dir/src/NAME` and publishes it to `acme`.
fn publish(dir: &Path, name: &str, files: &[(&str, &str)]) -> Run {
    let src = dir.join("src").join(name);
    let _ = fs::remove_dir_all(&src);
    for (path, text) in files {
        let path = src.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    let run = strata(
        dir,
        &[
            "module",
            "publish",
            &format!("src/{name}"),
            "--registry",
            "acme",
        ],
    );
    assert_code(&run, 0);
    run
}

/// Puts `entries` (name, bytes) as `acme/NAME` 1.0.0 into the registry by hand, with an index
/// that lists their SHA-256: an archive `strata module publish` would never make.
fn hand_made(dir: &Path, name: &str, entries: &[(&str, &[u8])]) -> String {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (entry, bytes) in entries {
        writer.start_file(*entry, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    let bytes = writer.finish().unwrap().into_inner();
    let sha256 = files::digest::sha256_hex(&bytes);
    let module_dir = dir.join("registry").join(name);
    fs::create_dir_all(&module_dir).unwrap();
    fs::write(module_dir.join("1.0.0.zip"), &bytes).unwrap();
    let index = serde_json::json!({
        "name": name,
        "versions": { "1.0.0": { "sha256": sha256, "archive": "1.0.0.zip" } }
    });
    fs::write(module_dir.join("index.json"), index.to_string()).unwrap();
    sha256
}

/// Every path below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            out.push(path.clone());
            if path.is_dir() {
                out.extend(walk(&path));
            }
        }
    }
    out
}

/// A Lambda function module whose code is at `code` (written in its module.yaml, line 20).
fn function_module(code: &str) -> String {
    format!(
        "\
module: fn
version: 1.0.0
resources:
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: \"2012-10-17\"
        Statement:
          Effect: Allow
          Principal: {{ Service: lambda.amazonaws.com }}
          Action: sts:AssumeRole
  function:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: handler.handle
      role: ${{role.arn}}
      timeout: 30
      code: {{ path: {code} }}
"
    )
}

const HANDLER: &str = "def handle(event, context):\n    return 1\n";

#[test]
fn a_published_modules_code_path_outside_its_archive_is_an_error_at_its_line() {
    let p = project("stack: shop\nmodules:\n  api: { source: acme/fn, version: \"^1\" }\n");
    let dir = p.path();
    // What `../../../../../private` names from .strata/modules/acme/fn/1.0.0: the project's
    // own `private/`, which the module must never zip and upload.
    fs::create_dir_all(dir.join("private")).unwrap();
    fs::write(
        dir.join("private/handler.py"),
        "TOKEN = 'not for the module'\n",
    )
    .unwrap();
    publish(
        dir,
        "fn",
        &[
            ("module.yaml", &function_module("../../../../../private")),
            ("src/handler.py", HANDLER),
        ],
    );
    assert_code(&strata(dir, &["module", "fetch"]), 0);
    let run = strata(dir, &["validate"]);
    assert_code(&run, 1);
    assert_contains(
        &run.stderr,
        &[
            "error: `code.path` names `../../../../../private`, which is outside this published module's directory",
            ".strata/modules/acme/fn/1.0.0/module.yaml:20:21",
            "help: a published module uses only what its archive holds",
            "note: in module `api` (`acme/fn`), used at",
        ],
    );

    // A path inside the module is fine.
    fs::remove_dir_all(dir.join("registry")).unwrap();
    fs::remove_file(dir.join("strata.lock")).unwrap();
    fs::remove_dir_all(dir.join(".strata")).unwrap();
    publish(
        dir,
        "fn",
        &[
            ("module.yaml", &function_module("src")),
            ("src/handler.py", HANDLER),
        ],
    );
    assert_code(&strata(dir, &["module", "fetch"]), 0);
    let run = strata(dir, &["validate"]);
    assert_code(&run, 0);
}

#[test]
fn a_local_module_escaping_a_published_module_is_refused_and_one_inside_it_is_used() {
    let p = project("stack: shop\nmodules:\n  app: { source: acme/outer, version: \"^1\" }\n");
    let dir = p.path();
    fs::create_dir_all(dir.join("local")).unwrap();
    fs::write(
        dir.join("local/module.yaml"),
        "module: local\nresources:\n  q: { type: aws.sqs.queue }\n",
    )
    .unwrap();
    let inner = "module: inner\nresources:\n  q: { type: aws.sqs.queue }\n";
    publish(
        dir,
        "outer",
        &[
            (
                "module.yaml",
                "module: outer\nversion: 1.0.0\nmodules:\n  inner: { source: ./inner }\n  escapes: { source: ../../../../../local }\n",
            ),
            ("inner/module.yaml", inner),
        ],
    );
    let run = strata(dir, &["module", "fetch"]);
    assert_code(&run, 1);
    assert_contains(
        &run.stderr,
        &[
            "module.yaml:5: module `escapes`: `../../../../../local` is outside this published module's directory",
        ],
    );
    assert!(!dir.join("strata.lock").exists(), "nothing is pinned");

    // The same module with only its inside local module is fetched and used.
    fs::remove_dir_all(dir.join("registry")).unwrap();
    publish(
        dir,
        "outer",
        &[
            (
                "module.yaml",
                "module: outer\nversion: 1.0.0\nmodules:\n  inner: { source: ./inner }\n",
            ),
            ("inner/module.yaml", inner),
        ],
    );
    assert_code(&strata(dir, &["module", "fetch"]), 0);
    let run = strata(dir, &["validate"]);
    assert_code(&run, 0);
}

#[test]
fn fetch_upgrade_refuses_a_pinned_version_republished_with_other_bytes() {
    let p = project("stack: shop\nmodules:\n  jobs: { source: acme/q, version: \"^1\" }\n");
    let dir = p.path();
    let queue = "module: q\nversion: 1.0.0\nresources:\n  queue: { type: aws.sqs.queue }\n";
    let first = publish(dir, "q", &[("module.yaml", queue)]);
    assert_code(&strata(dir, &["module", "fetch"]), 0);
    let lock = fs::read_to_string(dir.join("strata.lock")).unwrap();

    // Republished under the same version with other bytes (by hand: publish refuses it).
    fs::remove_dir_all(dir.join("registry/q")).unwrap();
    let second = publish(
        dir,
        "q",
        &[("module.yaml", &format!("{queue}description: changed\n"))],
    );
    let sha = |run: &Run| {
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix("sha256 "))
            .unwrap()
            .to_string()
    };
    let (old, new) = (sha(&first), sha(&second));
    assert_ne!(old, new);

    let run = strata(dir, &["module", "fetch", "--upgrade"]);
    assert_code(&run, 1);
    assert_contains(
        &run.stderr,
        &[
            &format!(
                "module `acme/q` 1.0.0 was republished with different bytes: strata.lock pins SHA-256 {old}, but ./registry/q/1.0.0.zip now has SHA-256 {new}"
            ),
            "nothing was re-pinned",
            "delete the `acme/q` 1.0.0 entry from strata.lock and run `strata module fetch` again",
        ],
    );
    assert_eq!(
        fs::read_to_string(dir.join("strata.lock")).unwrap(),
        lock,
        "the lock is unchanged"
    );
    assert_code(&strata(dir, &["validate"]), 0);
}

#[test]
fn fetch_refuses_an_archive_the_loader_would_refuse_before_pinning_it() {
    let p = project("stack: shop\nmodules:\n  jobs: { source: acme/q, version: \"^1\" }\n");
    let dir = p.path();
    // A hidden file: strata never packs one, so these files pack to other bytes.
    let sha = hand_made(
        dir,
        "q",
        &[
            ("module.yaml", b"module: q\nversion: 1.0.0\n"),
            (".extra", b"not in a strata archive"),
        ],
    );
    let run = strata(dir, &["module", "fetch"]);
    assert_code(&run, 1);
    assert_contains(
        &run.stderr,
        &[
            &format!("the archive of module `acme/q` 1.0.0 (SHA-256 {sha}) is not one `strata module publish` makes"),
            "help: strata verifies a module by packing its files again",
        ],
    );
    assert!(!run.stderr.contains("changed since"), "{}", run.stderr);
    assert!(!dir.join("strata.lock").exists(), "nothing is pinned");
    assert!(
        !dir.join(".strata/modules/acme/q/1.0.0.zip").exists()
            && !dir.join(".strata/modules/acme/q/1.0.0").exists(),
        "nothing is cached: {:?}",
        walk(&dir.join(".strata"))
    );
}

#[test]
fn a_refused_unpack_leaves_no_temporary_directory() {
    let p = project("stack: shop\nmodules:\n  jobs: { source: acme/q, version: \"^1\" }\n");
    let dir = p.path();
    hand_made(
        dir,
        "q",
        &[
            ("module.yaml", b"module: q\nversion: 1.0.0\n"),
            ("../escape.txt", b"outside"),
        ],
    );
    let run = strata(dir, &["module", "fetch"]);
    assert_code(&run, 1);
    assert_contains(
        &run.stderr,
        &["a module archive is damaged: entry `../escape.txt` points outside the module"],
    );
    let left: Vec<PathBuf> = walk(&dir.join(".strata"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".unpacking-"))
        .collect();
    assert!(left.is_empty(), "temporary directories left: {left:?}");
    assert!(!dir.join(".strata/modules/acme/escape.txt").exists());
}

#[test]
fn fetch_makes_strata_private() {
    let p = project("stack: shop\nmodules:\n  jobs: { source: acme/q, version: \"^1\" }\n");
    let dir = p.path();
    publish(
        dir,
        "q",
        &[
            (
                "module.yaml",
                "module: q\nversion: 1.0.0\nresources:\n  queue: { type: aws.sqs.queue }\n",
            ),
            ("docs/readme.txt", "a queue\n"),
        ],
    );
    assert_code(&strata(dir, &["module", "fetch"]), 0);
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join(".strata")), 0o700);
    let below = walk(&dir.join(".strata"));
    assert!(below.len() >= 8, "{below:?}");
    for path in below {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
    assert_eq!(mode(&dir.join("strata.lock")), 0o600);
}
