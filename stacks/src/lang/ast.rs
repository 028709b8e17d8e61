//! The resolved expression tree and its evaluation.
//!
//! Names are resolved by the loader: what it knows is a [`Ast::Value`], references to resources
//! and built-ins are [`Ast::Ref`], module outputs and locals that reference resources are
//! their expressions as trees. Evaluation carries the two markers of [`Value`] through every operation:
//! an unknown operand makes the result unknown (a conditional with a known condition only
//! looks at the branch it takes; indexing a list only at the item it picks), and a sensitive
//! operand makes the result sensitive.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::reference::{Reference, Scope};
use crate::value::Value;

use super::functions;
use super::functions::context::FileContext;
use super::values::{kind_of, mark, number, plain_text, strict};
use super::{LangError, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

/// A resolved expression: what the planner and the executor evaluate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ast {
    Value {
        value: Value,
    },
    Ref {
        reference: Reference,
    },
    /// Marks the value below as sensitive once evaluated (a sensitive output or param spliced
    /// in).
    Sensitive {
        inner: Box<Ast>,
    },
    List {
        items: Vec<Ast>,
    },
    Map {
        entries: BTreeMap<String, Ast>,
    },
    Index {
        target: Box<Ast>,
        key: Box<Ast>,
        span: Span,
    },
    Unary {
        op: UnOp,
        operand: Box<Ast>,
        span: Span,
    },
    Binary {
        op: BinOp,
        left: Box<Ast>,
        right: Box<Ast>,
        span: Span,
    },
    Cond {
        cond: Box<Ast>,
        then: Box<Ast>,
        otherwise: Box<Ast>,
        span: Span,
    },
    Call {
        name: String,
        args: Vec<Ast>,
        /// Where each argument is written, for type errors.
        arg_spans: Vec<Span>,
        span: Span,
    },
    /// A string joining text and values.
    Template {
        parts: Vec<Ast>,
        span: Span,
    },
}

/// A scope with nothing in it: the loader folds only parts that reference nothing.
struct Empty;

impl Scope for Empty {
    fn lookup(&self, _: &Reference) -> Option<Value> {
        Some(Value::Unknown)
    }
}

impl Ast {
    pub fn value(value: Value) -> Ast {
        Ast::Value { value }
    }

    /// The tree with every literal value passed through `value`, and the inside of every
    /// sensitive marker through `sensitive` (a saved plan redacts secrets this way).
    pub fn map_leaves(
        &self,
        value: &dyn Fn(&Value) -> Value,
        sensitive: &dyn Fn(&Ast) -> Ast,
    ) -> Ast {
        let map = |a: &Ast| Box::new(a.map_leaves(value, sensitive));
        let all = |items: &[Ast]| {
            items
                .iter()
                .map(|a| a.map_leaves(value, sensitive))
                .collect()
        };
        match self {
            Ast::Value { value: v } => Ast::Value { value: value(v) },
            Ast::Ref { .. } => self.clone(),
            Ast::Sensitive { inner } => Ast::Sensitive {
                inner: Box::new(sensitive(inner)),
            },
            Ast::List { items } => Ast::List { items: all(items) },
            Ast::Map { entries } => Ast::Map {
                entries: entries
                    .iter()
                    .map(|(k, a)| (k.clone(), a.map_leaves(value, sensitive)))
                    .collect(),
            },
            Ast::Index { target, key, span } => Ast::Index {
                target: map(target),
                key: map(key),
                span: *span,
            },
            Ast::Unary { op, operand, span } => Ast::Unary {
                op: *op,
                operand: map(operand),
                span: *span,
            },
            Ast::Binary {
                op,
                left,
                right,
                span,
            } => Ast::Binary {
                op: *op,
                left: map(left),
                right: map(right),
                span: *span,
            },
            Ast::Cond {
                cond,
                then,
                otherwise,
                span,
            } => Ast::Cond {
                cond: map(cond),
                then: map(then),
                otherwise: map(otherwise),
                span: *span,
            },
            Ast::Call {
                name,
                args,
                arg_spans,
                span,
            } => Ast::Call {
                name: name.clone(),
                args: all(args),
                arg_spans: arg_spans.clone(),
                span: *span,
            },
            Ast::Template { parts, span } => Ast::Template {
                parts: all(parts),
                span: *span,
            },
        }
    }

