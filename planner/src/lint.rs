//! `strata lint`: security checks over a loaded stack, before anything exists.
//!
//! Each rule reads the resources' properties as the stack gives them (references to other
//! resources are unknown then, and a rule never guesses about an unknown value) and reports
//! what is risky with the resource's file, line and column, and how to fix it. The checks are
//! the ones AWS Security Hub and tfsec / checkov apply to these types: the whole internet
//! reaching a port that is not HTTP(S), IAM granting every action on every resource, a
//! resource policy or trust policy open to any principal, Lambda invokable by anyone, and an
//! SQS queue with encryption switched off.
//!
//! The policy rules (IAM001, IAM003, POL001) find the documents they read through the
//! catalogue: every property flagged as a policy ([`Prop::policy`]) is checked by what it
//! grants, so a new type with a policy property is covered without a change here. The rules
//! about one type's own properties are listed in [`TYPE_CHECKS`], whose types and properties a
//! test finds in the catalogue.

use serde::Serialize;
use stacks::diag::Severity as DiagnosticSeverity;
use stacks::{Catalog, Diagnostic, Kind, Map, PolicyRole, Prop, SourcePos, Span, Stack, Value};

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

impl From<Severity> for DiagnosticSeverity {
    fn from(severity: Severity) -> DiagnosticSeverity {
        match severity {
            Severity::High => DiagnosticSeverity::High,
            Severity::Medium => DiagnosticSeverity::Medium,
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
    /// How many characters at `pos` the finding is about (the property's key).
    #[serde(skip)]
    pub len: u32,
}

impl Finding {
    /// The finding as a diagnostic: `high[SG001]: message` at its file, line and column, with
    /// the line from `source` (the text of `pos.file`) when given, and what to do.
    pub fn diagnostic(&self, source: Option<&str>) -> Diagnostic {
        let span = Span {
            file: self.pos.file.clone(),
            line: self.pos.line,
            column: self.pos.column,
            len: self.len,
        };
        let diagnostic = Diagnostic::new(self.message.as_str())
            .severity(self.severity.into())
            .code(self.rule)
            .help(self.help.as_str());
        match source {
            Some(source) => diagnostic.at(span, source),
            None => Diagnostic {
                span: Some(span),
                ..diagnostic
            },
        }
    }
}

/// A rule about one type's own properties (not its policies), run on resources of that type.
pub struct TypeCheck {
    pub type_name: &'static str,
    /// The properties it reads, which the type's schema has (a test holds it to that).
    pub properties: &'static [&'static str],
    check: fn(&Map, &mut Found),
}

/// The rules about one type's own properties, by type.
pub const TYPE_CHECKS: &[TypeCheck] = &[
    TypeCheck {
        type_name: "aws.ec2.security_group",
        properties: &["ingress"],
        check: security_group,
    },
    TypeCheck {
        type_name: "aws.iam.role",
        properties: &["managed_policy_arns"],
        check: admin_managed_policy,
    },
    TypeCheck {
        type_name: "aws.sqs.queue",
        properties: &["sqs_managed_sse_enabled", "kms_master_key_id"],
        check: queue_encryption,
    },
    TypeCheck {
        type_name: "aws.lambda.permission",
        properties: &["principal", "source_arn", "source_account"],
        check: lambda_permission,
    },
];

/// Every finding of `stack`, by resource order and within a resource by line, leaving out
/// rules named in `skip`. Each is placed at its property's key. `catalog` says which
/// properties are policies.
pub fn lint(stack: &Stack, catalog: &Catalog, skip: &[String]) -> Vec<Finding> {
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
        let policies = catalog
            .get(&decl.type_name)
            .map(|schema| schema.props.as_slice())
            .unwrap_or_default();
        for prop in policies {
            if let (Some(role), Some(value)) = (prop.policy, props.get(prop.name)) {
                for (property, doc) in documents(prop, value) {
                    // A document may be written as JSON text: read it as the tree it is.
                    let doc = crate::compare::normalize_document(doc);
                    policy(role, &doc, &property, &mut found);
                }
            }
        }
        for check in TYPE_CHECKS.iter().filter(|c| c.type_name == decl.type_name) {
            (check.check)(&props, &mut found);
        }
        // A resource's findings in the order of its lines.
        out[first..].sort_by_key(|f| (f.pos.line, f.pos.column));
    }
    out
}

