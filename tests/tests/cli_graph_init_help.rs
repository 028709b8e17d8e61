//! The commands that need no cloud: `graph`, `init`, `schema`, `completions`, and `--help`.

use strata_tests::{assert_code, run_strata};

const EXAMPLE: &str = include_str!("../../examples/queue-and-topic/stack.yaml");

#[test]
fn graph_prints_the_dependency_graph_as_mermaid_and_dot() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), EXAMPLE).unwrap();
    let mermaid = run_strata(dir.path(), &["graph", "--format", "mermaid"], &[]);
    assert_code(&mermaid, 0);
    insta::assert_snapshot!("graph_mermaid", mermaid.stdout);
    let dot = run_strata(dir.path(), &["graph"], &[]);
    assert_code(&dot, 0);
    insta::assert_snapshot!("graph_dot", dot.stdout);
}

#[test]
fn init_writes_a_stack_that_validates_and_never_overwrites_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_strata(dir.path(), &["init", "orders"], &[]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("(stack `orders`)"), "{}", run.stdout);
    let project = dir.path().join("orders");
    assert!(project.join(".gitignore").is_file());

    let run = run_strata(&project, &["validate"], &[]);
    assert_code(&run, 0);
    assert_eq!(
        run.stdout,
        "The stack `orders` is valid: 5 resources, 2 outputs.\n"
    );

    let before = std::fs::read(project.join("stack.yaml")).unwrap();
    let run = run_strata(dir.path(), &["init", "orders"], &[]);
    assert_code(&run, 1);
    insta::assert_snapshot!(run.stderr, @r"
    error: orders/stack.yaml already exists; refusing to overwrite it
      help: run `strata init DIR` to start a stack in another directory
    ");
    assert_eq!(std::fs::read(project.join("stack.yaml")).unwrap(), before);

    // Without a directory: the stack file -f names, here in the current directory.
    let run = run_strata(&project, &["init", "-f", "other.yaml"], &[]);
    assert_code(&run, 0);
    let run = run_strata(&project, &["validate", "-f", "other.yaml"], &[]);
    assert_code(&run, 0);
}

#[test]
fn every_command_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &["init"],
        &["validate"],
        &["plan"],
        &["apply"],
        &["destroy"],
        &["output"],
        &["drift"],
        &["import"],
        &["state"],
        &["state", "list"],
        &["state", "show"],
        &["state", "rm"],
        &["state", "mv"],
        &["state", "pull"],
        &["state", "push"],
        &["force-unlock"],
        &["graph"],
        &["schema"],
        &["completions"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let run = run_strata(dir.path(), &args, &[]);
        assert_code(&run, 0);
        assert!(
            run.stdout.contains("Example"),
            "`strata {}` has no example:\n{}",
            command.join(" "),
            run.stdout
        );
    }
}

#[test]
fn completions_and_the_schema_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_strata(dir.path(), &["completions", "bash"], &[]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("strata"), "{}", run.stdout);
    assert!(run.stdout.contains("force-unlock"), "{}", run.stdout);

    let run = run_strata(dir.path(), &["schema"], &[]);
    assert_code(&run, 0);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let types = schema["definitions"]["resource"]["properties"]["type"]["enum"]
        .as_array()
        .unwrap();
    assert!(types.iter().any(|t| t == "aws.sqs.queue"), "{types:?}");
}

#[test]
fn a_usage_error_exits_1_never_2_which_means_changes() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_strata(dir.path(), &["plan", "--json", "--format", "markdown"], &[]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    let run = run_strata(
        dir.path(),
        &["apply", "saved.plan", "--target", "work"],
        &[],
    );
    assert_code(&run, 1);
}

#[test]
fn version_names_the_release_and_the_commit_it_was_built_from() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_strata(dir.path(), &["--version"], &[]);
    assert_code(&run, 0);
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(strata_tests::workspace_root())
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap();
    assert_eq!(
        run.stdout.trim(),
        format!("strata {} ({})", env!("CARGO_PKG_VERSION"), head.trim())
    );
}
