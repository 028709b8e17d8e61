//! Tags: the `tags` property as AWS wants it, the minimal change between two tag sets, and the
//! one way every provider applies that change.
//!
//! Each service has its own pair of calls to set and remove tags (EC2 `CreateTags` and
//! `DeleteTags`, SQS `TagQueue` and `UntagQueue`, IAM `TagRole` and `UntagRole`, ...). A
//! service says how once, as a [`TagApi`] beside its other shared code, and every type of it
//! updates its tags with [`reconcile`].

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use stacks::{Map, Value};

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

/// One resource's tagging calls in one service: the adapter [`reconcile`] drives.
#[async_trait]
pub(crate) trait TagApi: Send + Sync {
    /// Sets these keys to these values (adding or overwriting; other keys stay).
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()>;
    /// Removes these keys.
    async fn untag(&self, keys: Vec<String>) -> Result<()>;
}

/// Tags as the string mapping most SDKs take (SQS, Lambda, API Gateway).
pub(crate) fn tag_map(tags: BTreeMap<String, String>) -> Result<HashMap<String, String>> {
    Ok(tags.into_iter().collect())
}

/// Declares the [`TagApi`] of a service whose calls share one shape: `$name { client, id }`,
/// where `tag` is `client.$tag().$by(id).set_tags(Some($convert(tags)?))` and `untag` is
/// `client.$untag().$by(id).set_tag_keys(Some(keys))`. A service states in one line which
/// calls tag its resources and how it names them; EC2, whose calls differ, writes its own.
macro_rules! tag_api {
    (
        $(#[$doc:meta])*
        $name:ident($client:ty) by $by:ident: $tag:ident($convert:path), $untag:ident
    ) => {
        $(#[$doc])*
        pub(crate) struct $name<'a> {
            pub client: &'a $client,
            pub id: &'a str,
        }

        #[async_trait::async_trait]
        impl $crate::tags::TagApi for $name<'_> {
            async fn tag(
                &self,
                tags: std::collections::BTreeMap<String, String>,
            ) -> $crate::Result<()> {
                self.client
                    .$tag()
                    .$by(self.id)
                    .set_tags(Some($convert(tags)?))
                    .send()
                    .await
                    .map_err($crate::aws::api_error)?;
                Ok(())
            }

            async fn untag(&self, keys: Vec<String>) -> $crate::Result<()> {
                self.client
                    .$untag()
                    .$by(self.id)
                    .set_tag_keys(Some(keys))
                    .send()
                    .await
                    .map_err($crate::aws::api_error)?;
                Ok(())
            }
        }
    };
}

pub(crate) use tag_api;

/// Brings a resource's tags from the recorded `tags` of `prior` to the `tags` of `desired`:
/// removes the keys that went, then sets the keys that are new or changed, and calls nothing
/// for a side with nothing to do. Keys neither side names are never touched.
pub(crate) async fn reconcile(api: &impl TagApi, prior: &Map, desired: &Map) -> Result<()> {
    let changes = TagChanges::between(prior.get("tags"), desired.get("tags"))?;
    if !changes.remove.is_empty() {
        api.untag(changes.remove).await?;
    }
    if !changes.set.is_empty() {
        api.tag(changes.set).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn tag_changes_touch_only_the_keys_that_differ() {
        let prior = tags_value([("keep", "1"), ("change", "old"), ("drop", "x")]);
        let desired = tags_value([("keep", "1"), ("change", "new"), ("add", "y")]);
        let changes = TagChanges::between(Some(&prior), Some(&desired)).unwrap();
        assert_eq!(
            changes,
            TagChanges {
                set: BTreeMap::from([
                    ("add".to_string(), "y".to_string()),
                    ("change".to_string(), "new".to_string()),
                ]),
                remove: vec!["drop".to_string()],
            }
        );
    }

    /// Records the calls it is given.
    #[derive(Default)]
    struct Calls(Mutex<Vec<String>>);

    #[async_trait]
    impl TagApi for Calls {
        async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
            let keys: Vec<String> = tags.into_keys().collect();
            self.0
                .lock()
                .unwrap()
                .push(format!("tag {}", keys.join(",")));
            Ok(())
        }

        async fn untag(&self, keys: Vec<String>) -> Result<()> {
            self.0
                .lock()
                .unwrap()
                .push(format!("untag {}", keys.join(",")));
            Ok(())
        }
    }

    fn with_tags(tags: &[(&str, &str)]) -> Map {
        Map::from([("tags".to_string(), tags_value(tags.iter().copied()))])
    }

    #[tokio::test]
    async fn reconcile_untags_before_it_tags_and_skips_an_empty_side() {
        let calls = Calls::default();
        let prior = with_tags(&[("a", "1"), ("b", "2")]);
        reconcile(&calls, &prior, &with_tags(&[("a", "1"), ("c", "3")]))
            .await
            .unwrap();
        reconcile(&calls, &prior, &with_tags(&[("a", "9"), ("b", "2")]))
            .await
            .unwrap();
        reconcile(&calls, &prior, &prior).await.unwrap();
        assert_eq!(
            calls.0.into_inner().unwrap(),
            vec!["untag b", "tag c", "tag a"]
        );
    }
}
