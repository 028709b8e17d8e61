//! Policy documents and patterns: YAML mappings in the stack, JSON text for AWS.

use percent_encoding::percent_decode_str;
use stacks::{Map, Value};

use crate::{ProviderError, Result};

/// Serialises a policy document (a mapping from the stack) to the JSON text AWS takes; a
/// document the stack wrote as JSON text is sent as written, once it is known to be JSON.
///
/// Refuses a value that is still unknown: sending `null` in its place would apply a policy
/// nobody wrote.
pub fn document_json(prop: &str, value: &Value) -> Result<String> {
    if value.has_unknown() {
        return Err(ProviderError::invalid(format!(
            "`{prop}` is not fully known yet; it cannot be sent to AWS"
        )));
    }
    match value.unmarked() {
        Value::String(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(_) | serde_json::Value::Array(_)) => Ok(text),
            _ => Err(ProviderError::invalid(format!(
                "`{prop}` is text that is not a JSON document"
            ))),
        },
        other => Ok(other.to_json().to_string()),
    }
}

/// The required document property `prop` of a request as the JSON text AWS takes.
pub fn required_document_json(props: &Map, prop: &str) -> Result<String> {
    let value = props
        .get(prop)
        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` is required")))?;
    document_json(prop, value)
}

/// Parses a policy document as AWS returns it into a value the planner compares with the stack.
///
/// AWS may return the JSON as written, re-serialised (other spacing and key order), or
/// URL-encoded; all three parse to the same mapping. A single `Statement` object stays a single
/// object: the planner's semantic comparison treats it as equal to a one-element list.
pub fn document_from_aws(prop: &str, text: &str) -> Result<Value> {
    parse_document_text(text)
        .map(Value::from_json)
        .map_err(|e| {
            ProviderError::invalid(format!("AWS returned a `{prop}` that is not JSON: {e}"))
        })
}

/// Parses the whole text of a JSON document: as written, or, when that is not JSON, URL-encoded
/// (IAM returns documents that way) and decoded as one piece.
///
/// The one place a document is percent-decoded. Only a whole document text is ever decoded,
/// never a string inside a document: a `Sid: "%Aé"` stays what it says.
pub fn parse_document_text(
    text: &str,
) -> std::result::Result<serde_json::Value, serde_json::Error> {
    let text = text.trim();
    serde_json::from_str::<serde_json::Value>(text).or_else(|first| {
        let decoded = percent_decode_str(text).decode_utf8().map_err(|_| first)?;
        serde_json::from_str(&decoded)
    })
}
