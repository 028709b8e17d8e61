//! Amazon S3: buckets (with their settings folded in), bucket policies, bucket notifications
//! and objects.
//!
//! What the types share lives here once: the client (path-style against a custom endpoint, as
//! the emulator needs), the error codes for a bucket that is not there, the retry of calls made
//! on a bucket S3 has just created, tagging (S3 replaces a whole tag set per call, so a change
//! reads the set, changes the keys that differ and writes it back), and the reading of nested
//! settings in the shape the stack wrote them.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::types::{Tag, Tagging};
use stacks::{Map, Value};

use crate::aws::{api_error, AwsContext};
use crate::retry::with_backoff;
use crate::tags::{sdk_tags, TagApi};
use crate::{ProviderError, Result};

pub mod bucket;
pub mod bucket_notification;
pub mod bucket_policy;
pub mod object;

/// How S3 says a bucket does not exist: `NoSuchBucket`, or `NotFound` from `HeadBucket`, whose
/// 404 has no body.
pub(crate) const NO_SUCH_BUCKET: &[&str] = &["NoSuchBucket", "NotFound"];

/// How S3 says a bucket or object has no tags.
const NO_SUCH_TAG_SET: &[&str] = &["NoSuchTagSet"];

/// How long a call on a bucket created moments ago keeps retrying `NoSuchBucket`: S3 is
/// eventually consistent, and terraform-provider-aws waits up to a minute
/// (`propagationTimeout`).
pub(crate) const BUCKET_PROPAGATION: Duration = Duration::from_secs(60);

/// The S3 client for `ctx`. Against a custom endpoint (the emulator) requests are path-style
/// (`http://host/bucket/key`), since virtual-host names do not resolve there.
pub(crate) fn client(ctx: &AwsContext) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&ctx.sdk)
        .force_path_style(ctx.custom_endpoint)
        .retry_partition(crate::aws::retry_partition());
    aws_sdk_s3::Client::from_conf(config.build())
}

/// Runs `op` on a bucket that may have been created moments ago, retrying `NoSuchBucket` for
/// [`BUCKET_PROPAGATION`].
pub(crate) async fn on_new_bucket<T, F, Fut>(op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    with_backoff(BUCKET_PROPAGATION, |e| e.is_code(NO_SUCH_BUCKET), op).await
}

/// What S3 tags: a bucket, or one object of a bucket.
pub(crate) enum Tagged<'a> {
    Bucket(&'a str),
    Object { bucket: &'a str, key: &'a str },
}

/// S3's tagging of one bucket or object. S3 has no call that adds or removes single keys: each
/// change reads the tag set, changes the keys [`crate::tags::reconcile`] names, and writes the
/// set back (or deletes it when nothing is left), so keys other tools set survive.
pub(crate) struct S3Tags<'a> {
    pub client: &'a aws_sdk_s3::Client,
    pub target: Tagged<'a>,
}

impl S3Tags<'_> {
    /// The tags S3 holds now; none when it has no tag set.
    pub(crate) async fn current(&self) -> Result<BTreeMap<String, String>> {
        let tags = match self.target {
            Tagged::Bucket(bucket) => {
                let out = self
                    .client
                    .get_bucket_tagging()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(api_error);
                match out {
                    Ok(out) => out.tag_set().to_vec(),
                    Err(e) if e.is_code(NO_SUCH_TAG_SET) => Vec::new(),
                    Err(e) => return Err(e),
                }
            }
            Tagged::Object { bucket, key } => {
                let out = self
                    .client
                    .get_object_tagging()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(api_error)?;
                out.tag_set().to_vec()
            }
        };
        Ok(tags
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect::<BTreeMap<_, _>>())
    }

    /// Writes `tags` as the whole tag set; an empty set deletes it.
    pub(crate) async fn put(&self, tags: BTreeMap<String, String>) -> Result<()> {
        let set = sdk_tags(tags, |k, v| Tag::builder().key(k).value(v).build())?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(set.clone()))
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))?;
        match self.target {
            Tagged::Bucket(bucket) if set.is_empty() => {
                self.client
                    .delete_bucket_tagging()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(api_error)?;
            }
            Tagged::Bucket(bucket) => {
                self.client
                    .put_bucket_tagging()
                    .bucket(bucket)
                    .tagging(tagging)
                    .send()
                    .await
                    .map_err(api_error)?;
            }
            Tagged::Object { bucket, key } => {
                self.client
                    .put_object_tagging()
                    .bucket(bucket)
                    .key(key)
                    .tagging(tagging)
                    .send()
                    .await
                    .map_err(api_error)?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl TagApi for S3Tags<'_> {
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
        let mut all = self.current().await?;
        all.extend(tags);
        self.put(all).await
    }

    async fn untag(&self, keys: Vec<String>) -> Result<()> {
        let mut all = self.current().await?;
        all.retain(|k, _| !keys.contains(k));
        self.put(all).await
    }
}

