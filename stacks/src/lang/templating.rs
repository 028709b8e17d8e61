//! Rendering a template of `templatefile`: its `${...}` read by the same parser, with the
//! given variables as the only names, evaluated at once. Errors name `template:line:column`.

use std::collections::BTreeMap;

use crate::value::Value;

use super::ast::Ast;
use super::functions::context::FileContext;
use super::parser;
use super::resolve::{lower, Names};
use super::template::{scan, Segment};
use super::values::plain_text;
use super::{LangError, Span};

/// Names in a template: its variables, nothing else.
struct Vars<'a>(&'a BTreeMap<String, Value>);

impl Names for Vars<'_> {
    fn resolve(
        &mut self,
        root: &str,
        _: Option<(&str, Span)>,
        span: Span,
    ) -> Result<(Ast, bool), Option<LangError>> {
        match self.0.get(root) {
            Some(value) => Ok((Ast::value(value.clone()), false)),
            None => {
                let given: Vec<String> = self.0.keys().map(|k| format!("`{k}`")).collect();
                Err(Some(LangError::new(
                    span,
                    format!(
                        "variable `{root}` is not given to the template (given: {})",
                        if given.is_empty() {
                            "none".into()
                        } else {
                            given.join(", ")
                        }
                    ),
                )))
            }
        }
    }

    fn allows_templatefile(&self) -> bool {
        false
    }
}

/// The text of template `path` with `vars`: what `templatefile` returns.
pub fn render(
    path: &str,
    template: &str,
    vars: &BTreeMap<String, Value>,
    files: &FileContext,
) -> Result<String, String> {
    let at = |span: Span| {
        let before: String = template.chars().take(span.start as usize).collect();
        let line = before.matches('\n').count() + 1;
        let column = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
        format!("{path}:{line}:{column}")
    };
    let (segments, errors) = scan(template);
    if let Some(e) = errors.first() {
        return Err(format!("{}: {}", at(e.span), e.message));
    }
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Text(t) => out.push_str(&t),
            Segment::Expr(body) => {
                let fail = |e: LangError| format!("{}: {}", at(e.span), e.message);
                let syn = parser::parse(&body.chars, body.start).map_err(fail)?;
                let ast = lower(syn, &mut Vars(vars))
                    .map_err(|e| e.map_or_else(|| "invalid template".to_string(), fail))?;
                let Ast::Value { value } = ast.fold(files).map_err(fail)? else {
                    return Err(format!("{}: the value is not known", at(body.span)));
                };
                match value.unmarked() {
                    Value::List(_) | Value::Map(_) => {
                        return Err(format!(
                        "{}: a {} cannot be joined into the template's text; use `jsonencode(...)`",
                        at(body.span),
                        value.kind_name()
                    ))
                    }
                    other => out.push_str(&plain_text(&other)),
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::functions;
    use super::*;

    #[test]
    fn templatefile_fills_variables_and_names_a_missing_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("greet.tpl"),
            "Hi ${name}, ${upper(env)}! ${length(zones)} zones; $${literal}",
        )
        .expect("write");
        std::fs::write(dir.path().join("bad.tpl"), "x\n  ${missing}").expect("write");
        std::fs::write(
            dir.path().join("nested.tpl"),
            "${templatefile(\"bad.tpl\", {})}",
        )
        .expect("write");
        let ctx = FileContext::new(dir.path(), render);
        let vars = Value::Map(
            [
                ("name".to_string(), Value::str("Ada")),
                ("env".to_string(), Value::str("prod")),
                (
                    "zones".to_string(),
                    Value::List(vec![Value::str("a"), Value::str("b")]),
                ),
            ]
            .into_iter()
            .collect(),
        );
        let call = |path: &str, vars: Value| {
            functions::call(
                "templatefile",
                vec![Value::str(path), vars],
                &[Span::default(), Span::default()],
                Span::default(),
                Some(&ctx),
            )
            .map_err(|e| e.message)
        };
        assert_eq!(
            call("greet.tpl", vars.clone()),
            Ok(Value::str("Hi Ada, PROD! 2 zones; ${literal}"))
        );
        let error = call("bad.tpl", vars.clone()).expect_err("missing var");
        assert!(error.contains("bad.tpl:2:5"), "{error}");
        assert!(error.contains("variable `missing` is not given"), "{error}");
        let error = call("nested.tpl", vars).expect_err("nested");
        assert!(
            error.contains("cannot be called from inside a template"),
            "{error}"
        );
    }
}
