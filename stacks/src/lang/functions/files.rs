//! File functions: read relative to the file that calls them, and never outside the stack's
//! (or module's) directory, so a stack cannot read `~/.aws/credentials` by accident or design.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::value::Value;

use super::super::ast::{plain_text, Ast};
use super::super::parser;
use super::super::resolve::{lower, Names};
use super::super::template::{scan, Segment};
use super::super::{LangError, Span};
use super::{text, FileContext as Ctx};

type Out = Result<Value, String>;

/// Where file functions may read, and what they read (for a saved plan's fingerprint).
#[derive(Debug, Default)]
pub struct FileContext {
    /// The directory of the file holding the call: relative paths start here.
    pub dir: PathBuf,
    /// The stack's or module's directory: nothing outside it is read.
    pub root: PathBuf,
    /// Every file read so far.
    pub read: RefCell<Vec<PathBuf>>,
}

impl FileContext {
    pub fn new(dir: &Path) -> FileContext {
        FileContext {
            dir: dir.to_path_buf(),
            root: dir.to_path_buf(),
            read: RefCell::new(Vec::new()),
        }
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        let joined = self.dir.join(path);
        let full = joined
            .canonicalize()
            .map_err(|e| format!("cannot read `{path}` ({}): {e}", joined.display()))?;
        let root = self
            .root
            .canonicalize()
            .unwrap_or_else(|_| self.root.clone());
        if !full.starts_with(&root) {
            return Err(format!(
                "`{path}` is outside the stack's directory ({}); file functions read only files inside it",
                root.display()
            ));
        }
        let bytes = files::capped::read_capped(&full, files::capped::MAX_TEXT_FILE)
            .map_err(|e| format!("cannot read `{path}`: {e}"))?;
        self.read.borrow_mut().push(joined);
        Ok(bytes)
    }

    fn text(&self, path: &str) -> Result<String, String> {
        String::from_utf8(self.read(path)?)
            .map_err(|_| format!("`{path}` is not UTF-8 text; use `filebase64`"))
    }
}

fn ctx(files: Option<&Ctx>) -> Result<&Ctx, String> {
    files.ok_or_else(|| {
        "file functions read when the stack is loaded: their arguments must not depend on a resource".to_string()
    })
}

pub(super) fn file(args: Vec<Value>, files: Option<&Ctx>) -> Out {
    ctx(files)?.text(text(&args, 0)).map(Value::String)
}

pub(super) fn filebase64(args: Vec<Value>, files: Option<&Ctx>) -> Out {
    let bytes = ctx(files)?.read(text(&args, 0))?;
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

pub(super) fn filesha256(args: Vec<Value>, files: Option<&Ctx>) -> Out {
    let bytes = ctx(files)?.read(text(&args, 0))?;
    Ok(Value::String(files::digest::sha256_hex(&bytes)))
}

pub(super) fn filebase64sha256(args: Vec<Value>, files: Option<&Ctx>) -> Out {
    use sha2::Digest;
    let bytes = ctx(files)?.read(text(&args, 0))?;
    let digest = sha2::Sha256::digest(&bytes);
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(digest),
    ))
}

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

pub(super) fn templatefile(args: Vec<Value>, files: Option<&Ctx>) -> Out {
    let files = ctx(files)?;
    let path = text(&args, 0);
    let template = files.text(path)?;
    let vars = args[1].as_map().cloned().unwrap_or_default();
    let at = |span: Span| {
        let before: String = template.chars().take(span.start as usize).collect();
        let line = before.matches('\n').count() + 1;
        let column = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
        format!("{path}:{line}:{column}")
    };
    let (segments, errors) = scan(&template);
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
                let ast = lower(syn, &mut Vars(&vars))
                    .map_err(|e| e.map_or_else(|| "invalid template".to_string(), fail))?;
                let value = ast.fold(files).map_err(fail)?;
                let Ast::Value { value } = value else {
                    return Err(format!("{}: the value is not known", at(body.span)));
                };
                match value.unmarked() {
                    Value::List(_) | Value::Map(_) => return Err(format!(
                        "{}: a {} cannot be joined into the template's text; use `jsonencode(...)`",
                        at(body.span),
                        value.kind_name()
                    )),
                    other => out.push_str(&plain_text(&other)),
                }
            }
        }
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{call, FileContext};
    use crate::lang::Span;
    use crate::value::Value;

    fn run_in(ctx: &FileContext, name: &str, args: Vec<Value>) -> Result<Value, String> {
        let spans = vec![Span::default(); args.len()];
        call(name, args, &spans, Span::default(), Some(ctx)).map_err(|e| e.message)
    }

    fn setup() -> (tempfile::TempDir, FileContext) {
        let dir = tempfile::tempdir().expect("tempdir");
        let stack = dir.path().join("stack");
        std::fs::create_dir_all(&stack).expect("mkdir");
        std::fs::write(stack.join("hello.txt"), "hello").expect("write");
        std::fs::write(
            stack.join("greet.tpl"),
            "Hi ${name}, ${upper(env)}! ${length(zones)} zones; $${literal}",
        )
        .expect("write");
        std::fs::write(stack.join("bad.tpl"), "x\n  ${missing}").expect("write");
        std::fs::write(dir.path().join("secret.txt"), "nope").expect("write");
        let ctx = FileContext::new(&stack);
        (dir, ctx)
    }

    #[test]
    fn files_are_read_relative_to_the_caller() {
        let (_dir, ctx) = setup();
        assert_eq!(run_in(&ctx, "file", vec![s("hello.txt")]), Ok(s("hello")));
        assert_eq!(
            run_in(&ctx, "filebase64", vec![s("hello.txt")]),
            Ok(s("aGVsbG8="))
        );
        assert_eq!(
            run_in(&ctx, "filesha256", vec![s("hello.txt")]),
            Ok(s(
                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            ))
        );
        assert_eq!(
            run_in(&ctx, "filebase64sha256", vec![s("hello.txt")]),
            Ok(s("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="))
        );
        assert_eq!(ctx.read.borrow().len(), 4);
        assert!(run_in(&ctx, "file", vec![s("missing.txt")])
            .expect_err("missing")
            .contains("cannot read"));
    }

    #[test]
    fn files_outside_the_stack_directory_are_refused() {
        let (_dir, ctx) = setup();
        let error = run_in(&ctx, "file", vec![s("../secret.txt")]).expect_err("outside");
        assert!(error.contains("outside the stack's directory"), "{error}");
    }

    #[test]
    fn templatefile_fills_variables_and_names_a_missing_one() {
        let (_dir, ctx) = setup();
        let vars = Value::Map(
            [
                ("name".to_string(), s("Ada")),
                ("env".to_string(), s("prod")),
                ("zones".to_string(), l(&[s("a"), s("b")])),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(
            run_in(&ctx, "templatefile", vec![s("greet.tpl"), vars.clone()]),
            Ok(s("Hi Ada, PROD! 2 zones; ${literal}"))
        );
        let error =
            run_in(&ctx, "templatefile", vec![s("bad.tpl"), vars]).expect_err("missing var");
        assert!(error.contains("bad.tpl:2:5"), "{error}");
        assert!(error.contains("variable `missing` is not given"), "{error}");
        assert!(run("file", vec![s("hello.txt")])
            .expect_err("no context")
            .contains("loaded"));
    }
}