    /// Every reference in the tree, spliced expressions included.
    pub(crate) fn collect_references(&self, out: &mut std::collections::BTreeSet<Reference>) {
        match self {
            Ast::Value { .. } => {}
            Ast::Ref { reference } => {
                out.insert(reference.clone());
            }
            Ast::Sensitive { inner } => inner.collect_references(out),
            Ast::List { items } | Ast::Template { parts: items, .. } => {
                items.iter().for_each(|a| a.collect_references(out))
            }
            Ast::Call { args, .. } => args.iter().for_each(|a| a.collect_references(out)),
            Ast::Map { entries } => entries.values().for_each(|a| a.collect_references(out)),
            Ast::Index { target, key, .. } => {
                target.collect_references(out);
                key.collect_references(out);
            }
            Ast::Unary { operand, .. } => operand.collect_references(out),
            Ast::Binary { left, right, .. } => {
                left.collect_references(out);
                right.collect_references(out);
            }
            Ast::Cond {
                cond,
                then,
                otherwise,
                ..
            } => {
                cond.collect_references(out);
                then.collect_references(out);
                otherwise.collect_references(out);
            }
        }
    }

    /// Evaluates against `scope`. `files` lets the file functions read (only at load time).
    pub fn eval(&self, scope: &dyn Scope, files: Option<&FileContext>) -> Result<Value, LangError> {
        match self {
            Ast::Value { value } => Ok(value.clone()),
            Ast::Ref { reference } => Ok(scope.lookup(reference).unwrap_or(Value::Unknown)),
            Ast::Sensitive { inner } => Ok(mark(inner.eval(scope, files)?)),
            Ast::List { items } => Ok(Value::List(
                items
                    .iter()
                    .map(|i| i.eval(scope, files))
                    .collect::<Result<_, _>>()?,
            )),
            Ast::Map { entries } => Ok(Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.eval(scope, files)?)))
                    .collect::<Result<_, LangError>>()?,
            )),
            Ast::Index { target, key, span } => {
                let target = target.eval(scope, files)?;
                let key = key.eval(scope, files)?;
                index(target, key, *span)
            }
            Ast::Unary { op, operand, span } => {
                let operand = operand.eval(scope, files)?;
                strict(vec![operand], |v| unary(*op, &v[0], *span))
            }
            Ast::Binary {
                op,
                left,
                right,
                span,
            } => {
                let left = left.eval(scope, files)?;
                let right = right.eval(scope, files)?;
                strict(vec![left, right], |v| binary(*op, &v[0], &v[1], *span))
            }
            Ast::Cond {
                cond,
                then,
                otherwise,
                span,
            } => {
                let c = cond.eval(scope, files)?;
                if c.has_unknown() {
                    return Ok(Value::Unknown);
                }
                let sensitive = c.has_sensitive();
                let pick = match c.unmarked() {
                    Value::Bool(b) => b,
                    other => {
                        return Err(LangError::new(
                            cond_span(cond, *span),
                            format!(
                                "the condition of `cond ? a : b` must be a bool, not {}",
                                kind_of(&other)
                            ),
                        ))
                    }
                };
                let chosen = if pick { then } else { otherwise };
                let value = chosen.eval(scope, files)?;
                Ok(if sensitive { mark(value) } else { value })
            }
            Ast::Call {
                name,
                args,
                arg_spans,
                span,
            } => {
                let values = args
                    .iter()
                    .map(|a| a.eval(scope, files))
                    .collect::<Result<Vec<_>, _>>()?;
                functions::call(name, values, arg_spans, *span, files)
            }
            Ast::Template { parts, span } => {
                let values = parts
                    .iter()
                    .map(|p| p.eval(scope, files))
                    .collect::<Result<Vec<_>, _>>()?;
                strict(values, |values| {
                    let mut text = String::new();
                    for value in values {
                        match value {
                            Value::List(_) | Value::Map(_) => {
                                return Err(LangError::new(
                                    *span,
                                    format!("a {} cannot be joined into a string", kind_of(&value)),
                                )
                                .help("use it as the whole value (`\"${...}\"` alone), or turn it into text with `jsonencode(...)` or `join(...)`"))
                            }
                            other => text.push_str(&plain_text(&other)),
                        }
                    }
                    Ok(Value::String(text))
                })
            }
        }
    }

    /// The tree with every part that references nothing evaluated: what the loader keeps.
    /// Errors of parts that are known (a call that fails, a wrong type) are returned.
    pub(crate) fn fold(self, files: &FileContext) -> Result<Ast, LangError> {
        let folded = match self {
            Ast::List { items } => Ast::List {
                items: fold_all(items, files)?,
            },
            Ast::Map { entries } => Ast::Map {
                entries: entries
                    .into_iter()
                    .map(|(k, v)| Ok((k, v.fold(files)?)))
                    .collect::<Result<_, LangError>>()?,
            },
            Ast::Index { target, key, span } => Ast::Index {
                target: Box::new(target.fold(files)?),
                key: Box::new(key.fold(files)?),
                span,
            },
            Ast::Unary { op, operand, span } => Ast::Unary {
                op,
                operand: Box::new(operand.fold(files)?),
                span,
            },
            Ast::Binary {
                op,
                left,
                right,
                span,
            } => Ast::Binary {
                op,
                left: Box::new(left.fold(files)?),
                right: Box::new(right.fold(files)?),
                span,
            },
            Ast::Cond {
                cond,
                then,
                otherwise,
                span,
            } => {
                let cond = cond.fold(files)?;
                // A known condition decides now: only the branch taken is checked.
                if let Ast::Value { value } = &cond {
                    if !value.has_unknown() && !value.has_sensitive() {
                        if let Value::Bool(b) = value {
                            return if *b {
                                then.fold(files)
                            } else {
                                otherwise.fold(files)
                            };
                        }
                    }
                }
                Ast::Cond {
                    cond: Box::new(cond),
                    then: Box::new(then.fold(files)?),
                    otherwise: Box::new(otherwise.fold(files)?),
                    span,
                }
            }
            Ast::Sensitive { inner } => Ast::Sensitive {
                inner: Box::new(inner.fold(files)?),
            },
            Ast::Call {
                name,
                args,
                arg_spans,
                span,
            } => {
                let args = fold_all(args, files)?;
                let known: Vec<Option<&Value>> = args
                    .iter()
                    .map(|a| match a {
                        Ast::Value { value } => Some(value),
                        _ => None,
                    })
                    .collect();
                functions::check_known_args(&name, &known, &arg_spans, span)?;
                Ast::Call {
                    name,
                    args,
                    arg_spans,
                    span,
                }
            }
            Ast::Template { parts, span } => Ast::Template {
                parts: fold_all(parts, files)?,
                span,
            },
            leaf @ (Ast::Value { .. } | Ast::Ref { .. }) => return Ok(leaf),
        };
        if folded.is_constant() {
            let value = folded.eval(&Empty, Some(files))?;
            return Ok(Ast::Value { value });
        }
        Ok(folded)
    }

    /// True when every child is a value (the node itself can be evaluated now).
    fn is_constant(&self) -> bool {
        let known = |a: &Ast| matches!(a, Ast::Value { .. });
        match self {
            Ast::Value { .. } => true,
            Ast::Ref { .. } => false,
            Ast::Sensitive { inner } => known(inner),
            Ast::List { items } | Ast::Template { parts: items, .. } => items.iter().all(known),
            Ast::Call { args, .. } => args.iter().all(known),
            Ast::Map { entries } => entries.values().all(known),
            Ast::Index { target, key, .. } => known(target) && known(key),
            Ast::Unary { operand, .. } => known(operand),
            Ast::Binary { left, right, .. } => known(left) && known(right),
            Ast::Cond { cond, .. } => known(cond),
        }
    }
}

