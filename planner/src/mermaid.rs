//! A plan as a Mermaid flowchart: the changed resources and the edges between them, coloured
//! by action, so a reviewer sees at a glance what a replacement drags along. GitHub and GitLab
//! render Mermaid in pull-request comments; the Markdown plan embeds it and
//! `strata graph --plan` prints it.
//!
//! Past [`MERMAID_NODE_LIMIT`] changed resources the graph collapses to one node per resource
//! type and action (`aws.sqs.queue: 300 to add`), with an edge where any member of one depends
//! on a member of another, so the comment stays small and still readable.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::plan::{Action, Plan, ResourceChange};

/// The most changed resources drawn one node each; past it, the summary graph.
pub const MERMAID_NODE_LIMIT: usize = 80;

/// A Mermaid node id for `address`: letters, digits and `_` kept, anything else `_`; `end`
/// (a Mermaid keyword) becomes `end_`. An instance's key (`q["a-b"]`) also adds a hash of the
/// address, so keys that differ only in punctuation stay distinct nodes.
pub fn node_id(address: &str) -> String {
    if address.contains('[') {
        let digest = files::digest::sha256_hex(address.as_bytes());
        return format!(
            "{}_{}",
            node_id(&address.replace(['[', ']', '"'], "_")),
            &digest[..8]
        );
    }
    let id: String = address
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id == "end" {
        "end_".to_string()
    } else {
        id
    }
}

/// Text inside a quoted Mermaid label: a `"` (of an instance key) as Mermaid's `#quot;`.
pub fn label(text: &str) -> String {
    text.replace('"', "#quot;")
}

/// The class (and legend word) of an action.
fn class(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
        Action::Delete => "delete",
        Action::NoOp => "noop",
    }
}

/// The colours: green create, yellow update, purple replace, red delete.
const CLASS_DEFS: &str = "  classDef create fill:#d1f0d6,stroke:#2da44e,color:#0b3d17\n  \
classDef update fill:#fff3c4,stroke:#bf8700,color:#4d3800\n  \
classDef replace fill:#eadcff,stroke:#8250df,color:#2e1065\n  \
classDef delete fill:#ffd8d3,stroke:#cf222e,color:#5c0a10\n";

/// The flowchart of `plan`'s changes (empty when nothing changes).
pub fn plan_mermaid(plan: &Plan) -> String {
    let changed: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if changed.is_empty() {
        return String::new();
    }
    if changed.len() > MERMAID_NODE_LIMIT {
        return summary_graph(&changed);
    }
    let addresses: BTreeSet<&str> = changed.iter().map(|c| c.address.as_str()).collect();
    let mut out = String::from("flowchart LR\n");
    out.push_str(CLASS_DEFS);
    for c in &changed {
        let _ = writeln!(
            out,
            "  {}[\"{} {} ({})\"]:::{}",
            node_id(&c.address),
            c.action.symbol(),
            label(&c.address),
            c.type_name,
            class(c.action)
        );
    }
    for (from, to) in edges(&changed, &addresses) {
        let _ = writeln!(out, "  {} --> {}", node_id(from), node_id(to));
    }
    out
}

/// (dependency, dependant) between changed resources: what the new object depends on and what
/// the old one did, each pair once, in plan order.
fn edges<'a>(
    changed: &[&'a ResourceChange],
    addresses: &BTreeSet<&str>,
) -> Vec<(&'a str, &'a str)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for c in changed {
        for dep in c.dependencies.iter().chain(&c.prior_dependencies) {
            if addresses.contains(dep.as_str()) && seen.insert((dep.as_str(), c.address.as_str())) {
                out.push((dep.as_str(), c.address.as_str()));
            }
        }
    }
    out
}

/// One node per (type, action) with its count, edges between groups.
fn summary_graph(changed: &[&ResourceChange]) -> String {
    let group = |c: &ResourceChange| (c.type_name.clone(), class(c.action));
    let mut counts: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
    let mut of: BTreeMap<&str, (String, &'static str)> = BTreeMap::new();
    for c in changed {
        *counts.entry(group(c)).or_default() += 1;
        of.insert(c.address.as_str(), group(c));
    }
    let ids: BTreeMap<&(String, &'static str), String> = counts
        .keys()
        .enumerate()
        .map(|(i, k)| (k, format!("g{i}")))
        .collect();
    let verb = |class: &str| match class {
        "create" => "to add",
        "update" => "to change",
        "replace" => "to replace",
        _ => "to destroy",
    };
    let mut out = String::from("flowchart LR\n");
    out.push_str(CLASS_DEFS);
    for ((type_name, class), n) in &counts {
        let key = (type_name.clone(), *class);
        let _ = writeln!(
            out,
            "  {}[\"{type_name}: {n} {}\"]:::{class}",
            ids[&key],
            verb(class)
        );
    }
    let addresses: BTreeSet<&str> = changed.iter().map(|c| c.address.as_str()).collect();
    let mut group_edges = BTreeSet::new();
    for (from, to) in edges(changed, &addresses) {
        let (a, b) = (&of[from], &of[to]);
        if a != b {
            group_edges.insert((ids[a].clone(), ids[b].clone()));
        }
    }
    for (a, b) in group_edges {
        let _ = writeln!(out, "  {a} --> {b}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PLAN_FORMAT_VERSION;

    fn change(address: &str, action: Action, deps: &[&str]) -> ResourceChange {
        ResourceChange {
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            ..ResourceChange::bare(address, action)
        }
    }

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            stack: "s".into(),
            lineage: "l".into(),
            serial: 1,
            source_hash: "h".into(),
            destroy: false,
            changes,
            steps: vec![],
            outputs: Default::default(),
            builtins: Default::default(),
            targets: Vec::new(),
            lookups: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    #[test]
    fn changed_resources_are_coloured_by_action_with_the_edges_between_them() {
        let text = plan_mermaid(&plan(vec![
            change("dlq", Action::DeleteThenCreate, &[]),
            change("work", Action::DeleteThenCreate, &["dlq"]),
            change("same", Action::NoOp, &[]),
            change("net.end", Action::Create, &["same"]),
        ]));
        assert!(
            text.contains("dlq[\"-/+ dlq (aws.sqs.queue)\"]:::replace"),
            "{text}"
        );
        assert!(text.contains("  dlq --> work\n"), "{text}");
        assert!(
            text.contains("net_end[\"+ net.end (aws.sqs.queue)\"]:::create"),
            "{text}"
        );
        assert!(
            !text.contains("same"),
            "unchanged resources are left out: {text}"
        );
        assert!(plan_mermaid(&plan(vec![change("a", Action::NoOp, &[])])).is_empty());
    }

    #[test]
    fn a_large_plan_collapses_to_one_node_per_type_and_action() {
        let mut changes: Vec<ResourceChange> = (0..500)
            .map(|i| change(&format!("q{i}"), Action::Create, &[]))
            .collect();
        let mut topic = change("t", Action::Update, &["q1"]);
        topic.type_name = "aws.sns.topic".into();
        changes.push(topic);
        let text = plan_mermaid(&plan(changes));
        assert!(
            text.contains("[\"aws.sqs.queue: 500 to add\"]:::create"),
            "{text}"
        );
        assert!(
            text.contains("[\"aws.sns.topic: 1 to change\"]:::update"),
            "{text}"
        );
        assert!(text.contains(" --> "), "{text}");
        assert!(text.len() < 2_000, "{} bytes", text.len());
    }
}
