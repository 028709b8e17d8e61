//! The least-privilege IAM policy a deployer needs, from what each type declares beside its
//! provider ([`Entry::actions`], [`Entry::resources`], [`Entry::passes_role`]).
//!
//! The caller says, per resource, which operations it needs and how to read the resource's
//! planned values ([`Field`]); this module fills the ARN templates, keeps the actions AWS
//! authorises on `*` alone apart, scopes `iam:PassRole` to the roles passed with the
//! `iam:PassedToService` condition, and writes IAM policy documents, split under IAM's size
//! limit for a managed policy.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};

use super::Entry;

/// Actions AWS authorises only on `Resource: "*"` (no resource type in the Service
/// Authorization Reference). A trailing `*` matches any suffix.
pub const STAR_ONLY: &[&str] = &[
    "ec2:Describe*",
    "sts:GetCallerIdentity",
    "sqs:ListQueues",
    "sns:ListTopics",
    "iam:ListPolicies",
    "kms:CreateKey",
    "kms:ListKeys",
    "kms:ListAliases",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:PutResourcePolicy",
    "logs:DeleteResourcePolicy",
    "lambda:CreateEventSourceMapping",
    "lambda:ListEventSourceMappings",
    "lambda:ListLayerVersions",
    "states:ListStateMachines",
    "ssm:DescribeParameters",
];

/// The largest managed policy IAM accepts, in characters without whitespace.
pub const MAX_POLICY_CHARS: usize = 6144;

/// Whether AWS authorises `action` on `*` alone.
pub fn is_star_only(action: &str) -> bool {
    STAR_ONLY
        .iter()
        .any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => action.starts_with(prefix),
            None => *pattern == action,
        })
}

/// One operation of a resource's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Create,
    /// Refresh, import, adoption after an interrupted create, drift.
    Read,
    Update,
    Delete,
}

impl Op {
    pub const ALL: [Op; 4] = [Op::Create, Op::Read, Op::Update, Op::Delete];

    fn actions(self, entry: &Entry) -> &'static [&'static str] {
        let a = &entry.actions;
        match self {
            Op::Create => a.create,
            Op::Read => a.read,
            Op::Update => a.update,
            Op::Delete => a.delete,
        }
    }
}

/// What a planned value is, as far as the plan knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// Not set.
    Absent,
    /// Known only after apply.
    Unknown,
    /// Known: one value, or one per item of a list.
    Known(Vec<String>),
}

/// Where the ARNs are: partition, region, account.
#[derive(Clone, Debug)]
pub struct Place {
    pub partition: String,
    pub region: String,
    pub account: String,
}

/// One resource the policy covers: what it is, what is done to it, and its values.
pub struct Need<'a> {
    pub address: String,
    pub entry: &'a Entry,
    pub ops: BTreeSet<Op>,
    /// The planned value at a property path (`name`, `target.role_arn`, `targets[].role_arn`)
    /// or `id` (the physical id, [`Field::Unknown`] before it exists).
    pub field: &'a dyn Fn(&str) -> Field,
}

/// One statement of the policy, with the addresses it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sid: String,
    /// What the statement is for, in words (`orders (aws.sqs.queue)`).
    pub about: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// `iam:PassedToService` for a `iam:PassRole` statement.
    pub passed_to: Option<String>,
}

