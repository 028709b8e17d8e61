//! Each command: load, plan, apply, render, and the exit code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use planner::executor::{ApplyOptions, EventSink};
use planner::render::{render_plan, Style};
use planner::{Plan, PlanInput};
use providers::aws::{AwsContext, AwsOptions};
use providers::Registry;
use stacks::{Reference, Stack, Value};
use state::{Backend, LockGuard, Recorder};
use tokio::sync::watch;

use crate::args::{ApplyArgs, Cli, Command, DestroyArgs, Global, OutputArgs, PlanArgs};
use crate::progress::{LiveView, PlainLines};
use crate::ui::{self, EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK};

/// A failure that ends the command: what happened and what to do.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) help: Option<String>,
    pub(crate) code: i32,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            help: None,
            code: EXIT_ERROR,
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Failure {
        self.help = Some(help.into());
        self
    }
}

impl From<state::StateError> for Failure {
    fn from(e: state::StateError) -> Failure {
        Failure::new(e.to_string())
    }
}

pub(crate) type Outcome = Result<i32, Failure>;

pub async fn run(cli: Cli) -> i32 {
    let color_err = ui::use_color(cli.global.no_color, ui::stderr_is_terminal());
    let result = match &cli.command {
        Command::Validate => validate(&cli.global),
        Command::Plan(args) => plan(&cli.global, args).await,
        Command::Apply(args) => apply(&cli.global, args).await,
        Command::Destroy(args) => destroy(&cli.global, args).await,
        Command::Output(args) => output(&cli.global, args),
        Command::ForceUnlock { lock_id } => force_unlock(&cli.global, lock_id),
        Command::Drift(args) => crate::drift::drift(&cli.global, args).await,
        Command::Import(args) => crate::import::import(&cli.global, args).await,
        Command::State(args) => crate::state_cmd::state(&cli.global, args),
        Command::Graph(args) => crate::graph::graph(&cli.global, args),
        Command::Lint(args) => crate::lint::lint(&cli.global, args),
        Command::Init(args) => crate::init::init(&cli.global, args),
        Command::Schema => crate::init::schema(),
        Command::Completions(args) => crate::init::completions(args),
        Command::Module(args) => crate::module_cmd::module(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            if !failure.message.is_empty() {
                ui::error(color_err, &failure.message, failure.help.as_deref());
            }
            failure.code
        }
    }
}

/// Loads and validates the stack; stack errors are printed here with their source lines.
pub(crate) fn load_stack(global: &Global) -> Result<Stack, Failure> {
    let options = stacks::LoadOptions {
        vars: global.vars.clone(),
        var_files: global.var_files.clone(),
    };
    let catalog = providers::catalog();
    stacks::load(&global.file, &options, &catalog).map_err(|diagnostics| {
        let color = ui::use_color(global.no_color, ui::stderr_is_terminal());
        eprintln!("{}", diagnostics.render(color));
        Failure {
            message: String::new(),
            help: None,
            code: EXIT_ERROR,
        }
    })
}

/// Where the stack's state lives: `.strata/` beside the stack file (or `backend.local.path`),
/// or an S3 object (`backend.s3`), whose run journal stays in `.strata/` beside the stack file.
pub(crate) fn backend(global: &Global, stack: &Stack) -> Result<Arc<dyn Backend>, Failure> {
    let s3_client = |region: Option<&str>| {
        crate::module_cmd::s3_client(global, stack.region.as_deref(), region)
    };
    Ok(state::open(
        &stack.backend,
        &stack_dir(&global.file),
        &stack.name,
        s3_client,
    ))
}

fn stack_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn validate(global: &Global) -> Outcome {
    let stack = load_stack(global)?;
    println!(
        "The stack `{}` is valid: {} resource{}, {} output{}.",
        stack.name,
        stack.resources.len(),
        plural(stack.resources.len()),
        stack.outputs.len(),
        plural(stack.outputs.len()),
    );
    Ok(EXIT_OK)
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Everything a plan needs once the stack is loaded and the lock is held.
pub(crate) struct Session {
    pub(crate) stack: Stack,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) lock: LockGuard,
    pub(crate) recorder: Recorder,
    pub(crate) registry: Registry,
    pub(crate) aws: AwsContext,
}

/// The AWS clients' configuration: flags and the environment, then the stack's `region:`.
pub(crate) async fn aws_context(global: &Global, stack: &Stack) -> AwsContext {
    let mut ctx = AwsContext::load(
        &AwsOptions {
            region: global.region.clone(),
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone(),
        },
        stack.region.as_deref(),
    )
    .await;
    // Relative local paths in the stack (Lambda code) start beside the stack file.
    ctx.base_dir = stack_dir(&global.file);
    ctx
}

