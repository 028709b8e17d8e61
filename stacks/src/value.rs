//! Resolved property values.
//!
//! A [`Value`] is a tree in which any node may be [`Value::Unknown`] (known only after an
//! upstream create or replace) or [`Value::Sensitive`] (never printed). Every diff, render,
//! plan file and JSON output goes through this one type, so both markers travel everywhere.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A mapping of property or attribute names to values, ordered for stable output.
pub type Map = BTreeMap<String, Value>;

/// The JSON marker used for an unknown value in plan files.
pub const UNKNOWN_MARKER: &str = "$unknown";
/// The JSON marker used for a sensitive value in plan files.
pub const SENSITIVE_MARKER: &str = "$sensitive";

/// One node of a resolved value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    List(Vec<Value>),
    Map(Map),
    /// Known only after apply.
    Unknown,
    /// A value that must never be printed.
    Sensitive(Box<Value>),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An integer value.
    pub fn int(i: i64) -> Value {
        Value::Number(i.into())
    }

    /// True when this node or any node below it is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(items) => items.iter().any(Value::has_unknown),
            Value::Map(map) => map.values().any(Value::has_unknown),
            Value::Sensitive(inner) => inner.has_unknown(),
            _ => false,
        }
    }

    /// True when this node or any node below it is sensitive.
    pub fn has_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) => items.iter().any(Value::has_sensitive),
            Value::Map(map) => map.values().any(Value::has_sensitive),
            _ => false,
        }
    }

    /// The value with every sensitive marker removed (the plain value, for provider calls).
    pub fn unmarked(&self) -> Value {
        match self {
            Value::Sensitive(inner) => inner.unmarked(),
            Value::List(items) => Value::List(items.iter().map(Value::unmarked).collect()),
            Value::Map(map) => {
                Value::Map(map.iter().map(|(k, v)| (k.clone(), v.unmarked())).collect())
            }
            other => other.clone(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Sensitive(inner) => inner.as_str(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Sensitive(inner) => inner.as_bool(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::Sensitive(inner) => inner.as_i64(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            Value::Sensitive(inner) => inner.as_f64(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            Value::Sensitive(inner) => inner.as_list(),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(map) => Some(map),
            Value::Sensitive(inner) => inner.as_map(),
            _ => None,
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "mapping",
            Value::Unknown => "unknown",
            Value::Sensitive(inner) => inner.kind_name(),
        }
    }

    /// Converts plain JSON into a value (no markers are interpreted).
    pub fn from_json(json: serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::List(items.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.into_iter()
                    .map(|(k, v)| (k, Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Plain JSON for a fully known value; unknown nodes become `null`, sensitive markers are
    /// dropped. Used to send documents to AWS; callers check [`Value::has_unknown`] first.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
            Value::Sensitive(inner) => inner.to_json(),
        }
    }

    /// JSON with markers: unknown nodes as `{"$unknown": true}`; sensitive nodes as
    /// `{"$sensitive": true}` when `redact`, else `{"$sensitive": VALUE}`.
    pub fn to_marked_json(&self, redact: bool) -> serde_json::Value {
        match self {
            Value::Unknown => serde_json::json!({ UNKNOWN_MARKER: true }),
            Value::Sensitive(inner) => {
                if redact {
                    serde_json::json!({ SENSITIVE_MARKER: true })
                } else {
                    serde_json::json!({ SENSITIVE_MARKER: inner.to_marked_json(false) })
                }
            }
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(|v| v.to_marked_json(redact)).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_marked_json(redact)))
                    .collect(),
            ),
            other => other.to_json(),
        }
    }

    /// Reads JSON written by [`Value::to_marked_json`] with `redact = false`.
    pub fn from_marked_json(json: serde_json::Value) -> Value {
        match json {
            serde_json::Value::Object(map) => {
                if map.len() == 1 {
                    if let Some(serde_json::Value::Bool(true)) = map.get(UNKNOWN_MARKER) {
                        return Value::Unknown;
                    }
                    if let Some(inner) = map.get(SENSITIVE_MARKER) {
                        return Value::Sensitive(Box::new(Value::from_marked_json(inner.clone())));
                    }
                }
                Value::Map(
                    map.into_iter()
                        .map(|(k, v)| (k, Value::from_marked_json(v)))
                        .collect(),
                )
            }
            serde_json::Value::Array(items) => {
                Value::List(items.into_iter().map(Value::from_marked_json).collect())
            }
            other => Value::from_json(other),
        }
    }

    /// Compact one-line rendering for plans: strings quoted, unknowns and secrets by name.
    pub fn render(&self) -> String {
        match self {
            Value::Unknown => "(known after apply)".to_string(),
            Value::Sensitive(_) => "(sensitive)".to_string(),
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => serde_json::to_string(s).unwrap_or_else(|_| s.clone()),
            Value::List(items) => {
                let inner: Vec<String> = items.iter().map(Value::render).collect();
                format!("[{}]", inner.join(", "))
            }
            Value::Map(map) => {
                let inner: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.render()))
                    .collect();
                format!("{{ {} }}", inner.join(", "))
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Number(i.into())
    }
}

/// Values serialise with markers and keep sensitive values: state files are 0600 and hold what
/// was applied, as Terraform's do. Plan files that must not hold secrets use
/// [`Value::to_marked_json`] with `redact = true`.
/// As [`Value::to_marked_json`] with `redact = false` writes it, without building that JSON
/// first: a state of thousands of resources is written and read through these two.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::List(items) => items.serialize(serializer),
            Value::Map(map) => map.serialize(serializer),
            Value::Unknown => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(UNKNOWN_MARKER, &true)?;
                map.end()
            }
            Value::Sensitive(inner) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(SENSITIVE_MARKER, inner)?;
                map.end()
            }
        }
    }
}

