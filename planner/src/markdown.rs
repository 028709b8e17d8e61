//! `strata plan --format markdown`: the plan as a pull-request comment.
//!
//! The summary line comes first, then what destroys something (deletes and replacements),
//! then creates and updates; each resource is a collapsed `<details>` section holding its
//! property diff. The comment always fits in [`MARKDOWN_LIMIT`] bytes (GitHub refuses comments
//! over 65,536 characters): when the whole plan does not, resources are shown in full while
//! they fit, every remaining destroy and replace is still listed by address, and the rest is
//! summarised as `… and N more changes (M destroys or replaces)`. Under the summary, a Mermaid
//! graph of the changed resources ([`crate::mermaid`]) shows what a replacement drags along.

use std::fmt::Write;

use similar::{ChangeTag, TextDiff};
use stacks::{Map, Value};

use crate::plan::{Action, Plan, ResourceChange};
use crate::render::{describe, multiline, summary_line};

/// The most bytes a Markdown plan takes (so also the most characters).
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Room kept for the closing lines when the plan is cut short.
const TRAILER_RESERVE: usize = 600;

/// The plan as a pull-request comment of at most [`MARKDOWN_LIMIT`] bytes.
pub fn render_markdown(plan: &Plan) -> String {
    render_markdown_within(plan, MARKDOWN_LIMIT)
}

/// [`render_markdown`] with another limit (at least a few hundred bytes).
pub fn render_markdown_within(plan: &Plan, limit: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "**{}**", summary_line(plan));
    out.push('\n');
    let _ = writeln!(out, "Stack `{}`.", plan.stack);
    if !plan.has_changes() {
        return out;
    }
    let moves: Vec<String> = plan
        .moves()
        .map(|(from, to)| format!("- `{from}` → `{to}` (moved)"))
        .collect();
    for (output, stacks) in &plan.consumers {
        let _ = writeln!(
            out,
            "\n> ⚠️ output `{output}` is read by stacks: {}",
            stacks.join(", ")
        );
    }
    if !moves.is_empty() {
        let _ = write!(out, "\n{}\n", moves.join("\n"));
    }
    // What depends on what among the changes, coloured by action (GitHub and GitLab render it).
    let _ = write!(
        out,
        "\n```mermaid\n{}```\n",
        crate::mermaid::plan_mermaid(plan)
    );

    let destructive: Vec<&ResourceChange> =
        plan.changes.iter().filter(|c| is_destructive(c)).collect();
    let others: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update))
        .collect();

    // Every destroy and replace not shown in full must still be listed by address.
    let mut listing_cost: usize = destructive.iter().map(|c| list_line(c).len()).sum();
    let mut shown = 0;
    let all: Vec<&ResourceChange> = destructive.iter().chain(&others).copied().collect();
    for (i, c) in all.iter().enumerate() {
        let mut block = String::new();
        if i == 0 && !destructive.is_empty() {
            block.push_str("\n### Destroyed or replaced\n");
        }
        if i == destructive.len() {
            block.push_str("\n### Created or updated\n");
        }
        block.push_str(&details(c));
        let freed = if is_destructive(c) {
            list_line(c).len()
        } else {
            0
        };
        let remaining_after = all.len() - i - 1;
        let reserve = if remaining_after == 0 {
            0
        } else {
            listing_cost - freed + TRAILER_RESERVE
        };
        if out.len() + block.len() + reserve > limit {
            break;
        }
        out.push_str(&block);
        listing_cost -= freed;
        shown += 1;
    }

    let rest = &all[shown..];
    if rest.is_empty() {
        return out;
    }
    let rest_destructive: Vec<&&ResourceChange> =
        rest.iter().filter(|c| is_destructive(c)).collect();
    out.push_str("\n### Not shown in full\n\n");
    let mut listed = 0;
    for c in &rest_destructive {
        let line = list_line(c);
        if out.len() + line.len() + TRAILER_RESERVE > limit {
            break;
        }
        out.push_str(&line);
        listed += 1;
    }
    if listed > 0 {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "… and {} more changes ({} destroys or replaces) not shown in full; run `strata plan` \
         to see them all.",
        rest.len(),
        rest_destructive.len()
    );
    if listed < rest_destructive.len() {
        let _ = writeln!(
            out,
            "… of which {} destroys or replaces are not listed above.",
            rest_destructive.len() - listed
        );
    }
    if out.len() > limit {
        // Only a limit too small for the summary itself gets here.
        let mut end = limit;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

fn is_destructive(c: &ResourceChange) -> bool {
    c.action == Action::Delete || c.action.is_replace()
}

/// One line naming a change: `` - `-` `old` (aws.sqs.queue) will be destroyed ``.
fn list_line(c: &ResourceChange) -> String {
    format!(
        "- `{}` `{}` ({}) {}\n",
        c.action.symbol(),
        c.address,
        c.type_name,
        describe(c)
    )
}

/// One resource as a collapsed section with its property diff.
fn details(c: &ResourceChange) -> String {
    let body = diff_lines(c);
    let fence = fence_for(&body);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n<details><summary><code>{}</code> <b>{}</b> ({}) {}</summary>\n",
        c.action.symbol(),
        c.address,
        c.type_name,
        describe(c)
    );
    let _ = writeln!(out, "{fence}diff");
    out.push_str(&body);
    let _ = writeln!(out, "{fence}\n\n</details>");
    out
}