pub(crate) async fn open_session(global: &Global, operation: &str) -> Result<Session, Failure> {
    let stack = load_stack(global)?;
    let backend = backend(global, &stack)?;
    let lock = backend.lock(operation, std::time::Duration::ZERO)?;
    let loaded = backend.load()?;
    let pending = loaded.pending_intents.clone();
    let recorder = backend.recorder(&lock, loaded)?;
    let aws = aws_context(global, &stack).await;
    let registry = providers::aws_registry(&aws);
    let recorder = if pending.is_empty() {
        recorder
    } else {
        let shared = Mutex::new(recorder);
        let adopted = planner::adopt_pending(pending, &stack.name, &registry, &shared)
            .await
            .map_err(Failure::new)?;
        for address in adopted {
            eprintln!("{address}: adopted (created by an interrupted apply)");
        }
        shared
            .into_inner()
            .map_err(|_| Failure::new("state recorder poisoned"))?
    };
    Ok(Session {
        stack,
        backend,
        lock,
        recorder,
        registry,
        aws,
    })
}

/// Built-in values: the region always; the account id (one STS call) only when referenced.
async fn builtins(stack: &Stack, aws: &AwsContext) -> Result<BTreeMap<String, Value>, Failure> {
    let mut out = BTreeMap::new();
    out.insert("aws.region".to_string(), Value::str(aws.region()));
    let wants_account = stack
        .resources
        .values()
        .flat_map(|r| r.properties.values())
        .chain(stack.outputs.values().map(|o| &o.value))
        .any(|e| {
            e.references()
                .iter()
                .any(|r| matches!(r, Reference::Builtin { name } if name == "aws.account_id"))
        });
    if wants_account {
        let id = aws
            .account_id()
            .await
            .map_err(|e| Failure::new(format!("reading the account id from STS: {e}")))?;
        out.insert("aws.account_id".to_string(), Value::str(id));
    }
    Ok(out)
}

pub(crate) async fn make_plan(
    session: &Session,
    refresh: bool,
    destroy: bool,
    targets: &[String],
) -> Result<Plan, Failure> {
    let state = session.recorder.state().clone();
    let refreshed = if refresh && !state.resources.is_empty() {
        Some(
            planner::refresh::refresh(&state, &session.registry)
                .await
                .map_err(|errors| Failure::new(errors.join("\n")))?,
        )
    } else {
        None
    };
    let catalog = session.registry.catalog();
    let builtins = if destroy {
        BTreeMap::new()
    } else {
        builtins(&session.stack, &session.aws).await?
    };
    planner::make_plan(PlanInput {
        stack: &session.stack,
        state: &state,
        refreshed: refreshed.as_ref(),
        catalog: &catalog,
        builtins,
        destroy,
        targets: targets.to_vec(),
    })
    .map_err(|e| Failure::new(e.to_string()))
}

pub(crate) fn plan_style(global: &Global) -> Style {
    Style {
        color: ui::use_color(global.no_color, ui::stdout_is_terminal()),
    }
}

/// Prints a plan for a person: sensitive properties (by the catalog) shown as `(sensitive)`.
pub(crate) fn print_text_plan(global: &Global, plan: &Plan, catalog: &stacks::Catalog) {
    let marked = planner::saved::mark_sensitive(plan, catalog);
    print!("{}", render_plan(&marked, plan_style(global)));
}

