//! The grammar of an expression body, as a Pratt parser over [`lexer`](super::lexer) tokens.
//!
//! ```text
//! expr     = or ( "?" expr ":" expr )?
//! or       = and ( "||" and )*
//! and      = eq ( "&&" eq )*
//! eq       = cmp ( ("==" | "!=") cmp )*
//! cmp      = add ( ("<" | "<=" | ">" | ">=") add )*
//! add      = mul ( ("+" | "-") mul )*
//! mul      = unary ( ("*" | "/" | "%") unary )*
//! unary    = ("!" | "-") unary | postfix
//! postfix  = primary ( "." NAME | "[" expr "]" | "[" "*" "]" )*
//! primary  = NUMBER | STRING | true | false | null | NAME | NAME "(" args ")"
//!          | "(" expr ")" | "[" items "]" | "{" (key ("=" | ":") expr ","?)* "}"
//! ```

use crate::value::Value;

use super::ast::{BinOp, UnOp};
use super::lexer::{lex, Tok, Token};
use super::{LangError, Span};

/// An expression as written: names are not resolved yet.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Syn {
    pub kind: SynKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SynKind {
    Literal(Value),
    List(Vec<Syn>),
    /// Keys and where they are written.
    Map(Vec<(String, Span, Syn)>),
    Name(String),
    /// `target.name`; the span of `name`.
    Attr(Box<Syn>, String, Span),
    Index(Box<Syn>, Box<Syn>),
    Splat(Box<Syn>),
    Unary(UnOp, Box<Syn>),
    Binary(BinOp, Box<Syn>, Box<Syn>),
    Cond(Box<Syn>, Box<Syn>, Box<Syn>),
    /// `name(args)`; the span of `name`.
    Call(String, Span, Vec<Syn>),
}

/// Parses the body of one `${...}` (`chars`, starting at offset `base` of its string).
pub(crate) fn parse(chars: &[char], base: usize) -> Result<Syn, LangError> {
    let tokens = lex(chars, base)?;
    if tokens.len() == 1 {
        return Err(LangError::new(
            Span::new(base.saturating_sub(2), chars.len() + 3),
            "empty expression `${}`",
        )
        .help(FORMS));
    }
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.expr()?;
    let next = parser.peek();
    if next.tok != Tok::End {
        return Err(LangError::new(
            next.span,
            format!(
                "unexpected {} after a complete expression",
                describe(&next.tok)
            ),
        )
        .help("an expression is one value: join values with an operator or a function"));
    }
    Ok(expr)
}

/// Every root name the expression uses (`net` in `net.vpc_id`), in order.
pub(crate) fn root_names(syn: &Syn, out: &mut Vec<String>) {
    match &syn.kind {
        SynKind::Literal(_) => {}
        SynKind::Name(name) => out.push(name.clone()),
        SynKind::List(items) => items.iter().for_each(|i| root_names(i, out)),
        SynKind::Call(_, _, args) => args.iter().for_each(|i| root_names(i, out)),
        SynKind::Map(entries) => entries.iter().for_each(|(_, _, v)| root_names(v, out)),
        SynKind::Attr(t, _, _) | SynKind::Splat(t) | SynKind::Unary(_, t) => root_names(t, out),
        SynKind::Index(a, b) | SynKind::Binary(_, a, b) => {
            root_names(a, out);
            root_names(b, out);
        }
        SynKind::Cond(a, b, c) => {
            root_names(a, out);
            root_names(b, out);
            root_names(c, out);
        }
    }
}

/// What a person may write, for help lines.
pub(crate) const FORMS: &str = "expressions look like `${params.NAME}`, `${RESOURCE.ATTRIBUTE}`, \
     `${locals.NAME}`, `${aws.region}`, `${format(\"%s-x\", params.env)}` or `${a == b ? 1 : 2}`";

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Number(n) => format!("number `{n}`"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Ident(name) => format!("name `{name}`"),
        Tok::Punct(p) => format!("`{p}`"),
        Tok::End => "end of expression".into(),
    }
}

