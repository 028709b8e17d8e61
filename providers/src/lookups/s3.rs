//! The S3 bucket lookup.

use stacks::schema::{LookupArg as Arg, LookupAttr as Attr, LookupSchema};
use stacks::{Map, Value};

use super::kit::{present, Args, Found, LookupEntry, K};
use crate::aws::{api_error, AwsContext};
use crate::s3::{client, NO_SUCH_BUCKET};

pub const BUCKET: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.s3.bucket",
        args: &[Arg::required("bucket", K::String)],
        attributes: &[
            Attr::new("id", K::String),
            Attr::new("arn", K::String),
            Attr::new("bucket_domain_name", K::String),
            Attr::new("bucket_regional_domain_name", K::String),
            Attr::new("region", K::String),
        ],
    },
    about: "One S3 bucket, by name, with its region and domain names.",
    actions: &["s3:ListBucket", "s3:GetBucketLocation"],
};

/// `HeadBucket` says whether the bucket exists and, on AWS, its region; `GetBucketLocation`
/// when it does not say (`null` there means `us-east-1`).
pub(crate) async fn bucket(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let s3 = client(ctx);
    let name = args.required("bucket")?;
    let head = s3.head_bucket().bucket(&name).send().await;
    let head = present(head.map_err(api_error), NO_SUCH_BUCKET)?;
    let region = match head.bucket_region() {
        Some(region) => region.to_string(),
        None => {
            let location = s3
                .get_bucket_location()
                .bucket(&name)
                .send()
                .await
                .map_err(api_error)?;
            match location.location_constraint().map(|c| c.as_str()) {
                None | Some("") => "us-east-1".to_string(),
                Some("EU") => "eu-west-1".to_string(),
                Some(other) => other.to_string(),
            }
        }
    };
    let partition = ctx.partition();
    Ok(Map::from([
        ("id".into(), Value::str(&name)),
        (
            "arn".into(),
            Value::String(format!("arn:{partition}:s3:::{name}")),
        ),
        (
            "bucket_domain_name".into(),
            Value::String(format!("{name}.s3.amazonaws.com")),
        ),
        (
            "bucket_regional_domain_name".into(),
            Value::String(format!("{name}.s3.{region}.amazonaws.com")),
        ),
        ("region".into(), Value::String(region)),
    ]))
}
