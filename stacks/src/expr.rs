//! Property expressions after params are substituted: literal values with references to
//! other resources' attributes and to built-ins that are only known at plan or apply time.
//!
//! The planner evaluates an [`Expr`] against what it knows (the state, the plan's unknowns);
//! the executor evaluates it again as upstream results arrive. Neither re-parses `${...}`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::lang::Ast;
use crate::value::Value;

pub use crate::reference::{Reference, Scope};

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
    /// The tree is boxed: it is much larger than the other variants, and every map of
    /// properties holds its expressions inline.
    Lang {
        ast: Box<Ast>,
        at: String,
    },
}

/// An expression that failed when evaluated at plan or apply time (an index out of range, a
/// call that fails on values known only then), with where it is written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

impl Expr {
    /// The expression as a tree of the language, to be part of a larger expression (a module
    /// output or a local used inside an operator or a call).
    pub fn into_ast(self) -> Ast {
        match self {
            Expr::Value { value } => Ast::Value { value },
            Expr::Ref { reference } => Ast::Ref { reference },
            Expr::Lang { ast, .. } => *ast,
            Expr::Concat { pieces } => Ast::Template {
                parts: pieces
                    .into_iter()
                    .map(|p| match p {
                        Piece::Text { text } => Ast::Value {
                            value: Value::String(text),
                        },
                        Piece::Ref { reference } => Ast::Ref { reference },
                    })
                    .collect(),
                span: crate::lang::Span::default(),
            },
            Expr::List { items } => Ast::List {
                items: items.into_iter().map(Expr::into_ast).collect(),
            },
            Expr::Map { entries } => Ast::Map {
                entries: entries
                    .into_iter()
                    .map(|(k, e)| (k, e.into_ast()))
                    .collect(),
            },
            Expr::Sensitive { inner } => Ast::Sensitive {
                inner: Box::new(inner.into_ast()),
            },
        }
    }

    /// The expression a tree stands for: a plain value or reference when it is one.
    pub fn from_ast(ast: Ast, at: String) -> Expr {
        match ast {
            Ast::Value { value } => Expr::Value { value },
            Ast::Ref { reference } => Expr::Ref { reference },
            ast => Expr::Lang {
                ast: Box::new(ast),
                at,
            },
        }
    }

    /// The value, when it is known without any reference (a literal, or a mapping, list or
    /// sensitive marker of literals); `None` when it holds a reference or an unknown part.
    pub fn known_value(&self) -> Option<Value> {
        let value = match self {
            Expr::Value { value } => value.clone(),
            Expr::List { items } => Value::List(
                items
                    .iter()
                    .map(Expr::known_value)
                    .collect::<Option<Vec<_>>>()?,
            ),
            Expr::Map { entries } => Value::Map(
                entries
                    .iter()
                    .map(|(k, e)| e.known_value().map(|v| (k.clone(), v)))
                    .collect::<Option<_>>()?,
            ),
            Expr::Sensitive { inner } => Value::Sensitive(Box::new(inner.known_value()?)),
            Expr::Ref { .. } | Expr::Concat { .. } | Expr::Lang { .. } => return None,
        };
        (!value.has_unknown()).then_some(value)
    }

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
    fn an_expression_failing_on_values_known_at_plan_time_says_where_it_is_written() {
        let index = |key: i64| Expr::Lang {
            ast: Box::new(Ast::Index {
                target: Box::new(Ast::List {
                    items: vec![Ast::Ref {
                        reference: Reference::resource("q", "url"),
                    }],
                }),
                key: Box::new(Ast::value(Value::int(key))),
                span: crate::lang::Span::default(),
            }),
            at: "stack.yaml:7:12".into(),
        };
        assert_eq!(index(0).try_eval(&Fixed), Ok(Value::str("https://q")));
        let error = index(3).try_eval(&Fixed).expect_err("out of range");
        assert_eq!(
            error.0,
            "stack.yaml:7:12: index 3 is out of range: the list has 1 items"
        );
        assert_eq!(index(3).eval(&Fixed), Value::Unknown);
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
