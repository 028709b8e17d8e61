//! The deployer's IAM policy from a plan: `strata plan --emit-iam` (what applying exactly this
//! plan needs, refresh reads included) and `strata iam-policy` (what the stack's whole life
//! needs: create, read, update of any property, import, destroy).
//!
//! Each resource's operations come from its planned action; its ARNs from the templates its
//! type declares ([`providers::catalogue::Entry::resources`]), filled from the planned values.
//! A value known only after apply that is another resource's `arn` or property is filled from
//! that resource's own template (names are deterministic), so a role created in the same plan
//! is passed by name rather than as `role/*`.

use std::collections::BTreeSet;

use providers::catalogue::policy::{self, Field, Need, Op, Place, Statement};
use providers::catalogue::Entry;
use serde_json::Value as Json;
use stacks::{Expr, Reference, Value};

use crate::plan::{Action, Plan, ResourceChange};

/// Which policy: for one plan, or for the stack's whole life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// What applying this plan calls.
    Plan,
    /// Every operation on every resource of the stack, with ids that a replacement changes
    /// left as wildcards.
    Life,
}

/// The policy: its statements and the documents they make.
pub struct Policy {
    pub statements: Vec<Statement>,
    pub place: Place,
}

impl Policy {
    /// The IAM policy documents, each under IAM's managed policy size limit.
    pub fn documents(&self) -> Vec<Json> {
        policy::documents(&self.statements)
    }
}

/// What the S3 state backend calls on the stack's state object, its lock (`KEY.lock`) and its
/// backup (`KEY.backup`, a copy of the state), and `s3:ListBucket` on the bucket, without which
/// S3 answers a read of the absent lock with AccessDenied rather than NoSuchKey: strata's own
/// calls, beside what the resources need.
pub fn state_statements(place: &Place, bucket: &str, key: &str) -> Vec<Statement> {
    let object = |suffix: &str| format!("arn:{}:s3:::{bucket}/{key}{suffix}", place.partition);
    let about = format!("the state in s3://{bucket}/{key} (the S3 backend)");
    vec![
        Statement {
            sid: "StrataStateInS3".into(),
            about: about.clone(),
            actions: vec![
                "s3:DeleteObject".into(),
                "s3:GetObject".into(),
                "s3:PutObject".into(),
            ],
            resources: vec![object(""), object(".backup"), object(".lock")],
            passed_to: None,
        },
        Statement {
            sid: "StrataStateBucket".into(),
            about,
            actions: vec!["s3:ListBucket".into()],
            resources: vec![format!("arn:{}:s3:::{bucket}", place.partition)],
            passed_to: None,
        },
    ]
}

/// How a need reads one resource's planned values.
type Lookup<'a> = Box<dyn Fn(&str) -> Field + 'a>;

/// The policy `scope` needs for `plan`, in `place`.
pub fn policy(plan: &Plan, scope: Scope, place: Place) -> Policy {
    let catalogue = providers::catalogue();
    let entry_of = |type_name: &str| catalogue.iter().find(|e| e.type_name() == type_name);
    let lookups: Vec<(&ResourceChange, &Entry, BTreeSet<Op>)> = plan
        .changes
        .iter()
        .filter_map(|change| {
            let entry = entry_of(&change.type_name)?;
            Some((change, entry, ops(change.action, scope)))
        })
        .filter(|(_, _, ops)| !ops.is_empty())
        .collect();
    let at = &place;
    let fields: Vec<Lookup> = lookups
        .iter()
        .map(|(change, _, _)| {
            let change: &ResourceChange = change;
            Box::new(move |path: &str| field(plan, change, path, scope, at, 0)) as Lookup
        })
        .collect();
    let needs: Vec<Need> = lookups
        .iter()
        .zip(&fields)
        .map(|((change, entry, ops), field)| Need {
            address: change.address.clone(),
            entry,
            ops: ops.clone(),
            field: field.as_ref(),
        })
        .collect();
    let statements = policy::statements(&needs, &place);
    drop(needs);
    drop(fields);
    Policy { statements, place }
}

/// The operations a planned action calls (reads: the refresh before it, and what create and
/// update read back), or every operation for the stack's life.
fn ops(action: Action, scope: Scope) -> BTreeSet<Op> {
    let ops: &[Op] = match (scope, action) {
        (Scope::Life, Action::Delete) => &[Op::Read, Op::Delete],
        (Scope::Life, _) => &Op::ALL,
        (Scope::Plan, Action::NoOp) => &[Op::Read],
        (Scope::Plan, Action::Create) => &[Op::Create, Op::Read],
        (Scope::Plan, Action::Update) => &[Op::Update, Op::Read],
        (Scope::Plan, Action::Delete) => &[Op::Read, Op::Delete],
        (Scope::Plan, Action::DeleteThenCreate | Action::CreateThenDelete) => {
            &[Op::Create, Op::Read, Op::Delete]
        }
    };
    ops.iter().copied().collect()
}

