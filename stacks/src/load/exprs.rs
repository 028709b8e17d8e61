//! Turning strings with `${...}` into [`Expr`]s: params and `stack.name` are substituted at
//! once, references to resources and `aws.*` built-ins are kept for the planner. Every name is
//! checked here, and errors point at the `${` that holds it.

use std::collections::BTreeMap;

use crate::expr::{Expr, Piece, Reference};
use crate::interp::{self, ExprText, Segment};
use crate::suggest::{did_you_mean, hint};
use crate::value::Value;
use crate::yaml::{Node, NodeKind, Pos};

use crate::suggest::list_names;

use super::loader::Loader;
use super::parts::{Edge, Instance, Place};

/// The built-ins a stack can name.
const BUILTINS: &[&str] = &["stack.name", "aws.region", "aws.account_id"];

enum Resolved {
    Value(Value),
    Ref(Reference),
    /// A module's output, or a module input known only at plan time: its expression, whose
    /// references are already full addresses.
    Expr(Expr),
}

impl Loader<'_> {
    /// A string from the stack file as an expression. `None` when it held an error (reported).
    pub(crate) fn string_expr(&mut self, node: &Node, text: &str, place: &Place) -> Option<Expr> {
        if !interp::has_dollar_brace(text) {
            return Some(Expr::value(text));
        }
        let (segments, errors) = interp::scan(text);
        let positions = node.dollar_brace_positions(&self.file.text);
        let exact = positions.len() == text.matches("${").count();
        let locate = |ordinal: usize, len: usize| -> Pos {
            match positions.get(ordinal) {
                Some(pos) if exact => pos.with_len(len),
                _ => node.pos,
            }
        };
        let mut ok = errors.is_empty();
        for error in errors {
            let pos = locate(error.ordinal, error.len);
            self.error(pos, error.message, Some(error.help));
        }
        let whole = matches!(segments.as_slice(), [Segment::Expr(_)]);
        let mut pieces: Vec<Piece> = Vec::new();
        let mut sensitive = false;
        for segment in segments {
            match segment {
                Segment::Text(text) => push_text(&mut pieces, &text),
                Segment::Expr(expr) => {
                    let pos = locate(expr.ordinal, expr.len);
                    match self.resolve(&expr, place, pos) {
                        Some(Resolved::Value(value)) if whole => {
                            return ok.then_some(Expr::Value { value });
                        }
                        Some(Resolved::Ref(reference)) if whole => {
                            return ok.then_some(Expr::Ref { reference });
                        }
                        Some(Resolved::Expr(spliced)) if whole => return ok.then_some(spliced),
                        Some(Resolved::Value(Value::Sensitive(inner))) => {
                            sensitive = true;
                            push_text(&mut pieces, &plain_text(&inner));
                        }
                        Some(Resolved::Value(value)) => push_text(&mut pieces, &plain_text(&value)),
                        Some(Resolved::Ref(reference)) => pieces.push(Piece::Ref { reference }),
                        Some(Resolved::Expr(spliced)) => {
                            if !splice(&mut pieces, spliced, &mut sensitive) {
                                self.error(
                                    pos,
                                    format!(
                                        "`{}` is a list or mapping and cannot be joined into a string",
                                        expr.written
                                    ),
                                    Some("use it as the whole value (`\"${...}\"` alone)".into()),
                                );
                                ok = false;
                            }
                        }
                        None => ok = false,
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        let joined = match pieces.as_slice() {
            [] => Expr::value(""),
            [Piece::Text { text }] => Expr::value(text.as_str()),
            _ => Expr::Concat { pieces },
        };
        Some(if sensitive {
            Expr::Sensitive {
                inner: Box::new(joined),
            }
        } else {
            joined
        })
    }

    /// Any node as an expression, without a kind to check: documents, outputs, unknown types.
    pub(crate) fn any_expr(&mut self, node: &Node, place: &Place) -> Option<Expr> {
        match &node.kind {
            NodeKind::Str(s) => self.string_expr(node, s, place),
            NodeKind::List(items) => {
                let items: Vec<Option<Expr>> =
                    items.iter().map(|i| self.any_expr(i, place)).collect();
                items.into_iter().collect::<Option<Vec<_>>>().map(list_expr)
            }
            NodeKind::Map(entries) => {
                let entries: Vec<(String, Option<Expr>)> = entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), self.any_expr(v, place)))
                    .collect();
                let mut map = BTreeMap::new();
                let mut ok = true;
                for (k, v) in entries {
                    match v {
                        Some(v) => {
                            map.insert(k, v);
                        }
                        None => ok = false,
                    }
                }
                ok.then(|| map_expr(map))
            }
            _ => Some(Expr::Value {
                value: node.to_value(),
            }),
        }
    }

    fn resolve(&mut self, expr: &ExprText, place: &Place, pos: Pos) -> Option<Resolved> {
        let [head, name] = expr.path.as_slice() else {
            return None;
        };
        let written = &expr.written;
        match head.as_str() {
            "params" => {
                if let Some(value) = self.params.get(name) {
                    return Some(Resolved::Value(value.clone()));
                }
                if let Some(input) = self.inputs.get(name) {
                    let (expr, origin) = (input.expr.clone(), input.origin.clone());
                    match place {
                        Place::StackTags => {
                            self.error(
                                pos,
                                format!("`{written}` cannot be used in the module's `tags`"),
                                Some(format!("{origin} is known only at plan time; put it in a resource's own `tags`")),
                            );
                            return None;
                        }
                        Place::Resource(_) => {
                            for to in expr.resource_addresses() {
                                self.edges.push(Edge {
                                    to,
                                    pos,
                                    via: format!("`{written}` ({origin})"),
                                });
                            }
                        }
                        Place::Output | Place::ModuleInput(_) => {}
                    }
                    return Some(Resolved::Expr(expr));
                }
                if self.declared_params.contains(name) {
                    // Declared, but it has no value because of an error already reported.
                    return None;
                }
                let help = hint(name, &self.declared_params).unwrap_or_else(|| {
                    format!("declare it under `params:` (e.g. `{name}: {{ type: string }}`)")
                });
                self.error(
                    pos,
                    format!("unknown param `{name}` in `{written}`"),
                    Some(help),
                );
                None
            }
            "stack" | "aws" => {
                let full = format!("{head}.{name}");
                if full == "stack.name" {
                    return Some(Resolved::Value(Value::String(self.stack_name.clone())));
                }
                if !BUILTINS.contains(&full.as_str()) {
                    let help = hint(&full, BUILTINS.iter().copied())
                        .unwrap_or_else(|| format!("the built-ins are {}", list_names(BUILTINS)));
                    self.error(pos, format!("unknown built-in `{written}`"), Some(help));
                    return None;
                }
                if let Place::StackTags = place {
                    self.error(
                        pos,
                        format!("`{written}` cannot be used in the stack's `tags`"),
                        Some("stack tags are resolved before strata talks to AWS; use it in a resource's own `tags` instead".into()),
                    );
                    return None;
                }
                Some(Resolved::Ref(Reference::Builtin { name: full }))
            }
            _ => self.resolve_resource(head, name, written, place, pos),
        }
    }

    fn resolve_resource(
        &mut self,
        address: &str,
        attr: &str,
        written: &str,
        place: &Place,
        pos: Pos,
    ) -> Option<Resolved> {
        if let Place::StackTags = place {
            self.error(
                pos,
                format!("`{written}` cannot be used in the stack's `tags`"),
                Some("stack tags apply to every resource, so they cannot depend on one; put it in a resource's own `tags`".into()),
            );
            return None;
        }
        if self.modules.contains_key(address) {
            return self.resolve_output(address, attr, written, place, pos);
        }
        let Some(schema) = self.resource_types.get(address).copied() else {
            let mut candidates: Vec<String> = self.resource_types.keys().cloned().collect();
            candidates.extend(self.modules.keys().cloned());
            candidates.extend(["params", "stack", "aws"].map(String::from));
            let help = match did_you_mean(address, &candidates) {
                Some(c) => format!("did you mean `${{{c}.{attr}}}`?"),
                None if self.resource_types.is_empty() => {
                    "this stack declares no resources".to_string()
                }
                None => format!(
                    "the stack's resources are {}",
                    list_names(&self.resource_types.keys().collect::<Vec<_>>())
                ),
            };
            let help = match (&help, self.modules.is_empty()) {
                (h, false) if !h.starts_with("did you mean") => format!(
                    "{h}; its modules are {}",
                    list_names(&self.modules.keys().collect::<Vec<_>>())
                ),
                _ => help,
            };
            self.error(
                pos,
                format!("unknown resource `{address}` in `{written}`"),
                Some(help),
            );
            return None;
        };
        if let Place::Resource(me) = place {
            if *me == address {
                self.error(
                    pos,
                    format!("resource `{address}` references itself in `{written}`"),
                    Some(
                        "a resource cannot use its own attributes; use the value itself or a param"
                            .into(),
                    ),
                );
                return None;
            }
        }
        if let Some(schema) = schema {
            if !schema.has_attr(attr) {
                let names = schema.attr_names();
                let help = hint(attr, names.iter().copied())
                    .unwrap_or_else(|| format!("{} has {}", schema.type_name, list_names(&names)));
                self.error(
                    pos,
                    format!(
                        "unknown attribute `{attr}` of resource `{address}` ({})",
                        schema.type_name
                    ),
                    Some(help),
                );
                return None;
            }
        }
        let full = self.qualify(address);
        if let Place::Resource(_) = place {
            self.edges.push(Edge {
                to: full.clone(),
                pos,
                via: format!("`{written}`"),
            });
        }
        Some(Resolved::Ref(Reference::Resource {
            address: full,
            attr: attr.to_string(),
        }))
    }

    /// `${MODULE.OUTPUT}`: the output's expression, which references the module's resources by
    /// their full addresses. Only outputs are visible outside a module.
    fn resolve_output(
        &mut self,
        module: &str,
        output: &str,
        written: &str,
        place: &Place,
        pos: Pos,
    ) -> Option<Resolved> {
        if let Place::ModuleInput(me) = place {
            if *me == module {
                self.error(
                    pos,
                    format!("module `{module}` uses its own output in its `inputs`: `{written}`"),
                    Some("a module's inputs must be known before its resources; pass the value itself".into()),
                );
                return None;
            }
        }
        let full = self.qualify(module);
        let outputs = match self.modules.get(module) {
            Some(Instance::Loaded { outputs, .. }) => outputs,
            // Its errors are reported where they are.
            _ => return None,
        };
        let Some(expr) = outputs.get(output).cloned() else {
            let names: Vec<&str> = outputs.keys().map(String::as_str).collect();
            let listed = if names.is_empty() {
                "none".to_string()
            } else {
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let help = hint(output, names.iter().copied()).unwrap_or_else(|| {
                format!(
                    "to use something else from inside the module, add it to the module's `outputs:` (e.g. `{output}: \"${{RESOURCE.ATTRIBUTE}}\"`)"
                )
            });
            self.error(
                pos,
                format!(
                    "`{written}`: only outputs of module `{full}` can be referenced; it has: {listed}"
                ),
                Some(help),
            );
            return None;
        };
        if let Place::Resource(_) = place {
            for to in expr.resource_addresses() {
                self.edges.push(Edge {
                    to,
                    pos,
                    via: format!("`{written}`"),
                });
            }
        }
        Some(Resolved::Expr(expr))
    }
}

/// Adds a spliced expression's pieces to a joined string; `false` for a list or mapping, which
/// cannot be joined. A sensitive expression makes the whole string sensitive.
fn splice(pieces: &mut Vec<Piece>, expr: Expr, sensitive: &mut bool) -> bool {
    match expr {
        Expr::Value { value } => match value {
            Value::List(_) | Value::Map(_) => false,
            Value::Sensitive(inner) => {
                *sensitive = true;
                splice(pieces, Expr::Value { value: *inner }, sensitive)
            }
            other => {
                push_text(pieces, &plain_text(&other));
                true
            }
        },
        Expr::Ref { reference } => {
            pieces.push(Piece::Ref { reference });
            true
        }
        Expr::Concat { pieces: inner } => {
            for piece in inner {
                match piece {
                    Piece::Text { text } => push_text(pieces, &text),
                    reference @ Piece::Ref { .. } => pieces.push(reference),
                }
            }
            true
        }
        Expr::Sensitive { inner } => {
            *sensitive = true;
            splice(pieces, *inner, sensitive)
        }
        Expr::List { .. } | Expr::Map { .. } => false,
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text { text: last }) = pieces.last_mut() {
        last.push_str(text);
    } else {
        pieces.push(Piece::Text {
            text: text.to_string(),
        });
    }
}

/// How a known value reads when joined into a string (as [`Expr::eval`] joins them).
pub(crate) fn plain_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_json().to_string(),
    }
}

/// A list: a plain value when every item is known.
pub(crate) fn list_expr(items: Vec<Expr>) -> Expr {
    if items.iter().all(|i| matches!(i, Expr::Value { .. })) {
        let values = items
            .into_iter()
            .filter_map(|i| match i {
                Expr::Value { value } => Some(value),
                _ => None,
            })
            .collect();
        Expr::Value {
            value: Value::List(values),
        }
    } else {
        Expr::List { items }
    }
}

/// A mapping: a plain value when every entry is known.
pub(crate) fn map_expr(entries: BTreeMap<String, Expr>) -> Expr {
    if entries.values().all(|e| matches!(e, Expr::Value { .. })) {
        let values = entries
            .into_iter()
            .filter_map(|(k, e)| match e {
                Expr::Value { value } => Some((k, value)),
                _ => None,
            })
            .collect();
        Expr::Value {
            value: Value::Map(values),
        }
    } else {
        Expr::Map { entries }
    }
}
