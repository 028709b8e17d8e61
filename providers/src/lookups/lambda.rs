//! The Lambda function lookup.

use stacks::schema::{LookupArg as Arg, LookupAttr as Attr, LookupSchema};
use stacks::{Map, Value};

use super::kit::{present, text, texts, Args, Failure, Found, LookupEntry, K};
use crate::aws::{api_error, sdk_client, AwsContext};
use crate::lambda::function::{invoke_arn, NOT_FOUND};
use crate::tags::tags_value;

pub const FUNCTION: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.lambda.function",
        args: &[
            Arg::required("function_name", K::String),
            Arg::optional("qualifier", K::String),
        ],
        attributes: &[
            Attr::new("arn", K::String),
            Attr::new("qualified_arn", K::String),
            Attr::new("invoke_arn", K::String),
            Attr::new("function_name", K::String),
            Attr::new("description", K::String),
            Attr::new("role", K::String),
            Attr::new("runtime", K::String),
            Attr::new("handler", K::String),
            Attr::new("version", K::String),
            Attr::new("memory_size", K::Integer),
            Attr::new("timeout", K::Integer),
            Attr::new("layers", K::Strings),
            Attr::new("last_modified", K::String),
            Attr::new("code_sha256", K::String),
            Attr::sensitive("environment", K::StringMap),
            Attr::new("tags", K::StringMap),
        ],
    },
    about: "One Lambda function, by name or ARN (and `qualifier`: a version or alias). Its \
            environment is sensitive: it often holds secrets.",
    actions: &["lambda:GetFunction"],
};

pub(crate) async fn function(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let lambda = sdk_client!(aws_sdk_lambda, ctx);
    let name = args.required("function_name")?;
    let got = lambda
        .get_function()
        .function_name(&name)
        .set_qualifier(args.str("qualifier")?)
        .send()
        .await;
    let got = present(got.map_err(api_error), NOT_FOUND)?;
    let config = got
        .configuration()
        .ok_or_else(|| Failure::Invalid("Lambda returned no configuration".to_string()))?;
    let qualified = config.function_arn().unwrap_or_default();
    let version = config.version().unwrap_or("$LATEST");
    // `GetFunction` gives the ARN with the qualifier asked for; `arn` is without it.
    let arn = match qualified.rsplit_once(':') {
        Some((base, last)) if qualified.matches(':').count() == 7 && !last.is_empty() => base,
        _ => qualified,
    };
    let qualified_arn = format!("{arn}:{version}");
    let environment = config
        .environment()
        .and_then(|e| e.variables())
        .map(|vars| tags_value(vars.iter().map(|(k, v)| (k.clone(), v.clone()))))
        .unwrap_or_else(|| Value::Map(Map::new()));
    let tags = got
        .tags()
        .map(|t| tags_value(t.iter().map(|(k, v)| (k.clone(), v.clone()))))
        .unwrap_or_else(|| Value::Map(Map::new()));
    Ok(Map::from([
        ("arn".into(), Value::str(arn)),
        ("qualified_arn".into(), Value::str(qualified_arn)),
        ("invoke_arn".into(), Value::str(invoke_arn(arn))),
        ("function_name".into(), text(config.function_name())),
        ("description".into(), text(config.description())),
        ("role".into(), text(config.role())),
        ("runtime".into(), text(config.runtime().map(|r| r.as_str()))),
        ("handler".into(), text(config.handler())),
        ("version".into(), Value::str(version)),
        (
            "memory_size".into(),
            config
                .memory_size()
                .map(|m| Value::int(m.into()))
                .unwrap_or(Value::Null),
        ),
        (
            "timeout".into(),
            config
                .timeout()
                .map(|t| Value::int(t.into()))
                .unwrap_or(Value::Null),
        ),
        (
            "layers".into(),
            texts(config.layers().iter().filter_map(|l| l.arn())),
        ),
        ("last_modified".into(), text(config.last_modified())),
        ("code_sha256".into(), text(config.code_sha256())),
        ("environment".into(), environment),
        ("tags".into(), tags),
    ]))
}