/// The planned value at `path` of `change`: its physical id for `id`, else the property
/// (after the change, and before it when the change deletes or replaces).
fn field(
    plan: &Plan,
    change: &ResourceChange,
    path: &str,
    scope: Scope,
    place: &Place,
    depth: usize,
) -> Field {
    if path == "id" {
        return match (&change.id, scope, change.action) {
            (Some(id), Scope::Plan, Action::NoOp | Action::Update | Action::Delete) => {
                Field::Known(vec![id.clone()])
            }
            _ => Field::Unknown,
        };
    }
    let segments: Vec<&str> = path.split('.').collect();
    let mut found = Field::Absent;
    if let Some(after) = &change.after {
        let expr = change.config.get(segments[0].trim_end_matches("[]"));
        let value = after.get(segments[0].trim_end_matches("[]"));
        found = merge(
            found,
            walk(plan, value, expr, segments[0], &segments[1..], place, depth),
        );
    }
    let deletes = matches!(
        change.action,
        Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete
    );
    if deletes || change.after.is_none() {
        if let Some(before) = &change.before {
            let value = before.get(segments[0].trim_end_matches("[]"));
            found = merge(
                found,
                walk(plan, value, None, segments[0], &segments[1..], place, depth),
            );
        }
    }
    found
}

/// The value at a path under `value` (and the expression behind it, to resolve a value known
/// only after apply).
fn walk(
    plan: &Plan,
    value: Option<&Value>,
    expr: Option<&Expr>,
    segment: &str,
    rest: &[&str],
    place: &Place,
    depth: usize,
) -> Field {
    let expr = match expr {
        Some(Expr::Sensitive { inner }) => Some(inner.as_ref()),
        other => other,
    };
    let Some(value) = value else {
        return Field::Absent;
    };
    if segment.ends_with("[]") {
        let Some(items) = value.as_list() else {
            return unknown_or_absent(plan, value, expr, place, depth);
        };
        let exprs: Vec<Option<&Expr>> = match expr {
            Some(Expr::List { items }) => items.iter().map(Some).collect(),
            _ => vec![None; items.len()],
        };
        return items
            .iter()
            .zip(exprs)
            .fold(Field::Absent, |acc, (item, expr)| {
                merge(acc, step(plan, item, expr, rest, place, depth))
            });
    }
    step(plan, value, expr, rest, place, depth)
}

/// One level down `rest`, or the value itself when `rest` is empty.
fn step(
    plan: &Plan,
    value: &Value,
    expr: Option<&Expr>,
    rest: &[&str],
    place: &Place,
    depth: usize,
) -> Field {
    let Some((next, rest)) = rest.split_first() else {
        return leaf(plan, value, expr, place, depth);
    };
    let Some(map) = value.as_map() else {
        return unknown_or_absent(plan, value, expr, place, depth);
    };
    let key = next.trim_end_matches("[]");
    let expr = match expr {
        Some(Expr::Map { entries }) => entries.get(key),
        _ => None,
    };
    walk(plan, map.get(key), expr, next, rest, place, depth)
}

fn unknown_or_absent(
    plan: &Plan,
    value: &Value,
    expr: Option<&Expr>,
    place: &Place,
    depth: usize,
) -> Field {
    match value {
        Value::Unknown => resolve(plan, expr, place, depth),
        _ => Field::Absent,
    }
}

/// The strings a value holds: one, or one per item of a list.
fn leaf(plan: &Plan, value: &Value, expr: Option<&Expr>, place: &Place, depth: usize) -> Field {
    match value {
        Value::Null => Field::Absent,
        Value::Unknown => resolve(plan, expr, place, depth),
        // A secret is never part of an ARN that is printed.
        Value::Sensitive(_) => Field::Unknown,
        Value::String(s) => Field::Known(vec![s.clone()]),
        Value::Number(n) => Field::Known(vec![n.to_string()]),
        Value::Bool(b) => Field::Known(vec![b.to_string()]),
        Value::List(items) => {
            let exprs: Vec<Option<&Expr>> = match expr {
                Some(Expr::List { items }) => items.iter().map(Some).collect(),
                _ => vec![None; items.len()],
            };
            items
                .iter()
                .zip(exprs)
                .fold(Field::Absent, |acc, (item, expr)| {
                    merge(acc, leaf(plan, item, expr, place, depth))
                })
        }
        Value::Map(_) => Field::Absent,
    }
}

/// A value known only after apply, through the reference behind it: another resource's
/// property as planned, or its `arn` filled from its type's first template.
fn resolve(plan: &Plan, expr: Option<&Expr>, place: &Place, depth: usize) -> Field {
    let Some(Expr::Ref {
        reference: Reference::Resource { address, attr },
    }) = expr
    else {
        return Field::Unknown;
    };
    let Some(target) = plan.change(address) else {
        return Field::Unknown;
    };
    if depth > 4 {
        return Field::Unknown;
    }
    let entry = providers::catalogue()
        .iter()
        .find(|e| e.type_name() == target.type_name);
    let is_property = entry.is_some_and(|e| (e.schema)().prop(attr).is_some());
    if is_property {
        return match field(plan, target, attr, Scope::Plan, place, depth + 1) {
            Field::Absent => Field::Unknown,
            found => found,
        };
    }
    if attr == "arn" {
        if let Some(template) = entry.and_then(|e| e.resources.first()) {
            let lookup = |path: &str| field(plan, target, path, Scope::Plan, place, depth + 1);
            let arns = policy::fill_one(template, &lookup, place);
            if !arns.is_empty() && arns.iter().all(|a| a != "*") {
                return Field::Known(arns);
            }
        }
    }
    Field::Unknown
}

