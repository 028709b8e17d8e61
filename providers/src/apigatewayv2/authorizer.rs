//! `aws.apigatewayv2.authorizer`: who may call an API's routes: a JWT authorizer (tokens from
//! an issuer, for an audience) or a Lambda `REQUEST` authorizer.
//!
//! `CreateAuthorizer` makes it, `UpdateAuthorizer` changes everything but the API and the
//! type in place, `DeleteAuthorizer` removes it. As terraform-provider-aws does, a `REQUEST`
//! authorizer of an HTTP API with identity sources and no `authorizer_result_ttl_in_seconds`
//! caches results for 300 s (the console's default), set explicitly at create so that a later
//! `0` is a change. The name is derived from stack and address when the stack gives none.
//!
//! The id is the authorizer id, which routes name in `authorizer_id`; the API comes from the
//! recorded `api_id` (see the module notes).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_apigatewayv2::types::{AuthorizerType, JwtConfiguration};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{child_ids, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, given_str, required_str, set_in_prior_order};
use crate::retry::delete_with_backoff;
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigatewayv2.authorizer";

/// API Gateway's limit on an authorizer name.
const NAME_MAX_LEN: usize = 128;

/// The kinds of authorizer an HTTP API has.
const AUTHORIZER_TYPES: &[&str] = &["JWT", "REQUEST"];

/// The payload formats a Lambda authorizer may be sent.
const PAYLOAD_FORMAT_VERSIONS: &[&str] = &["1.0", "2.0"];

/// How long (s) a `REQUEST` authorizer of an HTTP API caches its answers when the stack says
/// nothing: the AWS console's default, which terraform-provider-aws also sets.
const DEFAULT_REQUEST_RESULT_TTL: i32 = 300;

/// How long a delete keeps retrying while API Gateway refuses it (`ConflictException`: a
/// route still names the authorizer, and the route's update or delete is still settling).
/// terraform-provider-aws allows its whole delete timeout, 30 minutes.
const DELETE_CONFLICT_BUDGET: Duration = Duration::from_secs(30 * 60);

