//! Lookups (SPEC §10): reading what exists already, at every plan, before diffing, never
//! changing it.
//!
//! Each lookup type is declared once, as a [`LookupEntry`] beside the code that reads it (a
//! file per service family): its schema (the arguments and attributes, named as Terraform's
//! data source of the same object names them), what it is, and the IAM actions reading it
//! calls. [`LOOKUPS`] lists them; [`crate::catalog`] gives their schemas to the loader, and
//! [`read_lookup`] reads one.
//!
//! A single-valued lookup (a VPC, a role) that finds nothing or more than one is an error
//! naming the type and the filter it was given; the caller adds the lookup's name and where it
//! is written.

use stacks::schema::LookupSchema;

/// The shape of each lookup's arguments and attributes, short for the entries.
pub(crate) use stacks::schema::LookupKind as K;
use stacks::{Map, Value};

use crate::aws::AwsContext;
use crate::ProviderError;

pub mod ec2;
pub mod iam;
pub mod lambda;
pub mod messaging;
pub mod s3;
pub mod secrets;

/// One lookup type: its schema and what the docs and `strata iam-policy` say of it.
#[derive(Clone, Copy, Debug)]
pub struct LookupEntry {
    pub schema: LookupSchema,
    /// What it finds, in one sentence, for the docs.
    pub about: &'static str,
    /// The IAM actions reading it calls: what a deployer's role needs at every plan.
    pub actions: &'static [&'static str],
}

/// Every lookup type, in the order the docs list them.
pub const LOOKUPS: &[LookupEntry] = &[
    ec2::AVAILABILITY_ZONES,
    ec2::VPC,
    ec2::SUBNETS,
    ec2::SECURITY_GROUP,
    iam::POLICY,
    iam::ROLE,
    secrets::SSM_PARAMETER,
    secrets::SECRET_VERSION,
    messaging::SNS_TOPIC,
    messaging::SQS_QUEUE,
    lambda::FUNCTION,
    s3::BUCKET,
];

/// The lookup type `type_name`, if strata knows it.
pub fn lookup_entry(type_name: &str) -> Option<&'static LookupEntry> {
    LOOKUPS.iter().find(|e| e.schema.name == type_name)
}

/// Every lookup type's schema, for [`stacks::Catalog::with_lookups`].
pub fn schemas() -> impl Iterator<Item = LookupSchema> {
    LOOKUPS.iter().map(|e| e.schema)
}

/// Why a lookup could not give its values. Each names the lookup type and the arguments it was
/// given (secrets among them shown as `(sensitive)`), never a value read.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No lookup type of this name (the loader refuses it first).
    #[error("unknown lookup type `{0}`")]
    UnknownType(String),
    /// The arguments cannot be read as the type's schema says (the loader checks them first).
    #[error("{type_name} {filter}: {message}")]
    Invalid {
        type_name: &'static str,
        filter: String,
        message: String,
    },
    /// A single-valued lookup found nothing.
    #[error("{type_name} found nothing matching {filter}")]
    NotFound {
        type_name: &'static str,
        filter: String,
    },
    /// A single-valued lookup found more than one object: narrow the filter.
    #[error(
        "{type_name} found {} objects matching {filter} ({}); narrow the filter so it matches one",
        found.len(), found.join(", ")
    )]
    Ambiguous {
        type_name: &'static str,
        filter: String,
        found: Vec<String>,
    },
    /// AWS refused or failed a read.
    #[error("reading {type_name} {filter}: {source}")]
    Cloud {
        type_name: &'static str,
        filter: String,
        #[source]
        source: ProviderError,
    },
}

