//! What a `${...}` references once the loader has resolved it, and what it is evaluated
//! against: shared by [`crate::expr`] and the expression language ([`crate::lang`]).

use serde::{Deserialize, Serialize};

use crate::value::Value;

/// What a `${...}` names once params and `stack.name` are substituted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reference {
    /// `${ADDRESS.ATTR}`: an attribute (or property) of another resource of this stack.
    Resource { address: String, attr: String },
    /// `${aws.region}`, `${aws.account_id}`: known once strata talks to AWS.
    Builtin { name: String },
}

impl Reference {
    pub fn resource(address: impl Into<String>, attr: impl Into<String>) -> Reference {
        Reference::Resource {
            address: address.into(),
            attr: attr.into(),
        }
    }

    /// The text a person wrote, without `${}`.
    pub fn display(&self) -> String {
        match self {
            Reference::Resource { address, attr } => format!("{address}.{attr}"),
            Reference::Builtin { name } => name.clone(),
        }
    }
}

/// What an expression is evaluated against.
pub trait Scope {
    /// The value a reference stands for right now: [`Value::Unknown`] when it is known only
    /// after apply. `None` when the reference cannot be resolved at all (a bug upstream:
    /// references are validated when the stack is loaded).
    fn lookup(&self, reference: &Reference) -> Option<Value>;
}