async fn plan(global: &Global, args: &PlanArgs) -> Outcome {
    let session = open_session(global, "plan").await?;
    let plan = make_plan(&session, args.refresh, args.destroy, &args.targets).await?;
    let catalog = session.registry.catalog();
    crate::planfile::print_plan(global, &plan, &catalog, args.format());
    let planned_state = crate::planfile::fingerprint(session.recorder.state());
    let Session {
        recorder,
        lock,
        stack,
        ..
    } = session;
    let recorded = recorder.finish()?;
    if let Some(out) = &args.out {
        crate::planfile::save(out, &plan, &stack, &recorded, planned_state, &catalog)?;
        crate::planfile::saved_note(out, args.format());
    }
    drop(lock);
    Ok(if args.detailed_exitcode && plan.has_changes() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

async fn apply(global: &Global, args: &ApplyArgs) -> Outcome {
    if let Some(file) = &args.plan_file {
        return crate::planfile::apply_saved(global, file, args.parallelism, args.json).await;
    }
    run_apply(
        global,
        false,
        args.auto_approve,
        args.parallelism,
        args.refresh,
        &args.targets,
        args.json,
    )
    .await
}

async fn destroy(global: &Global, args: &DestroyArgs) -> Outcome {
    run_apply(
        global,
        true,
        args.auto_approve,
        args.parallelism,
        true,
        &args.targets,
        args.json,
    )
    .await
}

async fn run_apply(
    global: &Global,
    destroy: bool,
    auto_approve: bool,
    parallelism: usize,
    refresh: bool,
    targets: &[String],
    json: bool,
) -> Outcome {
    let verb = if destroy { "destroy" } else { "apply" };
    if json && !auto_approve {
        return Err(
            Failure::new(format!("`{verb} --json` cannot ask for approval")).help(format!(
                "review the plan first, then run `strata {verb} --json --auto-approve`, or apply a saved plan: `strata apply FILE --json`"
            )),
        );
    }
    if !auto_approve && !ui::stdin_is_terminal() {
        return Err(Failure::new(format!(
            "refusing to {verb} without approval: standard input is not a terminal"
        ))
        .help(format!(
            "review the plan with `strata plan{}`, then run `strata {verb} --auto-approve`",
            if destroy { " --destroy" } else { "" }
        )));
    }
    let session = open_session(global, verb).await?;
    let plan = make_plan(&session, refresh, destroy, targets).await?;
    show_plan(global, &plan, &session.registry.catalog(), json);
    execute(global, session, plan, auto_approve, parallelism, json).await
}

/// The plan before apply: as text, or as a `plan` event holding the JSON plan format.
pub(crate) fn show_plan(global: &Global, plan: &Plan, catalog: &stacks::Catalog, json: bool) {
    if json {
        crate::progress::json_event(
            "plan",
            serde_json::json!({ "plan": planner::json::plan_json(plan, catalog) }),
        );
    } else {
        print_text_plan(global, plan, catalog);
    }
}

/// Asks for approval (unless `auto_approve`), walks `plan` with the live or plain progress
/// view, records outputs, and prints the summary and outputs.
pub(crate) async fn execute(
    global: &Global,
    session: Session,
    plan: Plan,
    auto_approve: bool,
    parallelism: usize,
    json: bool,
) -> Outcome {
    let destroy = plan.destroy;
    let verb = if destroy { "destroy" } else { "apply" };
    let Session {
        stack,
        backend: _backend,
        lock,
        recorder,
        registry,
        ..
    } = session;

    if !plan.has_changes() {
        let mut recorder = recorder;
        let outputs = if destroy {
            BTreeMap::new()
        } else {
            outputs_from_state(&plan, recorder.state())
        };
        if !destroy && recorder.state().outputs != outputs {
            recorder.set_outputs(outputs.clone())?;
        }
        recorder.finish()?;
        drop(lock);
        if json {
            json_summary(verb, "complete", (0, 0, 0), &outputs, &[]);
        } else if !destroy {
            print_outputs(&outputs);
        }
        return Ok(EXIT_OK);
    }
    if !auto_approve {
        let question = if destroy {
            format!("\nDestroy every resource of `{}`?", stack.name)
        } else {
            format!("\nApply these changes to `{}`?", stack.name)
        };
        if !ui::confirm(&question) {
            recorder.finish()?;
            drop(lock);
            return Err(Failure::new(format!(
                "{verb} cancelled; nothing was changed"
            )));
        }
    }
    if !json {
        println!();
    }

    let recorder = Arc::new(Mutex::new(recorder));
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nInterrupted: starting nothing new, waiting for running operations to finish and be recorded...");
            let _ = cancel_tx.send(true);
        }
    });
    let sink: Arc<dyn EventSink> = if json {
        Arc::new(crate::progress::JsonLines)
    } else if ui::stdout_is_terminal() {
        Arc::new(LiveView::new())
    } else {
        Arc::new(PlainLines)
    };
    let outcome = planner::apply(
        &plan,
        &registry,
        recorder.clone(),
        &ApplyOptions { parallelism },
        sink,
        cancel_rx,
    )
    .await;
    interrupt.abort();

    let mut recorder = Arc::try_unwrap(recorder)
        .map_err(|_| Failure::new("internal error: the state recorder is still shared"))?
        .into_inner()
        .map_err(|_| Failure::new("state recorder poisoned"))?;
    if outcome.succeeded() {
        if destroy {
            recorder.set_outputs(BTreeMap::new())?;
        } else {
            recorder.set_outputs(outcome.outputs.clone())?;
        }
    }
    recorder.finish()?;
    drop(lock);

    if json {
        let (status, code) = if outcome.interrupted {
            ("interrupted", EXIT_INTERRUPTED)
        } else if outcome.errors.is_empty() {
            ("complete", EXIT_OK)
        } else {
            ("failed", EXIT_ERROR)
        };
        let errors: Vec<String> = outcome.errors.iter().map(|e| e.message.clone()).collect();
        let outputs = if destroy || !outcome.succeeded() {
            BTreeMap::new()
        } else {
            outcome.outputs.clone()
        };
        json_summary(
            verb,
            status,
            (outcome.created, outcome.updated, outcome.deleted),
            &outputs,
            &errors,
        );
        return Ok(code);
    }

    println!();
    let summary = format!(
        "{} complete: {} added, {} changed, {} destroyed.",
        if destroy { "Destroy" } else { "Apply" },
        outcome.created,
        outcome.updated,
        outcome.deleted
    );
    if outcome.interrupted {
        println!("Interrupted. {summary}");
        for e in &outcome.errors {
            ui::error(
                ui::use_color(global.no_color, ui::stderr_is_terminal()),
                &e.message,
                None,
            );
        }
        eprintln!("Every finished operation is recorded; run the same command again to continue.");
        return Ok(EXIT_INTERRUPTED);
    }
    if !outcome.errors.is_empty() {
        println!(
            "{} failed. {summary}",
            if destroy { "Destroy" } else { "Apply" }
        );
        let color = ui::use_color(global.no_color, ui::stderr_is_terminal());
        for e in &outcome.errors {
            ui::error(color, &e.message, None);
        }
        return Err(Failure {
            message: String::new(),
            help: None,
            code: EXIT_ERROR,
        });
    }
    println!("{summary}");
    if !destroy {
        print_outputs(&outcome.outputs);
    }
    Ok(EXIT_OK)
}

