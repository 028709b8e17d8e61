//! Reading properties out of a request.

use stacks::{Map, TypeSchema, Value};

use crate::{ProviderError, Result};

/// A required string property, or an error naming it.
pub fn required_str(props: &Map, prop: &str) -> Result<String> {
    props
        .get(prop)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` is required")))
}

/// A property the stack gave (null counts as not given), without sensitive markers.
pub fn given(props: &Map, prop: &str) -> Option<Value> {
    props
        .get(prop)
        .map(Value::unmarked)
        .filter(|v| *v != Value::Null)
}

/// The value a request asks for: the stack's, else the schema's default. `null` counts as unset.
pub fn desired(schema: &TypeSchema, props: &Map, prop: &str) -> Option<Value> {
    props
        .get(prop)
        .map(Value::unmarked)
        .filter(|v| *v != Value::Null)
        .or_else(|| schema.prop(prop).and_then(|p| p.default.clone()))
}

/// A list AWS keeps as a set (attached policy ARNs, subnet ids), as the stack should see it:
/// in the order of `prior` (what the stack last wrote) when it holds the same items, else
/// sorted. The planner compares lists in order, and AWS's own order means nothing.
pub fn set_in_prior_order(prior: Option<&Value>, live: impl IntoIterator<Item = String>) -> Value {
    let live: std::collections::BTreeSet<String> = live.into_iter().collect();
    let prior_items = prior.and_then(Value::as_list).and_then(|items| {
        items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<String>>>()
    });
    if let Some(items) = prior_items {
        let prior_set: std::collections::BTreeSet<&String> = items.iter().collect();
        if prior_set.len() == live.len() && live.iter().all(|item| prior_set.contains(item)) {
            return Value::List(items.into_iter().map(Value::String).collect());
        }
    }
    Value::List(live.into_iter().map(Value::String).collect())
}
