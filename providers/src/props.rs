//! Reading properties out of a request.

use std::collections::BTreeSet;

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

/// A string property the stack gave (`None` when absent, null or not a string).
pub fn given_str(props: &Map, prop: &str) -> Option<String> {
    given(props, prop).and_then(|v| v.as_str().map(str::to_string))
}

/// The value a request asks for: the stack's, else the schema's default. `null` counts as unset.
pub fn desired(schema: &TypeSchema, props: &Map, prop: &str) -> Option<Value> {
    props
        .get(prop)
        .map(Value::unmarked)
        .filter(|v| *v != Value::Null)
        .or_else(|| schema.prop(prop).and_then(|p| p.default.clone()))
}

/// A number AWS returns as a float, as the stack writes it: whole numbers as integers (so `80.0`
/// is shown and recorded as `80`).
pub fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::int(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}

/// Items AWS keeps as a set, in the order the stack wrote them.
///
/// The planner compares lists element by element, so a set read back in AWS's (or sorted)
/// order would differ from the stack's list forever. `prior` is the keys of the items the stack
/// last applied, in its order; `actual` is what AWS has, in an order of the caller's choosing
/// (sorted: AWS's own order means nothing). Each key of `prior` that AWS has gives AWS's item,
/// in `prior`'s order; the items no key named follow in `actual`'s order. So when AWS has the
/// stack's set this is the stack's list exactly (an item it repeats included); when it does
/// not, the list differs and the planner shows the change.
pub fn in_prior_order<T: Clone, K: PartialEq>(
    prior: impl IntoIterator<Item = K>,
    actual: Vec<T>,
    key: impl Fn(&T) -> Option<K>,
) -> Vec<T> {
    let keys: Vec<Option<K>> = actual.iter().map(key).collect();
    let mut given = vec![false; actual.len()];
    let mut ordered = Vec::with_capacity(actual.len());
    for wanted in prior {
        let has = |at: &usize| keys[*at].as_ref() == Some(&wanted);
        // An item not given yet; else, where the stack repeats an item, the same one again.
        let found = (0..actual.len())
            .filter(has)
            .find(|at| !given[*at])
            .or_else(|| (0..actual.len()).find(has));
        if let Some(at) = found {
            ordered.push(actual[at].clone());
            given[at] = true;
        }
    }
    ordered.extend(
        actual
            .into_iter()
            .zip(given)
            .filter_map(|(item, given)| (!given).then_some(item)),
    );
    ordered
}

/// A list of strings AWS keeps as a set (attached policy ARNs, subnet ids), as the stack should
/// see it: [`in_prior_order`] of `prior` (what the stack last wrote), the rest sorted.
pub fn set_in_prior_order(prior: Option<&Value>, live: impl IntoIterator<Item = String>) -> Value {
    let live: BTreeSet<String> = live.into_iter().collect();
    let prior = prior
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string));
    Value::List(
        in_prior_order(prior, live.into_iter().collect(), |item| Some(item.clone()))
            .into_iter()
            .map(Value::String)
            .collect(),
    )
}

/// A type's check of its properties together, for the loader ([`stacks::PropsCheck`]): the
/// provider's own parsing of them, its refusal as the message.
pub fn at_load(result: Result<()>) -> std::result::Result<(), String> {
    result.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(items: &[&str]) -> Vec<Value> {
        items.iter().map(|s| Value::str(*s)).collect()
    }

    fn as_str(v: &Value) -> Option<String> {
        v.as_str().map(str::to_string)
    }

    #[test]
    fn a_set_read_back_keeps_the_order_the_stack_wrote() {
        let prior = strs(&["subnet-b", "subnet-a"]);
        let actual = strs(&["subnet-a", "subnet-b"]);
        let read = in_prior_order(prior.iter().filter_map(as_str), actual, as_str);
        assert_eq!(read, prior);
    }

    #[test]
    fn a_set_that_changed_reads_back_as_a_different_list() {
        let prior = strs(&["subnet-c", "subnet-a"]);
        let actual = strs(&["subnet-a", "subnet-b"]);
        let read = in_prior_order(prior.iter().filter_map(as_str), actual, as_str);
        assert_eq!(read, strs(&["subnet-a", "subnet-b"]));
        assert_ne!(read, prior);
    }

    #[test]
    fn without_a_prior_order_a_set_reads_back_as_given() {
        let actual = strs(&["a", "b"]);
        let read = in_prior_order(Vec::<String>::new(), actual.clone(), as_str);
        assert_eq!(read, actual);
    }

    #[test]
    fn an_item_the_stack_repeats_reads_back_as_written() {
        let prior = Value::List(strs(&["arn:b", "arn:a", "arn:b"]));
        let live = vec!["arn:a".to_string(), "arn:b".to_string()];
        assert_eq!(set_in_prior_order(Some(&prior), live), prior);
    }
}
