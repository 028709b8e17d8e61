//! `aws.s3.bucket`: a general purpose S3 bucket, with the settings Terraform keeps in separate
//! resources folded in: versioning, default encryption, lifecycle rules, the public access
//! block, CORS rules, object ownership and tags.
//!
//! Each setting is its own pair of S3 calls (`PutBucketVersioning`, `PutBucketEncryption`, ...),
//! so create makes the bucket in the stack's region (`LocationConstraint`, except in
//! `us-east-1`, where S3 refuses one) and then writes each setting, and update writes only the
//! settings that changed. Read makes one `Get*` call per setting, in parallel, and reads each
//! nested setting back in the shape the stack wrote it ([`super::as_written`]). Create reads
//! nothing back: it records what it wrote, through the same conversion read uses.
//!
//! Defaults are AWS's for buckets made since 2023: SSE-S3 (`AES256`) encryption, every public
//! access block switch on, `BucketOwnerEnforced` ownership, versioning off. Create always writes
//! the public access block and the encryption, so the bucket holds them whatever the account's
//! or the endpoint's defaults are.
//!
//! `force_destroy` is strata's, not S3's: delete then empties the bucket first, every object
//! version and delete marker included. Without it, deleting a bucket that holds objects fails
//! with S3's `BucketNotEmpty`. The id is the bucket name.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketVersioningStatus, CorsConfiguration, CorsRule, CreateBucketConfiguration, Delete,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, ObjectIdentifier, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Transition, TransitionStorageClass, VersioningConfiguration,
};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::NO_SUCH_BUCKET;
use super::{as_written, client, on_new_bucket, strings_value, Fields, S3Tags, Tagged};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, in_prior_order, required_str};
use crate::retry::with_backoff;
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.s3.bucket";

/// S3's limit on a bucket name.
const NAME_MAX_LEN: usize = 63;

/// The region where S3 takes no `LocationConstraint` (and refuses one).
const US_EAST_1: &str = "us-east-1";

/// How long create keeps retrying `OperationAborted` ("a conflicting conditional operation is
/// in progress", as when a bucket of that name was deleted moments ago):
/// terraform-provider-aws's `bucketCreatedTimeout`. A new bucket S3 does not know yet is waited
/// out by the first call on it (`NoSuchBucket` retried, [`on_new_bucket`]), not by a read.
const BUCKET_CREATED: Duration = Duration::from_secs(120);

/// How long delete keeps emptying a `force_destroy` bucket and deleting it again while S3 still
/// says `BucketNotEmpty` (listings are eventually consistent; objects may still be arriving).
const BUCKET_EMPTIED: Duration = Duration::from_secs(60);

/// How many versions one `ListObjectVersions` page (and so one `DeleteObjects`) holds: S3's
/// maximum for both.
const PAGE_SIZE: i32 = 1000;

/// AWS's default encryption for new buckets: SSE-S3.
const DEFAULT_SSE: &str = "AES256";

/// AWS's default object ownership for new buckets: ACLs disabled.
const DEFAULT_OWNERSHIP: &str = "BucketOwnerEnforced";

/// How S3 says a bucket has no such setting.
const NO_ENCRYPTION: &[&str] = &["ServerSideEncryptionConfigurationNotFoundError"];
const NO_LIFECYCLE: &[&str] = &["NoSuchLifecycleConfiguration"];
const NO_PUBLIC_ACCESS_BLOCK: &[&str] = &["NoSuchPublicAccessBlockConfiguration"];
const NO_CORS: &[&str] = &["NoSuchCORSConfiguration"];
const NO_OWNERSHIP: &[&str] = &["OwnershipControlsNotFoundError"];

/// The root element some S3-compatible servers (moto, the emulator) give a
/// `GetBucketVersioning` answer in place of S3's `VersioningConfiguration`; the SDK refuses the
/// answer, so its `Status` is read from the text. S3 itself never sends it.
const MISNAMED_VERSIONING_ROOT: &str = "<GetBucketVersioningResponse";

/// Whether the text of a `GetBucketVersioning` answer says versioning is on.
fn versioning_enabled_in(text: &str) -> bool {
    text.contains("<Status>Enabled</Status>")
}

/// How S3 refuses to delete a bucket that holds objects.
const BUCKET_NOT_EMPTY: &[&str] = &["BucketNotEmpty"];
/// How S3 asks to try a create again later.
const OPERATION_ABORTED: &[&str] = &["OperationAborted"];

/// The four switches of the public access block, all on unless the stack says otherwise.
const PUBLIC_ACCESS_SWITCHES: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

