//! `aws.apigateway.stage`: a named stage of a REST API (`prod`), the deployment it serves, the
//! URL it is invoked at, its stage variables and X-Ray tracing.
//!
//! The id is the stage name; the API comes from the recorded `rest_api_id` (see the module
//! notes). Everything but the API and the name changes in place with `UpdateStage`, the
//! deployment included: a new deployment (see `aws.apigateway.deployment`) moves the stage in
//! one call, so it never serves nothing. Tags change with `TagResource`/`UntagResource` on the
//! stage's ARN.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigateway::types::Op;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{child_ids, non_empty, patch, pointer_segment, string_map, RestTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigateway.stage";

/// API Gateway's limit on a stage name's length.
const STAGE_NAME_MAX: usize = 128;

/// The stage's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("rest_api_id", Kind::String)
                .required()
                .force_new(),
            Prop::new("stage_name", Kind::String)
                .required()
                .force_new()
                .length(1, STAGE_NAME_MAX),
            Prop::new("deployment_id", Kind::String).required(),
            Prop::new("description", Kind::String).resettable(),
            Prop::new("variables", Kind::Map(Box::new(Kind::String))).resettable(),
            Prop::new("xray_tracing_enabled", Kind::Bool).default(false),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "invoke_url", "execution_arn", "arn"],
        taggable: true,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigateway.stage`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(StageProvider::new(ctx)),
    about: "A named stage of a REST API (`prod`): the deployment it serves (moved in place to a \
            new one), the URL it is invoked at, its variables and X-Ray tracing.",
    import_id: "`REST_API_ID/STAGE_NAME`",
    attributes: &[
        ("id", "the stage name"),
        (
            "invoke_url",
            "the URL the stage is invoked at (`https://ID.execute-api.REGION.amazonaws.com/STAGE`)",
        ),
        (
            "execution_arn",
            "the stage's execution ARN, for `aws.lambda.permission`'s `source_arn` (append \
             `/*/*`)",
        ),
        ("arn", "the stage's ARN"),
    ],
    property_notes: &[],
    actions: Actions {
        create: &["apigateway:POST", "apigateway:GET"],
        read: &["apigateway:GET"],
        update: &[
            "apigateway:PATCH",
            "apigateway:GET",
            "apigateway:PUT",
            "apigateway:DELETE",
        ],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/stages",
        "arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/stages/*",
        "arn:{partition}:apigateway:{region}::/tags/*",
    ],
    passes_role: &[],
};

/// The operations that turn the stage variables `prior` into `desired`: API Gateway sets a
/// variable, new or not, with `replace`, and clears one with `remove`.
fn variable_patches(
    prior: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Vec<aws_sdk_apigateway::types::PatchOperation> {
    let path = |key: &str| format!("/variables/{}", pointer_segment(key));
    let mut ops: Vec<_> = desired
        .iter()
        .filter(|(k, v)| prior.get(*k) != Some(*v))
        .map(|(k, v)| patch(Op::Replace, &path(k), Some(v.clone())))
        .collect();
    ops.extend(
        prior
            .keys()
            .filter(|k| !desired.contains_key(*k))
            .map(|k| patch(Op::Remove, &path(k), None)),
    );
    ops
}

/// Manages REST API stages; the id is the stage name.
pub struct StageProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigateway::Client,
    ctx: AwsContext,
}

impl StageProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigateway, ctx),
            ctx: ctx.clone(),
        }
    }

    /// The stage's ARN, which API Gateway tags it under.
    fn arn(&self, api_id: &str, name: &str) -> String {
        format!(
            "arn:{}:apigateway:{}::/restapis/{api_id}/stages/{name}",
            self.ctx.partition(),
            self.ctx.region()
        )
    }

    fn tracing(&self, props: &Map) -> Result<bool> {
        match desired(&self.schema, props, "xray_tracing_enabled") {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| {
                ProviderError::invalid("`xray_tracing_enabled` must be true or false")
            }),
        }
    }

    /// The stage in the stack's terms, or `None` when it (or its API) does not exist.
    async fn find_stage(&self, api_id: &str, name: &str) -> Result<Option<Resource>> {
        let out = self
            .apis
            .get_stage()
            .rest_api_id(api_id)
            .stage_name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(stage) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let mut properties = Map::from([
            ("rest_api_id".to_string(), Value::str(api_id)),
            ("stage_name".to_string(), Value::str(name)),
            (
                "deployment_id".to_string(),
                Value::str(stage.deployment_id().unwrap_or_default()),
            ),
            (
                "xray_tracing_enabled".to_string(),
                Value::Bool(stage.tracing_enabled()),
            ),
            (
                "variables".to_string(),
                tags_value(
                    stage
                        .variables()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.clone())),
                ),
            ),
            (
                "tags".to_string(),
                tags_value(
                    stage
                        .tags()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.clone())),
                ),
            ),
        ]);
        if let Some(text) = stage.description().filter(|d| !d.is_empty()) {
            properties.insert("description".into(), Value::str(text));
        }
        let account = self.ctx.account_id().await?;
        let (partition, region) = (self.ctx.partition(), self.ctx.region());
        let attributes = Map::from([
            ("id".to_string(), Value::str(name)),
            (
                "invoke_url".to_string(),
                Value::str(format!(
                    "https://{api_id}.execute-api.{region}.amazonaws.com/{name}"
                )),
            ),
            (
                "execution_arn".to_string(),
                Value::str(format!(
                    "arn:{partition}:execute-api:{region}:{account}:{api_id}/{name}"
                )),
            ),
            ("arn".to_string(), Value::str(self.arn(api_id, name))),
        ]);
        Ok(Some(Resource {
            id: name.to_string(),
            properties,
            attributes,
        }))
    }

    async fn read_existing(&self, api_id: &str, name: &str) -> Result<Resource> {
        self.find_stage(api_id, name).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "stage {name} of REST API {api_id} was written but cannot be read back"
            ))
        })
    }
}

