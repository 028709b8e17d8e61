//! `aws.lambda.function`: a Lambda function from a zip package.
//!
//! Lambda changes a function through separate APIs that must not overlap: configuration
//! (`UpdateFunctionConfiguration`), code (`UpdateFunctionCode`, which also sets the
//! architecture), reserved concurrency, and tags. After create the function is `Pending` until
//! `Active`; after each update `LastUpdateStatus` is `InProgress` until `Successful`, and a second
//! update before then fails. So create waits for `Active`, and every update waits for the
//! previous one to settle.
//!
//! # How `code` reads back
//!
//! Lambda does not know where the code came from: it only reports the package's SHA-256
//! (`CodeSha256`). So read returns the `code` property as strata recorded it (the prior
//! properties) when the live code is the package that property describes, and otherwise the
//! same mapping with the identifying field replaced by a marker ([`CODE_CHANGED`]), which the
//! planner sees as a change of `code`: update then uploads the package again.
//!
//! - `{path}`: the local package is rebuilt (a directory is zipped deterministically, see
//!   [`super::code`]) and its hash compared with `CodeSha256`. A relative path is taken from the
//!   current directory, where the CLI runs (the stack's directory). Editing a source file
//!   therefore shows up as a change of `code` in the next plan (with refresh), and an unchanged
//!   directory as no change. A path that cannot be packaged any more reads as changed too, with
//!   the reason in the marker, so that plans and destroys still work and the apply names the
//!   problem.
//! - `{s3_bucket, s3_key}`: strata cannot see the object's bytes without downloading it; the
//!   live `CodeSha256` is compared with the one recorded at the last apply (attribute
//!   `code_sha256`), which catches code changed outside strata.
//!
//! # Versions
//!
//! With `publish: true` a create publishes version 1 (`CreateFunction` with `Publish`), and an
//! update that changed code or configuration, or turned `publish` on, publishes a version
//! after its changes have settled (as terraform-provider-aws does). The `version` attribute is
//! then the latest published version (from `ListVersionsByFunction`), and `qualified_arn` the
//! ARN of that version; with `publish: false` they are `$LATEST` and the ARN qualified by
//! `$LATEST`. Lambda does not record whether a function is published on change, so `publish`
//! reads back as the stack last applied it (or, on import, as the stack declares it); with
//! nothing recorded (a state from before `publish`), a function that has a published version
//! reads as `publish: true`.
//!
//! The id is the function name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, DeadLetterConfig, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
    VpcConfig,
};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::code::{code_as_read, package, CodeSource, Package};
use super::FunctionTags;
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str, set_in_prior_order};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_strings};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.lambda.function";

/// Lambda's limit on a function name.
const NAME_MAX_LEN: usize = 64;

/// Lambda's default memory size (MB) and timeout (s), which the schema pins.
const DEFAULT_MEMORY_SIZE: i64 = 128;
const DEFAULT_TIMEOUT: i64 = 3;

/// How Lambda says a function (or its policy, or a mapping) does not exist.
pub(crate) const NOT_FOUND: &[&str] = &["ResourceNotFoundException", "ResourceNotFound"];

/// What `code.path` (or `code.s3_key`) reads back as when the live code is not the package the
/// stack describes (shared with layer versions, see [`super::code`]).
pub use super::code::CODE_CHANGED;

/// How long Lambda may take to accept a role created moments ago: IAM propagates in seconds,
/// and until then `CreateFunction` says the role "cannot be assumed". terraform-provider-aws
/// allows two minutes.
const ROLE_PROPAGATION_BUDGET: Duration = Duration::from_secs(120);

/// How long a new function may stay `Pending` (VPC functions create network interfaces),
/// looking every 2 s.
const FUNCTION_ACTIVE: Wait = Wait {
    timeout: Duration::from_secs(600),
    interval: Duration::from_secs(2),
};
/// How long an update may stay `InProgress`, looking every 2 s. Its timeout is also how long
/// a code update keeps retrying while the previous update is still in progress.
const FUNCTION_UPDATED: Wait = Wait {
    timeout: Duration::from_secs(600),
    interval: Duration::from_secs(2),
};

/// What a change of configuration may change: with `publish`, it publishes a new version.
const PUBLISHED: &[&str] = &["version", "qualified_arn"];
/// What a change of code may change: the package's hash, and the version it publishes.
const UPLOADED: &[&str] = &["version", "qualified_arn", "code_sha256"];

