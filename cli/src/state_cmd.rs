//! `strata state list | show | rm | mv | pull | push`: inspecting and editing the state.
//!
//! Every command that changes the state takes the lock and writes through the backend's
//! `write`, which keeps the previous file as backup, bumps the serial and never mixes
//! lineages. `list`, `show` and `pull` only read.

use std::path::Path;

use stacks::Value;
use state::State;

use crate::args::{Global, StateArgs, StateCommand};
use crate::commands::{backend, load_stack, Failure, Outcome};
use crate::ui::EXIT_OK;

pub(crate) fn state(global: &Global, args: &StateArgs) -> Outcome {
    match &args.command {
        StateCommand::List => list(global),
        StateCommand::Show { address } => show(global, address),
        StateCommand::Rm { address } => rm(global, address),
        StateCommand::Mv { from, to } => mv(global, from, to),
        StateCommand::Pull => pull(global),
        StateCommand::Push { path, force } => push(global, path, *force),
    }
}

fn read_state(global: &Global) -> Result<State, Failure> {
    Ok(read_stack_and_state(global)?.1)
}

fn read_stack_and_state(global: &Global) -> Result<(stacks::Stack, State), Failure> {
    let stack = load_stack(global)?;
    let state = backend(global, &stack)?.load()?.state;
    Ok((stack, state))
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
    let state = read_state(global)?;
    for address in state.resources.keys() {
        println!("{address}");
    }
    if state.resources.is_empty() {
        eprintln!("The state records no resources.");
    }
    Ok(EXIT_OK)
}

fn show(global: &Global, address: &str) -> Outcome {
    let (stack, state) = read_stack_and_state(global)?;
    // What the stack marks sensitive (a sensitive param) is hidden too.
    let marks = crate::drift::sensitive_marks(&stack);
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
    for (key, value) in &resource.properties {
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
    Ok(EXIT_OK)
}

fn rm(global: &Global, address: &str) -> Outcome {
    let stack = load_stack(global)?;
    let backend = backend(global, &stack)?;
    let lock = backend.lock("state rm", std::time::Duration::ZERO)?;
    let mut state = backend.load()?.state;
    let removed = state
        .resources
        .remove(address)
        .ok_or_else(|| not_in_state(&state, address))?;
    backend.write(&lock, &state)?;
    drop(lock);
    println!(
        "Removed `{address}` from the state. The {} {} still exists in AWS; strata no longer \
         manages it.",
        removed.type_name, removed.id
    );
    if stack.resources.contains_key(address) {
        println!(
            "`{address}` is still declared in the stack: the next apply creates it again, or \
             `strata import {address} {}` takes it back.",
            removed.id
        );
    }
    Ok(EXIT_OK)
}

fn mv(global: &Global, from: &str, to: &str) -> Outcome {
    let stack = load_stack(global)?;
    let backend = backend(global, &stack)?;
    let lock = backend.lock("state mv", std::time::Duration::ZERO)?;
    let mut state = backend.load()?.state;
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
        .ok_or_else(|| not_in_state(&state, from))?;
    state.resources.insert(to.to_string(), resource);
    for other in state.resources.values_mut() {
        for dep in &mut other.dependencies {
            if dep == from {
                *dep = to.to_string();
            }
        }
    }
    backend.write(&lock, &state)?;
    drop(lock);
    println!("Moved `{from}` to `{to}`.");
    if !stack.resources.contains_key(to) {
        eprintln!(
            "note: `{to}` is not declared in {}: the next plan destroys it",
            stack.path.display()
        );
    }
    Ok(EXIT_OK)
}

fn pull(global: &Global) -> Outcome {
    let state = read_state(global)?;
    let text = serde_json::to_string_pretty(&state)
        .map_err(|e| Failure::new(format!("cannot encode the state: {e}")))?;
    println!("{text}");
    Ok(EXIT_OK)
}

fn push(global: &Global, file: &Path, force: bool) -> Outcome {
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())))?;
    let mut pushed: State = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::new(format!(
            "{} is not a strata state file: {e}",
            file.display()
        ))
        .help("push a file that `strata state pull` printed")
    })?;
    let stack = load_stack(global)?;
    let backend = backend(global, &stack)?;
    let lock = backend.lock("state push", std::time::Duration::ZERO)?;
    let current = backend.load()?;
    if current.exists {
        let now = &current.state;
        if pushed.lineage != now.lineage {
            if !force {
                return Err(Failure::new(format!(
                    "{} is of another lineage ({}) than the current state ({}): it describes \
                     another history",
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
    let serial = pushed.serial.max(current.state.serial) + 1;
    backend.write(&lock, &pushed)?;
    drop(lock);
    println!(
        "Pushed {}: the state of `{}` is now at serial {serial}.",
        file.display(),
        stack.name
    );
    Ok(EXIT_OK)
}