/// The policy documents a policy property holds, each with the property path it is at: the
/// document itself, or one per name for a mapping of names to documents (`inline_policies`).
fn documents<'v>(prop: &Prop, value: &'v Value) -> Vec<(String, &'v Value)> {
    match (&prop.kind, value) {
        (Kind::Map(_), Value::Map(named)) => named
            .iter()
            .map(|(name, doc)| (format!("{}.{name}", prop.name), doc))
            .collect(),
        (Kind::Map(_), _) => Vec::new(),
        _ => vec![(prop.name.to_string(), value)],
    }
}

/// The checks for a policy document, by what it grants.
fn policy(role: PolicyRole, doc: &Value, property: &str, found: &mut Found) {
    match role {
        PolicyRole::Identity => admin_policy(doc, property, found),
        PolicyRole::Resource => open_resource_policy(doc, property, found),
        PolicyRole::Trust => open_trust_policy(doc, property, found),
    }
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
        // At the property's key (`inline_policies.admin` at `inline_policies`), else at the
        // resource's.
        let key = property.split('.').next().unwrap_or(property);
        let (pos, len) = match self.property_pos.get(key) {
            Some(pos) => (pos, key.chars().count()),
            None => (
                self.decl_pos,
                self.address
                    .rsplit('.')
                    .next()
                    .unwrap_or("")
                    .chars()
                    .count(),
            ),
        };
        self.out.push(Finding {
            rule,
            severity,
            address: self.address.to_string(),
            property: property.to_string(),
            message,
            help: help.to_string(),
            pos: pos.clone(),
            len: len as u32,
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

fn admin_managed_policy(props: &Map, found: &mut Found) {
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
}

fn open_trust_policy(doc: &Value, property: &str, found: &mut Found) {
    for statement in allow_statements(doc) {
        if any_principal(statement) && !has_condition(statement) {
            found.add(
                "IAM003",
                property,
                format!("any AWS account may assume `{}`", found.address),
                "name the accounts, roles or services that may assume it in `Principal`, or add a `Condition` (sts:ExternalId, aws:PrincipalOrgID)",
            );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_check_names_a_type_and_properties_of_the_catalogue() {
        let catalog = providers::catalog();
        for check in TYPE_CHECKS {
            let schema = catalog
                .get(check.type_name)
                .unwrap_or_else(|| panic!("no type `{}` in the catalogue", check.type_name));
            for prop in check.properties {
                assert!(
                    schema.prop(prop).is_some(),
                    "`{}` has no property `{prop}`",
                    check.type_name
                );
            }
        }
    }

    #[test]
    fn every_policy_role_is_flagged_somewhere_in_the_catalogue() {
        let catalog = providers::catalog();
        let roles: Vec<PolicyRole> = catalog
            .type_names()
            .filter_map(|t| catalog.get(t))
            .flat_map(|s| s.props.iter().filter_map(|p| p.policy))
            .collect();
        for role in [
            PolicyRole::Identity,
            PolicyRole::Resource,
            PolicyRole::Trust,
        ] {
            assert!(roles.contains(&role), "no property is a {role:?} policy");
        }
    }

    #[test]
    fn a_new_type_with_a_policy_property_gets_the_policy_rules() {
        let schema = stacks::TypeSchema {
            type_name: "test.bucket",
            props: vec![Prop::new("access", Kind::Document).policy(PolicyRole::Resource)],
            attrs: vec![],
            taggable: false,
            check: None,
            name_rule: None,
        };
        let catalog = Catalog::new([schema]);
        let text = "stack: s\nresources:\n  b:\n    type: test.bucket\n    properties:\n      access: { Statement: { Effect: Allow, Principal: \"*\", Action: s3:GetObject } }\n";
        let stack = stacks::load_str(
            std::path::Path::new("stack.yaml"),
            text,
            &stacks::LoadOptions::default(),
            &catalog,
        )
        .unwrap_or_else(|d| panic!("{}", d.render(false)));
        let found = lint(&stack, &catalog, &[]);
        let rules: Vec<&str> = found.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["POL001"]);
        assert_eq!(
            (found[0].pos.line, found[0].pos.column, found[0].len),
            (6, 7, 6)
        );
        let text = found[0].diagnostic(Some(text)).render(false);
        assert!(
            text.starts_with("high[POL001]: `b` lets anyone (s3:GetObject)"),
            "{text}"
        );
        assert!(text.contains("stack.yaml:6:7"), "{text}");
    }
}
