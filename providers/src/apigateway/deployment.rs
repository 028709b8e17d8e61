//! `aws.apigateway.deployment`: a snapshot of a REST API's resources and methods, which a
//! stage serves.
//!
//! A deployment is never changed to follow the API: a new one is made. `triggers` is a
//! mapping strata keeps (AWS never sees it), usually of the ids and settings of the methods and
//! integrations the snapshot should follow; any change of it makes a new deployment. That
//! replacement is always created before the old deployment is deleted (the schema's
//! `create_before_destroy` on `triggers`), so a stage referencing `${deployment.id}` is moved
//! to the new deployment in between: the stage never points at nothing, and AWS, which refuses
//! to delete a deployment a stage still serves, is never asked to.
//!
//! The id is the deployment id; the API comes from the recorded `rest_api_id` (see the module
//! notes). The description changes in place with `UpdateDeployment`.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigateway::types::Op;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{child_ids, patch, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given_str, required_str};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigateway.deployment";

/// The deployment's properties. Both that replace it create the new one first.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("rest_api_id", Kind::String)
                .required()
                .create_before_destroy(),
            Prop::new("description", Kind::String).resettable(),
            Prop::new("triggers", Kind::Map(Box::new(Kind::String))).create_before_destroy(),
        ],
        attrs: vec!["id", "created_date"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigateway.deployment`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(DeploymentProvider::new(ctx)),
    about: "A snapshot of a REST API that a stage serves. Any change of `triggers` makes a new \
            deployment, created before the old one is deleted, so the stage is moved to it \
            and never points at nothing.",
    import_id: "`REST_API_ID/DEPLOYMENT_ID`",
    attributes: &[
        (
            "id",
            "the deployment id, which a stage takes as `deployment_id`",
        ),
        ("created_date", "when the deployment was made (RFC 3339)"),
    ],
    property_notes: &[(
        "triggers",
        "a mapping of strings kept by strata, not AWS (give it the ids and settings of the \
         methods and integrations the deployment should follow); any change makes a new \
         deployment. `import` takes it from the stack where it is known before apply, else \
         the first plan after an import makes a new deployment, as Terraform's does",
    )],
    actions: Actions {
        create: &["apigateway:POST", "apigateway:GET"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "apigateway:GET"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/deployments",
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/deployments/*",
    ],
    passes_role: &[],
};

/// Manages REST API deployments; the id is the deployment id.
pub struct DeploymentProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigateway::Client,
}

impl DeploymentProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigateway, ctx),
        }
    }

    /// The deployment in the stack's terms, or `None` when it (or its API) does not exist.
    /// `triggers` is strata's own: it is what `prior` holds.
    async fn find_deployment(
        &self,
        api_id: &str,
        id: &str,
        prior: &Map,
    ) -> Result<Option<Resource>> {
        let out = self
            .apis
            .get_deployment()
            .rest_api_id(api_id)
            .deployment_id(id)
            .send()
            .await
            .map_err(api_error);
        let Some(found) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let mut properties = Map::from([("rest_api_id".to_string(), Value::str(api_id))]);
        if let Some(text) = found.description().filter(|d| !d.is_empty()) {
            properties.insert("description".into(), Value::str(text));
        }
        if let Some(triggers) = prior.get("triggers").filter(|t| **t != Value::Null) {
            properties.insert("triggers".into(), triggers.unmarked());
        }
        let mut attributes = Map::from([("id".to_string(), Value::str(id))]);
        if let Some(created) = found.created_date() {
            let created = created
                .fmt(aws_smithy_types::date_time::Format::DateTime)
                .map_err(|e| ProviderError::invalid(e.to_string()))?;
            attributes.insert("created_date".into(), Value::str(created));
        }
        Ok(Some(Resource {
            id: id.to_string(),
            properties,
            attributes,
        }))
    }

    async fn read_existing(&self, api_id: &str, id: &str, prior: &Map) -> Result<Resource> {
        self.find_deployment(api_id, id, prior)
            .await?
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "deployment {id} of REST API {api_id} was written but cannot be read back"
                ))
            })
    }
}

#[async_trait]
impl Provider for DeploymentProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Makes a deployment of the API as it is now. API Gateway refuses an API without methods,
    /// so the deployment should reference (or `depends_on`) what it deploys.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let api_id = required_str(props, "rest_api_id")?;
        let out = self
            .apis
            .create_deployment()
            .rest_api_id(&api_id)
            .set_description(given_str(props, "description"))
            .send()
            .await
            .map_err(api_error)?;
        let id = out
            .id()
            .ok_or_else(|| ProviderError::invalid("CreateDeployment returned no id"))?;
        after_made(id, async { self.read_existing(&api_id, id, props).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "deployment")?;
        self.find_deployment(&api_id, &id, &req.prior_properties)
            .await
    }

    /// `UpdateDeployment` for the description (an empty one clears it).
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (api_id, id) = child_ids(&req.id, &req.prior_properties, "deployment")?;
        let props = &req.properties;
        let mut ops = Vec::new();
        for prop in &req.changed {
            match prop.as_str() {
                "description" => ops.push(patch(
                    Op::Replace,
                    "/description",
                    Some(given_str(props, "description").unwrap_or_default()),
                )),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if !ops.is_empty() {
            self.apis
                .update_deployment()
                .rest_api_id(&api_id)
                .deployment_id(&id)
                .set_patch_operations(Some(ops))
                .send()
                .await
                .map_err(api_error)?;
        }
        let mut resource = self.read_existing(&api_id, &id, props).await?;
        resource.id = req.id.clone();
        Ok(resource)
    }

    /// Deletes the deployment; one already gone (or whose API is gone) is success. AWS refuses
    /// while a stage still serves it: the plan moves such stages first.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (api_id, id) = child_ids(&req.id, &req.properties, "deployment")?;
        let out = self
            .apis
            .delete_deployment()
            .rest_api_id(api_id)
            .deployment_id(id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// A deployment has no name or tags to be found by: one a crash interrupted is not
    /// adopted (it is an unused snapshot, which costs nothing).
    async fn find(&self, _req: FindRequest) -> Result<Option<Resource>> {
        Ok(None)
    }
}
