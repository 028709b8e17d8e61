//! The `${...}` syntax inside strings: splitting a string into text and expressions.
//!
//! This module only knows the syntax. What a name means (a param, a resource attribute, a
//! built-in) is decided by the loader, which also turns character offsets into file positions.

/// One piece of a string as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Text(String),
    Expr(ExprText),
}

/// A well-formed `${a.b}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExprText {
    /// The dotted names inside, whitespace trimmed: `["params", "env"]`.
    pub path: Vec<String>,
    /// The whole expression as written, `${...}` included.
    pub written: String,
    /// Which `${` of the string this is (0-based, counting every `${`, escaped or not).
    pub ordinal: usize,
    /// Length in characters of `written`.
    pub len: usize,
}

/// A `${` that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub message: String,
    pub help: String,
    /// Which `${` of the string (see [`ExprText::ordinal`]).
    pub ordinal: usize,
    /// How many characters to underline.
    pub len: usize,
}

/// True when the string holds a `${` (an expression or an escaped `$${`).
pub(crate) fn has_dollar_brace(text: &str) -> bool {
    text.contains("${")
}

/// Splits `text` into text and expressions. `$${` is a literal `${`. Every malformed
/// expression is reported; the rest of the string is still read.
pub(crate) fn scan(text: &str) -> (Vec<Segment>, Vec<SyntaxError>) {
    let chars: Vec<char> = text.chars().collect();
    let starts: Vec<usize> = (0..chars.len())
        .filter(|&i| chars.get(i) == Some(&'$') && chars.get(i + 1) == Some(&'{'))
        .collect();
    let ordinal_of = |index: usize| starts.iter().position(|&s| s == index).unwrap_or(0);

    let mut segments = Vec::new();
    let mut errors = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let here = chars.get(i).copied();
        let next = chars.get(i + 1).copied();
        let after = chars.get(i + 2).copied();
        if here == Some('$') && next == Some('$') && after == Some('{') {
            current.push_str("${");
            i += 3;
            continue;
        }
        if here == Some('$') && next == Some('{') {
            let ordinal = ordinal_of(i);
            let close = (i + 2..chars.len()).find(|&j| chars.get(j) == Some(&'}'));
            let Some(close) = close else {
                errors.push(SyntaxError {
                    message: "unclosed `${`".into(),
                    help: "close the expression with `}`, or write `$${` for a literal `${`".into(),
                    ordinal,
                    len: 2,
                });
                current.extend(chars.get(i..).unwrap_or_default());
                break;
            };
            let body: String = chars.get(i + 2..close).unwrap_or_default().iter().collect();
            let written: String = chars.get(i..=close).unwrap_or_default().iter().collect();
            let len = close + 1 - i;
            match parse_path(&body) {
                Ok(path) => {
                    if !current.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut current)));
                    }
                    segments.push(Segment::Expr(ExprText {
                        path,
                        written,
                        ordinal,
                        len,
                    }));
                }
                Err((message, help)) => {
                    errors.push(SyntaxError {
                        message,
                        help,
                        ordinal,
                        len,
                    });
                    current.push_str(&written);
                }
            }
            i = close + 1;
            continue;
        }
        if let Some(c) = here {
            current.push(c);
        }
        i += 1;
    }
    if !current.is_empty() {
        segments.push(Segment::Text(current));
    }
    (segments, errors)
}

const FORMS: &str = "expressions look like `${params.NAME}`, `${RESOURCE.ATTRIBUTE}`, \
                     `${stack.name}`, `${aws.region}` or `${aws.account_id}`";

fn parse_path(body: &str) -> Result<Vec<String>, (String, String)> {
    let body = body.trim();
    if body.is_empty() {
        return Err(("empty expression `${}`".into(), FORMS.into()));
    }
    let parts: Vec<&str> = body.split('.').map(str::trim).collect();
    let well_formed = parts.iter().all(|p| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if !well_formed {
        return Err((format!("malformed expression `${{{body}}}`"), FORMS.into()));
    }
    if parts.len() != 2 {
        return Err((
            format!("malformed expression `${{{body}}}`: expected two names joined by a dot"),
            FORMS.into(),
        ));
    }
    Ok(parts.into_iter().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(path: &[&str], written: &str, ordinal: usize) -> Segment {
        Segment::Expr(ExprText {
            path: path.iter().map(|s| s.to_string()).collect(),
            written: written.into(),
            ordinal,
            len: written.chars().count(),
        })
    }

    #[test]
    fn text_and_expressions_are_split_in_order() {
        let (segments, errors) = scan("arn:${aws.region}:${ q.arn }/x");
        assert!(errors.is_empty());
        assert_eq!(
            segments,
            vec![
                Segment::Text("arn:".into()),
                expr(&["aws", "region"], "${aws.region}", 0),
                Segment::Text(":".into()),
                expr(&["q", "arn"], "${ q.arn }", 1),
                Segment::Text("/x".into()),
            ]
        );
    }

    #[test]
    fn a_doubled_dollar_is_a_literal_dollar_brace() {
        let (segments, errors) = scan("a $${b.c} ${d.e}");
        assert!(errors.is_empty());
        assert_eq!(
            segments,
            vec![
                Segment::Text("a ${b.c} ".into()),
                expr(&["d", "e"], "${d.e}", 1),
            ]
        );
    }

    #[test]
    fn unclosed_empty_and_malformed_expressions_are_reported_with_their_ordinal() {
        let (_, errors) = scan("${} ${a b.c} ${a.b.c} ${x.y");
        let found: Vec<(usize, &str)> = errors
            .iter()
            .map(|e| (e.ordinal, e.message.as_str()))
            .collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(found[0], (0, "empty expression `${}`"));
        assert!(found[1].1.starts_with("malformed"));
        assert_eq!(found[2].0, 2);
        assert_eq!(found[3], (3, "unclosed `${`"));
    }

    #[test]
    fn odd_input_never_panics() {
        for text in ["$", "${", "$$", "$${", "}${", "é${é.é}", "${.}", "${a.}"] {
            let _ = scan(text);
        }
    }
}