fn fold_all(items: Vec<Ast>, files: &FileContext) -> Result<Vec<Ast>, LangError> {
    items.into_iter().map(|a| a.fold(files)).collect()
}

fn cond_span(cond: &Ast, whole: Span) -> Span {
    match cond {
        Ast::Index { span, .. }
        | Ast::Unary { span, .. }
        | Ast::Binary { span, .. }
        | Ast::Cond { span, .. }
        | Ast::Call { span, .. }
        | Ast::Template { span, .. } => *span,
        _ => whole,
    }
}

fn index(target: Value, key: Value, span: Span) -> Result<Value, LangError> {
    if matches!(target, Value::Unknown) || key.has_unknown() {
        return Ok(Value::Unknown);
    }
    let sensitive = matches!(target, Value::Sensitive(_)) || key.has_sensitive();
    let target = match target {
        Value::Sensitive(inner) => *inner,
        other => other,
    };
    let key = key.unmarked();
    let found = match (&target, &key) {
        (Value::List(items), Value::Number(n)) => {
            let i = n.as_f64().unwrap_or(-1.0);
            if i.fract() != 0.0 || i < 0.0 || i as usize >= items.len() {
                return Err(LangError::new(
                    span,
                    format!(
                        "index {n} is out of range: the list has {} items",
                        items.len()
                    ),
                ));
            }
            items[i as usize].clone()
        }
        (Value::Map(map), Value::String(k)) => match map.get(k) {
            Some(v) => v.clone(),
            None => {
                let keys: Vec<&String> = map.keys().collect();
                return Err(
                    LangError::new(span, format!("the mapping has no key \"{k}\"")).help(
                        match keys.is_empty() {
                            true => "the mapping is empty".to_string(),
                            false => format!(
                                "its keys are {}",
                                keys.iter()
                                    .map(|k| format!("\"{k}\""))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        },
                    ),
                );
            }
        },
        (Value::List(_), other) => {
            return Err(LangError::new(
                span,
                format!("a list is indexed by a number, not {}", kind_of(other)),
            ))
        }
        (Value::Map(_), other) => {
            return Err(LangError::new(
                span,
                format!("a mapping is indexed by a string, not {}", kind_of(other)),
            ))
        }
        (other, _) => {
            return Err(
                LangError::new(span, format!("{} cannot be indexed", kind_of(other)))
                    .help("only lists and mappings have items"),
            )
        }
    };
    Ok(if sensitive { mark(found) } else { found })
}

fn unary(op: UnOp, value: &Value, span: Span) -> Result<Value, LangError> {
    match (op, value) {
        (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnOp::Neg, Value::Number(n)) => Ok(number(-n.as_f64().unwrap_or(0.0))),
        (UnOp::Not, other) => Err(LangError::new(
            span,
            format!("`!` needs a bool, not {}", kind_of(other)),
        )),
        (UnOp::Neg, other) => Err(LangError::new(
            span,
            format!("`-` needs a number, not {}", kind_of(other)),
        )),
    }
}

/// A number operand: numbers, and strings that read as numbers (as Terraform converts them).
fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn binary(op: BinOp, left: &Value, right: &Value, span: Span) -> Result<Value, LangError> {
    let symbol = op.symbol();
    match op {
        BinOp::Eq | BinOp::Ne => {
            let same = match (left, right) {
                (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
                (a, b) => a == b,
            };
            Ok(Value::Bool(if op == BinOp::Eq { same } else { !same }))
        }
        BinOp::And | BinOp::Or => match (left, right) {
            (Value::Bool(a), Value::Bool(b)) => Ok(Value::Bool(if op == BinOp::And {
                *a && *b
            } else {
                *a || *b
            })),
            _ => {
                let bad = if matches!(left, Value::Bool(_)) {
                    right
                } else {
                    left
                };
                Err(LangError::new(
                    span,
                    format!("`{symbol}` needs two bools, not {}", kind_of(bad)),
                ))
            }
        },
        _ => {
            let (Some(a), Some(b)) = (as_number(left), as_number(right)) else {
                let bad = if as_number(left).is_some() {
                    right
                } else {
                    left
                };
                let mut error = LangError::new(
                    span,
                    format!("`{symbol}` needs two numbers, not {}", kind_of(bad)),
                );
                if op == BinOp::Add && matches!(bad, Value::String(_)) {
                    error = error.help("to join strings, write them side by side in one string (\"${a}-${b}\") or use `format(\"%s%s\", a, b)`");
                }
                return Err(error);
            };
            Ok(match op {
                BinOp::Lt => Value::Bool(a < b),
                BinOp::Le => Value::Bool(a <= b),
                BinOp::Gt => Value::Bool(a > b),
                BinOp::Ge => Value::Bool(a >= b),
                BinOp::Add => number(a + b),
                BinOp::Sub => number(a - b),
                BinOp::Mul => number(a * b),
                BinOp::Div | BinOp::Rem if b == 0.0 => {
                    return Err(LangError::new(span, "division by zero"))
                }
                BinOp::Div => number(a / b),
                // Terraform's `%` keeps the sign of the dividend, as Rust's does.
                _ => number(a % b),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(ast: Ast) -> Value {
        ast.eval(&Empty, None).expect("evaluates")
    }

    fn lit(value: Value) -> Box<Ast> {
        Box::new(Ast::Value { value })
    }

    fn bin(op: BinOp, a: Value, b: Value) -> Ast {
        Ast::Binary {
            op,
            left: lit(a),
            right: lit(b),
            span: Span::default(),
        }
    }

    #[test]
    fn arithmetic_comparison_and_logic() {
        assert_eq!(
            v(bin(BinOp::Add, Value::int(2), Value::int(3))),
            Value::int(5)
        );
        assert_eq!(
            v(bin(BinOp::Div, Value::int(7), Value::int(2))),
            number(3.5)
        );
        assert_eq!(
            v(bin(BinOp::Rem, Value::int(-7), Value::int(3))),
            Value::int(-1)
        );
        assert_eq!(
            v(bin(BinOp::Lt, Value::int(2), Value::str("10"))),
            Value::Bool(true)
        );
        assert_eq!(
            v(bin(BinOp::Eq, Value::int(2), number(2.0))),
            Value::Bool(true)
        );
        assert_eq!(
            v(bin(BinOp::Ne, Value::str("a"), Value::str("a"))),
            Value::Bool(false)
        );
        assert_eq!(
            v(bin(BinOp::Or, Value::Bool(false), Value::Bool(true))),
            Value::Bool(true)
        );
    }

    #[test]
    fn unknown_and_sensitive_operands_carry_through() {
        assert_eq!(
            v(bin(BinOp::Add, Value::Unknown, Value::int(1))),
            Value::Unknown
        );
        let secret = Value::Sensitive(Box::new(Value::int(1)));
        assert_eq!(
            v(bin(BinOp::Add, secret, Value::int(1))),
            Value::Sensitive(Box::new(Value::int(2)))
        );
        let list = Value::List(vec![Value::Unknown, Value::str("b")]);
        let pick = Ast::Index {
            target: lit(list),
            key: lit(Value::int(1)),
            span: Span::default(),
        };
        assert_eq!(v(pick), Value::str("b"));
        let cond = Ast::Cond {
            cond: lit(Value::Bool(true)),
            then: lit(Value::str("yes")),
            otherwise: lit(Value::Unknown),
            span: Span::default(),
        };
        assert_eq!(v(cond), Value::str("yes"));
    }

    #[test]
    fn type_errors_and_bad_indexes_are_errors() {
        let error = bin(BinOp::Add, Value::str("a"), Value::int(1))
            .eval(&Empty, None)
            .expect_err("string + number");
        assert!(
            error.message.contains("needs two numbers"),
            "{}",
            error.message
        );
        assert!(bin(BinOp::Div, Value::int(1), Value::int(0))
            .eval(&Empty, None)
            .is_err());
        let out_of_range = Ast::Index {
            target: lit(Value::List(vec![Value::int(1)])),
            key: lit(Value::int(3)),
            span: Span::default(),
        };
        assert!(out_of_range
            .eval(&Empty, None)
            .expect_err("range")
            .message
            .contains("out of range"));
    }
}
