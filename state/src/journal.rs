//! The journal: an append-only JSON Lines file beside the state file, one [`Record`] a line.
//!
//! Each resource operation appends one line and syncs it before the operation counts as done,
//! so recording costs the size of that record, not the size of the stack. At the end of a run
//! the journal is compacted into the state file. After a crash the next run replays it on top
//! of the state file.
//!
//! Format promises:
//! - the first line is [`Record::Begin`], naming the stack, lineage and serial of the state file
//!   the journal continues; a journal from another history is refused;
//! - each later line is applied in order; a put of a created resource carries the id of its
//!   intent (`intent_id`), so recording the result and resolving the intent is one line that is
//!   either wholly there or not at all;
//! - a last line without its newline was torn by a crash mid-write: it never counted as done and
//!   is ignored (and cut off before the next append). A damaged line before it is an error.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use files::durable::{self, private_file};
use serde::{Deserialize, Serialize};
use stacks::Value;

use crate::error::StateError;
use crate::model::{Intent, ResourceState, State};

/// One journal line. Serialised as a JSON object whose `op` field names the variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Record {
    /// The first line: which state file (stack, lineage, serial) the journal continues.
    Begin {
        stack: String,
        lineage: String,
        serial: u64,
    },
    /// A create is about to be attempted.
    Intent(Intent),
    /// A resource now exists as described. `intent_id`, when present, resolves that intent in
    /// the same line.
    Put {
        address: String,
        resource: ResourceState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        intent_id: Option<String>,
    },
    /// A resource is gone.
    Remove { address: String },
    /// An intent found nothing to adopt (or failed for certain): forget it.
    Resolve { intent_id: String },
    /// The stack outputs, replacing the previous ones.
    Outputs { outputs: BTreeMap<String, Value> },
}

impl Record {
    /// Applies this record to a state and its pending intents. Replay and live recording both go
    /// through here, so the state a crashed run leaves is exactly the one it had in memory.
    /// Returns whether the state (not just the intents) changed.
    pub(crate) fn apply(self, state: &mut State, pending: &mut Vec<Intent>) -> bool {
        match self {
            Record::Begin { .. } => false,
            Record::Intent(intent) => {
                pending.push(intent);
                false
            }
            Record::Put {
                address,
                resource,
                intent_id,
            } => {
                if let Some(id) = intent_id {
                    forget(pending, &id);
                }
                state.resources.insert(address, resource);
                true
            }
            Record::Remove { address } => state.resources.remove(&address).is_some(),
            Record::Resolve { intent_id } => {
                forget(pending, &intent_id);
                false
            }
            Record::Outputs { outputs } => {
                state.outputs = outputs;
                true
            }
        }
    }
}

/// Removes an intent by id; intents are few at any time, so a scan is fine.
fn forget(pending: &mut Vec<Intent>, id: &str) {
    pending.retain(|intent| intent.id != id);
}

/// The header of a journal: which state it continues.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Header {
    pub stack: String,
    pub lineage: String,
    pub serial: u64,
}

impl Header {
    /// The header of a journal that continues `state`.
    pub(crate) fn of(state: &State) -> Header {
        Header {
            stack: state.stack.clone(),
            lineage: state.lineage.clone(),
            serial: state.serial,
        }
    }

    fn record(&self) -> Record {
        Record::Begin {
            stack: self.stack.clone(),
            lineage: self.lineage.clone(),
            serial: self.serial,
        }
    }
}

/// A journal as read from disk.
pub(crate) struct Contents {
    /// `None` when not even the header line was completely written.
    pub header: Option<Header>,
    /// The records after the header, in order.
    pub records: Vec<Record>,
    /// Length of the complete lines; anything after it is a torn tail.
    pub valid_len: u64,
    /// Length of the file as found.
    pub file_len: u64,
}

/// Reads the journal at `path`, or `None` when there is none.
pub(crate) fn read(path: &Path) -> Result<Option<Contents>, StateError> {
    let Some(bytes) = durable::read_optional(path)? else {
        return Ok(None);
    };
    let valid_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut header = None;
    let mut records = Vec::new();
    for (index, line) in bytes[..valid_len].split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record: Record = serde_json::from_slice(line).map_err(|e| {
            StateError::corrupt(
                path,
                format!("journal line {} cannot be read: {e}", index + 1),
            )
        })?;
        match (record, &header) {
            (
                Record::Begin {
                    stack,
                    lineage,
                    serial,
                },
                None,
            ) if records.is_empty() => {
                header = Some(Header {
                    stack,
                    lineage,
                    serial,
                })
            }
            (Record::Begin { .. }, _) | (_, None) => {
                return Err(StateError::corrupt(
                    path,
                    format!(
                        "journal line {} is out of place: only the first line begins a journal",
                        index + 1
                    ),
                ))
            }
            (record, Some(_)) => records.push(record),
        }
    }
    Ok(Some(Contents {
        header,
        records,
        valid_len: valid_len as u64,
        file_len: bytes.len() as u64,
    }))
}

