//! `aws.kinesis.stream`: a Kinesis data stream.
//!
//! Each setting has its own call, and Kinesis takes one change at a time: create makes the
//! stream (`CreateStream`), waits for it to be `ACTIVE`, then sets the retention period, the
//! shard-level metrics, encryption and tags one after another, waiting for `ACTIVE` after each;
//! update does the same for the settings that changed, in terraform-provider-aws's order
//! (capacity mode, shard count, retention, metrics, encryption). Delete waits until the stream
//! is gone, so a consumer or a delivery stream deleted after it never meets a dying stream.
//! The id is the stream name, the id Terraform imports.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kinesis::types::{
    EncryptionType, MetricsName, ScalingType, StreamDescriptionSummary, StreamMode,
    StreamModeDetails, StreamStatus,
};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{StreamTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str, set_in_prior_order};
use crate::retry::{wait_for, Wait};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.kinesis.stream";

/// Kinesis's limit on a stream name.
const NAME_MAX_LEN: usize = 128;

/// The retention period a new stream has, in hours (AWS's default and minimum).
const DEFAULT_RETENTION_HOURS: i64 = 24;

/// AWS's longest retention period, in hours (365 days).
const MAX_RETENTION_HOURS: i64 = 8760;

/// The most shards `CreateStream` and `UpdateShardCount` accept for one stream.
const MAX_SHARDS: i64 = 100_000;

const PROVISIONED: &str = "PROVISIONED";
const ON_DEMAND: &str = "ON_DEMAND";
const NO_ENCRYPTION: &str = "NONE";
const KMS: &str = "KMS";

/// How long a new stream may stay `CREATING`, looking every 3 s (terraform-provider-aws's
/// create timeout; its poll starts at 3 s).
const STREAM_CREATED: Wait = Wait {
    timeout: Duration::from_secs(5 * 60),
    interval: Duration::from_secs(3),
};

/// How long a stream may stay `UPDATING` after one change (resharding a large stream takes
/// long: terraform-provider-aws allows 120 minutes), looking every 3 s.
const STREAM_UPDATED: Wait = Wait {
    timeout: Duration::from_secs(120 * 60),
    interval: Duration::from_secs(3),
};

/// How long a deleted stream may stay `DELETING` (terraform-provider-aws: 120 minutes),
/// looking every 3 s.
const STREAM_DELETED: Wait = Wait {
    timeout: Duration::from_secs(120 * 60),
    interval: Duration::from_secs(3),
};

