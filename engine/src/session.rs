//! The session: what every command that reads or writes state goes through, as Terraform's
//! commands call a backend "operation" and Pulumi's CLI calls the engine's `Update`.
//!
//! [`Session::open`] takes the lock (waiting up to `--lock-timeout` for a live holder), loads
//! the state and settles creates an interrupted run left unrecorded (each is found and adopted,
//! or forgotten). Then [`Session::plan`] refreshes and plans, [`Session::apply`] walks a plan
//! and records outputs, and the session ends by writing the state and releasing the lock. The
//! CLI only parses, asks, renders and picks the exit code; engine tests drive this same path
//! with fake providers.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use planner::{Plan, PlanInput};
use providers::ReadRequest;
use stacks::{Catalog, Map, Reference, Stack, Value};
use state::{Backend, LockGuard, Recorder, ResourceState, State};
use tokio::sync::watch;

use crate::cloud::Cloud;
use crate::error::EngineError;
use crate::events::{Event, EventSink, Status, Summary};
use crate::executor::{ApplyOptions, ApplyOutcome};

/// How a session opens.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// The command, as the lock names it (`apply`).
    pub operation: String,
    /// How long to wait for a lock another strata holds (`--lock-timeout`; zero: fail at once).
    pub lock_timeout: Duration,
    /// Settle creates an interrupted run left unrecorded (needs AWS). State edits (`state rm`)
    /// leave them pending instead, for the next plan or apply.
    pub settle: bool,
}

impl OpenOptions {
    pub fn new(operation: &str, lock_timeout: Duration) -> OpenOptions {
        OpenOptions {
            operation: operation.to_string(),
            lock_timeout,
            settle: true,
        }
    }
}

/// What to plan.
#[derive(Clone, Debug, Default)]
pub struct PlanRequest {
    /// Read every recorded resource from AWS first (`--refresh`, on by default).
    pub refresh: bool,
    /// Plan the deletion of everything (`--destroy`, `destroy`).
    pub destroy: bool,
    /// Only these addresses (`--target`).
    pub targets: Vec<String>,
}

/// How an apply ended: the executor's outcome and the summary the views show.
#[derive(Debug)]
pub struct Applied {
    pub outcome: ApplyOutcome,
    pub summary: Summary,
}

/// An open session: the stack, the state under lock, and where AWS is.
pub struct Session {
    stack: Stack,
    backend: Arc<dyn Backend>,
    lock: LockGuard,
    recorder: Recorder,
    /// Whether anything was recorded before this session (a state file or a crashed journal).
    existed: bool,
    /// Creates an interrupted run left unrecorded and this session did not settle.
    unsettled: usize,
    cloud: Arc<dyn Cloud>,
    events: Arc<dyn EventSink>,
}

impl Session {
    /// Locks the state of `stack` in `backend`, loads it, and (when `options.settle`) settles
    /// the creates an interrupted run left unrecorded, reporting each adoption as an event.
    pub async fn open(
        stack: Stack,
        backend: Arc<dyn Backend>,
        cloud: Arc<dyn Cloud>,
        options: &OpenOptions,
        events: Arc<dyn EventSink>,
    ) -> Result<Session, EngineError> {
        let lock = backend.lock(&options.operation, options.lock_timeout)?;
        if let Some(old) = lock.taken_over() {
            events.event(Event::LockTakenOver {
                who: old.who.clone(),
                pid: old.pid,
                operation: old.operation.clone(),
                since: old.created_at.clone(),
            });
        }
        let loaded = backend.load()?;
        let existed = loaded.exists;
        let pending = loaded.pending_intents.clone();
        let mut recorder = backend.recorder(&lock, loaded)?;
        let unsettled = if options.settle { 0 } else { pending.len() };
        if options.settle && !pending.is_empty() {
            let shared = Mutex::new(recorder);
            let adopted =
                crate::executor::adopt_pending(pending, &stack.name, cloud.registry(), &shared)
                    .await
                    .map_err(EngineError::Adopt)?;
            for address in adopted {
                events.event(Event::Adopted { address });
            }
            recorder = shared
                .into_inner()
                .map_err(|_| EngineError::Internal("state recorder poisoned".into()))?;
        }
        Ok(Session {
            stack,
            backend,
            lock,
            recorder,
            existed,
            unsettled,
            cloud,
            events,
        })
    }

    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    /// The state as recorded so far in this session.
    pub fn state(&self) -> &State {
        self.recorder.state()
    }

