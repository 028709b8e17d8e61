//! `aws.apigatewayv2.integration`: where an API's route sends its requests (a Lambda function,
//! an HTTP endpoint, a mock).
//!
//! The id is the integration id, which routes name as `integrations/ID`; the API comes from the
//! recorded `api_id` (see the module notes).
//!
//! Defaults differ by integration type, so they are applied here rather than in the schema: a
//! Lambda proxy (`AWS_PROXY`) is invoked with `POST` and, on an HTTP API, with payload format
//! `2.0`; for every other type API Gateway accepts only payload format `1.0`, its own default,
//! so a schema-wide `2.0` would make them fail.
//!
//! An AWS service integration of an HTTP API (`AWS_PROXY` with an `integration_subtype` such as
//! `StepFunctions-StartExecution`) has no URI: it maps the request into the service call with
//! `request_parameters` and calls it as the role in `credentials_arn`, with payload format
//! `1.0`, the only one such integrations take.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigatewayv2::types::IntegrationType;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{child_ids, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, required_str};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigatewayv2.integration";

/// The integration types API Gateway v2 offers.
const INTEGRATION_TYPES: &[&str] = &["AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"];

/// How API Gateway invokes a Lambda function.
const LAMBDA_PROXY_METHOD: &str = "POST";
/// The payload format strata asks for on a Lambda proxy of an HTTP API: the current one.
const LAMBDA_PROXY_PAYLOAD_FORMAT: &str = "2.0";
/// The payload format of an AWS service integration (one with an `integration_subtype`): the
/// only one API Gateway takes for them.
const SERVICE_PAYLOAD_FORMAT: &str = "1.0";

