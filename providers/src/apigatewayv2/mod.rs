//! The `aws.apigatewayv2.*` resource types: HTTP and WebSocket APIs, their integrations,
//! authorizers, routes and stages.
//!
//! Integrations, authorizers, routes and stages live inside an API, and API Gateway reads them by the API's
//! id and their own. Their strata id is their own id (what `${route.id}` and
//! `integrations/${integration.id}` need); the API's id comes from the recorded `api_id`, or,
//! when nothing is recorded (an import), from an id written `API_ID/ID`.

use stacks::{Map, Value};

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
