//! `aws.s3.object`: one object in a bucket, from a local file (`source`) or from text in the
//! stack (`content`).
//!
//! # How the body reads back
//!
//! S3 does not know where an object came from. Every upload sends the body's SHA-256
//! (`ChecksumSHA256`, which S3 also checks), and read asks for it back (`HeadObject` with
//! checksum mode on). `source` and `content` read back as strata recorded them when the live
//! object's SHA-256 is that of the file (hashed again on every refresh) or of the text, and as a
//! marker ([`BODY_CHANGED`]) otherwise, which the planner sees as a change: editing the file
//! shows up in the next plan, and update uploads it again. An object whose checksum S3 does not
//! report (uploaded by other means) reads as changed too.
//!
//! Changing the body or `content_type` uploads the object again (`PutObject`: a new version in
//! a versioned bucket, the same id); changing only `tags` rewrites the object's tag set. Delete
//! removes every version and delete marker of the key, as terraform-provider-aws does. The id
//! is `BUCKET/KEY`. Uploads are single `PutObject` calls, so an object is at most 5 GB.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, Delete, ObjectIdentifier};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{client, on_new_bucket, split_object_id, S3Tags, Tagged, NO_SUCH_BUCKET};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::lambda::code::code_sha256;
use crate::props::{desired, given, required_str};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.s3.object";

/// What `source` or `content` reads back as when the object in S3 is not what they describe.
pub const BODY_CHANGED: &str = "(changed: the object in S3 differs)";

/// AWS's content type for an object uploaded without one.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// How S3 says an object (or its bucket) does not exist: `HeadObject`'s 404 has no body.
const NO_SUCH_OBJECT: &[&str] = &["NotFound", "NoSuchKey", "NoSuchBucket"];

/// The properties that make the object's body: changing one uploads it again.
const BODY_PROPS: &[&str] = &["source", "content", "content_type"];

/// The object's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("bucket", Kind::String).required().force_new(),
            Prop::new("key", Kind::String).required().force_new(),
            Prop::new("source", Kind::String)
                .regular_file()
                .conflicts_with(&["content"]),
            Prop::new("content", Kind::String),
            Prop::new("content_type", Kind::String).default(DEFAULT_CONTENT_TYPE),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["etag", "version_id"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: None,
    }
}

/// How the catalogue knows `aws.s3.object`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(ObjectProvider::new(ctx)),
    about: "One object in a bucket, from a local file (`source`) or text (`content`); uploaded \
            again when the file's or the text's SHA-256 differs from the object's.",
    import_id: "`BUCKET/KEY`: the bucket name, a `/`, and the object key",
    attributes: &[
        ("etag", "the object's ETag, without quotes"),
        (
            "version_id",
            "the object's version in a versioned bucket; empty otherwise",
        ),
    ],
    property_notes: &[
        (
            "source",
            "a local file, relative to the stack file; give `source` or `content`, not both",
        ),
        ("content", "the object's body as text"),
    ],
    actions: Actions {
        create: &[
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:GetObject",
            "s3:GetObjectTagging",
        ],
        read: &["s3:GetObject", "s3:GetObjectTagging"],
        update: &[
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:GetObject",
            "s3:GetObjectTagging",
        ],
        delete: &[
            "s3:ListBucketVersions",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
        ],
    },
    resources: &[
        "arn:{partition}:s3:::{bucket}",
        "arn:{partition}:s3:::{bucket}/{key}",
    ],
    passes_role: &[],
};

/// The id of an object.
fn object_id(bucket: &str, key: &str) -> String {
    format!("{bucket}/{key}")
}

/// Where the body of an object comes from.
enum Body {
    File(PathBuf),
    Text(String),
}

impl Body {
    /// The body `props` ask for: `source` (a file under `base_dir` when relative), `content`,
    /// or nothing (an empty object).
    fn of(props: &Map, base_dir: &Path) -> Result<Body> {
        let text = |prop: &str| -> Result<Option<String>> {
            given(props, prop)
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a string")))
                })
                .transpose()
        };
        match (text("source")?, text("content")?) {
            (Some(_), Some(_)) => Err(ProviderError::invalid(
                "give an object's `source` or its `content`, not both",
            )),
            (Some(path), None) => Ok(Body::File(base_dir.join(path))),
            (None, content) => Ok(Body::Text(content.unwrap_or_default())),
        }
    }

    fn bytes(&self) -> Result<Vec<u8>> {
        match self {
            Body::File(path) => std::fs::read(path).map_err(|e| {
                ProviderError::invalid(format!("cannot read `source` {}: {e}", path.display()))
            }),
            Body::Text(text) => Ok(text.as_bytes().to_vec()),
        }
    }
}

