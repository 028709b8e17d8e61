//! Stack files: parse, resolve and validate them, keeping the source position of every value.
//!
//! The output is a typed [`model::Stack`] whose properties are [`expr::Expr`] trees: params are
//! substituted, references to other resources are kept for the planner.

pub mod archive;
mod checks;
pub mod diag;
pub mod expr;
pub mod graph;
pub mod json_schema;
pub mod lang;
pub mod load;
pub mod model;
mod names;
mod reference;
pub mod registry;
pub mod schema;
mod suggest;
pub mod value;
mod yaml;

pub use diag::{Diagnostic, Diagnostics, Span};
pub use expr::{EvalError, Expr, Piece, Reference, Scope};
pub use graph::DependencyGraph;
pub use json_schema::stack_json_schema;
pub use load::{
    load, load_str, LoadOptions, LookupDecl, Reads, StackRefDecl, ADDRESS_TAG, NAME_SUFFIX_LEN,
    STACK_TAG,
};
pub use model::{Backend, Lifecycle, Move, OutputDecl, ResourceDecl, SourcePos, Stack};
pub use names::{
    address_base, address_tag, is_resource_address, join_address, parse_address, physical_name,
    InstanceKey, RESOURCE_ADDRESS_RULE,
};
pub use schema::{Catalog, Failure, Kind, NameRule, PolicyRole, Prop, PropsCheck, TypeSchema};
pub use suggest::did_you_mean;
pub use value::{mark_paths, sensitive_paths, Map, Value};
