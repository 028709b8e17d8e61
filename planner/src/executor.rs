//! The executor: walks a [`Plan`] in parallel, one provider call per step, and records each
//! result in the state before the step counts as done.
//!
//! It never re-diffs. A replace is two steps (delete the old, create the new) ordered by
//! `create_before_destroy`, as Pulumi's step executor does. On a failure or an interrupt it
//! starts nothing new, lets running steps finish and records them, then reports every error.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use providers::{CreateRequest, DeleteRequest, FindRequest, Registry, UpdateRequest};
use serde::Serialize;
use stacks::{Map, Reference, Scope, Value};
use state::{Intent, Recorder, ResourceState};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::diff::evaluate;
use crate::plan::{Action, Plan, ResourceChange};

/// How many provider calls run at once unless `--parallelism` says otherwise.
pub const DEFAULT_PARALLELISM: usize = 10;

/// The suffix under which the old object of a create-before-destroy replacement is recorded
/// until it is deleted, so a crash in between never orphans it: the next plan deletes it.
pub const DEPOSED_SUFFIX: &str = "#deposed";

/// One kind of provider call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    pub fn verb(self) -> (&'static str, &'static str) {
        match self {
            Op::Create => ("creating", "created"),
            Op::Update => ("updating", "updated"),
            Op::Delete => ("destroying", "destroyed"),
        }
    }
}

/// What the executor reports as it goes: the terminal view, the plain-line view and the
/// JSON log all consume this one stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        address: String,
        op: Op,
    },
    Finished {
        address: String,
        op: Op,
        elapsed: Duration,
        id: Option<String>,
    },
    Failed {
        address: String,
        op: Op,
        elapsed: Duration,
        message: String,
    },
}

/// Where events go.
pub trait EventSink: Send + Sync {
    fn event(&self, event: Event);
}

/// A sink that drops every event.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn event(&self, _event: Event) {}
}

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

/// One failed step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepError {
    pub address: String,
    pub op: Op,
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

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct StepKey {
    address: String,
    op: Op,
}

/// What apply-time expressions see: built-ins and every resource's latest properties and
/// attributes.
#[derive(Default)]
struct Results {
    builtins: BTreeMap<String, Value>,
    resources: BTreeMap<String, (Map, Map)>,
}

impl Scope for Results {
    fn lookup(&self, reference: &Reference) -> Option<Value> {
        match reference {
            Reference::Builtin { name } => {
                Some(self.builtins.get(name).cloned().unwrap_or(Value::Unknown))
            }
            Reference::Resource { address, attr } => {
                let (props, attrs) = self.resources.get(address)?;
                attrs
                    .get(attr)
                    .or_else(|| props.get(attr))
                    .cloned()
                    .or(Some(Value::Unknown))
            }
        }
    }
}

/// The steps of a plan and the order between them.
struct Schedule {
    steps: Vec<StepKey>,
    /// step -> the steps that must finish first.
    waits_for: BTreeMap<StepKey, BTreeSet<StepKey>>,
}

