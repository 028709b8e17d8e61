//! Lookups of stored values: an SSM parameter and a Secrets Manager secret's version. What
//! they read is sensitive where SPEC §10 says: a `SecureString`'s value, and every secret.

use base64::Engine as _;
use stacks::schema::{LookupArg as Arg, LookupAttr as Attr, LookupSchema};
use stacks::{Map, Value};

use super::kit::{date, present, text, texts, Args, Failure, Found, LookupEntry, K};
use crate::aws::{api_error, sdk_client, AwsContext};

/// How SSM says a parameter (or the version asked for) does not exist.
const PARAMETER_NOT_FOUND: &[&str] = &["ParameterNotFound", "ParameterVersionNotFound"];

/// How Secrets Manager says a secret (or the version asked for) does not exist.
const SECRET_NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

pub const SSM_PARAMETER: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.ssm.parameter",
        args: &[
            Arg::required("name", K::String),
            Arg::optional("with_decryption", K::Bool),
        ],
        attributes: &[
            Attr::new("arn", K::String),
            Attr::new("name", K::String),
            Attr::new("type", K::String),
            // Sensitive when the parameter is a `SecureString`.
            Attr::new("value", K::String),
            Attr::new("version", K::Integer),
        ],
    },
    about: "One Parameter Store parameter, by name; the `value` of a `SecureString` is \
            decrypted (unless `with_decryption: false`) and sensitive.",
    actions: &["ssm:GetParameter", "kms:Decrypt"],
};

pub const SECRET_VERSION: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.secretsmanager.secret_version",
        args: &[
            Arg::required("secret_id", K::String),
            Arg::optional("version_id", K::String),
            Arg::optional("version_stage", K::String),
        ],
        attributes: &[
            Attr::new("arn", K::String),
            Attr::new("id", K::String),
            Attr::sensitive("secret_string", K::String),
            Attr::sensitive("secret_binary", K::String),
            Attr::new("version_id", K::String),
            Attr::new("version_stages", K::Strings),
            Attr::new("created_date", K::String),
        ],
    },
    about: "One version of a secret (`AWSCURRENT` unless `version_id` or `version_stage` \
            says otherwise), by name or ARN; its value is sensitive.",
    actions: &["secretsmanager:GetSecretValue", "kms:Decrypt"],
};

pub(crate) async fn ssm_parameter(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let ssm = sdk_client!(aws_sdk_ssm, ctx);
    let name = args.required("name")?;
    let decrypt = args.bool("with_decryption")?.unwrap_or(true);
    let got = ssm
        .get_parameter()
        .name(&name)
        .with_decryption(decrypt)
        .send()
        .await;
    let got = present(got.map_err(api_error), PARAMETER_NOT_FOUND)?;
    let parameter = got
        .parameter()
        .ok_or_else(|| Failure::Invalid("SSM returned no parameter".to_string()))?;
    let kind = parameter.r#type().map(|t| t.as_str().to_string());
    let value = text(parameter.value());
    let value = if kind.as_deref() == Some("SecureString") {
        Value::Sensitive(Box::new(value))
    } else {
        value
    };
    Ok(Map::from([
        ("arn".into(), text(parameter.arn())),
        ("name".into(), text(parameter.name())),
        ("type".into(), text(kind)),
        ("value".into(), value),
        ("version".into(), Value::int(parameter.version())),
    ]))
}

pub(crate) async fn secret_version(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let secrets = sdk_client!(aws_sdk_secretsmanager, ctx);
    let secret_id = args.required("secret_id")?;
    let got = secrets
        .get_secret_value()
        .secret_id(&secret_id)
        .set_version_id(args.str("version_id")?)
        .set_version_stage(args.str("version_stage")?)
        .send()
        .await;
    let got = present(got.map_err(api_error), SECRET_NOT_FOUND)?;
    let version = got.version_id().unwrap_or_default();
    let binary = got
        .secret_binary()
        .map(|b| base64::engine::general_purpose::STANDARD.encode(b.as_ref()));
    Ok(Map::from([
        ("arn".into(), text(got.arn())),
        (
            "id".into(),
            Value::String(format!("{}|{version}", got.arn().unwrap_or(&secret_id))),
        ),
        ("secret_string".into(), text(got.secret_string())),
        ("secret_binary".into(), text(binary)),
        ("version_id".into(), Value::str(version)),
        (
            "version_stages".into(),
            texts(got.version_stages().iter().cloned()),
        ),
        ("created_date".into(), date(got.created_date())),
    ]))
}
