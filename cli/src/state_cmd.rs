//! `strata state list | show | rm | mv | pull | push` and `strata force-unlock`: inspecting and
//! editing the state.
//!
//! Every command that changes the state goes through an engine session (the lock, then the
//! backend's write, which keeps the previous file as backup, bumps the serial and never mixes
//! lineages). `list`, `show` and `pull` only read.

use std::path::Path;
use std::sync::Arc;

use engine::{NoEvents, OpenOptions, Session};
use stacks::{Stack, Value};
use state::State;

use crate::args::{Global, StateArgs, StateCommand};
use crate::context::{backend, cloud, load_stack, open_options, Failure, Outcome};
use crate::ui::EXIT_OK;

pub(crate) async fn state(global: &Global, args: &StateArgs) -> Outcome {
    match &args.command {
        StateCommand::List => list(global),
        StateCommand::Show { address } => show(global, address),
        StateCommand::Rm { address } => rm(global, address).await,
        StateCommand::Mv { from, to } => mv(global, from, to).await,
        StateCommand::Pull => pull(global),
        StateCommand::Push { path, force } => push(global, path, *force).await,
    }
}

pub(crate) fn force_unlock(global: &Global, lock_id: &str) -> Outcome {
    let stack = load_stack(global)?;
    backend(global, &stack).force_unlock(lock_id)?;
    println!("The lock {lock_id} is released.");
    Ok(EXIT_OK)
}

fn read(global: &Global) -> Result<(Stack, State), Failure> {
    let stack = load_stack(global)?;
    let state = engine::read_state(&*backend(global, &stack))?.state;
    Ok((stack, state))
}

/// A session for editing the state: locked, creates an interrupted run left are kept pending.
async fn edit(global: &Global, operation: &str) -> Result<Session, Failure> {
    let stack = load_stack(global)?;
    let backend = backend(global, &stack);
    let cloud = cloud(global, &stack).await?;
    let options = OpenOptions {
        settle: false,
        ..open_options(global, operation)
    };
    Ok(Session::open(stack, backend, cloud, &options, Arc::new(NoEvents)).await?)
}

/// The error for an address the state does not hold, with a hint.
fn not_in_state(state: &State, address: &str) -> Failure {
    let failure = Failure::new(format!("`{address}` is not in the state"));
    match stacks::did_you_mean(address, state.resources.keys()) {
        Some(close) => failure.help(format!("did you mean `{close}`?")),
        None => failure.help("`strata state list` shows what the state holds"),
    }
}

fn list(global: &Global) -> Outcome {
    let (_, state) = read(global)?;
    for address in state.resources.keys() {
        println!("{address}");
    }
    if state.resources.is_empty() {
        eprintln!("The state records no resources.");
    }
    Ok(EXIT_OK)
}

fn show(global: &Global, address: &str) -> Outcome {
    let (stack, state) = read(global)?;
    // What the stack marks sensitive (a sensitive param) is hidden too.
    let marks = engine::sensitive_marks(&stack);
    let template = |key: &str| marks.get(address).and_then(|m| m.get(key));
    let resource = state
        .resources
        .get(address)
        .ok_or_else(|| not_in_state(&state, address))?;
    let catalog = providers::catalog();
    let schema = catalog.get(&resource.type_name);
    let secret = |key: &str| {
        schema
            .and_then(|s| s.prop(key))
            .is_some_and(|p| p.sensitive)
    };
    let shown = |key: &str, value: &Value| {
        if secret(key) {
            "(sensitive)".to_string()
        } else {
            match template(key) {
                Some(t) => planner::saved::mark_like(value.clone(), t).render(),
                None => value.render(),
            }
        }
    };
    println!("{address} ({})", resource.type_name);
    println!("  id: {}", resource.id);
    println!("  properties:");
    // Hidden too: what was sensitive when it was recorded.
    let recorded = stacks::mark_paths(resource.properties.clone(), &resource.sensitive);
    for (key, value) in &recorded {
        println!("    {key}: {}", shown(key, value));
    }
    println!("  attributes:");
    for (key, value) in &resource.attributes {
        println!("    {key}: {}", shown(key, value));
    }
    println!("  dependencies: [{}]", resource.dependencies.join(", "));
    if resource.create_before_destroy {
        println!("  create_before_destroy: true");
    }
    if resource.tainted {
        println!("  tainted: true (the next apply replaces it)");
    }
    Ok(EXIT_OK)
}

