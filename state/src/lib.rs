//! strata's recorded state (SPEC §8).
//!
//! What this crate promises:
//! - the state of a stack lives in `.strata/<stack>.state.json` (mode 0600, the directory 0700),
//!   with a `version`, a `lineage` fixed at creation and a `serial` that strictly increases on
//!   every write; the previous file is kept as `<stack>.state.json.backup`;
//! - every write of the state file is atomic (write a temporary file, fsync, rename, fsync the
//!   directory);
//! - during a run each operation is appended to `<stack>.journal` and synced before it counts as
//!   done, at a cost of one record whatever the size of the stack; the run's end compacts the
//!   journal into the state file. A crashed run's journal is replayed by the next
//!   [`LocalBackend::load`], so nothing that was created is lost;
//! - a create is preceded by an [`Intent`]; one never followed by its result comes back from
//!   `load` as pending, so the next run can find and adopt the resource instead of creating a
//!   duplicate;
//! - one writer at a time: [`LocalBackend::lock`] fails at once, naming the holder.
//!
//! The same promises hold for the S3 backend ([`S3Backend`]): the state is one S3 object written
//! with `If-Match` on its ETag, the lock an object created with `If-None-Match: *`, and the
//! journal stays local. [`StateBackend`] is either, behind one set of methods.
//!
//! A run looks like this:
//! ```no_run
//! # fn main() -> Result<(), state::StateError> {
//! use state::{Intent, LocalBackend};
//! let backend = LocalBackend::new(".strata".into(), "web");
//! let lock = backend.lock("apply")?;
//! let loaded = backend.load()?; // after the lock: nobody writes in between
//! // ... adopt or resolve loaded.pending_intents ...
//! let mut recorder = backend.recorder(&lock, loaded)?;
//! let intent = Intent::new("queue.orders", "aws.sqs.queue", Default::default());
//! let intent_id = intent.id.clone();
//! recorder.intent(intent)?;
//! // ... the create call; then:
//! // recorder.put("queue.orders", resource, Some(&intent_id))?;
//! # let _ = intent_id;
//! let state = recorder.finish()?;
//! # let _ = state;
//! # Ok(()) }
//! ```

mod backend;
mod durable;
mod error;
mod journal;
mod lock;
mod model;
mod recorder;
pub mod s3;
mod s3_backend;
mod state_backend;

pub use backend::{Loaded, LocalBackend};
pub use error::StateError;
pub use journal::Record;
pub use lock::{LockGuard, LockInfo};
pub use model::{Intent, ResourceState, State, STATE_VERSION};
pub use recorder::Recorder;
pub use s3_backend::S3Backend;
pub use state_backend::StateBackend;
