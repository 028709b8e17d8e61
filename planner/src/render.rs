//! Plans as a person reads them (SPEC §7): one block per changed resource, one line per
//! changed property as `old -> new`, `# forces replacement` beside the ones that cause it,
//! documents and multi-line strings as a line diff, and the summary line last.

use std::fmt::Write;

use anstyle::AnsiColor;
use similar::{ChangeTag, TextDiff};
use stacks::{Map, Value};

use crate::plan::{Action, Plan, ResourceChange};

/// Colour, only when printing to a terminal that wants it. The styles are `anstyle`'s (the
/// renderer our diagnostics use), never escape codes written by hand.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub(crate) fn paint(&self, color: AnsiColor, text: &str) -> String {
        if self.color {
            let style = anstyle::Style::new().fg_color(Some(color.into()));
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    fn action(&self, action: Action, text: &str) -> String {
        let color = match action {
            Action::Create => AnsiColor::Green,
            Action::Update => AnsiColor::Yellow,
            Action::DeleteThenCreate | Action::CreateThenDelete => AnsiColor::Magenta,
            Action::Delete => AnsiColor::Red,
            Action::NoOp => return text.to_string(),
        };
        self.paint(color, text)
    }
}

/// The summary line: `Plan: 3 to add, 1 to change, 1 to replace, 0 to destroy.` or
/// `No changes.`.
pub fn summary_line(plan: &Plan) -> String {
    if !plan.has_changes() {
        return "No changes. Your infrastructure matches the stack.".to_string();
    }
    let s = plan.summary();
    let moved = plan.moves().count();
    let moved = if moved > 0 {
        format!(" ({moved} moved)")
    } else {
        String::new()
    };
    format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy{moved}.",
        s.add, s.change, s.replace, s.destroy
    )
}

/// The whole plan as text.
pub fn render_plan(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    for change in plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp || c.moved_from.is_some())
    {
        render_change(&mut out, change, style);
        out.push('\n');
    }
    let known_outputs: Vec<_> = plan.outputs.iter().filter(|_| plan.has_changes()).collect();
    if !known_outputs.is_empty() {
        out.push_str("Outputs:\n");
        for (name, o) in known_outputs {
            let shown = if o.sensitive {
                "(sensitive)".to_string()
            } else {
                o.planned.render()
            };
            let _ = writeln!(out, "    {name} = {shown}");
        }
        out.push('\n');
    }
    for (output, stacks) in &plan.consumers {
        let _ = writeln!(
            out,
            "{}",
            style.paint(
                AnsiColor::Yellow,
                &format!("! {output} is read by stacks: {}", stacks.join(", "))
            )
        );
    }
    if !plan.consumers.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary_line(plan));
    out.push('\n');
    out
}

/// What happens to a resource, as the end of its header line: `will be created`.
pub(crate) fn describe(c: &ResourceChange) -> &'static str {
    match c.action {
        Action::Create if c.gone => "will be created (it was deleted outside strata)",
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::DeleteThenCreate | Action::CreateThenDelete if c.tainted => {
            "is tainted, so must be replaced"
        }
        Action::DeleteThenCreate | Action::CreateThenDelete => "must be replaced",
        Action::Delete if c.gone => "is already gone and leaves the state",
        Action::Delete => "will be destroyed",
        Action::NoOp => "",
    }
}

fn render_change(out: &mut String, c: &ResourceChange, style: Style) {
    if let Some(from) = &c.moved_from {
        let header = format!("~ {from} -> {} (moved)", c.address);
        let _ = writeln!(out, "  {}", style.action(Action::Update, &header));
        if c.action == Action::NoOp {
            return;
        }
    }
    let symbol = c.action.symbol();
    let what = describe(c);
    let header = format!("{symbol} {} ({}) {what}", c.address, c.type_name);
    let _ = writeln!(out, "  {}", style.action(c.action, &header));
    match c.action {
        Action::Create => {
            for (key, value) in c.after.iter().flatten() {
                write_value(out, key, value, "+");
            }
        }
        Action::Delete => {
            if let Some(id) = &c.id {
                let _ = writeln!(out, "      id: {id}");
            }
        }
        Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete => {
            let empty = Map::new();
            let before = c.before.as_ref().unwrap_or(&empty);
            let after = c.after.as_ref().unwrap_or(&empty);
            for key in &c.changed {
                let old = before.get(key).cloned().unwrap_or(Value::Null);
                let new = after.get(key).cloned().unwrap_or(Value::Null);
                let forces = if c.replace_because.contains(key) {
                    format!("  {}", style.paint(AnsiColor::Red, "# forces replacement"))
                } else {
                    String::new()
                };
                write_change(out, key, &old, &new, &forces);
            }
            if c.replace_because.iter().any(|r| r == "type") {
                let _ = writeln!(
                    out,
                    "      (the resource type changed)  # forces replacement"
                );
            }
        }
        Action::NoOp => {}
    }
}

