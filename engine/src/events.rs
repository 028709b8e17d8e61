//! The one event stream of a run: the session and the executor report through it, and the
//! terminal's live view, the plain-line view and `--json` all consume it.
//!
//! Events serialize to the NDJSON objects `--json` prints (`{"type": "started", ...}`); the
//! JSON view adds the time. Which events a view shows is the view's choice: `--json` leaves out
//! `refresh` (progress for people) and `outputs` (its `summary` holds them), so its stream is
//! `plan`, `adopted`, `started`, `finished`/`failed`, `summary`.

use std::collections::BTreeMap;
use std::time::Duration;

use planner::{Plan, StepKind};
use serde::{Serialize, Serializer};
use stacks::Value;

/// Something that happened during a session.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The lock of a strata that is no longer running on this host was taken over.
    LockTakenOver {
        /// `user@host` of the process that held it.
        who: String,
        pid: u32,
        /// The command it was running (`apply`).
        operation: String,
        /// When it took the lock, RFC 3339.
        since: String,
    },
    /// A create an interrupted run left unrecorded was found in AWS and adopted.
    Adopted { address: String },
    /// Reading every recorded resource from AWS starts.
    Refresh { resources: usize },
    /// The plan about to be applied (as the JSON plan format).
    Plan {
        #[serde(serialize_with = "plan_as_json")]
        plan: Box<Plan>,
    },
    /// A step started.
    Started {
        address: String,
        #[serde(serialize_with = "operation_name")]
        operation: StepKind,
    },
    /// A step finished and was recorded.
    Finished {
        address: String,
        #[serde(serialize_with = "operation_name")]
        operation: StepKind,
        #[serde(rename = "elapsed_seconds", serialize_with = "seconds")]
        elapsed: Duration,
        id: Option<String>,
    },
    /// A step failed; `code` is AWS's error code when AWS answered.
    Failed {
        address: String,
        #[serde(serialize_with = "operation_name")]
        operation: StepKind,
        #[serde(rename = "elapsed_seconds", serialize_with = "seconds")]
        elapsed: Duration,
        code: Option<String>,
        message: String,
    },
    /// An interrupt (Ctrl-C) was received: nothing new starts.
    Interrupted,
    /// How the apply or destroy ended.
    Summary(Summary),
    /// The stack's outputs after a successful apply.
    Outputs {
        #[serde(serialize_with = "marked_values")]
        outputs: BTreeMap<String, Value>,
    },
}

/// The last event of an apply or destroy.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// `apply` or `destroy`.
    pub operation: &'static str,
    pub status: Status,
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    /// Empty unless the run completed (and always for destroy); sensitive ones as
    /// `{"$sensitive": true}`.
    #[serde(serialize_with = "marked_values")]
    pub outputs: BTreeMap<String, Value>,
    /// Every error, as `creating aws.sqs.queue `q` (orders-q): Code: message`.
    pub errors: Vec<String>,
    /// The plan had no changes: nothing ran.
    #[serde(skip)]
    pub nothing_to_do: bool,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Complete,
    Failed,
    Interrupted,
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

fn plan_as_json<S: Serializer>(plan: &Plan, s: S) -> Result<S::Ok, S::Error> {
    planner::json::plan_json(plan).serialize(s)
}

fn operation_name<S: Serializer>(kind: &StepKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.operation())
}

/// Seconds, to the millisecond.
fn seconds<S: Serializer>(elapsed: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((elapsed.as_secs_f64() * 1000.0).round() / 1000.0)
}

fn marked_values<S: Serializer>(values: &BTreeMap<String, Value>, s: S) -> Result<S::Ok, S::Error> {
    let map: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| (k.clone(), v.to_marked_json(true)))
        .collect();
    map.serialize(s)
}