/// The function's properties.
pub fn schema() -> TypeSchema {
    let strings = || Kind::List(Box::new(Kind::String));
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("runtime", Kind::String)
                .required()
                .allowed(aws_sdk_lambda::types::Runtime::values())
                .updates_attrs(PUBLISHED),
            Prop::new("handler", Kind::String)
                .required()
                .updates_attrs(PUBLISHED),
            Prop::new("role", Kind::String)
                .arn(&["iam"])
                .required()
                .updates_attrs(PUBLISHED),
            Prop::new(
                "code",
                Kind::Object(vec![
                    Prop::new("path", Kind::String)
                        .directory_or_zip()
                        .conflicts_with(&["s3_bucket", "s3_key"]),
                    Prop::new("s3_bucket", Kind::String).requires(&["s3_key"]),
                    Prop::new("s3_key", Kind::String).requires(&["s3_bucket"]),
                ]),
            )
            .required()
            .updates_attrs(UPLOADED),
            Prop::new("memory_size", Kind::Integer)
                .range(128, 10_240)
                .default(DEFAULT_MEMORY_SIZE)
                .updates_attrs(PUBLISHED),
            Prop::new("timeout", Kind::Integer)
                .range(1, 900)
                .default(DEFAULT_TIMEOUT)
                .updates_attrs(PUBLISHED),
            Prop::new("environment", Kind::Map(Box::new(Kind::String)))
                .resettable()
                .updates_attrs(PUBLISHED),
            Prop::new("description", Kind::String)
                .resettable()
                .updates_attrs(PUBLISHED),
            Prop::new("architectures", strings()).updates_attrs(UPLOADED),
            Prop::new("layers", strings())
                .resettable()
                .updates_attrs(PUBLISHED),
            Prop::new(
                "vpc_config",
                Kind::Object(vec![
                    Prop::new("subnet_ids", strings()),
                    Prop::new("security_group_ids", strings()),
                ]),
            )
            .resettable()
            .updates_attrs(PUBLISHED),
            Prop::new("dead_letter_target_arn", Kind::String)
                .arn(&["sqs", "sns"])
                .resettable()
                .updates_attrs(PUBLISHED),
            Prop::new("reserved_concurrent_executions", Kind::Integer),
            Prop::new("publish", Kind::Bool)
                .default(false)
                .updates_attrs(PUBLISHED),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec![
            "arn",
            "name",
            "invoke_arn",
            "code_sha256",
            "version",
            "qualified_arn",
        ],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.lambda.function`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(FunctionProvider::new(ctx)),
    about: "A Lambda function, from a local directory or file strata packages, or from an \
            object in S3; create waits until it is `Active`.",
    import_id: "the function name",
    attributes: &[
        ("arn", "the function ARN"),
        ("name", "the function name"),
        (
            "invoke_arn",
            "the URI API Gateway integrations invoke the function by",
        ),
        (
            "code_sha256",
            "the SHA-256 of the deployed package, as Lambda reports it",
        ),
        (
            "version",
            "the latest published version with `publish: true`, else `$LATEST`",
        ),
        (
            "qualified_arn",
            "the ARN of that version (`ARN:VERSION`, or `ARN:$LATEST`)",
        ),
    ],
    property_notes: &[
        (
            "code",
            "`path` (a directory or `.zip` strata packages), or `s3_bucket` and `s3_key`",
        ),
        ("role", "the ARN of the execution role"),
        (
            "publish",
            "publish a version on create and on each change of code or configuration",
        ),
    ],
    actions: Actions {
        create: &[
            "lambda:CreateFunction",
            "lambda:TagResource",
            "lambda:PutFunctionConcurrency",
            "lambda:GetFunctionConfiguration",
            "lambda:DeleteFunction",
            "iam:PassRole",
        ],
        read: &[
            "lambda:GetFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:ListVersionsByFunction",
        ],
        update: &[
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:TagResource",
            "lambda:UntagResource",
            "lambda:GetFunctionConfiguration",
            "lambda:PublishVersion",
            "lambda:ListVersionsByFunction",
            "iam:PassRole",
        ],
        delete: &["lambda:DeleteFunction"],
    },
    resources: &[
        "arn:{partition}:lambda:{region}:{account}:function:{name}",
        "arn:{partition}:lambda:{region}:{account}:function:{name}:*",
    ],
    passes_role: &[("role", "lambda.amazonaws.com")],
};

/// The function name in `name_or_arn`: a plain name, `NAME:QUALIFIER`, or an ARN
/// (`arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`).
pub(crate) fn function_name_of(name_or_arn: &str) -> &str {
    let parts: Vec<&str> = name_or_arn.split(':').collect();
    match parts.iter().position(|p| *p == "function") {
        Some(i) if i + 1 < parts.len() => parts[i + 1],
        _ => parts[0],
    }
}

/// API Gateway's URI for invoking the function, as `aws_lambda_function.invoke_arn` gives it.
pub(crate) fn invoke_arn(function_arn: &str) -> String {
    let parts: Vec<&str> = function_arn.split(':').collect();
    let partition = parts.get(1).copied().unwrap_or("aws");
    let region = parts.get(3).copied().unwrap_or_default();
    format!(
        "arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )
}

/// The `publish` the stack asks for (false unless given).
fn publish(props: &Map) -> bool {
    given(props, "publish").and_then(|v| v.as_bool()) == Some(true)
}

/// A list of strings from the stack.
pub(crate) fn string_list(prop: &str, value: Option<Value>) -> Result<Option<Vec<String>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let items = value
        .as_list()
        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a list of strings")))?;
    items
        .iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                ProviderError::invalid(format!("`{prop}` must be a list of strings"))
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// A mapping of strings from the stack (environment variables).
fn string_map(prop: &str, value: Option<Value>) -> Result<Option<HashMap<String, String>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let map = value.as_map().ok_or_else(|| {
        ProviderError::invalid(format!("`{prop}` must be a mapping of names to strings"))
    })?;
    map.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_string())),
            None => Err(ProviderError::invalid(format!(
                "`{prop}.{k}` must be a string, not {}",
                v.kind_name()
            ))),
        })
        .collect::<Result<HashMap<_, _>>>()
        .map(Some)
}

fn optional_str(props: &Map, prop: &str) -> Result<Option<String>> {
    match given(props, prop) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a string"))),
    }
}

fn optional_i32(schema: &TypeSchema, props: &Map, prop: &str) -> Result<Option<i32>> {
    match desired(schema, props, prop) {
        None => Ok(None),
        Some(v) => {
            let n = v.as_i64().ok_or_else(|| {
                ProviderError::invalid(format!("`{prop}` must be a whole number"))
            })?;
            i32::try_from(n)
                .map(Some)
                .map_err(|_| ProviderError::invalid(format!("`{prop}` {n} is out of range")))
        }
    }
}

/// The VPC settings the stack gives; `None` for none. Lambda takes empty lists to leave a VPC.
fn vpc_config(props: &Map) -> Result<Option<VpcConfig>> {
    let Some(value) = given(props, "vpc_config") else {
        return Ok(None);
    };
    let fields = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid("`vpc_config` must be a mapping"))?;
    let subnets = string_list("vpc_config.subnet_ids", fields.get("subnet_ids").cloned())?;
    let groups = string_list(
        "vpc_config.security_group_ids",
        fields.get("security_group_ids").cloned(),
    )?;
    Ok(Some(
        VpcConfig::builder()
            .set_subnet_ids(Some(subnets.unwrap_or_default()))
            .set_security_group_ids(Some(groups.unwrap_or_default()))
            .build(),
    ))
}

/// Packages `code` for upload: a local package, or a reference to S3.
fn function_code(code: &Value, base_dir: &Path) -> Result<(FunctionCode, Option<Package>)> {
    match CodeSource::from_value(code)? {
        CodeSource::Path(_) => {
            let package = package(code, base_dir)?;
            let upload = FunctionCode::builder()
                .zip_file(Blob::new(package.zip.clone()))
                .build();
            Ok((upload, Some(package)))
        }
        CodeSource::S3 { bucket, key } => Ok((
            FunctionCode::builder()
                .s3_bucket(bucket)
                .s3_key(key)
                .build(),
            None,
        )),
    }
}

/// True for the errors Lambda gives while a new role (or a role's new permissions) has not
/// propagated yet.
fn role_not_propagated(e: &ProviderError) -> bool {
    e.is_code(&["InvalidParameterValueException"])
        && e.message().is_some_and(|m| {
            m.contains("cannot be assumed")
                || m.contains("execution role does not have permissions")
        })
}

/// True while another update of the function is still in progress.
fn update_in_progress(e: &ProviderError) -> bool {
    e.is_code(&["ResourceConflictException"])
}

/// What read needs to know beyond the function's name.
#[derive(Default)]
struct Known<'a> {
    /// The properties as recorded (for `code`, and the order of set-like lists).
    prior: Option<&'a Map>,
    /// `CodeSha256` recorded at the last apply.
    recorded_sha: Option<&'a str>,
    /// The local package's hash, when it was just built.
    local_sha: Option<&'a str>,
}

impl Known<'_> {
    /// The `publish` recorded (or asked for), if any.
    fn publish(&self) -> Option<bool> {
        self.prior
            .and_then(|p| p.get("publish"))
            .and_then(|v| v.unmarked().as_bool())
    }
}

/// A function's configuration as Lambda answers it, from `GetFunction` or `CreateFunction`
/// (two types in the SDK with the same fields): what [`FunctionProvider::as_resource`] reads.
struct Config<'a> {
    name: Option<&'a str>,
    arn: Option<&'a str>,
    runtime: Option<&'a Runtime>,
    handler: Option<&'a str>,
    role: Option<&'a str>,
    code_sha256: Option<&'a str>,
    memory_size: Option<i32>,
    timeout: Option<i32>,
    variables: Option<&'a HashMap<String, String>>,
    description: Option<&'a str>,
    architectures: &'a [Architecture],
    layers: &'a [aws_sdk_lambda::types::Layer],
    vpc: Option<(&'a [String], &'a [String])>,
    dead_letter_target: Option<&'a str>,
}

/// The [`Config`] of any answer carrying a function's configuration.
macro_rules! config_of {
    ($answer:expr) => {{
        let c = $answer;
        Config {
            name: c.function_name(),
            arn: c.function_arn(),
            runtime: c.runtime(),
            handler: c.handler(),
            role: c.role(),
            code_sha256: c.code_sha256(),
            memory_size: c.memory_size(),
            timeout: c.timeout(),
            variables: c.environment().and_then(|e| e.variables()),
            description: c.description(),
            architectures: c.architectures(),
            layers: c.layers(),
            vpc: c
                .vpc_config()
                .map(|v| (v.subnet_ids(), v.security_group_ids())),
            dead_letter_target: c.dead_letter_config().and_then(|d| d.target_arn()),
        }
    }};
}

/// What a function is beyond its configuration: its reserved concurrency, its tags, and the
/// latest version published.
struct Live {
    reserved: Option<i32>,
    tags: Value,
    latest: Option<String>,
}

/// A function ARN without a version or alias qualifier.
fn unqualified(arn: &str) -> &str {
    match arn.match_indices(':').nth(6) {
        Some((at, _)) => &arn[..at],
        None => arn,
    }
}

/// Where a function is in its lifecycle, as the waits need it.
struct Status {
    state: Option<State>,
    state_reason: Option<String>,
    last_update: Option<LastUpdateStatus>,
    last_update_reason: Option<String>,
    code_sha256: String,
}

/// Manages Lambda functions; the id is the function name.
pub struct FunctionProvider {
    schema: TypeSchema,
    lambda: aws_sdk_lambda::Client,
    /// Where relative `code.path`s start (the stack file's directory).
    base_dir: PathBuf,
}

impl FunctionProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            lambda: crate::aws::sdk_client!(aws_sdk_lambda, ctx),
            base_dir: ctx.base_dir.clone(),
        }
    }

    /// The function's state and last update status, or `None` when it does not exist.
    async fn status(&self, name: &str) -> Result<Option<Status>> {
        let out = self
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(api_error);
        Ok(missing_is_none(out, NOT_FOUND)?.map(|out| Status {
            state: out.state().cloned(),
            state_reason: out.state_reason().map(str::to_string),
            last_update: out.last_update_status().cloned(),
            last_update_reason: out.last_update_status_reason().map(str::to_string),
            code_sha256: out.code_sha256().unwrap_or_default().to_string(),
        }))
    }

    /// Waits until a new function is `Active`; `Failed` is an error with Lambda's reason.
    async fn wait_active(&self, name: &str) -> Result<()> {
        wait_for(
            &format!("function {name} to become active"),
            FUNCTION_ACTIVE,
            || async {
                let status = self.status(name).await?.ok_or_else(|| {
                    ProviderError::invalid(format!("function {name} disappeared while starting"))
                })?;
                match status.state {
                    Some(State::Pending) => Ok(None),
                    Some(State::Failed) => Err(ProviderError::invalid(format!(
                        "function {name} failed to start: {}",
                        status.state_reason.as_deref().unwrap_or("no reason given")
                    ))),
                    // Functions older than states have none; every other state is settled.
                    _ => Ok(Some(())),
                }
            },
        )
        .await
    }

    /// Waits until the last update is no longer `InProgress`; returns the live `CodeSha256`.
    async fn wait_updated(&self, name: &str) -> Result<String> {
        wait_for(
            &format!("the update of function {name} to finish"),
            FUNCTION_UPDATED,
            || async {
                let status = self.status(name).await?.ok_or_else(|| {
                    ProviderError::invalid(format!("function {name} disappeared while updating"))
                })?;
                match status.last_update {
                    Some(LastUpdateStatus::InProgress) => Ok(None),
                    Some(LastUpdateStatus::Failed) => Err(ProviderError::invalid(format!(
                        "the update of function {name} failed: {}",
                        status
                            .last_update_reason
                            .as_deref()
                            .unwrap_or("no reason given")
                    ))),
                    _ => Ok(Some(status.code_sha256)),
                }
            },
        )
        .await
    }

    /// The function in the stack's terms, or `None` when it does not exist.
    async fn find_function(&self, name: &str, known: Known<'_>) -> Result<Option<Resource>> {
        let out = self
            .lambda
            .get_function()
            .function_name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let config = out.configuration().ok_or_else(|| {
            ProviderError::invalid(format!("GetFunction returned no configuration for {name}"))
        })?;
        let function_name = config.function_name().unwrap_or(name);
        let reserved = out
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions());
        let tags = out
            .tags()
            .map(|tags| crate::tags::tags_value(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            .unwrap_or_else(|| Value::Map(Map::new()));
        // Published versions are listed only where `publish` is (or may be) on.
        let latest = match known.publish() {
            Some(false) => None,
            _ => self.latest_version(function_name).await?,
        };
        self.as_resource(
            config_of!(config),
            name,
            &known,
            Live {
                reserved,
                tags,
                latest,
            },
        )
        .map(Some)
    }

    /// The function in the stack's terms from a configuration Lambda answered (`GetFunction`'s,
    /// or `CreateFunction`'s, which is the same) and what `live` adds to it.
    fn as_resource(
        &self,
        config: Config<'_>,
        name: &str,
        known: &Known<'_>,
        live: Live,
    ) -> Result<Resource> {
        // A create that published answers the ARN of version 1 on some endpoints: the
        // function's own ARN is the unqualified one.
        let arn = config
            .arn
            .map(unqualified)
            .ok_or_else(|| ProviderError::invalid(format!("Lambda returned no ARN for {name}")))?;
        let function_name = config.name.unwrap_or(name);
        let live_sha = config.code_sha256.unwrap_or_default();
        let empty = Map::new();
        let prior = known.prior.unwrap_or(&empty);

        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(function_name));
        if let Some(runtime) = config.runtime {
            properties.insert("runtime".into(), Value::str(runtime.as_str()));
        }
        if let Some(handler) = config.handler {
            properties.insert("handler".into(), Value::str(handler));
        }
        if let Some(role) = config.role {
            properties.insert("role".into(), Value::str(role));
        }
        if let Some(code) = code_as_read(
            prior.get("code"),
            live_sha,
            known.recorded_sha,
            known.local_sha,
            &self.base_dir,
        ) {
            properties.insert("code".into(), code);
        }
        properties.insert(
            "memory_size".into(),
            Value::int(config.memory_size.map_or(DEFAULT_MEMORY_SIZE, i64::from)),
        );
        properties.insert(
            "timeout".into(),
            Value::int(config.timeout.map_or(DEFAULT_TIMEOUT, i64::from)),
        );
        let variables = config
            .variables
            .map(|vars| {
                vars.iter()
                    .map(|(k, v)| (k.clone(), Value::str(v)))
                    .collect::<Map>()
            })
            .unwrap_or_default();
        properties.insert("environment".into(), Value::Map(variables));
        if let Some(description) = config.description.filter(|d| !d.is_empty()) {
            properties.insert("description".into(), Value::str(description));
        }
        properties.insert(
            "architectures".into(),
            Value::List(
                config
                    .architectures
                    .iter()
                    .map(|a| Value::str(a.as_str()))
                    .collect(),
            ),
        );
        // Layer order is meaningful (later layers overwrite earlier files): kept as Lambda has it.
        properties.insert(
            "layers".into(),
            Value::List(
                config
                    .layers
                    .iter()
                    .filter_map(|l| l.arn())
                    .map(Value::str)
                    .collect(),
            ),
        );
        let (subnets, groups) = config
            .vpc
            .map(|(s, g)| (s.to_vec(), g.to_vec()))
            .unwrap_or_default();
        let prior_vpc = prior.get("vpc_config").and_then(Value::as_map);
        if !subnets.is_empty() || !groups.is_empty() || prior_vpc.is_some() {
            let prior_list = |key: &str| prior_vpc.and_then(|m| m.get(key));
            properties.insert(
                "vpc_config".into(),
                Value::Map(Map::from([
                    (
                        "subnet_ids".to_string(),
                        set_in_prior_order(prior_list("subnet_ids"), subnets),
                    ),
                    (
                        "security_group_ids".to_string(),
                        set_in_prior_order(prior_list("security_group_ids"), groups),
                    ),
                ])),
            );
        }
        if let Some(target) = config.dead_letter_target.filter(|t| !t.is_empty()) {
            properties.insert("dead_letter_target_arn".into(), Value::str(target));
        }
        if let Some(reserved) = live.reserved {
            properties.insert(
                "reserved_concurrent_executions".into(),
                Value::int(i64::from(reserved)),
            );
        }
        properties.insert("tags".into(), live.tags);

        let published = known.publish().unwrap_or(live.latest.is_some());
        properties.insert("publish".into(), Value::Bool(published));
        let version = match (published, live.latest) {
            (true, Some(version)) => version,
            _ => LATEST.to_string(),
        };

        let attributes = Map::from([
            ("arn".to_string(), Value::str(arn)),
            ("name".to_string(), Value::str(function_name)),
            ("invoke_arn".to_string(), Value::str(invoke_arn(arn))),
            ("code_sha256".to_string(), Value::str(live_sha)),
            (
                "qualified_arn".to_string(),
                Value::str(format!("{arn}:{version}")),
            ),
            ("version".to_string(), Value::str(version)),
        ]);
        Ok(Resource {
            id: function_name.to_string(),
            properties,
            attributes,
        })
    }

    /// The latest published version of the function (`ListVersionsByFunction` lists `$LATEST`
    /// and then the versions oldest first), or `None` when none was ever published.
    async fn latest_version(&self, name: &str) -> Result<Option<String>> {
        let mut latest = None;
        let mut marker = None;
        loop {
            let out = self
                .lambda
                .list_versions_by_function()
                .function_name(name)
                .set_marker(marker)
                .send()
                .await
                .map_err(api_error);
            let Some(out) = missing_is_none(out, NOT_FOUND)? else {
                return Ok(None);
            };
            if let Some(v) = out
                .versions()
                .iter()
                .filter_map(|v| v.version())
                .rfind(|v| *v != LATEST)
            {
                latest = Some(v.to_string());
            }
            match out.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => return Ok(latest),
            }
        }
    }

    /// Publishes a version of the function as it now is (retrying while an update is still
    /// in progress) and waits until that version is ready.
    async fn publish_version(&self, name: &str) -> Result<()> {
        let out = with_backoff(FUNCTION_UPDATED.timeout, update_in_progress, || {
            let call = self.lambda.publish_version().function_name(name);
            async move { call.send().await.map_err(api_error) }
        })
        .await?;
        if let Some(version) = out.version() {
            self.wait_updated(&format!("{name}:{version}")).await?;
        }
        Ok(())
    }

    /// Reads a function that must exist (it was just created or changed).
    async fn read_existing(&self, name: &str, known: Known<'_>) -> Result<Resource> {
        self.find_function(name, known).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "function {name} was written but cannot be read back"
            ))
        })
    }

    /// Deletes the function; one already gone is success.
    async fn remove(&self, name: &str) -> Result<()> {
        let out = self
            .lambda
            .delete_function()
            .function_name(name)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    async fn set_concurrency(&self, name: &str, reserved: Option<i32>) -> Result<()> {
        match reserved {
            Some(n) => {
                self.lambda
                    .put_function_concurrency()
                    .function_name(name)
                    .reserved_concurrent_executions(n)
                    .send()
                    .await
                    .map_err(api_error)?;
            }
            None => {
                let out = self
                    .lambda
                    .delete_function_concurrency()
                    .function_name(name)
                    .send()
                    .await
                    .map_err(api_error);
                missing_is_none(out, NOT_FOUND)?;
            }
        }
        Ok(())
    }

    /// One `UpdateFunctionConfiguration` with every changed configuration property; a property
    /// left out of the stack is reset (empty environment, description, layers, VPC).
    async fn update_configuration(&self, name: &str, props: &Map, changed: &[&str]) -> Result<()> {
        let mut call = self
            .lambda
            .update_function_configuration()
            .function_name(name);
        for prop in changed {
            call = match *prop {
                "runtime" => call.runtime(Runtime::from(required_str(props, "runtime")?.as_str())),
                "handler" => call.handler(required_str(props, "handler")?),
                "role" => call.role(required_str(props, "role")?),
                "memory_size" => {
                    call.set_memory_size(optional_i32(&self.schema, props, "memory_size")?)
                }
                "timeout" => call.set_timeout(optional_i32(&self.schema, props, "timeout")?),
                "environment" => call.environment(
                    Environment::builder()
                        .set_variables(Some(
                            string_map("environment", given(props, "environment"))?
                                .unwrap_or_default(),
                        ))
                        .build(),
                ),
                "description" => {
                    call.description(optional_str(props, "description")?.unwrap_or_default())
                }
                "layers" => call.set_layers(Some(
                    string_list("layers", given(props, "layers"))?.unwrap_or_default(),
                )),
                "vpc_config" => call.vpc_config(vpc_config(props)?.unwrap_or_else(|| {
                    VpcConfig::builder()
                        .set_subnet_ids(Some(Vec::new()))
                        .set_security_group_ids(Some(Vec::new()))
                        .build()
                })),
                "dead_letter_target_arn" => call.dead_letter_config(
                    DeadLetterConfig::builder()
                        .target_arn(
                            optional_str(props, "dead_letter_target_arn")?.unwrap_or_default(),
                        )
                        .build(),
                ),
                _ => continue,
            };
        }
        with_backoff(
            ROLE_PROPAGATION_BUDGET,
            |e| role_not_propagated(e) || update_in_progress(e),
            || {
                let call = call.clone();
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;
        Ok(())
    }
}

/// The version Lambda runs when no version is named: the unpublished code and configuration.
const LATEST: &str = "$LATEST";

/// The properties `UpdateFunctionConfiguration` changes.
const CONFIGURATION_PROPS: &[&str] = &[
    "runtime",
    "handler",
    "role",
    "memory_size",
    "timeout",
    "environment",
    "description",
    "layers",
    "vpc_config",
    "dead_letter_target_arn",
];

#[async_trait]
impl Provider for FunctionProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Packages the code, creates the function with every setting (retrying while a new role
    /// propagates), waits for it to be active, then reserves concurrency if asked.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let code =
            given(props, "code").ok_or_else(|| ProviderError::invalid("`code` is required"))?;
        let (upload, package) = function_code(&code, &self.base_dir)?;
        let architectures =
            string_list("architectures", given(props, "architectures"))?.map(|list| {
                list.iter()
                    .map(|a| Architecture::from(a.as_str()))
                    .collect()
            });
        let environment = string_map("environment", given(props, "environment"))?
            .map(|vars| Environment::builder().set_variables(Some(vars)).build());
        let dead_letter = optional_str(props, "dead_letter_target_arn")?
            .map(|arn| DeadLetterConfig::builder().target_arn(arn).build());
        let tags: HashMap<String, String> = tag_strings(props.get("tags"))?.into_iter().collect();
        let call = self
            .lambda
            .create_function()
            .function_name(&name)
            .runtime(Runtime::from(required_str(props, "runtime")?.as_str()))
            .handler(required_str(props, "handler")?)
            .role(required_str(props, "role")?)
            .code(upload)
            .set_memory_size(optional_i32(&self.schema, props, "memory_size")?)
            .set_timeout(optional_i32(&self.schema, props, "timeout")?)
            .set_environment(environment)
            .set_description(optional_str(props, "description")?)
            .set_architectures(architectures)
            .set_layers(string_list("layers", given(props, "layers"))?)
            .set_vpc_config(vpc_config(props)?)
            .set_dead_letter_config(dead_letter)
            .publish(publish(props))
            .set_tags((!tags.is_empty()).then(|| tags.clone()));
        let sent_tags = tags;
        let out = with_backoff(ROLE_PROPAGATION_BUDGET, role_not_propagated, || {
            let call = call.clone();
            async move { call.send().await.map_err(api_error) }
        })
        .await?;
        let finish = async {
            // Lambda answers `Pending` until the function can run (the documented wait); an
            // endpoint that makes it `Active` at once needs no look.
            if out.state() != Some(&State::Active) {
                self.wait_active(&name).await?;
            }
            let reserved = optional_i32(&self.schema, props, "reserved_concurrent_executions")?;
            if reserved.is_some() {
                self.set_concurrency(&name, reserved).await?;
            }
            // Nothing read back: the answer has the configuration, the request the tags and
            // the concurrency, and a create that published answers its version.
            let latest = (publish(props))
                .then(|| out.version().filter(|v| *v != LATEST).map(str::to_string))
                .flatten();
            self.as_resource(
                config_of!(&out),
                &name,
                &Known {
                    prior: Some(props),
                    local_sha: package.as_ref().map(|p| p.sha256.as_str()),
                    ..Known::default()
                },
                Live {
                    reserved,
                    tags: crate::tags::tags_value(sent_tags),
                    latest,
                },
            )
        };
        match finish.await {
            Ok(function) => Ok(function),
            // Undo the half-made function; if that fails too, it is recorded as tainted.
            Err(err) => Err(err.after_rollback(&name, self.remove(&name).await)),
        }
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let recorded_sha = req
            .prior_attributes
            .get("code_sha256")
            .and_then(Value::as_str);
        self.find_function(
            &req.id,
            Known {
                prior: Some(&req.prior_properties),
                recorded_sha,
                local_sha: None,
            },
        )
        .await
    }

    /// Configuration first, then code (only when the package differs from the live code, or the
    /// architecture changed), each waited for; then concurrency and tags.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let name = req.id.as_str();
        let props = &req.properties;
        let changed: Vec<&str> = req.changed.iter().map(String::as_str).collect();
        for prop in &changed {
            if !CONFIGURATION_PROPS.contains(prop)
                && !matches!(
                    *prop,
                    "code"
                        | "architectures"
                        | "reserved_concurrent_executions"
                        | "tags"
                        | "publish"
                )
            {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            }
        }
        let mut live_sha = self.wait_updated(name).await?;

        let configuration: Vec<&str> = changed
            .iter()
            .copied()
            .filter(|p| CONFIGURATION_PROPS.contains(p))
            .collect();
        if !configuration.is_empty() {
            self.update_configuration(name, props, &configuration)
                .await?;
            live_sha = self.wait_updated(name).await?;
        }

        let mut package = None;
        let mut code_updated = false;
        if changed.contains(&"code") || changed.contains(&"architectures") {
            let code =
                given(props, "code").ok_or_else(|| ProviderError::invalid("`code` is required"))?;
            let (upload, built) = function_code(&code, &self.base_dir)?;
            let same_package = built.as_ref().is_some_and(|p| p.sha256 == live_sha);
            if !same_package || changed.contains(&"architectures") {
                let architectures = string_list("architectures", given(props, "architectures"))?
                    .map(|list| {
                        list.iter()
                            .map(|a| Architecture::from(a.as_str()))
                            .collect()
                    });
                let mut call = self
                    .lambda
                    .update_function_code()
                    .function_name(name)
                    .set_architectures(architectures);
                call = match (upload.zip_file(), upload.s3_bucket(), upload.s3_key()) {
                    (Some(zip), _, _) => call.zip_file(zip.clone()),
                    (None, bucket, key) => call
                        .set_s3_bucket(bucket.map(str::to_string))
                        .set_s3_key(key.map(str::to_string)),
                };
                with_backoff(FUNCTION_UPDATED.timeout, update_in_progress, || {
                    let call = call.clone();
                    async move { call.send().await.map_err(api_error) }
                })
                .await?;
                self.wait_updated(name).await?;
                code_updated = true;
            }
            package = built;
        }

        if changed.contains(&"reserved_concurrent_executions") {
            let reserved = optional_i32(&self.schema, props, "reserved_concurrent_executions")?;
            self.set_concurrency(name, reserved).await?;
        }

        if publish(props)
            && (code_updated || !configuration.is_empty() || changed.contains(&"publish"))
        {
            self.publish_version(name).await?;
        }

        if changed.contains(&"tags") {
            let arn = match req.prior_attributes.get("arn").and_then(Value::as_str) {
                Some(arn) => arn.to_string(),
                None => self
                    .read_existing(name, Known::default())
                    .await?
                    .attributes
                    .get("arn")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| ProviderError::invalid(format!("function {name} has no ARN")))?,
            };
            let api = FunctionTags {
                client: &self.lambda,
                id: &arn,
            };
            reconcile(&api, &req.prior_properties, props).await?;
        }
        self.read_existing(
            name,
            Known {
                prior: Some(props),
                local_sha: package.as_ref().map(|p| p.sha256.as_str()),
                ..Known::default()
            },
        )
        .await
    }

    /// Deletes the function; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        self.remove(&req.id).await
    }

    /// Finds the function by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_function(
            &name,
            Known {
                prior: Some(&req.properties),
                ..Known::default()
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_come_out_of_names_and_arns() {
        assert_eq!(function_name_of("orders"), "orders");
        assert_eq!(function_name_of("orders:live"), "orders");
        assert_eq!(
            function_name_of("arn:aws:lambda:us-east-1:123456789012:function:orders"),
            "orders"
        );
        assert_eq!(
            function_name_of("arn:aws:lambda:us-east-1:123456789012:function:orders:7"),
            "orders"
        );
    }

    #[test]
    fn the_invoke_arn_is_api_gateways_path_to_the_function() {
        assert_eq!(
            invoke_arn("arn:aws:lambda:eu-west-1:123456789012:function:orders"),
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/\
             arn:aws:lambda:eu-west-1:123456789012:function:orders/invocations"
        );
    }

    #[test]
    fn only_role_propagation_errors_are_retried_on_create() {
        let role = ProviderError::Api {
            code: "InvalidParameterValueException".into(),
            message: "The role defined for the function cannot be assumed by Lambda.".into(),
        };
        let runtime = ProviderError::Api {
            code: "InvalidParameterValueException".into(),
            message: "Value python2.1 at 'runtime' failed to satisfy constraint".into(),
        };
        assert!(role_not_propagated(&role));
        assert!(!role_not_propagated(&runtime));
    }
}
