//! Saved plans: the file `plan --out` writes and `apply FILE` reads.
//!
//! A plan file is JSON: a small envelope (what it is, which strata wrote it, fingerprints of
//! the stack file, the params and the state it was made from) around the [`Plan`] with every
//! sensitive value replaced by `{"$sensitive": true}` ([`planner::saved::redact`]). It is
//! written with mode 0600, durably.
//!
//! Applying one refuses it, saying what changed, unless the stack file, the params and the
//! state are exactly those it was made from. The secrets are then taken back from the stack
//! and the state ([`planner::saved::restore`]): the file alone is not enough to apply, and never
//! reveals a secret. Nor is an edited file: before anything is contacted, the plan is made
//! again from the same stack, params and state (and the values refresh had read, which the
//! file holds), and a file whose actions, ids, values or steps differ from that is refused.

use std::collections::BTreeMap;
use std::path::Path;

use files::digest::sha256_hex;
use planner::{Action, Live, Plan, PlanInput};
use serde::{Deserialize, Serialize};
use stacks::{Catalog, Map, Stack};
use state::State;

use crate::error::EngineError;

/// What the `kind` field of a plan file says.
const PLAN_FILE_KIND: &str = "strata-plan";
/// The envelope's version; bumped when it changes incompatibly.
const PLAN_FILE_VERSION: u32 = 1;
/// Why a saved plan is stale when neither the stack file nor the params changed.
const MODULE_OR_CODE_CHANGED: &str =
    "a module it uses, or local code it packages (a Lambda `code.path`), changed since the plan was made";

/// The file `plan --out` writes.
#[derive(Serialize, Deserialize)]
struct PlanFile {
    kind: String,
    version: u32,
    strata_version: String,
    /// SHA-256 of the stack file's bytes when the plan was made.
    stack_file_sha256: String,
    /// SHA-256 of the params' final values when the plan was made.
    params_sha256: String,
    /// SHA-256 of the state the plan was made against (resources and outputs).
    state_sha256: String,
    /// SHA-256 of the local files the stack's properties name (Lambda code) when the plan was
    /// made: the code apply would upload must be the code reviewed.
    #[serde(default)]
    local_files_sha256: String,
    /// The plan, sensitive values redacted.
    plan: Plan,
}

/// Just enough of a file to tell a plan file (and its version) from anything else.
#[derive(Deserialize)]
struct Envelope {
    kind: Option<String>,
    version: Option<u32>,
}

/// A fingerprint of what a state records (its resources and outputs, not its serial): two
/// states with the same fingerprint plan the same.
pub fn fingerprint(state: &State) -> String {
    let json = serde_json::json!({
        "resources": state.resources,
        "outputs": state.outputs,
    });
    sha256_hex(json.to_string().as_bytes())
}

fn stack_file_hash(stack: &Stack) -> Result<String, EngineError> {
    let bytes = std::fs::read(&stack.path).map_err(|e| {
        EngineError::refused(
            format!("cannot read the stack file {}: {e}", stack.path.display()),
            "check the path given with -f",
        )
    })?;
    Ok(sha256_hex(&bytes))
}

fn local_files_hash(stack: &Stack) -> Result<String, EngineError> {
    stacks::archive::fingerprint_files(&stack.local_paths).map_err(|e| {
        EngineError::refused(
            e,
            "check the local paths the stack names (a Lambda `code.path`)",
        )
    })
}

fn params_hash(stack: &Stack) -> String {
    sha256_hex(
        serde_json::to_string(&stack.params)
            .unwrap_or_default()
            .as_bytes(),
    )
}

/// Writes `plan` to `path` (0600, durably), redacted. `recorded` is the state as the plan
/// command left it (its serial may have moved past the plan's if settling a crashed run wrote
/// it); `planned_state` the [`fingerprint`] of the state the plan was made against.
pub fn save(
    path: &Path,
    plan: &Plan,
    stack: &Stack,
    recorded: &State,
    planned_state: String,
) -> Result<(), EngineError> {
    let mut plan = planner::saved::redact(plan);
    plan.lineage = recorded.lineage.clone();
    plan.serial = recorded.serial;
    let file = PlanFile {
        kind: PLAN_FILE_KIND.to_string(),
        version: PLAN_FILE_VERSION,
        strata_version: env!("CARGO_PKG_VERSION").to_string(),
        stack_file_sha256: stack_file_hash(stack)?,
        params_sha256: params_hash(stack),
        state_sha256: planned_state,
        local_files_sha256: local_files_hash(stack)?,
        plan,
    };
    let mut bytes = serde_json::to_vec_pretty(&file)
        .map_err(|e| EngineError::Internal(format!("cannot encode the plan: {e}")))?;
    bytes.push(b'\n');
    files::durable::write_private(path, &bytes).map_err(|e| {
        EngineError::refused(
            format!("writing the plan to {}: {e}", path.display()),
            "check that the directory exists and is writable",
        )
    })
}

