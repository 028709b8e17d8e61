//! Stack references through the built binary against the emulator, with the
//! `examples/multi-stack` pair: `app` reads `network`'s outputs from its local state, a second
//! plan of `app` is clean, `network`'s plan that changes an output `app` reads names `app`, and
//! a reference to an output the other stack does not have exits 1 at its file:line:column.

use std::path::Path;

use strata_tests::{assert_code, copy_dir, run_strata, Emulator};

fn example() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/multi-stack");
    copy_dir(&from, root.path());
    root
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_reads_another_stacks_outputs_and_the_producer_names_it_as_a_reader() {
    let emu = Emulator::start();
    let env = emu.aws_env();
    let root = example();
    let network = root.path().join("network");
    let app = root.path().join("app");

    // Before the network exists, app says what to do.
    let run = run_strata(&app, &["plan"], &env);
    assert_code(&run, 1);
    assert!(
        run.stderr.contains("stack reference `network` at")
            && run.stderr.contains("apply that stack first"),
        "{}",
        run.stderr
    );

    let run = run_strata(&network, &["apply", "--auto-approve"], &env);
    assert_code(&run, 0);
    let run = run_strata(&network, &["output", "--json"], &env);
    let outputs: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let vpc_id = outputs["vpc_id"]["value"].as_str().unwrap().to_string();

    let run = run_strata(&app, &["plan"], &env);
    assert_code(&run, 0);
    assert!(run.stdout.contains(&vpc_id), "{}", run.stdout);
    assert!(run.stdout.contains("10.20.0.0/16"), "{}", run.stdout);
    let run = run_strata(&app, &["apply", "--auto-approve"], &env);
    assert_code(&run, 0);
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk_config(providers::aws::http_client()).await);
    let groups = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:strata:stack")
                .values("app")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(groups.security_groups().len(), 1, "{groups:?}");
    assert_eq!(groups.security_groups()[0].vpc_id(), Some(vpc_id.as_str()));
    let run = run_strata(&app, &["plan", "--detailed-exitcode"], &env);
    assert_code(&run, 0);

    // The network's plan that replaces the VPC names app as a reader of what changes.
    let run = run_strata(&network, &["plan", "--var", "cidr=10.30.0.0/16"], &env);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("! vpc_cidr is read by stacks: app")
            && run.stdout.contains("! vpc_id is read by stacks: app"),
        "{}",
        run.stdout
    );
    let run = run_strata(
        &network,
        &["plan", "--var", "cidr=10.30.0.0/16", "--format", "json"],
        &env,
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json plan");
    assert_eq!(
        json["consumers"]["vpc_id"],
        serde_json::json!(["app"]),
        "{json}"
    );
    // A plan that changes nothing app reads names nobody.
    let run = run_strata(&network, &["plan"], &env);
    assert!(!run.stdout.contains("is read by stacks"), "{}", run.stdout);

    // An output the network does not have: exit 1 where it is written, listing what there is.
    let text = std::fs::read_to_string(app.join("stack.yaml")).unwrap();
    std::fs::write(
        app.join("stack.yaml"),
        text.replace("stack_refs.network.vpc_cidr", "stack_refs.network.vpc_cdir"),
    )
    .unwrap();
    let run = run_strata(&app, &["plan"], &env);
    assert_code(&run, 1);
    assert!(
        run.stderr
            .contains("stack `network` has no output `vpc_cdir`")
            && run.stderr.contains("did you mean `vpc_cidr`?")
            && run
                .stderr
                .contains("its outputs: `private_subnet_ids`, `vpc_cidr`, `vpc_id`")
            && run.stderr.contains("stack.yaml:22:28"),
        "{}",
        run.stderr
    );
    std::fs::write(app.join("stack.yaml"), text).unwrap();

    // Destroying app removes its record: the network's plans name nobody after.
    let run = run_strata(&app, &["destroy", "--auto-approve"], &env);
    assert_code(&run, 0);
    let run = run_strata(&network, &["plan", "--var", "cidr=10.30.0.0/16"], &env);
    assert!(!run.stdout.contains("is read by stacks"), "{}", run.stdout);
    let run = run_strata(&network, &["destroy", "--auto-approve"], &env);
    assert_code(&run, 0);
}
