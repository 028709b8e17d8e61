//! Recording a run: each operation appended to the journal before it counts as done, the
//! state file written once at the end.

use std::collections::BTreeMap;
use std::sync::Arc;

use stacks::Value;

use crate::error::StateError;
use crate::journal::{Record, Writer};
use crate::local_journal::LocalJournal;
use crate::lock::HeldLock;
use crate::model::{Intent, Loaded, ResourceState, State};
use crate::store::Store;

/// The in-memory state of a run plus its open journal.
///
/// Every method that changes something appends one journal line and syncs it before returning,
/// so when it returns `Ok` the change survives a crash; its cost is that one record, whatever
/// the size of the stack. [`Recorder::finish`] compacts the journal into the state file (or,
/// for the S3 backend, writes the state object). The journal is always local, in the state
/// directory beside the stack file, so per-operation recording never waits for the network.
/// Dropping a recorder without finishing leaves the journal as a crash would: the next
/// [`crate::Backend::load`] replays it.
///
/// Made by [`crate::Backend::recorder`]; it writes through the backend that made it, whichever
/// that is.
pub struct Recorder {
    /// Where `finish` writes the state.
    target: Arc<dyn Store>,
    /// Where the journal lives.
    local: LocalJournal,
    /// The lock the run holds, checked before the state is written.
    lock: Arc<dyn HeldLock>,
    lock_id: String,
    /// The ETag of the remote state as loaded, for the conditional write at the end.
    remote_tag: Option<String>,
    state: State,
    pending: Vec<Intent>,
    /// Opened on the first record, so a run that changes nothing writes nothing.
    journal: Option<Writer>,
    /// Whether the state differs from the state file (this run's records or a replayed journal).
    changed: bool,
}

impl Recorder {
    pub(crate) fn new(
        target: Arc<dyn Store>,
        lock: Arc<dyn HeldLock>,
        lock_id: String,
        loaded: Loaded,
        journal: Option<Writer>,
        replayed_changes: bool,
    ) -> Recorder {
        Recorder {
            local: target.journal().clone(),
            target,
            lock,
            lock_id,
            remote_tag: loaded.remote_tag,
            state: loaded.state,
            pending: loaded.pending_intents,
            journal,
            changed: replayed_changes,
        }
    }

    /// The state as recorded so far (its serial is that of the state file until `finish`).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Intents recorded but neither put nor resolved yet, oldest first.
    pub fn pending_intents(&self) -> &[Intent] {
        &self.pending
    }

    /// Records that a create is about to be attempted. Call it, and let it return, before the
    /// create call: a crash after the call is then recovered by finding the resource.
    pub fn intent(&mut self, intent: Intent) -> Result<(), StateError> {
        self.record(Record::Intent(intent))
    }

    /// Records that `address` now exists as `resource`, after a create, update, import or
    /// adoption returned. `intent_id` resolves the intent of that create in the same journal
    /// line, so the result and the resolution are recorded together or not at all.
    /// A put identical to what is recorded writes nothing (beyond resolving the intent).
    pub fn put(
        &mut self,
        address: &str,
        resource: ResourceState,
        intent_id: Option<&str>,
    ) -> Result<(), StateError> {
        if self.state.resources.get(address) == Some(&resource) {
            return match intent_id {
                Some(id) => self.resolve(id),
                None => Ok(()),
            };
        }
        self.record(Record::Put {
            address: address.to_string(),
            resource,
            intent_id: intent_id.map(str::to_string),
        })
    }

    /// Records that `address` is gone (deleted, found missing, or `state rm`). Removing an
    /// address that is not recorded writes nothing.
    pub fn remove(&mut self, address: &str) -> Result<(), StateError> {
        if !self.state.resources.contains_key(address) {
            return Ok(());
        }
        self.record(Record::Remove {
            address: address.to_string(),
        })
    }

    /// Forgets an intent whose create certainly made nothing (the call failed, or `find` found
    /// nothing). An id that is not pending writes nothing.
    pub fn resolve(&mut self, intent_id: &str) -> Result<(), StateError> {
        if !self.pending.iter().any(|intent| intent.id == intent_id) {
            return Ok(());
        }
        self.record(Record::Resolve {
            intent_id: intent_id.to_string(),
        })
    }

    /// Records the stack outputs, replacing the previous ones. Unchanged outputs write nothing.
    pub fn set_outputs(&mut self, outputs: BTreeMap<String, Value>) -> Result<(), StateError> {
        if self.state.outputs == outputs {
            return Ok(());
        }
        self.record(Record::Outputs { outputs })
    }

    /// Ends the run: if anything changed, writes the state file (serial + 1, previous file kept
    /// as backup, atomically); otherwise leaves it untouched. Then removes the journal, or keeps
    /// in it only the intents still pending. Returns the state as now recorded.
    ///
    /// Refuses to write if this run's lock was force-unlocked meanwhile (the journal stays, and
    /// the next run recovers from it). For the S3 backend the state object is written only if
    /// its ETag is still the one loaded ([`StateError::Conflict`] otherwise).
    pub fn finish(mut self) -> Result<State, StateError> {
        self.lock.check_held(&self.lock_id)?;
        // Close the journal before it is removed or replaced.
        self.journal = None;
        if self.changed {
            self.state.serial += 1;
            self.target
                .commit(&self.state, &self.pending, self.remote_tag.as_deref())?;
        } else {
            self.local.settle(&self.state, &self.pending)?;
        }
        Ok(self.state)
    }

    /// Appends `record` (starting the journal if this is the first), then applies it in memory.
    fn record(&mut self, record: Record) -> Result<(), StateError> {
        let journal = match self.journal.take() {
            Some(journal) => journal,
            None => self.local.start(&self.state)?,
        };
        let journal = self.journal.insert(journal);
        journal.append(&record)?;
        self.changed |= record.apply(&mut self.state, &mut self.pending);
        Ok(())
    }
}
