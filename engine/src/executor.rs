//! The executor: walks a [`Plan`]'s steps in parallel, one provider call per step, and records
//! each result in the state before the step counts as done.
//!
//! It never decides and never re-diffs: a step starts once every step it waits for (as the
//! planner wrote them into the plan) has finished, in the order the plan lists them, up to the
//! parallelism. On a failure or an interrupt it starts nothing new, lets running steps finish
//! and records them, then reports every error.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use planner::{Action, Known, Plan, ResourceChange, Step, StepKind};
use providers::{
    CreateRequest, DeleteRequest, FindRequest, ProviderError, Registry, UpdateRequest,
};
use stacks::{Map, Value};
use state::{Intent, Recorder, ResourceState};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::events::{Event, EventSink};

/// How many provider calls run at once unless `--parallelism` says otherwise.
pub const DEFAULT_PARALLELISM: usize = 10;

/// The suffix under which the old object of a create-before-destroy replacement is recorded
/// until it is deleted, so a crash in between never orphans it: the next plan deletes it.
pub const DEPOSED_SUFFIX: &str = "#deposed";

/// How the executor runs.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: DEFAULT_PARALLELISM,
        }
    }
}

/// One failed step: what was being done, to what, and what AWS said.
#[derive(Clone, Debug, PartialEq)]
pub struct StepError {
    pub address: String,
    pub kind: StepKind,
    /// AWS's error code, when AWS answered (`InvalidParameterValue`).
    pub code: Option<String>,
    /// `creating aws.sqs.queue `q` (orders-q): Code: message`.
    pub message: String,
}

/// How an apply ended.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub errors: Vec<StepError>,
    pub interrupted: bool,
    /// Steps that completed, per kind.
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Outputs evaluated against the final results (empty when anything failed).
    pub outputs: BTreeMap<String, Value>,
}

impl ApplyOutcome {
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty() && !self.interrupted
    }
}

/// Applies `plan` by walking its steps. Every completed step is recorded through `recorder`
/// before a step that waits for it starts. `cancel` becoming true stops new steps (Ctrl-C).
pub async fn apply(
    plan: &Plan,
    registry: &Registry,
    recorder: Arc<Mutex<Recorder>>,
    options: &ApplyOptions,
    sink: Arc<dyn EventSink>,
    cancel: watch::Receiver<bool>,
) -> ApplyOutcome {
    let steps = &plan.steps;
    let changes: BTreeMap<&str, &ResourceChange> = plan
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c))
        .collect();

    let mut known = Known::new(plan.builtins.clone());
    for c in &plan.changes {
        if matches!(c.action, Action::NoOp | Action::Update) {
            known.insert(
                &c.address,
                c.after.clone().unwrap_or_default(),
                Some(c.prior_attributes.clone().unwrap_or_default()),
            );
        }
    }
    let results = Arc::new(Mutex::new(known));

    let parallelism = options.parallelism.max(1);
    let mut outcome = ApplyOutcome::default();
    if let Err(error) = record_moves(plan, &recorder) {
        outcome.errors.push(error);
        return outcome;
    }
    // Per step: how many of the steps it waits for are still to finish.
    let mut waiting: Vec<usize> = steps.iter().map(|s| s.waits_for.len()).collect();
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, step) in steps.iter().enumerate() {
        for &before in &step.waits_for {
            if let Some(d) = dependants.get_mut(before) {
                d.push(i);
            }
        }
    }
    // Steps whose waits are over and that have not started, in plan order: each start and
    // each finish touches only the steps concerned, whatever the plan's size.
    let mut ready: BTreeSet<usize> = (0..steps.len()).filter(|&i| waiting[i] == 0).collect();
    let mut running: JoinSet<(usize, Result<(), StepError>)> = JoinSet::new();
    let mut stopping = false;

    loop {
        if *cancel.borrow() && !outcome.interrupted {
            outcome.interrupted = true;
            stopping = true;
            sink.event(Event::Interrupted);
        }
        if !stopping {
            // Every ready step, in plan order, up to the parallelism.
            while running.len() < parallelism {
                let Some(i) = ready.pop_first() else {
                    break;
                };
                let step = steps[i].clone();
                let Some(change) = changes.get(step.address.as_str()).map(|c| (*c).clone()) else {
                    outcome.errors.push(StepError {
                        address: step.address.clone(),
                        kind: step.kind,
                        code: None,
                        message: format!(
                            "the plan has a step for `{}` but no change",
                            step.address
                        ),
                    });
                    stopping = true;
                    break;
                };
                let registry = registry.clone();
                let recorder = recorder.clone();
                let results = results.clone();
                let sink = sink.clone();
                let stack = plan.stack.clone();
                running.spawn(async move {
                    let result = run_step(
                        &step, &change, &stack, &registry, &recorder, &results, &*sink,
                    )
                    .await;
                    (i, result)
                });
            }
        }
        if running.is_empty() {
            break;
        }
        let mut cancel_changed = cancel.clone();
        let joined = tokio::select! {
            joined = running.join_next() => joined,
            _ = cancel_changed.changed() => continue,
        };
        let Some(joined) = joined else { break };
        match joined {
            Ok((i, Ok(()))) => {
                match steps[i].kind {
                    StepKind::Create | StepKind::CreateReplacement => outcome.created += 1,
                    StepKind::Update => outcome.updated += 1,
                    StepKind::Delete | StepKind::DeleteReplaced => outcome.deleted += 1,
                }
                for &d in &dependants[i] {
                    waiting[d] = waiting[d].saturating_sub(1);
                    if waiting[d] == 0 {
                        ready.insert(d);
                    }
                }
            }
            Ok((_, Err(error))) => {
                outcome.errors.push(error);
                stopping = true;
            }
            Err(join_error) => {
                outcome.errors.push(StepError {
                    address: String::new(),
                    kind: StepKind::Update,
                    code: None,
                    message: format!("a step stopped unexpectedly: {join_error}"),
                });
                stopping = true;
            }
        }
    }

    if outcome.succeeded() && !plan.destroy {
        if let Ok(results) = results.lock() {
            outcome.outputs = plan
                .outputs
                .iter()
                .map(|(name, out)| {
                    let v = out.value.eval(&*results);
                    let v = match v {
                        Value::Sensitive(_) => v,
                        other if out.sensitive => Value::Sensitive(Box::new(other)),
                        other => other,
                    };
                    (name.clone(), v)
                })
                .collect();
        }
    }
    outcome
}

