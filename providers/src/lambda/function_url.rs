//! `aws.lambda.function_url`: a dedicated HTTPS endpoint for a function (or for one of its
//! aliases, with `qualifier`).
//!
//! `CreateFunctionUrlConfig` makes it, `UpdateFunctionUrlConfig` changes the authorization,
//! CORS and invoke mode in place, `DeleteFunctionUrlConfig` removes it. The function and the
//! qualifier force replacement. The function is called by its name (an ARN in
//! `function_name` is reduced to the name), and `function_name` reads back as the stack wrote
//! it while it names the URL's function.
//!
//! With `authorization_type: NONE` Lambda still requires a resource policy statement letting
//! everyone invoke the URL; that is an `aws.lambda.permission` of its own, never added behind
//! the stack's back.
//!
//! The id is `FUNCTION` or `FUNCTION/QUALIFIER`, as terraform-provider-aws has it.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_lambda::types::{Cors, FunctionUrlAuthType, InvokeMode};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::function::{function_name_of, string_list, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str, set_in_prior_order};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.lambda.function_url";

/// Who may call the URL: anyone (`NONE`), or IAM-signed callers.
const AUTHORIZATION_TYPES: &[&str] = &["NONE", "AWS_IAM"];

/// How the URL answers: the whole response at once, or streamed.
const INVOKE_MODES: &[&str] = &["BUFFERED", "RESPONSE_STREAM"];

/// Lambda's default invoke mode.
const DEFAULT_INVOKE_MODE: &str = "BUFFERED";

/// The function URL's properties.
pub fn schema() -> TypeSchema {
    let strings = || Kind::List(Box::new(Kind::String));
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("function_name", Kind::String)
                .required()
                .force_new(),
            Prop::new("qualifier", Kind::String).force_new(),
            Prop::new("authorization_type", Kind::String)
                .required()
                .allowed(AUTHORIZATION_TYPES),
            Prop::new(
                "cors",
                Kind::Object(vec![
                    Prop::new("allow_credentials", Kind::Bool),
                    Prop::new("allow_headers", strings()),
                    Prop::new("allow_methods", strings()),
                    Prop::new("allow_origins", strings()),
                    Prop::new("expose_headers", strings()),
                    Prop::new("max_age", Kind::Integer),
                ]),
            )
            .resettable(),
            Prop::new("invoke_mode", Kind::String)
                .default(DEFAULT_INVOKE_MODE)
                .allowed(INVOKE_MODES),
        ],
        attrs: vec!["function_url", "url_id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.lambda.function_url`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(FunctionUrlProvider::new(ctx)),
    about: "A dedicated HTTPS endpoint for a function or one of its aliases; authorization, \
            CORS and invoke mode change in place.",
    import_id: "`FUNCTION`, or `FUNCTION/QUALIFIER` for a URL of an alias",
    attributes: &[
        (
            "function_url",
            "the URL (`https://URL_ID.lambda-url.REGION.on.aws/`)",
        ),
        ("url_id", "the first label of the URL's host name"),
    ],
    property_notes: &[
        ("qualifier", "an alias name"),
        (
            "authorization_type",
            "with `NONE`, anyone may call it once an `aws.lambda.permission` allows \
             `lambda:InvokeFunctionUrl` for `*`",
        ),
    ],
    actions: Actions {
        create: &[
            "lambda:CreateFunctionUrlConfig",
            "lambda:GetFunctionUrlConfig",
        ],
        read: &["lambda:GetFunctionUrlConfig"],
        update: &[
            "lambda:UpdateFunctionUrlConfig",
            "lambda:GetFunctionUrlConfig",
        ],
        delete: &["lambda:DeleteFunctionUrlConfig"],
    },
    resources: &[
        "arn:{partition}:lambda:{region}:{account}:function:{function_name|name}",
        "arn:{partition}:lambda:{region}:{account}:function:{function_name|name}:*",
    ],
    passes_role: &[],
};

/// The id of a URL: its function, and its qualifier when it has one.
fn url_id_of(function: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("{function}/{q}"),
        None => function.to_string(),
    }
}

/// The function and qualifier a URL's id names.
fn split_id(id: &str) -> Result<(&str, Option<&str>)> {
    let mut parts = id.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(f), None, None) if !f.is_empty() => Ok((f, None)),
        (Some(f), Some(q), None) if !f.is_empty() && !q.is_empty() => Ok((f, Some(q))),
        _ => Err(ProviderError::invalid(format!(
            "`{id}` is not a function URL id (FUNCTION or FUNCTION/QUALIFIER)"
        ))),
    }
}