/// Reads the lookup of type `type_name` with its arguments `args` (a mapping, params and locals
/// already evaluated) and returns a mapping of the type's attributes. Sensitive attributes
/// (a secret's value, a `SecureString` parameter) come back as `Value::Sensitive`. Read-only:
/// only `Describe`/`Get`/`List` calls, through the same clients, bound on requests in flight
/// and retries as the providers.
pub async fn read_lookup(
    ctx: &AwsContext,
    type_name: &str,
    args: &Value,
) -> Result<Value, LookupError> {
    let entry =
        lookup_entry(type_name).ok_or_else(|| LookupError::UnknownType(type_name.to_string()))?;
    let args = Args::new(&entry.schema, args)?;
    let found = match entry.schema.name {
        "aws.ec2.availability_zones" => ec2::availability_zones(ctx, &args).await,
        "aws.ec2.vpc" => ec2::vpc(ctx, &args).await,
        "aws.ec2.subnets" => ec2::subnets(ctx, &args).await,
        "aws.ec2.security_group" => ec2::security_group(ctx, &args).await,
        "aws.iam.policy" => iam::policy(ctx, &args).await,
        "aws.iam.role" => iam::role(ctx, &args).await,
        "aws.ssm.parameter" => secrets::ssm_parameter(ctx, &args).await,
        "aws.secretsmanager.secret_version" => secrets::secret_version(ctx, &args).await,
        "aws.sns.topic" => messaging::sns_topic(ctx, &args).await,
        "aws.sqs.queue" => messaging::sqs_queue(ctx, &args).await,
        "aws.lambda.function" => lambda::function(ctx, &args).await,
        "aws.s3.bucket" => s3::bucket(ctx, &args).await,
        other => return Err(LookupError::UnknownType(other.to_string())),
    };
    let attributes = found.map_err(|failure| failure.into_error(&args))?;
    Ok(Value::Map(mark_sensitive(&entry.schema, attributes)))
}

/// The attributes with those the schema calls sensitive wrapped, so no reader can forget.
fn mark_sensitive(schema: &LookupSchema, attributes: Map) -> Map {
    attributes
        .into_iter()
        .map(|(name, value)| {
            let secret = schema.attribute(&name).is_some_and(|a| a.sensitive);
            match value {
                Value::Sensitive(_) => (name, value),
                plain if secret && plain != Value::Null => {
                    (name, Value::Sensitive(Box::new(plain)))
                }
                plain => (name, plain),
            }
        })
        .collect()
}

/// Why one read failed, before the type and filter are added ([`Failure::into_error`]).
#[derive(Debug)]
pub(crate) enum Failure {
    NotFound,
    Ambiguous(Vec<String>),
    Invalid(String),
    Cloud(ProviderError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Cloud(e)
    }
}

impl Failure {
    fn into_error(self, args: &Args) -> LookupError {
        let (type_name, filter) = (args.type_name, args.describe());
        match self {
            Failure::NotFound => LookupError::NotFound { type_name, filter },
            Failure::Ambiguous(found) => LookupError::Ambiguous {
                type_name,
                filter,
                found,
            },
            Failure::Invalid(message) => LookupError::Invalid {
                type_name,
                filter,
                message,
            },
            Failure::Cloud(source) => LookupError::Cloud {
                type_name,
                filter,
                source,
            },
        }
    }
}

pub(crate) type Found = Result<Map, Failure>;

/// The one object a single-valued lookup found, named by `id` in an error: none or more
/// than one is a [`Failure`].
pub(crate) fn only<T>(mut items: Vec<T>, id: impl Fn(&T) -> String) -> Result<T, Failure> {
    match items.len() {
        0 => Err(Failure::NotFound),
        1 => Ok(items.remove(0)),
        _ => {
            let mut ids: Vec<String> = items.iter().map(id).collect();
            ids.sort();
            Err(Failure::Ambiguous(ids))
        }
    }
}

/// What a read of one object gave, when AWS answered; [`Failure::NotFound`] when its error
/// code says the object is not there (one of `codes`).
pub(crate) fn present<T>(result: Result<T, ProviderError>, codes: &[&str]) -> Result<T, Failure> {
    crate::aws::missing_is_none(result, codes)
        .map_err(Failure::Cloud)?
        .ok_or(Failure::NotFound)
}

/// A lookup's arguments, checked against its schema: every name known, every required one
/// given, every value known (a value known only after apply cannot be looked up with).
pub(crate) struct Args<'a> {
    type_name: &'static str,
    map: &'a Map,
}