/// The open journal of a run: appends one record a line, each synced before it returns.
pub(crate) struct Writer {
    file: File,
    path: PathBuf,
    line: Vec<u8>,
}

impl Writer {
    /// Starts a new journal at `path` (replacing any) with its header line.
    pub(crate) fn create(path: &Path, header: &Header) -> Result<Writer, StateError> {
        durable::remove_if_present(path)?;
        let file = private_file()
            .append(true)
            .create_new(true)
            .open(path)
            .map_err(|e| StateError::io("creating", path, e))?;
        durable::sync_parent(path)?;
        let mut writer = Writer {
            file,
            path: path.to_path_buf(),
            line: Vec::new(),
        };
        writer.append(&header.record())?;
        Ok(writer)
    }

    /// Continues a journal left by a crashed run, first cutting off a torn last line so the
    /// next record starts on a line of its own.
    pub(crate) fn reopen(path: &Path, contents: &Contents) -> Result<Writer, StateError> {
        let file = private_file()
            .append(true)
            .open(path)
            .map_err(|e| StateError::io("opening", path, e))?;
        if contents.file_len != contents.valid_len {
            file.set_len(contents.valid_len)
                .and_then(|()| file.sync_data())
                .map_err(|e| StateError::io("cutting the torn last line of", path, e))?;
        }
        Ok(Writer {
            file,
            path: path.to_path_buf(),
            line: Vec::new(),
        })
    }

    /// Appends one record as one `write_all` of a whole line, then `sync_data`: when this
    /// returns, the record survives a crash; if the process dies during it, at most a torn
    /// last line is left, which replay ignores.
    pub(crate) fn append(&mut self, record: &Record) -> Result<(), StateError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)
            .map_err(|e| StateError::corrupt(&self.path, format!("cannot encode record: {e}")))?;
        self.line.push(b'\n');
        self.file
            .write_all(&self.line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| StateError::io("appending to", &self.path, e))
    }
}

/// Replaces the journal at `path` with only a header and the still-pending intents, atomically.
/// Used after compaction: resolved history is in the state file, but an intent that may have
/// created something must survive until a later run finds it.
pub(crate) fn rewrite(path: &Path, header: &Header, pending: &[Intent]) -> Result<(), StateError> {
    let mut bytes = Vec::new();
    let encode = |bytes: &mut Vec<u8>, record: &Record| {
        serde_json::to_writer(&mut *bytes, record)
            .map_err(|e| StateError::corrupt(path, format!("cannot encode record: {e}")))?;
        bytes.push(b'\n');
        Ok::<(), StateError>(())
    };
    encode(&mut bytes, &header.record())?;
    for intent in pending {
        encode(&mut bytes, &Record::Intent(intent.clone()))?;
    }
    Ok(durable::write_private(path, &bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stacks::Map;

    fn resource() -> ResourceState {
        ResourceState {
            type_name: "aws.sqs.queue".into(),
            id: "https://sqs/q".into(),
            properties: Map::new(),
            attributes: Map::new(),
            dependencies: vec![],
            create_before_destroy: false,
            tainted: false,
            sensitive: Vec::new(),
        }
    }

    #[test]
    fn records_are_one_json_object_tagged_by_op() {
        let put = Record::Put {
            address: "queue.orders".into(),
            resource: resource(),
            intent_id: None,
        };
        let json = serde_json::to_value(&put).unwrap();
        assert_eq!(json["op"], "put");
        assert!(json.get("intent_id").is_none(), "{json}");
        let intent = Record::Intent(Intent::new("queue.orders", "aws.sqs.queue", Map::new()));
        let json = serde_json::to_value(&intent).unwrap();
        assert_eq!(json["op"], "intent");
        assert_eq!(json["type"], "aws.sqs.queue");
        let back: Record = serde_json::from_value(json).unwrap();
        assert_eq!(back, intent);
    }

    #[test]
    fn a_put_with_an_intent_id_resolves_that_intent() {
        let mut state = State::new("s");
        let intent = Intent::new("queue.orders", "aws.sqs.queue", Map::new());
        let mut pending = vec![];
        Record::Intent(intent.clone()).apply(&mut state, &mut pending);
        assert_eq!(pending.len(), 1);
        let changed = Record::Put {
            address: "queue.orders".into(),
            resource: resource(),
            intent_id: Some(intent.id),
        }
        .apply(&mut state, &mut pending);
        assert!(changed);
        assert!(pending.is_empty());
        assert!(state.resources.contains_key("queue.orders"));
    }

    #[test]
    fn a_record_before_the_header_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.journal");
        std::fs::write(&path, "{\"op\":\"remove\",\"address\":\"a\"}\n").unwrap();
        let err = read(&path).err().expect("out of place record");
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
