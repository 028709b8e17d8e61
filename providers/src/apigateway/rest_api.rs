//! `aws.apigateway.rest_api`: a REST API (API Gateway v1), the container of its resources,
//! methods, deployments and stages.
//!
//! REST API names are not unique, so a crash-interrupted create is found again by its
//! `strata:` tags. Name, description, endpoint type and binary media types change in place with
//! `UpdateRestApi`; tags with `TagResource`/`UntagResource` on the API's ARN.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, Op};
use stacks::{Kind, Map, Prop, TypeSchema, Value, ADDRESS_TAG, STACK_TAG};

use super::{patch, pointer_segment, RestTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, required_str};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigateway.rest_api";

/// The endpoint types a REST API may have.
const ENDPOINT_TYPES: &[&str] = &["REGIONAL", "EDGE", "PRIVATE"];

/// The API's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).required(),
            Prop::new("description", Kind::String).resettable(),
            Prop::new(
                "endpoint_configuration",
                Kind::Object(vec![
                    Prop::new("types", Kind::List(Box::new(Kind::String))).required()
                ]),
            ),
            Prop::new("binary_media_types", Kind::List(Box::new(Kind::String))).resettable(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "root_resource_id", "execution_arn", "arn"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigateway.rest_api`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(RestApiProvider::new(ctx)),
    about: "A REST API (API Gateway v1); found again by its `strata:` tags, since API names are \
            not unique.",
    import_id: "the REST API id",
    attributes: &[
        (
            "id",
            "the REST API id, which its resources, methods, deployments and stages take as \
             `rest_api_id`",
        ),
        (
            "root_resource_id",
            "the id of the API's root resource (`/`), a resource's `parent_id` at the top",
        ),
        (
            "execution_arn",
            "the ARN `aws.lambda.permission`'s `source_arn` and IAM policies name the API by \
             (append `/*/*` for every stage and method)",
        ),
        (
            "arn",
            "the API's ARN (`arn:aws:apigateway:REGION::/restapis/ID`)",
        ),
    ],
    property_notes: &[(
        "endpoint_configuration",
        "`types` holds one of `REGIONAL`, `EDGE` (AWS's default) or `PRIVATE`",
    )],
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
        "arn:{partition}:apigateway:{region}::/restapis",
        "arn:{partition}:apigateway:{region}::/restapis/{id}",
        "arn:{partition}:apigateway:{region}::/restapis/{id}/*",
        "arn:{partition}:apigateway:{region}::/tags/*",
    ],
    passes_role: &[],
};

/// The endpoint types the stack gives, checked against the closed set.
fn endpoint_types(props: &Map) -> Result<Option<Vec<String>>> {
    let Some(config) = given(props, "endpoint_configuration") else {
        return Ok(None);
    };
    let types = config
        .as_map()
        .and_then(|m| m.get("types"))
        .and_then(Value::as_list)
        .ok_or_else(|| {
            ProviderError::invalid("`endpoint_configuration.types` must be a list of strings")
        })?;
    let types: Vec<String> = types
        .iter()
        .map(|t| {
            t.as_str()
                .filter(|t| ENDPOINT_TYPES.contains(t))
                .map(str::to_string)
                .ok_or_else(|| {
                    ProviderError::invalid(format!(
                        "`endpoint_configuration.types` takes {}, not {t}",
                        ENDPOINT_TYPES.join(", ")
                    ))
                })
        })
        .collect::<Result<_>>()?;
    if types.len() != 1 {
        return Err(ProviderError::invalid(
            "`endpoint_configuration.types` holds exactly one endpoint type",
        ));
    }
    Ok(Some(types))
}

fn strings(props: &Map, prop: &str) -> Result<Vec<String>> {
    match given(props, prop) {
        None => Ok(Vec::new()),
        Some(value) => value
            .as_list()
            .and_then(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a list of strings"))),
    }
}

/// Manages REST APIs; the id is the API id.
pub struct RestApiProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigateway::Client,
    ctx: AwsContext,
}

impl RestApiProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigateway, ctx),
            ctx: ctx.clone(),
        }
    }

    /// The API's ARN, which API Gateway tags it under.
    fn arn(&self, api_id: &str) -> String {
        format!(
            "arn:{}:apigateway:{}::/restapis/{api_id}",
            self.ctx.partition(),
            self.ctx.region()
        )
    }

    /// The ARN that `lambda.permission`'s `source_arn` and IAM policies name the API by.
    async fn execution_arn(&self, api_id: &str) -> Result<String> {
        self.ctx.arn("execute-api", api_id).await
    }

    /// The API in the stack's terms, or `None` when it does not exist. Binary media types are
    /// a set: they read back in the order the stack last wrote them.
    async fn find_api(&self, api_id: &str, prior: &Map) -> Result<Option<Resource>> {
        let out = self
            .apis
            .get_rest_api()
            .rest_api_id(api_id)
            .send()
            .await
            .map_err(api_error);
        let Some(api) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(api.name().unwrap_or_default()));
        if let Some(description) = api.description().filter(|d| !d.is_empty()) {
            properties.insert("description".into(), Value::str(description));
        }
        if let Some(config) = api.endpoint_configuration() {
            properties.insert(
                "endpoint_configuration".into(),
                Value::Map(Map::from([(
                    "types".to_string(),
                    Value::List(
                        config
                            .types()
                            .iter()
                            .map(|t| Value::str(t.as_str()))
                            .collect(),
                    ),
                )])),
            );
        }
        properties.insert(
            "binary_media_types".into(),
            crate::props::set_in_prior_order(
                prior.get("binary_media_types"),
                api.binary_media_types().iter().cloned(),
            ),
        );
        properties.insert(
            "tags".into(),
            tags_value(
                api.tags()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone())),
            ),
        );
        let root = api.root_resource_id().ok_or_else(|| {
            ProviderError::invalid(format!("GetRestApi returned no root resource for {api_id}"))
        })?;
        let attributes = Map::from([
            ("id".to_string(), Value::str(api_id)),
            ("root_resource_id".to_string(), Value::str(root)),
            (
                "execution_arn".to_string(),
                Value::str(self.execution_arn(api_id).await?),
            ),
            ("arn".to_string(), Value::str(self.arn(api_id))),
        ]);
        Ok(Some(Resource {
            id: api_id.to_string(),
            properties,
            attributes,
        }))
    }

    async fn read_existing(&self, api_id: &str, prior: &Map) -> Result<Resource> {
        self.find_api(api_id, prior).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "REST API {api_id} was written but cannot be read back"
            ))
        })
    }
}

#[async_trait]
impl Provider for RestApiProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let tags: HashMap<String, String> = tag_strings(props.get("tags"))?.into_iter().collect();
        let binary = strings(props, "binary_media_types")?;
        let config = endpoint_types(props)?.map(|types| {
            EndpointConfiguration::builder()
                .set_types(Some(
                    types
                        .iter()
                        .map(|t| EndpointType::from(t.as_str()))
                        .collect(),
                ))
                .build()
        });
        let out = self
            .apis
            .create_rest_api()
            .name(required_str(props, "name")?)
            .set_description(
                given(props, "description").and_then(|v| v.as_str().map(str::to_string)),
            )
            .set_endpoint_configuration(config)
            .set_binary_media_types((!binary.is_empty()).then_some(binary))
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        let api_id = out
            .id()
            .ok_or_else(|| ProviderError::invalid("CreateRestApi returned no id"))?;
        after_made(api_id, async { self.read_existing(api_id, props).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_api(&req.id, &req.prior_properties).await
    }

    /// One `UpdateRestApi` with an operation per changed field (an endpoint type is replaced by
    /// path, binary media types added and removed one by one), then tags by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let api_id = req.id.as_str();
        let props = &req.properties;
        let prior = &req.prior_properties;
        let mut ops = Vec::new();
        let mut tags_changed = false;
        for prop in &req.changed {
            match prop.as_str() {
                "name" => ops.push(patch(
                    Op::Replace,
                    "/name",
                    Some(required_str(props, "name")?),
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
                "endpoint_configuration" => {
                    if let Some(new) = endpoint_types(props)? {
                        let old = endpoint_types(prior)?.unwrap_or_else(|| vec!["EDGE".into()]);
                        if old != new {
                            ops.push(patch(
                                Op::Replace,
                                &format!("/endpointConfiguration/types/{}", old[0]),
                                Some(new[0].clone()),
                            ));
                        }
                    }
                }
                "binary_media_types" => {
                    let old: BTreeSet<String> =
                        strings(prior, "binary_media_types")?.into_iter().collect();
                    let new: BTreeSet<String> =
                        strings(props, "binary_media_types")?.into_iter().collect();
                    for media in new.difference(&old) {
                        let path = format!("/binaryMediaTypes/{}", pointer_segment(media));
                        ops.push(patch(Op::Add, &path, None));
                    }
                    for media in old.difference(&new) {
                        let path = format!("/binaryMediaTypes/{}", pointer_segment(media));
                        ops.push(patch(Op::Remove, &path, None));
                    }
                }
                "tags" => tags_changed = true,
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if !ops.is_empty() {
            self.apis
                .update_rest_api()
                .rest_api_id(api_id)
                .set_patch_operations(Some(ops))
                .send()
                .await
                .map_err(api_error)?;
        }
        if tags_changed {
            let arn = self.arn(api_id);
            let api = RestTags {
                client: &self.apis,
                id: &arn,
            };
            reconcile(&api, prior, props).await?;
        }
        self.read_existing(api_id, props).await
    }

    /// Deletes the API, and with it everything in it; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .apis
            .delete_rest_api()
            .rest_api_id(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the API carrying this stack's and this address's `strata:` tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let mut position = None;
        loop {
            let out = self
                .apis
                .get_rest_apis()
                .set_position(position)
                .send()
                .await
                .map_err(api_error)?;
            for api in out.items() {
                let tags = api.tags();
                let tag = |key: &str| tags.and_then(|t| t.get(key)).map(String::as_str);
                if tag(STACK_TAG) == Some(req.stack.as_str())
                    && tag(ADDRESS_TAG) == Some(stacks::address_tag(&req.address).as_str())
                {
                    if let Some(api_id) = api.id() {
                        return self.find_api(api_id, &req.properties).await;
                    }
                }
            }
            match out.position() {
                Some(p) if !p.is_empty() => position = Some(p.to_string()),
                _ => return Ok(None),
            }
        }
    }
}

/// What the loader checks of a REST API's properties (`TypeSchema::check`): one endpoint type
/// API Gateway knows.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        endpoint_types(props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_types(types: &[&str]) -> Map {
        Map::from([(
            "endpoint_configuration".to_string(),
            Value::Map(Map::from([(
                "types".to_string(),
                Value::List(types.iter().map(|t| Value::str(*t)).collect()),
            )])),
        )])
    }

    #[test]
    fn an_api_has_exactly_one_known_endpoint_type() {
        assert_eq!(
            endpoint_types(&with_types(&["REGIONAL"])).unwrap(),
            Some(vec!["REGIONAL".to_string()])
        );
        assert!(endpoint_types(&with_types(&["REGIONAL", "EDGE"])).is_err());
        assert!(endpoint_types(&with_types(&["LOCAL"])).is_err());
        assert_eq!(endpoint_types(&Map::new()).unwrap(), None);
    }
}