/// A code fence longer than any run of backticks in `body`.
fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for ch in body.chars() {
        if ch == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// The property diff in `diff` syntax: `+` new, `-` old, ` ` context.
fn diff_lines(c: &ResourceChange) -> String {
    let mut out = String::new();
    let empty = Map::new();
    match c.action {
        Action::Create => {
            for (key, value) in c.after.as_ref().unwrap_or(&empty) {
                value_lines(&mut out, "+", key, value, "");
            }
        }
        Action::Delete => {
            if let Some(id) = &c.id {
                let _ = writeln!(out, "- id: {id}");
            }
            for (key, value) in c.before.as_ref().unwrap_or(&empty) {
                value_lines(&mut out, "-", key, value, "");
            }
        }
        Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete => {
            let before = c.before.as_ref().unwrap_or(&empty);
            let after = c.after.as_ref().unwrap_or(&empty);
            if c.replace_because.iter().any(|r| r == "type") {
                let _ = writeln!(out, "  (the resource type changed)  # forces replacement");
            }
            for key in &c.changed {
                let old = before.get(key).cloned().unwrap_or(Value::Null);
                let new = after.get(key).cloned().unwrap_or(Value::Null);
                let forces = if c.replace_because.contains(key) {
                    "  # forces replacement"
                } else {
                    ""
                };
                match (multiline(&old), multiline(&new)) {
                    (Some(a), Some(b)) => {
                        let _ = writeln!(out, "  {key}:{forces}");
                        for change in TextDiff::from_lines(&a, &b).iter_all_changes() {
                            let sign = match change.tag() {
                                ChangeTag::Delete => "-",
                                ChangeTag::Insert => "+",
                                ChangeTag::Equal => " ",
                            };
                            let _ = writeln!(
                                out,
                                "{sign}     {}",
                                change.value().trim_end_matches('\n')
                            );
                        }
                    }
                    _ => {
                        value_lines(&mut out, "-", key, &old, "");
                        value_lines(&mut out, "+", key, &new, forces);
                    }
                }
            }
        }
        Action::NoOp => {}
    }
    out
}

fn value_lines(out: &mut String, sign: &str, key: &str, value: &Value, note: &str) {
    match multiline(value) {
        Some(text) => {
            let _ = writeln!(out, "{sign} {key}:{note}");
            for line in text.lines() {
                let _ = writeln!(out, "{sign}     {line}");
            }
        }
        None => {
            let _ = writeln!(out, "{sign} {key}: {}{note}", value.render());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::PLAN_FORMAT_VERSION;

    fn change(address: &str, action: Action) -> ResourceChange {
        ResourceChange {
            address: address.into(),
            type_name: "aws.sqs.queue".into(),
            action,
            id: Some(format!("https://sqs/{address}")),
            before: Some(Map::from([(
                "visibility_timeout_seconds".to_string(),
                Value::int(30),
            )])),
            prior_attributes: None,
            after: Some(Map::from([
                ("name".to_string(), Value::str(format!("big-{address}"))),
                ("visibility_timeout_seconds".to_string(), Value::int(60)),
                (
                    "secret".to_string(),
                    Value::Sensitive(Box::new(Value::str("pw1"))),
                ),
            ])),
            config: BTreeMap::new(),
            changed: vec!["visibility_timeout_seconds".into()],
            replace_because: vec![],
            create_before_destroy: false,
            dependencies: vec![],
            prior_dependencies: vec![],
            gone: false,
            tainted: false,
            unknown_attributes: Vec::new(),
            moved_from: None,
        }
    }

    fn plan(creates: usize, deletes: usize) -> Plan {
        let mut changes: Vec<ResourceChange> = (0..creates)
            .map(|i| change(&format!("new_{i:04}"), Action::Create))
            .collect();
        changes.push(change("tuned", Action::Update));
        changes.extend((0..deletes).map(|i| change(&format!("old_{i:04}"), Action::Delete)));
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            stack: "big".into(),
            lineage: "l".into(),
            serial: 1,
            source_hash: "h".into(),
            destroy: false,
            changes,
            steps: vec![],
            outputs: BTreeMap::new(),
            builtins: BTreeMap::new(),
            targets: Vec::new(),
            lookups: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    #[test]
    fn a_small_plan_shows_every_resource_with_destroys_first() {
        let text = render_markdown(&plan(1, 1));
        assert!(text.starts_with("**Plan: 1 to add, 1 to change, 0 to replace, 1 to destroy.**"));
        let destroy = text.find("<b>old_0000</b>").unwrap();
        let create = text.find("<b>new_0000</b>").unwrap();
        assert!(destroy < create, "{text}");
        assert!(!text.contains("pw1"), "{text}");
        assert!(!text.contains("not shown in full"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_huge_plan_fits_and_still_lists_every_destroy() {
        let text = render_markdown(&plan(3000, 400));
        assert!(text.len() <= MARKDOWN_LIMIT, "{}", text.len());
        for i in 0..400 {
            let shown = text.contains(&format!("<b>old_{i:04}</b>"));
            let listed = text.contains(&format!("`old_{i:04}`"));
            assert!(shown || listed, "old_{i:04} missing");
        }
        assert!(
            text.contains("destroys or replaces) not shown in full"),
            "{}",
            &text[text.len() - 500..]
        );
    }

    #[test]
    fn even_a_tiny_limit_is_kept() {
        let text = render_markdown_within(&plan(50, 5000), 2_000);
        assert!(text.len() <= 2_000);
        assert!(text.starts_with("**Plan:"));
    }
}