/// Renames what the state records for the plan's `moved` entries, before any step: each
/// resource keeps its object, under its new address. An entry already made (a second run of a
/// saved plan's apply after an interruption) is skipped.
fn record_moves(plan: &Plan, recorder: &Mutex<Recorder>) -> Result<(), StepError> {
    let failed = |from: &str, message: String| StepError {
        address: from.to_string(),
        kind: StepKind::Update,
        code: None,
        message,
    };
    for (from, to) in plan.moves() {
        let mut guard = recorder
            .lock()
            .map_err(|_| failed(from, "state recorder poisoned".into()))?;
        let Some(resource) = guard.state().resources.get(from).cloned() else {
            continue;
        };
        if guard.state().resources.contains_key(to) {
            continue;
        }
        guard
            .put(to, resource, None)
            .and_then(|()| guard.remove(from))
            .map_err(|e| {
                failed(
                    from,
                    format!("recording the move of `{from}` to `{to}`: {e}"),
                )
            })?;
    }
    Ok(())
}

async fn run_step(
    step: &Step,
    change: &ResourceChange,
    stack: &str,
    registry: &Registry,
    recorder: &Mutex<Recorder>,
    results: &Mutex<Known>,
    sink: &dyn EventSink,
) -> Result<(), StepError> {
    let started = Instant::now();
    sink.event(Event::Started {
        address: step.address.clone(),
        operation: step.kind,
    });
    match perform(step, change, stack, registry, recorder, results).await {
        Ok(id) => {
            sink.event(Event::Finished {
                address: step.address.clone(),
                operation: step.kind,
                elapsed: started.elapsed(),
                id,
            });
            Ok(())
        }
        Err(failure) => {
            let error = StepError {
                address: step.address.clone(),
                kind: step.kind,
                code: failure.code,
                message: failure.message,
            };
            sink.event(Event::Failed {
                address: step.address.clone(),
                operation: step.kind,
                elapsed: started.elapsed(),
                code: error.code.clone(),
                message: error.message.clone(),
            });
            Err(error)
        }
    }
}

/// Why a step failed, before it is tied to its step.
struct Failure {
    code: Option<String>,
    message: String,
}

impl Failure {
    fn engine(message: impl Into<String>) -> Failure {
        Failure {
            code: None,
            message: message.into(),
        }
    }
}