/// `source` or `content` as read: the recorded value when the live object's SHA-256
/// (`live_sha`, base64) is that of the body it describes, else [`BODY_CHANGED`] (with the reason
/// when the file cannot be read). `None` when neither was recorded (an import).
fn body_as_read(prior: &Map, live_sha: Option<&str>, base_dir: &Path) -> Option<(String, Value)> {
    let prop = ["source", "content"]
        .into_iter()
        .find(|p| given(prior, p).is_some())?;
    let recorded = given(prior, prop)?;
    let mut only = Map::new();
    only.insert(prop.to_string(), recorded.clone());
    let verdict = Body::of(&only, base_dir)
        .and_then(|b| b.bytes())
        .map(|bytes| live_sha == Some(code_sha256(&bytes).as_str()));
    let value = match verdict {
        Ok(true) => recorded,
        Ok(false) => Value::str(BODY_CHANGED),
        Err(e) => Value::str(format!("(changed: {e})")),
    };
    Some((prop.to_string(), value))
}

/// Tags as S3's `x-amz-tagging` header: a URL-encoded query string.
fn tagging_header(props: &Map) -> Result<Option<String>> {
    let tags = tag_strings(props.get("tags"))?;
    if tags.is_empty() {
        return Ok(None);
    }
    let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    Ok(Some(
        tags.iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&"),
    ))
}

/// Manages S3 objects; the id is `BUCKET/KEY`.
pub struct ObjectProvider {
    schema: TypeSchema,
    s3: aws_sdk_s3::Client,
    base_dir: PathBuf,
}

impl ObjectProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            s3: client(ctx),
            base_dir: ctx.base_dir.clone(),
        }
    }

    /// The object in the stack's terms (`written`: what the stack last applied), or `None` when
    /// it (or its bucket) does not exist.
    async fn find_object(
        &self,
        bucket: &str,
        key: &str,
        written: &Map,
    ) -> Result<Option<Resource>> {
        let head = self
            .s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(api_error);
        let Some(head) = missing_is_none(head, NO_SUCH_OBJECT)? else {
            return Ok(None);
        };
        let tag_api = S3Tags {
            client: &self.s3,
            target: Tagged::Object { bucket, key },
        };
        let Some(tags) = missing_is_none(tag_api.current().await, NO_SUCH_OBJECT)? else {
            return Ok(None);
        };
        let mut properties = Map::from([
            ("bucket".to_string(), Value::str(bucket)),
            ("key".to_string(), Value::str(key)),
            (
                "content_type".to_string(),
                Value::str(head.content_type().unwrap_or(DEFAULT_CONTENT_TYPE)),
            ),
            ("tags".to_string(), tags_value(tags)),
        ]);
        if let Some((prop, value)) = body_as_read(written, head.checksum_sha256(), &self.base_dir) {
            properties.insert(prop, value);
        }
        let attributes = Map::from([
            (
                "etag".to_string(),
                Value::str(head.e_tag().unwrap_or_default().trim_matches('"')),
            ),
            (
                "version_id".to_string(),
                Value::str(
                    head.version_id()
                        .filter(|v| *v != "null")
                        .unwrap_or_default(),
                ),
            ),
        ]);
        Ok(Some(Resource {
            id: object_id(bucket, key),
            properties,
            attributes,
        }))
    }

    /// Reads an object that must exist (it was just uploaded or changed).
    async fn read_existing(&self, bucket: &str, key: &str, written: &Map) -> Result<Resource> {
        self.find_object(bucket, key, written)
            .await?
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "object {} was written but cannot be read back",
                    object_id(bucket, key)
                ))
            })
    }

    /// Uploads the object `props` describe, body, content type and tags in one `PutObject`,
    /// with the body's SHA-256 for S3 to check and keep.
    async fn upload(&self, bucket: &str, key: &str, props: &Map) -> Result<()> {
        let bytes = Body::of(props, &self.base_dir)?.bytes()?;
        let sha = code_sha256(&bytes);
        let content_type = desired(&self.schema, props, "content_type")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
        let tagging = tagging_header(props)?;
        on_new_bucket(|| {
            let call = self
                .s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from(bytes.clone()))
                .content_type(&content_type)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(&sha)
                .set_tagging(tagging.clone());
            async move { call.send().await.map_err(api_error) }
        })
        .await?;
        Ok(())
    }

    /// Deletes every version and delete marker of `key` in `bucket`.
    async fn delete_versions(&self, bucket: &str, key: &str) -> Result<()> {
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let page = self
                .s3
                .list_object_versions()
                .bucket(bucket)
                .prefix(key)
                .set_key_marker(key_marker.clone())
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
                .map_err(api_error)?;
            let objects = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    page.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                )
                .filter(|(k, _)| *k == Some(key))
                .map(|(_, version)| {
                    ObjectIdentifier::builder()
                        .key(key)
                        .set_version_id(version.map(str::to_string))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ProviderError::invalid(e.to_string()))?;
            if !objects.is_empty() {
                let delete = Delete::builder()
                    .set_objects(Some(objects))
                    .quiet(true)
                    .build()
                    .map_err(|e| ProviderError::invalid(e.to_string()))?;
                let out = self
                    .s3
                    .delete_objects()
                    .bucket(bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(api_error)?;
                if let Some(failed) = out.errors().first() {
                    return Err(ProviderError::Api {
                        code: failed.code().unwrap_or("Unknown").to_string(),
                        message: format!(
                            "deleting {} (version {}): {}",
                            object_id(bucket, key),
                            failed.version_id().unwrap_or("null"),
                            failed.message().unwrap_or_default()
                        ),
                    });
                }
            }
            if page.is_truncated() != Some(true) {
                return Ok(());
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
        }
    }
}