fn read(path: &Path) -> Result<PlanFile, EngineError> {
    let bytes = std::fs::read(path).map_err(|e| {
        EngineError::refused(
            format!("cannot read the plan file {}: {e}", path.display()),
            format!("save one with `strata plan --out {}`", path.display()),
        )
    })?;
    let not_a_plan = || {
        EngineError::refused(
            format!(
                "{} is not a plan saved by `strata plan --out`",
                path.display()
            ),
            format!("save one with `strata plan --out {}`", path.display()),
        )
    };
    let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|_| not_a_plan())?;
    if envelope.kind.as_deref() != Some(PLAN_FILE_KIND) {
        return Err(not_a_plan());
    }
    match envelope.version {
        Some(PLAN_FILE_VERSION) => {}
        Some(v) if v > PLAN_FILE_VERSION => {
            return Err(EngineError::refused(
                format!(
                    "{} was saved by a newer strata (plan file version {v}; this strata reads {PLAN_FILE_VERSION})",
                    path.display()
                ),
                "apply it with the strata that saved it, or make the plan again with this one",
            ))
        }
        _ => return Err(not_a_plan()),
    }
    let file: PlanFile = serde_json::from_slice(&bytes).map_err(|e| {
        EngineError::refused(
            format!("the plan file {} is damaged: {e}", path.display()),
            "make the plan again with `strata plan --out FILE`",
        )
    })?;
    if file.plan.format_version != planner::plan::PLAN_FORMAT_VERSION {
        return Err(EngineError::refused(
            format!(
                "{} holds a plan of format {} (this strata applies format {})",
                path.display(),
                file.plan.format_version,
                planner::plan::PLAN_FORMAT_VERSION
            ),
            "make the plan again with `strata plan --out FILE`",
        ));
    }
    Ok(file)
}

/// Reads the plan saved at `path` and checks that nothing it was made from changed (`stack`
/// loaded again, `current` the state now); returns it with its secrets restored.
pub fn load(
    path: &Path,
    stack: &Stack,
    current: &State,
    catalog: &Catalog,
) -> Result<Plan, EngineError> {
    let file = read(path)?;
    let stale = |what: String| {
        EngineError::refused(
            format!("the saved plan {} is stale: {what}", path.display()),
            format!(
                "run `strata plan --out {}` again, review it, then `strata apply {}`",
                path.display(),
                path.display()
            ),
        )
    };
    if file.plan.stack != stack.name {
        return Err(stale(format!(
            "it was made for stack `{}`, but {} declares stack `{}`",
            file.plan.stack,
            stack.path.display(),
            stack.name
        )));
    }
    if file.plan.source_hash != stack.source_hash {
        let what = if file.stack_file_sha256 != stack_file_hash(stack)? {
            format!(
                "the stack file {} changed since the plan was made",
                stack.path.display()
            )
        } else if file.params_sha256 != params_hash(stack) {
            "the params (--var, --var-file) differ from those the plan was made with".to_string()
        } else {
            MODULE_OR_CODE_CHANGED.to_string()
        };
        return Err(stale(what));
    }
    if file.local_files_sha256 != local_files_hash(stack)? {
        return Err(stale(MODULE_OR_CODE_CHANGED.to_string()));
    }
    // A plan made before anything was recorded has no lineage to compare (a state that does
    // not exist yet gets its lineage when first written); its serial 0 tells it apart.
    if file.plan.serial > 0 && file.plan.lineage != current.lineage {
        return Err(stale(format!(
            "the state was replaced since the plan was made (lineage {}, now {})",
            file.plan.lineage, current.lineage
        )));
    }
    if file.plan.serial != current.serial {
        return Err(stale(format!(
            "the state changed since the plan was made (serial {}, now {}): the plan was \
             applied already, or another apply, import or state command ran",
            file.plan.serial, current.serial
        )));
    }
    if file.state_sha256 != fingerprint(current) {
        return Err(stale(
            "the state changed since the plan was made (an interrupted run's records were \
             recovered)"
                .to_string(),
        ));
    }
    let plan =
        planner::saved::restore(file.plan, stack, current).map_err(|e| stale(e.to_string()))?;
    if let Some(what) = differs_from_fresh(&plan, stack, current, catalog) {
        return Err(EngineError::refused(
            format!(
                "the saved plan {} does not match a plan of the same stack, params and state: \
                 {what}",
                path.display()
            ),
            format!(
                "a plan file is applied as strata wrote it; make it again with `strata plan --out {}`",
                path.display()
            ),
        ));
    }
    Ok(plan)
}

