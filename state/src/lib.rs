//! strata's recorded state (SPEC §8).
//!
//! What this crate promises:
//! - the state of a stack lives in `.strata/<stack>.state.json` (mode 0600, the directory 0700),
//!   with a `version`, a `lineage` fixed at creation and a `serial` that strictly increases on
//!   every write; the previous file is kept as `<stack>.state.json.backup`;
//! - every write of the state file is atomic (write a temporary file, fsync, rename, fsync the
//!   directory: [`files::durable::write_private`]);
//! - during a run each operation is appended to `<stack>.journal` and synced before it counts as
//!   done, at a cost of one record whatever the size of the stack; the run's end compacts the
//!   journal into the state file. A crashed run's journal is replayed by the next
//!   [`Backend::load`], so nothing that was created is lost;
//! - a create is preceded by an [`Intent`]; one never followed by its result comes back from
//!   `load` as pending, so the next run can find and adopt the resource instead of creating a
//!   duplicate;
//! - one writer at a time: [`Backend::lock`] lets one strata in; another waits up to the time
//!   it was given (none: it fails at once), then fails naming the holder.
//!
//! The same promises hold for the S3 backend ([`S3Backend`]): the state is one S3 object written
//! with `If-Match` on its ETag, the lock an object created with `If-None-Match: *`, and the
//! journal stays local. Both are a [`Backend`], the one trait callers hold (`Arc<dyn Backend>`,
//! from [`open`] and the stack's `backend:`); nothing outside the backends chooses between them.
//! The API is synchronous: a call returns once what it did is durable.
//!
//! A run looks like this:
//! ```no_run
//! # fn main() -> Result<(), state::StateError> {
//! use std::time::Duration;
//! use state::{Backend, Intent, LocalBackend};
//! let backend = LocalBackend::new(".strata".into(), "web");
//! let lock = backend.lock("apply", Duration::ZERO)?;
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
mod consumers;
mod durable;
mod error;
mod journal;
mod local;
mod local_journal;
mod lock;
mod model;
mod open;
mod recorder;
pub mod s3;
mod s3_backend;
mod store;

pub use backend::Backend;
pub use consumers::ConsumerRecord;
pub use error::StateError;
pub use journal::Record;
pub use local::LocalBackend;
pub use lock::{LockGuard, LOCK_POLL_INTERVAL};
pub use model::{Intent, Loaded, LockInfo, ResourceState, State, STATE_VERSION};
pub use open::open;
pub use recorder::Recorder;
pub use s3_backend::S3Backend;
