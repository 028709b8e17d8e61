//! Comparing a desired value with what exists, the way AWS means them.
//!
//! Policy documents and patterns compare semantically: key order and whitespace never matter
//! (values are trees, not text), and where IAM accepts either a single value or a list
//! (`Statement`, `Action`, `Resource`, principals, condition values) one item equals a
//! one-element list. Numbers compare by value, so `60` equals `60.0`.

use stacks::{Kind, Value};

/// Keys whose value IAM accepts as one item or a list of items.
const SINGLE_OR_LIST_KEYS: &[&str] = &[
    "Statement",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
];

/// Whole numbers below this size are exact as `f64`, so `60.0` can become `60`.
const MAX_EXACT_WHOLE_NUMBER: f64 = 9.0e15;

/// Keys whose mapping values (each) may be one item or a list.
const NESTED_SINGLE_OR_LIST_KEYS: &[&str] = &["Principal", "NotPrincipal"];

/// True when `desired` and `actual` mean the same thing for a property of `kind`.
pub fn equivalent(kind: &Kind, desired: &Value, actual: &Value) -> bool {
    let desired = desired.unmarked();
    let actual = actual.unmarked();
    match kind {
        Kind::Document => normalize_document(&desired) == normalize_document(&actual),
        Kind::Object(props) => match (&desired, &actual) {
            (Value::Map(d), Value::Map(a)) => {
                let keys: std::collections::BTreeSet<&String> = d.keys().chain(a.keys()).collect();
                keys.into_iter().all(|k| {
                    let prop_kind = props
                        .iter()
                        .find(|p| p.name == k.as_str())
                        .map(|p| p.kind.clone())
                        .unwrap_or(Kind::Any);
                    match (d.get(k), a.get(k)) {
                        (Some(dv), Some(av)) => equivalent(&prop_kind, dv, av),
                        (None, Some(Value::Null)) | (Some(Value::Null), None) | (None, None) => {
                            true
                        }
                        _ => false,
                    }
                })
            }
            _ => plain_equal(&desired, &actual),
        },
        Kind::List(item) => match (&desired, &actual) {
            (Value::List(d), Value::List(a)) => {
                d.len() == a.len() && d.iter().zip(a).all(|(x, y)| equivalent(item, x, y))
            }
            _ => plain_equal(&desired, &actual),
        },
        Kind::Map(item) => match (&desired, &actual) {
            (Value::Map(d), Value::Map(a)) => {
                d.len() == a.len()
                    && d.iter()
                        .all(|(k, v)| a.get(k).is_some_and(|av| equivalent(item, v, av)))
            }
            _ => plain_equal(&desired, &actual),
        },
        _ => plain_equal(&desired, &actual),
    }
}

/// Structural equality where numbers compare by value and unknown never equals anything.
fn plain_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Unknown, _) | (_, Value::Unknown) => false,
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| plain_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| plain_equal(v, w)))
        }
        _ => a == b,
    }
}

/// The canonical form of a policy document or pattern. A whole document given as JSON text is
/// parsed first (AWS sometimes hands documents back as strings, URL-encoded or re-serialised);
/// the strings inside a document are compared as they are.
pub fn normalize_document(value: &Value) -> Value {
    match value {
        Value::String(text) => match providers::document::parse_document_text(text) {
            Ok(json @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                canonical(&Value::from_json(json))
            }
            _ => value.clone(),
        },
        other => canonical(other),
    }
}

