//! The planner and the executor.
//!
//! `diff` decides (never calls AWS to change anything), `plan` is the serializable result,
//! `render` shows it, and `executor` walks it (never decides), as Pulumi splits its step
//! generator from its step executor.

pub mod compare;
pub mod diff;
pub mod drift;
pub mod executor;
pub mod json;
pub mod lint;
pub mod markdown;
pub mod plan;
pub mod refresh;
pub mod render;
pub mod saved;

pub use diff::{make_plan, Live, PlanError, PlanInput};
pub use executor::{adopt_pending, apply, ApplyOptions, ApplyOutcome, Event, EventSink, Op};
pub use plan::{Action, Plan, ResourceChange, Summary};