async fn rm(global: &Global, address: &str) -> Outcome {
    let session = edit(global, "state rm").await?;
    let declared = session.stack().resources.contains_key(address);
    let mut removed = None;
    session.edit_state(|current, _| {
        let mut state = current.clone();
        removed = Some(
            state
                .resources
                .remove(address)
                .ok_or_else(|| not_in_state(current, address))?,
        );
        Ok::<_, Failure>(state)
    })?;
    let Some(removed) = removed else {
        return Err(Failure::new("internal error: nothing was removed"));
    };
    println!(
        "Removed `{address}` from the state. The {} {} still exists in AWS; strata no longer \
         manages it.",
        removed.type_name, removed.id
    );
    if declared {
        println!(
            "`{address}` is still declared in the stack: the next apply creates it again, or \
             `strata import {address} {}` takes it back.",
            removed.id
        );
    }
    Ok(EXIT_OK)
}

async fn mv(global: &Global, from: &str, to: &str) -> Outcome {
    // Checked before the state is opened: a bad address never gets near it.
    if !stacks::is_resource_address(to) {
        return Err(Failure::new(format!("`{to}` is not a resource address"))
            .help(format!("write {}", stacks::RESOURCE_ADDRESS_RULE)));
    }
    let session = edit(global, "state mv").await?;
    let declared = session.stack().resources.contains_key(to);
    let stack_path = session.stack().path.clone();
    session.edit_state(|current, _| {
        let mut state = current.clone();
        if state.resources.contains_key(to) {
            return Err(
                Failure::new(format!("`{to}` is already in the state")).help(format!(
                    "forget it first with `strata state rm {to}`, or pick another address"
                )),
            );
        }
        let resource = state
            .resources
            .remove(from)
            .ok_or_else(|| not_in_state(current, from))?;
        state.resources.insert(to.to_string(), resource);
        for other in state.resources.values_mut() {
            for dep in &mut other.dependencies {
                if dep == from {
                    *dep = to.to_string();
                }
            }
        }
        Ok(state)
    })?;
    println!("Moved `{from}` to `{to}`.");
    if !declared {
        eprintln!(
            "note: `{to}` is not declared in {}: the next plan destroys it",
            stack_path.display()
        );
    }
    Ok(EXIT_OK)
}

fn pull(global: &Global) -> Outcome {
    let (_, state) = read(global)?;
    let text = serde_json::to_string_pretty(&state)
        .map_err(|e| Failure::new(format!("cannot encode the state: {e}")))?;
    println!("{text}");
    Ok(EXIT_OK)
}

async fn push(global: &Global, file: &Path, force: bool) -> Outcome {
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())))?;
    let mut pushed: State = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::new(format!(
            "{} is not a strata state file: {e}",
            file.display()
        ))
        .help("push a file that `strata state pull` printed")
    })?;
    let session = edit(global, "state push").await?;
    let name = session.stack().name.clone();
    let serial = session.edit_state(|now, existed| {
        if existed {
            if pushed.lineage != now.lineage {
                if !force {
                    return Err(Failure::new(format!(
                        "{} is of another lineage ({}) than the current state ({}): it \
                         describes another history",
                        file.display(),
                        pushed.lineage,
                        now.lineage
                    ))
                    .help("if you are sure it should replace the current state, add --force"));
                }
                pushed.lineage = now.lineage.clone();
            }
            if pushed.serial < now.serial {
                if !force {
                    return Err(Failure::new(format!(
                        "{} is at serial {}, older than the current state (serial {})",
                        file.display(),
                        pushed.serial,
                        now.serial
                    ))
                    .help("`strata state pull` the current state and edit that, or add --force"));
                }
                pushed.serial = now.serial;
            }
        }
        Ok(pushed)
    })?;
    println!(
        "Pushed {}: the state of `{name}` is now at serial {serial}.",
        file.display()
    );
    Ok(EXIT_OK)
}