fn schedule(plan: &Plan) -> Schedule {
    let mut steps = Vec::new();
    let by_address: BTreeMap<&str, &ResourceChange> = plan
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c))
        .collect();
    let forward = |c: &ResourceChange| -> Option<Op> {
        match c.action {
            Action::Create | Action::Replace => Some(Op::Create),
            Action::Update => Some(Op::Update),
            _ => None,
        }
    };
    let deletes = |c: &ResourceChange| matches!(c.action, Action::Delete | Action::Replace);
    for c in &plan.changes {
        if deletes(c) {
            steps.push(StepKey {
                address: c.address.clone(),
                op: Op::Delete,
            });
        }
        if let Some(op) = forward(c) {
            steps.push(StepKey {
                address: c.address.clone(),
                op,
            });
        }
    }
    let mut waits_for: BTreeMap<StepKey, BTreeSet<StepKey>> =
        steps.iter().map(|s| (s.clone(), BTreeSet::new())).collect();
    let mut edge = |before: StepKey, after: StepKey| {
        if before != after {
            if let Some(set) = waits_for.get_mut(&after) {
                set.insert(before);
            }
        }
    };
    let key = |address: &str, op: Op| StepKey {
        address: address.to_string(),
        op,
    };

    for c in &plan.changes {
        // Creates and updates follow what they depend on.
        if let Some(op) = forward(c) {
            for dep in &c.dependencies {
                if let Some(d) = by_address.get(dep.as_str()) {
                    if let Some(dop) = forward(d) {
                        edge(key(dep, dop), key(&c.address, op));
                    }
                }
            }
        }
        if deletes(c) {
            // Deletes go in reverse: this one before what it depended on.
            for dep in &c.prior_dependencies {
                if let Some(d) = by_address.get(dep.as_str()) {
                    if deletes(d) {
                        edge(key(&c.address, Op::Delete), key(dep, Op::Delete));
                    }
                }
            }
        }
        if c.action == Action::Replace {
            if c.create_before_destroy {
                edge(key(&c.address, Op::Create), key(&c.address, Op::Delete));
            } else {
                edge(key(&c.address, Op::Delete), key(&c.address, Op::Create));
            }
        }
    }
    // A deleted resource (or the old object of a create-before-destroy replacement) goes
    // only after everything that referenced it has been pointed elsewhere.
    for c in &plan.changes {
        let deleted_after_dependants = match c.action {
            Action::Delete => true,
            Action::Replace => c.create_before_destroy,
            _ => false,
        };
        if !deleted_after_dependants {
            continue;
        }
        for other in &plan.changes {
            if other.address == c.address {
                continue;
            }
            let refers = other.prior_dependencies.contains(&c.address)
                || (c.action == Action::Replace && other.dependencies.contains(&c.address));
            if refers {
                if let Some(op) = forward(other) {
                    edge(key(&other.address, op), key(&c.address, Op::Delete));
                }
            }
        }
    }
    Schedule { steps, waits_for }
}

