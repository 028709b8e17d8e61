//! `aws.s3.bucket_policy`: the access policy of a bucket.
//!
//! A bucket has at most one policy, written whole by `PutBucketPolicy` and removed by
//! `DeleteBucketPolicy`, so the id is the bucket name and only `policy` changes in place: the
//! provider is [`AttachedPolicyProvider`]. A policy naming a principal IAM does not know yet (a
//! role created moments ago) is refused with `MalformedPolicy: Invalid principal` until IAM
//! propagates; `PutBucketPolicy` retries that, as terraform-provider-aws does.

use std::sync::Arc;

use async_trait::async_trait;
use stacks::{Kind, Map, Prop, TypeSchema};

use super::{client, on_new_bucket, BUCKET_PROPAGATION, NO_SUCH_BUCKET};
use crate::attached_policy::{AttachedPolicyProvider, PolicySlot};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::retry::with_backoff;
use crate::{ProviderError, Result};

pub const TYPE_NAME: &str = "aws.s3.bucket_policy";

/// How S3 says a bucket has no policy.
const NO_SUCH_BUCKET_POLICY: &[&str] = &["NoSuchBucketPolicy"];

/// The properties (`bucket`* R, `policy`*) and the one attribute, `id` (the bucket name).
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("bucket", Kind::String).required().force_new(),
            Prop::new("policy", Kind::Document)
                .required()
                .policy(stacks::PolicyRole::Resource),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.s3.bucket_policy`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(BucketPolicyProvider::new(ctx)),
    about: "The access policy of a bucket, written whole with `PutBucketPolicy` and removed on \
            delete.",
    import_id: "the bucket name",
    attributes: &[("id", "the bucket name")],
    property_notes: &[("bucket", "the bucket's name (`${bucket.bucket}`)")],
    actions: Actions {
        create: &["s3:PutBucketPolicy", "s3:GetBucketPolicy"],
        read: &["s3:GetBucketPolicy"],
        update: &["s3:PutBucketPolicy", "s3:GetBucketPolicy"],
        delete: &["s3:DeleteBucketPolicy"],
    },
    resources: &["arn:{partition}:s3:::{bucket}"],
    passes_role: &[],
};

/// Manages a bucket's policy.
pub type BucketPolicyProvider = AttachedPolicyProvider<BucketPolicy>;

impl BucketPolicyProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        AttachedPolicyProvider::with_slot(schema(), BucketPolicy { s3: client(ctx) })
    }
}

/// True for S3's refusal of a principal IAM has not propagated yet.
fn principal_not_propagated(e: &ProviderError) -> bool {
    e.is_code(&["MalformedPolicy"]) && e.message().is_some_and(|m| m.contains("Invalid principal"))
}

/// A bucket's policy.
pub struct BucketPolicy {
    s3: aws_sdk_s3::Client,
}

#[async_trait]
impl PolicySlot for BucketPolicy {
    const HOLDER: &'static str = "bucket";
    const HOLDER_KIND: &'static str = "bucket";

    async fn put(&self, bucket: &str, policy: String) -> Result<()> {
        with_backoff(BUCKET_PROPAGATION, principal_not_propagated, || {
            on_new_bucket(|| async {
                self.s3
                    .put_bucket_policy()
                    .bucket(bucket)
                    .policy(&policy)
                    .send()
                    .await
                    .map_err(api_error)
            })
        })
        .await?;
        Ok(())
    }

    async fn get(&self, bucket: &str) -> Result<Option<(String, Map)>> {
        let out = self
            .s3
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .map_err(api_error);
        let gone: Vec<&str> = [NO_SUCH_BUCKET, NO_SUCH_BUCKET_POLICY].concat();
        Ok(missing_is_none(out, &gone)?
            .and_then(|o| o.policy)
            .filter(|text| !text.trim().is_empty())
            .map(|text| (text, Map::new())))
    }

    /// Deletes the policy; a bucket that is gone has none, which is success.
    async fn remove(&self, bucket: &str) -> Result<()> {
        let out = self
            .s3
            .delete_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NO_SUCH_BUCKET).map(|_| ())
    }
}
