//! `strata lint`: the security checks of [`planner::lint`] over the loaded stack, as text for
//! people (file:line:column, rule, what, how to fix it) or JSON for tools. No cloud call.

use planner::lint::{lint as findings, Finding, RULES};

use crate::args::{Global, LintArgs, LintFormat};
use crate::context::{load_stack, plural, Failure, Outcome};
use crate::ui::{EXIT_ERROR, EXIT_OK};

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
    let found = findings(&stack, &args.skip);
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
        LintFormat::Text => print!("{}", render(&found, stack.resources.len())),
    }
    Ok(if found.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

fn render(found: &[Finding], resources: usize) -> String {
    let mut out = String::new();
    for f in found {
        out.push_str(&format!(
            "{}:{}:{}: {} {}: {}\n  help: {}\n\n",
            f.pos.file.display(),
            f.pos.line,
            f.pos.column,
            f.severity.name(),
            f.rule,
            f.message,
            f.help
        ));
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
