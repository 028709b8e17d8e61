//! `strata drift`: what changed in AWS behind strata's back. Read-only: no lock is taken and
//! nothing is written (see `engine::drift`).

use planner::drift::render_drift;
use planner::render::Style;

use crate::args::{DriftArgs, Global};
use crate::context::{backend, cloud, plural, Outcome};
use crate::ui::{self, EXIT_CHANGES, EXIT_OK};

pub(crate) async fn drift(global: &Global, args: &DriftArgs) -> Outcome {
    let stack = crate::reads::load_and_read(global).await?;
    let backend = backend(global, &stack);
    let cloud = cloud(global, &stack).await?;
    let found = engine::drift(&stack, &*backend, &*cloud).await?;
    if found.unsettled > 0 {
        let n = found.unsettled;
        eprintln!(
            "note: {n} create{} of an interrupted apply {} not settled yet; `strata plan` or \
             `strata apply` settles {}",
            plural(n),
            if n == 1 { "is" } else { "are" },
            if n == 1 { "it" } else { "them" },
        );
    }
    let Some(report) = found.report else {
        println!(
            "The state of `{}` records no resources: nothing can drift.",
            stack.name
        );
        return Ok(EXIT_OK);
    };
    let style = Style {
        color: ui::use_color(global.no_color, ui::stdout_is_terminal()),
    };
    print!("{}", render_drift(&report, style));
    Ok(if args.detailed_exitcode && report.has_drift() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}