impl<'a> Args<'a> {
    fn new(schema: &LookupSchema, args: &'a Value) -> Result<Args<'a>, LookupError> {
        static EMPTY: Map = Map::new();
        let type_name = schema.name;
        let invalid = |message: String| LookupError::Invalid {
            type_name,
            filter: describe(args.as_map().unwrap_or(&EMPTY)),
            message,
        };
        let map = match args {
            Value::Null => &EMPTY,
            Value::Map(map) => map,
            other => {
                return Err(invalid(format!(
                    "the arguments must be a mapping, not {}",
                    other.kind_name()
                )))
            }
        };
        for name in map.keys() {
            if schema.arg(name).is_none() {
                return Err(invalid(format!(
                    "unknown argument `{name}` (it takes {})",
                    schema.arg_names().join(", ")
                )));
            }
        }
        for arg in schema.args {
            match map.get(arg.name) {
                None | Some(Value::Null) if arg.required => {
                    return Err(invalid(format!("`{}` is required", arg.name)))
                }
                Some(value) if value.has_unknown() => {
                    return Err(invalid(format!(
                        "`{}` is known only after apply; a lookup needs it at plan time",
                        arg.name
                    )))
                }
                _ => {}
            }
        }
        Ok(Args { type_name, map })
    }

    /// The arguments as the errors show them: secrets as `(sensitive)`.
    fn describe(&self) -> String {
        describe(self.map)
    }

    fn get(&self, name: &str) -> Option<Value> {
        self.map
            .get(name)
            .map(Value::unmarked)
            .filter(|v| *v != Value::Null)
    }

    /// A string argument, when given.
    pub(crate) fn str(&self, name: &str) -> Result<Option<String>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(Failure::Invalid(format!(
                "`{name}` must be a string, not {}",
                other.kind_name()
            ))),
        }
    }

    /// A string argument the schema requires ([`Args::new`] checked it is given).
    pub(crate) fn required(&self, name: &str) -> Result<String, Failure> {
        self.str(name)?
            .ok_or_else(|| Failure::Invalid(format!("`{name}` is required")))
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(Failure::Invalid(format!(
                "`{name}` must be true or false, not {}",
                other.kind_name()
            ))),
        }
    }

    /// A list of strings (a single string counts as a list of one).
    pub(crate) fn strings(&self, name: &str) -> Result<Vec<String>, Failure> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(value) => strings_of(name, &value),
        }
    }

    /// A mapping of names to strings (tags).
    pub(crate) fn string_map(&self, name: &str) -> Result<Vec<(String, String)>, Failure> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(value) => string_pairs(name, &value),
        }
    }

    /// The `filter` argument as name and values, `tags` in it spelled `tag:KEY` as EC2's
    /// filters name them, followed by the `tags` argument's the same way.
    pub(crate) fn filters(&self) -> Result<Vec<(String, Vec<String>)>, Failure> {
        let mut out = Vec::new();
        if let Some(filter) = self.get("filter") {
            let map = filter.as_map().ok_or_else(|| {
                Failure::Invalid(format!(
                    "`filter` must be a mapping of filter names to values, not {}",
                    filter.kind_name()
                ))
            })?;
            for (name, value) in map {
                if name == "tags" {
                    for (key, value) in string_pairs("filter.tags", value)? {
                        out.push((format!("tag:{key}"), vec![value]));
                    }
                } else {
                    out.push((name.clone(), strings_of(&format!("filter.{name}"), value)?));
                }
            }
        }
        for (key, value) in self.string_map("tags")? {
            out.push((format!("tag:{key}"), vec![value]));
        }
        Ok(out)
    }
}

/// The arguments in one line, secrets hidden: `{ filter: { tags: { Name: "shared" } } }`.
fn describe(map: &Map) -> String {
    if map.is_empty() {
        "(no filter)".to_string()
    } else {
        Value::Map(map.clone()).render()
    }
}

