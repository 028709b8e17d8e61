//! From [`Syn`] to [`Ast`]: names resolved by the caller, function names and arities checked.

use std::collections::BTreeMap;

use crate::suggest::did_you_mean;
use crate::value::Value;

use super::ast::Ast;
use super::functions;
use super::parser::{Syn, SynKind};
use super::{LangError, Span};

/// What a caller says about the names of an expression.
pub(crate) trait Names {
    /// The value of a reference that starts with `root` (written at `root_span`); `attr` is the
    /// name after the first dot, if any. Returns the value and whether it used `attr`.
    /// `Err(None)`: an error already reported.
    fn resolve(
        &mut self,
        root: &str,
        attr: Option<(&str, Span)>,
        span: Span,
    ) -> Result<(Ast, bool), Option<LangError>>;

    /// Whether `templatefile` may be called (not inside a template).
    fn allows_templatefile(&self) -> bool {
        true
    }

    /// Whether `root.NAME.ATTR` reads something from outside the stack (`lookups`,
    /// `stack_refs`), whose attributes [`Names::read_attr`] checks.
    fn reads(&self, _root: &str) -> bool {
        false
    }

    /// `root.name.attr` of a lookup or stack reference.
    fn read_attr(
        &mut self,
        root: &str,
        name: &str,
        attr: &str,
        span: Span,
    ) -> Result<Ast, Option<LangError>> {
        let _ = (root, name, attr);
        Err(Some(LangError::new(span, "nothing is read here")))
    }

    /// Whether `root` names a resource with `count` or `for_each`, whose instances are picked
    /// by index (`root[0].attr`, `root["key"].attr`, `root[*].attr`).
    fn repeated(&mut self, _root: &str) -> bool {
        false
    }

    /// `root[key].attr` with the key known: that instance's attribute.
    fn instance(
        &mut self,
        root: &str,
        key: &Value,
        key_span: Span,
        attr: (&str, Span),
        span: Span,
    ) -> Result<Ast, Option<LangError>> {
        let _ = (root, key, key_span, attr);
        Err(Some(LangError::new(span, "not an instance of a resource")))
    }

    /// `attr` of every instance of `root`: a list in key order (`by_key` false, for `[*]`), or
    /// what an index picks from (a list for `count`, a mapping by key for `for_each`).
    fn instances(
        &mut self,
        root: &str,
        attr: (&str, Span),
        by_key: bool,
        span: Span,
    ) -> Result<Ast, Option<LangError>> {
        let _ = (root, attr, by_key);
        Err(Some(LangError::new(span, "not a resource with instances")))
    }
}