/// Two findings of one value: unknown wins (its `*` covers both), known values add up.
fn merge(a: Field, b: Field) -> Field {
    match (a, b) {
        (Field::Unknown, _) | (_, Field::Unknown) => Field::Unknown,
        (Field::Absent, other) | (other, Field::Absent) => other,
        (Field::Known(mut x), Field::Known(y)) => {
            for v in y {
                if !x.contains(&v) {
                    x.push(v);
                }
            }
            Field::Known(x)
        }
    }
}

/// The policy as a person reads it: one block per statement, grouped by resource.
pub fn render_text(policy: &Policy, scope: Scope, stack: &str) -> String {
    let what = match scope {
        Scope::Plan => "applying this plan needs",
        Scope::Life => "a deployer of this stack needs (plan, apply, update, import, destroy)",
    };
    let docs = policy.documents();
    let mut out = format!(
        "The IAM policy {what}: stack `{stack}`, account {}, {}.\n",
        policy.place.account, policy.place.region
    );
    for s in &policy.statements {
        out.push_str(&format!("\n{}  # Sid {}\n", s.about, s.sid));
        for (i, action) in s.actions.iter().enumerate() {
            let label = if i == 0 { "allow" } else { "" };
            out.push_str(&format!("  {label:<6}{action}\n"));
        }
        for (i, resource) in s.resources.iter().enumerate() {
            let label = if i == 0 { "on" } else { "" };
            out.push_str(&format!("  {label:<6}{resource}\n"));
        }
        if let Some(service) = &s.passed_to {
            out.push_str(&format!("  when  iam:PassedToService = {service}\n"));
        }
    }
    out.push_str(&format!(
        "\n{} statement{} in {} policy document{} (`--format json` prints them).\n",
        policy.statements.len(),
        if policy.statements.len() == 1 {
            ""
        } else {
            "s"
        },
        docs.len(),
        if docs.len() == 1 { "" } else { "s" },
    ));
    out
}

/// The documents as JSON: one document, or a list of them when over IAM's size limit.
pub fn render_json(policy: &Policy) -> String {
    let mut docs = policy.documents();
    let json = if docs.len() == 1 {
        docs.remove(0)
    } else {
        Json::Array(docs)
    };
    serde_json::to_string_pretty(&json).unwrap_or_default()
}

/// What to grant when AWS refused a call as not authorised, for an error strata printed
/// (`creating aws.sqs.queue `orders` (orders-work): AccessDenied: ...`): the action and
/// resource AWS names (or, when it names none, the actions the operation calls), and the
/// statement of `strata iam-policy` that grants them. `None` for any other error.
pub fn access_denied_help(message: &str) -> Option<String> {
    let denied = [
        "AccessDenied",
        "UnauthorizedOperation",
        "AuthorizationError",
        "not authorized to perform",
    ];
    if !denied.iter().any(|d| message.contains(d)) {
        return None;
    }
    let after = |marker: &str| {
        message.split_once(marker).and_then(|(_, rest)| {
            rest.split(|c: char| c.is_whitespace() || c == ',')
                .next()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
    };
    let action = after("perform: ").filter(|a| a.contains(':'));
    let resource = after("on resource: ");
    let (head, rest) = message.split_once(" `")?;
    let (address, _) = rest.split_once('`')?;
    let mut words = head.split_whitespace();
    let verb = words.next()?;
    let type_name = words.next()?;
    let entry = providers::catalogue()
        .iter()
        .find(|e| e.type_name() == type_name)?;
    let op = match verb {
        "creating" => Op::Create,
        "updating" => Op::Update,
        "destroying" => Op::Delete,
        _ => Op::Read,
    };
    let sid = policy::sid_for(address);
    let what = match (&action, &resource) {
        (Some(action), Some(resource)) => format!("`{action}` on `{resource}`"),
        (Some(action), None) => format!("`{action}`"),
        _ => {
            let actions: Vec<&str> = match op {
                Op::Create => entry.actions.create,
                Op::Read => entry.actions.read,
                Op::Update => entry.actions.update,
                Op::Delete => entry.actions.delete,
            }
            .to_vec();
            format!("what {verb} {type_name} calls ({})", actions.join(", "))
        }
    };
    let statement = match action.as_deref() {
        Some("iam:PassRole") => "its `PassRoleTo...` statement".to_string(),
        Some(a) if policy::is_star_only(a) => "its `OnlyOnAnyResource` statement".to_string(),
        _ => format!("its statement `{sid}` (for `{address}`)"),
    };
    Some(format!(
        "the credentials in use may not make this call: `strata iam-policy` grants {what} in \
         {statement}; attach that policy to the role or user strata runs as"
    ))
}
