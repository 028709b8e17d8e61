//! `aws.apigateway.integration_response`: how a REST API integration's answer becomes the
//! method's response with a status code (which backend answers match, which templates and
//! headers map it).
//!
//! It has no id of its own: its id is its key,
//! `REST_API_ID/RESOURCE_ID/HTTP_METHOD/STATUS_CODE` (see the module notes); the status code
//! must be one of the method's responses. Everything but the key changes in place with
//! `UpdateIntegrationResponse`.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigateway::types::{ContentHandlingStrategy, Op};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::method_response::{response_id, response_key};
use super::{map_patches, non_empty, patch, string_map, string_map_value};
use super::{HTTP_METHODS, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::given_str;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigateway.integration_response";

/// How a binary or text payload is converted on the way back.
const CONTENT_HANDLING: &[&str] = &["CONVERT_TO_BINARY", "CONVERT_TO_TEXT"];

/// The integration response's properties.
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
            Prop::new("selection_pattern", Kind::String).resettable(),
            Prop::new("response_templates", Kind::Map(Box::new(Kind::String))).resettable(),
            Prop::new("response_parameters", Kind::Map(Box::new(Kind::String))).resettable(),
            Prop::new("content_handling", Kind::String).allowed(CONTENT_HANDLING),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigateway.integration_response`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(IntegrationResponseProvider::new(ctx)),
    about: "How a REST API integration's answer becomes the method's response with a status \
            code: which backend answers match (`selection_pattern`), which templates and \
            headers map it.",
    import_id: "`REST_API_ID/RESOURCE_ID/HTTP_METHOD/STATUS_CODE`",
    attributes: &[("id", "`REST_API_ID/RESOURCE_ID/HTTP_METHOD/STATUS_CODE`")],
    property_notes: &[(
        "status_code",
        "a status code the method has an `aws.apigateway.method_response` for",
    )],
    actions: Actions {
        create: &["apigateway:PUT", "apigateway:GET"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "apigateway:GET"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/resources/{resource_id}/methods/{http_method}/integration/responses/{status_code}",
    ],
    passes_role: &[],
};

const WHAT: &str = "integration response";

/// Manages REST API integration responses; the id is the response's key.
pub struct IntegrationResponseProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigateway::Client,
}

impl IntegrationResponseProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigateway, ctx),
        }
    }

    /// The integration response in the stack's terms, or `None` when it (or its integration)
    /// does not exist.
    async fn find_response(&self, id: &str) -> Result<Option<Resource>> {
        let [api_id, resource_id, http_method, status] = response_key(id, WHAT)?;
        let out = self
            .apis
            .get_integration_response()
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
        if let Some(pattern) = found.selection_pattern().filter(|p| !p.is_empty()) {
            properties.insert("selection_pattern".into(), Value::str(pattern));
        }
        if let Some(handling) = found.content_handling() {
            properties.insert("content_handling".into(), Value::str(handling.as_str()));
        }
        for (prop, value) in [
            ("response_templates", found.response_templates()),
            ("response_parameters", found.response_parameters()),
        ] {
            if let Some(value) = string_map_value(value) {
                properties.insert(prop.to_string(), value);
            }
        }
        Ok(Some(Resource {
            id: id.to_string(),
            properties,
            attributes: Map::from([("id".to_string(), Value::str(id))]),
        }))
    }

    async fn read_existing(&self, id: &str) -> Result<Resource> {
        self.find_response(id).await?.ok_or_else(|| {
            ProviderError::invalid(format!("{WHAT} {id} was written but cannot be read back"))
        })
    }
}

#[async_trait]
impl Provider for IntegrationResponseProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let id = response_id(props)?;
        let [api_id, resource_id, http_method, status] = response_key(&id, WHAT)?;
        self.apis
            .put_integration_response()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(http_method)
            .status_code(status)
            .set_selection_pattern(given_str(props, "selection_pattern"))
            .set_response_templates(non_empty(&string_map(props, "response_templates")?))
            .set_response_parameters(non_empty(&string_map(props, "response_parameters")?))
            .set_content_handling(
                given_str(props, "content_handling")
                    .map(|h| ContentHandlingStrategy::from(h.as_str())),
            )
            .send()
            .await
            .map_err(api_error)?;
        crate::after_made(&id, async { self.read_existing(&id).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_response(&req.id).await
    }

    /// One `UpdateIntegrationResponse` with an operation per changed field; templates and
    /// parameters are added, changed and removed one by one.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let [api_id, resource_id, http_method, status] = response_key(&req.id, WHAT)?;
        let props = &req.properties;
        let prior = &req.prior_properties;
        let mut ops = Vec::new();
        for prop in &req.changed {
            match prop.as_str() {
                // An empty pattern is how API Gateway clears it (the default response).
                "selection_pattern" => ops.push(patch(
                    Op::Replace,
                    "/selectionPattern",
                    Some(given_str(props, "selection_pattern").unwrap_or_default()),
                )),
                "content_handling" => {
                    if let Some(handling) = given_str(props, "content_handling") {
                        ops.push(patch(Op::Replace, "/contentHandling", Some(handling)));
                    }
                }
                "response_templates" => ops.extend(map_patches(
                    "/responseTemplates",
                    &string_map(prior, "response_templates")?,
                    &string_map(props, "response_templates")?,
                )),
                "response_parameters" => ops.extend(map_patches(
                    "/responseParameters",
                    &string_map(prior, "response_parameters")?,
                    &string_map(props, "response_parameters")?,
                )),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if !ops.is_empty() {
            self.apis
                .update_integration_response()
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

    /// Deletes the integration response; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let [api_id, resource_id, http_method, status] = response_key(&req.id, WHAT)?;
        let out = self
            .apis
            .delete_integration_response()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(http_method)
            .status_code(status)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the integration response by its key.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        self.find_response(&response_id(&req.properties)?).await
    }
}
