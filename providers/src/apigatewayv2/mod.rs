//! The `aws.apigatewayv2.*` resource types: HTTP and WebSocket APIs, their integrations,
//! authorizers, routes and stages.
//!
//! Integrations, authorizers, routes and stages live inside an API, and API Gateway reads them by the API's
//! id and their own. Their strata id is their own id (what `${route.id}` and
//! `integrations/${integration.id}` need); the API's id comes from the recorded `api_id`, or,
//! when nothing is recorded (an import), from an id written `API_ID/ID`.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use aws_sdk_apigatewayv2::types::ProtocolType;
use stacks::{Map, Value};

use crate::aws::{api_error, missing_is_none};
use crate::tags::{tag_api, tag_map};
use crate::{ProviderError, Result};

pub mod api;
pub mod authorizer;
pub mod integration;
pub mod route;
pub mod stage;

/// How API Gateway says an API, or something in it, does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["NotFoundException"];

/// The API id and the child's own id for a child resource (integration, route, stage) with
/// strata id `id`.
pub(crate) fn child_ids(id: &str, prior: &Map, what: &str) -> Result<(String, String)> {
    if let Some(api_id) = prior.get("api_id").and_then(Value::as_str) {
        return Ok((api_id.to_string(), id.to_string()));
    }
    match id.split_once('/') {
        Some((api_id, child)) if !api_id.is_empty() && !child.is_empty() => {
            Ok((api_id.to_string(), child.to_string()))
        }
        _ => Err(ProviderError::invalid(format!(
            "the {what} `{id}` has no recorded `api_id`; name it as `API_ID/{}`",
            what.to_uppercase().replace(' ', "_")
        ))),
    }
}

/// What an API says of itself that never changes while it lives: its protocol (a change
/// replaces the API) and the endpoint it is served at.
#[derive(Clone, Debug)]
pub(crate) struct ApiFacts {
    pub protocol: Option<ProtocolType>,
    pub endpoint: String,
}

/// The [`ApiFacts`] of the APIs this process created or read, by region and API id: the
/// integrations, authorizers and stages an apply creates after their API take them from here
/// instead of asking API Gateway again.
static KNOWN_APIS: LazyLock<Mutex<HashMap<(String, String), ApiFacts>>> =
    LazyLock::new(Default::default);

fn region_of(apis: &aws_sdk_apigatewayv2::Client) -> String {
    apis.config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default()
}

/// Keeps what `GetApi` or `CreateApi` answered about an API, for [`api_facts`].
pub(crate) fn remember_api(
    apis: &aws_sdk_apigatewayv2::Client,
    api_id: &str,
    protocol: Option<&ProtocolType>,
    endpoint: &str,
) {
    let facts = ApiFacts {
        protocol: protocol.cloned(),
        endpoint: endpoint.to_string(),
    };
    KNOWN_APIS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert((region_of(apis), api_id.to_string()), facts);
}

/// The protocol and endpoint of an API: as this process last saw them, else from `GetApi`;
/// `None` when the API does not exist.
pub(crate) async fn api_facts(
    apis: &aws_sdk_apigatewayv2::Client,
    api_id: &str,
) -> Result<Option<ApiFacts>> {
    let key = (region_of(apis), api_id.to_string());
    if let Some(facts) = KNOWN_APIS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(Some(facts.clone()));
    }
    let out = apis
        .get_api()
        .api_id(api_id)
        .send()
        .await
        .map_err(api_error);
    let Some(api) = missing_is_none(out, NOT_FOUND)? else {
        return Ok(None);
    };
    let endpoint = api.api_endpoint().ok_or_else(|| {
        ProviderError::invalid(format!("GetApi returned no endpoint for API {api_id}"))
    })?;
    remember_api(apis, api_id, api.protocol_type(), endpoint);
    Ok(Some(ApiFacts {
        protocol: api.protocol_type().cloned(),
        endpoint: endpoint.to_string(),
    }))
}

/// Whether the API is an HTTP API (not a WebSocket one), as [`api_facts`] knows it.
pub(crate) async fn is_http_api(apis: &aws_sdk_apigatewayv2::Client, api_id: &str) -> Result<bool> {
    let facts = api_facts(apis, api_id)
        .await?
        .ok_or_else(|| ProviderError::invalid(format!("API {api_id} does not exist")))?;
    Ok(facts.protocol == Some(ProtocolType::Http))
}

tag_api! {
    /// API Gateway's tagging calls for one API (`TagResource`, `UntagResource`), by the API's
    /// ARN.
    ApiTags(aws_sdk_apigatewayv2::Client) by resource_arn: tag_resource(tag_map), untag_resource
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_id_takes_its_api_from_the_record_or_from_the_id() {
        let prior = Map::from([("api_id".to_string(), Value::str("abc123"))]);
        assert_eq!(
            child_ids("r1", &prior, "route").unwrap(),
            ("abc123".to_string(), "r1".to_string())
        );
        assert_eq!(
            child_ids("abc123/r1", &Map::new(), "route").unwrap(),
            ("abc123".to_string(), "r1".to_string())
        );
        assert!(child_ids("r1", &Map::new(), "route").is_err());
    }
}
