//! A YAML document as a tree of nodes that each know where they were written.
//!
//! serde-saphyr reports the line and column of every node it hands out as a
//! [`serde_saphyr::Spanned`]; this module reads a document into such a tree once, so that every
//! later check (unknown keys, kinds, `${...}` references) can point at the exact place in the
//! file. Malformed YAML, duplicate keys and unsupported tags are rejected here, with the
//! parser's own position.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use crate::diag::{Diagnostic, Span};
use crate::value::Value;

/// A file that diagnostics can point into.
#[derive(Clone, Debug)]
pub(crate) struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: &Path, text: &str) -> SourceFile {
        SourceFile {
            path: path.to_path_buf(),
            text: text.to_string(),
        }
    }

    /// A diagnostic pointing at `pos` in this file.
    pub fn error(&self, pos: Pos, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(message).at(
            Span {
                file: self.path.clone(),
                line: pos.line.max(1),
                column: pos.column.max(1),
                len: pos.len.max(1),
            },
            self.text.as_str(),
        )
    }
}

/// A 1-based line and column (in characters), and how many characters to underline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: u32,
    pub column: u32,
    pub len: u32,
}

impl Pos {
    /// The same place with another underline length.
    pub fn with_len(self, len: usize) -> Pos {
        Pos {
            len: u32::try_from(len).unwrap_or(u32::MAX).max(1),
            ..self
        }
    }
}

/// Where a node's own text sits in the source, for finding `${` inside it. For an alias this
/// is the anchored definition, not the `*alias` token.
#[derive(Clone, Copy, Debug)]
struct Raw {
    byte_offset: usize,
    byte_len: usize,
    line: u32,
    column: u32,
}

/// One YAML node with its position.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
    raw: Option<Raw>,
}

