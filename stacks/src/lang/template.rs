//! Splitting a string into text and `${...}` bodies. `$${` is a literal `${`; a body ends at
//! the `}` that closes it, so `${ {a = 1} }` and `${ "}" }` are read whole.

use super::{LangError, Span};

/// One piece of a string as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Text(String),
    Expr(Body),
}

/// The inside of one `${...}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Body {
    pub chars: Vec<char>,
    /// Offset of the body's first character in the string.
    pub start: usize,
    /// Where the whole `${...}` is written.
    pub span: Span,
}

impl Body {
    /// The expression as written, `${}` included.
    pub fn written(&self) -> String {
        format!("${{{}}}", self.chars.iter().collect::<String>())
    }
}

/// True when the string holds a `${` (an expression or an escaped `$${`).
pub(crate) fn has_dollar_brace(text: &str) -> bool {
    text.contains("${")
}

/// Splits `text` into text and expression bodies; an unclosed `${` is reported and kept as
/// text.
pub(crate) fn scan(text: &str) -> (Vec<Segment>, Vec<LangError>) {
    let chars: Vec<char> = text.chars().collect();
    let mut segments = Vec::new();
    let mut errors = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let here = chars[i];
        let next = chars.get(i + 1).copied();
        if here == '$' && next == Some('$') && chars.get(i + 2) == Some(&'{') {
            current.push_str("${");
            i += 3;
            continue;
        }
        if here == '$' && next == Some('{') {
            let Some(close) = closing_brace(&chars, i + 2) else {
                errors.push(
                    LangError::new(Span::new(i, 2), "unclosed `${`")
                        .help("close the expression with `}`, or write `$${` for a literal `${`"),
                );
                current.extend(&chars[i..]);
                break;
            };
            if !current.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut current)));
            }
            segments.push(Segment::Expr(Body {
                chars: chars[i + 2..close].to_vec(),
                start: i + 2,
                span: Span::new(i, close + 1 - i),
            }));
            i = close + 1;
            continue;
        }
        current.push(here);
        i += 1;
    }
    if !current.is_empty() {
        segments.push(Segment::Text(current));
    }
    (segments, errors)
}

/// The index of the `}` closing a body that starts at `from`, skipping nested braces and
/// quoted strings.
fn closing_brace(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(text: &str) -> Vec<String> {
        scan(text)
            .0
            .into_iter()
            .map(|s| match s {
                Segment::Text(t) => format!("T:{t}"),
                Segment::Expr(b) => format!("E:{}@{}", b.chars.iter().collect::<String>(), b.start),
            })
            .collect()
    }

    #[test]
    fn text_and_bodies_are_split_with_their_offsets() {
        assert_eq!(
            bodies("arn:${aws.region}:${ {a = \"}\"} }/x"),
            vec![
                "T:arn:",
                "E:aws.region@6",
                "T::",
                "E: {a = \"}\"} @20",
                "T:/x"
            ]
        );
    }

    #[test]
    fn a_doubled_dollar_is_a_literal_dollar_brace() {
        assert_eq!(bodies("a $${b.c} ${d}"), vec!["T:a ${b.c} ", "E:d@12"]);
    }

    #[test]
    fn an_unclosed_expression_is_reported_at_its_dollar() {
        let (_, errors) = scan("ok ${x.y");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].span, Span::new(3, 2));
    }

    #[test]
    fn odd_input_never_panics() {
        for text in ["$", "${", "$$", "$${", "}${", "é${é.é}", "${\"", "${\"\\"] {
            let _ = scan(text);
        }
    }
}