fn strings_of(name: &str, value: &Value) -> Result<Vec<String>, Failure> {
    let scalar = |v: &Value| match v.unmarked() {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let wrong = || Failure::Invalid(format!("`{name}` must be a string or a list of strings"));
    match value {
        Value::List(items) => items.iter().map(|v| scalar(v).ok_or_else(wrong)).collect(),
        other => scalar(other).map(|s| vec![s]).ok_or_else(wrong),
    }
}

fn string_pairs(name: &str, value: &Value) -> Result<Vec<(String, String)>, Failure> {
    let map = value.as_map().ok_or_else(|| {
        Failure::Invalid(format!("`{name}` must be a mapping of names to strings"))
    })?;
    map.iter()
        .map(|(k, v)| match v.unmarked() {
            Value::String(s) => Ok((k.clone(), s)),
            other => Err(Failure::Invalid(format!(
                "`{name}.{k}` must be a string, not {}",
                other.kind_name()
            ))),
        })
        .collect()
}

/// A string attribute, `null` when AWS gave none.
pub(crate) fn text(value: Option<impl Into<String>>) -> Value {
    value
        .map(|s| Value::String(s.into()))
        .unwrap_or(Value::Null)
}

/// A time AWS gave, as RFC 3339 text.
pub(crate) fn date(d: Option<&aws_smithy_types::DateTime>) -> Value {
    text(d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok()))
}

/// A list of strings attribute.
pub(crate) fn texts<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Value {
    Value::List(
        values
            .into_iter()
            .map(|s| Value::String(s.into()))
            .collect(),
    )
}

/// Where the generated lookup reference lives, from the workspace root.
pub const REFERENCE_PATH: &str = "docs/lookups.md";

/// One row of an argument or attribute table of the reference.
fn row(name: &str, kind: K, flag: bool) -> String {
    let flag = if flag { "yes" } else { "no" };
    format!("| `{name}` | {} | {flag} |\n", kind.describe())
}

/// The lookup reference, generated from [`LOOKUPS`]: what `docs/lookups.md` holds (a test keeps
/// the committed file in step).
pub fn reference() -> String {
    let mut out = String::from(
        "# Lookups\n\n\
         <!-- Generated from providers/src/lookups; regenerate with \
         `STRATA_UPDATE_DOCS=1 cargo test -p strata-tests --test e2e lookups::`. -->\n\n\
         A lookup reads something that exists already, at every plan, before diffing, and \
         never changes it (SPEC §10). Arguments and attributes are named as Terraform's data \
         source of the same object names them.\n\n\
         ```yaml\n\
         lookups:\n\
         \x20 azs:    { type: aws.ec2.availability_zones }\n\
         \x20 shared: { type: aws.ec2.vpc, filter: { tags: { Name: shared } } }\n\
         \x20 admin:  { type: aws.iam.policy, name: AdministratorAccess }\n\
         resources:\n\
         \x20 subnet:\n\
         \x20   type: aws.ec2.subnet\n\
         \x20   properties:\n\
         \x20     vpc_id: ${lookups.shared.id}\n\
         \x20     availability_zone: ${lookups.azs.names[0]}\n\
         \x20     cidr_block: 10.1.1.0/24\n\
         ```\n\n\
         A lookup that gives one object (every type but `aws.ec2.availability_zones` and \
         `aws.ec2.subnets`) and finds none, or more than one, is an error naming the lookup and \
         its filter. Sensitive attributes are never printed. A `filter` is a mapping of EC2 \
         filter names (as the AWS CLI's `--filters` takes them) to a value or a list of values, \
         with `tags` (a mapping of tag names to values) among them.\n\n\
         The IAM actions listed are what reading the lookup calls at every plan.\n",
    );
    for entry in LOOKUPS {
        let schema = &entry.schema;
        out.push_str(&format!("\n## `{}`\n\n{}\n\n", schema.name, entry.about));
        out.push_str("| argument | kind | required |\n|---|---|---|\n");
        for arg in schema.args {
            out.push_str(&row(arg.name, arg.kind, arg.required));
        }
        out.push_str("\n| attribute | kind | sensitive |\n|---|---|---|\n");
        for attr in schema.attributes {
            out.push_str(&row(attr.name, attr.kind, attr.sensitive));
        }
        out.push_str(&format!(
            "\nIAM: {}\n",
            entry
                .actions
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}
