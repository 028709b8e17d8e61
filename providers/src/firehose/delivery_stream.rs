//! `aws.firehose.delivery_stream`: a Firehose delivery stream writing to S3 (Terraform's
//! `aws_kinesis_firehose_delivery_stream` with the `extended_s3` destination).
//!
//! `CreateDeliveryStream` takes the source (direct put, or a Kinesis stream with the role that
//! reads it), the destination and the tags; create then waits for `ACTIVE` and, when asked,
//! starts server-side encryption and waits for it, as terraform-provider-aws does. Firehose
//! checks the roles when it is called, so a role made in the same apply is retried while IAM
//! propagates. A destination change is one `UpdateDestination` with the whole S3 settings
//! (carrying the stream's current version id); the source and the name replace the stream.
//! Delete waits until the stream is gone. The id is the delivery stream name.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamDescription,
    DeliveryStreamEncryptionConfigurationInput, DeliveryStreamEncryptionStatus,
    DeliveryStreamStatus, DeliveryStreamType, ExtendedS3DestinationConfiguration,
    ExtendedS3DestinationUpdate, KeyType, KinesisStreamSourceConfiguration,
};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{firehose_tags, DeliveryStreamTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::s3::{as_written, Fields};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.firehose.delivery_stream";

/// Firehose's limit on a delivery stream name.
const NAME_MAX_LEN: usize = 64;

/// The one destination strata models.
const EXTENDED_S3: &str = "extended_s3";

/// Firehose's buffering defaults for S3: 5 MiB or 300 seconds, whichever comes first.
const DEFAULT_BUFFERING_SIZE: i64 = 5;
const DEFAULT_BUFFERING_INTERVAL: i64 = 300;
const DEFAULT_COMPRESSION: &str = "UNCOMPRESSED";

/// Server-side encryption's key types; a key ARN goes with a customer managed key.
const AWS_OWNED_CMK: &str = "AWS_OWNED_CMK";
const CUSTOMER_MANAGED_CMK: &str = "CUSTOMER_MANAGED_CMK";

/// How long create and update retry while Firehose cannot yet use a role made in the same
/// apply (terraform-provider-aws's `propagationTimeout` for Firehose: 2 minutes).
const ROLE_PROPAGATION_BUDGET: Duration = Duration::from_secs(120);

/// The `InvalidArgumentException` messages that mean "the role is not usable yet", which
/// terraform-provider-aws retries while IAM propagates.
const ROLE_NOT_YET_USABLE: &[&str] = &[
    "Access was denied",
    "is not authorized to",
    "Please make sure the role specified in VpcConfiguration has permissions",
    "Verify that the IAM role has access",
    "Firehose is unable to assume role",
];

/// How long a new delivery stream may stay `CREATING` (terraform-provider-aws: 30 minutes),
/// looking every 5 s.
const DELIVERY_STREAM_CREATED: Wait = Wait {
    timeout: Duration::from_secs(30 * 60),
    interval: Duration::from_secs(5),
};

/// How long a deleted delivery stream may stay `DELETING` (terraform-provider-aws: 30
/// minutes), looking every 5 s.
const DELIVERY_STREAM_DELETED: Wait = Wait {
    timeout: Duration::from_secs(30 * 60),
    interval: Duration::from_secs(5),
};

/// How long encryption may take to be `ENABLED` or `DISABLED` after it is started or stopped
/// (terraform-provider-aws: 10 minutes), looking every 5 s.
const ENCRYPTION_SETTLED: Wait = Wait {
    timeout: Duration::from_secs(10 * 60),
    interval: Duration::from_secs(5),
};

/// The fields of `extended_s3_configuration` Firehose fills in when the stack leaves them out.
fn s3_defaults() -> [(&'static str, Value); 3] {
    [
        ("buffering_size", Value::int(DEFAULT_BUFFERING_SIZE)),
        ("buffering_interval", Value::int(DEFAULT_BUFFERING_INTERVAL)),
        ("compression_format", Value::str(DEFAULT_COMPRESSION)),
    ]
}

/// The delivery stream's properties (Terraform's argument names).
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String)
                .force_new()
                .length(1, NAME_MAX_LEN),
            Prop::new("destination", Kind::String)
                .required()
                .force_new()
                .allowed(&[EXTENDED_S3]),
            Prop::new(
                "extended_s3_configuration",
                Kind::Object(vec![
                    Prop::new("role_arn", Kind::String).required().arn(&["iam"]),
                    Prop::new("bucket_arn", Kind::String)
                        .required()
                        .arn(&["s3"]),
                    Prop::new("prefix", Kind::String).length(0, 1024),
                    Prop::new("error_output_prefix", Kind::String).length(0, 1024),
                    Prop::new("buffering_size", Kind::Integer)
                        .default(DEFAULT_BUFFERING_SIZE)
                        .range(1, 128),
                    Prop::new("buffering_interval", Kind::Integer)
                        .default(DEFAULT_BUFFERING_INTERVAL)
                        .range(0, 900),
                    Prop::new("compression_format", Kind::String)
                        .default(DEFAULT_COMPRESSION)
                        .allowed(&["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"]),
                ]),
            )
            .required(),
            Prop::new(
                "kinesis_source_configuration",
                Kind::Object(vec![
                    Prop::new("kinesis_stream_arn", Kind::String)
                        .required()
                        .arn(&["kinesis"]),
                    Prop::new("role_arn", Kind::String).required().arn(&["iam"]),
                ]),
            )
            .force_new(),
            Prop::new(
                "server_side_encryption",
                Kind::Object(vec![
                    Prop::new("enabled", Kind::Bool).default(false),
                    Prop::new("key_type", Kind::String)
                        .default(AWS_OWNED_CMK)
                        .allowed(&[AWS_OWNED_CMK, CUSTOMER_MANAGED_CMK]),
                    Prop::new("key_arn", Kind::String).arn(&["kms"]),
                ]),
            )
            .resettable(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.firehose.delivery_stream`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(DeliveryStreamProvider::new(ctx)),
    about: "A Firehose delivery stream writing to S3 (the `extended_s3` destination), fed \
            directly or from a Kinesis stream; a destination change is one \
            `UpdateDestination`, and roles made in the same apply are retried while IAM \
            propagates.",
    import_id: "the delivery stream name (or its ARN)",
    attributes: &[("arn", "the delivery stream's ARN")],
    property_notes: &[
        (
            "destination",
            "only `extended_s3` (S3 with its full settings); Terraform's other destinations \
             are refused when the stack is loaded",
        ),
        (
            "extended_s3_configuration",
            "the S3 destination, changed in place with one `UpdateDestination`; `buffering_size` \
             is in MiB (1 to 128), `buffering_interval` in seconds (0 to 900); the role must \
             let Firehose write to the bucket",
        ),
        (
            "kinesis_source_configuration",
            "read from this Kinesis stream with this role instead of direct put; changing it \
             replaces the delivery stream",
        ),
        (
            "server_side_encryption",
            "encryption at rest of a direct-put stream, started and stopped in place (a stream \
             with a Kinesis source is encrypted by its source); `key_arn` with \
             `CUSTOMER_MANAGED_CMK`",
        ),
    ],
    actions: Actions {
        create: &[
            "firehose:CreateDeliveryStream",
            "firehose:DescribeDeliveryStream",
            "firehose:StartDeliveryStreamEncryption",
            "firehose:TagDeliveryStream",
            "iam:PassRole",
        ],
        read: &[
            "firehose:DescribeDeliveryStream",
            "firehose:ListTagsForDeliveryStream",
        ],
        update: &[
            "firehose:UpdateDestination",
            "firehose:DescribeDeliveryStream",
            "firehose:StartDeliveryStreamEncryption",
            "firehose:StopDeliveryStreamEncryption",
            "firehose:TagDeliveryStream",
            "firehose:UntagDeliveryStream",
            "firehose:ListTagsForDeliveryStream",
            "iam:PassRole",
        ],
        delete: &[
            "firehose:DeleteDeliveryStream",
            "firehose:DescribeDeliveryStream",
        ],
    },
    resources: &["arn:{partition}:firehose:{region}:{account}:deliverystream/{name}"],
    passes_role: &[(
        "extended_s3_configuration.role_arn",
        "firehose.amazonaws.com",
    )],
};

/// The delivery stream name of an id: the name itself, or the last part of its ARN (the id
/// Terraform imports).
fn name_of(id: &str) -> &str {
    if id.starts_with("arn:") {
        id.rsplit('/').next().unwrap_or(id)
    } else {
        id
    }
}

/// True for a refusal a role still propagating explains.
fn role_not_yet_usable(err: &ProviderError) -> bool {
    err.is_code(&["InvalidArgumentException"])
        && err
            .message()
            .is_some_and(|m| ROLE_NOT_YET_USABLE.iter().any(|text| m.contains(text)))
}

/// `extended_s3_configuration` of a request, with Firehose's defaults for what it leaves out.
struct S3Settings {
    role_arn: String,
    bucket_arn: String,
    prefix: Option<String>,
    error_output_prefix: Option<String>,
    hints: BufferingHints,
    compression: CompressionFormat,
}

impl S3Settings {
    fn of(props: &Map) -> Result<S3Settings> {
        let value = given(props, "extended_s3_configuration")
            .ok_or_else(|| ProviderError::invalid("`extended_s3_configuration` is required"))?;
        let fields = Fields::of(&value, "extended_s3_configuration");
        let size = fields
            .int("buffering_size")?
            .unwrap_or(DEFAULT_BUFFERING_SIZE as i32);
        let interval = fields
            .int("buffering_interval")?
            .unwrap_or(DEFAULT_BUFFERING_INTERVAL as i32);
        Ok(S3Settings {
            role_arn: fields.required_str("role_arn")?,
            bucket_arn: fields.required_str("bucket_arn")?,
            prefix: fields.str("prefix")?,
            error_output_prefix: fields.str("error_output_prefix")?,
            hints: BufferingHints::builder()
                .size_in_mbs(size)
                .interval_in_seconds(interval)
                .build(),
            compression: CompressionFormat::from(
                fields
                    .str("compression_format")?
                    .as_deref()
                    .unwrap_or(DEFAULT_COMPRESSION),
            ),
        })
    }

    fn configuration(self) -> Result<ExtendedS3DestinationConfiguration> {
        ExtendedS3DestinationConfiguration::builder()
            .role_arn(self.role_arn)
            .bucket_arn(self.bucket_arn)
            .set_prefix(self.prefix)
            .set_error_output_prefix(self.error_output_prefix)
            .buffering_hints(self.hints)
            .compression_format(self.compression)
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))
    }

    /// The whole settings as an update; a prefix left out is cleared (sent empty), as
    /// terraform-provider-aws sends it.
    fn update(self) -> ExtendedS3DestinationUpdate {
        ExtendedS3DestinationUpdate::builder()
            .role_arn(self.role_arn)
            .bucket_arn(self.bucket_arn)
            .prefix(self.prefix.unwrap_or_default())
            .error_output_prefix(self.error_output_prefix.unwrap_or_default())
            .buffering_hints(self.hints)
            .compression_format(self.compression)
            .build()
    }
}

/// `kinesis_source_configuration` of a request, when it has one.
fn kinesis_source(props: &Map) -> Result<Option<KinesisStreamSourceConfiguration>> {
    let Some(value) = given(props, "kinesis_source_configuration") else {
        return Ok(None);
    };
    let fields = Fields::of(&value, "kinesis_source_configuration");
    KinesisStreamSourceConfiguration::builder()
        .kinesis_stream_arn(fields.required_str("kinesis_stream_arn")?)
        .role_arn(fields.required_str("role_arn")?)
        .build()
        .map(Some)
        .map_err(|e| ProviderError::invalid(e.to_string()))
}

/// The encryption a request asks for: `None` when it is off or not given.
fn encryption(props: &Map) -> Result<Option<DeliveryStreamEncryptionConfigurationInput>> {
    let Some(value) = given(props, "server_side_encryption") else {
        return Ok(None);
    };
    let fields = Fields::of(&value, "server_side_encryption");
    if fields.bool("enabled")? != Some(true) {
        return Ok(None);
    }
    let key_type = fields
        .str("key_type")?
        .unwrap_or_else(|| AWS_OWNED_CMK.to_string());
    let key_arn = fields.str("key_arn")?;
    if key_type == CUSTOMER_MANAGED_CMK && key_arn.is_none() {
        return Err(ProviderError::invalid(
            "`server_side_encryption.key_arn` is required when `key_type` is CUSTOMER_MANAGED_CMK",
        ));
    }
    DeliveryStreamEncryptionConfigurationInput::builder()
        .key_type(KeyType::from(key_type.as_str()))
        .set_key_arn(key_arn)
        .build()
        .map(Some)
        .map_err(|e| ProviderError::invalid(e.to_string()))
}

/// A Kinesis-fed stream is encrypted by its source: Firehose refuses encryption settings on
/// it, and terraform-provider-aws makes the two arguments conflict.
fn check_source_and_encryption(props: &Map) -> Result<()> {
    if given(props, "kinesis_source_configuration").is_some() && encryption(props)?.is_some() {
        return Err(ProviderError::invalid(
            "`server_side_encryption` cannot be enabled on a delivery stream with a \
             `kinesis_source_configuration` (the Kinesis stream's own encryption applies)",
        ));
    }
    Ok(())
}

/// The delivery stream in the stack's terms; nested settings read back in the shape the
/// stack (`written`) wrote them.
fn stream_resource(out: &DeliveryStreamDescription, tags: Value, written: &Map) -> Resource {
    let name = out.delivery_stream_name();
    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(name));
    let destination = out.destinations().first();
    if let Some(s3) = destination.and_then(|d| d.extended_s3_destination_description()) {
        properties.insert("destination".into(), Value::str(EXTENDED_S3));
        let mut live = Map::from([
            ("role_arn".to_string(), Value::str(s3.role_arn())),
            ("bucket_arn".to_string(), Value::str(s3.bucket_arn())),
            (
                "compression_format".to_string(),
                Value::str(s3.compression_format().as_str()),
            ),
        ]);
        for (key, text) in [
            ("prefix", s3.prefix()),
            ("error_output_prefix", s3.error_output_prefix()),
        ] {
            if let Some(text) = text {
                live.insert(key.to_string(), Value::str(text));
            }
        }
        let hints = s3.buffering_hints();
        let size = hints.and_then(BufferingHints::size_in_mbs);
        let interval = hints.and_then(BufferingHints::interval_in_seconds);
        live.insert(
            "buffering_size".into(),
            Value::int(size.map_or(DEFAULT_BUFFERING_SIZE, i64::from)),
        );
        live.insert(
            "buffering_interval".into(),
            Value::int(interval.map_or(DEFAULT_BUFFERING_INTERVAL, i64::from)),
        );
        properties.insert(
            "extended_s3_configuration".into(),
            as_written(
                written.get("extended_s3_configuration"),
                live,
                &s3_defaults(),
            ),
        );
    } else if destination.is_some() {
        // Another destination, made by other means: shown as such, so the plan replaces it.
        properties.insert("destination".into(), Value::str("(another destination)"));
    }
    if let Some(source) = out
        .source()
        .and_then(|s| s.kinesis_stream_source_description())
    {
        properties.insert(
            "kinesis_source_configuration".into(),
            Value::Map(Map::from([
                (
                    "kinesis_stream_arn".to_string(),
                    Value::str(source.kinesis_stream_arn().unwrap_or_default()),
                ),
                (
                    "role_arn".to_string(),
                    Value::str(source.role_arn().unwrap_or_default()),
                ),
            ])),
        );
    }
    let sse = out.delivery_stream_encryption_configuration();
    let enabled = sse.and_then(|c| c.status()) == Some(&DeliveryStreamEncryptionStatus::Enabled);
    let written_sse = written
        .get("server_side_encryption")
        .filter(|v| **v != Value::Null);
    if enabled || written_sse.is_some() {
        let mut live = Map::from([
            ("enabled".to_string(), Value::Bool(enabled)),
            (
                "key_type".to_string(),
                Value::str(
                    sse.and_then(|c| c.key_type())
                        .filter(|_| enabled)
                        .map_or(AWS_OWNED_CMK, KeyType::as_str),
                ),
            ),
        ]);
        if let Some(key) = sse.and_then(|c| c.key_arn()).filter(|_| enabled) {
            live.insert("key_arn".into(), Value::str(key));
        }
        let defaults = [
            ("enabled", Value::Bool(false)),
            ("key_type", Value::str(AWS_OWNED_CMK)),
        ];
        properties.insert(
            "server_side_encryption".into(),
            as_written(written_sse, live, &defaults),
        );
    }
    properties.insert("tags".into(), tags);
    Resource {
        id: name.to_string(),
        properties,
        attributes: Map::from([("arn".to_string(), Value::str(out.delivery_stream_arn()))]),
    }
}

/// Manages Firehose delivery streams; the id is the delivery stream name.
pub struct DeliveryStreamProvider {
    schema: TypeSchema,
    firehose: aws_sdk_firehose::Client,
}

impl DeliveryStreamProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            firehose: crate::aws::sdk_client!(aws_sdk_firehose, ctx),
        }
    }

    /// The stream's description; `None` when it does not exist.
    async fn describe(&self, name: &str) -> Result<Option<DeliveryStreamDescription>> {
        let out = self
            .firehose
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
            .map_err(api_error);
        Ok(missing_is_none(out, NOT_FOUND)?.and_then(|o| o.delivery_stream_description))
    }

    /// Every tag of the stream, page by page; `None` when the stream is gone.
    async fn tags(&self, name: &str) -> Result<Option<Value>> {
        let mut all = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let out = self
                .firehose
                .list_tags_for_delivery_stream()
                .delivery_stream_name(name)
                .set_exclusive_start_tag_key(start.clone())
                .send()
                .await
                .map_err(api_error);
            let Some(out) = missing_is_none(out, NOT_FOUND)? else {
                return Ok(None);
            };
            for tag in out.tags() {
                all.push((
                    tag.key().to_string(),
                    tag.value().unwrap_or_default().to_string(),
                ));
            }
            match (out.has_more_tags(), all.last()) {
                (true, Some((last, _))) => start = Some(last.clone()),
                _ => return Ok(Some(tags_value(all))),
            }
        }
    }

    async fn find_stream(&self, name: &str, written: &Map) -> Result<Option<Resource>> {
        let Some(out) = self.describe(name).await? else {
            return Ok(None);
        };
        let Some(tags) = self.tags(name).await? else {
            return Ok(None);
        };
        Ok(Some(stream_resource(&out, tags, written)))
    }

    async fn read_existing(&self, name: &str, written: &Map) -> Result<Resource> {
        self.find_stream(name, written).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "delivery stream {name} was written but cannot be read back"
            ))
        })
    }

    /// Waits for a new stream to be `ACTIVE`, answering the description that says so;
    /// `CREATING_FAILED` is an error with Firehose's reason.
    async fn wait_created(&self, name: &str) -> Result<DeliveryStreamDescription> {
        wait_for(
            &format!("delivery stream {name} to be ACTIVE"),
            DELIVERY_STREAM_CREATED,
            || async {
                let out = self.describe(name).await?.ok_or_else(|| {
                    ProviderError::invalid(format!("delivery stream {name} disappeared"))
                })?;
                match out.delivery_stream_status() {
                    DeliveryStreamStatus::Active => Ok(Some(out)),
                    DeliveryStreamStatus::CreatingFailed => {
                        let reason = out.failure_description().map_or_else(
                            || "no reason given".to_string(),
                            |f| format!("{}: {}", f.r#type().as_str(), f.details()),
                        );
                        Err(ProviderError::invalid(format!(
                            "delivery stream {name} failed to create ({reason})"
                        )))
                    }
                    _ => Ok(None),
                }
            },
        )
        .await
    }

    /// Starts (with `config`) or stops encryption, then waits until it is `ENABLED` or
    /// `DISABLED`, answering the description that says so.
    async fn set_encryption(
        &self,
        name: &str,
        config: Option<DeliveryStreamEncryptionConfigurationInput>,
    ) -> Result<DeliveryStreamDescription> {
        let target = if let Some(config) = config {
            self.firehose
                .start_delivery_stream_encryption()
                .delivery_stream_name(name)
                .delivery_stream_encryption_configuration_input(config)
                .send()
                .await
                .map_err(api_error)?;
            DeliveryStreamEncryptionStatus::Enabled
        } else {
            self.firehose
                .stop_delivery_stream_encryption()
                .delivery_stream_name(name)
                .send()
                .await
                .map_err(api_error)?;
            DeliveryStreamEncryptionStatus::Disabled
        };
        wait_for(
            &format!(
                "encryption of delivery stream {name} to be {}",
                target.as_str()
            ),
            ENCRYPTION_SETTLED,
            || async {
                let out = self.describe(name).await?.ok_or_else(|| {
                    ProviderError::invalid(format!("delivery stream {name} disappeared"))
                })?;
                let status = out
                    .delivery_stream_encryption_configuration()
                    .and_then(|c| c.status());
                let settled = match status {
                    Some(s) => *s == target,
                    None => target == DeliveryStreamEncryptionStatus::Disabled,
                };
                Ok(settled.then_some(out))
            },
        )
        .await
    }

    /// What create does once `CreateDeliveryStream` has answered: the wait for `ACTIVE`, and
    /// for encryption where asked. Nothing is read back: the last wait's description is the
    /// stream, with the tags it was made with.
    async fn settle_new(&self, name: &str, props: &Map) -> Result<Resource> {
        let mut out = self.wait_created(name).await?;
        if let Some(config) = encryption(props)? {
            out = self.set_encryption(name, Some(config)).await?;
        }
        let tags = tags_value(tag_strings(props.get("tags"))?);
        Ok(stream_resource(&out, tags, props))
    }
}

#[async_trait]
impl Provider for DeliveryStreamProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        check_source_and_encryption(props)?;
        let source = kinesis_source(props)?;
        let kind = if source.is_some() {
            DeliveryStreamType::KinesisStreamAsSource
        } else {
            DeliveryStreamType::DirectPut
        };
        let destination = S3Settings::of(props)?.configuration()?;
        let tags = firehose_tags(tag_strings(props.get("tags"))?)?;
        let call = self
            .firehose
            .create_delivery_stream()
            .delivery_stream_name(&name)
            .delivery_stream_type(kind)
            .set_kinesis_stream_source_configuration(source)
            .extended_s3_destination_configuration(destination)
            .set_tags((!tags.is_empty()).then_some(tags));
        with_backoff(ROLE_PROPAGATION_BUDGET, role_not_yet_usable, || {
            let call = call.clone();
            async move { call.send().await.map_err(api_error) }
        })
        .await?;
        after_made(&name, self.settle_new(&name, props)).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_stream(name_of(&req.id), &req.prior_properties)
            .await
    }

    /// The S3 settings with one `UpdateDestination`, then encryption and tags.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let name = name_of(&req.id);
        let props = &req.properties;
        if let Some(prop) = req.changed.iter().find(|p| {
            !matches!(
                p.as_str(),
                "extended_s3_configuration" | "server_side_encryption" | "tags"
            )
        }) {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        let changed = |prop: &str| req.changed.iter().any(|c| c == prop);
        check_source_and_encryption(props)?;
        if changed("extended_s3_configuration") {
            let current = self.describe(name).await?.ok_or_else(|| {
                ProviderError::invalid(format!("delivery stream {name} does not exist"))
            })?;
            let destination_id = current
                .destinations()
                .first()
                .map(|d| d.destination_id().to_string())
                .ok_or_else(|| {
                    ProviderError::invalid(format!("delivery stream {name} has no destination"))
                })?;
            let call = self
                .firehose
                .update_destination()
                .delivery_stream_name(name)
                .current_delivery_stream_version_id(current.version_id())
                .destination_id(destination_id)
                .extended_s3_destination_update(S3Settings::of(props)?.update());
            with_backoff(ROLE_PROPAGATION_BUDGET, role_not_yet_usable, || {
                let call = call.clone();
                async move { call.send().await.map_err(api_error) }
            })
            .await?;
        }
        if changed("server_side_encryption") {
            self.set_encryption(name, encryption(props)?).await?;
        }
        if changed("tags") {
            let api = DeliveryStreamTags {
                client: &self.firehose,
                id: name,
            };
            reconcile(&api, &req.prior_properties, props).await?;
        }
        self.read_existing(name, props).await
    }

    /// `DeleteDeliveryStream`, then waits until it is gone; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let name = name_of(&req.id);
        let out = self
            .firehose
            .delete_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
            .map_err(api_error);
        if missing_is_none(out, NOT_FOUND)?.is_none() {
            return Ok(());
        }
        wait_for(
            &format!("delivery stream {name} to be deleted"),
            DELIVERY_STREAM_DELETED,
            || async { Ok(self.describe(name).await?.is_none().then_some(())) },
        )
        .await
    }

    /// Finds the delivery stream by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_stream(&name, &req.properties).await
    }
}

/// What the loader checks of a delivery stream's properties together (`TypeSchema::check`):
/// its S3 destination, its encryption and its source.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        S3Settings::of(props)?;
        encryption(props)?;
        check_source_and_encryption(props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_id_is_a_name_or_the_arn_terraform_imports() {
        assert_eq!(name_of("clicks"), "clicks");
        assert_eq!(
            name_of("arn:aws:firehose:us-east-1:123456789012:deliverystream/clicks"),
            "clicks"
        );
    }

    #[test]
    fn only_refusals_a_propagating_role_explains_are_retried() {
        let err = |code: &str, message: &str| ProviderError::Api {
            code: code.into(),
            message: message.into(),
        };
        assert!(role_not_yet_usable(&err(
            "InvalidArgumentException",
            "Firehose is unable to assume role arn:aws:iam::123456789012:role/x"
        )));
        assert!(!role_not_yet_usable(&err(
            "InvalidArgumentException",
            "BufferingHints.SizeInMBs must be at least 64"
        )));
        assert!(!role_not_yet_usable(&err(
            "ResourceInUseException",
            "is not authorized to"
        )));
    }

    #[test]
    fn encryption_is_refused_on_a_kinesis_fed_stream() {
        let source = Value::Map(Map::from([
            (
                "kinesis_stream_arn".to_string(),
                Value::str("arn:aws:kinesis:us-east-1:1:stream/s"),
            ),
            ("role_arn".to_string(), Value::str("arn:aws:iam::1:role/r")),
        ]));
        let sse = Value::Map(Map::from([("enabled".to_string(), Value::Bool(true))]));
        let props = Map::from([
            ("kinesis_source_configuration".to_string(), source.clone()),
            ("server_side_encryption".to_string(), sse),
        ]);
        assert!(check_source_and_encryption(&props).is_err());
        let props = Map::from([("kinesis_source_configuration".to_string(), source)]);
        assert!(check_source_and_encryption(&props).is_ok());
    }
}