/// The integration's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("api_id", Kind::String).required().force_new(),
            Prop::new("integration_type", Kind::String)
                .required()
                .force_new()
                .allowed(INTEGRATION_TYPES),
            Prop::new("integration_uri", Kind::String),
            Prop::new("integration_subtype", Kind::String)
                .force_new()
                .length(1, 128),
            Prop::new("integration_method", Kind::String),
            Prop::new("payload_format_version", Kind::String),
            Prop::new("timeout_in_millis", Kind::Integer),
            Prop::new("credentials_arn", Kind::String).arn(&["iam"]),
            Prop::new("request_parameters", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigatewayv2.integration`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(IntegrationProvider::new(ctx)),
    about: "Where an API's route sends its requests (a Lambda function, an HTTP endpoint, a \
            mock); a Lambda proxy gets `POST` and, on an HTTP API, payload format `2.0`.",
    import_id: "`API_ID/INTEGRATION_ID`",
    attributes: &[(
        "id",
        "the integration id, which a route's `target` names as `integrations/ID`",
    )],
    property_notes: &[
        (
            "payload_format_version",
            "`2.0` when left out for a Lambda proxy integration of an HTTP API (AWS's console \
             default; Terraform's is `1.0`: write `1.0` when porting a function that reads the \
             1.0 event shape), else `1.0`, the only version other integrations take",
        ),
        (
            "integration_uri",
            "required except for an AWS service integration (one with an \
             `integration_subtype`)",
        ),
        (
            "integration_subtype",
            "an AWS service integration of an HTTP API (`StepFunctions-StartExecution`, \
             `SQS-SendMessage`, `EventBridge-PutEvents`, ...), with `request_parameters` and \
             `credentials_arn`",
        ),
        (
            "request_parameters",
            "for a service integration, the service call's parameters (`StateMachineArn`, \
             `Input: $request.body`); a key taken out is removed",
        ),
    ],
    actions: Actions {
        create: &["apigateway:POST", "apigateway:GET", "iam:PassRole"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "iam:PassRole"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/apis/{api_id}/integrations",
        "arn:{partition}:apigateway:{region}::/apis/{api_id}/integrations/*",
    ],
    passes_role: &[("credentials_arn", "apigateway.amazonaws.com")],
};

fn optional_str(props: &Map, prop: &str) -> Result<Option<String>> {
    match given(props, prop) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ProviderError::invalid(format!(
            "`{prop}` must be a string, not {}",
            other.kind_name()
        ))),
    }
}

fn timeout(props: &Map) -> Result<Option<i32>> {
    match given(props, "timeout_in_millis") {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ProviderError::invalid("`timeout_in_millis` must be a whole number")),
    }
}

/// A Lambda proxy: `AWS_PROXY` without a subtype (with one, it is an AWS service integration).
fn is_lambda_proxy(props: &Map) -> bool {
    given(props, "integration_type").and_then(|v| v.as_str().map(str::to_string))
        == Some("AWS_PROXY".to_string())
        && given(props, "integration_subtype").is_none()
}

/// The `request_parameters` the stack gives, as the SDK takes them.
fn request_parameters(props: &Map) -> Result<Option<HashMap<String, String>>> {
    let Some(value) = given(props, "request_parameters") else {
        return Ok(None);
    };
    let map = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid("`request_parameters` must be a mapping"))?;
    map.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_string())),
            None => Err(ProviderError::invalid(format!(
                "`request_parameters.{k}` must be a string"
            ))),
        })
        .collect::<Result<_>>()
        .map(Some)
}

/// The integration in the stack's terms from an answer describing it (`GetIntegration`'s, or
/// `CreateIntegration`'s, which has the same fields).
macro_rules! integration_resource {
    ($answer:expr, $api_id:expr, $id:expr) => {{
        let answer = &$answer;
        let mut properties = Map::from([("api_id".to_string(), Value::str($api_id))]);
        if let Some(kind) = answer.integration_type() {
            properties.insert("integration_type".into(), Value::str(kind.as_str()));
        }
        for (prop, value) in [
            ("integration_uri", answer.integration_uri()),
            ("integration_subtype", answer.integration_subtype()),
            ("credentials_arn", answer.credentials_arn()),
            ("integration_method", answer.integration_method()),
            ("payload_format_version", answer.payload_format_version()),
        ] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                properties.insert(prop.to_string(), Value::str(value));
            }
        }
        if let Some(millis) = answer.timeout_in_millis() {
            properties.insert("timeout_in_millis".into(), Value::int(millis.into()));
        }
        if let Some(params) = answer.request_parameters().filter(|p| !p.is_empty()) {
            properties.insert(
                "request_parameters".into(),
                Value::Map(
                    params
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::str(v)))
                        .collect(),
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

/// Manages API Gateway v2 integrations; the id is the integration id.
pub struct IntegrationProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigatewayv2::Client,
}

impl IntegrationProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigatewayv2, ctx),
        }
    }

    /// The payload format to send: the stack's, else `2.0` for a Lambda proxy on an HTTP API,
    /// else none (API Gateway's `1.0`).
    async fn payload_format(&self, api_id: &str, props: &Map) -> Result<Option<String>> {
        if let Some(version) = optional_str(props, "payload_format_version")? {
            return Ok(Some(version));
        }
        if given(props, "integration_subtype").is_some() {
            return Ok(Some(SERVICE_PAYLOAD_FORMAT.to_string()));
        }
        if !is_lambda_proxy(props) {
            return Ok(None);
        }
        Ok(super::is_http_api(&self.apis, api_id)
            .await?
            .then(|| LAMBDA_PROXY_PAYLOAD_FORMAT.to_string()))
    }

    /// The method to send: the stack's, else `POST` for a Lambda proxy.
    fn method(props: &Map) -> Result<Option<String>> {
        Ok(optional_str(props, "integration_method")?
            .or_else(|| is_lambda_proxy(props).then(|| LAMBDA_PROXY_METHOD.to_string())))
    }

    /// The integration in the stack's terms, or `None` when it (or its API) does not exist.
    async fn find_integration(&self, api_id: &str, id: &str) -> Result<Option<Resource>> {
        let out = self
            .apis
            .get_integration()
            .api_id(api_id)
            .integration_id(id)
            .send()
            .await
            .map_err(api_error);
        let Some(integration) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        Ok(Some(integration_resource!(integration, api_id, id)))
    }

    async fn read_existing(&self, api_id: &str, id: &str) -> Result<Resource> {
        self.find_integration(api_id, id).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "integration {id} of API {api_id} was written but cannot be read back"
            ))
        })
    }
}

#[async_trait]
impl Provider for IntegrationProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let api_id = required_str(props, "api_id")?;
        let kind = required_str(props, "integration_type")?;
        let out = self
            .apis
            .create_integration()
            .api_id(&api_id)
            .integration_type(IntegrationType::from(kind.as_str()))
            .set_integration_uri(optional_str(props, "integration_uri")?)
            .set_integration_subtype(optional_str(props, "integration_subtype")?)
            .set_credentials_arn(optional_str(props, "credentials_arn")?)
            .set_request_parameters(request_parameters(props)?)
            .set_integration_method(Self::method(props)?)
            .set_payload_format_version(self.payload_format(&api_id, props).await?)
            .set_timeout_in_millis(timeout(props)?)
            .send()
            .await
            .map_err(api_error)?;
        let id = out
            .integration_id()
            .ok_or_else(|| ProviderError::invalid("CreateIntegration returned no id"))?;
        // Nothing read back: the answer describes the integration as made.
        Ok(integration_resource!(out, api_id.as_str(), id))
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "integration")?;
        self.find_integration(&api_id, &id).await
    }

    /// One `UpdateIntegration` with the fields that changed. A method or payload format that
    /// leaves the stack goes back to the type's default where it has one; a timeout that leaves
    /// it stays as it is (API Gateway cannot unset it).
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "integration")?;
        let props = &req.properties;
        let mut call = self
            .apis
            .update_integration()
            .api_id(&api_id)
            .integration_id(&id);
        let mut update = false;
        for prop in &req.changed {
            match prop.as_str() {
                "integration_uri" => {
                    if let Some(uri) = optional_str(props, "integration_uri")? {
                        call = call.integration_uri(uri);
                        update = true;
                    }
                }
                "integration_method" => {
                    if let Some(method) = Self::method(props)? {
                        call = call.integration_method(method);
                        update = true;
                    }
                }
                "payload_format_version" => {
                    if let Some(version) = self.payload_format(&api_id, props).await? {
                        call = call.payload_format_version(version);
                        update = true;
                    }
                }
                "timeout_in_millis" => {
                    if let Some(millis) = timeout(props)? {
                        call = call.timeout_in_millis(millis);
                        update = true;
                    }
                }
                "credentials_arn" => {
                    // An empty ARN removes the credentials.
                    call = call.credentials_arn(
                        optional_str(props, "credentials_arn")?.unwrap_or_default(),
                    );
                    update = true;
                }
                "request_parameters" => {
                    // A key taken out is sent empty, which removes it (as Terraform does).
                    let mut params = request_parameters(props)?.unwrap_or_default();
                    if let Some(Value::Map(prior)) =
                        given(&req.prior_properties, "request_parameters")
                    {
                        for key in prior.keys() {
                            params.entry(key.clone()).or_default();
                        }
                    }
                    call = call.set_request_parameters(Some(params));
                    update = true;
                }
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if update {
            call.send().await.map_err(api_error)?;
        }
        let mut resource = self.read_existing(&api_id, &id).await?;
        resource.id = req.id.clone();
        Ok(resource)
    }

    /// Deletes the integration; one already gone (or whose API is gone) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (api_id, id) = child_ids(&req.id, &req.properties, "integration")?;
        let out = self
            .apis
            .delete_integration()
            .api_id(api_id)
            .integration_id(id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the API's integration of the same type (and subtype) to the same URI (or none).
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let props = &req.properties;
        let api_id = required_str(props, "api_id")?;
        let kind = required_str(props, "integration_type")?;
        let uri = optional_str(props, "integration_uri")?;
        let subtype = optional_str(props, "integration_subtype")?;
        let mut next_token = None;
        loop {
            let out = self
                .apis
                .get_integrations()
                .api_id(&api_id)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(api_error);
            let Some(out) = missing_is_none(out, NOT_FOUND)? else {
                return Ok(None);
            };
            let found = out.items().iter().find(|i| {
                i.integration_type().map(|t| t.as_str()) == Some(kind.as_str())
                    && i.integration_uri().filter(|u| !u.is_empty()) == uri.as_deref()
                    && i.integration_subtype().filter(|s| !s.is_empty()) == subtype.as_deref()
            });
            if let Some(id) = found.and_then(|i| i.integration_id()) {
                return self.find_integration(&api_id, id).await;
            }
            match out.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                _ => return Ok(None),
            }
        }
    }
}
