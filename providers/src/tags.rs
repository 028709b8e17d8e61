//! Tags: the `tags` property as AWS wants it, and the minimal change between two tag sets.

use std::collections::BTreeMap;

use stacks::Value;

use crate::{ProviderError, Result};

/// A taggable resource's `tags` as plain strings. Values must be strings (the schema says so).
pub fn tag_strings(tags: Option<&Value>) -> Result<BTreeMap<String, String>> {
    let Some(tags) = tags.map(Value::unmarked).filter(|v| *v != Value::Null) else {
        return Ok(BTreeMap::new());
    };
    let map = tags
        .as_map()
        .ok_or_else(|| ProviderError::invalid("`tags` must be a mapping of names to strings"))?;
    map.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_string())),
            None => Err(ProviderError::invalid(format!(
                "tag `{k}` must be a string, not {}",
                v.kind_name()
            ))),
        })
        .collect()
}

/// Tags as the `tags` property value.
pub fn tags_value<K: Into<String>, V: Into<String>>(
    tags: impl IntoIterator<Item = (K, V)>,
) -> Value {
    Value::Map(
        tags.into_iter()
            .map(|(k, v)| (k.into(), Value::String(v.into())))
            .collect(),
    )
}

/// Tags as an SDK's own `Tag` list, each made by `tag` (the SDK's builder, whose `build` fails
/// only when a key or value is missing).
pub(crate) fn sdk_tags<T, E: std::fmt::Display>(
    tags: impl IntoIterator<Item = (String, String)>,
    tag: impl Fn(String, String) -> std::result::Result<T, E>,
) -> Result<Vec<T>> {
    tags.into_iter()
        .map(|(key, value)| tag(key, value).map_err(|e| ProviderError::invalid(e.to_string())))
        .collect()
}

/// What an update does to tags: set the keys that are new or changed, remove the keys that went.
/// Keys that did not change are not touched, so tags other tools manage on other keys survive.
#[derive(Debug, Default, PartialEq)]
pub struct TagChanges {
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

impl TagChanges {
    pub fn between(prior: Option<&Value>, desired: Option<&Value>) -> Result<TagChanges> {
        let prior = tag_strings(prior)?;
        let desired = tag_strings(desired)?;
        let remove = prior
            .keys()
            .filter(|k| !desired.contains_key(*k))
            .cloned()
            .collect();
        let set = desired
            .into_iter()
            .filter(|(k, v)| prior.get(k) != Some(v))
            .collect();
        Ok(TagChanges { set, remove })
    }
}