/// A nested setting read back in the shape the stack wrote it, so that a second plan is empty.
///
/// S3 reports every field of a setting; the stack writes some. A field is kept when `written`
/// (what the stack last applied, or the schema's default) has it, or when S3 holds something
/// other than "unset" for it: the field's value in `defaults` when it has one, else null,
/// `false`, `""`, `[]` or `{}`. So a field the stack left out that S3 still has at its default reads as absent,
/// and one changed behind strata's back shows up as a change.
pub(crate) fn as_written(written: Option<&Value>, live: Map, defaults: &[(&str, Value)]) -> Value {
    let written = written.map(Value::unmarked);
    let written = written.as_ref().and_then(Value::as_map);
    Value::Map(
        live.into_iter()
            .filter(|(key, value)| {
                if *value == Value::Null {
                    return false;
                }
                if written.is_some_and(|w| w.contains_key(key)) {
                    return true;
                }
                if let Some((_, default)) = defaults.iter().find(|(k, _)| k == key) {
                    return value != default;
                }
                let unset = match value {
                    Value::Bool(b) => !b,
                    Value::String(s) => s.is_empty(),
                    Value::List(items) => items.is_empty(),
                    Value::Map(map) => map.is_empty(),
                    _ => false,
                };
                !unset
            })
            .collect(),
    )
}

/// The fields of one nested mapping of a request (`server_side_encryption`, a lifecycle rule),
/// read with the errors naming the field as the stack writes it (`lifecycle_rules.days`).
pub(crate) struct Fields<'a> {
    map: Option<&'a Map>,
    at: &'a str,
}

impl<'a> Fields<'a> {
    /// The fields of `value` (a mapping; anything else has none) at path `at`.
    pub(crate) fn of(value: &'a Value, at: &'a str) -> Fields<'a> {
        Fields {
            map: value.as_map(),
            at,
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map
            .and_then(|m| m.get(key))
            .filter(|v| **v != Value::Null)
    }

    fn wrong(&self, key: &str, what: &str) -> ProviderError {
        ProviderError::invalid(format!("`{}.{key}` must be {what}", self.at))
    }

    pub(crate) fn str(&self, key: &str) -> Result<Option<String>> {
        self.get(key)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.wrong(key, "a string"))
            })
            .transpose()
    }

    pub(crate) fn required_str(&self, key: &str) -> Result<String> {
        self.str(key)?
            .ok_or_else(|| ProviderError::invalid(format!("`{}.{key}` is required", self.at)))
    }

    pub(crate) fn int(&self, key: &str) -> Result<Option<i32>> {
        self.get(key)
            .map(|v| {
                v.as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| self.wrong(key, "a whole number"))
            })
            .transpose()
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.get(key)
            .map(|v| v.as_bool().ok_or_else(|| self.wrong(key, "true or false")))
            .transpose()
    }

    /// A list of strings; `None` when not given.
    pub(crate) fn strings(&self, key: &str) -> Result<Option<Vec<String>>> {
        self.get(key)
            .map(|v| {
                v.as_list()
                    .and_then(|items| {
                        items
                            .iter()
                            .map(|i| i.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(|| self.wrong(key, "a list of strings"))
            })
            .transpose()
    }

    /// A list of mappings; empty when not given.
    pub(crate) fn items(&self, key: &str) -> Result<Vec<&'a Value>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(v) => v
                .as_list()
                .map(|items| items.iter().collect())
                .ok_or_else(|| self.wrong(key, "a list")),
        }
    }
}

/// Strings as a list value.
pub(crate) fn strings_value<S: AsRef<str>>(items: &[S]) -> Value {
    Value::List(items.iter().map(|s| Value::str(s.as_ref())).collect())
}

/// The `id` of a bucket-scoped type (its bucket name), or of an object (`BUCKET/KEY`): the
/// bucket is everything before the first `/`, since bucket names hold none.
pub(crate) fn split_object_id(id: &str) -> Result<(&str, &str)> {
    id.split_once('/')
        .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "`{id}` is not an object id (BUCKET/KEY, as in `my-bucket/site/index.html`)"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn a_setting_reads_back_with_the_fields_the_stack_wrote_and_those_that_differ() {
        let live = map(&[
            ("block_public_acls", Value::Bool(false)),
            ("block_public_policy", Value::Bool(true)),
            ("ignore_public_acls", Value::Bool(true)),
        ]);
        let defaults = [
            ("block_public_acls", Value::Bool(true)),
            ("block_public_policy", Value::Bool(true)),
            ("ignore_public_acls", Value::Bool(true)),
        ];
        let written = Value::Map(map(&[("ignore_public_acls", Value::Bool(true))]));
        assert_eq!(
            as_written(Some(&written), live, &defaults),
            Value::Map(map(&[
                ("block_public_acls", Value::Bool(false)),
                ("ignore_public_acls", Value::Bool(true)),
            ]))
        );
    }

    #[test]
    fn unset_fields_the_stack_never_wrote_read_back_as_absent() {
        let live = map(&[
            ("sse_algorithm", Value::str("AES256")),
            ("bucket_key_enabled", Value::Bool(false)),
            ("kms_master_key_id", Value::Null),
        ]);
        let written = Value::Map(map(&[("sse_algorithm", Value::str("AES256"))]));
        assert_eq!(as_written(Some(&written), live, &[]), written);
    }

    #[test]
    fn an_object_id_splits_at_the_first_slash_and_keeps_the_rest_as_the_key() {
        assert_eq!(
            split_object_id("site/a/b.html").unwrap(),
            ("site", "a/b.html")
        );
        for bad in ["", "bucket", "/key", "bucket/"] {
            let err = split_object_id(bad).unwrap_err().to_string();
            assert!(err.contains("BUCKET/KEY"), "{bad}: {err}");
        }
    }
}