/// Resolves `syn`. `Err(None)` when the only errors were reported by `names` already.
pub(crate) fn lower(syn: Syn, names: &mut dyn Names) -> Result<Ast, Option<LangError>> {
    let span = syn.span;
    Ok(match syn.kind {
        SynKind::Literal(value) => Ast::Value { value },
        SynKind::List(items) => Ast::List {
            items: items
                .into_iter()
                .map(|i| lower(i, names))
                .collect::<Result<_, _>>()?,
        },
        SynKind::Map(entries) => {
            let mut out = BTreeMap::new();
            for (key, key_span, value) in entries {
                if out.contains_key(&key) {
                    return Err(Some(LangError::new(
                        key_span,
                        format!("the key \"{key}\" is given twice"),
                    )));
                }
                out.insert(key, lower(value, names)?);
            }
            Ast::Map { entries: out }
        }
        SynKind::Name(root) => names.resolve(&root, None, span)?.0,
        SynKind::Attr(target, name, name_span) => {
            if let Some(ast) = instance_attr(&target, &name, name_span, span, names)? {
                return Ok(ast);
            }
            if let SynKind::Attr(inner, first, _) = &target.kind {
                if let SynKind::Name(root) = &inner.kind {
                    if names.reads(root) {
                        return names.read_attr(root, first, &name, span);
                    }
                }
            }
            if let SynKind::Name(root) = &target.kind {
                let (ast, used) = names.resolve(root, Some((&name, name_span)), span)?;
                if used {
                    return Ok(ast);
                }
                attr(ast, name, name_span, span)
            } else {
                let target = lower(*target, names)?;
                attr(target, name, name_span, span)
            }
        }
        SynKind::Index(target, key) => Ast::Index {
            target: Box::new(lower(*target, names)?),
            key: Box::new(lower(*key, names)?),
            span,
        },
        SynKind::Splat(_) => {
            return Err(Some(
                LangError::new(span, "`[*]` is followed by an attribute").help(
                    "write `RESOURCE[*].ATTRIBUTE`, for a resource with `count` or `for_each`",
                ),
            ))
        }
        SynKind::Unary(op, operand) => Ast::Unary {
            op,
            operand: Box::new(lower(*operand, names)?),
            span,
        },
        SynKind::Binary(op, left, right) => Ast::Binary {
            op,
            left: Box::new(lower(*left, names)?),
            right: Box::new(lower(*right, names)?),
            span,
        },
        SynKind::Cond(cond, then, otherwise) => Ast::Cond {
            cond: Box::new(lower(*cond, names)?),
            then: Box::new(lower(*then, names)?),
            otherwise: Box::new(lower(*otherwise, names)?),
            span,
        },
        SynKind::Call(name, name_span, args) => {
            let Some(function) = functions::lookup(&name) else {
                let all: Vec<&str> = functions::names().collect();
                let help = match did_you_mean(&name, &all) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => "see the functions listed in SPEC §9 (strings, collections, numbers, encoding, files, hashing, networks, types)".into(),
                };
                return Err(Some(
                    LangError::new(name_span, format!("unknown function `{name}`")).help(help),
                ));
            };
            if name == "templatefile" && !names.allows_templatefile() {
                return Err(Some(LangError::new(
                    name_span,
                    "`templatefile` cannot be called from inside a template",
                )));
            }
            if let Some(error) = functions::arity_error(function, args.len(), span) {
                return Err(Some(error));
            }
            let arg_spans = args.iter().map(|a| a.span).collect();
            Ast::Call {
                name,
                args: args
                    .into_iter()
                    .map(|a| lower(a, names))
                    .collect::<Result<_, _>>()?,
                arg_spans,
                span,
            }
        }
    })
}

/// `RES[key].attr` and `RES[*].attr` of a resource with `count` or `for_each`: one
/// instance's attribute when the key is known now, else every instance's, indexed when the key
/// is known; `None` when `target` is something else.
fn instance_attr(
    target: &Syn,
    attr: &str,
    attr_span: Span,
    span: Span,
    names: &mut dyn Names,
) -> Result<Option<Ast>, Option<LangError>> {
    let (inner, key) = match &target.kind {
        SynKind::Index(inner, key) => (inner, Some(key)),
        SynKind::Splat(inner) => (inner, None),
        _ => return Ok(None),
    };
    let SynKind::Name(root) = &inner.kind else {
        return Ok(None);
    };
    if !names.repeated(root) {
        if key.is_none() {
            return Err(Some(
                LangError::new(
                    target.span,
                    format!("`{root}[*]`: `{root}` has no instances"),
                )
                .help("`[*]` lists the instances of a resource with `count` or `for_each`"),
            ));
        }
        return Ok(None);
    }
    let Some(key) = key else {
        return names
            .instances(root, (attr, attr_span), false, span)
            .map(Some);
    };
    let key_span = key.span;
    match lower((**key).clone(), names)? {
        Ast::Value { value } if !value.has_unknown() => names
            .instance(root, &value, key_span, (attr, attr_span), span)
            .map(Some),
        key => {
            let all = names.instances(root, (attr, attr_span), true, span)?;
            Ok(Some(Ast::Index {
                target: Box::new(all),
                key: Box::new(key),
                span,
            }))
        }
    }
}

/// `target.name` on a value: an index by the name.
fn attr(target: Ast, name: String, name_span: Span, span: Span) -> Ast {
    let key = match name.parse::<i64>() {
        Ok(i) => crate::value::Value::int(i),
        Err(_) => crate::value::Value::String(name),
    };
    let _ = name_span;
    Ast::Index {
        target: Box::new(target),
        key: Box::new(Ast::Value { value: key }),
        span,
    }
}
