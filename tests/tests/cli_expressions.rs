//! Expressions, functions and locals through the built binary: a stack computing names, CIDR
//! blocks, a policy document and a conditional applies against the emulator, a second plan is
//! clean, and what is known only after apply is evaluated once it is known. Mistakes in an
//! expression exit 1 at their `file:line:column` before any cloud call.

use strata_tests::dead_endpoint;
use strata_tests::kit::queue_urls;
use strata_tests::{assert_code, run_strata, Project};

const STACK: &str = r#"stack: exprs
params:
  env: { type: string, default: dev, allowed: [dev, prod] }
locals:
  prefix: ${stack.name}-${params.env}
  cidr: '10.${params.env == "prod" ? 1 : 2}.0.0/16'
  zones: [a, b]
  label: ${format("%s (%s)", vpc.id, upper(params.env))}
resources:
  vpc:
    type: aws.ec2.vpc
    properties:
      cidr_block: ${locals.cidr}
      tags:
        Name: ${format("%s-vpc", locals.prefix)}
        Zones: ${join("-", locals.zones)}
  subnet:
    type: aws.ec2.subnet
    properties:
      vpc_id: ${vpc.id}
      cidr_block: ${cidrsubnet(locals.cidr, 8, length(locals.zones))}
      tags:
        Netmask: ${cidrnetmask(locals.cidr)}
        Vpc: ${upper(vpc.id)}
  work:
    type: aws.sqs.queue
    properties:
      name: ${format("%s-%s", locals.prefix, "work")}
      visibility_timeout_seconds: '${params.env == "prod" ? 120 : 45}'
      policy: ${jsonencode({Version = "2012-10-17", Statement = [{Sid = "FromTopics", Effect = "Allow", Principal = {Service = "sns.amazonaws.com"}, Action = "sqs:SendMessage", Resource = "*"}]})}
outputs:
  subnet_cidr: ${subnet.cidr_block}
  label: ${locals.label}
  long_timeout: ${work.visibility_timeout_seconds > 60}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_with_locals_and_functions_applies_and_plans_clean() {
    let p = Project::new(STACK);
    let ctx = p.ctx();

    let run = p.strata(&["validate"]);
    assert_code(&run, 0);

    let run = p.strata(&["plan"]);
    assert_code(&run, 0);
    for shown in [
        "10.2.0.0/16",
        "10.2.2.0/24",
        "exprs-dev-vpc",
        "a-b",
        "255.255.0.0",
        "exprs-dev-work",
        "45",
        "(known after apply)",
    ] {
        assert!(run.stdout.contains(shown), "{shown} in:\n{}", run.stdout);
    }

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let queues = queue_urls(&ctx).await;
    assert!(
        queues.iter().any(|u| u.ends_with("/exprs-dev-work")),
        "{queues:?}"
    );

    let run = p.strata(&["output", "--json"]);
    assert_code(&run, 0);
    let outputs: serde_json::Value = serde_json::from_str(&run.stdout).expect("json outputs");
    assert_eq!(outputs["subnet_cidr"]["value"], "10.2.2.0/24", "{outputs}");
    let label = outputs["label"]["value"].as_str().unwrap_or_default();
    assert!(
        label.starts_with("vpc-") && label.ends_with(" (DEV)"),
        "{outputs}"
    );
    assert_eq!(outputs["long_timeout"]["value"], false, "{outputs}");

    let ec2 = aws_sdk_ec2::Client::new(&ctx.sdk);
    let subnets = ec2.describe_subnets().send().await.unwrap();
    let subnet = subnets
        .subnets()
        .iter()
        .find(|s| s.cidr_block() == Some("10.2.2.0/24"))
        .expect("the subnet exists");
    let vpc_tag = subnet
        .tags()
        .iter()
        .find(|t| t.key() == Some("Vpc"))
        .and_then(|t| t.value())
        .unwrap_or_default();
    assert_eq!(
        vpc_tag,
        subnet.vpc_id().unwrap_or_default().to_uppercase(),
        "the tag computed from the VPC's id once it was known"
    );

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // A saved plan of a change carries the expressions and applies as planned.
    let changed = STACK.replace("? 120 : 45", "? 120 : 50");
    p.write_stack(&changed);
    let run = p.strata(&["plan", "--out", "change.plan"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("45 -> 50"), "{}", run.stdout);
    let run = p.strata(&["apply", "change.plan"]);
    assert_code(&run, 0);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
}

const HEAD: &str = "stack: demo\nparams:\n  env: { type: string, default: dev }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n";

/// (what, the line under `properties:` or the whole stack, location, a phrase of the message)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "unknown function",
        "      name: ${uper(params.env)}\n",
        "stack.yaml:8:15",
        "unknown function `uper`",
    ),
    (
        "wrong number of arguments",
        "      name: ${upper(params.env, 2)}\n",
        "stack.yaml:8:15",
        "`upper` takes 1 argument, but 2 are given",
    ),
    (
        "wrong type of argument",
        "      name: ${join(\"-\", params.env)}\n",
        "stack.yaml:8:25",
        "argument 2 (`lists`) of `join` must be a list, not a string",
    ),
    (
        "cidrsubnet past its range",
        "      name: x-${cidrsubnet(\"10.0.0.0/16\", 8, 300)}\n",
        "stack.yaml:8:17",
        "prefix extension of 8 does not accommodate a subnet numbered 300",
    ),
    (
        "syntax error",
        "      name: ${params.env ==}\n",
        "stack.yaml:8:28",
        "expected a value, found end of expression",
    ),
    (
        "locals cycle",
        "stack: demo\nlocals:\n  a: ${locals.b}-x\n  b: ${upper(locals.a)}\n",
        "stack.yaml:4:14",
        "locals use each other in a cycle: locals.a -> locals.b -> locals.a",
    ),
];

#[test]
fn expression_mistakes_exit_1_at_their_column_before_any_cloud_call() {
    let env = dead_endpoint();
    let mut failures = Vec::new();
    for (what, text, location, phrase) in CASES {
        let dir = tempfile::tempdir().unwrap();
        let stack = if text.starts_with("stack:") {
            text.to_string()
        } else {
            format!("{HEAD}{text}")
        };
        std::fs::write(dir.path().join("stack.yaml"), stack).unwrap();
        for command in [&["validate"][..], &["plan"][..]] {
            let run = run_strata(dir.path(), command, &env);
            let ok = run.code == 1
                && run.stderr.contains(location)
                && run.stderr.contains(phrase)
                && !run.stderr.contains("dispatch failure")
                && !run.stderr.contains("panicked")
                && !dir.path().join(".strata").exists();
            if !ok {
                failures.push(format!(
                    "{what} / strata {}: exit {} (want 1, `{location}`, `{phrase}`)\n{}",
                    command.join(" "),
                    run.code,
                    run.stderr
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