/// The stream's properties (Terraform's `aws_kinesis_stream` arguments).
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String)
                .force_new()
                .length(1, NAME_MAX_LEN),
            Prop::new("shard_count", Kind::Integer).range(1, MAX_SHARDS),
            Prop::new("retention_period", Kind::Integer)
                .default(DEFAULT_RETENTION_HOURS)
                .range(DEFAULT_RETENTION_HOURS, MAX_RETENTION_HOURS),
            Prop::new(
                "stream_mode_details",
                Kind::Object(vec![Prop::new("stream_mode", Kind::String)
                    .required()
                    .allowed(&[PROVISIONED, ON_DEMAND])]),
            ),
            Prop::new("encryption_type", Kind::String)
                .default(NO_ENCRYPTION)
                .allowed(&[NO_ENCRYPTION, KMS]),
            Prop::new("kms_key_id", Kind::String)
                .length(1, 2048)
                .requires(&["encryption_type"]),
            Prop::new("shard_level_metrics", Kind::List(Box::new(Kind::String))).resettable(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.kinesis.stream`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(StreamProvider::new(ctx)),
    about:
        "A Kinesis data stream, provisioned or on-demand; each setting changes in place with \
            its own call, and create, update and delete wait for the stream to be `ACTIVE` or gone.",
    import_id: "the stream name",
    attributes: &[
        (
            "arn",
            "the stream's ARN (what consumers and delivery streams name)",
        ),
        ("name", "the stream name"),
    ],
    property_notes: &[
        (
            "shard_count",
            "required for a provisioned stream, refused for an on-demand one; a change \
             reshards with `UpdateShardCount` (uniform scaling)",
        ),
        (
            "retention_period",
            "hours, 24 to 8760; raised or lowered in place",
        ),
        (
            "stream_mode_details",
            "`{stream_mode: PROVISIONED | ON_DEMAND}`; left out, the stream is provisioned and a \
             mode set by other means is kept",
        ),
        (
            "kms_key_id",
            "the KMS key (id, ARN or alias) when `encryption_type` is `KMS`",
        ),
        (
            "shard_level_metrics",
            "enhanced monitoring metrics (`IncomingBytes`, ..., or `ALL`)",
        ),
    ],
    actions: Actions {
        create: &[
            "kinesis:CreateStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:IncreaseStreamRetentionPeriod",
            "kinesis:EnableEnhancedMonitoring",
            "kinesis:StartStreamEncryption",
            "kinesis:AddTagsToStream",
        ],
        read: &["kinesis:DescribeStreamSummary", "kinesis:ListTagsForStream"],
        update: &[
            "kinesis:UpdateStreamMode",
            "kinesis:UpdateShardCount",
            "kinesis:IncreaseStreamRetentionPeriod",
            "kinesis:DecreaseStreamRetentionPeriod",
            "kinesis:EnableEnhancedMonitoring",
            "kinesis:DisableEnhancedMonitoring",
            "kinesis:StartStreamEncryption",
            "kinesis:StopStreamEncryption",
            "kinesis:AddTagsToStream",
            "kinesis:RemoveTagsFromStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:ListTagsForStream",
        ],
        delete: &["kinesis:DeleteStream", "kinesis:DescribeStreamSummary"],
    },
    resources: &["arn:{partition}:kinesis:{region}:{account}:stream/{name}"],
    passes_role: &[],
};

/// The capacity mode the request asks for: `stream_mode_details.stream_mode`, else provisioned.
fn stream_mode(props: &Map) -> String {
    given(props, "stream_mode_details")
        .and_then(|v| {
            v.as_map()
                .and_then(|m| m.get("stream_mode"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| PROVISIONED.to_string())
}

/// The key of a KMS-encrypted stream, which Kinesis needs.
fn kms_key_id(props: &Map) -> Result<String> {
    given(props, "kms_key_id")
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| {
            ProviderError::invalid("`kms_key_id` is required when `encryption_type` is KMS")
        })
}

/// A provisioned stream needs a shard count and an on-demand stream refuses one, as
/// terraform-provider-aws checks before any call.
fn check_capacity(props: &Map) -> Result<Option<i32>> {
    let mode = stream_mode(props);
    let shards = given(props, "shard_count").and_then(|v| v.as_i64());
    match (mode.as_str(), shards) {
        (ON_DEMAND, Some(_)) => Err(ProviderError::invalid(
            "`shard_count` must not be set when `stream_mode_details.stream_mode` is ON_DEMAND",
        )),
        (ON_DEMAND, None) => Ok(None),
        (_, None) => Err(ProviderError::invalid(
            "`shard_count` is required for a provisioned stream (or set \
             `stream_mode_details: { stream_mode: ON_DEMAND }`)",
        )),
        (_, Some(n)) => i32::try_from(n)
            .map(Some)
            .map_err(|_| ProviderError::invalid(format!("`shard_count` {n} is out of range"))),
    }
}

/// The metric names of a `shard_level_metrics` value.
fn metric_names(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn metrics(names: impl IntoIterator<Item = String>) -> Vec<MetricsName> {
    names
        .into_iter()
        .map(|n| MetricsName::from(n.as_str()))
        .collect()
}

/// The stream in the stack's terms, with `tags` as listed.
fn stream_resource(summary: &StreamDescriptionSummary, tags: Value, prior: &Map) -> Resource {
    let name = summary.stream_name();
    let mode = summary
        .stream_mode_details()
        .map_or(PROVISIONED, |d| d.stream_mode().as_str());
    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(name));
    if mode == PROVISIONED {
        properties.insert(
            "shard_count".into(),
            Value::int(i64::from(summary.open_shard_count())),
        );
    }
    properties.insert(
        "retention_period".into(),
        Value::int(i64::from(summary.retention_period_hours())),
    );
    properties.insert(
        "stream_mode_details".into(),
        Value::Map(Map::from([("stream_mode".to_string(), Value::str(mode))])),
    );
    properties.insert(
        "encryption_type".into(),
        Value::str(
            summary
                .encryption_type()
                .map_or(NO_ENCRYPTION, EncryptionType::as_str),
        ),
    );
    if let Some(key) = summary.key_id().filter(|k| !k.is_empty()) {
        properties.insert("kms_key_id".into(), Value::str(key));
    }
    let live = summary
        .enhanced_monitoring()
        .iter()
        .flat_map(|m| m.shard_level_metrics())
        .map(|m| m.as_str().to_string());
    properties.insert(
        "shard_level_metrics".into(),
        set_in_prior_order(prior.get("shard_level_metrics"), live),
    );
    properties.insert("tags".into(), tags);
    Resource {
        id: name.to_string(),
        properties,
        attributes: Map::from([
            ("arn".to_string(), Value::str(summary.stream_arn())),
            ("name".to_string(), Value::str(name)),
        ]),
    }
}

/// Manages Kinesis streams; the id is the stream name.
pub struct StreamProvider {
    schema: TypeSchema,
    kinesis: aws_sdk_kinesis::Client,
}

impl StreamProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            kinesis: crate::aws::sdk_client!(aws_sdk_kinesis, ctx),
        }
    }

    /// The stream's summary; `None` when it does not exist.
    async fn summary(&self, name: &str) -> Result<Option<StreamDescriptionSummary>> {
        let out = self
            .kinesis
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .map_err(api_error);
        Ok(missing_is_none(out, NOT_FOUND)?.and_then(|o| o.stream_description_summary))
    }

    /// Every tag of the stream, page by page; `None` when the stream is gone.
    async fn tags(&self, name: &str) -> Result<Option<Value>> {
        let mut all = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let out = self
                .kinesis
                .list_tags_for_stream()
                .stream_name(name)
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

    /// The stream in the stack's terms, or `None` when it does not exist.
    async fn find_stream(&self, name: &str, prior: &Map) -> Result<Option<Resource>> {
        let Some(summary) = self.summary(name).await? else {
            return Ok(None);
        };
        let Some(tags) = self.tags(name).await? else {
            return Ok(None);
        };
        Ok(Some(stream_resource(&summary, tags, prior)))
    }

    /// Waits until the stream is `ACTIVE` (from `CREATING` or `UPDATING`); answers the summary
    /// that says so.
    async fn wait_active(
        &self,
        name: &str,
        budget: Wait,
        doing: &str,
    ) -> Result<StreamDescriptionSummary> {
        wait_for(
            &format!("Kinesis stream {name} to be ACTIVE after {doing}"),
            budget,
            || async {
                let summary = self.summary(name).await?.ok_or_else(|| {
                    ProviderError::invalid(format!("Kinesis stream {name} disappeared"))
                })?;
                Ok((*summary.stream_status() == StreamStatus::Active).then_some(summary))
            },
        )
        .await
    }

    /// Sets the retention period from `prior` hours to `hours`, raising or lowering it; answers
    /// the summary once the stream is `ACTIVE` again (none when nothing changed).
    async fn set_retention(
        &self,
        name: &str,
        prior: i64,
        hours: i64,
    ) -> Result<Option<StreamDescriptionSummary>> {
        let hours = i32::try_from(hours).map_err(|_| {
            ProviderError::invalid(format!("`retention_period` {hours} is out of range"))
        })?;
        if i64::from(hours) > prior {
            self.kinesis
                .increase_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(hours)
                .send()
                .await
                .map_err(api_error)?;
        } else if i64::from(hours) < prior {
            self.kinesis
                .decrease_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(hours)
                .send()
                .await
                .map_err(api_error)?;
        } else {
            return Ok(None);
        }
        self.wait_active(name, STREAM_UPDATED, "changing its retention period")
            .await
            .map(Some)
    }

    /// Brings enhanced monitoring from the metrics in `prior` to those in `desired`; answers the
    /// summary once the stream is `ACTIVE` again (none when nothing changed).
    async fn set_metrics(
        &self,
        name: &str,
        prior: &BTreeSet<String>,
        desired: &BTreeSet<String>,
    ) -> Result<Option<StreamDescriptionSummary>> {
        let mut settled = None;
        let removed: Vec<String> = prior.difference(desired).cloned().collect();
        if !removed.is_empty() {
            self.kinesis
                .disable_enhanced_monitoring()
                .stream_name(name)
                .set_shard_level_metrics(Some(metrics(removed)))
                .send()
                .await
                .map_err(api_error)?;
            settled = Some(
                self.wait_active(name, STREAM_UPDATED, "disabling shard-level metrics")
                    .await?,
            );
        }
        let added: Vec<String> = desired.difference(prior).cloned().collect();
        if !added.is_empty() {
            self.kinesis
                .enable_enhanced_monitoring()
                .stream_name(name)
                .set_shard_level_metrics(Some(metrics(added)))
                .send()
                .await
                .map_err(api_error)?;
            settled = Some(
                self.wait_active(name, STREAM_UPDATED, "enabling shard-level metrics")
                    .await?,
            );
        }
        Ok(settled)
    }

    /// Starts KMS encryption with the request's key, or stops the encryption `prior` had;
    /// answers the summary once the stream is `ACTIVE` again (none when nothing changed).
    async fn set_encryption(
        &self,
        name: &str,
        prior: &Map,
        props: &Map,
    ) -> Result<Option<StreamDescriptionSummary>> {
        let kind = desired(&self.schema, props, "encryption_type")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| NO_ENCRYPTION.to_string());
        if kind == KMS {
            let key = kms_key_id(props)?;
            self.kinesis
                .start_stream_encryption()
                .stream_name(name)
                .encryption_type(EncryptionType::Kms)
                .key_id(key)
                .send()
                .await
                .map_err(api_error)?;
            return self
                .wait_active(name, STREAM_UPDATED, "starting encryption")
                .await
                .map(Some);
        }
        let prior_key = given(prior, "kms_key_id").and_then(|v| v.as_str().map(str::to_string));
        let Some(prior_key) = prior_key else {
            return Ok(None);
        };
        self.kinesis
            .stop_stream_encryption()
            .stream_name(name)
            .encryption_type(EncryptionType::Kms)
            .key_id(prior_key)
            .send()
            .await
            .map_err(api_error)?;
        self.wait_active(name, STREAM_UPDATED, "stopping encryption")
            .await
            .map(Some)
    }

    /// Reads a stream that must exist (it was just created or changed).
    async fn read_existing(&self, name: &str, prior: &Map) -> Result<Resource> {
        self.find_stream(name, prior).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "Kinesis stream {name} was written but cannot be read back"
            ))
        })
    }

    /// What create does once `CreateStream` has answered: wait, then each setting in turn,
    /// each waited for. Nothing is read back: the summary of the last wait is the stream with
    /// every setting, and the tags are those just added.
    async fn settle_new(&self, name: &str, props: &Map) -> Result<Resource> {
        let mut summary = self
            .wait_active(name, STREAM_CREATED, "creating it")
            .await?;
        if let Some(hours) =
            desired(&self.schema, props, "retention_period").and_then(|v| v.as_i64())
        {
            if let Some(settled) = self
                .set_retention(name, DEFAULT_RETENTION_HOURS, hours)
                .await?
            {
                summary = settled;
            }
        }
        let wanted = metric_names(props.get("shard_level_metrics"));
        if let Some(settled) = self.set_metrics(name, &BTreeSet::new(), &wanted).await? {
            summary = settled;
        }
        if let Some(settled) = self.set_encryption(name, &Map::new(), props).await? {
            summary = settled;
        }
        let api = StreamTags {
            client: &self.kinesis,
            id: name,
        };
        reconcile(&api, &Map::new(), props).await?;
        let tags = tags_value(tag_strings(props.get("tags"))?);
        Ok(stream_resource(&summary, tags, props))
    }
}

#[async_trait]
impl Provider for StreamProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// `CreateStream` with the name, capacity mode and shard count; the other settings follow
    /// once the stream is `ACTIVE`. Tags are added with `AddTagsToStream` after the create, as
    /// terraform-provider-aws did before `CreateStream` took tags.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let shards = check_capacity(props)?;
        let mode = given(props, "stream_mode_details")
            .map(|_| {
                StreamModeDetails::builder()
                    .stream_mode(StreamMode::from(stream_mode(props).as_str()))
                    .build()
                    .map_err(|e| ProviderError::invalid(e.to_string()))
            })
            .transpose()?;
        self.kinesis
            .create_stream()
            .stream_name(&name)
            .set_shard_count(shards)
            .set_stream_mode_details(mode)
            .send()
            .await
            .map_err(api_error)?;
        after_made(&name, self.settle_new(&name, props)).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_stream(&req.id, &req.prior_properties).await
    }

    /// Each changed setting with its own call, waiting for `ACTIVE` after each.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let name = &req.id;
        let props = &req.properties;
        let prior = &req.prior_properties;
        let changed = |prop: &str| req.changed.iter().any(|c| c == prop);
        if let Some(prop) = req.changed.iter().find(|p| {
            !matches!(
                p.as_str(),
                "shard_count"
                    | "retention_period"
                    | "stream_mode_details"
                    | "encryption_type"
                    | "kms_key_id"
                    | "shard_level_metrics"
                    | "tags"
            )
        }) {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        let shards = check_capacity(props)?;
        if changed("stream_mode_details") && stream_mode(props) != stream_mode(prior) {
            let arn = req
                .prior_attributes
                .get("arn")
                .and_then(Value::as_str)
                .ok_or_else(|| ProviderError::invalid(format!("no ARN recorded for {name}")))?;
            let details = StreamModeDetails::builder()
                .stream_mode(StreamMode::from(stream_mode(props).as_str()))
                .build()
                .map_err(|e| ProviderError::invalid(e.to_string()))?;
            self.kinesis
                .update_stream_mode()
                .stream_arn(arn)
                .stream_mode_details(details)
                .send()
                .await
                .map_err(api_error)?;
            self.wait_active(name, STREAM_UPDATED, "changing its capacity mode")
                .await?;
        }
        if let Some(target) = shards.filter(|_| changed("shard_count")) {
            self.kinesis
                .update_shard_count()
                .stream_name(name)
                .target_shard_count(target)
                .scaling_type(ScalingType::UniformScaling)
                .send()
                .await
                .map_err(api_error)?;
            self.wait_active(name, STREAM_UPDATED, "resharding").await?;
        }
        if changed("retention_period") {
            let before = given(prior, "retention_period")
                .and_then(|v| v.as_i64())
                .unwrap_or(DEFAULT_RETENTION_HOURS);
            let after = desired(&self.schema, props, "retention_period")
                .and_then(|v| v.as_i64())
                .unwrap_or(DEFAULT_RETENTION_HOURS);
            self.set_retention(name, before, after).await?;
        }
        if changed("shard_level_metrics") {
            self.set_metrics(
                name,
                &metric_names(prior.get("shard_level_metrics")),
                &metric_names(props.get("shard_level_metrics")),
            )
            .await?;
        }
        if changed("encryption_type") || changed("kms_key_id") {
            self.set_encryption(name, prior, props).await?;
        }
        if changed("tags") {
            let api = StreamTags {
                client: &self.kinesis,
                id: name,
            };
            reconcile(&api, prior, props).await?;
        }
        self.read_existing(name, props).await
    }

    /// `DeleteStream`, then waits until the stream is gone; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .kinesis
            .delete_stream()
            .stream_name(&req.id)
            .send()
            .await
            .map_err(api_error);
        if missing_is_none(out, NOT_FOUND)?.is_none() {
            return Ok(());
        }
        wait_for(
            &format!("Kinesis stream {} to be deleted", req.id),
            STREAM_DELETED,
            || async { Ok(self.summary(&req.id).await?.is_none().then_some(())) },
        )
        .await
    }

    /// Finds the stream by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_stream(&name, &req.properties).await
    }
}

/// What the loader checks of a stream's properties together (`TypeSchema::check`): its
/// capacity for its mode, and a key for KMS encryption.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        check_capacity(props)?;
        let encryption = desired(&schema(), props, "encryption_type");
        if encryption.as_ref().and_then(Value::as_str) == Some(KMS) {
            kms_key_id(props)?;
        }
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(mode: Option<&str>, shards: Option<i64>) -> Map {
        let mut props = Map::new();
        if let Some(mode) = mode {
            props.insert(
                "stream_mode_details".into(),
                Value::Map(Map::from([("stream_mode".to_string(), Value::str(mode))])),
            );
        }
        if let Some(n) = shards {
            props.insert("shard_count".into(), Value::int(n));
        }
        props
    }

    #[test]
    fn a_provisioned_stream_needs_shards_and_an_on_demand_one_refuses_them() {
        assert_eq!(check_capacity(&props(None, Some(2))).unwrap(), Some(2));
        assert!(check_capacity(&props(None, None)).is_err());
        assert!(check_capacity(&props(Some(PROVISIONED), None)).is_err());
        assert_eq!(check_capacity(&props(Some(ON_DEMAND), None)).unwrap(), None);
        let err = check_capacity(&props(Some(ON_DEMAND), Some(1))).unwrap_err();
        assert!(err.to_string().contains("ON_DEMAND"), "{err}");
    }
}
