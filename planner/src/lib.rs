//! The planner: decides what to do, never calls AWS to change anything.
//!
//! `diff` compares the resolved stack with the (refreshed) state and decides each resource's
//! action, `steps` turns those into the steps and edges the executor walks, `plan` is the
//! serializable result, and `render`, `json` and `markdown` show it, as Pulumi splits its step
//! generator from its step executor (the executor is in the `engine` crate).

pub mod compare;
pub mod diff;
pub mod drift;
pub mod iam;
pub mod json;
pub mod lint;
pub mod markdown;
pub mod mermaid;
pub mod plan;
pub mod render;
pub mod saved;
pub mod scope;
pub mod steps;

pub use diff::{make_plan, Live, PlanError, PlanInput};
pub use plan::{Action, Plan, ResourceChange, Step, StepKind, Summary};
pub use scope::Known;