/// The canonical form of a document that is already a tree: single-or-list keys as lists, sets
/// sorted, whole numbers as integers. Strings are left as they are.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Map(map) => Value::Map(
            map.iter()
                .map(|(k, v)| {
                    let v = canonical(v);
                    let v = if SINGLE_OR_LIST_KEYS.contains(&k.as_str()) {
                        as_sorted_list(v, k == "Statement")
                    } else if NESTED_SINGLE_OR_LIST_KEYS.contains(&k.as_str()) || k == "Condition" {
                        each_value_as_list(v, k == "Condition")
                    } else {
                        v
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::List(items) => Value::List(items.iter().map(canonical).collect()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < MAX_EXACT_WHOLE_NUMBER => Value::int(f as i64),
            _ => value.clone(),
        },
        other => other.clone(),
    }
}

/// One item becomes a one-element list. Lists of plain strings (actions, resources) are
/// sets to IAM, so they are sorted; statements keep their order.
fn as_sorted_list(value: Value, keep_order: bool) -> Value {
    let mut items = match value {
        Value::List(items) => items,
        other => vec![other],
    };
    if !keep_order && items.iter().all(|v| matches!(v, Value::String(_))) {
        items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        items.dedup();
    }
    Value::List(items)
}

/// For `Principal: {AWS: x}` and `Condition: {Op: {Key: x}}`: every leaf value as a list.
fn each_value_as_list(value: Value, nested: bool) -> Value {
    match value {
        Value::Map(map) => Value::Map(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if nested {
                        each_value_as_list(v, false)
                    } else {
                        as_sorted_list(v, false)
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Value {
        Value::from_json(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn key_order_whitespace_and_single_statement_never_make_a_diff() {
        let a = doc(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}}"#,
        );
        let b = Value::str(
            r#"{ "Statement": [ { "Resource": ["*"], "Action": ["sqs:SendMessage"], "Effect": "Allow" } ],
                "Version": "2012-10-17" }"#,
        );
        assert!(equivalent(&Kind::Document, &a, &b));
    }

    #[test]
    fn a_url_encoded_document_equals_its_mapping() {
        let a = doc(r#"{"Statement":[{"Effect":"Allow"}]}"#);
        let b = Value::str("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%7D%5D%7D");
        assert!(equivalent(&Kind::Document, &a, &b));
    }

    #[test]
    fn a_percent_sign_inside_a_document_string_is_never_decoded() {
        let a = doc(r#"{"Statement":[{"Sid":"%Aé","Effect":"Allow"}]}"#);
        assert!(equivalent(&Kind::Document, &a, &a));
        // The same document as JSON text, and as IAM hands it back: URL-encoded as a whole.
        let text = Value::str(r#"{"Statement":[{"Sid":"%Aé","Effect":"Allow"}]}"#);
        assert!(equivalent(&Kind::Document, &a, &text));
        let encoded = Value::str("%7B%22Statement%22%3A%5B%7B%22Sid%22%3A%22%25A%C3%A9%22%2C%22Effect%22%3A%22Allow%22%7D%5D%7D");
        assert!(equivalent(&Kind::Document, &a, &encoded));
        // The escape is not decoded in a piece of a document: `%41` is not `A`.
        let other = doc(r#"{"Statement":[{"Sid":"%41é","Effect":"Allow"}]}"#);
        assert!(!equivalent(
            &Kind::Document,
            &other,
            &doc(r#"{"Statement":[{"Sid":"Aé","Effect":"Allow"}]}"#)
        ));
        // A string that is not a document is left alone.
        assert!(equivalent(
            &Kind::Document,
            &Value::str("%Aé"),
            &Value::str("%Aé")
        ));
    }

    #[test]
    fn a_changed_action_is_a_diff() {
        let a = doc(r#"{"Statement":[{"Action":"sqs:SendMessage"}]}"#);
        let b = doc(r#"{"Statement":[{"Action":"sqs:ReceiveMessage"}]}"#);
        assert!(!equivalent(&Kind::Document, &a, &b));
    }

    #[test]
    fn numbers_compare_by_value_and_unknown_is_never_equal() {
        assert!(equivalent(
            &Kind::Integer,
            &Value::int(60),
            &Value::Number(serde_json::Number::from_f64(60.0).unwrap())
        ));
        assert!(!equivalent(
            &Kind::String,
            &Value::Unknown,
            &Value::str("x")
        ));
    }
}