/// The last JSON event of an apply or destroy: what it did, its outputs (sensitive ones as
/// `{"$sensitive": true}`) and its errors.
fn json_summary(
    verb: &str,
    status: &str,
    (added, changed, destroyed): (usize, usize, usize),
    outputs: &BTreeMap<String, Value>,
    errors: &[String],
) {
    let outputs: serde_json::Map<String, serde_json::Value> = outputs
        .iter()
        .map(|(k, v)| (k.clone(), v.to_marked_json(true)))
        .collect();
    crate::progress::json_event(
        "summary",
        serde_json::json!({
            "operation": verb,
            "status": status,
            "added": added,
            "changed": changed,
            "destroyed": destroyed,
            "outputs": outputs,
            "errors": errors,
        }),
    );
}

/// Outputs when nothing changed: evaluated from the plan's known values.
fn outputs_from_state(plan: &Plan, _state: &state::State) -> BTreeMap<String, Value> {
    plan.outputs
        .iter()
        .map(|(name, o)| {
            let v = if o.sensitive {
                Value::Sensitive(Box::new(o.planned.unmarked()))
            } else {
                o.planned.clone()
            };
            (name.clone(), v)
        })
        .collect()
}

fn print_outputs(outputs: &BTreeMap<String, Value>) {
    if outputs.is_empty() {
        return;
    }
    println!("\nOutputs:");
    for (name, value) in outputs {
        println!("  {name} = {}", value.render());
    }
}

fn output(global: &Global, args: &OutputArgs) -> Outcome {
    let stack = load_stack(global)?;
    let backend = backend(global, &stack)?;
    let loaded = backend.load()?;
    let outputs = &loaded.state.outputs;
    match &args.name {
        Some(name) => {
            let value = outputs.get(name).ok_or_else(|| {
                let known: Vec<&str> = outputs.keys().map(String::as_str).collect();
                Failure::new(format!("no output named `{name}` in the state")).help(
                    if known.is_empty() {
                        "run `strata apply` first".to_string()
                    } else {
                        format!("the outputs are: {}", known.join(", "))
                    },
                )
            })?;
            if args.json {
                println!("{}", value.to_json());
            } else {
                match value.unmarked() {
                    Value::String(s) => println!("{s}"),
                    other => println!("{}", other.to_json()),
                }
            }
        }
        None => {
            if args.json {
                let map: serde_json::Map<String, serde_json::Value> = outputs
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            serde_json::json!({
                                "value": v.to_json(),
                                "sensitive": v.has_sensitive(),
                            }),
                        )
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::Value::Object(map))
                        .unwrap_or_default()
                );
            } else {
                for (name, value) in outputs {
                    println!("{name} = {}", value.render());
                }
            }
        }
    }
    Ok(EXIT_OK)
}

fn force_unlock(global: &Global, lock_id: &str) -> Outcome {
    let stack = load_stack(global)?;
    let backend = backend(global, &stack)?;
    backend.force_unlock(lock_id)?;
    println!("The lock {lock_id} is released.");
    Ok(EXIT_OK)
}