/// The first label of the URL's host: `https://abc123.lambda-url.us-east-1.on.aws/` → `abc123`.
fn url_id(url: &str) -> String {
    let host = url.split_once("://").map_or(url, |(_, rest)| rest);
    host.split(['.', '/'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `cors` as Lambda takes it; an empty configuration when the stack gives none (which clears
/// it on update).
fn cors_from(props: &Map) -> Result<Cors> {
    let Some(value) = given(props, "cors") else {
        return Ok(Cors::builder().build());
    };
    let fields = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid("`cors` must be a mapping"))?;
    let list = |key: &str| {
        string_list(
            &format!("cors.{key}"),
            fields.get(key).filter(|v| **v != Value::Null).cloned(),
        )
    };
    let max_age = match fields.get("max_age").filter(|v| **v != Value::Null) {
        None => None,
        Some(v) => Some(
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| ProviderError::invalid("`cors.max_age` must be a whole number"))?,
        ),
    };
    Ok(Cors::builder()
        .set_allow_credentials(fields.get("allow_credentials").and_then(Value::as_bool))
        .set_allow_headers(list("allow_headers")?)
        .set_allow_methods(list("allow_methods")?)
        .set_allow_origins(list("allow_origins")?)
        .set_expose_headers(list("expose_headers")?)
        .set_max_age(max_age)
        .build())
}

/// `cors` as read: each field Lambda has set, and each field the stack wrote (so that a
/// stack's `allow_credentials: false` or empty list reads back as written); `None` when
/// nothing is set and the stack wrote no `cors`.
fn cors_value(cors: Option<&Cors>, prior: Option<&Value>) -> Option<Value> {
    let prior = prior.and_then(Value::as_map);
    let wrote = |key: &str| prior.is_some_and(|p| p.contains_key(key));
    let mut fields = Map::new();
    if let Some(cors) = cors {
        let lists: [(&str, &[String]); 4] = [
            ("allow_headers", cors.allow_headers()),
            ("allow_methods", cors.allow_methods()),
            ("allow_origins", cors.allow_origins()),
            ("expose_headers", cors.expose_headers()),
        ];
        for (key, items) in lists {
            if !items.is_empty() || wrote(key) {
                let prior_list = prior.and_then(|p| p.get(key));
                fields.insert(
                    key.to_string(),
                    set_in_prior_order(prior_list, items.iter().cloned()),
                );
            }
        }
        let credentials = cors.allow_credentials().unwrap_or(false);
        if credentials || wrote("allow_credentials") {
            fields.insert("allow_credentials".into(), Value::Bool(credentials));
        }
        if let Some(age) = cors.max_age().filter(|a| *a != 0 || wrote("max_age")) {
            fields.insert("max_age".into(), Value::int(i64::from(age)));
        }
    }
    (!fields.is_empty() || prior.is_some()).then_some(Value::Map(fields))
}

/// Manages function URLs; the id is `FUNCTION` or `FUNCTION/QUALIFIER`.
pub struct FunctionUrlProvider {
    schema: TypeSchema,
    lambda: aws_sdk_lambda::Client,
}

impl FunctionUrlProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            lambda: crate::aws::sdk_client!(aws_sdk_lambda, ctx),
        }
    }

    /// The URL in the stack's terms, or `None` when it (or its function) does not exist.
    async fn find_url(
        &self,
        function: &str,
        qualifier: Option<&str>,
        prior: &Map,
    ) -> Result<Option<Resource>> {
        let out = self
            .lambda
            .get_function_url_config()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let function_name = prior
            .get("function_name")
            .and_then(Value::as_str)
            .filter(|given| function_name_of(given) == function)
            .unwrap_or(function);
        let mut properties = Map::from([
            ("function_name".to_string(), Value::str(function_name)),
            (
                "authorization_type".to_string(),
                Value::str(out.auth_type().as_str()),
            ),
            (
                "invoke_mode".to_string(),
                Value::str(
                    out.invoke_mode()
                        .map_or(DEFAULT_INVOKE_MODE, |m| m.as_str()),
                ),
            ),
        ]);
        if let Some(qualifier) = qualifier {
            properties.insert("qualifier".into(), Value::str(qualifier));
        }
        if let Some(cors) = cors_value(out.cors(), prior.get("cors")) {
            properties.insert("cors".into(), cors);
        }
        let url = out.function_url();
        Ok(Some(Resource {
            id: url_id_of(function, qualifier),
            properties,
            attributes: Map::from([
                ("function_url".to_string(), Value::str(url)),
                ("url_id".to_string(), Value::str(url_id(url))),
            ]),
        }))
    }

    async fn read_existing(
        &self,
        function: &str,
        qualifier: Option<&str>,
        props: &Map,
    ) -> Result<Resource> {
        self.find_url(function, qualifier, props)
            .await?
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "the URL of function {} was written but cannot be read back",
                    url_id_of(function, qualifier)
                ))
            })
    }
}