impl Statement {
    pub fn to_json(&self) -> Json {
        let mut s = json!({
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": self.actions,
            "Resource": if self.resources.len() == 1 { json!(self.resources[0]) } else { json!(self.resources) },
        });
        if let Some(service) = &self.passed_to {
            s["Condition"] = json!({ "StringEquals": { "iam:PassedToService": service } });
        }
        s
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` any one character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The statements that grant every need: one per resource (its actions on its ARNs), one of
/// the actions AWS authorises on `*` alone, and one `iam:PassRole` per service a role is
/// passed to.
pub fn statements(needs: &[Need], place: &Place) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut star: BTreeSet<String> = BTreeSet::from(["sts:GetCallerIdentity".to_string()]);
    let mut pass: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut sids = BTreeSet::new();
    for need in needs {
        let mut actions = BTreeSet::new();
        for op in &need.ops {
            for action in op.actions(need.entry) {
                if *action == "iam:PassRole" {
                    continue;
                } else if is_star_only(action) {
                    star.insert(action.to_string());
                } else {
                    actions.insert(action.to_string());
                }
            }
        }
        let passes = need.ops.contains(&Op::Create) || need.ops.contains(&Op::Update);
        if passes {
            for (path, service) in need.entry.passes_role {
                for role in fill_one(&format!("{{{path}}}"), need.field, place) {
                    let role = if role == "*" {
                        format!("arn:{}:iam::{}:role/*", place.partition, place.account)
                    } else {
                        role
                    };
                    pass.entry(service).or_default().insert(role);
                }
            }
        }
        if actions.is_empty() {
            continue;
        }
        let resources = fill(need.entry.resources, need.field, place);
        let sid = unique_sid(&mut sids, &need.address);
        out.push(Statement {
            sid,
            about: format!("{} ({})", need.address, need.entry.type_name()),
            actions: actions.into_iter().collect(),
            resources,
            passed_to: None,
        });
    }
    for (service, roles) in pass {
        let name = service.split('.').next().unwrap_or(service);
        out.push(Statement {
            sid: unique_sid(&mut sids, &format!("pass_role_to_{name}")),
            about: format!("iam:PassRole to {service}"),
            actions: vec!["iam:PassRole".into()],
            resources: roles.into_iter().collect(),
            passed_to: Some(service.to_string()),
        });
    }
    out.push(Statement {
        sid: unique_sid(&mut sids, "only_on_any_resource"),
        about: "actions AWS authorises only on \"*\"".into(),
        actions: star.into_iter().collect(),
        resources: vec!["*".into()],
        passed_to: None,
    });
    out
}

/// What reading a stack's lookups calls at every plan: one statement granting each lookup
/// type's read actions ([`crate::lookups::LookupEntry::actions`]) on `*`, since a lookup
/// finds its object by a filter and its ARN is not known before the read. `about` names the
/// lookups (`azs (aws.ec2.availability_zones)`). `None` when the stack has no lookups.
/// `lookups` are (name, type) pairs; unknown types are left out (the loader refused them).
pub fn lookup_statement(lookups: &[(&str, &str)]) -> Option<Statement> {
    let mut actions = BTreeSet::new();
    let mut about = Vec::new();
    for (name, type_name) in lookups {
        let Some(entry) = crate::lookups::lookup_entry(type_name) else {
            continue;
        };
        actions.extend(entry.actions.iter().map(|a| a.to_string()));
        about.push(format!("{name} ({type_name})"));
    }
    if actions.is_empty() {
        return None;
    }
    Some(Statement {
        sid: "StrataLookups".into(),
        about: format!("the lookups {}", about.join(", ")),
        actions: actions.into_iter().collect(),
        resources: vec!["*".into()],
        passed_to: None,
    })
}

/// The words of `text` (split at anything not a letter or digit) joined, each capitalised:
/// `orders_queue` → `OrdersQueue`, `create_queue` → `CreateQueue`.
pub fn pascal_case(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The Sid of the statement for `address` (a Sid is letters and digits), before any numbering
/// that tells two apart.
pub fn sid_for(address: &str) -> String {
    let base = pascal_case(address);
    if base.is_empty() {
        "Resource".into()
    } else {
        base
    }
}

/// [`sid_for`] `address`, numbered when taken.
fn unique_sid(taken: &mut BTreeSet<String>, address: &str) -> String {
    let base = sid_for(address);
    let mut sid = base.clone();
    let mut n = 2;
    while !taken.insert(sid.clone()) {
        sid = format!("{base}{n}");
        n += 1;
    }
    sid
}

/// Every template filled, each ARN once, in order.
fn fill(templates: &[&str], field: &dyn Fn(&str) -> Field, place: &Place) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for template in templates {
        for arn in fill_one(template, field, place) {
            if !out.contains(&arn) {
                out.push(arn);
            }
        }
    }
    out
}

/// One template filled: none when a property it names is not set, several when one is a list.
pub fn fill_one(template: &str, field: &dyn Fn(&str) -> Field, place: &Place) -> Vec<String> {
    let mut results = vec![String::new()];
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let literal = &rest[..open];
        results.iter_mut().for_each(|r| r.push_str(literal));
        let spec = &rest[open + 1..close];
        rest = &rest[close + 1..];
        let (spec, filter) = spec.split_once('|').unwrap_or((spec, ""));
        let (name, default) = match spec.split_once('=') {
            Some((n, d)) => (n, Some(d)),
            None => (spec, None),
        };
        let values: Vec<String> = match name {
            "partition" => vec![place.partition.clone()],
            "region" => vec![place.region.clone()],
            "account" => vec![place.account.clone()],
            _ => match field(name) {
                Field::Known(vs) if !vs.is_empty() => vs,
                Field::Unknown => vec!["*".into()],
                _ => match default {
                    Some(d) => vec![d.to_string()],
                    None => return Vec::new(),
                },
            },
        };
        let values: Vec<String> = values.iter().map(|v| apply_filter(v, filter)).collect();
        results = results
            .iter()
            .flat_map(|r| values.iter().map(move |v| format!("{r}{v}")))
            .collect();
    }
    results.iter_mut().for_each(|r| {
        r.push_str(rest);
        while r.contains("**") {
            *r = r.replace("**", "*");
        }
    });
    results
}

fn apply_filter(value: &str, filter: &str) -> String {
    if value == "*" {
        return value.into();
    }
    match filter {
        "name" => value.rsplit(['/', ':']).next().unwrap_or(value).to_string(),
        "path" if !value.starts_with('/') => format!("/{value}"),
        _ => value.to_string(),
    }
}

/// The statements as IAM policy documents, each under [`MAX_POLICY_CHARS`]; statements are
/// never split, and one too big for a document of its own is a document of its own.
pub fn documents(statements: &[Statement]) -> Vec<Json> {
    let mut docs: Vec<Vec<Json>> = vec![Vec::new()];
    for statement in statements {
        let json = statement.to_json();
        let current = docs.last_mut().expect("at least one document");
        current.push(json);
        if document_chars(current) > MAX_POLICY_CHARS && current.len() > 1 {
            let moved = current.pop().expect("just pushed");
            docs.push(vec![moved]);
        }
    }
    docs.into_iter().map(document).collect()
}

fn document(statements: Vec<Json>) -> Json {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The size IAM counts: the document's characters less whitespace.
pub fn document_chars(statements: &[Json]) -> usize {
    serde_json::to_string(&document(statements.to_vec()))
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_granted_their_read_actions_once_each() {
        let statement = lookup_statement(&[
            ("shared", "aws.ec2.vpc"),
            ("admin", "aws.iam.policy"),
            ("other", "aws.ec2.vpc"),
        ])
        .unwrap();
        assert_eq!(
            statement.actions,
            vec![
                "ec2:DescribeVpcs",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicies"
            ]
        );
        assert_eq!(statement.resources, vec!["*"]);
        assert!(statement.about.contains("admin (aws.iam.policy)"));
        assert!(lookup_statement(&[]).is_none());
    }

    #[test]
    fn wildcards_match_as_iam_matches() {
        assert!(wildcard_match(
            "arn:aws:sqs:*:1:orders",
            "arn:aws:sqs:us-east-1:1:orders"
        ));
        assert!(wildcard_match("secret:db-??????", "secret:db-a1B2c3"));
        assert!(!wildcard_match("secret:db-??????", "secret:db-a1B2c"));
        assert!(!wildcard_match(
            "arn:aws:sqs:us-east-1:1:orders",
            "arn:aws:sqs:us-east-1:1:orders-dlq"
        ));
        assert!(wildcard_match("*", ""));
    }

    fn place() -> Place {
        Place {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "111122223333".into(),
        }
    }

    #[test]
    fn templates_fill_from_known_values_lists_defaults_and_unknowns() {
        let field = |name: &str| match name {
            "name" => Field::Known(vec!["orders".into()]),
            "subnet_ids" => Field::Known(vec!["subnet-1".into(), "subnet-2".into()]),
            "queue_url" => Field::Known(vec!["https://sqs/111122223333/jobs".into()]),
            "id" => Field::Unknown,
            _ => Field::Absent,
        };
        let fill = |t: &str| fill_one(t, &field, &place());
        assert_eq!(
            fill("arn:{partition}:sqs:{region}:{account}:{name}"),
            ["arn:aws:sqs:eu-west-1:111122223333:orders"]
        );
        assert_eq!(
            fill("subnet/{subnet_ids}"),
            ["subnet/subnet-1", "subnet/subnet-2"]
        );
        assert_eq!(fill("vpc/{id}"), ["vpc/*"]);
        assert_eq!(fill("role{path=/}{name}"), ["role/orders"]);
        assert_eq!(fill("sqs:{queue_url|name}"), ["sqs:jobs"]);
        assert_eq!(fill("parameter{name|path}"), ["parameter/orders"]);
        // A property that is not set leaves the ARN out.
        assert!(fill("subnet/{subnet_id}").is_empty());
    }

    #[test]
    fn documents_stay_under_the_managed_policy_limit_without_splitting_a_statement() {
        let statements: Vec<Statement> = (0..120)
            .map(|i| Statement {
                sid: format!("S{i}"),
                about: String::new(),
                actions: vec!["sqs:CreateQueue".into(), "sqs:DeleteQueue".into()],
                resources: vec![format!(
                    "arn:aws:sqs:eu-west-1:111122223333:queue-number-{i}"
                )],
                passed_to: None,
            })
            .collect();
        let docs = documents(&statements);
        assert!(docs.len() > 1);
        let mut total = 0;
        for doc in &docs {
            let list = doc["Statement"].as_array().unwrap();
            total += list.len();
            assert!(document_chars(list) <= MAX_POLICY_CHARS);
        }
        assert_eq!(total, statements.len());
    }
}