/// A mapping key: always text (plain scalars such as `1` or `true` keep their spelling).
#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub name: String,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    Null,
    Bool(bool),
    /// A number and its spelling in the file (`0123`, `1.50`), kept for string properties.
    Number {
        number: serde_json::Number,
        text: String,
    },
    Str(String),
    List(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

impl Node {
    /// How the node reads in "expected X, got Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Null => "nothing (null)".into(),
            NodeKind::Bool(b) => format!("`{b}`"),
            NodeKind::Number { text, .. } => format!("the number `{text}`"),
            NodeKind::Str(s) => {
                if s.chars().count() > 40 || s.contains('\n') {
                    "a string".into()
                } else {
                    format!("the string `{s}`")
                }
            }
            NodeKind::List(_) => "a list".into(),
            NodeKind::Map(_) => "a mapping".into(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    #[cfg(test)]
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// The scalar as text: strings as they are, numbers as spelled, booleans as `true`/`false`.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Number { text, .. } => Some(text.clone()),
            NodeKind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The node as a plain value (no interpolation).
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Number { number, .. } => Value::Number(number.clone()),
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::List(items) => Value::List(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The position of every `${` in the node's source text, in order. The n-th `${` of the
    /// parsed string is the n-th here unless escapes or line folding changed them; callers
    /// check the count and fall back to the node's own position.
    pub fn dollar_brace_positions(&self, source: &str) -> Vec<Pos> {
        let Some(raw) = self.raw else {
            return Vec::new();
        };
        let Some(text) = source.get(raw.byte_offset..raw.byte_offset + raw.byte_len) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let (mut line, mut column) = (raw.line, raw.column);
        let mut previous = None;
        for ch in text.chars() {
            if previous == Some('$') && ch == '{' {
                out.push(Pos {
                    line,
                    column: column.saturating_sub(1),
                    len: 2,
                });
            }
            if ch == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
            previous = Some(ch);
        }
        out
    }
}

impl Node {
    /// The position `rel` characters after the `ordinal`-th `${` of the node's source text,
    /// when the source there reads exactly as `parsed` (the string from that `${` on) does: no
    /// escape or line folding in between. `None` otherwise; callers fall back to the `${`.
    pub fn position_after_dollar(
        &self,
        source: &str,
        ordinal: usize,
        parsed: &[char],
        rel: usize,
    ) -> Option<Pos> {
        let raw = self.raw?;
        let text = source.get(raw.byte_offset..raw.byte_offset + raw.byte_len)?;
        let chars: Vec<char> = text.chars().collect();
        let (mut line, mut column) = (raw.line, raw.column);
        let mut seen = 0;
        let mut start = None;
        for (i, &ch) in chars.iter().enumerate() {
            if ch == '$' && chars.get(i + 1) == Some(&'{') {
                if seen == ordinal {
                    start = Some(i);
                    break;
                }
                seen += 1;
            }
            if ch == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        let start = start?;
        for k in 0..rel {
            let ch = *chars.get(start + k)?;
            if Some(&ch) != parsed.get(k) || ch == '\n' {
                return None;
            }
            column += 1;
        }
        Some(Pos {
            line,
            column,
            len: 1,
        })
    }
}

/// Parses a whole document. Malformed YAML becomes one diagnostic at the parser's position.
pub(crate) fn parse(file: &SourceFile) -> Result<Node, Box<Diagnostic>> {
    let options = serde_saphyr::options! {
        // YAML 1.2 booleans only: `no`, `on`, `y` stay strings (the "Norway problem").
        strict_booleans: true,
        // `!Ref` and friends are CloudFormation's, not ours: say so rather than ignore them.
        reject_unsupported_tags: true,
    };
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(&file.text, options) {
        Ok(root) => {
            let mut complex_keys = Vec::new();
            let node = convert(root, &file.text, &mut complex_keys);
            match complex_keys.first() {
                Some(pos) => Err(Box::new(
                    file.error(
                        *pos,
                        "mapping keys must be plain names, not lists or mappings",
                    )
                    .help("write the key as a plain string"),
                )),
                None => Ok(node),
            }
        }
        Err(error) => Err(Box::new(yaml_error(file, &error))),
    }
}

fn yaml_error(file: &SourceFile, error: &serde_saphyr::Error) -> Diagnostic {
    let inner = error.without_snippet();
    let message: String = UserMessageFormatter
        .format_message(inner)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut diagnostic = match error.location().filter(|l| l.line() > 0) {
        Some(location) => file.error(
            Pos {
                line: u32::try_from(location.line()).unwrap_or(u32::MAX),
                column: u32::try_from(location.column()).unwrap_or(u32::MAX),
                len: 1,
            },
            format!("invalid YAML: {message}"),
        ),
        None => Diagnostic::new(format!(
            "invalid YAML in {}: {message}",
            file.path.display()
        )),
    };
    if message.contains("duplicate mapping key") {
        diagnostic = diagnostic
            .help("each key may appear only once in a mapping; remove or rename one of them");
    } else if message.contains("tag") {
        diagnostic = diagnostic
            .help("strata stack files use `${...}` expressions, not YAML tags such as `!Ref`");
    }
    diagnostic
}

/// What serde-saphyr hands us: values whose children carry their spans.
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    List(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawNodeVisitor)
    }
}

struct RawNodeVisitor;

impl<'de> Visitor<'de> for RawNodeVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<RawNode, D::Error> {
        RawNode::deserialize(deserializer)
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode::UInt(v))
    }

    fn visit_i128<E>(self, v: i128) -> Result<RawNode, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawNode::Int(i),
            Err(_) => RawNode::Float(v as f64),
        })
    }

    fn visit_u128<E>(self, v: u128) -> Result<RawNode, E> {
        Ok(match u64::try_from(v) {
            Ok(u) => RawNode::UInt(u),
            Err(_) => RawNode::Float(v as f64),
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }

    fn visit_char<E>(self, v: char) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawNode, E> {
        match std::str::from_utf8(v) {
            Ok(s) => Ok(RawNode::Str(s.to_string())),
            Err(_) => Err(E::custom("binary values are not supported")),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawNode::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(RawNode::Map(entries))
    }
}

fn pos_of(location: &Location) -> Pos {
    Pos {
        line: u32::try_from(location.line()).unwrap_or(u32::MAX),
        column: u32::try_from(location.column()).unwrap_or(u32::MAX),
        len: u32::try_from(location.span().len())
            .unwrap_or(u32::MAX)
            .max(1),
    }
}

fn raw_of(location: &Location) -> Option<Raw> {
    let span = location.span();
    Some(Raw {
        byte_offset: usize::try_from(span.byte_offset()?).ok()?,
        byte_len: usize::try_from(span.byte_len()?).ok()?,
        line: u32::try_from(location.line()).ok()?,
        column: u32::try_from(location.column()).ok()?,
    })
}

fn convert(spanned: Spanned<RawNode>, source: &str, complex_keys: &mut Vec<Pos>) -> Node {
    let pos = pos_of(&spanned.referenced);
    let raw = raw_of(&spanned.defined);
    let spelling = || {
        raw.and_then(|r| source.get(r.byte_offset..r.byte_offset + r.byte_len))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let kind = match spanned.value {
        RawNode::Null => NodeKind::Null,
        RawNode::Bool(b) => NodeKind::Bool(b),
        RawNode::Int(i) => NodeKind::Number {
            number: i.into(),
            text: spelling().map_or_else(|| i.to_string(), str::to_string),
        },
        RawNode::UInt(u) => NodeKind::Number {
            number: u.into(),
            text: spelling().map_or_else(|| u.to_string(), str::to_string),
        },
        RawNode::Float(f) => {
            let text = spelling().map_or_else(|| f.to_string(), str::to_string);
            match number_from_f64(f) {
                Some(number) => NodeKind::Number { number, text },
                None => NodeKind::Str(text),
            }
        }
        RawNode::Str(s) => NodeKind::Str(s),
        RawNode::List(items) => NodeKind::List(
            items
                .into_iter()
                .map(|i| convert(i, source, complex_keys))
                .collect(),
        ),
        RawNode::Map(entries) => NodeKind::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        convert_key(k, source, complex_keys),
                        convert(v, source, complex_keys),
                    )
                })
                .collect(),
        ),
    };
    Node { kind, pos, raw }
}