/// The function (by name) and qualifier the stack names.
fn target(props: &Map) -> Result<(String, Option<String>)> {
    let function = function_name_of(&required_str(props, "function_name")?).to_string();
    let qualifier = given(props, "qualifier").and_then(|v| v.as_str().map(str::to_string));
    Ok((function, qualifier))
}

#[async_trait]
impl Provider for FunctionUrlProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let (function, qualifier) = target(props)?;
        let invoke_mode = desired(&self.schema, props, "invoke_mode")
            .and_then(|v| v.as_str().map(InvokeMode::from));
        self.lambda
            .create_function_url_config()
            .function_name(&function)
            .set_qualifier(qualifier.clone())
            .auth_type(FunctionUrlAuthType::from(
                required_str(props, "authorization_type")?.as_str(),
            ))
            .set_cors(given(props, "cors").map(|_| cors_from(props)).transpose()?)
            .set_invoke_mode(invoke_mode)
            .send()
            .await
            .map_err(api_error)?;
        let id = url_id_of(&function, qualifier.as_deref());
        after_made(
            &id,
            self.read_existing(&function, qualifier.as_deref(), props),
        )
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (function, qualifier) = split_id(&req.id)?;
        self.find_url(function, qualifier, &req.prior_properties)
            .await
    }

    /// One `UpdateFunctionUrlConfig` with what changed; CORS taken out of the stack is
    /// cleared.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (function, qualifier) = split_id(&req.id)?;
        let props = &req.properties;
        let mut call = self
            .lambda
            .update_function_url_config()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string));
        for prop in &req.changed {
            call = match prop.as_str() {
                "authorization_type" => call.auth_type(FunctionUrlAuthType::from(
                    required_str(props, "authorization_type")?.as_str(),
                )),
                "cors" => call.cors(cors_from(props)?),
                "invoke_mode" => call.set_invoke_mode(
                    desired(&self.schema, props, "invoke_mode")
                        .and_then(|v| v.as_str().map(InvokeMode::from)),
                ),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            };
        }
        if !req.changed.is_empty() {
            call.send().await.map_err(api_error)?;
        }
        self.read_existing(function, qualifier, props).await
    }

    /// Deletes the URL; one already gone (or whose function is gone) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (function, qualifier) = split_id(&req.id)?;
        let out = self
            .lambda
            .delete_function_url_config()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the URL of the function (and qualifier) the stack names: there is at most one.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let (function, qualifier) = target(&req.properties)?;
        self.find_url(&function, qualifier.as_deref(), &req.properties)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_id_is_the_function_and_its_qualifier() {
        assert_eq!(split_id("orders").unwrap(), ("orders", None));
        assert_eq!(split_id("orders/live").unwrap(), ("orders", Some("live")));
        assert_eq!(url_id_of("orders", Some("live")), "orders/live");
        assert!(split_id("orders/live/x").is_err());
        assert!(split_id("").is_err());
    }

    #[test]
    fn the_url_id_is_the_first_label_of_the_host() {
        assert_eq!(
            url_id("https://abc123def.lambda-url.us-east-1.on.aws/"),
            "abc123def"
        );
    }

    #[test]
    fn cors_reads_back_with_the_fields_set_and_those_the_stack_wrote() {
        let written = Value::from_json(serde_json::json!({
            "allow_origins": ["https://b.example", "https://a.example"],
            "allow_credentials": false,
            "max_age": 300,
        }));
        let props = Map::from([("cors".to_string(), written.clone())]);
        let cors = cors_from(&props).unwrap();
        assert_eq!(cors_value(Some(&cors), Some(&written)), Some(written));
        assert_eq!(cors_value(None, None), None);
        assert_eq!(cors_value(Some(&Cors::builder().build()), None), None);
    }
}