/// The authorizer's properties.
pub fn schema() -> TypeSchema {
    let strings = || Kind::List(Box::new(Kind::String));
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("api_id", Kind::String).required().force_new(),
            Prop::new("authorizer_type", Kind::String)
                .required()
                .force_new()
                .allowed(AUTHORIZER_TYPES),
            Prop::new("name", Kind::String),
            Prop::new("identity_sources", strings()),
            Prop::new(
                "jwt_configuration",
                Kind::Object(vec![
                    Prop::new("audience", strings()),
                    Prop::new("issuer", Kind::String),
                ]),
            ),
            Prop::new("authorizer_uri", Kind::String),
            Prop::new("authorizer_payload_format_version", Kind::String)
                .allowed(PAYLOAD_FORMAT_VERSIONS),
            Prop::new("authorizer_result_ttl_in_seconds", Kind::Integer),
            Prop::new("enable_simple_responses", Kind::Bool),
            Prop::new("authorizer_credentials_arn", Kind::String)
                .arn(&["iam"])
                .resettable(),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.apigatewayv2.authorizer`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(AuthorizerProvider::new(ctx)),
    about: "Who may call an API's routes: a JWT authorizer (tokens of an issuer, for an \
            audience) or a Lambda `REQUEST` authorizer; routes name it in `authorizer_id`.",
    import_id: "`API_ID/AUTHORIZER_ID`",
    attributes: &[(
        "id",
        "the authorizer id, which a route's `authorizer_id` names",
    )],
    property_notes: &[
        (
            "identity_sources",
            "where the token or identity is (`$request.header.Authorization`)",
        ),
        (
            "jwt_configuration",
            "`{audience, issuer}`, for a `JWT` authorizer",
        ),
        (
            "authorizer_uri",
            "a Lambda function's `invoke_arn`, for a `REQUEST` authorizer",
        ),
        (
            "authorizer_result_ttl_in_seconds",
            "300 for a `REQUEST` authorizer of an HTTP API with identity sources, unless given",
        ),
    ],
    actions: Actions {
        create: &["apigateway:POST", "apigateway:GET", "iam:PassRole"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "apigateway:GET", "iam:PassRole"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/apis/{api_id}/authorizers",
        "arn:{partition}:apigateway:{region}::/apis/{api_id}/authorizers/*",
    ],
    passes_role: &[("authorizer_credentials_arn", "apigateway.amazonaws.com")],
};

fn strings(prop: &str, value: Option<&Value>) -> Result<Option<Vec<String>>> {
    let Some(value) = value.filter(|v| **v != Value::Null) else {
        return Ok(None);
    };
    let items = value
        .as_list()
        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a list of strings")))?;
    items
        .iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                ProviderError::invalid(format!("`{prop}` must be a list of strings"))
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn ttl(props: &Map) -> Result<Option<i32>> {
    match given(props, "authorizer_result_ttl_in_seconds") {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| (0..=3600).contains(n))
            .map(Some)
            .ok_or_else(|| {
                ProviderError::invalid(
                    "`authorizer_result_ttl_in_seconds` must be a whole number from 0 to 3600",
                )
            }),
    }
}

/// `jwt_configuration` as API Gateway takes it (an empty one when the stack gives none).
fn jwt_from(props: &Map) -> Result<JwtConfiguration> {
    let Some(value) = given(props, "jwt_configuration") else {
        return Ok(JwtConfiguration::builder().build());
    };
    let fields = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid("`jwt_configuration` must be a mapping"))?;
    Ok(JwtConfiguration::builder()
        .set_audience(strings(
            "jwt_configuration.audience",
            fields.get("audience"),
        )?)
        .set_issuer(
            fields
                .get("issuer")
                .and_then(Value::as_str)
                .map(str::to_string),
        )
        .build())
}

/// `jwt_configuration` as read: the audience (in the stack's order) and the issuer, each
/// when set or written by the stack.
fn jwt_value(jwt: Option<&JwtConfiguration>, prior: Option<&Value>) -> Option<Value> {
    let jwt = jwt?;
    let prior = prior.and_then(Value::as_map);
    let mut fields = Map::new();
    if !jwt.audience().is_empty() || prior.is_some_and(|p| p.contains_key("audience")) {
        fields.insert(
            "audience".into(),
            set_in_prior_order(
                prior.and_then(|p| p.get("audience")),
                jwt.audience().iter().cloned(),
            ),
        );
    }
    if let Some(issuer) = jwt.issuer().filter(|i| !i.is_empty()) {
        fields.insert("issuer".into(), Value::str(issuer));
    }
    (!fields.is_empty()).then_some(Value::Map(fields))
}

/// What API Gateway refuses, checked before the call: a JWT authorizer needs an issuer and an
/// identity source, a `REQUEST` authorizer a Lambda to call.
fn check(props: &Map) -> Result<()> {
    match required_str(props, "authorizer_type")?.as_str() {
        "JWT" => {
            if jwt_from(props)?.issuer().is_none() {
                return Err(ProviderError::invalid(
                    "a JWT authorizer needs `jwt_configuration.issuer`",
                ));
            }
            if strings("identity_sources", props.get("identity_sources"))?
                .unwrap_or_default()
                .is_empty()
            {
                return Err(ProviderError::invalid(
                    "a JWT authorizer needs `identity_sources` (`$request.header.Authorization`)",
                ));
            }
        }
        _ => {
            if given_str(props, "authorizer_uri").is_none() {
                return Err(ProviderError::invalid(
                    "a REQUEST authorizer needs `authorizer_uri` (a Lambda function's invoke_arn)",
                ));
            }
        }
    }
    Ok(())
}

/// Manages API Gateway v2 authorizers; the id is the authorizer id.
pub struct AuthorizerProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigatewayv2::Client,
}

impl AuthorizerProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigatewayv2, ctx),
        }
    }

    /// The authorizer in the stack's terms, or `None` when it (or its API) does not exist.
    async fn find_authorizer(
        &self,
        api_id: &str,
        id: &str,
        prior: &Map,
    ) -> Result<Option<Resource>> {
        let out = self
            .apis
            .get_authorizer()
            .api_id(api_id)
            .authorizer_id(id)
            .send()
            .await
            .map_err(api_error);
        let Some(found) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let mut properties = Map::from([
            ("api_id".to_string(), Value::str(api_id)),
            (
                "authorizer_type".to_string(),
                Value::str(found.authorizer_type().map_or("", |t| t.as_str())),
            ),
            (
                "name".to_string(),
                Value::str(found.name().unwrap_or_default()),
            ),
            (
                "identity_sources".to_string(),
                set_in_prior_order(
                    prior.get("identity_sources"),
                    found.identity_source().iter().cloned(),
                ),
            ),
        ]);
        if let Some(jwt) = jwt_value(found.jwt_configuration(), prior.get("jwt_configuration")) {
            properties.insert("jwt_configuration".into(), jwt);
        }
        for (prop, value) in [
            ("authorizer_uri", found.authorizer_uri()),
            (
                "authorizer_payload_format_version",
                found.authorizer_payload_format_version(),
            ),
            (
                "authorizer_credentials_arn",
                found.authorizer_credentials_arn(),
            ),
        ] {
            if let Some(text) = value.filter(|t| !t.is_empty()) {
                properties.insert(prop.into(), Value::str(text));
            }
        }
        if let Some(ttl) = found.authorizer_result_ttl_in_seconds() {
            properties.insert(
                "authorizer_result_ttl_in_seconds".into(),
                Value::int(i64::from(ttl)),
            );
        }
        if let Some(simple) = found.enable_simple_responses() {
            properties.insert("enable_simple_responses".into(), Value::Bool(simple));
        }
        Ok(Some(Resource {
            id: id.to_string(),
            properties,
            attributes: Map::from([("id".to_string(), Value::str(id))]),
        }))
    }

    async fn read_existing(&self, api_id: &str, id: &str, props: &Map) -> Result<Resource> {
        self.find_authorizer(api_id, id, props)
            .await?
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "authorizer {id} of API {api_id} was written but cannot be read back"
                ))
            })
    }

    /// The result TTL to create with: the stack's, else 300 s for a `REQUEST` authorizer of an
    /// HTTP API with identity sources (see the module notes).
    async fn create_ttl(&self, api_id: &str, props: &Map) -> Result<Option<i32>> {
        if let Some(ttl) = ttl(props)? {
            return Ok(Some(ttl));
        }
        let request = required_str(props, "authorizer_type")? == "REQUEST";
        let sources =
            strings("identity_sources", props.get("identity_sources"))?.unwrap_or_default();
        if !request || sources.is_empty() {
            return Ok(None);
        }
        Ok(super::is_http_api(&self.apis, api_id)
            .await?
            .then_some(DEFAULT_REQUEST_RESULT_TTL))
    }
}

#[async_trait]
impl Provider for AuthorizerProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        check(props)?;
        let api_id = required_str(props, "api_id")?;
        let kind = required_str(props, "authorizer_type")?;
        let jwt = given(props, "jwt_configuration")
            .map(|_| jwt_from(props))
            .transpose()?;
        let out = self
            .apis
            .create_authorizer()
            .api_id(&api_id)
            .authorizer_type(AuthorizerType::from(kind.as_str()))
            .name(required_str(props, "name")?)
            .set_identity_source(strings("identity_sources", props.get("identity_sources"))?)
            .set_jwt_configuration(jwt)
            .set_authorizer_uri(given_str(props, "authorizer_uri"))
            .set_authorizer_payload_format_version(given_str(
                props,
                "authorizer_payload_format_version",
            ))
            .set_authorizer_result_ttl_in_seconds(self.create_ttl(&api_id, props).await?)
            .set_enable_simple_responses(
                given(props, "enable_simple_responses").and_then(|v| v.as_bool()),
            )
            .set_authorizer_credentials_arn(given_str(props, "authorizer_credentials_arn"))
            .send()
            .await
            .map_err(api_error)?;
        let id = out
            .authorizer_id()
            .ok_or_else(|| ProviderError::invalid("CreateAuthorizer returned no id"))?;
        after_made(id, self.read_existing(&api_id, id, props)).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "authorizer")?;
        self.find_authorizer(&api_id, &id, &req.prior_properties)
            .await
    }

    /// One `UpdateAuthorizer` with the fields that changed; credentials taken out of the
    /// stack are cleared.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "authorizer")?;
        let props = &req.properties;
        check(props)?;
        let mut call = self
            .apis
            .update_authorizer()
            .api_id(&api_id)
            .authorizer_id(&id);
        for prop in &req.changed {
            call = match prop.as_str() {
                "name" => call.name(required_str(props, "name")?),
                "identity_sources" => call.set_identity_source(Some(
                    strings("identity_sources", props.get("identity_sources"))?.unwrap_or_default(),
                )),
                "jwt_configuration" => call.jwt_configuration(jwt_from(props)?),
                "authorizer_uri" => {
                    call.authorizer_uri(given_str(props, "authorizer_uri").unwrap_or_default())
                }
                "authorizer_payload_format_version" => call.set_authorizer_payload_format_version(
                    given_str(props, "authorizer_payload_format_version"),
                ),
                "authorizer_result_ttl_in_seconds" => {
                    call.set_authorizer_result_ttl_in_seconds(ttl(props)?)
                }
                "enable_simple_responses" => call.enable_simple_responses(
                    given(props, "enable_simple_responses").and_then(|v| v.as_bool()) == Some(true),
                ),
                "authorizer_credentials_arn" => call.authorizer_credentials_arn(
                    given_str(props, "authorizer_credentials_arn").unwrap_or_default(),
                ),
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

    /// Deletes the authorizer (retrying while a route still holds it); one already gone (or
    /// whose API is gone) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (api_id, id) = child_ids(&req.id, &req.properties, "authorizer")?;
        delete_with_backoff(
            DELETE_CONFLICT_BUDGET,
            &["ConflictException"],
            NOT_FOUND,
            || {
                let call = self
                    .apis
                    .delete_authorizer()
                    .api_id(&api_id)
                    .authorizer_id(&id);
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await
    }

    /// Finds the API's authorizer with the (deterministic) name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let api_id = required_str(&req.properties, "api_id")?;
        let name = required_str(&req.properties, "name")?;
        let mut next_token = None;
        loop {
            let out = self
                .apis
                .get_authorizers()
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
                .find(|a| a.name() == Some(name.as_str()))
                .and_then(|a| a.authorizer_id());
            if let Some(id) = found {
                return self.find_authorizer(&api_id, id, &req.properties).await;
            }
            match out.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                _ => return Ok(None),
            }
        }
    }
}

/// What the loader checks of an authorizer's properties together (`TypeSchema::check`): what
/// its type needs, a cache time API Gateway takes.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        check(props)?;
        ttl(props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(json: serde_json::Value) -> Map {
        match Value::from_json(json) {
            Value::Map(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_jwt_authorizer_needs_an_issuer_and_an_identity_source() {
        let ok = props(serde_json::json!({
            "authorizer_type": "JWT",
            "identity_sources": ["$request.header.Authorization"],
            "jwt_configuration": { "audience": ["api"], "issuer": "https://issuer.example" },
        }));
        assert!(check(&ok).is_ok());
        let mut no_issuer = ok.clone();
        no_issuer.remove("jwt_configuration");
        assert!(check(&no_issuer).is_err());
        let mut no_source = ok;
        no_source.remove("identity_sources");
        assert!(check(&no_source).is_err());
        assert!(check(&props(serde_json::json!({ "authorizer_type": "REQUEST" }))).is_err());
    }

    #[test]
    fn a_jwt_configuration_reads_back_in_the_stacks_order() {
        let written = Value::from_json(serde_json::json!({
            "audience": ["web", "api"],
            "issuer": "https://issuer.example",
        }));
        let jwt = jwt_from(&Map::from([(
            "jwt_configuration".to_string(),
            written.clone(),
        )]))
        .unwrap();
        assert_eq!(jwt_value(Some(&jwt), Some(&written)), Some(written));
        assert_eq!(jwt_value(None, None), None);
    }
}
