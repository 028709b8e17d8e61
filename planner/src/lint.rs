//! `strata lint`: security checks over a loaded stack, before anything exists.
//!
//! Each rule reads the resources' properties as the stack gives them (references to other
//! resources are unknown then, and a rule never guesses about an unknown value) and reports
//! what is risky with the resource's file, line and column, and how to fix it. The checks are
//! the ones AWS Security Hub and tfsec / checkov apply to these types: the whole internet
//! reaching a port that is not HTTP(S), IAM granting every action on every resource, a
//! resource policy or trust policy open to any principal, Lambda invokable by anyone, and an
//! SQS queue with encryption switched off.

use serde::Serialize;
use stacks::{Map, SourcePos, Stack, Value};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    High,
    Medium,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
        }
    }
}

/// One rule: its id, how bad it is, and what it is about.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
}

/// Every rule, in the order they are reported.
pub const RULES: &[Rule] = &[
    Rule {
        id: "SG001",
        severity: Severity::High,
        title: "security group ingress open to the internet on a port other than 80 or 443",
    },
    Rule {
        id: "IAM001",
        severity: Severity::High,
        title: "IAM policy allows every action on every resource",
    },
    Rule {
        id: "IAM002",
        severity: Severity::Medium,
        title: "IAM role has the AdministratorAccess managed policy",
    },
    Rule {
        id: "IAM003",
        severity: Severity::High,
        title: "IAM role may be assumed by any AWS principal",
    },
    Rule {
        id: "POL001",
        severity: Severity::High,
        title: "resource policy allows any principal without a condition",
    },
    Rule {
        id: "LMB001",
        severity: Severity::High,
        title: "Lambda permission lets any principal invoke the function",
    },
    Rule {
        id: "SQS001",
        severity: Severity::Medium,
        title: "SQS queue with server-side encryption switched off",
    },
];

/// One thing found.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub address: String,
    /// The property it is about (`ingress`, `inline_policies.admin`).
    pub property: String,
    pub message: String,
    pub help: String,
    #[serde(skip)]
    pub pos: SourcePos,
}

/// Every finding of `stack`, by resource order and within a resource by line, leaving out
/// rules named in `skip`. Each is placed at its property's key.
pub fn lint(stack: &Stack, skip: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    for decl in stack.resources.values() {
        let first = out.len();
        let props = crate::diff::evaluate_declared(&decl.properties);
        let props: Map = props.into_iter().map(|(k, v)| (k, v.unmarked())).collect();
        let mut found = Found {
            decl_pos: &decl.pos,
            property_pos: &decl.property_pos,
            address: &decl.address,
            out: &mut out,
            skip,
        };
        match decl.type_name.as_str() {
            "aws.ec2.security_group" => security_group(&props, &mut found),
            "aws.iam.role" => role(&props, &mut found),
            "aws.iam.policy" => {
                if let Some(doc) = props.get("policy") {
                    admin_policy(doc, "policy", &mut found);
                }
            }
            "aws.sqs.queue" => {
                if let Some(doc) = props.get("policy") {
                    open_resource_policy(doc, "policy", &mut found);
                }
                queue_encryption(&props, &mut found);
            }
            "aws.sqs.queue_policy" | "aws.sns.topic" => {
                if let Some(doc) = props.get("policy") {
                    open_resource_policy(doc, "policy", &mut found);
                }
            }
            "aws.lambda.permission" => lambda_permission(&props, &mut found),
            _ => {}
        }
        // A resource's findings in the order of its lines.
        out[first..].sort_by_key(|f| (f.pos.line, f.pos.column));
    }
    out
}

struct Found<'a> {
    decl_pos: &'a SourcePos,
    property_pos: &'a std::collections::BTreeMap<String, SourcePos>,
    address: &'a str,
    out: &'a mut Vec<Finding>,
    skip: &'a [String],
}

impl Found<'_> {
    fn add(&mut self, rule: &'static str, property: &str, message: String, help: &str) {
        if self.skip.iter().any(|s| s.eq_ignore_ascii_case(rule)) {
            return;
        }
        let severity = RULES
            .iter()
            .find(|r| r.id == rule)
            .map_or(Severity::High, |r| r.severity);
        self.out.push(Finding {
            rule,
            severity,
            address: self.address.to_string(),
            property: property.to_string(),
            message,
            help: help.to_string(),
            // At the property's key (`inline_policies.admin` at `inline_policies`).
            pos: property
                .split('.')
                .next()
                .and_then(|p| self.property_pos.get(p))
                .unwrap_or(self.decl_pos)
                .clone(),
        });
    }
}

const WORLD: &[&str] = &["0.0.0.0/0", "::/0"];
const WEB_PORTS: &[i64] = &[80, 443];

