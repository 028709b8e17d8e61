//! The lint rules on the real catalogue, case by case: what each flags, and the near misses it
//! must leave alone (HTTPS from anywhere, a condition on an open principal, an unknown port).

use std::path::Path;

use planner::lint::lint;
use stacks::{load_str, LoadOptions};

/// The rule ids `lint` reports for a stack of `resources` (YAML under `resources:`).
fn rules(resources: &str) -> Vec<&'static str> {
    let text = format!("stack: l\nresources:\n{resources}");
    let catalog = providers::catalog();
    let stack = load_str(
        Path::new("stack.yaml"),
        &text,
        &LoadOptions::default(),
        &catalog,
    )
    .unwrap_or_else(|d| panic!("{}", d.render(false)));
    lint(&stack, &catalog, &[])
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

fn group(rule: &str) -> String {
    format!(
        "  sg:\n    type: aws.ec2.security_group\n    properties:\n      vpc_id: vpc-1\n      description: d\n      ingress: [{rule}]\n"
    )
}

#[test]
fn security_group_rules_open_to_the_internet() {
    let open = |rule: &str| rules(&group(rule));
    assert_eq!(
        open("{ protocol: tcp, from_port: 22, to_port: 22, cidr_blocks: [0.0.0.0/0] }"),
        ["SG001"]
    );
    assert_eq!(
        open("{ protocol: tcp, from_port: 0, to_port: 65535, ipv6_cidr_blocks: [\"::/0\"] }"),
        ["SG001"]
    );
    assert_eq!(
        open("{ protocol: all, cidr_blocks: [0.0.0.0/0] }"),
        ["SG001"]
    );
    // Web ports from anywhere, or anything from a private range: fine.
    assert!(
        open("{ protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [0.0.0.0/0] }")
            .is_empty()
    );
    assert!(
        open("{ protocol: tcp, from_port: 80, to_port: 80, cidr_blocks: [0.0.0.0/0] }").is_empty()
    );
    assert!(
        open("{ protocol: tcp, from_port: 22, to_port: 22, cidr_blocks: [10.0.0.0/8] }").is_empty()
    );
    // A range that includes 443 is still more than HTTPS.
    assert_eq!(
        open("{ protocol: tcp, from_port: 80, to_port: 443, cidr_blocks: [0.0.0.0/0] }"),
        ["SG001"]
    );
}

#[test]
fn iam_documents_granting_everything() {
    let role = |extra: &str| {
        rules(&format!(
            "  r:\n    type: aws.iam.role\n    properties:\n      assume_role_policy:\n        Statement: {{ Effect: Allow, Principal: {{ Service: lambda.amazonaws.com }}, Action: sts:AssumeRole }}\n{extra}"
        ))
    };
    assert!(role("").is_empty());
    assert_eq!(
        role("      inline_policies:\n        all: { Statement: [{ Effect: Allow, Action: [\"*\"], Resource: \"*\" }] }\n"),
        ["IAM001"]
    );
    // `*` actions on one resource, or a Deny of everything: not flagged.
    assert!(role("      inline_policies:\n        one: { Statement: { Effect: Allow, Action: \"*\", Resource: arn:aws:sqs:us-east-1:1:q } }\n").is_empty());
    assert!(role("      inline_policies:\n        deny: { Statement: { Effect: Deny, Action: \"*\", Resource: \"*\" } }\n").is_empty());
    assert_eq!(
        rules("  p:\n    type: aws.iam.policy\n    properties:\n      policy: { Statement: { Effect: Allow, Action: \"*\", Resource: \"*\" } }\n"),
        ["IAM001"]
    );
    assert_eq!(
        role("      managed_policy_arns: [arn:aws:iam::aws:policy/AdministratorAccess]\n"),
        ["IAM002"]
    );
    let trust = |principal: &str, condition: &str| {
        rules(&format!(
            "  r:\n    type: aws.iam.role\n    properties:\n      assume_role_policy:\n        Statement: {{ Effect: Allow, Principal: {principal}, Action: sts:AssumeRole{condition} }}\n"
        ))
    };
    assert_eq!(trust("{ AWS: \"*\" }", ""), ["IAM003"]);
    assert_eq!(trust("\"*\"", ""), ["IAM003"]);
    assert!(trust(
        "{ AWS: \"*\" }",
        ", Condition: { StringEquals: { sts:ExternalId: x } }"
    )
    .is_empty());
}

#[test]
fn resource_policies_and_permissions_open_to_anyone() {
    let queue_policy = |statement: &str| {
        rules(&format!(
            "  q:\n    type: aws.sqs.queue_policy\n    properties:\n      queue_url: https://q\n      policy: {{ Statement: {statement} }}\n"
        ))
    };
    assert_eq!(
        queue_policy(
            "{ Effect: Allow, Principal: \"*\", Action: sqs:SendMessage, Resource: \"*\" }"
        ),
        ["POL001"]
    );
    assert!(queue_policy("{ Effect: Allow, Principal: \"*\", Action: sqs:SendMessage, Resource: \"*\", Condition: { ArnEquals: { aws:SourceArn: arn:aws:sns:us-east-1:1:t } } }").is_empty());
    assert!(queue_policy("{ Effect: Allow, Principal: { Service: sns.amazonaws.com }, Action: sqs:SendMessage, Resource: \"*\" }").is_empty());

    let permission = |extra: &str| {
        rules(&format!(
            "  p:\n    type: aws.lambda.permission\n    properties: {{ function_name: f, principal: \"*\"{extra} }}\n"
        ))
    };
    assert_eq!(permission(""), ["LMB001"]);
    assert!(permission(", source_account: \"123456789012\"").is_empty());

    let queue = |props: &str| {
        rules(&format!(
            "  q:\n    type: aws.sqs.queue\n    properties: {{ {props} }}\n"
        ))
    };
    assert_eq!(queue("sqs_managed_sse_enabled: false"), ["SQS001"]);
    assert!(queue("sqs_managed_sse_enabled: false, kms_master_key_id: alias/aws/sqs").is_empty());
    assert!(queue("visibility_timeout_seconds: 60").is_empty());
}

#[test]
fn a_value_known_only_at_apply_is_never_guessed_about() {
    // The CIDR comes from another resource: unknown while linting, so nothing is said.
    let text = "  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16 }\n  sg:\n    type: aws.ec2.security_group\n    properties:\n      vpc_id: ${vpc.id}\n      description: d\n      ingress: [{ protocol: tcp, from_port: 22, to_port: 22, cidr_blocks: [\"${vpc.cidr_block}\"] }]\n";
    assert!(rules(text).is_empty());
}