/// Applies `plan`. Every completed step is recorded through `recorder` before the next
/// step that waits for it starts. `cancel` becoming true stops new steps (Ctrl-C).
pub async fn apply(
    plan: &Plan,
    registry: &Registry,
    recorder: Arc<Mutex<Recorder>>,
    options: &ApplyOptions,
    sink: Arc<dyn EventSink>,
    cancel: watch::Receiver<bool>,
) -> ApplyOutcome {
    let Schedule {
        steps,
        mut waits_for,
    } = schedule(plan);
    let changes: BTreeMap<String, ResourceChange> = plan
        .changes
        .iter()
        .map(|c| (c.address.clone(), c.clone()))
        .collect();

    let mut results = Results {
        builtins: plan.builtins.clone(),
        resources: BTreeMap::new(),
    };
    for c in &plan.changes {
        if matches!(c.action, Action::NoOp | Action::Update) {
            results.resources.insert(
                c.address.clone(),
                (
                    c.after.clone().unwrap_or_default(),
                    c.prior_attributes.clone().unwrap_or_default(),
                ),
            );
        }
    }
    let results = Arc::new(Mutex::new(results));

    let parallelism = options.parallelism.max(1);
    let mut outcome = ApplyOutcome::default();
    let mut pending: BTreeSet<StepKey> = steps.iter().cloned().collect();
    let mut running: JoinSet<(StepKey, Result<(), String>)> = JoinSet::new();
    let mut stopping = false;

    loop {
        if *cancel.borrow() {
            outcome.interrupted = true;
            stopping = true;
        }
        if !stopping {
            // Start every ready step, in plan order, up to the parallelism.
            let ready: Vec<StepKey> = steps
                .iter()
                .filter(|s| pending.contains(*s))
                .filter(|s| waits_for.get(*s).is_none_or(|w| w.is_empty()))
                .cloned()
                .collect();
            for step in ready {
                if running.len() >= parallelism {
                    break;
                }
                pending.remove(&step);
                let change = changes[&step.address].clone();
                let registry = registry.clone();
                let recorder = recorder.clone();
                let results = results.clone();
                let sink = sink.clone();
                let stack = plan.stack.clone();
                running.spawn(async move {
                    let outcome = run_step(
                        &step, &change, &stack, &registry, &recorder, &results, &*sink,
                    )
                    .await;
                    (step, outcome)
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
            Ok((step, Ok(()))) => {
                match step.op {
                    Op::Create => outcome.created += 1,
                    Op::Update => outcome.updated += 1,
                    Op::Delete => outcome.deleted += 1,
                }
                for waiting in waits_for.values_mut() {
                    waiting.remove(&step);
                }
            }
            Ok((step, Err(message))) => {
                outcome.errors.push(StepError {
                    address: step.address.clone(),
                    op: step.op,
                    message,
                });
                stopping = true;
            }
            Err(join_error) => {
                outcome.errors.push(StepError {
                    address: String::new(),
                    op: Op::Update,
                    message: format!("a step stopped unexpectedly: {join_error}"),
                });
                stopping = true;
            }
        }
    }

    if outcome.succeeded() && !plan.destroy {
        let results = results.lock().expect("results lock");
        outcome.outputs = plan
            .outputs
            .iter()
            .map(|(name, out)| {
                let v = out.value.eval(&*results);
                let v = if out.sensitive {
                    match v {
                        Value::Sensitive(_) => v,
                        other => Value::Sensitive(Box::new(other)),
                    }
                } else {
                    v
                };
                (name.clone(), v)
            })
            .collect();
    }
    outcome
}

async fn run_step(
    step: &StepKey,
    change: &ResourceChange,
    stack: &str,
    registry: &Registry,
    recorder: &Mutex<Recorder>,
    results: &Mutex<Results>,
    sink: &dyn EventSink,
) -> Result<(), String> {
    let started = Instant::now();
    sink.event(Event::Started {
        address: step.address.clone(),
        op: step.op,
    });
    let outcome = perform(step, change, stack, registry, recorder, results).await;
    match outcome {
        Ok(id) => {
            sink.event(Event::Finished {
                address: step.address.clone(),
                op: step.op,
                elapsed: started.elapsed(),
                id,
            });
            Ok(())
        }
        Err(message) => {
            sink.event(Event::Failed {
                address: step.address.clone(),
                op: step.op,
                elapsed: started.elapsed(),
                message: message.clone(),
            });
            Err(message)
        }
    }
}

/// One provider call and its state record. Returns the physical id for the progress line.
async fn perform(
    step: &StepKey,
    change: &ResourceChange,
    stack: &str,
    registry: &Registry,
    recorder: &Mutex<Recorder>,
    results: &Mutex<Results>,
) -> Result<Option<String>, String> {
    let provider = registry
        .get(&change.type_name)
        .ok_or_else(|| format!("no provider for type `{}`", change.type_name))?;
    let record = |f: &mut dyn FnMut(&mut Recorder) -> Result<(), state::StateError>| {
        let mut guard = recorder
            .lock()
            .map_err(|_| "state recorder poisoned".to_string())?;
        f(&mut guard).map_err(|e| format!("recording the state: {e}"))
    };
    let (verb, _) = step.op.verb();
    let context = |name: Option<&str>, err: &dyn std::fmt::Display| match name {
        Some(name) => format!(
            "{verb} {} `{}` ({name}): {err}",
            change.type_name, change.address
        ),
        None => format!("{verb} {} `{}`: {err}", change.type_name, change.address),
    };

    // The properties for create or update, evaluated against what apply has returned so far;
    // all of them must be known by now.
    let known_properties = || -> Result<Map, String> {
        let properties = {
            let scope = results.lock().map_err(|_| "results poisoned".to_string())?;
            evaluate(&change.config, &*scope)
        };
        match properties.iter().find(|(_, v)| v.has_unknown()) {
            Some((key, _)) => Err(context(
                None,
                &format!("property `{key}` is still unknown: what it references did not return it"),
            )),
            None => Ok(properties),
        }
    };
    match step.op {
        Op::Delete => {
            let deposed = change.action == Action::Replace && change.create_before_destroy;
            let state_address = if deposed {
                format!("{}{DEPOSED_SUFFIX}", change.address)
            } else {
                change.address.clone()
            };
            let id = change.id.clone().unwrap_or_default();
            if !change.gone {
                let req = DeleteRequest {
                    address: change.address.clone(),
                    id: id.clone(),
                    properties: change.before.clone().unwrap_or_default(),
                    attributes: change.prior_attributes.clone().unwrap_or_default(),
                };
                provider
                    .delete(req)
                    .await
                    .map_err(|e| context(Some(&id), &e))?;
            }
            record(&mut |r| r.remove(&state_address))?;
            Ok(Some(id))
        }
        Op::Create => {
            let properties = known_properties()?;
            let name = properties
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            if change.action == Action::Replace && change.create_before_destroy {
                // Keep the old object findable until its delete step has run.
                if let (Some(id), Some(before)) = (&change.id, &change.before) {
                    let old = ResourceState {
                        type_name: change.type_name.clone(),
                        id: id.clone(),
                        properties: before.clone(),
                        attributes: change.prior_attributes.clone().unwrap_or_default(),
                        dependencies: change.prior_dependencies.clone(),
                        create_before_destroy: true,
                    };
                    let deposed = format!("{}{DEPOSED_SUFFIX}", change.address);
                    record(&mut |r| r.put(&deposed, old.clone(), None))?;
                }
            }
            let plain: Map = properties
                .iter()
                .map(|(k, v)| (k.clone(), v.unmarked()))
                .collect();
            let intent = Intent::new(&change.address, &change.type_name, plain.clone());
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
                Err(err) => {
                    if matches!(
                        err,
                        providers::ProviderError::Api { .. } | providers::ProviderError::Invalid(_)
                    ) {
                        // AWS refused: nothing was created, the intent is settled.
                        record(&mut |r| r.resolve(&intent_id))?;
                    }
                    return Err(context(name.as_deref(), &err));
                }
            };
            let rs = ResourceState {
                type_name: change.type_name.clone(),
                id: created.id.clone(),
                properties: plain,
                attributes: created.attributes.clone(),
                dependencies: change.dependencies.clone(),
                create_before_destroy: change.create_before_destroy,
            };
            record(&mut |r| r.put(&change.address, rs.clone(), Some(&intent_id)))?;
            results
                .lock()
                .map_err(|_| "results poisoned".to_string())?
                .resources
                .insert(change.address.clone(), (properties, created.attributes));
            Ok(Some(created.id))
        }
        Op::Update => {
            let properties = known_properties()?;
            let id = change.id.clone().unwrap_or_default();
            let updated = provider
                .update(UpdateRequest {
                    address: change.address.clone(),
                    id: id.clone(),
                    prior_properties: change.before.clone().unwrap_or_default(),
                    prior_attributes: change.prior_attributes.clone().unwrap_or_default(),
                    properties: properties.clone(),
                    changed: change.changed.clone(),
                })
                .await
                .map_err(|e| context(Some(&id), &e))?;
            let plain: Map = properties
                .iter()
                .map(|(k, v)| (k.clone(), v.unmarked()))
                .collect();
            let mut attributes = change.prior_attributes.clone().unwrap_or_default();
            attributes.extend(updated.attributes.clone());
            let rs = ResourceState {
                type_name: change.type_name.clone(),
                id: updated.id.clone(),
                properties: plain,
                attributes: attributes.clone(),
                dependencies: change.dependencies.clone(),
                create_before_destroy: change.create_before_destroy,
            };
            record(&mut |r| r.put(&change.address, rs.clone(), None))?;
            results
                .lock()
                .map_err(|_| "results poisoned".to_string())?
                .resources
                .insert(change.address.clone(), (properties, attributes));
            Ok(Some(updated.id))
        }
    }
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
