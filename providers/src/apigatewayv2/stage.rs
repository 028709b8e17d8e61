//! `aws.apigatewayv2.stage`: a named stage of an API (`$default`, `prod`), the URL it is
//! invoked at, its stage variables and default throttling.
//!
//! The id is the stage name; the API comes from the recorded `api_id` (see the module notes).
//! Settings change in place with `UpdateStage`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigatewayv2::types::RouteSettings;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{child_ids, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, number, required_str};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigatewayv2.stage";

/// The stage an HTTP API serves at its root URL, without a path segment.
const DEFAULT_STAGE: &str = "$default";

/// The stage's properties. `auto_deploy` defaults to AWS's `false`, so that removing it from
/// the stack turns automatic deployment off again.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("api_id", Kind::String).required().force_new(),
            Prop::new("name", Kind::String).required().force_new(),
            Prop::new("auto_deploy", Kind::Bool).default(false),
            Prop::new("stage_variables", Kind::Map(Box::new(Kind::String))),
            Prop::new(
                "default_route_settings",
                Kind::Object(vec![
                    Prop::new("throttling_burst_limit", Kind::Integer),
                    Prop::new("throttling_rate_limit", Kind::Number),
                ]),
            ),
        ],
        attrs: vec!["id", "invoke_url"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigatewayv2.stage`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(StageProvider::new(ctx)),
    about: "A named stage of an API (`$default`, `prod`), the URL it is invoked at, its stage \
            variables and default throttling.",
    import_id: "`API_ID/STAGE_NAME`",
    attributes: &[
        ("id", "the stage name"),
        ("invoke_url", "the URL the stage is invoked at"),
    ],
    property_notes: &[],
    actions: Actions {
        create: &["apigateway:POST", "apigateway:GET"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "apigateway:DELETE", "apigateway:POST"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/apis/{api_id}/stages",
        "arn:{partition}:apigateway:{region}::/apis/{api_id}/stages/*",
        "arn:{partition}:apigateway:{region}::/tags/*",
    ],
    passes_role: &[],
};

/// The URL a stage is invoked at: the API's endpoint, plus the stage name unless it is the
/// `$default` stage.
fn invoke_url(api_endpoint: &str, stage: &str) -> String {
    if stage == DEFAULT_STAGE {
        api_endpoint.to_string()
    } else {
        format!("{}/{stage}", api_endpoint.trim_end_matches('/'))
    }
}

fn stage_variables(value: Option<&Value>) -> Result<HashMap<String, String>> {
    crate::tags::tag_strings(value)
        .map(|vars| vars.into_iter().collect())
        .map_err(|_| {
            ProviderError::invalid("`stage_variables` must be a mapping of names to strings")
        })
}

/// `default_route_settings` as API Gateway takes it; an empty one when the stack has none.
fn route_settings(props: &Map) -> Result<RouteSettings> {
    let Some(value) = given(props, "default_route_settings") else {
        return Ok(RouteSettings::builder().build());
    };
    let fields = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid("`default_route_settings` must be a mapping"))?;
    let burst = match given(fields, "throttling_burst_limit") {
        None => None,
        Some(v) => Some(
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| {
                    ProviderError::invalid(
                        "`default_route_settings.throttling_burst_limit` must be a whole number",
                    )
                })?,
        ),
    };
    let rate = match given(fields, "throttling_rate_limit") {
        None => None,
        Some(v) => Some(v.as_f64().ok_or_else(|| {
            ProviderError::invalid(
                "`default_route_settings.throttling_rate_limit` must be a number",
            )
        })?),
    };
    Ok(RouteSettings::builder()
        .set_throttling_burst_limit(burst)
        .set_throttling_rate_limit(rate)
        .build())
}

/// API Gateway's default route settings in the stack's terms: the throttling fields that are
/// set; `None` when neither is.
fn route_settings_value(settings: &RouteSettings) -> Option<Value> {
    let mut map = Map::new();
    if let Some(burst) = settings.throttling_burst_limit() {
        map.insert("throttling_burst_limit".into(), Value::int(burst.into()));
    }
    if let Some(rate) = settings.throttling_rate_limit() {
        map.insert("throttling_rate_limit".into(), number(rate));
    }
    (!map.is_empty()).then_some(Value::Map(map))
}

/// True when the endpoint answered with a server error rather than an AWS error: how the
/// emulator answers an operation it does not implement.
fn server_error<E>(err: &SdkError<E, HttpResponse>) -> bool {
    err.raw_response()
        .is_some_and(|response| response.status().is_server_error())
}

/// The stage's properties from an answer describing it (`GetStage`'s, or `CreateStage`'s,
/// which has the same fields).
macro_rules! stage_properties {
    ($answer:expr, $api_id:expr, $name:expr) => {{
        let answer = &$answer;
        let mut properties = Map::from([
            ("api_id".to_string(), Value::str($api_id)),
            ("name".to_string(), Value::str($name)),
            (
                "auto_deploy".to_string(),
                Value::Bool(answer.auto_deploy().unwrap_or(false)),
            ),
            (
                "stage_variables".to_string(),
                crate::tags::tags_value(
                    answer
                        .stage_variables()
                        .into_iter()
                        .flatten()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| (k.clone(), v.clone())),
                ),
            ),
        ]);
        if let Some(settings) = answer
            .default_route_settings()
            .and_then(route_settings_value)
        {
            properties.insert("default_route_settings".into(), settings);
        }
        properties
    }};
}

/// The stage in the stack's terms: its properties and the URL it is invoked at.
fn stage_resource(name: &str, properties: Map, endpoint: &str) -> Resource {
    let attributes = Map::from([
        ("id".to_string(), Value::str(name)),
        (
            "invoke_url".to_string(),
            Value::str(invoke_url(endpoint, name)),
        ),
    ]);
    Resource {
        id: name.to_string(),
        properties,
        attributes,
    }
}

/// Manages API Gateway v2 stages; the id is the stage name.
pub struct StageProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigatewayv2::Client,
    /// Whether strata talks to an emulator (see [`StageProvider::update`]).
    custom_endpoint: bool,
}

impl StageProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigatewayv2, ctx),
            custom_endpoint: ctx.custom_endpoint,
        }
    }

    fn auto_deploy(&self, props: &Map) -> Result<bool> {
        match desired(&self.schema, props, "auto_deploy") {
            None => Ok(false),
            Some(value) => value
                .as_bool()
                .ok_or_else(|| ProviderError::invalid("`auto_deploy` must be true or false")),
        }
    }

    async fn create_stage(
        &self,
        api_id: &str,
        name: &str,
        props: &Map,
    ) -> Result<aws_sdk_apigatewayv2::operation::create_stage::CreateStageOutput> {
        let variables = stage_variables(props.get("stage_variables"))?;
        self.apis
            .create_stage()
            .api_id(api_id)
            .stage_name(name)
            .auto_deploy(self.auto_deploy(props)?)
            .set_stage_variables((!variables.is_empty()).then_some(variables))
            .set_default_route_settings(
                given(props, "default_route_settings")
                    .is_some()
                    .then(|| route_settings(props))
                    .transpose()?,
            )
            .send()
            .await
            .map_err(api_error)
    }

    /// The stage in the stack's terms, or `None` when it (or its API) does not exist.
    async fn find_stage(&self, api_id: &str, name: &str) -> Result<Option<Resource>> {
        let out = self
            .apis
            .get_stage()
            .api_id(api_id)
            .stage_name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(stage) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let Some(api) = super::api_facts(&self.apis, api_id).await? else {
            return Ok(None);
        };
        Ok(Some(stage_resource(
            name,
            stage_properties!(stage, api_id, name),
            &api.endpoint,
        )))
    }

    async fn read_existing(&self, api_id: &str, name: &str) -> Result<Resource> {
        self.find_stage(api_id, name).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "stage {name} of API {api_id} was written but cannot be read back"
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
        let api_id = required_str(props, "api_id")?;
        let name = required_str(props, "name")?;
        let out = self.create_stage(&api_id, &name, props).await?;
        // Nothing read back: the answer describes the stage as made, and the API's endpoint
        // is known from the API's own create (or asked once).
        let api = super::api_facts(&self.apis, &api_id)
            .await?
            .ok_or_else(|| ProviderError::invalid(format!("API {api_id} does not exist")))?;
        Ok(stage_resource(
            &name,
            stage_properties!(out, api_id.as_str(), name.as_str()),
            &api.endpoint,
        ))
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (api_id, name) = child_ids(&req.id, &req.prior_properties, "stage")?;
        self.find_stage(&api_id, &name).await
    }

    /// One `UpdateStage` with the fields that changed. Stage variables that left the stack are
    /// sent empty, which is how API Gateway removes them.
    ///
    /// The emulator (moto) does not implement `UpdateStage` and answers with a server error;
    /// against a custom endpoint, and only there, the stage is then re-created under the same
    /// name with the desired settings, which on an emulator loses nothing. AWS itself never
    /// takes that path.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (api_id, name) = child_ids(&req.id, &req.prior_properties, "stage")?;
        let props = &req.properties;
        let mut call = self.apis.update_stage().api_id(&api_id).stage_name(&name);
        for prop in &req.changed {
            call = match prop.as_str() {
                "auto_deploy" => call.auto_deploy(self.auto_deploy(props)?),
                "stage_variables" => {
                    let mut variables: HashMap<String, String> =
                        stage_variables(req.prior_properties.get("stage_variables"))?
                            .into_keys()
                            .map(|k| (k, String::new()))
                            .collect();
                    variables.extend(stage_variables(props.get("stage_variables"))?);
                    call.set_stage_variables(Some(variables))
                }
                "default_route_settings" => call.default_route_settings(route_settings(props)?),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            };
        }
        if !req.changed.is_empty() {
            match call.send().await {
                Ok(_) => {}
                Err(err) if self.custom_endpoint && server_error(&err) => {
                    self.apis
                        .delete_stage()
                        .api_id(&api_id)
                        .stage_name(&name)
                        .send()
                        .await
                        .map_err(api_error)?;
                    self.create_stage(&api_id, &name, props).await?;
                }
                Err(err) => return Err(api_error(err)),
            }
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
            .api_id(api_id)
            .stage_name(name)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the stage by its API and name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let api_id = required_str(&req.properties, "api_id")?;
        let name = required_str(&req.properties, "name")?;
        self.find_stage(&api_id, &name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_stage_is_invoked_at_the_api_endpoint_and_others_below_it() {
        let endpoint = "https://abc123.execute-api.us-east-1.amazonaws.com";
        assert_eq!(invoke_url(endpoint, "$default"), endpoint);
        assert_eq!(invoke_url(endpoint, "prod"), format!("{endpoint}/prod"));
    }

    #[test]
    fn throttling_reads_back_as_the_stack_writes_it() {
        let settings = RouteSettings::builder()
            .throttling_burst_limit(100)
            .throttling_rate_limit(50.0)
            .build();
        let value = route_settings_value(&settings).unwrap();
        assert_eq!(
            value,
            Value::Map(Map::from([
                ("throttling_burst_limit".to_string(), Value::int(100)),
                ("throttling_rate_limit".to_string(), Value::int(50)),
            ]))
        );
        assert_eq!(number(2.5).as_f64(), Some(2.5));
        assert_eq!(
            route_settings_value(&RouteSettings::builder().build()),
            None
        );
    }
}
