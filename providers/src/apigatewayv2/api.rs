//! `aws.apigatewayv2.api`: an HTTP or WebSocket API.
//!
//! `CreateApi` takes everything; `UpdateApi` changes the name, description and CORS settings in
//! place, and `DeleteCorsConfiguration` removes CORS. API names are not unique in API Gateway,
//! so an API is found again (after a crash, or for import) by its `strata:` tags.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigatewayv2::types::{Cors, ProtocolType};
use stacks::{Kind, Map, Prop, TypeSchema, Value, ADDRESS_TAG, STACK_TAG};

use super::{remember_api, ApiTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.apigatewayv2.api";

/// The protocols API Gateway v2 serves.
const PROTOCOLS: &[&str] = &["HTTP", "WEBSOCKET"];

/// The route selection expression a WebSocket API is created with. API Gateway requires one
/// for WebSocket APIs; this is the one its documentation and console use (the `action` field of
/// the message body).
const WEBSOCKET_ROUTE_SELECTION: &str = "$request.body.action";

/// The API's properties.
pub fn schema() -> TypeSchema {
    let strings = || Kind::List(Box::new(Kind::String));
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).required(),
            Prop::new("protocol_type", Kind::String)
                .force_new()
                .default("HTTP")
                .allowed(PROTOCOLS),
            Prop::new("description", Kind::String).resettable(),
            Prop::new(
                "cors_configuration",
                Kind::Object(vec![
                    Prop::new("allow_origins", strings()),
                    Prop::new("allow_methods", strings()),
                    Prop::new("allow_headers", strings()),
                    Prop::new("max_age", Kind::Integer),
                ]),
            )
            .resettable(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "api_endpoint", "execution_arn"],
        taggable: true,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.apigatewayv2.api`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(ApiProvider::new(ctx)),
    about: "An HTTP or WebSocket API; found again by its `strata:` tags, since API names are \
            not unique.",
    import_id: "the API id",
    attributes: &[
        (
            "id",
            "the API id, which integrations, routes and stages take as `api_id`",
        ),
        ("api_endpoint", "the URL the API is served at"),
        (
            "execution_arn",
            "the ARN `aws.lambda.permission`'s `source_arn` and IAM policies name the API by",
        ),
    ],
    property_notes: &[],
    actions: Actions {
        create: &["apigateway:POST"],
        read: &["apigateway:GET"],
        update: &["apigateway:PATCH", "apigateway:DELETE", "apigateway:POST"],
        delete: &["apigateway:DELETE"],
    },
    resources: &[
        "arn:{partition}:apigateway:{region}::/apis",
        "arn:{partition}:apigateway:{region}::/apis/{id}",
        "arn:{partition}:apigateway:{region}::/apis/{id}/*",
        "arn:{partition}:apigateway:{region}::/tags/*",
    ],
    passes_role: &[],
};

/// `cors_configuration` as API Gateway takes it. Empty lists are left out, as API Gateway
/// leaves them out when it answers.
fn cors_from(value: &Value) -> Result<Cors> {
    let fields = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid("`cors_configuration` must be a mapping"))?;
    let list = |key: &str| -> Result<Option<Vec<String>>> {
        let Some(items) = given(fields, key) else {
            return Ok(None);
        };
        let items = items.as_list().ok_or_else(|| {
            ProviderError::invalid(format!("`cors_configuration.{key}` must be a list"))
        })?;
        let strings = items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    ProviderError::invalid(format!(
                        "`cors_configuration.{key}` must be a list of strings"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(strings).filter(|s| !s.is_empty()))
    };
    let max_age = match given(fields, "max_age") {
        None => None,
        Some(value) => {
            let age = value.as_i64().and_then(|n| i32::try_from(n).ok());
            Some(age.ok_or_else(|| {
                ProviderError::invalid("`cors_configuration.max_age` must be a whole number")
            })?)
        }
    };
    Ok(Cors::builder()
        .set_allow_origins(list("allow_origins")?)
        .set_allow_methods(list("allow_methods")?)
        .set_allow_headers(list("allow_headers")?)
        .set_max_age(max_age)
        .build())
}

/// API Gateway's CORS settings in the stack's terms: only the fields that are set; `None` when
/// none is. API Gateway drops empty lists, so a list the stack last gave as empty (`prior`,
/// the `cors_configuration` it wrote) reads back as that empty list, and settings made only
/// of empty lists read back as written: a second plan of `allow_headers: []` is clean.
fn cors_value(cors: Option<&Cors>, prior: Option<&Value>) -> Option<Value> {
    let prior = prior.and_then(Value::as_map);
    let written_empty = |key: &str| {
        prior
            .and_then(|p| p.get(key))
            .and_then(Value::as_list)
            .is_some_and(|items| items.is_empty())
    };
    let mut map = Map::new();
    let lists = |c: &Cors| {
        [
            ("allow_origins", c.allow_origins.clone()),
            ("allow_methods", c.allow_methods.clone()),
            ("allow_headers", c.allow_headers.clone()),
        ]
    };
    for (key, items) in cors.map(lists).into_iter().flatten() {
        if let Some(items) = items.filter(|items| !items.is_empty()) {
            map.insert(
                key.to_string(),
                Value::List(items.iter().map(Value::str).collect()),
            );
        }
    }
    for key in ["allow_origins", "allow_methods", "allow_headers"] {
        if !map.contains_key(key) && written_empty(key) {
            map.insert(key.to_string(), Value::List(Vec::new()));
        }
    }
    if let Some(age) = cors.and_then(Cors::max_age) {
        map.insert("max_age".into(), Value::int(age.into()));
    }
    let only_empty_lists_written = prior.is_some_and(|p| {
        p.values()
            .all(|v| v.as_list().is_some_and(|items| items.is_empty()))
    });
    (!map.is_empty() || only_empty_lists_written).then_some(Value::Map(map))
}

/// The API in the stack's terms from an answer describing it (`GetApi`'s, or `CreateApi`'s,
/// which has the same fields); `prior` is what the stack last wrote (see [`cors_value`]).
macro_rules! api_resource {
    ($answer:expr, $api_id:expr, $prior:expr, $execution_arn:expr) => {{
        let answer = &$answer;
        (|| -> Result<Resource> {
            let mut properties = Map::new();
            properties.insert("name".into(), Value::str(answer.name().unwrap_or_default()));
            if let Some(protocol) = answer.protocol_type() {
                properties.insert("protocol_type".into(), Value::str(protocol.as_str()));
            }
            if let Some(description) = answer.description().filter(|d| !d.is_empty()) {
                properties.insert("description".into(), Value::str(description));
            }
            if let Some(cors) = cors_value(
                answer.cors_configuration(),
                $prior.get("cors_configuration"),
            ) {
                properties.insert("cors_configuration".into(), cors);
            }
            properties.insert(
                "tags".into(),
                tags_value(
                    answer
                        .tags()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.clone())),
                ),
            );
            let endpoint = answer.api_endpoint().ok_or_else(|| {
                ProviderError::invalid(format!(
                    "API Gateway returned no endpoint for API {}",
                    $api_id
                ))
            })?;
            let attributes = Map::from([
                ("id".to_string(), Value::str($api_id)),
                ("api_endpoint".to_string(), Value::str(endpoint)),
                ("execution_arn".to_string(), Value::str(&$execution_arn)),
            ]);
            Ok(Resource {
                id: $api_id.to_string(),
                properties,
                attributes,
            })
        })()
    }};
}

/// Manages API Gateway v2 APIs; the id is the API id.
pub struct ApiProvider {
    schema: TypeSchema,
    apis: aws_sdk_apigatewayv2::Client,
    ctx: AwsContext,
}

impl ApiProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            apis: crate::aws::sdk_client!(aws_sdk_apigatewayv2, ctx),
            ctx: ctx.clone(),
        }
    }

    /// The ARN API Gateway tags the API under.
    fn tag_arn(&self, api_id: &str) -> String {
        format!(
            "arn:{}:apigateway:{}::/apis/{api_id}",
            self.ctx.partition(),
            self.ctx.region()
        )
    }

    /// The ARN that `lambda.permission`'s `source_arn` and IAM policies name the API by.
    async fn execution_arn(&self, api_id: &str) -> Result<String> {
        self.ctx.arn("execute-api", api_id).await
    }

    /// The API in the stack's terms, or `None` when it does not exist.
    /// `prior` is what the stack last wrote (see [`cors_value`]).
    async fn find_api(&self, api_id: &str, prior: &Map) -> Result<Option<Resource>> {
        let out = self
            .apis
            .get_api()
            .api_id(api_id)
            .send()
            .await
            .map_err(api_error);
        let Some(api) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let execution_arn = self.execution_arn(api_id).await?;
        let resource = api_resource!(api, api_id, prior, execution_arn)?;
        remember_api(
            &self.apis,
            api_id,
            api.protocol_type(),
            api.api_endpoint().unwrap_or_default(),
        );
        Ok(Some(resource))
    }

    /// Reads an API that must exist (it was just created or changed).
    async fn read_existing(&self, api_id: &str, prior: &Map) -> Result<Resource> {
        self.find_api(api_id, prior).await?.ok_or_else(|| {
            ProviderError::invalid(format!("API {api_id} was written but cannot be read back"))
        })
    }
}

#[async_trait]
impl Provider for ApiProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let protocol = desired(&self.schema, props, "protocol_type")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "HTTP".to_string());
        let cors = match given(props, "cors_configuration") {
            Some(value) => Some(cors_from(&value)?),
            None => None,
        };
        let tags: HashMap<String, String> = tag_strings(props.get("tags"))?.into_iter().collect();
        let out = self
            .apis
            .create_api()
            .name(required_str(props, "name")?)
            .protocol_type(ProtocolType::from(protocol.as_str()))
            .set_route_selection_expression(
                (protocol == "WEBSOCKET").then(|| WEBSOCKET_ROUTE_SELECTION.to_string()),
            )
            .set_description(
                given(props, "description").and_then(|v| v.as_str().map(str::to_string)),
            )
            .set_cors_configuration(cors)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        let api_id = out
            .api_id()
            .ok_or_else(|| ProviderError::invalid("CreateApi returned no API id"))?;
        // Nothing read back: the answer describes the API as made.
        after_made(api_id, async {
            let execution_arn = self.execution_arn(api_id).await?;
            let resource = api_resource!(out, api_id, props, execution_arn)?;
            remember_api(
                &self.apis,
                api_id,
                out.protocol_type(),
                out.api_endpoint().unwrap_or_default(),
            );
            Ok(resource)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_api(&req.id, &req.prior_properties).await
    }

    /// One `UpdateApi` for the name, description and CORS settings that changed
    /// (`DeleteCorsConfiguration` when CORS left the stack), then tags by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let api_id = req.id.as_str();
        let props = &req.properties;
        let mut call = self.apis.update_api().api_id(api_id);
        let mut update = false;
        let mut remove_cors = false;
        let mut tags_changed = false;
        for prop in &req.changed {
            match prop.as_str() {
                "name" => {
                    call = call.name(required_str(props, "name")?);
                    update = true;
                }
                // An empty description is how API Gateway clears it.
                "description" => {
                    let text = given(props, "description")
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    call = call.description(text);
                    update = true;
                }
                "cors_configuration" => match given(props, "cors_configuration") {
                    Some(value) => {
                        call = call.cors_configuration(cors_from(&value)?);
                        update = true;
                    }
                    None => remove_cors = true,
                },
                "tags" => tags_changed = true,
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if update {
            call.send().await.map_err(api_error)?;
        }
        if remove_cors {
            self.apis
                .delete_cors_configuration()
                .api_id(api_id)
                .send()
                .await
                .map_err(api_error)?;
        }
        if tags_changed {
            let arn = self.tag_arn(api_id);
            let api = ApiTags {
                client: &self.apis,
                id: &arn,
            };
            reconcile(&api, &req.prior_properties, props).await?;
        }
        self.read_existing(api_id, props).await
    }

    /// Deletes the API, and with it its integrations, routes and stages; one already gone is
    /// success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .apis
            .delete_api()
            .api_id(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the API carrying this stack's and this address's `strata:` tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let mut next_token = None;
        loop {
            let out = self
                .apis
                .get_apis()
                .set_next_token(next_token)
                .send()
                .await
                .map_err(api_error)?;
            for api in out.items() {
                let tags = api.tags();
                let tag = |key: &str| tags.and_then(|t| t.get(key)).map(String::as_str);
                if tag(STACK_TAG) == Some(req.stack.as_str())
                    && tag(ADDRESS_TAG) == Some(stacks::address_tag(&req.address).as_str())
                {
                    if let Some(api_id) = api.api_id() {
                        return self.find_api(api_id, &req.properties).await;
                    }
                }
            }
            match out.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                _ => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_settings_round_trip_with_only_the_fields_that_are_set() {
        let value = Value::Map(Map::from([
            (
                "allow_origins".to_string(),
                Value::List(vec![Value::str("https://shop.example.com")]),
            ),
            (
                "allow_methods".to_string(),
                Value::List(vec![Value::str("POST")]),
            ),
            ("max_age".to_string(), Value::int(300)),
        ]));
        let cors = cors_from(&value).unwrap();
        assert_eq!(cors_value(Some(&cors), None), Some(value));
        assert_eq!(cors_value(Some(&Cors::builder().build()), None), None);
        assert_eq!(cors_value(None, None), None);
    }

    #[test]
    fn empty_cors_lists_the_stack_wrote_read_back_as_written() {
        let written = Value::Map(Map::from([
            (
                "allow_origins".to_string(),
                Value::List(vec![Value::str("*")]),
            ),
            ("allow_headers".to_string(), Value::List(Vec::new())),
        ]));
        // API Gateway answers without the empty list.
        let cors = cors_from(&written).unwrap();
        assert_eq!(cors.allow_headers, None);
        assert_eq!(
            cors_value(Some(&cors), Some(&written)),
            Some(written.clone())
        );

        let only_empty = Value::Map(Map::from([(
            "allow_methods".to_string(),
            Value::List(Vec::new()),
        )]));
        assert_eq!(
            cors_value(None, Some(&only_empty)),
            Some(only_empty.clone())
        );
        // A list AWS holds items of is read as AWS has it, whatever was written.
        let aws = Cors::builder().allow_methods("GET").build();
        assert_eq!(
            cors_value(Some(&aws), Some(&only_empty)),
            Some(Value::Map(Map::from([(
                "allow_methods".to_string(),
                Value::List(vec![Value::str("GET")]),
            )])))
        );
    }

    #[test]
    fn a_max_age_that_is_not_a_whole_number_is_refused() {
        let value = Value::Map(Map::from([("max_age".to_string(), Value::str("soon"))]));
        assert!(cors_from(&value).is_err());
    }
}