/// Reads what [`Value`]'s `Serialize` writes (and [`Value::from_marked_json`] reads), straight
/// into values.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some((key, value)) = access.next_entry::<String, Value>()? {
            map.insert(key, value);
        }
        if map.len() == 1 {
            if map.get(UNKNOWN_MARKER) == Some(&Value::Bool(true)) {
                return Ok(Value::Unknown);
            }
            if let Some(inner) = map.remove(SENSITIVE_MARKER) {
                return Ok(Value::Sensitive(Box::new(inner)));
            }
        }
        Ok(Value::Map(map))
    }
}

/// Where `map` holds sensitive values, as JSON pointers (`/display_name`,
/// `/environment/variables/TOKEN`, `/items/0`): what the state keeps so that a value once
/// sensitive stays hidden even after the stack stops marking it.
pub fn sensitive_paths(map: &Map) -> Vec<String> {
    fn walk(value: &Value, at: &str, out: &mut Vec<String>) {
        match value {
            Value::Sensitive(_) => out.push(at.to_string()),
            Value::Map(map) => map
                .iter()
                .for_each(|(k, v)| walk(v, &format!("{at}/{}", escape(k)), out)),
            Value::List(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| walk(v, &format!("{at}/{i}"), out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (key, value) in map {
        walk(value, &format!("/{}", escape(key)), &mut out);
    }
    out
}

/// `map` with the values at `paths` (JSON pointers, as [`sensitive_paths`] writes them)
/// marked sensitive; a path that leads nowhere is passed over.
pub fn mark_paths(mut map: Map, paths: &[String]) -> Map {
    fn mark(value: &mut Value, segments: &[String]) {
        let Some((first, rest)) = segments.split_first() else {
            if !matches!(value, Value::Sensitive(_)) {
                *value = Value::Sensitive(Box::new(std::mem::replace(value, Value::Null)));
            }
            return;
        };
        match value {
            Value::Map(map) => {
                if let Some(v) = map.get_mut(first) {
                    mark(v, rest);
                }
            }
            Value::List(items) => {
                if let Some(v) = first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    mark(v, rest);
                }
            }
            _ => {}
        }
    }
    for path in paths {
        let segments: Vec<String> = path.split('/').skip(1).map(unescape).collect();
        let Some((key, rest)) = segments.split_first() else {
            continue;
        };
        if let Some(value) = map.get_mut(key) {
            mark(value, rest);
        }
    }
    map
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_paths_round_trip_through_json_pointers() {
        let secret = |s: &str| Value::Sensitive(Box::new(Value::str(s)));
        let marked = Map::from([
            ("display_name".to_string(), secret("Tok3n")),
            (
                "environment".to_string(),
                Value::Map(Map::from([(
                    "a/b~c".to_string(),
                    Value::List(vec![Value::str("plain"), secret("pw")]),
                )])),
            ),
            ("name".to_string(), Value::str("public")),
        ]);
        let paths = sensitive_paths(&marked);
        assert_eq!(paths, ["/display_name", "/environment/a~1b~0c/1"]);
        let plain: Map = marked
            .iter()
            .map(|(k, v)| (k.clone(), v.unmarked()))
            .collect();
        assert_eq!(mark_paths(plain, &paths), marked);
        // Paths into values that are no longer there are passed over.
        let other = Map::from([("name".to_string(), Value::str("x"))]);
        assert_eq!(mark_paths(other.clone(), &paths), other);
    }

    #[test]
    fn unknown_and_sensitive_survive_a_round_trip_through_json() {
        let mut map = Map::new();
        map.insert("arn".into(), Value::Unknown);
        map.insert(
            "secret".into(),
            Value::Sensitive(Box::new(Value::str("pw"))),
        );
        map.insert("n".into(), Value::int(3));
        let value = Value::Map(map);
        let text = serde_json::to_string(&value).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn values_are_written_and_read_as_their_marked_json() {
        let value = Value::Map(Map::from([
            ("a".to_string(), Value::Null),
            ("b".to_string(), Value::Bool(false)),
            (
                "c".to_string(),
                Value::List(vec![Value::int(-3), Value::int(7), Value::str("x")]),
            ),
            (
                "d".to_string(),
                Value::Sensitive(Box::new(Value::Map(Map::from([(
                    "k".to_string(),
                    Value::Unknown,
                )])))),
            ),
            ("e".to_string(), serde_json::from_str("1.5").unwrap()),
            ("f".to_string(), Value::Map(Map::new())),
        ]));
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(text, value.to_marked_json(false).to_string());
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(Value::from_marked_json(json), value);
    }

    #[test]
    fn redacted_json_never_holds_the_secret() {
        let value = Value::List(vec![Value::Sensitive(Box::new(Value::str("hunter2")))]);
        let text = value.to_marked_json(true).to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(value.render(), "[(sensitive)]");
    }
}