/// One provider call and its state record. Returns the physical id for the progress line.
async fn perform(
    step: &Step,
    change: &ResourceChange,
    stack: &str,
    registry: &Registry,
    recorder: &Mutex<Recorder>,
    results: &Mutex<Known>,
) -> Result<Option<String>, Failure> {
    let provider = registry
        .get(&change.type_name)
        .ok_or_else(|| Failure::engine(format!("no provider for type `{}`", change.type_name)))?;
    let record = |f: &mut dyn FnMut(&mut Recorder) -> Result<(), state::StateError>| {
        let mut guard = recorder
            .lock()
            .map_err(|_| Failure::engine("state recorder poisoned"))?;
        f(&mut guard).map_err(|e| Failure::engine(format!("recording the state: {e}")))
    };
    let (verb, _) = step.kind.verb();
    let doing = |name: Option<&str>| match name {
        Some(name) => format!("{verb} {} `{}` ({name})", change.type_name, change.address),
        None => format!("{verb} {} `{}`", change.type_name, change.address),
    };
    let cloud = |name: Option<&str>, err: ProviderError| Failure {
        code: err.code().map(str::to_string),
        message: format!("{}: {err}", doing(name)),
    };
    let deposed = change.action == Action::CreateThenDelete;

    // The properties for create or update, evaluated against what apply has returned so far;
    // all of them must be known by now.
    let known_properties = || -> Result<Map, Failure> {
        let properties = {
            let scope = results
                .lock()
                .map_err(|_| Failure::engine("results poisoned"))?;
            planner::diff::try_evaluate(&change.config, &*scope)
                .map_err(|e| Failure::engine(format!("{}: {e}", doing(None))))?
        };
        match properties.iter().find(|(_, v)| v.has_unknown()) {
            Some((key, _)) => Err(Failure::engine(format!(
                "{}: property `{key}` is still unknown: what it references did not return it",
                doing(None)
            ))),
            None => Ok(properties),
        }
    };
    let plain = |properties: &Map| -> Map {
        properties
            .iter()
            .map(|(k, v)| (k.clone(), v.unmarked()))
            .collect()
    };
    match step.kind {
        StepKind::Delete | StepKind::DeleteReplaced => {
            let state_address = if step.kind == StepKind::DeleteReplaced && deposed {
                format!("{}{DEPOSED_SUFFIX}", change.address)
            } else {
                change.address.clone()
            };
            let id = change.id.clone().unwrap_or_default();
            if !change.gone {
                let req = DeleteRequest {
                    address: change.address.clone(),
                    id: id.clone(),
                    properties: unmarked_map(change.before.as_ref()),
                    attributes: unmarked_map(change.prior_attributes.as_ref()),
                };
                provider
                    .delete(req)
                    .await
                    .map_err(|e| cloud(Some(&id), e))?;
            }
            record(&mut |r| r.remove(&state_address))?;
            Ok(Some(id))
        }
        StepKind::Create | StepKind::CreateReplacement => {
            let properties = known_properties()?;
            let name = properties
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            if step.kind == StepKind::CreateReplacement && deposed {
                // Keep the old object findable until its delete step has run.
                if let (Some(id), Some(before)) = (&change.id, &change.before) {
                    let old = ResourceState {
                        type_name: change.type_name.clone(),
                        id: id.clone(),
                        properties: plain(before),
                        attributes: unmarked_map(change.prior_attributes.as_ref()),
                        dependencies: change.prior_dependencies.clone(),
                        create_before_destroy: true,
                        tainted: false,
                        sensitive: stacks::sensitive_paths(before),
                    };
                    let at = format!("{}{DEPOSED_SUFFIX}", change.address);
                    record(&mut |r| r.put(&at, old.clone(), None))?;
                }
            }
            let intent = Intent::new(&change.address, &change.type_name, plain(&properties));
            let intent_id = intent.id.clone();
            record(&mut |r| r.intent(intent.clone()))?;
            let created = provider
                .create(CreateRequest {
                    address: change.address.clone(),
                    stack: stack.to_string(),
                    properties: properties.clone(),
                })
                .await;
            let created = match created {
                Ok(created) => created,
                Err(ProviderError::Partial { id, source }) => {
                    // The object exists but is not what the stack asks for: record it, tainted,
                    // so it is never orphaned and the next plan replaces it.
                    let rs = ResourceState {
                        type_name: change.type_name.clone(),
                        id: id.clone(),
                        properties: plain(&properties),
                        attributes: Map::new(),
                        dependencies: change.dependencies.clone(),
                        create_before_destroy: change.create_before_destroy,
                        tainted: true,
                        sensitive: sensitive_paths_of(change, &properties),
                    };
                    record(&mut |r| r.put(&change.address, rs.clone(), Some(&intent_id)))?;
                    let mut failure = cloud(name.as_deref(), *source);
                    failure.message.push_str(&format!(
                        " ({id} was created and is recorded as tainted: the next apply replaces it)"
                    ));
                    return Err(failure);
                }
                Err(err) => {
                    if matches!(err, ProviderError::Api { .. } | ProviderError::Invalid(_)) {
                        // AWS refused: nothing was created, the intent is settled.
                        record(&mut |r| r.resolve(&intent_id))?;
                    }
                    return Err(cloud(name.as_deref(), err));
                }
            };
            let rs = ResourceState {
                type_name: change.type_name.clone(),
                id: created.id.clone(),
                properties: plain(&properties),
                attributes: created.attributes.clone(),
                dependencies: change.dependencies.clone(),
                create_before_destroy: change.create_before_destroy,
                tainted: false,
                sensitive: sensitive_paths_of(change, &properties),
            };
            record(&mut |r| r.put(&change.address, rs.clone(), Some(&intent_id)))?;
            results
                .lock()
                .map_err(|_| Failure::engine("results poisoned"))?
                .insert(&change.address, properties, Some(created.attributes));
            Ok(Some(created.id))
        }
        StepKind::Update => {
            let properties = known_properties()?;
            let id = change.id.clone().unwrap_or_default();
            let updated = provider
                .update(UpdateRequest {
                    address: change.address.clone(),
                    id: id.clone(),
                    prior_properties: unmarked_map(change.before.as_ref()),
                    prior_attributes: unmarked_map(change.prior_attributes.as_ref()),
                    properties: properties.clone(),
                    changed: change.changed.clone(),
                })
                .await
                .map_err(|e| cloud(Some(&id), e))?;
            let mut attributes = unmarked_map(change.prior_attributes.as_ref());
            attributes.extend(updated.attributes.clone());
            let rs = ResourceState {
                type_name: change.type_name.clone(),
                id: updated.id.clone(),
                properties: plain(&properties),
                attributes: attributes.clone(),
                dependencies: change.dependencies.clone(),
                create_before_destroy: change.create_before_destroy,
                tainted: false,
                sensitive: sensitive_paths_of(change, &properties),
            };
            record(&mut |r| r.put(&change.address, rs.clone(), None))?;
            results
                .lock()
                .map_err(|_| Failure::engine("results poisoned"))?
                .insert(&change.address, properties, Some(attributes));
            Ok(Some(updated.id))
        }
    }
}

