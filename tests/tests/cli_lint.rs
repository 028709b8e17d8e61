//! `strata lint` through the built binary: each rule found at its property's line, with what
//! to do; `--skip`, JSON for tools, exit 1 on findings and 0 on a clean stack. No cloud call
//! (no emulator is started for these tests).

use strata_tests::{assert_code, assert_contains, run_strata, workspace_root};

const RISKY: &str = r#"stack: risky
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.0.0.0/16 }
  ssh:
    type: aws.ec2.security_group
    properties:
      vpc_id: ${vpc.id}
      description: Admin access
      ingress:
        - { protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [0.0.0.0/0] }
        - { protocol: tcp, from_port: 22, to_port: 22, cidr_blocks: [10.0.0.0/8, 0.0.0.0/0] }
  admin:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: { Effect: Allow, Principal: { AWS: "*" }, Action: sts:AssumeRole }
      managed_policy_arns: [arn:aws:iam::aws:policy/AdministratorAccess]
      inline_policies:
        everything:
          Version: "2012-10-17"
          Statement: [{ Effect: Allow, Action: "*", Resource: "*" }]
  inbox:
    type: aws.sqs.queue
    properties: { sqs_managed_sse_enabled: false }
  inbox_policy:
    type: aws.sqs.queue_policy
    properties:
      queue_url: ${inbox.url}
      policy:
        Version: "2012-10-17"
        Statement: { Effect: Allow, Principal: "*", Action: sqs:SendMessage, Resource: "${inbox.arn}" }
  handler:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: main.handle
      role: ${admin.arn}
      code: { s3_bucket: code, s3_key: handler.zip }
  public_invoke:
    type: aws.lambda.permission
    properties: { function_name: "${handler.name}", principal: "*" }
"#;

fn project(stack: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), stack).unwrap();
    dir
}

#[test]
fn every_rule_is_reported_at_its_resource_with_what_to_do() {
    let dir = project(RISKY);
    let run = run_strata(dir.path(), &["lint"], &[]);
    assert_code(&run, 1);
    let expected = [
        "high[SG001]: `ssh` lets the whole internet (0.0.0.0/0) reach port 22\n  --> stack.yaml:11:7",
        "medium[IAM002]: `admin` has AdministratorAccess\n  --> stack.yaml:20:7",
        "high[IAM003]: any AWS account may assume `admin`\n  --> stack.yaml:17:7",
        "high[IAM001]: `admin` allows every action on every resource (`inline_policies.everything`)\n  --> stack.yaml:21:7",
        "medium[SQS001]: `inbox` stores messages unencrypted\n  --> stack.yaml:27:19",
        "high[POL001]: `inbox_policy` lets anyone (sqs:SendMessage) without a condition\n  --> stack.yaml:32:7",
        "high[LMB001]: anyone may invoke the function through `public_invoke`\n  --> stack.yaml:44:53",
        "7 findings (5 high, 2 medium) in 7 resources.",
    ];
    assert_contains(&run.stdout, &expected);
    assert!(
        !run.stdout.contains("port 443"),
        "HTTPS from the internet is fine:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("= help: limit the rule's cidr_blocks"));
    assert!(!dir.path().join(".strata").exists(), "lint writes no state");

    let run = run_strata(
        dir.path(),
        &[
            "lint", "--skip", "SQS001", "--skip", "iam002", "--format", "json",
        ],
        &[],
    );
    assert_code(&run, 1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["SG001", "IAM003", "IAM001", "POL001", "LMB001"]);
    assert_eq!(json["findings"][0]["line"], 11);
    assert_eq!(json["findings"][0]["column"], 7);
    assert_eq!(json["findings"][0]["severity"], "high");
    assert_eq!(json["findings"][0]["address"], "ssh");

    let run = run_strata(dir.path(), &["lint", "--skip", "XYZ9"], &[]);
    assert_code(&run, 1);
    assert!(
        run.stderr.contains("there is no lint rule `XYZ9`"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_examples_are_clean() {
    for example in ["queue-and-topic", "serverless", "network"] {
        let stack = workspace_root()
            .join("examples")
            .join(example)
            .join("stack.yaml");
        let run = run_strata(
            &workspace_root(),
            &["-f", stack.to_str().unwrap(), "lint"],
            &[],
        );
        assert_code(&run, 0);
        assert!(run.stdout.starts_with("No findings in "), "{}", run.stdout);
    }
}
