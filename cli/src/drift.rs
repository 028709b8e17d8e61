//! `strata drift`: what changed in AWS behind strata's back.
//!
//! Read-only, and so it takes no lock: it reads the state (the state file with any journal
//! of a running or crashed apply replayed on top, as `load` always does), reads every recorded
//! resource from AWS, and compares. Nothing is written; a concurrent apply can only make the
//! report out of date, never wrong about what it read.

use planner::drift::{detect, render_drift};

use crate::args::{DriftArgs, Global};
use crate::commands::{aws_context, backend, load_stack, plan_style, plural, Failure, Outcome};
use crate::ui::{EXIT_CHANGES, EXIT_OK};

pub(crate) async fn drift(global: &Global, args: &DriftArgs) -> Outcome {
    let stack = load_stack(global)?;
    let backend = backend(global, &stack)?;
    let loaded = backend.load()?;
    let state = loaded.state;
    if !loaded.pending_intents.is_empty() {
        let n = loaded.pending_intents.len();
        eprintln!(
            "note: {n} create{} of an interrupted apply {} not settled yet; `strata plan` or \
             `strata apply` settles {}",
            plural(n),
            if n == 1 { "is" } else { "are" },
            if n == 1 { "it" } else { "them" },
        );
    }
    if state.resources.is_empty() {
        println!(
            "The state of `{}` records no resources: nothing can drift.",
            stack.name
        );
        return Ok(EXIT_OK);
    }
    let aws = aws_context(global, &stack).await;
    let registry = providers::aws_registry(&aws);
    let live = planner::refresh::refresh(&state, &registry)
        .await
        .map_err(|errors| Failure::new(errors.join("\n")))?;
    let marks = sensitive_marks(&stack);
    let report = detect(&state, &live, &registry.catalog(), &marks);
    print!("{}", render_drift(&report, plan_style(global)));
    Ok(if args.detailed_exitcode && report.has_drift() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

/// Each declared resource's properties evaluated with references unknown: where a sensitive
/// param went, for drift to keep out of its report.
pub(crate) fn sensitive_marks(
    stack: &stacks::Stack,
) -> std::collections::BTreeMap<String, stacks::Map> {
    stack
        .resources
        .iter()
        .map(|(address, decl)| {
            let declared = planner::diff::evaluate_declared(&decl.properties);
            (address.clone(), declared)
        })
        .collect()
}
