//! Property expressions after params are substituted: literal values with references to
//! other resources' attributes and to built-ins that are only known at plan or apply time.
//!
//! The planner evaluates an [`Expr`] against what it knows (the state, the plan's unknowns);
//! the executor evaluates it again as upstream results arrive. Neither re-parses `${...}`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::lang::Ast;
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

/// One piece of an interpolated string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Piece {
    Text { text: String },
    Ref { reference: Reference },
}

/// A property value that may still contain references.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expr {
    /// A fully known value.
    Value {
        value: Value,
    },
    /// A string that is exactly one `${...}`: it takes the referenced value's own type.
    Ref {
        reference: Reference,
    },
    /// A string joining text and references.
    Concat {
        pieces: Vec<Piece>,
    },
    List {
        items: Vec<Expr>,
    },
    Map {
        entries: BTreeMap<String, Expr>,
    },
    /// Marks the value below as sensitive once evaluated.
    Sensitive {
        inner: Box<Expr>,
    },
    /// An expression of the language (operators, calls, indexes, conditionals) that
    /// references values known only at plan or apply time. `at` is where it is written
    /// (`stack.yaml:12:9`), for errors found when it is evaluated.
    Lang {
        ast: Ast,
        at: String,
    },
}

/// An expression that failed when evaluated at plan or apply time (an index out of range, a
/// call that fails on values known only then), with where it is written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// What an [`Expr`] is evaluated against.
pub trait Scope {
    /// The value a reference stands for right now: [`Value::Unknown`] when it is known only
    /// after apply. `None` when the reference cannot be resolved at all (a bug upstream:
    /// references are validated when the stack is loaded).
    fn lookup(&self, reference: &Reference) -> Option<Value>;
}

impl Expr {
    pub fn value(value: impl Into<Value>) -> Expr {
        Expr::Value {
            value: value.into(),
        }
    }

    /// Every reference in the expression.
    pub fn references(&self) -> BTreeSet<Reference> {
        let mut out = BTreeSet::new();
        self.collect_references(&mut out);
        out
    }

    fn collect_references(&self, out: &mut BTreeSet<Reference>) {
        match self {
            Expr::Value { .. } => {}
            Expr::Ref { reference } => {
                out.insert(reference.clone());
            }
            Expr::Concat { pieces } => {
                for piece in pieces {
                    if let Piece::Ref { reference } = piece {
                        out.insert(reference.clone());
                    }
                }
            }
            Expr::List { items } => items.iter().for_each(|e| e.collect_references(out)),
            Expr::Map { entries } => entries.values().for_each(|e| e.collect_references(out)),
            Expr::Sensitive { inner } => inner.collect_references(out),
            Expr::Lang { ast, .. } => ast.collect_references(out),
        }
    }

    /// The addresses of the resources this expression references.
    pub fn resource_addresses(&self) -> BTreeSet<String> {
        self.references()
            .into_iter()
            .filter_map(|r| match r {
                Reference::Resource { address, .. } => Some(address),
                Reference::Builtin { .. } => None,
            })
            .collect()
    }

    /// [`Expr::try_eval`] where a failure was reported already (the planner evaluates every
    /// expression with `try_eval` first): a failing part reads as unknown.
    pub fn eval(&self, scope: &dyn Scope) -> Value {
        self.try_eval(scope).unwrap_or(Value::Unknown)
    }

    /// Evaluates against `scope`. A concatenation with an unknown piece is unknown; one with
    /// a sensitive piece is sensitive. An unresolvable reference evaluates to unknown. An
    /// expression of the language may fail on the values it meets.
    pub fn try_eval(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        Ok(match self {
            Expr::Lang { ast, at } => ast
                .eval(scope, None)
                .map_err(|e| EvalError(format!("{at}: {}", e.message)))?,
            Expr::Value { value } => value.clone(),
            Expr::Ref { reference } => scope.lookup(reference).unwrap_or(Value::Unknown),
            Expr::Concat { pieces } => {
                let mut text = String::new();
                let mut sensitive = false;
                for piece in pieces {
                    match piece {
                        Piece::Text { text: t } => text.push_str(t),
                        Piece::Ref { reference } => {
                            let value = scope.lookup(reference).unwrap_or(Value::Unknown);
                            if value.has_unknown() {
                                return Ok(Value::Unknown);
                            }
                            sensitive |= value.has_sensitive();
                            match value.unmarked() {
                                Value::String(s) => text.push_str(&s),
                                Value::Null => {}
                                other => text.push_str(&plain_text(&other)),
                            }
                        }
                    }
                }
                if sensitive {
                    Value::Sensitive(Box::new(Value::String(text)))
                } else {
                    Value::String(text)
                }
            }
            Expr::List { items } => Value::List(
                items
                    .iter()
                    .map(|e| e.try_eval(scope))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Map { entries } => Value::Map(
                entries
                    .iter()
                    .map(|(k, e)| Ok((k.clone(), e.try_eval(scope)?)))
                    .collect::<Result<_, EvalError>>()?,
            ),
            Expr::Sensitive { inner } => match inner.try_eval(scope)? {
                Value::Unknown => Value::Unknown,
                Value::Sensitive(v) => Value::Sensitive(v),
                v => Value::Sensitive(Box::new(v)),
            },
        })
    }
}

/// How a non-string value reads when joined into a string.
fn plain_text(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_json().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Scope for Fixed {
        fn lookup(&self, reference: &Reference) -> Option<Value> {
            match reference.display().as_str() {
                "q.url" => Some(Value::str("https://q")),
                "q.arn" => Some(Value::Unknown),
                "q.n" => Some(Value::int(5)),
                _ => None,
            }
        }
    }

    #[test]
    fn a_whole_string_reference_keeps_its_type_and_a_join_becomes_text() {
        let whole = Expr::Ref {
            reference: Reference::resource("q", "n"),
        };
        assert_eq!(whole.eval(&Fixed), Value::int(5));
        let joined = Expr::Concat {
            pieces: vec![
                Piece::Text { text: "n=".into() },
                Piece::Ref {
                    reference: Reference::resource("q", "n"),
                },
            ],
        };
        assert_eq!(joined.eval(&Fixed), Value::str("n=5"));
    }

    #[test]
    fn a_join_with_an_unknown_piece_is_unknown() {
        let joined = Expr::Concat {
            pieces: vec![
                Piece::Ref {
                    reference: Reference::resource("q", "url"),
                },
                Piece::Ref {
                    reference: Reference::resource("q", "arn"),
                },
            ],
        };
        assert_eq!(joined.eval(&Fixed), Value::Unknown);
    }
}