/// Where the values recorded for `change` are sensitive: marked in the plan (the schema's
/// sensitive properties, sensitive params) or in the properties evaluated at apply.
fn sensitive_paths_of(change: &ResourceChange, properties: &Map) -> Vec<String> {
    let mut paths = stacks::sensitive_paths(properties);
    if let Some(after) = &change.after {
        paths.extend(stacks::sensitive_paths(after));
    }
    paths.sort();
    paths.dedup();
    paths
}

/// A plan's values without the sensitive markers the planner put on them: what providers and
/// the state get.
fn unmarked_map(map: Option<&Map>) -> Map {
    map.map(|m| m.iter().map(|(k, v)| (k.clone(), v.unmarked())).collect())
        .unwrap_or_default()
}

/// Settles intents left by a crashed run: each is looked up by its identity and adopted into
/// the state when found, or forgotten when nothing is there. Never a duplicate, never an
/// orphan. Returns the addresses adopted.
pub async fn adopt_pending(
    intents: Vec<Intent>,
    stack: &str,
    registry: &Registry,
    recorder: &Mutex<Recorder>,
) -> Result<Vec<String>, String> {
    let mut adopted = Vec::new();
    for intent in intents {
        let provider = registry
            .get(&intent.type_name)
            .ok_or_else(|| format!("no provider for type `{}`", intent.type_name))?;
        let found = provider
            .find(FindRequest {
                address: intent.address.clone(),
                stack: stack.to_string(),
                properties: intent.properties.clone(),
            })
            .await
            .map_err(|e| {
                format!(
                    "looking for {} `{}` left by an interrupted apply: {e}",
                    intent.type_name, intent.address
                )
            })?;
        let mut guard = recorder
            .lock()
            .map_err(|_| "state recorder poisoned".to_string())?;
        match found {
            Some(resource) => {
                let rs = ResourceState {
                    type_name: intent.type_name.clone(),
                    id: resource.id,
                    properties: intent.properties.clone(),
                    attributes: resource.attributes,
                    dependencies: Vec::new(),
                    create_before_destroy: false,
                    tainted: false,
                    sensitive: Vec::new(),
                };
                guard
                    .put(&intent.address, rs, Some(&intent.id))
                    .map_err(|e| format!("recording the state: {e}"))?;
                adopted.push(intent.address.clone());
            }
            None => guard
                .resolve(&intent.id)
                .map_err(|e| format!("recording the state: {e}"))?,
        }
    }
    Ok(adopted)
}
