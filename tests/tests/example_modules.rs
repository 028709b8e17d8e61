//! The modules example as a user drives it: a VPC module and a Lambda module from directories,
//! two instances of a queue module from the `acme` directory registry, fetched into the lock
//! and applied through the built binary against the emulator. The Lambda module's code sits in
//! the module's own directory, so the function's code must be the package of `function/src`.

use providers::lambda::code::package_path;
use strata_tests::kit::{self, event_source_arns, function_names, queue_names};
use strata_tests::{assert_code, assert_contains, copy_dir, run_strata, workspace_root, Emulator};

#[tokio::test(flavor = "multi_thread")]
async fn the_modules_example_applies_with_module_code_from_the_module_directory() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace_root().join("examples/modules"), dir.path());
    let env = emu.aws_env();
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);
    let ctx = kit::context(&emu);

    assert_code(&strata(&["module", "fetch"]), 0);

    // A module instance as a target: its resources and what they depend on.
    let run = strata(&["plan", "--target", "net"]);
    assert_code(&run, 0);
    assert_contains(
        &run.stdout,
        &["Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy."],
    );
    let run = strata(&["plan", "--target", "worker"]);
    assert_code(&run, 0);
    assert_contains(
        &run.stdout,
        &[
            "+ worker.role (",
            "+ worker.function (",
            "+ worker.from_queue (",
            "+ jobs.queue (",
            "+ jobs.dlq (",
            "Plan: 5 to add, 0 to change, 0 to replace, 0 to destroy.",
        ],
    );

    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_contains(
        &run.stdout,
        &[
            "Apply complete: 12 added",
            "worker = \"platform-worker-function\"",
        ],
    );

    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let function = lambda
        .get_function_configuration()
        .function_name("platform-worker-function")
        .send()
        .await
        .unwrap();
    let expected = package_path(&dir.path().join("function/src")).unwrap();
    assert_eq!(
        function.code_sha256.as_deref(),
        Some(expected.sha256.as_str()),
        "the function runs the code beside the module, function/src"
    );
    assert!(function
        .role
        .as_deref()
        .unwrap()
        .ends_with(":role/platform-worker-role"));
    let sources = event_source_arns(&ctx, "platform-worker-function").await;
    assert_eq!(sources.len(), 1);
    assert!(sources[0].ends_with(":platform-jobs-queue"), "{sources:?}");

    assert_code(&strata(&["plan", "--detailed-exitcode"]), 0);
    // The same from another directory, naming the stack file.
    let run = run_strata(
        dir.path().parent().unwrap(),
        &[
            "-f",
            dir.path().join("stack.yaml").to_str().unwrap(),
            "plan",
            "--detailed-exitcode",
        ],
        &env,
    );
    assert_code(&run, 0);

    // Changed code in the module directory is one in-place update of the function.
    std::fs::write(
        dir.path().join("function/src/handler.py"),
        "def handle(event, context):\n    return {}\n",
    )
    .unwrap();
    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert_contains(
        &run.stdout,
        &[
            "~ worker.function",
            "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.",
        ],
    );

    let run = strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(queue_names(&ctx).await.is_empty());
    let functions = function_names(&ctx).await;
    assert!(functions.is_empty(), "{functions:?}");
}