    /// Every resource type's schema.
    pub fn catalog(&self) -> Catalog {
        self.cloud.registry().catalog()
    }

    /// Refreshes (unless asked not to) and plans. Never changes anything in AWS.
    pub async fn plan(&self, request: &PlanRequest) -> Result<Plan, EngineError> {
        let state = self.recorder.state();
        let refreshed = if request.refresh && !state.resources.is_empty() {
            self.events.event(Event::Refresh {
                resources: state.resources.len(),
            });
            Some(
                crate::refresh::refresh(state, self.cloud.registry())
                    .await
                    .map_err(EngineError::Refresh)?,
            )
        } else {
            None
        };
        let builtins = if request.destroy {
            BTreeMap::new()
        } else {
            builtins(&self.stack, &*self.cloud).await?
        };
        let catalog = self.catalog();
        let mut plan = planner::make_plan(PlanInput {
            stack: &self.stack,
            state,
            refreshed: refreshed.as_ref(),
            catalog: &catalog,
            builtins,
            destroy: request.destroy,
            targets: request.targets.clone(),
        })?;
        plan.consumers = self.consumers_of_changes(&plan)?;
        Ok(plan)
    }

    /// The outputs `plan` changes or removes that other stacks recorded reading (their
    /// `stack_refs`), with those stacks: what the plan warns about (SPEC §11).
    fn consumers_of_changes(
        &self,
        plan: &Plan,
    ) -> Result<BTreeMap<String, Vec<String>>, EngineError> {
        let consumers = self.backend.consumers()?;
        let recorded = &self.recorder.state().outputs;
        Ok(consumers
            .into_iter()
            .filter(|(output, _)| {
                let now = recorded.get(output);
                let planned = plan.outputs.get(output).map(|o| &o.planned);
                match (now, planned) {
                    (_, None) => now.is_some() || plan.destroy,
                    (Some(now), Some(planned)) => now != planned,
                    (None, Some(_)) => false,
                }
            })
            .collect())
    }

    /// The plan saved at `path`, checked against this session's stack and state (refused when
    /// anything it was made from changed) and with its secrets restored.
    /// Makes no cloud call: open the session without settling (`OpenOptions::settle` false),
    /// so that a stale plan is refused before anything is done; creates an interrupted run left
    /// unrecorded since make the plan stale too (settling them is a change the plan never saw).
    pub fn saved_plan(&self, path: &Path) -> Result<Plan, EngineError> {
        let plan =
            crate::planfile::load(path, &self.stack, self.recorder.state(), &self.catalog())?;
        if self.unsettled > 0 {
            return Err(EngineError::refused(
                format!(
                    "the saved plan {} is stale: an interrupted run left {} create(s) \
                     unrecorded since it was made",
                    path.display(),
                    self.unsettled
                ),
                format!(
                    "run `strata plan --out {}` again (it settles them), review it, then \
                     `strata apply {}`",
                    path.display(),
                    path.display()
                ),
            ));
        }
        Ok(plan)
    }

    /// Ends a session that only planned: writes what settling recorded, saves `plan` to `out`
    /// when asked (after the write, so the file names the state as left), releases the lock.
    pub fn finish_plan(self, plan: &Plan, out: Option<&Path>) -> Result<(), EngineError> {
        // Only a saved plan needs it: a fingerprint encodes the whole state once more.
        let planned_state = out.map(|_| crate::planfile::fingerprint(self.recorder.state()));
        let Session {
            stack,
            lock,
            recorder,
            ..
        } = self;
        let recorded = recorder.finish()?;
        if let (Some(out), Some(planned_state)) = (out, planned_state) {
            crate::planfile::save(out, plan, &stack, &recorded, planned_state)?;
        }
        drop(lock);
        Ok(())
    }

    /// Ends a session without applying anything (a cancelled apply, a read).
    pub fn close(self) -> Result<State, EngineError> {
        let state = self.recorder.finish()?;
        drop(self.lock);
        Ok(state)
    }

