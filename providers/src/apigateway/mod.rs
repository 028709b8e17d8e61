//! The `aws.apigateway.*` resource types: REST APIs (API Gateway v1), their resources, methods,
//! integrations, method and integration responses, deployments and stages.
//!
//! Everything but the API lives inside an API and is read by the API's id and its own key.
//! A resource's and a deployment's strata id is its own id (what `parent_id`, `resource_id` and
//! a stage's `deployment_id` name); the API comes from the recorded `rest_api_id`, or, when
//! nothing is recorded (an import), from an id written `REST_API_ID/ID`. A method, an
//! integration and their responses have no id of their own in AWS: their strata id is their
//! key, `REST_API_ID/RESOURCE_ID/HTTP_METHOD[/STATUS_CODE]`, which is also what `import` takes
//! (Terraform's import ids).
//!
//! Changes in place are `PATCH` operations (`UpdateRestApi`, `UpdateMethod`, ...), one list per
//! call, built by [`patch`] and [`map_patches`].

use std::collections::{BTreeMap, HashMap};

use aws_sdk_apigateway::types::{Op, PatchOperation};
use stacks::{Map, Value};

use crate::tags::{tag_api, tag_map};
use crate::{ProviderError, Result};

pub mod deployment;
pub mod integration;
pub mod integration_response;
pub mod method;
pub mod method_response;
pub mod resource;
pub mod rest_api;
pub mod stage;

/// How API Gateway says an API, or something in it, does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["NotFoundException"];

/// The HTTP methods a REST API method may take (`ANY` answers them all).
pub(crate) const HTTP_METHODS: &[&str] = &[
    "ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
];

/// The API id and the child's own id for a resource or deployment with strata id `id`.
pub(crate) fn child_ids(id: &str, prior: &Map, what: &str) -> Result<(String, String)> {
    if let Some(api_id) = prior.get("rest_api_id").and_then(Value::as_str) {
        return Ok((api_id.to_string(), id.to_string()));
    }
    match id.split_once('/') {
        Some((api_id, child)) if !api_id.is_empty() && !child.is_empty() => {
            Ok((api_id.to_string(), child.to_string()))
        }
        _ => Err(ProviderError::invalid(format!(
            "the {what} `{id}` has no recorded `rest_api_id`; name it as `REST_API_ID/{}_ID`",
            what.to_uppercase()
        ))),
    }
}

/// The `N` parts of a key id (`REST_API_ID/RESOURCE_ID/HTTP_METHOD`), or an error saying how
/// `what` is named.
pub(crate) fn key_parts<const N: usize>(id: &str, what: &str, form: &str) -> Result<[String; N]> {
    let parts: Vec<String> = id.split('/').map(str::to_string).collect();
    match <[String; N]>::try_from(parts) {
        Ok(parts) if parts.iter().all(|p| !p.is_empty()) => Ok(parts),
        _ => Err(ProviderError::invalid(format!(
            "the {what} `{id}` is not named as `{form}`"
        ))),
    }
}

/// One patch operation of an `Update…` call.
pub(crate) fn patch(op: Op, path: &str, value: Option<String>) -> PatchOperation {
    PatchOperation::builder()
        .op(op)
        .path(path)
        .set_value(value)
        .build()
}

/// A key as one segment of a patch path (JSON Pointer: `~` is `~0`, `/` is `~1`), so
/// `application/json` is `application~1json`.
pub(crate) fn pointer_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The operations that turn the mapping `prior` into `desired` under `prefix`
/// (`/requestParameters`): `add` for new keys, `replace` for changed ones, `remove` for keys
/// that went. Values are sent as AWS takes them in a patch: strings as they are, booleans as
/// `true`/`false`.
pub(crate) fn map_patches(
    prefix: &str,
    prior: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Vec<PatchOperation> {
    let path = |key: &str| format!("{prefix}/{}", pointer_segment(key));
    let mut ops = Vec::new();
    for (key, value) in desired {
        match prior.get(key) {
            None => ops.push(patch(Op::Add, &path(key), Some(value.clone()))),
            Some(old) if old != value => {
                ops.push(patch(Op::Replace, &path(key), Some(value.clone())))
            }
            Some(_) => {}
        }
    }
    for key in prior.keys().filter(|k| !desired.contains_key(*k)) {
        ops.push(patch(Op::Remove, &path(key), None));
    }
    ops
}

/// A mapping property of strings (`request_templates`), as plain strings; empty when not given.
pub(crate) fn string_map(props: &Map, prop: &str) -> Result<BTreeMap<String, String>> {
    let Some(value) = crate::props::given(props, prop) else {
        return Ok(BTreeMap::new());
    };
    let map = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a mapping")))?;
    map.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_string())),
            None => Err(ProviderError::invalid(format!(
                "`{prop}.{k}` must be a string, not {}",
                v.kind_name()
            ))),
        })
        .collect()
}

