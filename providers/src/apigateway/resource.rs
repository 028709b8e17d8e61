//! `aws.apigateway.resource`: one path segment of a REST API (`orders`, `{id}`, `{proxy+}`)
//! under a parent resource (the API's `root_resource_id` at the top).
//!
//! The id is the resource id; the API comes from the recorded `rest_api_id` (see the module
//! notes). Parent and path segment change in place with `UpdateResource`.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigateway::types::Op;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{child_ids, patch, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::required_str;
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigateway.resource";

/// The resource's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("rest_api_id", Kind::String)
                .required()
                .force_new(),
            Prop::new("parent_id", Kind::String).required(),
            Prop::new("path_part", Kind::String).required(),
        ],
        attrs: vec!["id", "path"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigateway.resource`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(ResourceProvider::new(ctx)),
    about: "One path segment of a REST API (`orders`, `{id}`, `{proxy+}`) under a parent \
            resource (the API's `root_resource_id` at the top).",
    import_id: "`REST_API_ID/RESOURCE_ID`",
    attributes: &[
        (
            "id",
            "the resource id, which methods and integrations take as `resource_id`",
        ),
        ("path", "the resource's full path (`/orders/{id}`)"),
    ],
    property_notes: &[],
    actions: Actions {
        create: &["apigateway:POST", "apigateway:GET"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "apigateway:GET"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/resources",
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/resources/*",
    ],
    passes_role: &[],
};

/// Manages REST API resources; the id is the resource id.
pub struct ResourceProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigateway::Client,
}

impl ResourceProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigateway, ctx),
        }
    }

    /// The resource in the stack's terms, or `None` when it (or its API) does not exist.
    async fn find_resource(&self, api_id: &str, id: &str) -> Result<Option<Resource>> {
        let out = self
            .apis
            .get_resource()
            .rest_api_id(api_id)
            .resource_id(id)
            .send()
            .await
            .map_err(api_error);
        let Some(found) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let mut properties = Map::from([("rest_api_id".to_string(), Value::str(api_id))]);
        if let Some(parent) = found.parent_id() {
            properties.insert("parent_id".into(), Value::str(parent));
        }
        if let Some(part) = found.path_part() {
            properties.insert("path_part".into(), Value::str(part));
        }
        Ok(Some(Resource {
            id: id.to_string(),
            properties,
            attributes: Map::from([
                ("id".to_string(), Value::str(id)),
                (
                    "path".to_string(),
                    Value::str(found.path().unwrap_or_default()),
                ),
            ]),
        }))
    }

    async fn read_existing(&self, api_id: &str, id: &str) -> Result<Resource> {
        self.find_resource(api_id, id).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "resource {id} of REST API {api_id} was written but cannot be read back"
            ))
        })
    }
}

#[async_trait]
impl Provider for ResourceProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let api_id = required_str(props, "rest_api_id")?;
        let out = self
            .apis
            .create_resource()
            .rest_api_id(&api_id)
            .parent_id(required_str(props, "parent_id")?)
            .path_part(required_str(props, "path_part")?)
            .send()
            .await
            .map_err(api_error)?;
        let id = out
            .id()
            .ok_or_else(|| ProviderError::invalid("CreateResource returned no id"))?;
        after_made(id, async { self.read_existing(&api_id, id).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "resource")?;
        self.find_resource(&api_id, &id).await
    }

    /// One `UpdateResource` moving the resource or renaming its path segment.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "resource")?;
        let props = &req.properties;
        let mut ops = Vec::new();
        for prop in &req.changed {
            match prop.as_str() {
                "parent_id" => ops.push(patch(
                    Op::Replace,
                    "/parentId",
                    Some(required_str(props, "parent_id")?),
                )),
                "path_part" => ops.push(patch(
                    Op::Replace,
                    "/pathPart",
                    Some(required_str(props, "path_part")?),
                )),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if !ops.is_empty() {
            self.apis
                .update_resource()
                .rest_api_id(&api_id)
                .resource_id(&id)
                .set_patch_operations(Some(ops))
                .send()
                .await
                .map_err(api_error)?;
        }
        let mut resource = self.read_existing(&api_id, &id).await?;
        resource.id = req.id.clone();
        Ok(resource)
    }

    /// Deletes the resource (and the methods on it); one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (api_id, id) = child_ids(&req.id, &req.properties, "resource")?;
        let out = self
            .apis
            .delete_resource()
            .rest_api_id(api_id)
            .resource_id(id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the API's resource with this parent and path segment (unique within a parent).
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let props = &req.properties;
        let api_id = required_str(props, "rest_api_id")?;
        let parent = required_str(props, "parent_id")?;
        let part = required_str(props, "path_part")?;
        let mut position = None;
        loop {
            let out = self
                .apis
                .get_resources()
                .rest_api_id(&api_id)
                .set_position(position)
                .send()
                .await
                .map_err(api_error);
            let Some(out) = missing_is_none(out, NOT_FOUND)? else {
                return Ok(None);
            };
            let found = out.items().iter().find(|r| {
                r.parent_id() == Some(parent.as_str()) && r.path_part() == Some(part.as_str())
            });
            if let Some(id) = found.and_then(|r| r.id()) {
                return self.find_resource(&api_id, id).await;
            }
            match out.position() {
                Some(p) if !p.is_empty() => position = Some(p.to_string()),
                _ => return Ok(None),
            }
        }
    }
}