fn security_group(props: &Map, found: &mut Found) {
    let Some(Value::List(rules)) = props.get("ingress") else {
        return;
    };
    for rule in rules {
        let Some(rule) = rule.as_map() else { continue };
        let cidrs = ["cidr_blocks", "ipv6_cidr_blocks"]
            .iter()
            .filter_map(|k| rule.get(*k).and_then(Value::as_list))
            .flatten()
            .filter_map(Value::as_str)
            .find(|c| WORLD.contains(c));
        let Some(cidr) = cidrs else { continue };
        let protocol = rule
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("tcp");
        let from = rule.get("from_port").and_then(Value::as_i64);
        let to = rule.get("to_port").and_then(Value::as_i64);
        let ports = match (protocol, from, to) {
            ("-1" | "all", _, _) => "every port and protocol".to_string(),
            (_, Some(f), Some(t)) if f == t && WEB_PORTS.contains(&f) => continue,
            (_, Some(f), Some(t)) if f == t => format!("port {f}"),
            (_, Some(f), Some(t)) => format!("ports {f}-{t}"),
            // Unknown ports: nothing to say for sure.
            _ => continue,
        };
        found.add(
            "SG001",
            "ingress",
            format!("`{}` lets the whole internet ({cidr}) reach {ports}", found.address),
            "limit the rule's cidr_blocks to the addresses that need it, or reach the instances through a load balancer, a bastion or SSM",
        );
    }
}

fn role(props: &Map, found: &mut Found) {
    if let Some(Value::Map(inline)) = props.get("inline_policies") {
        for (name, doc) in inline {
            admin_policy(doc, &format!("inline_policies.{name}"), found);
        }
    }
    if let Some(Value::List(arns)) = props.get("managed_policy_arns") {
        if arns
            .iter()
            .filter_map(Value::as_str)
            .any(|a| a.ends_with(":policy/AdministratorAccess"))
        {
            found.add(
                "IAM002",
                "managed_policy_arns",
                format!("`{}` has AdministratorAccess", found.address),
                "attach a policy that grants only the actions the role's users need",
            );
        }
    }
    if let Some(doc) = props.get("assume_role_policy") {
        for statement in allow_statements(doc) {
            if any_principal(statement) && !has_condition(statement) {
                found.add(
                    "IAM003",
                    "assume_role_policy",
                    format!("any AWS account may assume `{}`", found.address),
                    "name the accounts, roles or services that may assume it in `Principal`, or add a `Condition` (sts:ExternalId, aws:PrincipalOrgID)",
                );
            }
        }
    }
}

fn admin_policy(doc: &Value, property: &str, found: &mut Found) {
    for statement in allow_statements(doc) {
        if strings(statement.get("Action")).any(|a| a == "*")
            && strings(statement.get("Resource")).any(|r| r == "*")
        {
            found.add(
                "IAM001",
                property,
                format!(
                    "`{}` allows every action on every resource (`{property}`)",
                    found.address
                ),
                "grant the actions the resource needs, on the ARNs it needs them for",
            );
        }
    }
}

fn open_resource_policy(doc: &Value, property: &str, found: &mut Found) {
    for statement in allow_statements(doc) {
        if any_principal(statement) && !has_condition(statement) {
            let actions: Vec<&str> = strings(statement.get("Action")).collect();
            found.add(
                "POL001",
                property,
                format!(
                    "`{}` lets anyone ({}) without a condition",
                    found.address,
                    if actions.is_empty() {
                        "any action".to_string()
                    } else {
                        actions.join(", ")
                    }
                ),
                "name the principal (a service or account) or add a `Condition` such as `ArnEquals: { aws:SourceArn: ... }`",
            );
        }
    }
}

fn lambda_permission(props: &Map, found: &mut Found) {
    let anyone = props.get("principal").and_then(Value::as_str) == Some("*");
    let scoped = ["source_arn", "source_account"]
        .iter()
        .any(|k| props.get(*k).is_some_and(|v| !matches!(v, Value::Null)));
    if anyone && !scoped {
        found.add(
            "LMB001",
            "principal",
            format!("anyone may invoke the function through `{}`", found.address),
            "set `principal` to the service that calls it (apigateway.amazonaws.com) and `source_arn` to the caller",
        );
    }
}

fn queue_encryption(props: &Map, found: &mut Found) {
    let off = props
        .get("sqs_managed_sse_enabled")
        .and_then(Value::as_bool)
        == Some(false);
    let kms = props
        .get("kms_master_key_id")
        .is_some_and(|v| !matches!(v, Value::Null));
    if off && !kms {
        found.add(
            "SQS001",
            "sqs_managed_sse_enabled",
            format!("`{}` stores messages unencrypted", found.address),
            "remove `sqs_managed_sse_enabled: false` (SSE-SQS is AWS's default) or set `kms_master_key_id`",
        );
    }
}

/// The `Effect: Allow` statements of a policy document (one statement or a list).
fn allow_statements(doc: &Value) -> Vec<&Map> {
    let statements: Vec<&Value> = match doc.as_map().and_then(|d| d.get("Statement")) {
        Some(Value::List(items)) => items.iter().collect(),
        Some(one @ Value::Map(_)) => vec![one],
        _ => Vec::new(),
    };
    statements
        .into_iter()
        .filter_map(Value::as_map)
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .collect()
}

/// A string or a list of strings, as policy documents write `Action` and `Resource`.
fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    let items: Vec<&str> = match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::List(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    items.into_iter()
}

/// `Principal: "*"` or `Principal: { AWS: "*" }`.
fn any_principal(statement: &Map) -> bool {
    match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Map(m)) => strings(m.get("AWS")).any(|p| p == "*"),
        _ => false,
    }
}

fn has_condition(statement: &Map) -> bool {
    statement
        .get("Condition")
        .and_then(Value::as_map)
        .is_some_and(|c| !c.is_empty())
}
