//! `aws.apigateway.method`: an HTTP method (`GET`, `ANY`, ...) on a REST API resource, with
//! who may call it and which request parameters it takes.
//!
//! A method has no id of its own: its id is its key, `REST_API_ID/RESOURCE_ID/HTTP_METHOD`
//! (see the module notes). Authorization, API key and request parameters change in place with
//! `UpdateMethod`.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigateway::types::Op;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{bool_map, bool_map_value, bool_strings, key_parts, map_patches, non_empty, patch};
use super::{HTTP_METHODS, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given_str, required_str};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigateway.method";

/// Who may call a method.
const AUTHORIZATION_TYPES: &[&str] = &["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"];

/// How a method is named.
const KEY_FORM: &str = "REST_API_ID/RESOURCE_ID/HTTP_METHOD";

/// The method's properties.
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
            Prop::new("authorization", Kind::String)
                .required()
                .allowed(AUTHORIZATION_TYPES),
            Prop::new("authorizer_id", Kind::String).resettable(),
            Prop::new("api_key_required", Kind::Bool).default(false),
            Prop::new("request_parameters", Kind::Map(Box::new(Kind::Bool))).resettable(),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigateway.method`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(MethodProvider::new(ctx)),
    about: "An HTTP method (`GET`, `ANY`, ...) on a REST API resource, with who may call it and \
            which request parameters it takes.",
    import_id: "`REST_API_ID/RESOURCE_ID/HTTP_METHOD`",
    attributes: &[("id", "`REST_API_ID/RESOURCE_ID/HTTP_METHOD`")],
    property_notes: &[(
        "request_parameters",
        "names such as `method.request.path.proxy`, each `true` when required",
    )],
    actions: Actions {
        create: &["apigateway:PUT", "apigateway:GET"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "apigateway:GET"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/resources/{resource_id}/methods/{http_method}",
    ],
    passes_role: &[],
};

/// The key a method is read by, from its id.
pub(crate) fn method_key(id: &str) -> Result<[String; 3]> {
    key_parts::<3>(id, "method", KEY_FORM)
}

/// Manages REST API methods; the id is the method's key.
pub struct MethodProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigateway::Client,
}

impl MethodProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigateway, ctx),
        }
    }

    fn api_key_required(&self, props: &Map) -> Result<bool> {
        match desired(&self.schema, props, "api_key_required") {
            None => Ok(false),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| ProviderError::invalid("`api_key_required` must be true or false")),
        }
    }

    /// The method in the stack's terms, or `None` when it (or its resource or API) does not
    /// exist.
    async fn find_method(&self, id: &str) -> Result<Option<Resource>> {
        let [api_id, resource_id, http_method] = method_key(id)?;
        let out = self
            .apis
            .get_method()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&http_method)
            .send()
            .await
            .map_err(api_error);
        let Some(method) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let mut properties = Map::from([
            ("rest_api_id".to_string(), Value::str(&api_id)),
            ("resource_id".to_string(), Value::str(&resource_id)),
            (
                "http_method".to_string(),
                Value::str(method.http_method().unwrap_or(&http_method)),
            ),
            (
                "authorization".to_string(),
                Value::str(method.authorization_type().unwrap_or("NONE")),
            ),
            (
                "api_key_required".to_string(),
                Value::Bool(method.api_key_required().unwrap_or(false)),
            ),
        ]);
        if let Some(authorizer) = method.authorizer_id().filter(|a| !a.is_empty()) {
            properties.insert("authorizer_id".into(), Value::str(authorizer));
        }
        if let Some(params) = bool_map_value(method.request_parameters()) {
            properties.insert("request_parameters".into(), params);
        }
        Ok(Some(Resource {
            id: id.to_string(),
            properties,
            attributes: Map::from([("id".to_string(), Value::str(id))]),
        }))
    }

    async fn read_existing(&self, id: &str) -> Result<Resource> {
        self.find_method(id).await?.ok_or_else(|| {
            ProviderError::invalid(format!("method {id} was written but cannot be read back"))
        })
    }
}

#[async_trait]
impl Provider for MethodProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let api_id = required_str(props, "rest_api_id")?;
        let resource_id = required_str(props, "resource_id")?;
        let http_method = required_str(props, "http_method")?;
        self.apis
            .put_method()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&http_method)
            .authorization_type(required_str(props, "authorization")?)
            .set_authorizer_id(given_str(props, "authorizer_id"))
            .api_key_required(self.api_key_required(props)?)
            .set_request_parameters(non_empty(&bool_map(props, "request_parameters")?))
            .send()
            .await
            .map_err(api_error)?;
        let id = format!("{api_id}/{resource_id}/{http_method}");
        crate::after_made(&id, async { self.read_existing(&id).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_method(&req.id).await
    }

    /// One `UpdateMethod` with an operation per changed field; request parameters are added,
    /// changed and removed one by one.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let [api_id, resource_id, http_method] = method_key(&req.id)?;
        let props = &req.properties;
        let mut ops = Vec::new();
        for prop in &req.changed {
            match prop.as_str() {
                "authorization" => ops.push(patch(
                    Op::Replace,
                    "/authorizationType",
                    Some(required_str(props, "authorization")?),
                )),
                // An empty authorizer id is how API Gateway clears it.
                "authorizer_id" => ops.push(patch(
                    Op::Replace,
                    "/authorizerId",
                    Some(given_str(props, "authorizer_id").unwrap_or_default()),
                )),
                "api_key_required" => ops.push(patch(
                    Op::Replace,
                    "/apiKeyRequired",
                    Some(self.api_key_required(props)?.to_string()),
                )),
                "request_parameters" => ops.extend(map_patches(
                    "/requestParameters",
                    &bool_strings(&bool_map(&req.prior_properties, "request_parameters")?),
                    &bool_strings(&bool_map(props, "request_parameters")?),
                )),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if !ops.is_empty() {
            self.apis
                .update_method()
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

    /// Deletes the method (and its integration and responses); one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let [api_id, resource_id, http_method] = method_key(&req.id)?;
        let out = self
            .apis
            .delete_method()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(http_method)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the method by its key.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let props = &req.properties;
        let id = format!(
            "{}/{}/{}",
            required_str(props, "rest_api_id")?,
            required_str(props, "resource_id")?,
            required_str(props, "http_method")?
        );
        self.find_method(&id).await
    }
}
