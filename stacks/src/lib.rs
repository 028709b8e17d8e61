//! Stack files: parse, resolve and validate them, keeping the source position of every value.
//!
//! The output is a typed [`model::Stack`] whose properties are [`expr::Expr`] trees: params are
//! substituted, references to other resources are kept for the planner.

pub mod diag;
pub mod expr;
pub mod model;
pub mod schema;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Span};
pub use expr::{Expr, Piece, Reference, Scope};
pub use model::{Backend, Lifecycle, OutputDecl, ResourceDecl, SourcePos, Stack};
pub use schema::{Catalog, Kind, NameRule, Prop, TypeSchema};
pub use value::{Map, Value};