#[async_trait]
impl Provider for ObjectProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let bucket = required_str(&req.properties, "bucket")?;
        let key = required_str(&req.properties, "key")?;
        self.upload(&bucket, &key, &req.properties).await?;
        after_made(
            &object_id(&bucket, &key),
            self.read_existing(&bucket, &key, &req.properties),
        )
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (bucket, key) = split_object_id(&req.id)?;
        self.find_object(bucket, key, &req.prior_properties).await
    }

    /// Uploads again when the body or content type changed (with the tags); otherwise changes
    /// the tags alone.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.iter().find(|p| *p == "bucket" || *p == "key") {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        let (bucket, key) = split_object_id(&req.id)?;
        if req.changed.iter().any(|p| BODY_PROPS.contains(&p.as_str())) {
            self.upload(bucket, key, &req.properties).await?;
        } else if req.changed.iter().any(|p| p == "tags") {
            let api = S3Tags {
                client: &self.s3,
                target: Tagged::Object { bucket, key },
            };
            reconcile(&api, &req.prior_properties, &req.properties).await?;
        }
        self.read_existing(bucket, key, &req.properties).await
    }

    /// Deletes every version of the object; an object or bucket already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (bucket, key) = split_object_id(&req.id)?;
        let out = self.delete_versions(bucket, key).await;
        missing_is_none(out, NO_SUCH_BUCKET).map(|_| ())
    }

    /// The object at the stack's bucket and key.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let bucket = required_str(&req.properties, "bucket")?;
        let key = required_str(&req.properties, "key")?;
        self.find_object(&bucket, &key, &req.properties).await
    }
}

/// What the loader checks of an object's properties together (`TypeSchema::check`): a
/// source or a content, tags S3 takes.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        Body::of(props, std::path::Path::new(""))?;
        tagging_header(props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(json: serde_json::Value) -> Map {
        Value::from_json(json).as_map().unwrap().clone()
    }

    #[test]
    fn content_reads_back_as_written_only_while_the_object_holds_it() {
        let prior = props(serde_json::json!({ "content": "hello" }));
        let sha = code_sha256(b"hello");
        let dir = Path::new(".");
        assert_eq!(
            body_as_read(&prior, Some(&sha), dir),
            Some(("content".to_string(), Value::str("hello")))
        );
        assert_eq!(
            body_as_read(&prior, Some(&code_sha256(b"other")), dir),
            Some(("content".to_string(), Value::str(BODY_CHANGED)))
        );
        assert_eq!(
            body_as_read(&prior, None, dir),
            Some(("content".to_string(), Value::str(BODY_CHANGED)))
        );
    }

    #[test]
    fn an_edited_source_file_reads_back_as_changed() {
        let dir = std::env::temp_dir().join(format!("strata-s3-object-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "v1").unwrap();
        let prior = props(serde_json::json!({ "source": "index.html" }));
        let uploaded = code_sha256(b"v1");
        assert_eq!(
            body_as_read(&prior, Some(&uploaded), &dir).unwrap().1,
            Value::str("index.html")
        );
        std::fs::write(dir.join("index.html"), "v2").unwrap();
        assert_eq!(
            body_as_read(&prior, Some(&uploaded), &dir).unwrap().1,
            Value::str(BODY_CHANGED)
        );
        std::fs::remove_file(dir.join("index.html")).unwrap();
        let gone = body_as_read(&prior, Some(&uploaded), &dir).unwrap().1;
        assert!(
            gone.as_str().unwrap().starts_with("(changed: cannot read"),
            "{gone}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn source_and_content_together_are_refused() {
        let both = props(serde_json::json!({ "source": "a", "content": "b" }));
        assert!(Body::of(&both, Path::new(".")).is_err());
    }

    #[test]
    fn tags_go_in_the_header_url_encoded() {
        let tagged = props(serde_json::json!({ "tags": { "strata:stack": "a b", "k": "v" } }));
        assert_eq!(
            tagging_header(&tagged).unwrap().as_deref(),
            Some("k=v&strata%3Astack=a%20b")
        );
    }
}