/// What sets `plan` apart from the plan strata makes now from `stack` and `state`, with what
/// refresh read when `plan` was made (its values before) taken as what exists: `None` when
/// nothing does. No cloud call: this is how an edited plan file is caught before it acts.
fn differs_from_fresh(
    plan: &Plan,
    stack: &Stack,
    state: &State,
    catalog: &Catalog,
) -> Option<String> {
    let unmarked = |m: &Map| -> Map { m.iter().map(|(k, v)| (k.clone(), v.unmarked())).collect() };
    let changes: BTreeMap<&str, &planner::ResourceChange> = plan
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c))
        .collect();
    // What existed, as the plan saw it; ids and attributes from the state, not the file.
    let refreshed: BTreeMap<String, Option<Live>> = state
        .resources
        .iter()
        .map(|(address, recorded)| {
            let live = match changes.get(address.as_str()) {
                Some(c) if c.gone => None,
                Some(c) => Some(Live {
                    id: recorded.id.clone(),
                    properties: c
                        .before
                        .as_ref()
                        .map(unmarked)
                        .unwrap_or_else(|| recorded.properties.clone()),
                    attributes: recorded.attributes.clone(),
                }),
                None => Some(Live {
                    id: recorded.id.clone(),
                    properties: recorded.properties.clone(),
                    attributes: recorded.attributes.clone(),
                }),
            };
            (address.clone(), live)
        })
        .collect();
    let fresh = match planner::make_plan(PlanInput {
        stack,
        state,
        refreshed: Some(&refreshed),
        catalog,
        builtins: plan.builtins.clone(),
        destroy: plan.destroy,
        targets: plan.targets.clone(),
    }) {
        Ok(fresh) => fresh,
        Err(e) => return Some(format!("planning again fails ({e})")),
    };
    let action = |c: Option<&planner::ResourceChange>| match c.map(|c| c.action) {
        None => "not in the plan".to_string(),
        Some(Action::NoOp) => "unchanged".to_string(),
        Some(Action::Create) => "to be created".to_string(),
        Some(Action::Update) => "to be updated".to_string(),
        Some(Action::Delete) => "to be destroyed".to_string(),
        Some(_) => "to be replaced".to_string(),
    };
    let fresh_changes: BTreeMap<&str, &planner::ResourceChange> = fresh
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c))
        .collect();
    let addresses: std::collections::BTreeSet<&str> = changes
        .keys()
        .chain(fresh_changes.keys())
        .copied()
        .collect();
    for address in addresses {
        let (saved, now) = (
            changes.get(address).copied(),
            fresh_changes.get(address).copied(),
        );
        let same = match (saved, now) {
            (Some(a), Some(b)) => {
                a.action == b.action
                    && a.id == b.id
                    && a.type_name == b.type_name
                    && a.gone == b.gone
                    && a.tainted == b.tainted
                    && a.create_before_destroy == b.create_before_destroy
                    && a.after.as_ref().map(unmarked) == b.after.as_ref().map(unmarked)
            }
            _ => false,
        };
        if !same {
            return Some(format!(
                "`{address}` is {} in the file, {} now",
                action(saved),
                action(now)
            ));
        }
    }
    (plan.steps != fresh.steps)
        .then(|| "the order of its steps differs from the one the changes give".to_string())
}
