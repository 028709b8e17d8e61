//! Tokens of an expression body, each with its character offset in the enclosing string.

use super::{LangError, Span};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Number(serde_json::Number),
    Str(String),
    Ident(String),
    Punct(&'static str),
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Two-character operators first, so `==` is never read as `=` `=`.
const PUNCTS: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",",
    "(", ")", "[", "]", "{", "}", "=",
];

/// The tokens of `chars`, whose first character sits at offset `base` of the enclosing string.
pub(crate) fn lex(chars: &[char], base: usize) -> Result<Vec<Token>, LangError> {
    let mut out = Vec::new();
    let mut i = 0;
    let at = |start: usize, len: usize| Span::new(base + start, len);
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let mut float = false;
            if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
                float = true;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    float = true;
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let number = if float {
                text.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
            } else {
                text.parse::<i64>()
                    .ok()
                    .map(serde_json::Number::from)
                    .or_else(|| {
                        text.parse::<f64>()
                            .ok()
                            .and_then(serde_json::Number::from_f64)
                    })
            };
            let Some(number) = number else {
                return Err(LangError::new(
                    at(start, i - start),
                    format!("`{text}` is not a number"),
                ));
            };
            out.push(Token {
                tok: Tok::Number(number),
                span: at(start, i - start),
            });
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '-')
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(chars[start..i].iter().collect()),
                span: at(start, i - start),
            });
            continue;
        }
        if c == '"' {
            let (text, end) = string(chars, i, base)?;
            out.push(Token {
                tok: Tok::Str(text),
                span: at(i, end - i),
            });
            i = end;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => {
                out.push(Token {
                    tok: Tok::Punct(p),
                    span: at(i, p.len()),
                });
                i += p.len();
            }
            None => {
                let mut error = LangError::new(at(i, 1), format!("unexpected character `{c}`"));
                if c == '\'' {
                    error =
                        error.help("strings inside `${}` are written in double quotes: \"text\"");
                }
                return Err(error);
            }
        }
    }
    out.push(Token {
        tok: Tok::End,
        span: at(chars.len(), 1),
    });
    Ok(out)
}

/// A double-quoted string starting at `chars[open]`: its text and the index after the closing
/// quote. Escapes: `\n \r \t \" \\ \uNNNN \UNNNNNNNN`.
fn string(chars: &[char], open: usize, base: usize) -> Result<(String, usize), LangError> {
    let mut text = String::new();
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((text, i + 1)),
            '\\' => {
                let Some(&e) = chars.get(i + 1) else { break };
                let simple = match e {
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    _ => None,
                };
                if let Some(s) = simple {
                    text.push(s);
                    i += 2;
                    continue;
                }
                let digits = match e {
                    'u' => 4,
                    'U' => 8,
                    _ => {
                        return Err(LangError::new(
                            Span::new(base + i, 2),
                            format!("unknown escape `\\{e}` in a string"),
                        )
                        .help("the escapes are \\n \\r \\t \\\" \\\\ \\uNNNN and \\UNNNNNNNN"))
                    }
                };
                let hex: String = chars.iter().skip(i + 2).take(digits).collect();
                let decoded = (hex.chars().count() == digits)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32);
                let Some(ch) = decoded else {
                    return Err(LangError::new(
                        Span::new(base + i, 2 + digits),
                        format!("`\\{e}` must be followed by {digits} hexadecimal digits of a character"),
                    ));
                };
                text.push(ch);
                i += 2 + digits;
            }
            '$' if chars.get(i + 1) == Some(&'{') => {
                return Err(LangError::new(
                    Span::new(base + i, 2),
                    "`${` inside a quoted string within an expression is not supported",
                )
                .help("build the text with `format(\"...%s...\", value)` instead"));
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err(LangError::new(
        Span::new(base + open, 1),
        "unclosed string: a `\"` is missing",
    )
    .help("close the string with `\"`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        let chars: Vec<char> = text.chars().collect();
        lex(&chars, 0)
            .expect("lexes")
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn operators_numbers_strings_and_names_are_told_apart() {
        assert_eq!(
            toks(r#"a.b >= 1.5 && "x\n\u00e9" != c-d"#),
            vec![
                Tok::Ident("a".into()),
                Tok::Punct("."),
                Tok::Ident("b".into()),
                Tok::Punct(">="),
                Tok::Number(serde_json::Number::from_f64(1.5).expect("finite")),
                Tok::Punct("&&"),
                Tok::Str("x\né".into()),
                Tok::Punct("!="),
                Tok::Ident("c-d".into()),
                Tok::End,
            ]
        );
    }

    #[test]
    fn a_bad_escape_and_an_unclosed_string_point_at_themselves() {
        let chars: Vec<char> = r#"1 + "a\qb""#.chars().collect();
        let error = lex(&chars, 10).expect_err("bad escape");
        assert_eq!(error.span, Span::new(16, 2));
        let chars: Vec<char> = r#"f("abc)"#.chars().collect();
        let error = lex(&chars, 0).expect_err("unclosed");
        assert_eq!(error.span.start, 2);
    }
}
