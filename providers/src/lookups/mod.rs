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

use stacks::{Map, Value};

use crate::aws::AwsContext;

pub mod ec2;
pub mod iam;
mod kit;
pub mod lambda;
pub mod messaging;
pub mod s3;
pub mod secrets;

use kit::{Args, K};
pub use kit::{LookupEntry, LookupError};

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