#[async_trait]
impl Provider for StageProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let api_id = required_str(props, "rest_api_id")?;
        let name = required_str(props, "stage_name")?;
        let tags: HashMap<String, String> = tag_strings(props.get("tags"))?.into_iter().collect();
        self.apis
            .create_stage()
            .rest_api_id(&api_id)
            .stage_name(&name)
            .deployment_id(required_str(props, "deployment_id")?)
            .set_description(
                given(props, "description").and_then(|v| v.as_str().map(str::to_string)),
            )
            .set_variables(non_empty(&string_map(props, "variables")?))
            .tracing_enabled(self.tracing(props)?)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        after_made(&name, async { self.read_existing(&api_id, &name).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (api_id, name) = child_ids(&req.id, &req.prior_properties, "stage")?;
        self.find_stage(&api_id, &name).await
    }

    /// One `UpdateStage` with an operation per changed field (the deployment it serves
    /// included), then tags by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (api_id, name) = child_ids(&req.id, &req.prior_properties, "stage")?;
        let props = &req.properties;
        let prior = &req.prior_properties;
        let mut ops = Vec::new();
        let mut tags_changed = false;
        for prop in &req.changed {
            match prop.as_str() {
                "deployment_id" => ops.push(patch(
                    Op::Replace,
                    "/deploymentId",
                    Some(required_str(props, "deployment_id")?),
                )),
                // An empty description is how API Gateway clears it.
                "description" => ops.push(patch(
                    Op::Replace,
                    "/description",
                    Some(
                        given(props, "description")
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                    ),
                )),
                "xray_tracing_enabled" => ops.push(patch(
                    Op::Replace,
                    "/tracingEnabled",
                    Some(self.tracing(props)?.to_string()),
                )),
                "variables" => ops.extend(variable_patches(
                    &string_map(prior, "variables")?,
                    &string_map(props, "variables")?,
                )),
                "tags" => tags_changed = true,
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if !ops.is_empty() {
            self.apis
                .update_stage()
                .rest_api_id(&api_id)
                .stage_name(&name)
                .set_patch_operations(Some(ops))
                .send()
                .await
                .map_err(api_error)?;
        }
        if tags_changed {
            let arn = self.arn(&api_id, &name);
            let stage = RestTags {
                client: &self.apis,
                id: &arn,
            };
            reconcile(&stage, prior, props).await?;
        }
        let mut resource = self.read_existing(&api_id, &name).await?;
        resource.id = req.id.clone();
        Ok(resource)
    }

    /// Deletes the stage; one already gone (or whose API is gone) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (api_id, name) = child_ids(&req.id, &req.properties, "stage")?;
        let out = self
            .apis
            .delete_stage()
            .rest_api_id(api_id)
            .stage_name(name)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the stage by its API and name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let api_id = required_str(&req.properties, "rest_api_id")?;
        let name = required_str(&req.properties, "stage_name")?;
        self.find_stage(&api_id, &name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_variables_are_set_with_replace_and_cleared_with_remove() {
        let prior = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ]);
        let desired = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("c".to_string(), "3".to_string()),
        ]);
        let ops: Vec<(String, String)> = variable_patches(&prior, &desired)
            .iter()
            .map(|o| {
                (
                    o.op().map(|op| op.as_str().to_string()).unwrap_or_default(),
                    o.path().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(
            ops,
            vec![
                ("replace".to_string(), "/variables/c".to_string()),
                ("remove".to_string(), "/variables/b".to_string()),
            ]
        );
    }
}
