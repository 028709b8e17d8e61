//! File functions: read through the caller's [`FileContext`], relative to the file that calls
//! them and never outside the stack's (or module's) directory.

use base64::Engine;

use crate::value::Value;

use super::args::text;
use super::context::FileContext;

type Out = Result<Value, String>;

fn ctx(files: Option<&FileContext>) -> Result<&FileContext, String> {
    files.ok_or_else(|| {
        "file functions read when the stack is loaded: their arguments must not depend on a resource".to_string()
    })
}

pub(super) fn file(args: Vec<Value>, files: Option<&FileContext>) -> Out {
    ctx(files)?.text(text(&args, 0)).map(Value::String)
}

pub(super) fn filebase64(args: Vec<Value>, files: Option<&FileContext>) -> Out {
    let bytes = ctx(files)?.read(text(&args, 0))?;
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

pub(super) fn filesha256(args: Vec<Value>, files: Option<&FileContext>) -> Out {
    let bytes = ctx(files)?.read(text(&args, 0))?;
    Ok(Value::String(files::digest::sha256_hex(&bytes)))
}

pub(super) fn filebase64sha256(args: Vec<Value>, files: Option<&FileContext>) -> Out {
    use sha2::Digest;
    let bytes = ctx(files)?.read(text(&args, 0))?;
    let digest = sha2::Sha256::digest(&bytes);
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(digest),
    ))
}

/// `templatefile(path, vars)`: the template's `${...}` with the given variables.
pub(super) fn templatefile(args: Vec<Value>, files: Option<&FileContext>) -> Out {
    let files = ctx(files)?;
    let path = text(&args, 0);
    let template = files.text(path)?;
    let vars = args
        .get(1)
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    (files.render)(path, &template, &vars, files).map(Value::String)
}

#[cfg(test)]
mod tests {
    use super::super::args::testing::*;
    use super::*;

    fn no_templates(
        _: &str,
        _: &str,
        _: &std::collections::BTreeMap<String, Value>,
        _: &FileContext,
    ) -> Result<String, String> {
        Err("no templates here".into())
    }

    fn setup() -> (tempfile::TempDir, FileContext) {
        let dir = tempfile::tempdir().expect("tempdir");
        let stack = dir.path().join("stack");
        std::fs::create_dir_all(&stack).expect("mkdir");
        std::fs::write(stack.join("hello.txt"), "hello").expect("write");
        std::fs::write(dir.path().join("secret.txt"), "nope").expect("write");
        let ctx = FileContext::new(&stack, no_templates);
        (dir, ctx)
    }

    #[test]
    fn files_are_read_relative_to_the_caller() {
        let (_dir, ctx) = setup();
        let c = Some(&ctx);
        assert_eq!(file(vec![s("hello.txt")], c), Ok(s("hello")));
        assert_eq!(filebase64(vec![s("hello.txt")], c), Ok(s("aGVsbG8=")));
        assert_eq!(
            filesha256(vec![s("hello.txt")], c),
            Ok(s(
                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            ))
        );
        assert_eq!(
            filebase64sha256(vec![s("hello.txt")], c),
            Ok(s("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="))
        );
        assert_eq!(ctx.read.borrow().len(), 4);
        assert!(file(vec![s("missing.txt")], c)
            .expect_err("missing")
            .contains("cannot read"));
    }

    #[test]
    fn files_outside_the_stack_directory_are_refused() {
        let (_dir, ctx) = setup();
        let error = file(vec![s("../secret.txt")], Some(&ctx)).expect_err("outside");
        assert!(error.contains("outside the stack's directory"), "{error}");
    }

    #[test]
    fn file_functions_need_the_load_time_context() {
        assert!(run(file, vec![s("hello.txt")])
            .expect_err("no context")
            .contains("loaded"));
    }
}