    /// Walks `plan`, records every step and the outputs, writes the state and releases the
    /// lock; reports each step and the summary as events. `cancel` stops new steps when it
    /// turns true; `None` listens for Ctrl-C itself. An interrupted or failed apply keeps
    /// every finished step recorded: running the same command again continues.
    pub async fn apply(
        self,
        plan: Plan,
        options: &ApplyOptions,
        cancel: Option<watch::Receiver<bool>>,
    ) -> Result<Applied, EngineError> {
        let operation = if plan.destroy { "destroy" } else { "apply" };
        let Session {
            recorder,
            lock,
            cloud,
            events,
            ..
        } = self;
        if !plan.has_changes() {
            let mut recorder = recorder;
            let outputs = if plan.destroy {
                BTreeMap::new()
            } else {
                planned_outputs(&plan)
            };
            if !plan.destroy && recorder.state().outputs != outputs {
                recorder.set_outputs(outputs.clone())?;
            }
            recorder.finish()?;
            drop(lock);
            let summary = Summary {
                operation,
                status: Status::Complete,
                added: 0,
                changed: 0,
                destroyed: 0,
                outputs,
                errors: Vec::new(),
                nothing_to_do: true,
            };
            return Ok(finish(events.as_ref(), ApplyOutcome::default(), summary));
        }

        let (cancel, _listener) = match cancel {
            Some(rx) => (rx, None),
            None => {
                let (rx, listener) = ctrl_c();
                (rx, Some(listener))
            }
        };
        let recorder = Arc::new(Mutex::new(recorder));
        let outcome = crate::executor::apply(
            &plan,
            cloud.registry(),
            recorder.clone(),
            options,
            events.clone(),
            cancel,
        )
        .await;
        let mut recorder = Arc::try_unwrap(recorder)
            .map_err(|_| EngineError::Internal("the state recorder is still shared".into()))?
            .into_inner()
            .map_err(|_| EngineError::Internal("state recorder poisoned".into()))?;
        if outcome.succeeded() {
            recorder.set_outputs(if plan.destroy {
                BTreeMap::new()
            } else {
                outcome.outputs.clone()
            })?;
        }
        recorder.finish()?;
        drop(lock);
        let status = if outcome.interrupted {
            Status::Interrupted
        } else if outcome.errors.is_empty() {
            Status::Complete
        } else {
            Status::Failed
        };
        let summary = Summary {
            operation,
            status,
            added: outcome.created,
            changed: outcome.updated,
            destroyed: outcome.deleted,
            outputs: if plan.destroy || !outcome.succeeded() {
                BTreeMap::new()
            } else {
                outcome.outputs.clone()
            },
            errors: outcome.errors.iter().map(|e| e.message.clone()).collect(),
            nothing_to_do: false,
        };
        Ok(finish(events.as_ref(), outcome, summary))
    }

