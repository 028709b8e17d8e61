//! `aws.s3.bucket_notification`: where a bucket sends its events (Lambda functions, SQS queues,
//! SNS topics).
//!
//! A bucket has one notification configuration, written whole by
//! `PutBucketNotificationConfiguration`; so the id is the bucket name, every change puts the
//! whole configuration the stack gives, and delete puts an empty one. S3 gives each
//! destination an id when none is written; such ids are left out when read back, so a stack
//! that writes none re-plans clean. S3 checks that each destination lets S3 deliver to it (the
//! queue or topic policy, the Lambda permission): declare those first, or reference them.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter, TopicConfiguration,
};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{client, on_new_bucket, strings_value, Fields, NO_SUCH_BUCKET};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{in_prior_order, required_str, set_in_prior_order};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.s3.bucket_notification";

/// The three kinds of destination, by property.
const LAMBDA: &str = "lambda_functions";
const QUEUES: &str = "queues";
const TOPICS: &str = "topics";
const DESTINATIONS: [&str; 3] = [LAMBDA, QUEUES, TOPICS];

fn destination_list() -> Kind {
    Kind::List(Box::new(Kind::Object(vec![
        Prop::new("arn", Kind::String)
            .arn(&["sqs", "sns", "lambda"])
            .required(),
        Prop::new("events", Kind::List(Box::new(Kind::String))).required(),
        Prop::new("filter_prefix", Kind::String),
        Prop::new("filter_suffix", Kind::String),
        Prop::new("id", Kind::String),
    ])))
}

