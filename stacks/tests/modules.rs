//! Modules in the loader: instances inlined with prefixed addresses, inputs, outputs, nesting,
//! and what a person sees when something is wrong inside or across a module.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use stacks::registry::{self, DirStore, ErrorKind, LockedModule};
use stacks::{
    load, Catalog, Diagnostics, Expr, Kind, LoadOptions, NameRule, Piece, Prop, Reference, Stack,
    TypeSchema, Value,
};

fn catalog() -> Catalog {
    Catalog::new([
        TypeSchema {
            type_name: "test.queue",
            props: vec![
                Prop::new("name", Kind::String).force_new(),
                Prop::new("visibility_timeout_seconds", Kind::Integer).default(30),
                Prop::new("dead_letter_arn", Kind::String),
                Prop::new("source_arn", Kind::String),
                Prop::new("labels", Kind::List(Box::new(Kind::String))),
                Prop::new("tags", Kind::Map(Box::new(Kind::String))),
            ],
            attrs: vec!["arn", "url"],
            taggable: true,
            check: None,
            name_rule: Some(NameRule {
                prop: "name",
                max_len: 80,
                suffix_when: None,
            }),
        },
        TypeSchema {
            type_name: "test.function",
            props: vec![
                Prop::new("name", Kind::String).force_new(),
                Prop::new(
                    "code",
                    Kind::Object(vec![Prop::new("path", Kind::String).local_path()]),
                ),
            ],
            attrs: vec!["arn"],
            taggable: false,
            check: None,
            name_rule: Some(NameRule {
                prop: "name",
                max_len: 64,
                suffix_when: None,
            }),
        },
        TypeSchema {
            type_name: "test.topic",
            props: vec![Prop::new("name", Kind::String).force_new()],
            attrs: vec!["arn"],
            taggable: false,
            check: None,
            name_rule: Some(NameRule {
                prop: "name",
                max_len: 80,
                suffix_when: None,
            }),
        },
    ])
}

/// A module with a queue and its dead-letter queue, like examples/modules/queue-with-dlq.
const QUEUE_MODULE: &str = "\
module: queue-with-dlq
version: 1.0.0
params:
  visibility: { type: number, default: 30 }
  env: { type: string, default: dev, allowed: [dev, prod] }
resources:
  dlq:
    type: test.queue
  queue:
    type: test.queue
    properties:
      visibility_timeout_seconds: ${params.visibility}
      dead_letter_arn: ${dlq.arn}
outputs:
  queue_url: ${queue.url}
  queue_arn: ${queue.arn}
  dlq_arn: ${dlq.arn}
";

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        Project {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path().join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    fn load(&self, stack: &str) -> Result<Stack, Diagnostics> {
        let path = self.write("stack.yaml", stack);
        load(&path, &LoadOptions::default(), &catalog())
    }

    fn ok(&self, stack: &str) -> Stack {
        match self.load(stack) {
            Ok(stack) => stack,
            Err(d) => panic!("expected the stack to load:\n{}", d.render(false)),
        }
    }

    fn errors(&self, stack: &str) -> String {
        match self.load(stack) {
            Ok(stack) => panic!("expected errors, got {stack:#?}"),
            Err(d) => d
                .render(false)
                .replace(&self.path().display().to_string(), "ROOT"),
        }
    }
}

fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
    }
}

fn reference(address: &str, attr: &str) -> Expr {
    Expr::Ref {
        reference: Reference::resource(address, attr),
    }
}