    /// Reads the existing resource `id` into the state at `address` (declared in the stack,
    /// which gives its type): its properties as read (those its schema knows), its attributes
    /// and the dependencies the stack declares. Nothing in AWS changes. Returns the id read.
    pub async fn import(self, address: &str, id: &str) -> Result<String, EngineError> {
        let Some(decl) = self.stack.resources.get(address) else {
            let help = match stacks::did_you_mean(address, self.stack.resources.keys()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!(
                    "declare it under `resources:` in {} first, with its type and properties",
                    self.stack.path.display()
                ),
            };
            return Err(EngineError::refused(
                format!(
                    "`{address}` is not declared in {}",
                    self.stack.path.display()
                ),
                help,
            ));
        };
        let state = self.recorder.state();
        if let Some(existing) = state.resources.get(address) {
            return Err(EngineError::refused(
                format!(
                    "`{address}` is already in the state ({} {})",
                    existing.type_name, existing.id
                ),
                format!(
                    "to manage another resource as `{address}`, forget this one first with \
                     `strata state rm {address}`"
                ),
            ));
        }
        // Ids are unique per type only: a queue policy's id is its queue's URL.
        if let Some((other, _)) = state
            .resources
            .iter()
            .find(|(_, r)| r.id == id && r.type_name == decl.type_name)
        {
            return Err(EngineError::refused(
                format!("{id} is already in the state as `{other}`"),
                format!(
                    "to manage it as `{address}` instead, run `strata state mv {other} {address}`"
                ),
            ));
        }
        let provider = self.cloud.registry().get(&decl.type_name).ok_or_else(|| {
            EngineError::Internal(format!("no provider for type `{}`", decl.type_name))
        })?;
        // What the stack declares that is known before anything is applied (literals,
        // params, built-ins; not references to other resources) guides the read as recorded
        // properties do: which local package a Lambda's code came from, how a principal was
        // written. A provider compares it with what exists, so a difference still shows.
        let declared: Map = planner::diff::evaluate(
            &decl.properties,
            &planner::Known::new(builtins(&self.stack, &*self.cloud).await?),
        )
        .into_iter()
        .filter(|(_, v)| !v.has_unknown())
        .map(|(k, v)| (k, v.unmarked()))
        .collect();
        let found = provider
            .read(ReadRequest {
                address: address.to_string(),
                id: id.to_string(),
                prior_properties: declared,
                prior_attributes: Map::new(),
            })
            .await
            .map_err(|e| {
                EngineError::refused(
                    format!(
                        "reading {} `{id}` to import it as `{address}`: {e}",
                        decl.type_name
                    ),
                    "check the id, the region and your credentials",
                )
            })?;
        let Some(found) = found else {
            return Err(EngineError::refused(
                format!(
                    "there is no {} with id `{id}` (in {})",
                    decl.type_name,
                    self.cloud.region()
                ),
                "check the id, and the region (--region, AWS_REGION, the stack's `region:`)",
            ));
        };
        let schema = provider.schema();
        let resource = ResourceState {
            type_name: decl.type_name.clone(),
            id: found.id.clone(),
            // A property other resources may own, which the stack leaves out, is not the
            // stack's: recording it would make the next plan clear what they made.
            properties: found
                .properties
                .into_iter()
                .filter(|(k, _)| {
                    schema.prop(k).is_some_and(|p| {
                        !p.shared_when_unset || decl.properties.contains_key(k.as_str())
                    })
                })
                .collect(),
            attributes: found.attributes,
            dependencies: decl.dependencies().into_iter().collect(),
            create_before_destroy: decl.lifecycle.create_before_destroy,
            tainted: false,
            sensitive: Vec::new(),
        };
        let Session {
            mut recorder, lock, ..
        } = self;
        recorder.put(address, resource, None)?;
        recorder.finish()?;
        drop(lock);
        Ok(found.id)
    }

    /// Replaces the state with what `edit` makes of it (`state rm`, `state mv`, `state push`;
    /// `edit` is told whether a state existed before): the previous state kept as backup, the
    /// serial bumped, the lock released. Returns the serial written.
    pub fn edit_state<E: From<EngineError>>(
        self,
        edit: impl FnOnce(&State, bool) -> Result<State, E>,
    ) -> Result<u64, E> {
        let current = self.recorder.state();
        let next = edit(current, self.existed)?;
        let serial = next.serial.max(current.serial) + 1;
        let Session {
            backend,
            lock,
            recorder,
            ..
        } = self;
        // Nothing was recorded in this session; the write folds in any leftover journal.
        drop(recorder);
        backend.write(&lock, &next).map_err(EngineError::from)?;
        drop(lock);
        Ok(serial)
    }
}

/// Emits the summary and (after a complete apply) the outputs, and pairs them with `outcome`.
fn finish(events: &dyn EventSink, outcome: ApplyOutcome, summary: Summary) -> Applied {
    events.event(Event::Summary(summary.clone()));
    if summary.status == Status::Complete && summary.operation == "apply" {
        events.event(Event::Outputs {
            outputs: summary.outputs.clone(),
        });
    }
    Applied { outcome, summary }
}

/// Outputs when nothing changed: the plan's known values, sensitive ones marked.
fn planned_outputs(plan: &Plan) -> BTreeMap<String, Value> {
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

/// The AWS partition a region belongs to, as ARNs spell it.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

/// Built-in values: the region and its partition always; the account id (one STS call) only when referenced.
async fn builtins(stack: &Stack, cloud: &dyn Cloud) -> Result<Map, EngineError> {
    let mut out = BTreeMap::new();
    out.insert("aws.region".to_string(), Value::str(cloud.region()));
    out.insert(
        "aws.partition".to_string(),
        Value::str(partition(&cloud.region())),
    );
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
        let id = cloud.account_id().await.map_err(EngineError::Account)?;
        out.insert("aws.account_id".to_string(), Value::str(id));
    }
    Ok(out)
}

/// Stops listening for Ctrl-C when dropped.
struct Listener(tokio::task::JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A receiver that turns true on the first Ctrl-C, and the listener behind it.
fn ctrl_c() -> (watch::Receiver<bool>, Listener) {
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(true);
        }
    });
    (rx, Listener(task))
}
