//! `aws.lambda.alias`: a name for one version of a function (and, with `routing_config`, a
//! share of its traffic sent to a second version).
//!
//! `CreateAlias` makes it, `UpdateAlias` moves it to another version or changes its
//! description and routing, `DeleteAlias` removes it. The name and the function force
//! replacement. The function is always called by its name (an ARN in `function_name` is
//! reduced to the name; an alias lives in its function's account and region), and
//! `function_name` reads back as the stack wrote it while it names the alias's function.
//!
//! The id is the alias ARN (`arn:…:function:FUNCTION:ALIAS`), as terraform-provider-aws has it;
//! import takes that ARN or `FUNCTION/ALIAS`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_lambda::types::AliasRoutingConfiguration;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::function::{function_name_of, invoke_arn, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, required_str};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.lambda.alias";

/// The alias's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).required().force_new(),
            Prop::new("function_name", Kind::String)
                .required()
                .force_new(),
            Prop::new("function_version", Kind::String).required(),
            Prop::new("description", Kind::String).resettable(),
            Prop::new(
                "routing_config",
                Kind::Object(vec![Prop::new(
                    "additional_version_weights",
                    Kind::Map(Box::new(Kind::Number)),
                )]),
            )
            .resettable(),
        ],
        attrs: vec!["arn", "invoke_arn"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.lambda.alias`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(AliasProvider::new(ctx)),
    about: "A name for one published version of a function, moved to another version in \
            place; `routing_config` sends a share of its traffic to a second version.",
    import_id: "the alias ARN, or `FUNCTION/ALIAS`",
    attributes: &[
        ("arn", "the alias ARN (the function ARN qualified by the alias name)"),
        (
            "invoke_arn",
            "the URI API Gateway integrations invoke the alias by",
        ),
    ],
    property_notes: &[
        (
            "function_version",
            "a published version (`${fn.version}` of a function with `publish: true`), or `$LATEST`",
        ),
        (
            "routing_config",
            "`{additional_version_weights: {VERSION: WEIGHT}}`, weights between 0 and 1",
        ),
    ],
    actions: Actions {
        create: &["lambda:CreateAlias", "lambda:GetAlias"],
        read: &["lambda:GetAlias"],
        update: &["lambda:UpdateAlias", "lambda:GetAlias"],
        delete: &["lambda:DeleteAlias"],
    },
    resources: &[
        "arn:{partition}:lambda:{region}:{account}:function:{function_name|name}",
        "arn:{partition}:lambda:{region}:{account}:function:{function_name|name}:{name}",
    ],
    passes_role: &[],
};

/// The function and alias names an alias id (`arn:…:function:FUNCTION:ALIAS`, or
/// `FUNCTION/ALIAS` as import takes it) names.
fn split_id(id: &str) -> Result<(&str, &str)> {
    if id.starts_with("arn:") {
        let parts: Vec<&str> = id.split(':').collect();
        if parts.len() == 8 && parts[5] == "function" && !parts[6].is_empty() {
            return Ok((parts[6], parts[7]));
        }
    } else if let Some((function, alias)) = id.split_once('/') {
        if !function.is_empty() && !alias.is_empty() && !alias.contains('/') {
            return Ok((function, alias));
        }
    }
    Err(ProviderError::invalid(format!(
        "`{id}` is not an alias id (an alias ARN, or FUNCTION/ALIAS)"
    )))
}

/// `routing_config` as Lambda takes it; an empty configuration clears the routing.
fn routing_from(props: &Map) -> Result<AliasRoutingConfiguration> {
    let Some(value) = given(props, "routing_config") else {
        return Ok(AliasRoutingConfiguration::builder()
            .set_additional_version_weights(Some(HashMap::new()))
            .build());
    };
    let weights = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid("`routing_config` must be a mapping"))?
        .get("additional_version_weights")
        .filter(|v| **v != Value::Null)
        .map(|v| {
            v.as_map().cloned().ok_or_else(|| {
                ProviderError::invalid(
                    "`routing_config.additional_version_weights` must map versions to weights",
                )
            })
        })
        .transpose()?
        .unwrap_or_default();
    let weights = weights
        .iter()
        .map(|(version, weight)| {
            let weight = weight
                .as_f64()
                .filter(|w| (0.0..=1.0).contains(w))
                .ok_or_else(|| {
                    ProviderError::invalid(format!(
                        "`routing_config.additional_version_weights.{version}` must be a number \
                     between 0 and 1"
                    ))
                })?;
            Ok((version.clone(), weight))
        })
        .collect::<Result<HashMap<_, _>>>()?;
    Ok(AliasRoutingConfiguration::builder()
        .set_additional_version_weights(Some(weights))
        .build())
}

/// `routing_config` as read: absent when no traffic is routed to another version.
fn routing_value(routing: Option<&AliasRoutingConfiguration>) -> Option<Value> {
    let weights = routing.and_then(|r| r.additional_version_weights())?;
    if weights.is_empty() {
        return None;
    }
    let weights: Map = weights
        .iter()
        .map(|(version, weight)| {
            (
                version.clone(),
                serde_json::Number::from_f64(*weight).map_or(Value::Null, Value::Number),
            )
        })
        .collect();
    Some(Value::Map(Map::from([(
        "additional_version_weights".to_string(),
        Value::Map(weights),
    )])))
}

/// Manages function aliases; the id is the alias ARN.
pub struct AliasProvider {
    schema: TypeSchema,
    lambda: aws_sdk_lambda::Client,
}

impl AliasProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            lambda: crate::aws::sdk_client!(aws_sdk_lambda, ctx),
        }
    }

    /// The alias in the stack's terms, or `None` when it (or its function) does not exist.
    /// `prior` is what the stack wrote (for `function_name` given as an ARN).
    async fn find_alias(
        &self,
        function: &str,
        name: &str,
        prior: &Map,
    ) -> Result<Option<Resource>> {
        let out = self
            .lambda
            .get_alias()
            .function_name(function)
            .name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(alias) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let arn = alias
            .alias_arn()
            .ok_or_else(|| ProviderError::invalid("GetAlias returned no ARN"))?;
        let function_name = prior
            .get("function_name")
            .and_then(Value::as_str)
            .filter(|given| function_name_of(given) == function)
            .unwrap_or(function);
        let mut properties = Map::from([
            ("name".to_string(), Value::str(alias.name().unwrap_or(name))),
            ("function_name".to_string(), Value::str(function_name)),
            (
                "function_version".to_string(),
                Value::str(alias.function_version().unwrap_or_default()),
            ),
        ]);
        if let Some(description) = alias.description().filter(|d| !d.is_empty()) {
            properties.insert("description".into(), Value::str(description));
        }
        if let Some(routing) = routing_value(alias.routing_config()) {
            properties.insert("routing_config".into(), routing);
        }
        Ok(Some(Resource {
            id: arn.to_string(),
            properties,
            attributes: Map::from([
                ("arn".to_string(), Value::str(arn)),
                ("invoke_arn".to_string(), Value::str(invoke_arn(arn))),
            ]),
        }))
    }

    async fn read_existing(&self, function: &str, name: &str, props: &Map) -> Result<Resource> {
        self.find_alias(function, name, props)
            .await?
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "alias {name} of function {function} was written but cannot be read back"
                ))
            })
    }
}

/// The function name (never an ARN) the stack's `function_name` names.
fn function_of(props: &Map) -> Result<String> {
    Ok(function_name_of(&required_str(props, "function_name")?).to_string())
}

#[async_trait]
impl Provider for AliasProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let function = function_of(props)?;
        let name = required_str(props, "name")?;
        let routing = given(props, "routing_config")
            .map(|_| routing_from(props))
            .transpose()?;
        let out = self
            .lambda
            .create_alias()
            .function_name(&function)
            .name(&name)
            .function_version(required_str(props, "function_version")?)
            .set_description(
                given(props, "description").and_then(|v| v.as_str().map(str::to_string)),
            )
            .set_routing_config(routing)
            .send()
            .await
            .map_err(api_error)?;
        let arn = out
            .alias_arn()
            .ok_or_else(|| ProviderError::invalid("CreateAlias returned no ARN"))?;
        after_made(arn, self.read_existing(&function, &name, props)).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (function, name) = split_id(&req.id)?;
        self.find_alias(function, name, &req.prior_properties).await
    }

    /// One `UpdateAlias` with what changed: the version, the description (cleared when taken
    /// out), the routing (cleared when taken out).
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (function, name) = split_id(&req.id)?;
        let props = &req.properties;
        let mut call = self
            .lambda
            .update_alias()
            .function_name(function)
            .name(name);
        for prop in &req.changed {
            call = match prop.as_str() {
                "function_version" => {
                    call.function_version(required_str(props, "function_version")?)
                }
                "description" => call.description(
                    given(props, "description")
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                ),
                "routing_config" => call.routing_config(routing_from(props)?),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            };
        }
        if !req.changed.is_empty() {
            call.send().await.map_err(api_error)?;
        }
        self.read_existing(function, name, props).await
    }

    /// Deletes the alias; one already gone (or whose function is gone) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (function, name) = split_id(&req.id)?;
        let out = self
            .lambda
            .delete_alias()
            .function_name(function)
            .name(name)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the alias by its function and name (both given by the stack).
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let function = function_of(&req.properties)?;
        let name = required_str(&req.properties, "name")?;
        self.find_alias(&function, &name, &req.properties).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_id_is_its_arn_or_function_slash_alias() {
        assert_eq!(
            split_id("arn:aws:lambda:us-east-1:123456789012:function:orders:live").unwrap(),
            ("orders", "live")
        );
        assert_eq!(split_id("orders/live").unwrap(), ("orders", "live"));
        assert!(split_id("arn:aws:lambda:us-east-1:123456789012:function:orders").is_err());
        assert!(split_id("orders").is_err());
    }

    #[test]
    fn routing_reads_back_only_when_traffic_is_split() {
        let props = Map::from([(
            "routing_config".to_string(),
            Value::from_json(serde_json::json!({ "additional_version_weights": { "2": 0.25 } })),
        )]);
        let routing = routing_from(&props).unwrap();
        assert_eq!(
            routing_value(Some(&routing)),
            props.get("routing_config").cloned()
        );
        let cleared = routing_from(&Map::new()).unwrap();
        assert_eq!(routing_value(Some(&cleared)), None);
        let too_heavy = Map::from([(
            "routing_config".to_string(),
            Value::from_json(serde_json::json!({ "additional_version_weights": { "2": 1.5 } })),
        )]);
        assert!(routing_from(&too_heavy).is_err());
    }
}
