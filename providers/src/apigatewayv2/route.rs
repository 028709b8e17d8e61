//! `aws.apigatewayv2.route`: a route key (`POST /orders`, `$default`) of an API and the
//! integration it sends to.
//!
//! The id is the route id; the API comes from the recorded `api_id` (see the module notes).
//! The route key, target and authorization (type, authorizer and scopes) change in place with
//! `UpdateRoute`.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigatewayv2::types::AuthorizationType;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{child_ids, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str, set_in_prior_order};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigatewayv2.route";

/// How API Gateway v2 may authorize a route.
const AUTHORIZATION_TYPES: &[&str] = &["NONE", "AWS_IAM", "CUSTOM", "JWT"];

/// A route open to everyone: API Gateway's default.
const NO_AUTHORIZATION: &str = "NONE";

/// The route's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("api_id", Kind::String).required().force_new(),
            Prop::new("route_key", Kind::String).required(),
            Prop::new("target", Kind::String),
            Prop::new("authorization_type", Kind::String)
                .default(NO_AUTHORIZATION)
                .allowed(AUTHORIZATION_TYPES),
            Prop::new("authorizer_id", Kind::String).resettable(),
            Prop::new("authorization_scopes", Kind::List(Box::new(Kind::String))).resettable(),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigatewayv2.route`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(RouteProvider::new(ctx)),
    about: "A route key of an API (`POST /orders`, `$default`) and the integration it sends \
            to.",
    import_id: "`API_ID/ROUTE_ID`",
    attributes: &[("id", "the route id")],
    property_notes: &[
        ("target", "`integrations/INTEGRATION_ID`"),
        (
            "authorizer_id",
            "an `aws.apigatewayv2.authorizer`'s `id`, with `authorization_type` `JWT` or `CUSTOM`",
        ),
        (
            "authorization_scopes",
            "the scopes a JWT must hold (any one of them)",
        ),
    ],
    actions: Actions {
        create: &["apigateway:POST"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/apis/{api_id}/routes",
        "arn:{partition}:apigateway:{region}::/apis/{api_id}/routes/*",
    ],
    passes_role: &[],
};

/// The route in the stack's terms from an answer describing it (`GetRoute`'s, or
/// `CreateRoute`'s, which has the same fields); `prior` orders the scopes.
macro_rules! route_resource {
    ($answer:expr, $api_id:expr, $id:expr, $prior:expr) => {{
        let answer = &$answer;
        let mut properties = Map::from([
            ("api_id".to_string(), Value::str($api_id)),
            (
                "route_key".to_string(),
                Value::str(answer.route_key().unwrap_or_default()),
            ),
            (
                "authorization_type".to_string(),
                Value::str(
                    answer
                        .authorization_type()
                        .map_or(NO_AUTHORIZATION, |a| a.as_str()),
                ),
            ),
        ]);
        if let Some(target) = answer.target().filter(|t| !t.is_empty()) {
            properties.insert("target".into(), Value::str(target));
        }
        if let Some(authorizer) = answer.authorizer_id().filter(|a| !a.is_empty()) {
            properties.insert("authorizer_id".into(), Value::str(authorizer));
        }
        if !answer.authorization_scopes().is_empty() {
            properties.insert(
                "authorization_scopes".into(),
                set_in_prior_order(
                    $prior.get("authorization_scopes"),
                    answer.authorization_scopes().iter().cloned(),
                ),
            );
        }
        Resource {
            id: $id.to_string(),
            properties,
            attributes: Map::from([("id".to_string(), Value::str($id))]),
        }
    }};
}

/// Manages API Gateway v2 routes; the id is the route id.
pub struct RouteProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigatewayv2::Client,
}

impl RouteProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigatewayv2, ctx),
        }
    }

    fn authorization(&self, props: &Map) -> AuthorizationType {
        let kind = desired(&self.schema, props, "authorization_type")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| NO_AUTHORIZATION.to_string());
        AuthorizationType::from(kind.as_str())
    }

    /// The route in the stack's terms, or `None` when it (or its API) does not exist. `prior`
    /// is what the stack wrote (for the order of the scopes).
    async fn find_route(&self, api_id: &str, id: &str, prior: &Map) -> Result<Option<Resource>> {
        let out = self
            .apis
            .get_route()
            .api_id(api_id)
            .route_id(id)
            .send()
            .await
            .map_err(api_error);
        let Some(route) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        Ok(Some(route_resource!(route, api_id, id, prior)))
    }

    async fn read_existing(&self, api_id: &str, id: &str, props: &Map) -> Result<Resource> {
        self.find_route(api_id, id, props).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "route {id} of API {api_id} was written but cannot be read back"
            ))
        })
    }
}

fn target(props: &Map) -> Option<String> {
    given(props, "target").and_then(|v| v.as_str().map(str::to_string))
}

fn authorizer_id(props: &Map) -> Option<String> {
    given(props, "authorizer_id").and_then(|v| v.as_str().map(str::to_string))
}

/// The scopes the stack gives, or `None`.
fn scopes(props: &Map) -> Result<Option<Vec<String>>> {
    let Some(value) = given(props, "authorization_scopes") else {
        return Ok(None);
    };
    let invalid = || ProviderError::invalid("`authorization_scopes` must be a list of strings");
    value
        .as_list()
        .ok_or_else(invalid)?
        .iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(invalid))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

#[async_trait]
impl Provider for RouteProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let api_id = required_str(props, "api_id")?;
        let out = self
            .apis
            .create_route()
            .api_id(&api_id)
            .route_key(required_str(props, "route_key")?)
            .set_target(target(props))
            .authorization_type(self.authorization(props))
            .set_authorizer_id(authorizer_id(props))
            .set_authorization_scopes(scopes(props)?)
            .send()
            .await
            .map_err(api_error)?;
        let id = out
            .route_id()
            .ok_or_else(|| ProviderError::invalid("CreateRoute returned no id"))?;
        // Nothing read back: the answer describes the route as made.
        Ok(route_resource!(out, api_id.as_str(), id, props))
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "route")?;
        self.find_route(&api_id, &id, &req.prior_properties).await
    }

    /// One `UpdateRoute` with the fields that changed; a target that leaves the stack is
    /// cleared (an empty target), an authorization that leaves it goes back to `NONE`.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "route")?;
        let props = &req.properties;
        let mut call = self.apis.update_route().api_id(&api_id).route_id(&id);
        for prop in &req.changed {
            call = match prop.as_str() {
                "route_key" => call.route_key(required_str(props, "route_key")?),
                "target" => call.target(target(props).unwrap_or_default()),
                "authorization_type" => call.authorization_type(self.authorization(props)),
                "authorizer_id" => call.authorizer_id(authorizer_id(props).unwrap_or_default()),
                "authorization_scopes" => {
                    call.set_authorization_scopes(Some(scopes(props)?.unwrap_or_default()))
                }
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            };
        }
        if !req.changed.is_empty() {
            call.send().await.map_err(api_error)?;
        }
        let mut resource = self.read_existing(&api_id, &id, props).await?;
        resource.id = req.id.clone();
        Ok(resource)
    }

    /// Deletes the route; one already gone (or whose API is gone) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (api_id, id) = child_ids(&req.id, &req.properties, "route")?;
        let out = self
            .apis
            .delete_route()
            .api_id(api_id)
            .route_id(id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the API's route with the same route key (route keys are unique within an API).
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let api_id = required_str(&req.properties, "api_id")?;
        let route_key = required_str(&req.properties, "route_key")?;
        let mut next_token = None;
        loop {
            let out = self
                .apis
                .get_routes()
                .api_id(&api_id)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(api_error);
            let Some(out) = missing_is_none(out, NOT_FOUND)? else {
                return Ok(None);
            };
            let found = out
                .items()
                .iter()
                .find(|r| r.route_key() == Some(route_key.as_str()));
            if let Some(id) = found.and_then(|r| r.route_id()) {
                return self.find_route(&api_id, id, &req.properties).await;
            }
            match out.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                _ => return Ok(None),
            }
        }
    }
}