/// The storage classes a lifecycle transition may move objects to.
const TRANSITION_CLASSES: &[&str] = &[
    "GLACIER",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

fn default_sse() -> Value {
    Value::Map(Map::from([(
        "sse_algorithm".to_string(),
        Value::str(DEFAULT_SSE),
    )]))
}

fn default_public_access_block() -> Value {
    Value::Map(
        PUBLIC_ACCESS_SWITCHES
            .iter()
            .map(|k| (k.to_string(), Value::Bool(true)))
            .collect(),
    )
}

/// The bucket's properties; settings with a fixed AWS default have it.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("bucket", Kind::String).force_new(),
            Prop::new("force_destroy", Kind::Bool).default(false),
            Prop::new("versioning", Kind::Bool).default(false),
            Prop::new(
                "server_side_encryption",
                Kind::Object(vec![
                    Prop::new("sse_algorithm", Kind::String)
                        .required()
                        .allowed(&["AES256", "aws:kms", "aws:kms:dsse"]),
                    Prop::new("kms_master_key_id", Kind::String),
                    Prop::new("bucket_key_enabled", Kind::Bool),
                ]),
            )
            .default(default_sse()),
            Prop::new(
                "lifecycle_rules",
                Kind::List(Box::new(Kind::Object(vec![
                    Prop::new("id", Kind::String).required(),
                    Prop::new("status", Kind::String)
                        .allowed(&["Enabled", "Disabled"])
                        .default("Enabled"),
                    Prop::new("prefix", Kind::String),
                    Prop::new("expiration_days", Kind::Integer),
                    Prop::new("noncurrent_version_expiration_days", Kind::Integer),
                    Prop::new(
                        "transitions",
                        Kind::List(Box::new(Kind::Object(vec![
                            Prop::new("days", Kind::Integer).required(),
                            Prop::new("storage_class", Kind::String)
                                .required()
                                .allowed(TRANSITION_CLASSES),
                        ]))),
                    ),
                    Prop::new("abort_incomplete_multipart_upload_days", Kind::Integer),
                ]))),
            )
            .resettable(),
            Prop::new(
                "public_access_block",
                Kind::Object(
                    PUBLIC_ACCESS_SWITCHES
                        .iter()
                        .map(|k| Prop::new(k, Kind::Bool).default(true))
                        .collect(),
                ),
            )
            .default(default_public_access_block()),
            Prop::new(
                "cors_rules",
                Kind::List(Box::new(Kind::Object(vec![
                    Prop::new("allowed_methods", Kind::List(Box::new(Kind::String))).required(),
                    Prop::new("allowed_origins", Kind::List(Box::new(Kind::String))).required(),
                    Prop::new("allowed_headers", Kind::List(Box::new(Kind::String))),
                    Prop::new("expose_headers", Kind::List(Box::new(Kind::String))),
                    Prop::new("max_age_seconds", Kind::Integer),
                    Prop::new("id", Kind::String),
                ]))),
            )
            .resettable(),
            Prop::new("object_ownership", Kind::String)
                .allowed(&[
                    "BucketOwnerEnforced",
                    "BucketOwnerPreferred",
                    "ObjectWriter",
                ])
                .default(DEFAULT_OWNERSHIP),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec![
            "arn",
            "bucket",
            "bucket_domain_name",
            "bucket_regional_domain_name",
        ],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "bucket",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.s3.bucket`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(BucketProvider::new(ctx)),
    about: "A general purpose S3 bucket in the stack's region, with its versioning, default \
            encryption, lifecycle rules, public access block, CORS rules and object ownership \
            folded in; each setting changes in place with its own call.",
    import_id: "the bucket name",
    attributes: &[
        ("arn", "the bucket's ARN, `arn:aws:s3:::NAME`"),
        ("bucket", "the bucket name"),
        ("bucket_domain_name", "`NAME.s3.amazonaws.com`"),
        (
            "bucket_regional_domain_name",
            "`NAME.s3.REGION.amazonaws.com`, the name to use for CloudFront origins",
        ),
    ],
    property_notes: &[
        (
            "bucket",
            "bucket names are global across all AWS accounts: the derived `STACK-ADDRESS` may \
             be taken by someone else, so name buckets that must exist on AWS",
        ),
        (
            "force_destroy",
            "delete empties the bucket first, every object version and delete marker included",
        ),
        (
            "public_access_block",
            "a switch left out is on; taking the whole setting out turns all four on",
        ),
        (
            "lifecycle_rules",
            "`prefix` filters the objects a rule applies to; `status` is `Enabled` unless written",
        ),
    ],
    actions: Actions {
        create: &[
            "s3:CreateBucket",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutEncryptionConfiguration",
            "s3:PutBucketVersioning",
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketCORS",
            "s3:PutBucketTagging",
        ],
        read: &[
            "s3:ListBucket",
            "s3:GetBucketVersioning",
            "s3:GetEncryptionConfiguration",
            "s3:GetLifecycleConfiguration",
            "s3:GetBucketPublicAccessBlock",
            "s3:GetBucketCORS",
            "s3:GetBucketOwnershipControls",
            "s3:GetBucketTagging",
        ],
        update: &[
            "s3:PutBucketVersioning",
            "s3:PutEncryptionConfiguration",
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketCORS",
            "s3:PutBucketOwnershipControls",
            "s3:GetBucketTagging",
            "s3:PutBucketTagging",
        ],
        delete: &[
            "s3:DeleteBucket",
            "s3:ListBucketVersions",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
        ],
    },
    resources: &[
        "arn:{partition}:s3:::{bucket}",
        "arn:{partition}:s3:::{bucket}/*",
    ],
    passes_role: &[],
};

/// The value of `prop` the stack last wrote (`written`), else the schema's default: the shape a
/// nested setting reads back in.
fn written_or_default<'a>(
    schema: &'a TypeSchema,
    written: &'a Map,
    prop: &str,
) -> Option<&'a Value> {
    written
        .get(prop)
        .filter(|v| **v != Value::Null)
        .or_else(|| schema.prop(prop).and_then(|p| p.default.as_ref()))
}

/// `server_side_encryption` as S3 takes it.
fn encryption_from(value: &Value) -> Result<ServerSideEncryptionConfiguration> {
    let fields = Fields::of(value, "server_side_encryption");
    let algorithm = fields.required_str("sse_algorithm")?;
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(algorithm.as_str()))
        .set_kms_master_key_id(fields.str("kms_master_key_id")?)
        .build()
        .map_err(|e| ProviderError::invalid(e.to_string()))?;
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default)
        .set_bucket_key_enabled(fields.bool("bucket_key_enabled")?)
        .build();
    ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()
        .map_err(|e| ProviderError::invalid(e.to_string()))
}

/// `public_access_block` as S3 takes it: a switch left out is on.
fn public_access_from(value: &Value) -> Result<PublicAccessBlockConfiguration> {
    let fields = Fields::of(value, "public_access_block");
    let on = |key: &str| fields.bool(key).map(|b| b.unwrap_or(true));
    Ok(PublicAccessBlockConfiguration::builder()
        .block_public_acls(on("block_public_acls")?)
        .block_public_policy(on("block_public_policy")?)
        .ignore_public_acls(on("ignore_public_acls")?)
        .restrict_public_buckets(on("restrict_public_buckets")?)
        .build())
}

/// One lifecycle rule as S3 takes it. `prefix` becomes the rule's filter (an empty prefix: every
/// object), since S3 deprecated the rule-level prefix.
fn lifecycle_rule_from(value: &Value) -> Result<LifecycleRule> {
    let fields = Fields::of(value, "lifecycle_rules");
    let status = fields.str("status")?.unwrap_or_else(|| "Enabled".into());
    let mut rule = LifecycleRule::builder()
        .id(fields.required_str("id")?)
        .status(ExpirationStatus::from(status.as_str()))
        .filter(
            LifecycleRuleFilter::builder()
                .prefix(fields.str("prefix")?.unwrap_or_default())
                .build(),
        );
    if let Some(days) = fields.int("expiration_days")? {
        rule = rule.expiration(LifecycleExpiration::builder().days(days).build());
    }
    if let Some(days) = fields.int("noncurrent_version_expiration_days")? {
        rule = rule.noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(days)
                .build(),
        );
    }
    for transition in fields.items("transitions")? {
        let t = Fields::of(transition, "lifecycle_rules.transitions");
        rule = rule.transitions(
            Transition::builder()
                .set_days(t.int("days")?)
                .storage_class(TransitionStorageClass::from(
                    t.required_str("storage_class")?.as_str(),
                ))
                .build(),
        );
    }
    if let Some(days) = fields.int("abort_incomplete_multipart_upload_days")? {
        rule = rule.abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(days)
                .build(),
        );
    }
    rule.build()
        .map_err(|e| ProviderError::invalid(e.to_string()))
}

/// One CORS rule as S3 takes it.
fn cors_rule_from(value: &Value) -> Result<CorsRule> {
    let fields = Fields::of(value, "cors_rules");
    CorsRule::builder()
        .set_allowed_methods(fields.strings("allowed_methods")?)
        .set_allowed_origins(fields.strings("allowed_origins")?)
        .set_allowed_headers(fields.strings("allowed_headers")?)
        .set_expose_headers(fields.strings("expose_headers")?)
        .set_max_age_seconds(fields.int("max_age_seconds")?)
        .set_id(fields.str("id")?)
        .build()
        .map_err(|e| ProviderError::invalid(e.to_string()))
}

/// The list items of a list property; none when it is not given.
fn list_items(props: &Map, prop: &str) -> Result<Vec<Value>> {
    match props.get(prop).map(Value::unmarked) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => Ok(items),
        Some(other) => Err(ProviderError::invalid(format!(
            "`{prop}` must be a list, not {}",
            other.kind_name()
        ))),
    }
}

/// A lifecycle rule in the stack's terms, shaped like `written` (the rule of the same id the
/// stack wrote).
fn lifecycle_rule_value(rule: &LifecycleRule, written: Option<&Value>) -> Value {
    let prefix = rule.filter().and_then(|f| f.prefix()).unwrap_or_default();
    let transitions: Vec<Value> = rule
        .transitions()
        .iter()
        .map(|t| {
            let mut fields = Map::new();
            if let Some(days) = t.days() {
                fields.insert("days".into(), Value::int(i64::from(days)));
            }
            if let Some(class) = t.storage_class() {
                fields.insert("storage_class".into(), Value::str(class.as_str()));
            }
            Value::Map(fields)
        })
        .collect();
    let int = |n: Option<i32>| n.map_or(Value::Null, |n| Value::int(i64::from(n)));
    let live = Map::from([
        ("id".to_string(), Value::str(rule.id().unwrap_or_default())),
        ("status".to_string(), Value::str(rule.status().as_str())),
        ("prefix".to_string(), Value::str(prefix)),
        (
            "expiration_days".to_string(),
            int(rule.expiration().and_then(|e| e.days())),
        ),
        (
            "noncurrent_version_expiration_days".to_string(),
            int(rule
                .noncurrent_version_expiration()
                .and_then(|e| e.noncurrent_days())),
        ),
        ("transitions".to_string(), Value::List(transitions)),
        (
            "abort_incomplete_multipart_upload_days".to_string(),
            int(rule
                .abort_incomplete_multipart_upload()
                .and_then(|a| a.days_after_initiation())),
        ),
    ]);
    as_written(written, live, &[("status", Value::str("Enabled"))])
}

/// A CORS rule in the stack's terms, shaped like `written`.
fn cors_rule_value(rule: &CorsRule, written: Option<&Value>) -> Value {
    let live = Map::from([
        (
            "allowed_methods".to_string(),
            strings_value(rule.allowed_methods()),
        ),
        (
            "allowed_origins".to_string(),
            strings_value(rule.allowed_origins()),
        ),
        (
            "allowed_headers".to_string(),
            strings_value(rule.allowed_headers()),
        ),
        (
            "expose_headers".to_string(),
            strings_value(rule.expose_headers()),
        ),
        (
            "max_age_seconds".to_string(),
            rule.max_age_seconds()
                .map_or(Value::Null, |n| Value::int(i64::from(n))),
        ),
        ("id".to_string(), rule.id().map_or(Value::Null, Value::str)),
    ]);
    as_written(written, live, &[])
}

/// The rule id of a lifecycle rule value.
fn rule_id(value: &Value) -> Option<String> {
    value
        .as_map()
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The lifecycle `rules` in the stack's terms, in the order the stack wrote them (`written`);
/// `None` when there are none.
fn lifecycle_value(rules: &[LifecycleRule], written: &Map) -> Result<Option<Value>> {
    if rules.is_empty() {
        return Ok(None);
    }
    let prior = list_items(written, "lifecycle_rules")?;
    let rules: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let shape = prior.iter().find(|p| rule_id(p).as_deref() == rule.id());
            lifecycle_rule_value(rule, shape)
        })
        .collect();
    let order = prior.iter().filter_map(rule_id);
    Ok(Some(Value::List(in_prior_order(order, rules, rule_id))))
}

/// The CORS `rules` in the stack's terms, each shaped like the one the stack wrote at its
/// place; `None` when there are none.
fn cors_value(rules: &[CorsRule], written: &Map) -> Result<Option<Value>> {
    if rules.is_empty() {
        return Ok(None);
    }
    let prior = list_items(written, "cors_rules")?;
    Ok(Some(Value::List(
        rules
            .iter()
            .enumerate()
            .map(|(at, rule)| cors_rule_value(rule, prior.get(at)))
            .collect(),
    )))
}

/// A bucket's settings as S3 holds them: what read gets, or what create has just written.
struct Settings {
    versioning: bool,
    encryption: Option<ServerSideEncryptionConfiguration>,
    lifecycle: Vec<LifecycleRule>,
    public_access: Option<PublicAccessBlockConfiguration>,
    cors: Vec<CorsRule>,
    ownership: String,
    tags: BTreeMap<String, String>,
}

/// Manages S3 buckets; the id is the bucket name.
pub struct BucketProvider {
    schema: TypeSchema,
    s3: aws_sdk_s3::Client,
    region: String,
    partition: &'static str,
}

impl BucketProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            s3: client(ctx),
            region: ctx.region(),
            partition: ctx.partition(),
        }
    }

    /// The DNS suffix of the partition's S3 endpoints.
    fn dns_suffix(&self) -> &'static str {
        match self.partition {
            "aws-cn" => "amazonaws.com.cn",
            _ => "amazonaws.com",
        }
    }

    /// The bucket `name` in the stack's terms, or `None` when it does not exist. `written` is
    /// what the stack last applied (the shape nested settings read back in).
    async fn find_bucket(&self, name: &str, written: &Map) -> Result<Option<Resource>> {
        let head = self
            .s3
            .head_bucket()
            .bucket(name)
            .send()
            .await
            .map_err(api_error);
        if missing_is_none(head, NO_SUCH_BUCKET)?.is_none() {
            return Ok(None);
        }
        let tag_api = S3Tags {
            client: &self.s3,
            target: Tagged::Bucket(name),
        };
        let (versioning, encryption, lifecycle, public_access, cors, ownership, tags) = futures::try_join!(
            self.versioning(name),
            self.encryption(name),
            self.lifecycle(name),
            self.public_access(name),
            self.cors(name),
            self.ownership(name),
            tag_api.current(),
        )?;
        let held = Settings {
            versioning,
            encryption,
            lifecycle,
            public_access,
            cors,
            ownership,
            tags,
        };
        self.resource(name, written, &held).map(Some)
    }

    /// Bucket `name` holding `held`, in the stack's terms: what read gives, and what create
    /// records from what it wrote. `written` is what the stack last applied (the shape nested
    /// settings read back in).
    fn resource(&self, name: &str, written: &Map, held: &Settings) -> Result<Resource> {
        let mut properties = Map::from([
            ("bucket".to_string(), Value::str(name)),
            (
                "force_destroy".to_string(),
                written
                    .get("force_destroy")
                    .map(Value::unmarked)
                    .filter(|v| v.as_bool().is_some())
                    .unwrap_or(Value::Bool(false)),
            ),
            ("versioning".to_string(), Value::Bool(held.versioning)),
            (
                "public_access_block".to_string(),
                self.public_access_value(held.public_access.as_ref(), written),
            ),
            (
                "object_ownership".to_string(),
                Value::str(held.ownership.as_str()),
            ),
            ("tags".to_string(), tags_value(held.tags.clone())),
        ]);
        if let Some(encryption) = self.encryption_value(held.encryption.as_ref(), written) {
            properties.insert("server_side_encryption".into(), encryption);
        }
        if let Some(rules) = lifecycle_value(&held.lifecycle, written)? {
            properties.insert("lifecycle_rules".into(), rules);
        }
        if let Some(rules) = cors_value(&held.cors, written)? {
            properties.insert("cors_rules".into(), rules);
        }
        let attributes = Map::from([
            (
                "arn".to_string(),
                Value::str(format!("arn:{}:s3:::{name}", self.partition)),
            ),
            ("bucket".to_string(), Value::str(name)),
            (
                "bucket_domain_name".to_string(),
                Value::str(format!("{name}.s3.{}", self.dns_suffix())),
            ),
            (
                "bucket_regional_domain_name".to_string(),
                Value::str(format!("{name}.s3.{}.{}", self.region, self.dns_suffix())),
            ),
        ]);
        Ok(Resource {
            id: name.to_string(),
            properties,
            attributes,
        })
    }

    /// What create writes for `props`, as S3 then holds it: the settings given, the public
    /// access block and encryption always (the defaults when not given), the ownership the
    /// bucket was made with, versioning off unless turned on.
    fn requested(&self, props: &Map) -> Result<Settings> {
        let versioning = desired(&self.schema, props, "versioning").and_then(|v| v.as_bool());
        let encryption =
            desired(&self.schema, props, "server_side_encryption").unwrap_or_else(default_sse);
        let public_access = desired(&self.schema, props, "public_access_block")
            .unwrap_or_else(default_public_access_block);
        Ok(Settings {
            versioning: versioning == Some(true),
            encryption: Some(encryption_from(&encryption)?),
            lifecycle: list_items(props, "lifecycle_rules")?
                .iter()
                .map(lifecycle_rule_from)
                .collect::<Result<_>>()?,
            public_access: Some(public_access_from(&public_access)?),
            cors: list_items(props, "cors_rules")?
                .iter()
                .map(cors_rule_from)
                .collect::<Result<_>>()?,
            ownership: self.ownership_requested(props),
            tags: tag_strings(props.get("tags"))?,
        })
    }

    /// The object ownership `props` asks for (AWS's default when none).
    fn ownership_requested(&self, props: &Map) -> String {
        desired(&self.schema, props, "object_ownership")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_OWNERSHIP.to_string())
    }

    /// Whether versioning is on (`Suspended` and never-enabled are both off).
    async fn versioning(&self, name: &str) -> Result<bool> {
        match self.s3.get_bucket_versioning().bucket(name).send().await {
            Ok(out) => Ok(out.status() == Some(&BucketVersioningStatus::Enabled)),
            Err(err) => {
                let body = err
                    .raw_response()
                    .and_then(|r| r.body().bytes())
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .filter(|text| text.contains(MISNAMED_VERSIONING_ROOT))
                    .map(versioning_enabled_in);
                body.map_or_else(|| Err(api_error(err)), Ok)
            }
        }
    }

    /// The default encryption; `None` when the bucket has none (possible only for buckets made
    /// before 2023, and in emulators).
    async fn encryption(&self, name: &str) -> Result<Option<ServerSideEncryptionConfiguration>> {
        let out = self
            .s3
            .get_bucket_encryption()
            .bucket(name)
            .send()
            .await
            .map_err(api_error);
        Ok(missing_is_none(out, NO_ENCRYPTION)?
            .and_then(|o| o.server_side_encryption_configuration().cloned()))
    }

    /// The default encryption `config` in the stack's terms; `None` when there is none.
    fn encryption_value(
        &self,
        config: Option<&ServerSideEncryptionConfiguration>,
        written: &Map,
    ) -> Option<Value> {
        let rule = config.and_then(|c| c.rules().first())?;
        let by_default = rule.apply_server_side_encryption_by_default();
        let live = Map::from([
            (
                "sse_algorithm".to_string(),
                by_default.map_or(Value::Null, |d| Value::str(d.sse_algorithm().as_str())),
            ),
            (
                "kms_master_key_id".to_string(),
                by_default
                    .and_then(|d| d.kms_master_key_id())
                    .map_or(Value::Null, Value::str),
            ),
            (
                "bucket_key_enabled".to_string(),
                Value::Bool(rule.bucket_key_enabled().unwrap_or(false)),
            ),
        ]);
        let shape = written_or_default(&self.schema, written, "server_side_encryption");
        Some(as_written(shape, live, &[]))
    }

    /// The lifecycle rules; none when the bucket has no lifecycle configuration.
    async fn lifecycle(&self, name: &str) -> Result<Vec<LifecycleRule>> {
        let out = self
            .s3
            .get_bucket_lifecycle_configuration()
            .bucket(name)
            .send()
            .await
            .map_err(api_error);
        Ok(missing_is_none(out, NO_LIFECYCLE)?
            .map(|o| o.rules().to_vec())
            .unwrap_or_default())
    }

    /// The public access block; `None` when the bucket has none.
    async fn public_access(&self, name: &str) -> Result<Option<PublicAccessBlockConfiguration>> {
        let out = self
            .s3
            .get_public_access_block()
            .bucket(name)
            .send()
            .await
            .map_err(api_error);
        Ok(missing_is_none(out, NO_PUBLIC_ACCESS_BLOCK)?
            .and_then(|o| o.public_access_block_configuration().cloned()))
    }

    /// The public access block `config` in the stack's terms; a bucket without one blocks
    /// nothing.
    fn public_access_value(
        &self,
        config: Option<&PublicAccessBlockConfiguration>,
        written: &Map,
    ) -> Value {
        let switch = |on: Option<bool>| Value::Bool(on.unwrap_or(false));
        let live = match config {
            Some(c) => [
                c.block_public_acls(),
                c.block_public_policy(),
                c.ignore_public_acls(),
                c.restrict_public_buckets(),
            ],
            None => [None; 4],
        };
        let live: Map = PUBLIC_ACCESS_SWITCHES
            .iter()
            .zip(live)
            .map(|(k, on)| (k.to_string(), switch(on)))
            .collect();
        let defaults: Vec<(&str, Value)> = PUBLIC_ACCESS_SWITCHES
            .iter()
            .map(|k| (*k, Value::Bool(true)))
            .collect();
        let shape = written_or_default(&self.schema, written, "public_access_block");
        as_written(shape, live, &defaults)
    }

    /// The CORS rules, in S3's order (which is the order they were put in); none when the
    /// bucket has no CORS configuration.
    async fn cors(&self, name: &str) -> Result<Vec<CorsRule>> {
        let out = self
            .s3
            .get_bucket_cors()
            .bucket(name)
            .send()
            .await
            .map_err(api_error);
        Ok(missing_is_none(out, NO_CORS)?
            .map(|o| o.cors_rules().to_vec())
            .unwrap_or_default())
    }

    /// The object ownership setting; without ownership controls, the writer owns objects.
    async fn ownership(&self, name: &str) -> Result<String> {
        let out = self
            .s3
            .get_bucket_ownership_controls()
            .bucket(name)
            .send()
            .await
            .map_err(api_error);
        Ok(missing_is_none(out, NO_OWNERSHIP)?
            .and_then(|o| {
                o.ownership_controls()
                    .and_then(|c| c.rules().first())
                    .map(|r| r.object_ownership().as_str().to_string())
            })
            .unwrap_or_else(|| "ObjectWriter".to_string()))
    }

    /// Reads a bucket that must exist (it was just created or changed).
    async fn read_existing(&self, name: &str, written: &Map) -> Result<Resource> {
        self.find_bucket(name, written).await?.ok_or_else(|| {
            ProviderError::invalid(format!("bucket {name} was written but cannot be read back"))
        })
    }

    /// Writes one setting (`prop`) of `props` onto bucket `name`: what create does for each
    /// setting the stack gives, and update for each that changed.
    async fn put_setting(&self, name: &str, props: &Map, prop: &str) -> Result<()> {
        let value = desired(&self.schema, props, prop);
        let s3 = &self.s3;
        match prop {
            "versioning" => {
                let on = value.and_then(|v| v.as_bool()).unwrap_or(false);
                let status = if on {
                    BucketVersioningStatus::Enabled
                } else {
                    BucketVersioningStatus::Suspended
                };
                let config = VersioningConfiguration::builder().status(status).build();
                on_new_bucket(|| async {
                    s3.put_bucket_versioning()
                        .bucket(name)
                        .versioning_configuration(config.clone())
                        .send()
                        .await
                        .map_err(api_error)
                })
                .await?;
            }
            "server_side_encryption" => {
                let config = encryption_from(&value.unwrap_or_else(default_sse))?;
                on_new_bucket(|| async {
                    s3.put_bucket_encryption()
                        .bucket(name)
                        .server_side_encryption_configuration(config.clone())
                        .send()
                        .await
                        .map_err(api_error)
                })
                .await?;
            }
            "public_access_block" => {
                let config =
                    public_access_from(&value.unwrap_or_else(default_public_access_block))?;
                on_new_bucket(|| async {
                    s3.put_public_access_block()
                        .bucket(name)
                        .public_access_block_configuration(config.clone())
                        .send()
                        .await
                        .map_err(api_error)
                })
                .await?;
            }
            "lifecycle_rules" => {
                let rules = list_items(props, prop)?
                    .iter()
                    .map(lifecycle_rule_from)
                    .collect::<Result<Vec<_>>>()?;
                if rules.is_empty() {
                    s3.delete_bucket_lifecycle()
                        .bucket(name)
                        .send()
                        .await
                        .map_err(api_error)?;
                } else {
                    let config = BucketLifecycleConfiguration::builder()
                        .set_rules(Some(rules))
                        .build()
                        .map_err(|e| ProviderError::invalid(e.to_string()))?;
                    on_new_bucket(|| async {
                        s3.put_bucket_lifecycle_configuration()
                            .bucket(name)
                            .lifecycle_configuration(config.clone())
                            .send()
                            .await
                            .map_err(api_error)
                    })
                    .await?;
                }
            }
            "cors_rules" => {
                let rules = list_items(props, prop)?
                    .iter()
                    .map(cors_rule_from)
                    .collect::<Result<Vec<_>>>()?;
                if rules.is_empty() {
                    s3.delete_bucket_cors()
                        .bucket(name)
                        .send()
                        .await
                        .map_err(api_error)?;
                } else {
                    let config = CorsConfiguration::builder()
                        .set_cors_rules(Some(rules))
                        .build()
                        .map_err(|e| ProviderError::invalid(e.to_string()))?;
                    on_new_bucket(|| async {
                        s3.put_bucket_cors()
                            .bucket(name)
                            .cors_configuration(config.clone())
                            .send()
                            .await
                            .map_err(api_error)
                    })
                    .await?;
                }
            }
            "object_ownership" => {
                let ownership = value
                    .as_ref()
                    .and_then(Value::as_str)
                    .unwrap_or(DEFAULT_OWNERSHIP);
                let controls = OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::from(ownership))
                            .build()
                            .map_err(|e| ProviderError::invalid(e.to_string()))?,
                    )
                    .build()
                    .map_err(|e| ProviderError::invalid(e.to_string()))?;
                s3.put_bucket_ownership_controls()
                    .bucket(name)
                    .ownership_controls(controls)
                    .send()
                    .await
                    .map_err(api_error)?;
            }
            // `force_destroy` is strata's own; `tags` are reconciled by key.
            _ => {}
        }
        Ok(())
    }

    /// Deletes every object version and delete marker in bucket `name`, a page at a time.
    async fn empty(&self, name: &str) -> Result<()> {
        loop {
            let page = self
                .s3
                .list_object_versions()
                .bucket(name)
                .max_keys(PAGE_SIZE)
                .send()
                .await
                .map_err(api_error)?;
            let versions = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    page.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                );
            let objects = versions
                .filter_map(|(key, version)| {
                    key.map(|key| {
                        ObjectIdentifier::builder()
                            .key(key)
                            .set_version_id(version.map(str::to_string))
                            .build()
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ProviderError::invalid(e.to_string()))?;
            if objects.is_empty() {
                return Ok(());
            }
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| ProviderError::invalid(e.to_string()))?;
            let out = self
                .s3
                .delete_objects()
                .bucket(name)
                .delete(delete)
                .send()
                .await
                .map_err(api_error)?;
            if let Some(failed) = out.errors().first() {
                return Err(ProviderError::Api {
                    code: failed.code().unwrap_or("Unknown").to_string(),
                    message: format!(
                        "emptying bucket {name}: deleting {} (version {}): {}",
                        failed.key().unwrap_or_default(),
                        failed.version_id().unwrap_or("null"),
                        failed.message().unwrap_or_default()
                    ),
                });
            }
        }
    }

    async fn delete_bucket(&self, name: &str) -> Result<()> {
        self.s3
            .delete_bucket()
            .bucket(name)
            .send()
            .await
            .map_err(api_error)
            .map(|_| ())
    }
}

#[async_trait]
impl Provider for BucketProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the bucket in the stack's region with its object ownership, then writes the
    /// public access block, the encryption, tags and every other setting the stack gives, one
    /// after another (S3 answers `OperationAborted` to concurrent changes of one bucket), each
    /// retrying while S3 does not know the new bucket yet. Nothing is read back: what was
    /// written is recorded.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "bucket")?;
        let requested = self.requested(props)?;
        let location = (self.region != US_EAST_1).then(|| {
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                .build()
        });
        with_backoff(
            BUCKET_CREATED,
            |e| e.is_code(OPERATION_ABORTED),
            || {
                let call = self
                    .s3
                    .create_bucket()
                    .bucket(&name)
                    .set_create_bucket_configuration(location.clone())
                    .object_ownership(ObjectOwnership::from(requested.ownership.as_str()));
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;

        after_made(&name, async {
            self.put_setting(&name, props, "public_access_block")
                .await?;
            self.put_setting(&name, props, "server_side_encryption")
                .await?;
            if requested.versioning {
                self.put_setting(&name, props, "versioning").await?;
            }
            if !requested.lifecycle.is_empty() {
                self.put_setting(&name, props, "lifecycle_rules").await?;
            }
            if !requested.cors.is_empty() {
                self.put_setting(&name, props, "cors_rules").await?;
            }
            if !requested.tags.is_empty() {
                let api = S3Tags {
                    client: &self.s3,
                    target: Tagged::Bucket(&name),
                };
                on_new_bucket(|| api.put(requested.tags.clone())).await?;
            }
            self.resource(&name, props, &requested)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_bucket(&req.id, &req.prior_properties).await
    }

    /// Writes each changed setting with its own call; tags change by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.iter().find(|p| *p == "bucket") {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        for prop in &req.changed {
            if prop == "tags" {
                let api = S3Tags {
                    client: &self.s3,
                    target: Tagged::Bucket(&req.id),
                };
                reconcile(&api, &req.prior_properties, &req.properties).await?;
            } else {
                self.put_setting(&req.id, &req.properties, prop).await?;
            }
        }
        self.read_existing(&req.id, &req.properties).await
    }

    /// Deletes the bucket; with `force_destroy`, empties it first (and again while S3 still
    /// says it is not empty). A bucket already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let force = req
            .properties
            .get("force_destroy")
            .map(Value::unmarked)
            .and_then(|v| v.as_bool())
            == Some(true);
        if !force {
            let out = self.delete_bucket(&req.id).await;
            return match missing_is_none(out, NO_SUCH_BUCKET) {
                Err(ProviderError::Api { code, message })
                    if BUCKET_NOT_EMPTY.contains(&code.as_str()) =>
                {
                    Err(ProviderError::Api {
                        code,
                        message: format!(
                            "{message} (set `force_destroy: true` to delete its objects with it)"
                        ),
                    })
                }
                other => other.map(|_| ()),
            };
        }
        let out = with_backoff(
            BUCKET_EMPTIED,
            |e| e.is_code(BUCKET_NOT_EMPTY),
            || async {
                self.empty(&req.id).await?;
                self.delete_bucket(&req.id).await
            },
        )
        .await;
        missing_is_none(out, NO_SUCH_BUCKET).map(|_| ())
    }

    /// Finds the bucket by its name (deterministic, or the stack's).
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "bucket")?;
        self.find_bucket(&name, &req.properties).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_given_no_name_gets_the_stack_and_address_within_s3s_limit() {
        let text = "stack: site\nresources:\n  assets_bucket:\n    type: aws.s3.bucket\n";
        let stack = stacks::load_str(
            std::path::Path::new("stack.yaml"),
            text,
            &stacks::LoadOptions::default(),
            &stacks::Catalog::new([schema()]),
        )
        .unwrap_or_else(|d| panic!("{d:?}"));
        match &stack.resources["assets_bucket"].properties["bucket"] {
            stacks::Expr::Value {
                value: Value::String(name),
            } => assert_eq!(name, "site-assets-bucket"),
            other => panic!("`bucket` is {other:?}"),
        }
    }

    #[test]
    fn a_lifecycle_rule_round_trips_in_the_shape_the_stack_wrote() {
        let written = Value::from_json(serde_json::json!({
            "id": "logs", "prefix": "logs/", "expiration_days": 30,
            "transitions": [{ "days": 10, "storage_class": "STANDARD_IA" }]
        }));
        let rule = lifecycle_rule_from(&written).unwrap();
        assert_eq!(lifecycle_rule_value(&rule, Some(&written)), written);
    }

    #[test]
    fn a_rule_changed_behind_strata_reads_back_different() {
        let written = Value::from_json(serde_json::json!({ "id": "logs", "expiration_days": 30 }));
        let mut changed = written.as_map().unwrap().clone();
        changed.insert("status".into(), Value::str("Disabled"));
        let rule = lifecycle_rule_from(&Value::Map(changed)).unwrap();
        assert_ne!(lifecycle_rule_value(&rule, Some(&written)), written);
    }

    #[test]
    fn a_public_access_block_switch_left_out_is_on() {
        let value = Value::from_json(serde_json::json!({ "block_public_acls": false }));
        let config = public_access_from(&value).unwrap();
        assert_eq!(config.block_public_acls(), Some(false));
        assert_eq!(config.restrict_public_buckets(), Some(true));
    }
}
