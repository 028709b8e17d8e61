//! What commands that only read do: no lock, nothing written.
//!
//! `drift` reads the state (the state file with any journal of a running or crashed apply
//! replayed on top, as `load` always does), reads every recorded resource from AWS and
//! compares; a concurrent apply can only make its report out of date. `output`, `state list`,
//! `state show` and `state pull` read the state alone.

use std::collections::BTreeMap;

use planner::drift::{detect, DriftReport};
use stacks::{Map, Stack};
use state::{Backend, Loaded};

use crate::cloud::Cloud;
use crate::error::EngineError;

/// The state as recorded, with the creates an interrupted run left unsettled.
pub fn read_state(backend: &dyn Backend) -> Result<Loaded, EngineError> {
    Ok(backend.load()?)
}

/// What drift found.
pub struct Drift {
    /// `None` when the state records no resources: nothing can drift.
    pub report: Option<DriftReport>,
    /// Creates of an interrupted apply not settled yet (`plan` or `apply` settles them).
    pub unsettled: usize,
}

/// Compares what AWS has with what strata recorded. Writes nothing, takes no lock.
pub async fn drift(
    stack: &Stack,
    backend: &dyn Backend,
    cloud: &dyn Cloud,
) -> Result<Drift, EngineError> {
    let loaded = backend.load()?;
    let unsettled = loaded.pending_intents.len();
    let state = loaded.state;
    if state.resources.is_empty() {
        return Ok(Drift {
            report: None,
            unsettled,
        });
    }
    let live = crate::refresh::refresh(&state, cloud.registry())
        .await
        .map_err(EngineError::Refresh)?;
    let report = detect(
        &state,
        &live,
        &cloud.registry().catalog(),
        &sensitive_marks(stack),
    );
    Ok(Drift {
        report: Some(report),
        unsettled,
    })
}

/// Each declared resource's properties evaluated with references unknown: where a sensitive
/// param went, for reports to keep out of what they print.
pub fn sensitive_marks(stack: &Stack) -> BTreeMap<String, Map> {
    stack
        .resources
        .iter()
        .map(|(address, decl)| {
            (
                address.clone(),
                planner::diff::evaluate_declared(&decl.properties),
            )
        })
        .collect()
}