fn write_value(out: &mut String, key: &str, value: &Value, sign: &str) {
    if let Some(text) = multiline(value) {
        let _ = writeln!(out, "    {sign} {key}:");
        for line in text.lines() {
            let _ = writeln!(out, "          {line}");
        }
    } else {
        let _ = writeln!(out, "    {sign} {key}: {}", value.render());
    }
}

pub(crate) fn write_change(out: &mut String, key: &str, old: &Value, new: &Value, forces: &str) {
    match (multiline(old), multiline(new)) {
        (Some(a), Some(b)) => {
            let _ = writeln!(out, "      ~ {key}:{forces}");
            let diff = TextDiff::from_lines(&a, &b);
            for change in diff.iter_all_changes() {
                let sign = match change.tag() {
                    ChangeTag::Delete => "-",
                    ChangeTag::Insert => "+",
                    ChangeTag::Equal => " ",
                };
                let _ = write!(out, "          {sign} {}", change.value());
                if change.missing_newline() {
                    out.push('\n');
                }
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "      ~ {key}: {} -> {}{forces}",
                old.render(),
                new.render()
            );
        }
    }
}

/// Documents, mappings and multi-line strings are shown as indented, YAML-like text, for
/// reading and for a line diff. Unknown and sensitive nodes print by name, so the text never
/// holds a secret.
pub(crate) fn multiline(value: &Value) -> Option<String> {
    match value {
        Value::Map(m) if !m.is_empty() => Some(pretty(value, 0)),
        Value::List(items)
            if items
                .iter()
                .any(|i| matches!(i, Value::Map(_) | Value::List(_))) =>
        {
            Some(pretty(value, 0))
        }
        Value::String(s) if s.contains('\n') => Some(s.clone()),
        _ => None,
    }
}

fn pretty(value: &Value, indent: usize) -> String {
    let pad = "  ".repeat(indent);
    let mut out = String::new();
    match value {
        Value::Map(map) => {
            for (k, v) in map {
                match v {
                    Value::Map(m) if !m.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}:");
                        out.push_str(&pretty(v, indent + 1));
                    }
                    Value::List(items) if !items.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}:");
                        out.push_str(&pretty(v, indent + 1));
                    }
                    other => {
                        let _ = writeln!(out, "{pad}{k}: {}", other.render());
                    }
                }
            }
        }
        Value::List(items) => {
            for item in items {
                match item {
                    Value::Map(m) if !m.is_empty() => {
                        let inner = pretty(item, indent + 1);
                        let trimmed = inner.trim_start();
                        let _ = write!(out, "{pad}- {trimmed}");
                    }
                    other => {
                        let _ = writeln!(out, "{pad}- {}", other.render());
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", other.render());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::{Plan, ResourceChange, PLAN_FORMAT_VERSION};

    fn map(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn change(address: &str, action: Action) -> ResourceChange {
        ResourceChange::bare(address, action)
    }

    fn policy(action: &str) -> Value {
        Value::from_json(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Action": action, "Resource": "*" }]
        }))
    }

    #[test]
    fn a_plan_shows_each_change_with_old_and_new_values_and_the_summary_last() {
        let mut create = change("dlq", Action::Create);
        create.after = Some(map(&[
            ("name", Value::str("orders-dlq")),
            ("arn_ref", Value::Unknown),
            ("secret", Value::Sensitive(Box::new(Value::str("hunter2")))),
        ]));
        let mut update = change("work", Action::Update);
        update.id = Some("https://q/work".into());
        update.before = Some(map(&[
            ("visibility_timeout_seconds", Value::int(45)),
            ("policy", policy("sqs:SendMessage")),
        ]));
        update.after = Some(map(&[
            ("visibility_timeout_seconds", Value::int(90)),
            ("policy", policy("sqs:ReceiveMessage")),
        ]));
        update.changed = vec!["policy".into(), "visibility_timeout_seconds".into()];
        let mut replace = change("events", Action::DeleteThenCreate);
        replace.type_name = "aws.sns.topic".into();
        replace.before = Some(map(&[("name", Value::str("orders-events"))]));
        replace.after = Some(map(&[("name", Value::str("orders-events-v2"))]));
        replace.changed = vec!["name".into()];
        replace.replace_because = vec!["name".into()];
        let mut delete = change("old", Action::Delete);
        delete.id = Some("https://q/old".into());
        let plan = Plan {
            format_version: PLAN_FORMAT_VERSION,
            stack: "orders".into(),
            lineage: "l".into(),
            serial: 1,
            source_hash: "h".into(),
            destroy: false,
            changes: vec![
                create,
                update,
                replace,
                delete,
                change("same", Action::NoOp),
            ],
            steps: vec![],
            outputs: BTreeMap::new(),
            builtins: BTreeMap::new(),
            targets: Vec::new(),
            lookups: BTreeMap::new(),
            consumers: BTreeMap::new(),
        };
        let text = render_plan(&plan, Style { color: false });
        assert!(!text.contains("hunter2"));
        insta::assert_snapshot!(text);
    }
}
