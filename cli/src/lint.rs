//! `strata lint`: the security checks of [`planner::lint`] over the loaded stack, as text for
//! people (each finding rendered as a diagnostic: severity, rule, what, file:line:column with
//! the source line, how to fix it) or JSON for tools. No cloud call.

use std::collections::BTreeMap;
use std::path::PathBuf;

use planner::lint::{lint as findings, Finding, RULES};

use crate::args::{Global, LintArgs, LintFormat};
use crate::context::{load_stack, plural, Failure, Outcome};
use crate::ui::{self, EXIT_ERROR, EXIT_OK};

pub(crate) fn lint(global: &Global, args: &LintArgs) -> Outcome {
    let unknown: Vec<&String> = args
        .skip
        .iter()
        .filter(|s| !RULES.iter().any(|r| r.id.eq_ignore_ascii_case(s)))
        .collect();
    if let Some(rule) = unknown.first() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        return Err(Failure::new(format!("there is no lint rule `{rule}`"))
            .help(format!("the rules are {}", ids.join(", "))));
    }
    let stack = load_stack(global)?;
    let found = findings(&stack, &providers::catalog(), &args.skip);
    match args.format {
        LintFormat::Json => {
            let json = serde_json::json!({
                "stack": stack.name,
                "findings": found.iter().map(|f| {
                    let mut v = serde_json::to_value(f).unwrap_or_default();
                    v["file"] = f.pos.file.display().to_string().into();
                    v["line"] = f.pos.line.into();
                    v["column"] = f.pos.column.into();
                    v
                }).collect::<Vec<_>>(),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
        }
        LintFormat::Text => {
            let color = ui::use_color(global.no_color, ui::stdout_is_terminal());
            print!("{}", render(&found, stack.resources.len(), color));
        }
    }
    Ok(if found.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

/// Every finding as a diagnostic (with its source line when its file can be read), then the
/// count.
fn render(found: &[Finding], resources: usize, color: bool) -> String {
    let mut out = String::new();
    let mut sources: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    for f in found {
        let source = sources
            .entry(f.pos.file.clone())
            .or_insert_with(|| std::fs::read_to_string(&f.pos.file).ok());
        out.push_str(&f.diagnostic(source.as_deref()).render(color));
        out.push_str("\n\n");
    }
    if found.is_empty() {
        out.push_str(&format!(
            "No findings in {resources} resource{}.\n",
            plural(resources)
        ));
    } else {
        let high = found
            .iter()
            .filter(|f| f.severity == planner::lint::Severity::High)
            .count();
        out.push_str(&format!(
            "{} finding{} ({high} high, {} medium) in {resources} resource{}.\n",
            found.len(),
            plural(found.len()),
            found.len() - high,
            plural(resources)
        ));
    }
    out
}
