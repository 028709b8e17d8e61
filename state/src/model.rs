//! What the state records: resources as applied, outputs, and intents to create; what a load
//! finds; who holds the lock.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use stacks::{Map, Value};

/// The newest state file format this strata reads and the one it writes. A file with a higher
/// version is refused rather than half-understood.
pub const STATE_VERSION: u32 = 1;

/// One resource as strata last applied it. The planner diffs the stack against `properties`,
/// and references to it resolve from `attributes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// The resource type, such as `aws.sqs.queue`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The physical id AWS knows it by (queue URL, subnet id, ...).
    pub id: String,
    /// The properties as applied, sensitive values kept (the file is 0600).
    pub properties: Map,
    /// What AWS returned (ARNs, generated ids), for references from other resources.
    pub attributes: Map,
    /// Addresses this resource depended on when applied, so deletes can go in reverse order
    /// even after the stack file no longer mentions it.
    pub dependencies: Vec<String>,
    /// Whether a replacement creates the new one before destroying the old; kept so the order
    /// holds for resources removed from the stack file.
    #[serde(default)]
    pub create_before_destroy: bool,
    /// A create that failed after the object was made (a follow-up call refused): the object
    /// exists and is recorded so it is not orphaned, and the next plan replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tainted: bool,
    /// Where `properties` held sensitive values when recorded (JSON pointers, as
    /// `stacks::sensitive_paths` writes them): they stay hidden in plans and `state show` even
    /// once the stack no longer marks them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
}

/// The whole recorded state of one stack, as written to `<stack>.state.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The file format version, [`STATE_VERSION`] when written by this strata.
    pub version: u32,
    /// A uuid fixed when the state is first created and never changed: two files with different
    /// lineages describe different histories and are never mixed.
    pub lineage: String,
    /// Strictly increases on every write of the state file, so a stale copy is recognisable.
    pub serial: u64,
    /// The stack this state belongs to.
    pub stack: String,
    /// Resources by address.
    pub resources: BTreeMap<String, ResourceState>,
    /// The stack outputs as of the last apply.
    #[serde(default)]
    pub outputs: BTreeMap<String, Value>,
}

impl State {
    /// An empty state for a stack that has never been applied: a fresh lineage, serial 0.
    pub fn new(stack: &str) -> State {
        State {
            version: STATE_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            stack: stack.to_string(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }
}

/// A create that is about to be attempted, recorded before the cloud call. If strata dies
/// before the result is recorded, the next run finds the intent still pending and asks the
/// provider to look for the resource by `properties` (its deterministic name or `strata:` tags)
/// and adopt it, so a crash never leaves an orphan and never causes a duplicate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// A uuid naming this intent; the matching put or resolve refers to it.
    pub id: String,
    /// The address being created.
    pub address: String,
    /// The resource type being created.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The desired properties: the identity (name, tags, idempotency token) that finds it again.
    pub properties: Map,
    /// When the create was started, RFC 3339.
    pub started_at: String,
}

impl Intent {
    /// An intent with a fresh id, started now.
    pub fn new(address: &str, type_name: &str, properties: Map) -> Intent {
        Intent {
            id: uuid::Uuid::new_v4().to_string(),
            address: address.to_string(),
            type_name: type_name.to_string(),
            properties,
            started_at: now_rfc3339(),
        }
    }
}

/// What [`crate::Backend::load`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The state file with any leftover journal replayed on top; a fresh [`State::new`] when
    /// nothing has been recorded yet.
    pub state: State,
    /// Whether anything was recorded before: a state file, or the journal of a run that crashed
    /// before it first wrote one.
    pub exists: bool,
    /// Creates that were started but whose result was never recorded, oldest first. Each may or
    /// may not exist in AWS: find and adopt it, or resolve the intent.
    pub pending_intents: Vec<Intent>,
    /// For a remote state: the ETag of the object as read (`None`: there was none), so the write
    /// at the end of the run happens only if nobody wrote in between.
    pub(crate) remote_tag: Option<String>,
}

/// Who holds the lock, as written into the lock file (or object), so a second strata can say
/// who to ask.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A uuid; `force-unlock` must be given it, so an old error message cannot remove a newer lock.
    pub id: String,
    /// The command holding the lock, such as `apply`.
    pub operation: String,
    /// `user@host` of the holder.
    pub who: String,
    /// The holder's process id on that host.
    pub pid: u32,
    /// The state file the lock guards.
    pub path: String,
    /// When the lock was taken, RFC 3339.
    pub created_at: String,
}

/// The current time as RFC 3339 in UTC, to the second.
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_state_starts_at_serial_zero_with_a_fresh_lineage() {
        let a = State::new("web");
        let b = State::new("web");
        assert_eq!(a.serial, 0);
        assert_eq!(a.version, STATE_VERSION);
        assert_ne!(a.lineage, b.lineage);
        assert!(uuid::Uuid::parse_str(&a.lineage).is_ok());
    }

    #[test]
    fn resource_type_is_written_as_type_and_create_before_destroy_defaults_to_false() {
        let json = r#"{"type":"aws.sqs.queue","id":"q","properties":{},"attributes":{},
                       "dependencies":[]}"#;
        let resource: ResourceState = serde_json::from_str(json).unwrap();
        assert_eq!(resource.type_name, "aws.sqs.queue");
        assert!(!resource.create_before_destroy);
        let back = serde_json::to_value(&resource).unwrap();
        assert_eq!(back["type"], "aws.sqs.queue");
    }
}
