//! The expression language inside `${...}`: lexer, parser, the resolved tree and its
//! evaluation, and the built-in functions of SPEC §9.
//!
//! The flow is one way. [`template::scan`] splits a string into text and `${...}` bodies;
//! [`parser::parse`] turns a body into a [`parser::Syn`] tree that still holds names as
//! written; the loader resolves those names (params, locals, resources, modules, built-ins)
//! into an [`Ast`], folds every part known at load time into a value (so a failing call is
//! reported by `strata validate`), and keeps the rest for the planner and the executor, which
//! evaluate it with [`Ast::eval`] once the referenced values are known.
//!
//! Every position is a character offset into the string the expression is written in, so the
//! loader can point at the exact column of the part that is wrong.

mod ast;
pub mod functions;
mod lexer;
pub(crate) mod parser;
pub(crate) mod resolve;
pub(crate) mod template;
pub(crate) mod templating;
mod values;

use serde::{Deserialize, Serialize};

pub use ast::{Ast, BinOp, UnOp};
pub use functions::context::FileContext;
pub use values::plain_text;

/// Where a part of an expression is written: character offsets into the string holding it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub(crate) fn new(start: usize, len: usize) -> Span {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(len.max(1)).unwrap_or(u32::MAX),
        }
    }

    /// The span from the start of `self` to the end of `other`.
    pub(crate) fn to(self, other: Span) -> Span {
        let end = (other.start + other.len).max(self.start + self.len);
        Span {
            start: self.start,
            len: end.saturating_sub(self.start).max(1),
        }
    }
}

/// An error in an expression: what is wrong, where, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LangError {
    pub message: String,
    pub help: Option<String>,
    pub span: Span,
}

impl LangError {
    pub(crate) fn new(span: Span, message: impl Into<String>) -> LangError {
        LangError {
            message: message.into(),
            help: None,
            span,
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> LangError {
        self.help = Some(help.into());
        self
    }
}
