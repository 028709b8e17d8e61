//! `aws.apigateway.method_response`: a status code a REST API method may answer with, and the
//! headers and models of that answer.
//!
//! It has no id of its own: its id is its key,
//! `REST_API_ID/RESOURCE_ID/HTTP_METHOD/STATUS_CODE` (see the module notes). Models and
//! parameters change in place with `UpdateMethodResponse`.

use std::sync::Arc;

use async_trait::async_trait;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{bool_map, bool_map_value, bool_strings, key_parts, map_patches, non_empty};
use super::{string_map, string_map_value, HTTP_METHODS, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::required_str;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigateway.method_response";

/// How a method response is named.
const KEY_FORM: &str = "REST_API_ID/RESOURCE_ID/HTTP_METHOD/STATUS_CODE";

/// The method response's properties.
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
            Prop::new("status_code", Kind::String)
                .required()
                .force_new()
                .length(3, 3),
            Prop::new("response_models", Kind::Map(Box::new(Kind::String))).resettable(),
            Prop::new("response_parameters", Kind::Map(Box::new(Kind::Bool))).resettable(),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigateway.method_response`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(MethodResponseProvider::new(ctx)),
    about: "A status code a REST API method may answer with, and the headers and models of that \
            answer.",
    import_id: "`REST_API_ID/RESOURCE_ID/HTTP_METHOD/STATUS_CODE`",
    attributes: &[("id", "`REST_API_ID/RESOURCE_ID/HTTP_METHOD/STATUS_CODE`")],
    property_notes: &[(
        "response_parameters",
        "header names such as `method.response.header.Access-Control-Allow-Origin`, each \
         `true` when required",
    )],
    actions: Actions {
        create: &["apigateway:PUT", "apigateway:GET"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "apigateway:GET"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/resources/{resource_id}/methods/{http_method}/responses/{status_code}",
    ],
    passes_role: &[],
};

/// The key a method response (or an integration response) is read by, from its id.
pub(crate) fn response_key(id: &str, what: &str) -> Result<[String; 4]> {
    key_parts::<4>(id, what, KEY_FORM)
}

/// The key of the method response or integration response the stack describes.
pub(crate) fn response_id(props: &Map) -> Result<String> {
    Ok(format!(
        "{}/{}/{}/{}",
        required_str(props, "rest_api_id")?,
        required_str(props, "resource_id")?,
        required_str(props, "http_method")?,
        required_str(props, "status_code")?
    ))
}

/// Manages REST API method responses; the id is the response's key.
pub struct MethodResponseProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigateway::Client,
}

impl MethodResponseProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigateway, ctx),
        }
    }

    /// The method response in the stack's terms, or `None` when it (or its method) does not
    /// exist.
    async fn find_response(&self, id: &str) -> Result<Option<Resource>> {
        let [api_id, resource_id, http_method, status] = response_key(id, "method response")?;
        let out = self
            .apis
            .get_method_response()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&http_method)
            .status_code(&status)
            .send()
            .await
            .map_err(api_error);
        let Some(found) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let mut properties = Map::from([
            ("rest_api_id".to_string(), Value::str(&api_id)),
            ("resource_id".to_string(), Value::str(&resource_id)),
            ("http_method".to_string(), Value::str(&http_method)),
            ("status_code".to_string(), Value::str(&status)),
        ]);
        if let Some(models) = string_map_value(found.response_models()) {
            properties.insert("response_models".into(), models);
        }
        if let Some(params) = bool_map_value(found.response_parameters()) {
            properties.insert("response_parameters".into(), params);
        }
        Ok(Some(Resource {
            id: id.to_string(),
            properties,
            attributes: Map::from([("id".to_string(), Value::str(id))]),
        }))
    }

    async fn read_existing(&self, id: &str) -> Result<Resource> {
        self.find_response(id).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "method response {id} was written but cannot be read back"
            ))
        })
    }
}

#[async_trait]
impl Provider for MethodResponseProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let id = response_id(props)?;
        let [api_id, resource_id, http_method, status] = response_key(&id, "method response")?;
        self.apis
            .put_method_response()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(http_method)
            .status_code(status)
            .set_response_models(non_empty(&string_map(props, "response_models")?))
            .set_response_parameters(non_empty(&bool_map(props, "response_parameters")?))
            .send()
            .await
            .map_err(api_error)?;
        crate::after_made(&id, async { self.read_existing(&id).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_response(&req.id).await
    }

    /// One `UpdateMethodResponse`: models and parameters added, changed and removed one by one.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let [api_id, resource_id, http_method, status] = response_key(&req.id, "method response")?;
        let props = &req.properties;
        let prior = &req.prior_properties;
        let mut ops = Vec::new();
        for prop in &req.changed {
            match prop.as_str() {
                "response_models" => ops.extend(map_patches(
                    "/responseModels",
                    &string_map(prior, "response_models")?,
                    &string_map(props, "response_models")?,
                )),
                "response_parameters" => ops.extend(map_patches(
                    "/responseParameters",
                    &bool_strings(&bool_map(prior, "response_parameters")?),
                    &bool_strings(&bool_map(props, "response_parameters")?),
                )),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if !ops.is_empty() {
            self.apis
                .update_method_response()
                .rest_api_id(api_id)
                .resource_id(resource_id)
                .http_method(http_method)
                .status_code(status)
                .set_patch_operations(Some(ops))
                .send()
                .await
                .map_err(api_error)?;
        }
        self.read_existing(&req.id).await
    }

    /// Deletes the method response; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let [api_id, resource_id, http_method, status] = response_key(&req.id, "method response")?;
        let out = self
            .apis
            .delete_method_response()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(http_method)
            .status_code(status)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the method response by its key.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        self.find_response(&response_id(&req.properties)?).await
    }
}