fn binop(tok: &Tok) -> Option<(BinOp, u8)> {
    let Tok::Punct(p) = tok else { return None };
    Some(match *p {
        "||" => (BinOp::Or, 1),
        "&&" => (BinOp::And, 2),
        "==" => (BinOp::Eq, 3),
        "!=" => (BinOp::Ne, 3),
        "<" => (BinOp::Lt, 4),
        "<=" => (BinOp::Le, 4),
        ">" => (BinOp::Gt, 4),
        ">=" => (BinOp::Ge, 4),
        "+" => (BinOp::Add, 5),
        "-" => (BinOp::Sub, 5),
        "*" => (BinOp::Mul, 6),
        "/" => (BinOp::Div, 6),
        "%" => (BinOp::Rem, 6),
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[self.at.min(last)]
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn is(&self, p: &str) -> bool {
        matches!(&self.peek().tok, Tok::Punct(q) if *q == p)
    }

    fn expect(&mut self, p: &str, what: &str) -> Result<Span, LangError> {
        if self.is(p) {
            return Ok(self.next().span);
        }
        let next = self.peek();
        Err(LangError::new(
            next.span,
            format!("expected `{p}` {what}, found {}", describe(&next.tok)),
        ))
    }

    fn expr(&mut self) -> Result<Syn, LangError> {
        let cond = self.binary(1)?;
        if !self.is("?") {
            return Ok(cond);
        }
        self.next();
        let then = self.expr()?;
        self.expect(":", "between the two results of `cond ? a : b`")?;
        let otherwise = self.expr()?;
        let span = cond.span.to(otherwise.span);
        Ok(Syn {
            kind: SynKind::Cond(Box::new(cond), Box::new(then), Box::new(otherwise)),
            span,
        })
    }

    fn binary(&mut self, min: u8) -> Result<Syn, LangError> {
        let mut left = self.unary()?;
        while let Some((op, prec)) = binop(&self.peek().tok) {
            if prec < min {
                break;
            }
            self.next();
            let right = self.binary(prec + 1)?;
            let span = left.span.to(right.span);
            left = Syn {
                kind: SynKind::Binary(op, Box::new(left), Box::new(right)),
                span,
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Syn, LangError> {
        let op = if self.is("!") {
            Some(UnOp::Not)
        } else if self.is("-") {
            Some(UnOp::Neg)
        } else {
            None
        };
        let Some(op) = op else {
            return self.postfix();
        };
        let start = self.next().span;
        let operand = self.unary()?;
        let span = start.to(operand.span);
        Ok(Syn {
            kind: SynKind::Unary(op, Box::new(operand)),
            span,
        })
    }

    fn postfix(&mut self) -> Result<Syn, LangError> {
        let mut target = self.primary()?;
        loop {
            if self.is(".") {
                self.next();
                let token = self.next();
                let name = match token.tok {
                    Tok::Ident(name) => name,
                    Tok::Number(n) if n.is_u64() => n.to_string(),
                    Tok::Punct("*") => {
                        let span = target.span.to(token.span);
                        target = Syn {
                            kind: SynKind::Splat(Box::new(target)),
                            span,
                        };
                        continue;
                    }
                    other => {
                        return Err(LangError::new(
                            token.span,
                            format!("expected a name after `.`, found {}", describe(&other)),
                        ))
                    }
                };
                let span = target.span.to(token.span);
                target = Syn {
                    kind: SynKind::Attr(Box::new(target), name, token.span),
                    span,
                };
            } else if self.is("[") {
                self.next();
                if self.is("*") {
                    self.next();
                    let end = self.expect("]", "to close `[*`")?;
                    let span = target.span.to(end);
                    target = Syn {
                        kind: SynKind::Splat(Box::new(target)),
                        span,
                    };
                    continue;
                }
                let key = self.expr()?;
                let end = self.expect("]", "to close the index")?;
                let span = target.span.to(end);
                target = Syn {
                    kind: SynKind::Index(Box::new(target), Box::new(key)),
                    span,
                };
            } else {
                return Ok(target);
            }
        }
    }

    fn primary(&mut self) -> Result<Syn, LangError> {
        let token = self.next();
        let span = token.span;
        let kind = match token.tok {
            Tok::Number(n) => SynKind::Literal(Value::Number(n)),
            Tok::Str(s) => SynKind::Literal(Value::String(s)),
            Tok::Ident(name) => match name.as_str() {
                "true" => SynKind::Literal(Value::Bool(true)),
                "false" => SynKind::Literal(Value::Bool(false)),
                "null" => SynKind::Literal(Value::Null),
                _ if self.is("(") => {
                    self.next();
                    let (args, end) = self.items(")", "to close the call's arguments")?;
                    return Ok(Syn {
                        kind: SynKind::Call(name, span, args),
                        span: span.to(end),
                    });
                }
                _ => SynKind::Name(name),
            },
            Tok::Punct("(") => {
                let inner = self.expr()?;
                let end = self.expect(")", "to close `(`")?;
                return Ok(Syn {
                    kind: inner.kind,
                    span: span.to(end),
                });
            }
            Tok::Punct("[") => {
                let (items, end) = self.items("]", "to close the list")?;
                return Ok(Syn {
                    kind: SynKind::List(items),
                    span: span.to(end),
                });
            }
            Tok::Punct("{") => return self.map(span),
            other => {
                let mut error = LangError::new(
                    span,
                    format!("expected a value, found {}", describe(&other)),
                );
                if other == Tok::End {
                    error = error.help("the expression ends too early");
                }
                return Err(error);
            }
        };
        Ok(Syn { kind, span })
    }

    /// Comma-separated expressions up to `close` (a trailing comma is allowed).
    fn items(&mut self, close: &str, what: &str) -> Result<(Vec<Syn>, Span), LangError> {
        let mut items = Vec::new();
        loop {
            if self.is(close) {
                return Ok((items, self.next().span));
            }
            items.push(self.expr()?);
            if !self.is(",") {
                let end = self.expect(close, what)?;
                return Ok((items, end));
            }
            self.next();
        }
    }

    fn map(&mut self, open: Span) -> Result<Syn, LangError> {
        let mut entries = Vec::new();
        loop {
            if self.is("}") {
                let end = self.next().span;
                return Ok(Syn {
                    kind: SynKind::Map(entries),
                    span: open.to(end),
                });
            }
            let token = self.next();
            let key = match token.tok {
                Tok::Ident(name) => name,
                Tok::Str(s) => s,
                other => {
                    return Err(LangError::new(
                        token.span,
                        format!("expected a key of the mapping, found {}", describe(&other)),
                    )
                    .help("write `{ name = value }` or `{ \"name\": value }`"))
                }
            };
            if self.is("=") || self.is(":") {
                self.next();
            } else {
                self.expect("=", "after the mapping's key")?;
            }
            let value = self.expr()?;
            entries.push((key, token.span, value));
            if self.is(",") {
                self.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(syn: &Syn) -> String {
        match &syn.kind {
            SynKind::Literal(v) => v.to_json().to_string(),
            SynKind::List(items) => format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            SynKind::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, _, v)| format!("{k}={}", show(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SynKind::Name(n) => n.clone(),
            SynKind::Attr(t, n, _) => format!("{}.{n}", show(t)),
            SynKind::Index(t, k) => format!("{}[{}]", show(t), show(k)),
            SynKind::Splat(t) => format!("{}[*]", show(t)),
            SynKind::Unary(op, e) => format!("({op:?} {})", show(e)),
            SynKind::Binary(op, l, r) => format!("({} {op:?} {})", show(l), show(r)),
            SynKind::Cond(c, a, b) => format!("({} ? {} : {})", show(c), show(a), show(b)),
            SynKind::Call(n, _, args) => format!(
                "{n}({})",
                args.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    fn parsed(text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        show(&parse(&chars, 0).expect("parses"))
    }

    fn error(text: &str) -> LangError {
        let chars: Vec<char> = text.chars().collect();
        parse(&chars, 0).expect_err("fails")
    }

    #[test]
    fn precedence_follows_terraform() {
        assert_eq!(parsed("1 + 2 * 3"), "(1 Add (2 Mul 3))");
        assert_eq!(parsed("a || b && !c == d"), "(a Or (b And ((Not c) Eq d)))");
        assert_eq!(parsed("-x % 2 < 1 - 3"), "(((Neg x) Rem 2) Lt (1 Sub 3))");
        assert_eq!(parsed("a ? b : c ? d : e"), "(a ? b : (c ? d : e))");
        assert_eq!(parsed("(1 + 2) * 3"), "((1 Add 2) Mul 3)");
    }

    #[test]
    fn references_indexes_calls_lists_and_maps() {
        assert_eq!(
            parsed(r#"format("%s-%d", m["k"].x[0], length([1, 2,]))"#),
            r#"format("%s-%d", m["k"].x[0], length([1, 2]))"#
        );
        assert_eq!(parsed(r#"{ a = 1, "b": true }"#), "{a=1, b=true}");
        assert_eq!(parsed("r[*].arn"), "r[*].arn");
    }

    #[test]
    fn syntax_errors_point_at_the_offending_token() {
        assert_eq!(error("a +").span, Span::new(3, 1));
        assert_eq!(error("f(1 2)").span, Span::new(4, 1));
        assert_eq!(error("a b").span, Span::new(2, 1));
        assert_eq!(error("[1, 2").span.start, 5);
        assert!(error("x ? 1").message.contains("expected `:`"));
    }
}
