//! `strata apply`, `strata apply FILE` and `strata destroy`: plan (or read the saved plan),
//! show it, ask, apply it through the engine's session, and pick the exit code.

use std::path::Path;
use std::sync::Arc;

use engine::{ApplyOptions, Event, EventSink, OpenOptions, PlanRequest, Session, Status};
use stacks::Stack;

use crate::args::{ApplyArgs, DestroyArgs, Global};
use crate::context::{backend, cloud, open_options, Failure, Outcome};
use crate::reads::load_and_read;
use crate::progress::{JsonLines, LiveView, PlainLines};
use crate::ui::{self, EXIT_INTERRUPTED, EXIT_OK};

/// What one apply or destroy run was asked for.
struct Run<'a> {
    destroy: bool,
    auto_approve: bool,
    parallelism: usize,
    refresh: bool,
    targets: &'a [String],
    json: bool,
}

pub(crate) async fn apply(global: &Global, args: &ApplyArgs) -> Outcome {
    if let Some(file) = &args.plan_file {
        return apply_saved(global, file, args.parallelism, args.json).await;
    }
    run(
        global,
        Run {
            destroy: false,
            auto_approve: args.auto_approve,
            parallelism: args.parallelism,
            refresh: args.refresh,
            targets: &args.targets,
            json: args.json,
        },
    )
    .await
}

pub(crate) async fn destroy(global: &Global, args: &DestroyArgs) -> Outcome {
    run(
        global,
        Run {
            destroy: true,
            auto_approve: args.auto_approve,
            parallelism: args.parallelism,
            refresh: true,
            targets: &args.targets,
            json: args.json,
        },
    )
    .await
}

/// The view of the run's events: JSON lines, a live view on a terminal, plain lines elsewhere.
fn view(global: &Global, json: bool) -> Arc<dyn EventSink> {
    let color = ui::use_color(global.no_color, ui::stdout_is_terminal());
    if json {
        Arc::new(JsonLines)
    } else if ui::stdout_is_terminal() {
        Arc::new(LiveView::new(color))
    } else {
        Arc::new(PlainLines::new(color))
    }
}

async fn run(global: &Global, run: Run<'_>) -> Outcome {
    let verb = if run.destroy { "destroy" } else { "apply" };
    if run.json && !run.auto_approve {
        return Err(
            Failure::new(format!("`{verb} --json` cannot ask for approval")).help(format!(
                "review the plan first, then run `strata {verb} --json --auto-approve`, or apply a saved plan: `strata apply FILE --json`"
            )),
        );
    }
    if !run.auto_approve && !ui::stdin_is_terminal() {
        return Err(Failure::new(format!(
            "refusing to {verb} without approval: standard input is not a terminal"
        ))
        .help(format!(
            "review the plan with `strata plan{}`, then run `strata {verb} --auto-approve`",
            if run.destroy { " --destroy" } else { "" }
        )));
    }
    let stack = load_and_read(global).await?;
    let consumer = consumer_of_refs(&stack, run.destroy);
    let backend = backend(global, &stack);
    let cloud = cloud(global, &stack).await?;
    let events = view(global, run.json);
    let session = Session::open(
        stack,
        backend,
        cloud,
        &open_options(global, verb),
        events.clone(),
    )
    .await?;
    let plan = session
        .plan(&PlanRequest {
            refresh: run.refresh,
            destroy: run.destroy,
            targets: run.targets.to_vec(),
        })
        .await?;
    events.event(Event::Plan {
        plan: Box::new(plan.clone()),
    });
    if plan.has_changes() && !run.auto_approve {
        let question = if run.destroy {
            format!("\nDestroy every resource of `{}`?", session.stack().name)
        } else {
            format!("\nApply these changes to `{}`?", session.stack().name)
        };
        if !ui::confirm(&question) {
            session.close()?;
            return Err(Failure::new(format!(
                "{verb} cancelled; nothing was changed"
            )));
        }
    }
    let outcome = execute(session, plan, run.parallelism, run.json).await;
    record(global, consumer, &outcome)?;
    outcome
}

/// What a successful apply records beside the stacks this one references (`stack_refs`): the
/// stack, with nothing read when it is destroyed.
fn consumer_of_refs(stack: &Stack, destroy: bool) -> Option<Stack> {
    if stack.stack_refs.is_empty() {
        return None;
    }
    let mut consumer = stack.clone();
    if destroy {
        consumer.stack_ref_uses.clear();
    }
    Some(consumer)
}

fn record(global: &Global, consumer: Option<Stack>, outcome: &Outcome) -> Result<(), Failure> {
    match (consumer, outcome) {
        (Some(stack), Ok(EXIT_OK)) => crate::reads::record_consumers(global, &stack),
        _ => Ok(()),
    }
}

/// `apply FILE`: exactly the saved plan, refused when anything it was made from changed;
/// without asking (saving and reviewing it was the approval).
async fn apply_saved(global: &Global, file: &Path, parallelism: usize, json: bool) -> Outcome {
    let stack = load_and_read(global).await?;
    let consumer = consumer_of_refs(&stack, false);
    let backend = backend(global, &stack);
    let cloud = cloud(global, &stack).await?;
    let events = view(global, json);
    // Checked before any cloud call: nothing is settled before the plan is known current.
    let options = OpenOptions {
        settle: false,
        ..open_options(global, "apply")
    };
    let session = Session::open(stack, backend, cloud, &options, events.clone()).await?;
    let plan = match session.saved_plan(file) {
        Ok(plan) => plan,
        Err(e) => {
            session.close()?;
            return Err(e.into());
        }
    };
    events.event(Event::Plan {
        plan: Box::new(plan.clone()),
    });
    let outcome = execute(session, plan, parallelism, json).await;
    record(global, consumer, &outcome)?;
    outcome
}

async fn execute(session: Session, plan: planner::Plan, parallelism: usize, json: bool) -> Outcome {
    if plan.has_changes() && !json {
        println!();
    }
    let applied = session
        .apply(plan, &ApplyOptions { parallelism }, None)
        .await?;
    match applied.summary.status {
        Status::Complete => Ok(EXIT_OK),
        Status::Interrupted => Ok(EXIT_INTERRUPTED),
        Status::Failed if json => Ok(ui::EXIT_ERROR),
        Status::Failed => Err(Failure::reported()),
    }
}
