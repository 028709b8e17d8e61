//! Plans as a person reads them (SPEC §7): one block per changed resource, one line per
//! changed property as `old -> new`, `# forces replacement` beside the ones that cause it,
//! documents and multi-line strings as a line diff, and the summary line last.

use std::fmt::Write;

use similar::{ChangeTag, TextDiff};
use stacks::{Map, Value};

use crate::plan::{Action, Plan, ResourceChange};

/// ANSI styling, only when printing to a terminal that wants colour.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn action(&self, action: Action, text: &str) -> String {
        let code = match action {
            Action::Create => "32",
            Action::Update => "33",
            Action::Replace => "35",
            Action::Delete => "31",
            Action::NoOp => "0",
        };
        self.paint(code, text)
    }
}

/// The summary line: `Plan: 3 to add, 1 to change, 1 to replace, 0 to destroy.` or
/// `No changes.`.
pub fn summary_line(plan: &Plan) -> String {
    if !plan.has_changes() {
        return "No changes. Your infrastructure matches the stack.".to_string();
    }
    let s = plan.summary();
    format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy.",
        s.add, s.change, s.replace, s.destroy
    )
}

/// The whole plan as text.
pub fn render_plan(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    for change in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
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
    out.push_str(&summary_line(plan));
    out.push('\n');
    out
}

fn render_change(out: &mut String, c: &ResourceChange, style: Style) {
    let symbol = c.action.symbol(c.create_before_destroy);
    let what = match c.action {
        Action::Create if c.gone => "will be created (it was deleted outside strata)",
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace => "must be replaced",
        Action::Delete if c.gone => "is already gone and leaves the state",
        Action::Delete => "will be destroyed",
        Action::NoOp => "",
    };
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
        Action::Update | Action::Replace => {
            let empty = Map::new();
            let before = c.before.as_ref().unwrap_or(&empty);
            let after = c.after.as_ref().unwrap_or(&empty);
            for key in &c.changed {
                let old = before.get(key).cloned().unwrap_or(Value::Null);
                let new = after.get(key).cloned().unwrap_or(Value::Null);
                let forces = if c.replace_because.contains(key) {
                    format!("  {}", style.paint("31", "# forces replacement"))
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

fn write_change(out: &mut String, key: &str, old: &Value, new: &Value, forces: &str) {
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

/// Documents, mappings and multi-line strings are shown as pretty text for a line diff.
/// Unknown and sensitive values never are.
fn multiline(value: &Value) -> Option<String> {
    if value.has_unknown() || value.has_sensitive() {
        return None;
    }
    match value {
        Value::Map(m) if !m.is_empty() => serde_json::to_string_pretty(&value.to_json()).ok(),
        Value::List(items) if items.iter().any(|i| matches!(i, Value::Map(_))) => {
            serde_json::to_string_pretty(&value.to_json()).ok()
        }
        Value::String(s) if s.contains('\n') => Some(s.clone()),
        _ => None,
    }
}