#[test]
fn two_instances_of_a_module_get_prefixed_addresses_and_distinct_physical_names() {
    let p = Project::new();
    p.write("modules/queue-with-dlq/module.yaml", QUEUE_MODULE);
    let stack = p.ok("\
stack: orders
modules:
  jobs:
    source: ./modules/queue-with-dlq
    inputs: { visibility: 60 }
  mail:
    source: ./modules/queue-with-dlq
resources:
  audit:
    type: test.queue
    properties:
      dead_letter_arn: ${jobs.dlq_arn}
outputs:
  jobs_url: ${jobs.queue_url}
");
    let addresses: Vec<&str> = stack.resources.keys().map(String::as_str).collect();
    assert_eq!(
        addresses,
        ["jobs.dlq", "jobs.queue", "mail.dlq", "mail.queue", "audit"]
    );
    let jobs = &stack.resources["jobs.queue"];
    assert_eq!(jobs.properties["name"], Expr::value("orders-jobs-queue"));
    assert_eq!(
        stack.resources["mail.queue"].properties["name"],
        Expr::value("orders-mail-queue")
    );
    assert_eq!(
        jobs.properties["visibility_timeout_seconds"],
        Expr::value(60)
    );
    assert_eq!(
        stack.resources["mail.queue"].properties["visibility_timeout_seconds"],
        Expr::value(30),
        "the default of an input not given"
    );
    assert_eq!(
        jobs.properties["dead_letter_arn"],
        reference("jobs.dlq", "arn")
    );
    assert_eq!(
        jobs.dependencies(),
        BTreeSet::from(["jobs.dlq".to_string()])
    );
    assert!(jobs
        .pos
        .file
        .ends_with("modules/queue-with-dlq/module.yaml"));
    let Expr::Map { entries: tags } = &jobs.properties["tags"] else {
        panic!("tags are a mapping: {:?}", jobs.properties["tags"]);
    };
    assert_eq!(tags["strata:address"], Expr::value("jobs.queue"));
    assert_eq!(tags["strata:stack"], Expr::value("orders"));

    let audit = &stack.resources["audit"];
    assert_eq!(
        audit.properties["dead_letter_arn"],
        reference("jobs.dlq", "arn")
    );
    assert_eq!(
        audit.dependencies(),
        BTreeSet::from(["jobs.dlq".to_string()])
    );
    assert_eq!(
        stack.outputs["jobs_url"].value,
        reference("jobs.queue", "url")
    );
}

#[test]
fn an_input_that_references_a_stack_resource_crosses_the_boundary() {
    let p = Project::new();
    p.write(
        "modules/sub/module.yaml",
        "\
module: sub
params:
  topic_arn: { type: string }
  labels: { type: list, default: [] }
resources:
  queue:
    type: test.queue
    properties:
      source_arn: \"from ${params.topic_arn}\"
      labels: ${params.labels}
outputs:
  topic: ${params.topic_arn}
",
    );
    let stack = p.ok("\
stack: demo
modules:
  sub:
    source: ./modules/sub
    inputs:
      topic_arn: ${events.arn}
      labels: [a, b]
resources:
  events:
    type: test.topic
  echo:
    type: test.queue
    properties:
      source_arn: ${sub.topic}
");
    let queue = &stack.resources["sub.queue"];
    assert_eq!(
        queue.properties["source_arn"],
        Expr::Concat {
            pieces: vec![
                Piece::Text {
                    text: "from ".into()
                },
                Piece::Ref {
                    reference: Reference::resource("events", "arn")
                },
            ]
        }
    );
    assert_eq!(
        queue.properties["labels"],
        Expr::Value {
            value: Value::List(vec![Value::str("a"), Value::str("b")])
        }
    );
    assert_eq!(queue.dependencies(), BTreeSet::from(["events".to_string()]));
    assert_eq!(
        stack.resources["echo"].properties["source_arn"],
        reference("events", "arn")
    );
}

#[test]
fn an_error_inside_a_module_points_at_the_module_file_with_a_note_at_the_stack_line() {
    let p = Project::new();
    p.write(
        "modules/bad/module.yaml",
        "module: bad\nresources:\n  q:\n    type: test.queue\n    properties:\n      visiblity_timeout_seconds: 5\n",
    );
    let text = p.errors("stack: demo\nmodules:\n  net:\n    source: ./modules/bad\n");
    assert_contains(
        &text,
        &[
            "error: unknown property `visiblity_timeout_seconds` on test.queue",
            "ROOT/modules/bad/module.yaml:6:7",
            "note: in module `net` (`./modules/bad`), used at ROOT/stack.yaml:3:3",
            "help: did you mean `visibility_timeout_seconds`?",
        ],
    );
}

#[test]
fn referencing_a_resource_inside_a_module_is_an_error_naming_its_outputs() {
    let p = Project::new();
    p.write("modules/q/module.yaml", QUEUE_MODULE);
    let text = p.errors(
        "\
stack: demo
modules:
  net: { source: ./modules/q }
resources:
  r:
    type: test.queue
    properties: { dead_letter_arn: \"${net.dlq}\" }
",
    );
    assert_contains(
        &text,
        &[
            "error: `${net.dlq}`: only outputs of module `net` can be referenced; it has: `queue_url`, `queue_arn`, `dlq_arn`",
            "ROOT/stack.yaml:7:37",
        ],
    );
}

#[test]
fn a_cycle_across_the_module_boundary_is_found_and_names_both_files() {
    let p = Project::new();
    p.write(
        "modules/echo/module.yaml",
        "\
module: echo
params:
  source: { type: string }
resources:
  inner:
    type: test.queue
    properties:
      source_arn: ${params.source}
outputs:
  arn: ${inner.arn}
",
    );
    let text = p.errors(
        "\
stack: demo
modules:
  echo:
    source: ./modules/echo
    inputs: { source: \"${outer.arn}\" }
resources:
  outer:
    type: test.queue
    properties:
      dead_letter_arn: ${echo.arn}
",
    );
    assert_contains(
        &text,
        &[
            "error: dependency cycle: outer -> echo.inner -> outer",
            "ROOT/stack.yaml:7:3",
            "note: `outer` uses `echo.inner` through `${echo.arn}` at ROOT/stack.yaml:10:24",
            "note: `echo.inner` uses `outer` through `${params.source}` (input `source` of module `echo` set at ROOT/stack.yaml:5:23) at ROOT/modules/echo/module.yaml:8:19",
        ],
    );
}

#[test]
fn inputs_are_checked_like_params_at_the_module_entry_in_the_stack() {
    let p = Project::new();
    p.write(
        "modules/q/module.yaml",
        &QUEUE_MODULE.replace("params:\n", "params:\n  team: { type: string }\n"),
    );
    let text = p.errors(
        "\
stack: demo
modules:
  jobs:
    source: ./modules/q
    inputs:
      visibility: lots
      env: staging
      colour: blue
",
    );
    assert_contains(
        &text,
        &[
            "error: module `jobs` needs input `team`",
            "ROOT/stack.yaml:3:3",
            "help: add `team: VALUE` (a string) under `inputs:`",
            "error: input `visibility` of module `jobs` must be a number, not the string `lots`",
            "ROOT/stack.yaml:6:19",
            "error: `staging` is not an allowed value of param `env` (input of module `jobs`)",
            "error: module `jobs` has no input `colour`",
            "ROOT/stack.yaml:8:7",
        ],
    );
}

#[test]
fn nested_modules_carry_the_whole_path_in_addresses_names_and_notes() {
    let p = Project::new();
    p.write("modules/q/module.yaml", QUEUE_MODULE);
    p.write(
        "modules/outer/module.yaml",
        "\
module: outer
modules:
  inner: { source: ../q, inputs: { env: prod } }
resources:
  topic:
    type: test.topic
outputs:
  queue_arn: ${inner.queue_arn}
",
    );
    let stack = p.ok("\
stack: orders
modules:
  outer: { source: ./modules/outer }
outputs:
  arn: ${outer.queue_arn}
");
    let addresses: Vec<&str> = stack.resources.keys().map(String::as_str).collect();
    assert_eq!(
        addresses,
        ["outer.inner.dlq", "outer.inner.queue", "outer.topic"]
    );
    assert_eq!(
        stack.resources["outer.inner.queue"].properties["name"],
        Expr::value("orders-outer-inner-queue")
    );
    assert_eq!(
        stack.resources["outer.inner.queue"].properties["dead_letter_arn"],
        reference("outer.inner.dlq", "arn")
    );
    assert_eq!(
        stack.outputs["arn"].value,
        reference("outer.inner.queue", "arn")
    );

    p.write(
        "modules/outer/module.yaml",
        "module: outer\nmodules:\n  inner: { source: ../q, inputs: { env: qa } }\n",
    );
    let text = p.errors("stack: orders\nmodules:\n  outer: { source: ./modules/outer }\n");
    assert_contains(
        &text,
        &[
            "ROOT/modules/outer/module.yaml:3:41",
            "note: in module `outer.inner` (`../q`), used at ROOT/modules/outer/module.yaml:3:3",
            "note: in module `outer` (`./modules/outer`), used at ROOT/stack.yaml:3:3",
        ],
    );
}

#[test]
fn a_module_that_uses_itself_and_keys_a_module_cannot_have_are_errors() {
    let p = Project::new();
    p.write(
        "modules/loop/module.yaml",
        "module: loop\nregion: eu-west-1\nmodules:\n  again: { source: . }\n",
    );
    let text = p.errors("stack: demo\nmodules:\n  l: { source: ./modules/loop }\n");
    assert_contains(
        &text,
        &[
            "error: a module cannot set `region`",
            "error: module `again` (`.`) uses itself",
        ],
    );
}

#[test]
fn a_published_module_is_loaded_from_the_verified_cache_and_never_unfetched_or_tampered() {
    let p = Project::new();
    p.write("strata.toml", "[registries]\nacme = \"./registry\"\n");
    let src = p.path().join("src/q");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("module.yaml"), QUEUE_MODULE).unwrap();
    let store = DirStore::new(p.path().join("registry"), "./registry");
    registry::publish(&store, &src).unwrap();
    let stack = "\
stack: orders
modules:
  jobs: { source: acme/queue-with-dlq, version: \"^1.0\" }
";
    let text = p.errors(stack);
    assert_contains(
        &text,
        &[
            "error: module `acme/queue-with-dlq` is not fetched: there is no strata.lock beside the stack",
            "ROOT/stack.yaml:3:19",
            "help: run `strata module fetch`",
        ],
    );

    let fetched = registry::fetch(
        &p.path().join("stack.yaml"),
        &mut |_: &str, _: &str| unreachable!("no S3 here"),
        false,
    )
    .unwrap();
    assert_eq!(
        fetched
            .iter()
            .map(|f| &f.entry)
            .collect::<Vec<&LockedModule>>()[0]
            .version,
        "1.0.0"
    );
    let loaded = p.ok(stack);
    assert!(loaded.resources.contains_key("jobs.queue"));

    let cached = p
        .path()
        .join(".strata/modules/acme/queue-with-dlq/1.0.0/module.yaml");
    fs::write(&cached, QUEUE_MODULE.replace("default: 30", "default: 31")).unwrap();
    let text = p.errors(stack);
    assert_contains(
        &text,
        &["checksum mismatch for module `acme/queue-with-dlq` 1.0.0"],
    );
    let err = registry::Cache::new(p.path())
        .verified(&fetched[0].entry)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Checksum);

    let other = p.errors(&stack.replace("^1.0", "^2"));
    assert_contains(
        &other,
        &["no version of `acme/queue-with-dlq` matching `^2` is pinned in strata.lock (it pins 1.0.0)"],
    );
}

#[test]
fn a_module_resource_and_a_stack_resource_cannot_share_a_physical_name() {
    let p = Project::new();
    p.write("modules/q/module.yaml", QUEUE_MODULE);
    let text = p.errors(
        "\
stack: orders
modules:
  jobs: { source: ./modules/q }
resources:
  jobs_queue:
    type: test.queue
",
    );
    assert_contains(
        &text,
        &[
            "error: resources `jobs.queue` and `jobs_queue` would both be the test.queue named `orders-jobs-queue`",
            "ROOT/stack.yaml:5:3",
            "help: rename one of them, or give one its own `name:`",
        ],
    );
}

/// A module with a function whose code is in its own directory, and one whose code path is an
/// input.
const FUNCTION_MODULE: &str = "\
module: fn
version: 1.0.0
params:
  other_code: { type: string }
resources:
  own:
    type: test.function
    properties:
      code: { path: ./src/../src }
  given:
    type: test.function
    properties:
      code: { path: \"${params.other_code}\" }
";

/// The `code.path` the loader gave `address`.
fn code_path(stack: &Stack, address: &str) -> Expr {
    match &stack.resources[address].properties["code"] {
        Expr::Map { entries } => entries["path"].clone(),
        Expr::Value {
            value: Value::Map(map),
        } => Expr::Value {
            value: map["path"].clone(),
        },
        other => panic!("code of {address} is {other:?}"),
    }
}

#[test]
fn a_local_path_written_in_a_module_is_taken_from_the_modules_directory() {
    let p = Project::new();
    p.write("modules/fn/module.yaml", FUNCTION_MODULE);
    p.write("modules/fn/src/handler.py", "");
    p.write("app/handler.py", "");
    let absolute = p.path().join("app").display().to_string();
    p.write(
        "modules/outer/module.yaml",
        &format!("module: outer\nmodules:\n  inner: {{ source: ../fn, inputs: {{ other_code: {absolute} }} }}\n"),
    );
    p.write("shared/fn/module.yaml", FUNCTION_MODULE);
    p.write("shared/fn/src/handler.py", "");
    let stack = p.ok("\
stack: shop
modules:
  api: { source: ./modules/fn, inputs: { other_code: ./app } }
  outer: { source: ./modules/outer }
resources:
  direct:
    type: test.function
    properties:
      code: { path: ./app }
");
    // Written in the module: from the module's directory, as a path from the stack's.
    assert_eq!(code_path(&stack, "api.own"), Expr::value("modules/fn/src"));
    assert_eq!(
        code_path(&stack, "outer.inner.own"),
        Expr::value("modules/fn/src")
    );
    // Given by the stack as an input, or written in the stack: as written.
    assert_eq!(code_path(&stack, "api.given"), Expr::value("./app"));
    assert_eq!(code_path(&stack, "direct"), Expr::value("./app"));
    // Absolute: as written.
    assert_eq!(
        code_path(&stack, "outer.inner.given"),
        Expr::value(absolute.as_str())
    );

    // A stack in a subdirectory using a module beside it.
    let nested = p.write(
        "stacks/shop/stack.yaml",
        "stack: shop\nmodules:\n  api: { source: ../../shared/fn, inputs: { other_code: . } }\n",
    );
    let stack = load(&nested, &LoadOptions::default(), &catalog()).unwrap();
    assert_eq!(
        code_path(&stack, "api.own"),
        Expr::value("../../shared/fn/src")
    );
}

#[test]
fn a_local_path_in_a_published_module_is_taken_from_its_unpacked_cache_directory() {
    let p = Project::new();
    p.write("strata.toml", "[registries]\nacme = \"./registry\"\n");
    let src = p.write("src/fn/module.yaml", FUNCTION_MODULE);
    p.write(
        "src/fn/src/handler.py",
        "def handle(event, context):\n    return 1\n",
    );
    let store = DirStore::new(p.path().join("registry"), "./registry");
    registry::publish(&store, src.parent().unwrap()).unwrap();
    let stack = "stack: shop\nmodules:\n  api: { source: acme/fn, version: \"^1\", inputs: { other_code: . } }\n";
    p.write("stack.yaml", stack);
    registry::fetch(
        &p.path().join("stack.yaml"),
        &mut |_: &str, _: &str| unreachable!("no S3 here"),
        false,
    )
    .unwrap();
    let loaded = p.ok(stack);
    let Expr::Value {
        value: Value::String(path),
    } = code_path(&loaded, "api.own")
    else {
        panic!("code.path is not a string");
    };
    assert_eq!(path, ".strata/modules/acme/fn/1.0.0/src");
    assert!(
        p.path().join(&path).join("handler.py").is_file(),
        "the unpacked module holds its code at {path}"
    );
}

#[test]
fn a_local_path_that_does_not_exist_is_an_error_at_its_line_in_the_stack_or_the_module() {
    let p = Project::new();
    p.write("modules/fn/module.yaml", FUNCTION_MODULE);
    let text = p.errors(
        "\
stack: shop
modules:
  api: { source: ./modules/fn, inputs: { other_code: . } }
resources:
  direct:
    type: test.function
    properties:
      code: { path: ./app }
",
    );
    assert_contains(
        &text,
        &[
            "error: `code.path` names `./app`, which does not exist (looked for ROOT/app)",
            "ROOT/stack.yaml:8:21",
            "help: a relative path is taken from the stack file's directory; create it or correct the path",
            "error: `code.path` names `./src/../src`, which does not exist (looked for ROOT/modules/fn/src)",
            "ROOT/modules/fn/module.yaml:9:21",
            "help: a relative path is taken from this module's directory",
            "note: in module `api` (`./modules/fn`), used at ROOT/stack.yaml:3:3",
        ],
    );
}

#[test]
fn a_module_has_locals_of_its_own_and_file_functions_read_in_its_directory() {
    let p = Project::new();
    p.write("modules/sub/greeting.tpl", "hello ${who}");
    p.write(
        "modules/sub/module.yaml",
        "\
module: sub
params:
  topic_arn: { type: string }
  env: { type: string, default: dev }
locals:
  prefix: ${upper(params.env)}
  source: ${format(\"%s:%s\", locals.prefix, params.topic_arn)}
resources:
  queue:
    type: test.queue
    properties:
      source_arn: ${locals.source}
      labels:
        - ${templatefile(\"greeting.tpl\", { who = locals.prefix })}
        - ${file(\"../../secret.txt\")}
",
    );
    p.write("secret.txt", "nope");
    let text = p.errors(
        "\
stack: demo
locals:
  prefix: stack-local
modules:
  sub:
    source: ./modules/sub
    inputs:
      topic_arn: ${events.arn}
resources:
  events:
    type: test.topic
",
    );
    assert_contains(
        &text,
        &["outside the stack's directory", "module.yaml:15:13"],
    );

    p.write(
        "modules/sub/module.yaml",
        &fs::read_to_string(p.path().join("modules/sub/module.yaml"))
            .unwrap()
            .replace("        - ${file(\"../../secret.txt\")}\n", ""),
    );
    let stack = p.ok("\
stack: demo
locals:
  prefix: stack-local
modules:
  sub:
    source: ./modules/sub
    inputs:
      topic_arn: ${events.arn}
resources:
  events:
    type: test.topic
");
    let queue = &stack.resources["sub.queue"];
    assert_eq!(queue.dependencies(), BTreeSet::from(["events".to_string()]));
    assert_eq!(
        queue.properties["labels"],
        Expr::Value {
            value: Value::List(vec![Value::str("hello DEV")])
        }
    );
    let Expr::Lang { .. } = &queue.properties["source_arn"] else {
        panic!("{:?}", queue.properties["source_arn"]);
    };
}

/// Pins `acme/NAME` 1.0.0, packed from `src`, in strata.lock and the cache, as `strata module
/// fetch` would (without its checks, so a module fetch refuses can still reach the loader).
fn pin(p: &Project, name: &str, src: &Path) {
    let bytes = registry::archive::package(src).unwrap();
    let entry = LockedModule {
        name: format!("acme/{name}"),
        version: "1.0.0".into(),
        source: format!("./registry/{name}/1.0.0.zip"),
        sha256: files::digest::sha256_hex(&bytes),
    };
    registry::Cache::new(p.path())
        .store(&entry, &bytes)
        .unwrap();
    registry::LockFile {
        version: registry::LOCK_VERSION,
        modules: vec![entry],
    }
    .save(p.path())
    .unwrap();
}

#[test]
fn a_published_module_is_confined_to_its_archive_for_local_paths_and_file_functions() {
    let p = Project::new();
    p.write("strata.toml", "[registries]\nacme = \"./registry\"\n");
    p.write("private/handler.py", "SECRET = 1\n");
    let absolute = p.path().join("private").display().to_string();
    let module = format!(
        "\
module: fn
version: 1.0.0
resources:
  inside:
    type: test.function
    properties:
      code: {{ path: src }}
  escapes:
    type: test.function
    properties:
      code: {{ path: ../../../../../private }}
  absolute:
    type: test.function
    properties:
      code: {{ path: {absolute} }}
  reads:
    type: test.queue
    properties:
      labels:
        - ${{file(\"../../../../../private/handler.py\")}}
  passed:
    type: test.function
    properties:
      code: {{ path: \"${{params.given_code}}\" }}
  defaulted:
    type: test.function
    properties:
      code: {{ path: \"${{params.default_code}}\" }}
params:
  given_code: {{ type: string, default: src }}
  default_code: {{ type: string, default: ../../../../../private }}
"
    );
    let src = p.write("src/fn/module.yaml", &module);
    p.write("src/fn/src/handler.py", "def handle(e, c):\n    return 1\n");
    pin(&p, "fn", src.parent().unwrap());
    // The stack gives `given_code`: a path of the stack's choosing, as in a local module.
    let stack = "stack: shop\nmodules:\n  api: { source: acme/fn, version: \"^1\", inputs: { given_code: ./private } }\n";
    let text = p.errors(stack);
    let cached = "ROOT/.strata/modules/acme/fn/1.0.0/module.yaml";
    assert_contains(
        &text,
        &[
            "error: `code.path` names `../../../../../private`, which is outside this published module's directory",
            &format!("{cached}:11:21"),
            "help: a published module uses only what its archive holds (.strata/modules/acme/fn/1.0.0)",
            &format!("error: `code.path` names `{absolute}`, which is outside this published module's directory")
                .replace(&p.path().display().to_string(), "ROOT"),
            &format!("{cached}:15:21"),
            "outside the stack's directory",
            &format!("{cached}:20:13"),
            "error: `code.path` is built from `${...}` in a published module, so it could name a path outside the module",
            &format!("{cached}:28:"),
            "note: in module `api` (`acme/fn`), used at ROOT/stack.yaml:3:3",
        ],
    );
    assert!(!text.contains(&format!("{cached}:24:")), "{text}");
    assert!(
        !text.contains("names `src`"),
        "a path inside the module is fine:\n{text}"
    );

    // The same file as a local module keeps today's behaviour: its paths are the stack's files.
    p.write(
        "local/a/b/c/d/module.yaml",
        &module.replace("  reads:\n", "  unused:\n").replace(
            "        - ${file(\"../../../../../private/handler.py\")}\n",
            "        - plain\n",
        ),
    );
    p.write("local/a/b/c/d/src/handler.py", "");
    let loaded = p.ok("stack: shop\nmodules:\n  api: { source: ./local/a/b/c/d }\n");
    assert_eq!(code_path(&loaded, "api.escapes"), Expr::value("private"));
}

#[test]
fn a_local_module_inside_a_published_module_must_stay_inside_it() {
    let p = Project::new();
    p.write("strata.toml", "[registries]\nacme = \"./registry\"\n");
    p.write(
        "local/module.yaml",
        "module: local\nresources:\n  q: { type: test.queue }\n",
    );
    p.write("private/handler.py", "");
    let src = p.write(
        "src/outer/module.yaml",
        "\
module: outer
version: 1.0.0
modules:
  inner: { source: ./inner }
  escapes: { source: ../../../../../local }
",
    );
    p.write(
        "src/outer/inner/module.yaml",
        "\
module: inner
resources:
  fine:
    type: test.function
    properties:
      code: { path: ../src }
  out:
    type: test.function
    properties:
      code: { path: ../../../../../../private }
",
    );
    p.write("src/outer/src/handler.py", "");
    let stack = "stack: shop\nmodules:\n  app: { source: acme/outer, version: \"^1\" }\n";
    p.write("stack.yaml", stack);

    // `module fetch` refuses to follow it.
    let store = DirStore::new(p.path().join("registry"), "./registry");
    registry::publish(&store, src.parent().unwrap()).unwrap();
    let err = registry::fetch(
        &p.path().join("stack.yaml"),
        &mut |_: &str, _: &str| unreachable!("no S3 here"),
        false,
    )
    .unwrap_err();
    assert_contains(
        &err.message,
        &[
            "module.yaml:5: module `escapes`: `../../../../../local` is outside this published module's directory",
        ],
    );
    assert!(!p.path().join("strata.lock").exists());

    // And so does the loader, given a pin made some other way.
    pin(&p, "outer", src.parent().unwrap());
    let text = p.errors(stack);
    let cached = "ROOT/.strata/modules/acme/outer/1.0.0";
    assert_contains(
        &text,
        &[
            "error: module `escapes` (`../../../../../local`) is outside this published module's directory",
            &format!("{cached}/module.yaml:5:22"),
            "error: `code.path` names `../../../../../../private`, which is outside this published module's directory",
            &format!("{cached}/inner/module.yaml:10:21"),
            "help: a published module uses only what its archive holds (.strata/modules/acme/outer/1.0.0)",
        ],
    );
    assert!(!text.contains("`../src`"), "{text}");
    assert!(!text.contains("app.escapes.q"), "{text}");
}
