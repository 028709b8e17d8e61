//! Helpers on values shared by the evaluator and the functions: the unknown and sensitive
//! rules in one place ([`strict`]), and how values read in messages and joined strings.

use crate::value::Value;

use super::LangError;

/// Wraps a value as sensitive (once).
pub(crate) fn mark(value: Value) -> Value {
    match value {
        Value::Unknown => Value::Unknown,
        already @ Value::Sensitive(_) => already,
        other => Value::Sensitive(Box::new(other)),
    }
}

/// Runs `f` on the operands' plain values: unknown if any operand is (anywhere inside),
/// sensitive if any operand is.
pub(crate) fn strict(
    values: Vec<Value>,
    f: impl FnOnce(Vec<Value>) -> Result<Value, LangError>,
) -> Result<Value, LangError> {
    if values.iter().any(Value::has_unknown) {
        return Ok(Value::Unknown);
    }
    let sensitive = values.iter().any(Value::has_sensitive);
    let plain = values.iter().map(Value::unmarked).collect();
    let result = f(plain)?;
    Ok(if sensitive { mark(result) } else { result })
}

/// How a value's kind reads in messages: "a string", "a list".
pub(crate) fn kind_of(value: &Value) -> String {
    let name = value.kind_name();
    match name {
        "null" | "unknown" => name.to_string(),
        _ if name.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {name}"),
        _ => format!("a {name}"),
    }
}

/// How a known value reads when joined into a string.
pub fn plain_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Sensitive(inner) => plain_text(inner),
        other => other.to_json().to_string(),
    }
}

/// A number value: an integer when the result is whole and fits.
pub(crate) fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        Value::int(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}
