//! The engine: the session every command runs, the executor that walks a plan's steps, and the
//! one event stream they report through.
//!
//! A crate of its own (not part of `planner`) because it is where deciding meets doing: it
//! holds the state under lock, calls providers, and owns the interrupt contract, while the
//! planner stays a pure function from stack and state to plan.

pub mod cloud;
pub mod error;
pub mod events;
pub mod executor;
pub mod planfile;
pub mod reads;
pub mod refresh;
pub mod session;

pub use cloud::{AwsCloud, Cloud};
pub use error::EngineError;
pub use events::{Event, EventSink, NoEvents, Status, Summary};
pub use executor::{ApplyOptions, ApplyOutcome, StepError, DEFAULT_PARALLELISM};
pub use reads::{drift, read_state, sensitive_marks, Drift};
pub use session::{Applied, OpenOptions, PlanRequest, Session};