/// The properties (`bucket`* R and the three destination lists) and the attribute `id`.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("bucket", Kind::String).required().force_new(),
            Prop::new(LAMBDA, destination_list()).resettable(),
            Prop::new(QUEUES, destination_list()).resettable(),
            Prop::new(TOPICS, destination_list()).resettable(),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.s3.bucket_notification`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(BucketNotificationProvider::new(ctx)),
    about: "Where a bucket sends its events: Lambda functions, SQS queues and SNS topics, \
            written whole as the bucket's notification configuration; delete empties it.",
    import_id: "the bucket name",
    attributes: &[("id", "the bucket name")],
    property_notes: &[
        (
            "lambda_functions",
            "each `{arn, events, filter_prefix, filter_suffix, id}`; the function needs an \
             `aws.lambda.permission` for `s3.amazonaws.com`",
        ),
        (
            "queues",
            "each `{arn, events, filter_prefix, filter_suffix, id}`; the queue policy must let \
             `s3.amazonaws.com` send",
        ),
        (
            "topics",
            "each `{arn, events, filter_prefix, filter_suffix, id}`; the topic policy must let \
             `s3.amazonaws.com` publish",
        ),
    ],
    actions: Actions {
        create: &["s3:PutBucketNotification", "s3:GetBucketNotification"],
        read: &["s3:GetBucketNotification"],
        update: &["s3:PutBucketNotification", "s3:GetBucketNotification"],
        delete: &["s3:PutBucketNotification"],
    },
    resources: &["arn:{partition}:s3:::{bucket}"],
    passes_role: &[],
};

/// One destination, whatever its kind.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    arn: String,
    events: Vec<String>,
    prefix: Option<String>,
    suffix: Option<String>,
    id: Option<String>,
}

impl Target {
    fn from_value(value: &Value, prop: &str) -> Result<Target> {
        let fields = Fields::of(value, prop);
        Ok(Target {
            arn: fields.required_str("arn")?,
            events: fields.strings("events")?.unwrap_or_default(),
            prefix: fields.str("filter_prefix")?,
            suffix: fields.str("filter_suffix")?,
            id: fields.str("id")?,
        })
    }

    /// True when the live `other` is what this (as the stack wrote it) asked for: S3 keeps
    /// events as a set and may have added an id.
    fn asked_for(&self, other: &Target) -> bool {
        let sorted = |events: &[String]| {
            let mut events = events.to_vec();
            events.sort();
            events.dedup();
            events
        };
        self.arn == other.arn
            && sorted(&self.events) == sorted(&other.events)
            && self.prefix == other.prefix
            && self.suffix == other.suffix
            && (self.id.is_none() || self.id == other.id)
    }

    /// The live target in the stack's terms, shaped like `written` (what the stack asked for
    /// it): events in the stack's order, and S3's id only when the stack wrote one. A target
    /// nobody wrote keeps S3's id, and so shows up as a change.
    fn to_value(&self, written: Option<&Target>, unknown_ids: bool) -> Value {
        let mut fields = Map::from([("arn".to_string(), Value::str(&self.arn))]);
        let prior_events = written.map(|w| strings_value(&w.events));
        fields.insert(
            "events".into(),
            set_in_prior_order(prior_events.as_ref(), self.events.clone()),
        );
        if let Some(prefix) = &self.prefix {
            fields.insert("filter_prefix".into(), Value::str(prefix));
        }
        if let Some(suffix) = &self.suffix {
            fields.insert("filter_suffix".into(), Value::str(suffix));
        }
        if let Some(id) = &self.id {
            let wrote_id = match written {
                Some(w) => w.id.is_some(),
                None => !unknown_ids,
            };
            if wrote_id {
                fields.insert("id".into(), Value::str(id));
            }
        }
        Value::Map(fields)
    }

    fn filter(&self) -> Option<NotificationConfigurationFilter> {
        let rules: Vec<FilterRule> = [
            (FilterRuleName::Prefix, &self.prefix),
            (FilterRuleName::Suffix, &self.suffix),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value
                .as_ref()
                .map(|v| FilterRule::builder().name(name).value(v).build())
        })
        .collect();
        (!rules.is_empty()).then(|| {
            NotificationConfigurationFilter::builder()
                .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                .build()
        })
    }

    fn events(&self) -> Vec<Event> {
        self.events
            .iter()
            .map(|e| Event::from(e.as_str()))
            .collect()
    }

    /// A target read from S3's configuration of any kind.
    fn from_sdk(
        arn: &str,
        events: &[Event],
        filter: Option<&NotificationConfigurationFilter>,
        id: Option<&str>,
    ) -> Target {
        let rule = |name: FilterRuleName| {
            filter
                .and_then(|f| f.key())
                .map(|k| k.filter_rules())
                .unwrap_or_default()
                .iter()
                .find(|r| {
                    r.name()
                        .is_some_and(|n| n.as_str().eq_ignore_ascii_case(name.as_str()))
                })
                .and_then(|r| r.value())
                .map(str::to_string)
        };
        Target {
            arn: arn.to_string(),
            events: events.iter().map(|e| e.as_str().to_string()).collect(),
            prefix: rule(FilterRuleName::Prefix),
            suffix: rule(FilterRuleName::Suffix),
            id: id.map(str::to_string),
        }
    }
}

/// The destinations of one kind the stack gives.
fn targets(props: &Map, prop: &str) -> Result<Vec<Target>> {
    match props.get(prop).map(Value::unmarked) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .map(|item| Target::from_value(item, prop))
            .collect(),
        Some(other) => Err(ProviderError::invalid(format!(
            "`{prop}` must be a list, not {}",
            other.kind_name()
        ))),
    }
}

/// The live destinations of one kind, in the stack's order and shape (`written`: what the
/// stack last applied). When that is not known (an import whose destinations reference
/// resources), ids cannot be told from those S3 made up, and are left out.
fn targets_value(live: Vec<Target>, written: Option<&[Target]>) -> Value {
    let unknown_ids = written.is_none();
    let written = written.unwrap_or_default();
    let mut used = vec![false; written.len()];
    let items: Vec<(Option<usize>, Value)> = live
        .iter()
        .map(|target| {
            let at = (0..written.len()).find(|i| !used[*i] && written[*i].asked_for(target));
            if let Some(i) = at {
                used[i] = true;
            }
            (at, target.to_value(at.map(|i| &written[i]), unknown_ids))
        })
        .collect();
    Value::List(
        in_prior_order(0..written.len(), items, |(at, _)| *at)
            .into_iter()
            .map(|(_, value)| value)
            .collect(),
    )
}

/// The notification configuration the stack gives, as S3 takes it.
fn configuration(props: &Map) -> Result<NotificationConfiguration> {
    let build =
        |e: aws_smithy_types::error::operation::BuildError| ProviderError::invalid(e.to_string());
    let lambdas = targets(props, LAMBDA)?
        .iter()
        .map(|t| {
            LambdaFunctionConfiguration::builder()
                .lambda_function_arn(&t.arn)
                .set_events(Some(t.events()))
                .set_filter(t.filter())
                .set_id(t.id.clone())
                .build()
                .map_err(build)
        })
        .collect::<Result<Vec<_>>>()?;
    let queues = targets(props, QUEUES)?
        .iter()
        .map(|t| {
            QueueConfiguration::builder()
                .queue_arn(&t.arn)
                .set_events(Some(t.events()))
                .set_filter(t.filter())
                .set_id(t.id.clone())
                .build()
                .map_err(build)
        })
        .collect::<Result<Vec<_>>>()?;
    let topics = targets(props, TOPICS)?
        .iter()
        .map(|t| {
            TopicConfiguration::builder()
                .topic_arn(&t.arn)
                .set_events(Some(t.events()))
                .set_filter(t.filter())
                .set_id(t.id.clone())
                .build()
                .map_err(build)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(NotificationConfiguration::builder()
        .set_lambda_function_configurations(Some(lambdas))
        .set_queue_configurations(Some(queues))
        .set_topic_configurations(Some(topics))
        .build())
}

/// Manages a bucket's notification configuration; the id is the bucket name.
pub struct BucketNotificationProvider {
    schema: TypeSchema,
    s3: aws_sdk_s3::Client,
}

impl BucketNotificationProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            s3: client(ctx),
        }
    }

    /// The configuration of `bucket` in the stack's terms (`written`: what it last applied), or
    /// `None` when the bucket is gone.
    async fn find_notification(&self, bucket: &str, written: &Map) -> Result<Option<Resource>> {
        let out = self
            .s3
            .get_bucket_notification_configuration()
            .bucket(bucket)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NO_SUCH_BUCKET)? else {
            return Ok(None);
        };
        let live: [(&str, Vec<Target>); 3] = [
            (
                LAMBDA,
                out.lambda_function_configurations()
                    .iter()
                    .map(|c| {
                        Target::from_sdk(c.lambda_function_arn(), c.events(), c.filter(), c.id())
                    })
                    .collect(),
            ),
            (
                QUEUES,
                out.queue_configurations()
                    .iter()
                    .map(|c| Target::from_sdk(c.queue_arn(), c.events(), c.filter(), c.id()))
                    .collect(),
            ),
            (
                TOPICS,
                out.topic_configurations()
                    .iter()
                    .map(|c| Target::from_sdk(c.topic_arn(), c.events(), c.filter(), c.id()))
                    .collect(),
            ),
        ];
        let mut properties = Map::from([("bucket".to_string(), Value::str(bucket))]);
        for (prop, targets_live) in live {
            let prior = written
                .contains_key(prop)
                .then(|| targets(written, prop).unwrap_or_default());
            if !targets_live.is_empty() || prior.is_some() {
                properties.insert(
                    prop.to_string(),
                    targets_value(targets_live, prior.as_deref()),
                );
            }
        }
        Ok(Some(Resource {
            id: bucket.to_string(),
            properties,
            attributes: Map::from([("id".to_string(), Value::str(bucket))]),
        }))
    }

    async fn put(&self, bucket: &str, config: NotificationConfiguration) -> Result<()> {
        on_new_bucket(|| async {
            self.s3
                .put_bucket_notification_configuration()
                .bucket(bucket)
                .notification_configuration(config.clone())
                .send()
                .await
                .map_err(api_error)
        })
        .await?;
        Ok(())
    }

    async fn read_written(&self, bucket: &str, written: &Map) -> Result<Resource> {
        self.find_notification(bucket, written)
            .await?
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "the notifications of bucket {bucket} were written but the bucket is gone"
                ))
            })
    }
}

#[async_trait]
impl Provider for BucketNotificationProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let bucket = required_str(&req.properties, "bucket")?;
        self.put(&bucket, configuration(&req.properties)?).await?;
        self.read_written(&bucket, &req.properties).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_notification(&req.id, &req.prior_properties).await
    }

    /// Puts the whole configuration the stack gives (a kind taken out is emptied).
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.iter().find(|p| *p == "bucket") {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        self.put(&req.id, configuration(&req.properties)?).await?;
        self.read_written(&req.id, &req.properties).await
    }

    /// Puts an empty configuration; a bucket already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .s3
            .put_bucket_notification_configuration()
            .bucket(&req.id)
            .notification_configuration(NotificationConfiguration::builder().build())
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NO_SUCH_BUCKET).map(|_| ())
    }

    /// The bucket's configuration when it sends any events (an empty one was never made).
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let bucket = required_str(&req.properties, "bucket")?;
        let found = self.find_notification(&bucket, &req.properties).await?;
        Ok(found.filter(|r| {
            DESTINATIONS.iter().any(|prop| {
                r.properties
                    .get(*prop)
                    .and_then(Value::as_list)
                    .is_some_and(|l| !l.is_empty())
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(events: &[&str], id: Option<&str>) -> Target {
        Target {
            arn: "arn:aws:sqs:us-east-1:1:q".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            prefix: Some("in/".into()),
            suffix: None,
            id: id.map(str::to_string),
        }
    }

    #[test]
    fn an_id_s3_made_up_is_left_out_and_events_keep_the_stacks_order() {
        let written = [target(&["s3:ObjectRemoved:*", "s3:ObjectCreated:*"], None)];
        let live = vec![target(
            &["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
            Some("NzQ2"),
        )];
        let value = targets_value(live, Some(&written));
        assert_eq!(
            value,
            Value::List(vec![written[0].to_value(Some(&written[0]), false)])
        );
    }

    #[test]
    fn a_destination_nobody_wrote_reads_back_with_its_id() {
        let live = vec![target(&["s3:ObjectCreated:*"], Some("NzQ2"))];
        let value = targets_value(live.clone(), Some(&[]));
        let item = &value.as_list().unwrap()[0];
        assert_eq!(item.as_map().unwrap()["id"], Value::str("NzQ2"));
        // Imported with destinations the stack gives through references: ids left out.
        let value = targets_value(live, None);
        let item = &value.as_list().unwrap()[0];
        assert!(!item.as_map().unwrap().contains_key("id"), "{item}");
    }
}
