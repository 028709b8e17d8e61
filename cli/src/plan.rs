//! `strata plan`: what apply would change, printed as text, JSON or Markdown, and optionally
//! saved for `strata apply FILE`.

use engine::PlanRequest;
use planner::markdown::render_markdown;
use planner::render::{render_plan, Style};
use planner::Plan;

use crate::args::{Global, PlanArgs, PlanFormat};
use crate::context::{open_and_plan, print_policy, Failure, Outcome};
use crate::ui::{self, EXIT_CHANGES, EXIT_OK};

pub(crate) async fn plan(global: &Global, args: &PlanArgs) -> Outcome {
    if args.emit_iam && args.format() == PlanFormat::Markdown {
        return Err(
            Failure::new("`--emit-iam` prints the policy as text or JSON")
                .help("use `--format text` or `--format json`"),
        );
    }
    let stack = crate::reads::load_and_read(global).await?;
    let color = ui::use_color(global.no_color, ui::stdout_is_terminal());
    let request = PlanRequest {
        refresh: args.refresh,
        destroy: args.destroy,
        targets: args.targets.clone(),
    };
    let backend = stack.backend.clone();
    let lookups = crate::context::lookup_types(&stack);
    let (session, plan, cloud) = open_and_plan(global, stack, "plan", &request, color).await?;
    if args.emit_iam {
        let json = args.format() == PlanFormat::Json;
        print_policy(
            &plan,
            planner::iam::Scope::Plan,
            &backend,
            &lookups,
            &cloud,
            json,
        )
        .await?;
    } else {
        print_plan(&plan, args.format(), color);
    }
    session.finish_plan(&plan, args.out.as_deref())?;
    if let Some(out) = &args.out {
        let note = format!(
            "Saved the plan to {}. Apply exactly it with `strata apply {}`.",
            out.display(),
            out.display()
        );
        // On stdout after a text plan; on stderr when stdout holds JSON or Markdown.
        if args.format() == PlanFormat::Text {
            println!("\n{note}");
        } else {
            eprintln!("{note}");
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

/// Prints `plan` to stdout in `format` (the plan is marked sensitive where it must be when it
/// is made, so every format hides the same values).
fn print_plan(plan: &Plan, format: PlanFormat, color: bool) {
    match format {
        PlanFormat::Text => print!("{}", render_plan(plan, Style { color })),
        PlanFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&planner::json::plan_json(plan)).unwrap_or_default()
        ),
        PlanFormat::Markdown => print!("{}", render_markdown(plan)),
    }
}