/// A mapping property of booleans (a method's `request_parameters`: whether each is required).
pub(crate) fn bool_map(props: &Map, prop: &str) -> Result<BTreeMap<String, bool>> {
    let Some(value) = crate::props::given(props, prop) else {
        return Ok(BTreeMap::new());
    };
    let map = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a mapping")))?;
    map.iter()
        .map(|(k, v)| match v.as_bool() {
            Some(b) => Ok((k.clone(), b)),
            None => Err(ProviderError::invalid(format!(
                "`{prop}.{k}` must be true or false, not {}",
                v.kind_name()
            ))),
        })
        .collect()
}

/// Booleans as the strings a patch operation carries.
pub(crate) fn bool_strings(map: &BTreeMap<String, bool>) -> BTreeMap<String, String> {
    map.iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect()
}

/// `Some(map)` for a non-empty mapping, so an empty one is never sent.
pub(crate) fn non_empty<V: Clone>(map: &BTreeMap<String, V>) -> Option<HashMap<String, V>> {
    (!map.is_empty()).then(|| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// A mapping AWS returned, as the property value: `None` when AWS has none.
pub(crate) fn string_map_value(map: Option<&HashMap<String, String>>) -> Option<Value> {
    map.filter(|m| !m.is_empty())
        .map(|m| Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect()))
}

/// A mapping of booleans AWS returned, as the property value: `None` when AWS has none.
pub(crate) fn bool_map_value(map: Option<&HashMap<String, bool>>) -> Option<Value> {
    map.filter(|m| !m.is_empty()).map(|m| {
        Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::Bool(*v)))
                .collect(),
        )
    })
}

tag_api! {
    /// API Gateway's tagging calls (`TagResource`, `UntagResource`), by the tagged object's ARN
    /// (an API's or a stage's).
    RestTags(aws_sdk_apigateway::Client) by resource_arn: tag_resource(tag_map), untag_resource
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_id_takes_its_api_from_the_record_or_from_the_id() {
        let prior = Map::from([("rest_api_id".to_string(), Value::str("abc123"))]);
        assert_eq!(
            child_ids("r1", &prior, "resource").unwrap(),
            ("abc123".to_string(), "r1".to_string())
        );
        assert_eq!(
            child_ids("abc123/r1", &Map::new(), "resource").unwrap(),
            ("abc123".to_string(), "r1".to_string())
        );
        assert!(child_ids("r1", &Map::new(), "resource").is_err());
    }

    #[test]
    fn a_key_id_has_exactly_its_parts() {
        let [api, resource, method] =
            key_parts::<3>("a1/r1/GET", "method", "REST_API_ID/RESOURCE_ID/HTTP_METHOD").unwrap();
        assert_eq!(
            (api.as_str(), resource.as_str(), method.as_str()),
            ("a1", "r1", "GET")
        );
        assert!(key_parts::<3>("a1/r1", "method", "F").is_err());
        assert!(key_parts::<3>("a1//GET", "method", "F").is_err());
        assert!(key_parts::<3>("a1/r1/GET/200", "method", "F").is_err());
    }

    #[test]
    fn mapping_changes_become_add_replace_and_remove_with_escaped_keys() {
        let prior = BTreeMap::from([
            ("application/json".to_string(), "a".to_string()),
            ("text/plain".to_string(), "b".to_string()),
            ("same".to_string(), "c".to_string()),
        ]);
        let desired = BTreeMap::from([
            ("application/json".to_string(), "A".to_string()),
            ("same".to_string(), "c".to_string()),
            ("new".to_string(), "d".to_string()),
        ]);
        let ops: Vec<(String, String, Option<String>)> = map_patches("/t", &prior, &desired)
            .iter()
            .map(|o| {
                (
                    o.op().map(|op| op.as_str().to_string()).unwrap_or_default(),
                    o.path().unwrap_or_default().to_string(),
                    o.value().map(str::to_string),
                )
            })
            .collect();
        assert_eq!(
            ops,
            vec![
                (
                    "replace".into(),
                    "/t/application~1json".into(),
                    Some("A".into())
                ),
                ("add".into(), "/t/new".into(), Some("d".into())),
                ("remove".into(), "/t/text~1plain".into(), None),
            ]
        );
    }
}
