//! `aws.apigateway.integration`: where a REST API method sends its requests (a Lambda
//! function through a proxy, an AWS service, an HTTP endpoint, a mock).
//!
//! An integration belongs to its method and has no id of its own: its id is the method's key,
//! `REST_API_ID/RESOURCE_ID/HTTP_METHOD` (see the module notes). Everything but the key changes
//! in place with `UpdateIntegration`.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigateway::types::{IntegrationType, Op};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::method::method_key;
use super::{map_patches, non_empty, patch, string_map, string_map_value};
use super::{HTTP_METHODS, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given_str, required_str};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigateway.integration";

/// The integration types a REST API offers.
const INTEGRATION_TYPES: &[&str] = &["AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"];

/// What API Gateway does with a request whose content type no template maps.
const PASSTHROUGH_BEHAVIORS: &[&str] = &["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"];

/// API Gateway's integration timeout bounds and default, in milliseconds.
const TIMEOUT_MIN_MILLIS: i64 = 50;
const TIMEOUT_MAX_MILLIS: i64 = 29_000;
const TIMEOUT_DEFAULT_MILLIS: i64 = 29_000;

/// The integration's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("rest_api_id", Kind::String)
                .required()
                .force_new(),
            Prop::new("resource_id", Kind::String)
                .required()
                .force_new(),
            Prop::new("http_method", Kind::String)
                .required()
                .force_new()
                .allowed(HTTP_METHODS),
            Prop::new("type", Kind::String)
                .required()
                .allowed(INTEGRATION_TYPES),
            Prop::new("integration_http_method", Kind::String).allowed(HTTP_METHODS),
            Prop::new("uri", Kind::String),
            Prop::new("credentials", Kind::String).resettable(),
            Prop::new("request_templates", Kind::Map(Box::new(Kind::String))).resettable(),
            Prop::new("request_parameters", Kind::Map(Box::new(Kind::String))).resettable(),
            Prop::new("passthrough_behavior", Kind::String).allowed(PASSTHROUGH_BEHAVIORS),
            Prop::new("timeout_in_millis", Kind::Integer)
                .default(TIMEOUT_DEFAULT_MILLIS)
                .range(TIMEOUT_MIN_MILLIS, TIMEOUT_MAX_MILLIS),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigateway.integration`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(IntegrationProvider::new(ctx)),
    about: "Where a REST API method sends its requests: a Lambda function through a proxy \
            (`AWS_PROXY`, `uri` the function's `invoke_arn`), an AWS service, an HTTP \
            endpoint, a mock.",
    import_id: "`REST_API_ID/RESOURCE_ID/HTTP_METHOD`",
    attributes: &[(
        "id",
        "`REST_API_ID/RESOURCE_ID/HTTP_METHOD`, the method's key",
    )],
    property_notes: &[
        (
            "integration_http_method",
            "the method API Gateway calls the backend with; `POST` for a Lambda function",
        ),
        ("timeout_in_millis", "29,000 (AWS's default) when left out"),
    ],
    actions: Actions {
        create: &["apigateway:PUT", "apigateway:GET", "iam:PassRole"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "apigateway:GET", "iam:PassRole"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/resources/{resource_id}/methods/{http_method}/integration",
    ],
    passes_role: &[("credentials", "apigateway.amazonaws.com")],
};

/// Manages REST API integrations; the id is the method's key.
pub struct IntegrationProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigateway::Client,
}

impl IntegrationProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigateway, ctx),
        }
    }

    fn timeout(&self, props: &Map) -> Result<i32> {
        desired(&self.schema, props, "timeout_in_millis")
            .and_then(|v| v.as_i64())
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| ProviderError::invalid("`timeout_in_millis` must be a whole number"))
    }

    /// The integration in the stack's terms, or `None` when it (or its method) does not exist.
    /// An answer without a type is no integration.
    async fn find_integration(&self, id: &str) -> Result<Option<Resource>> {
        let [api_id, resource_id, http_method] = method_key(id)?;
        let out = self
            .apis
            .get_integration()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&http_method)
            .send()
            .await
            .map_err(api_error);
        let Some(found) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let Some(kind) = found.r#type() else {
            return Ok(None);
        };
        let mut properties = Map::from([
            ("rest_api_id".to_string(), Value::str(&api_id)),
            ("resource_id".to_string(), Value::str(&resource_id)),
            ("http_method".to_string(), Value::str(&http_method)),
            ("type".to_string(), Value::str(kind.as_str())),
        ]);
        for (prop, value) in [
            ("integration_http_method", found.http_method()),
            ("uri", found.uri()),
            ("credentials", found.credentials()),
            ("passthrough_behavior", found.passthrough_behavior()),
        ] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                properties.insert(prop.to_string(), Value::str(value));
            }
        }
        for (prop, value) in [
            ("request_templates", found.request_templates()),
            ("request_parameters", found.request_parameters()),
        ] {
            if let Some(value) = string_map_value(value) {
                properties.insert(prop.to_string(), value);
            }
        }
        let millis = match found.timeout_in_millis() {
            0 => TIMEOUT_DEFAULT_MILLIS,
            n => n.into(),
        };
        properties.insert("timeout_in_millis".into(), Value::int(millis));
        Ok(Some(Resource {
            id: id.to_string(),
            properties,
            attributes: Map::from([("id".to_string(), Value::str(id))]),
        }))
    }

    async fn read_existing(&self, id: &str) -> Result<Resource> {
        self.find_integration(id).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "integration {id} was written but cannot be read back"
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
        let api_id = required_str(props, "rest_api_id")?;
        let resource_id = required_str(props, "resource_id")?;
        let http_method = required_str(props, "http_method")?;
        self.apis
            .put_integration()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&http_method)
            .r#type(IntegrationType::from(required_str(props, "type")?.as_str()))
            .set_integration_http_method(given_str(props, "integration_http_method"))
            .set_uri(given_str(props, "uri"))
            .set_credentials(given_str(props, "credentials"))
            .set_request_templates(non_empty(&string_map(props, "request_templates")?))
            .set_request_parameters(non_empty(&string_map(props, "request_parameters")?))
            .set_passthrough_behavior(given_str(props, "passthrough_behavior"))
            .timeout_in_millis(self.timeout(props)?)
            .send()
            .await
            .map_err(api_error)?;
        let id = format!("{api_id}/{resource_id}/{http_method}");
        crate::after_made(&id, async { self.read_existing(&id).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_integration(&req.id).await
    }

    /// One `UpdateIntegration` with an operation per changed field; templates and parameters
    /// are added, changed and removed one by one.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let [api_id, resource_id, http_method] = method_key(&req.id)?;
        let props = &req.properties;
        let prior = &req.prior_properties;
        let mut ops = Vec::new();
        for prop in &req.changed {
            let replace = |path: &str, value: Option<String>| {
                patch(Op::Replace, path, Some(value.unwrap_or_default()))
            };
            match prop.as_str() {
                "type" => ops.push(replace("/type", given_str(props, "type"))),
                "integration_http_method" => ops.push(replace(
                    "/httpMethod",
                    given_str(props, "integration_http_method"),
                )),
                "uri" => ops.push(replace("/uri", given_str(props, "uri"))),
                "credentials" => ops.push(replace("/credentials", given_str(props, "credentials"))),
                "passthrough_behavior" => {
                    if let Some(behavior) = given_str(props, "passthrough_behavior") {
                        ops.push(replace("/passthroughBehavior", Some(behavior)));
                    }
                }
                "timeout_in_millis" => ops.push(replace(
                    "/timeoutInMillis",
                    Some(self.timeout(props)?.to_string()),
                )),
                "request_templates" => ops.extend(map_patches(
                    "/requestTemplates",
                    &string_map(prior, "request_templates")?,
                    &string_map(props, "request_templates")?,
                )),
                "request_parameters" => ops.extend(map_patches(
                    "/requestParameters",
                    &string_map(prior, "request_parameters")?,
                    &string_map(props, "request_parameters")?,
                )),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if !ops.is_empty() {
            self.apis
                .update_integration()
                .rest_api_id(&api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .set_patch_operations(Some(ops))
                .send()
                .await
                .map_err(api_error)?;
        }
        self.read_existing(&req.id).await
    }

    /// Deletes the integration; one already gone (or whose method is gone) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let [api_id, resource_id, http_method] = method_key(&req.id)?;
        let out = self
            .apis
            .delete_integration()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(http_method)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the integration by its method's key.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let props = &req.properties;
        let id = format!(
            "{}/{}/{}",
            required_str(props, "rest_api_id")?,
            required_str(props, "resource_id")?,
            required_str(props, "http_method")?
        );
        self.find_integration(&id).await
    }
}