fn convert_key(spanned: Spanned<RawNode>, source: &str, complex_keys: &mut Vec<Pos>) -> Key {
    let node = convert(spanned, source, complex_keys);
    let name = match &node.kind {
        NodeKind::Null => String::new(),
        NodeKind::List(_) | NodeKind::Map(_) => {
            complex_keys.push(node.pos);
            String::new()
        }
        _ => node.scalar_text().unwrap_or_default(),
    };
    let pos = node.pos.with_len(name.chars().count().max(1));
    Key { name, pos }
}

/// A float as a JSON number; whole floats (`30.0`) become integers. `None` for NaN/infinity.
pub(crate) fn number_from_f64(f: f64) -> Option<serde_json::Number> {
    const EXACT_INT_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
    if f.is_finite() && f.fract() == 0.0 && f.abs() < EXACT_INT_LIMIT {
        return Some((f as i64).into());
    }
    serde_json::Number::from_f64(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Node, Box<Diagnostic>> {
        parse(&SourceFile::new(Path::new("stack.yaml"), text))
    }

    fn entry<'a>(node: &'a Node, key: &str) -> &'a Node {
        let entries = node.as_map().expect("a mapping");
        &entries.iter().find(|(k, _)| k.name == key).expect(key).1
    }

    #[test]
    fn every_key_value_and_list_item_carries_its_line_and_column() {
        let root = parse_str("stack: demo\nresources:\n  q:\n    type: x\nlist: [a, 'b']\n")
            .expect("parses");
        let entries = root.as_map().expect("a mapping");
        assert_eq!((entries[1].0.pos.line, entries[1].0.pos.column), (2, 1));
        let q = entry(entry(&root, "resources"), "q");
        let ty = entry(q, "type");
        assert_eq!((ty.pos.line, ty.pos.column), (4, 11));
        let NodeKind::List(items) = &entry(&root, "list").kind else {
            panic!("a list")
        };
        assert_eq!((items[1].pos.line, items[1].pos.column), (5, 11));
    }

    #[test]
    fn numbers_keep_their_spelling_and_yaml_1_1_booleans_stay_strings() {
        let root = parse_str("a: 0123\nb: 1.50\nc: no\nd: true\n").expect("parses");
        let NodeKind::Number { text, .. } = &entry(&root, "a").kind else {
            panic!("a number")
        };
        assert_eq!(text, "0123");
        assert_eq!(entry(&root, "b").scalar_text().as_deref(), Some("1.50"));
        assert_eq!(entry(&root, "c").as_str(), Some("no"));
        assert!(matches!(entry(&root, "d").kind, NodeKind::Bool(true)));
    }

    #[test]
    fn dollar_braces_are_found_in_quoted_and_block_scalars() {
        let text = "a: \"x ${p.q} ${r.s}\"\nb: |\n  one\n  two ${t.u}\n";
        let root = parse_str(text).expect("parses");
        let a = entry(&root, "a").dollar_brace_positions(text);
        assert_eq!(
            a.iter().map(|p| (p.line, p.column)).collect::<Vec<_>>(),
            vec![(1, 7), (1, 14)]
        );
        let b = entry(&root, "b").dollar_brace_positions(text);
        assert_eq!(
            b.iter().map(|p| (p.line, p.column)).collect::<Vec<_>>(),
            vec![(4, 7)]
        );
    }

    #[test]
    fn a_duplicate_key_is_an_error_at_the_second_one() {
        let error = parse_str("a: 1\nb:\n  c: 2\n  c: 3\n").expect_err("duplicate");
        assert_eq!(error.location().as_deref(), Some("stack.yaml:4:3"));
        assert!(error.message.contains("duplicate"), "{}", error.message);
    }

    #[test]
    fn cloudformation_tags_are_rejected() {
        let error = parse_str("a: !Ref foo\n").expect_err("tag");
        assert!(error.location().is_some());
    }
}
