//! `aws.sqs.queue`: a standard or FIFO SQS queue.
//!
//! Every setting of a queue is a queue attribute, which SQS reads and writes as strings. Create
//! sends them all, and the tags, in `CreateQueue`, one request, and reads nothing back (the
//! ARN follows from the URL it returns); update sends only the changed ones in one
//! `SetQueueAttributes`; read turns the strings back into the schema's kinds (`"30"` into 30,
//! `"true"` into true, JSON documents into mappings), so that a second plan is empty.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::QueueTags;
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, document_json};
use crate::props::{desired, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.sqs.queue";

/// SQS's limit on a queue name, `.fifo` included.
const NAME_MAX_LEN: usize = 80;

/// How SQS says a queue does not exist. The SDK reports the query-protocol code (from the
/// `x-amzn-query-error` header) when SQS sends it, else the JSON protocol's error shape.
pub(crate) const QUEUE_NOT_FOUND: &[&str] = &[
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
];

/// How SQS refuses a name whose queue was deleted less than 60 s ago (the emulator never does).
const QUEUE_DELETED_RECENTLY: &[&str] = &[
    "AWS.SimpleQueueService.QueueDeletedRecently",
    "QueueDeletedRecently",
];

/// How long create keeps retrying a name that SQS still holds for a deleted queue: AWS
/// documents 60 s, and replacing a queue (destroy, then create with the same name) hits it.
const QUEUE_DELETED_RECENTLY_BUDGET: Duration = Duration::from_secs(70);

/// How long a new queue may take to answer `GetQueueAttributes` (SQS is eventually
/// consistent), looking every second.
const QUEUE_READABLE: Wait = Wait {
    timeout: Duration::from_secs(30),
    interval: Duration::from_secs(1),
};

/// AWS's default `MaximumMessageSize`: 1 MiB since August 2025 (it was 256 KiB before; the
/// emulator agrees with today's value).
const DEFAULT_MAX_MESSAGE_SIZE: i64 = 1_048_576;

/// The queue's properties, with AWS's fixed defaults where it has them.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("fifo_queue", Kind::Bool)
                .force_new()
                .default(false),
            Prop::new("content_based_deduplication", Kind::Bool),
            Prop::new("visibility_timeout_seconds", Kind::Integer)
                .range(0, 43_200)
                .default(30),
            Prop::new("message_retention_seconds", Kind::Integer)
                .range(60, 1_209_600)
                .default(345_600),
            Prop::new("delay_seconds", Kind::Integer)
                .range(0, 900)
                .default(0),
            Prop::new("max_message_size", Kind::Integer)
                .range(1024, 262_144)
                .default(DEFAULT_MAX_MESSAGE_SIZE),
            Prop::new("receive_wait_time_seconds", Kind::Integer)
                .range(0, 20)
                .default(0),
            Prop::new(
                "redrive_policy",
                Kind::Object(vec![
                    Prop::new("dead_letter_target_arn", Kind::String)
                        .arn(&["sqs"])
                        .required(),
                    Prop::new("max_receive_count", Kind::Integer)
                        .range(1, 1000)
                        .required(),
                ]),
            )
            .resettable(),
            Prop::new("policy", Kind::Document).policy(stacks::PolicyRole::Resource),
            Prop::new("sqs_managed_sse_enabled", Kind::Bool),
            Prop::new("kms_master_key_id", Kind::String),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "url", "name"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: Some(("fifo_queue", ".fifo")),
        }),
    }
}

/// How the catalogue knows `aws.sqs.queue`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(QueueProvider::new(ctx)),
    about: "A standard or FIFO SQS queue; every setting is a queue attribute, changed in place \
            with one `SetQueueAttributes`.",
    import_id: "the queue URL",
    attributes: &[
        ("arn", "the queue's ARN"),
        ("url", "the queue URL, which SQS calls take"),
        (
            "name",
            "the queue name (ending in `.fifo` for a FIFO queue)",
        ),
    ],
    property_notes: &[(
        "policy",
        "declare the policy here or as an `aws.sqs.queue_policy`, never both",
    )],
    actions: Actions {
        create: &["sqs:CreateQueue", "sqs:TagQueue"],
        read: &[
            "sqs:GetQueueAttributes",
            "sqs:ListQueueTags",
            "sqs:GetQueueUrl",
        ],
        update: &["sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"],
        delete: &["sqs:DeleteQueue"],
    },
    resources: &["arn:{partition}:sqs:{region}:{account}:{name}"],
    passes_role: &[],
};

/// How a property is written as an SQS attribute string and read back.
#[derive(Clone, Copy, Debug)]
enum Codec {
    Integer,
    Bool,
    Text,
    Document,
    Redrive,
}

/// The properties SQS keeps as attributes that can change after create, each with its
/// attribute and codec. (`fifo_queue` is also an attribute, but only `CreateQueue` takes it.)
const SETTABLE: &[(&str, QueueAttributeName, Codec)] = &[
    (
        "content_based_deduplication",
        QueueAttributeName::ContentBasedDeduplication,
        Codec::Bool,
    ),
    (
        "visibility_timeout_seconds",
        QueueAttributeName::VisibilityTimeout,
        Codec::Integer,
    ),
    (
        "message_retention_seconds",
        QueueAttributeName::MessageRetentionPeriod,
        Codec::Integer,
    ),
    (
        "delay_seconds",
        QueueAttributeName::DelaySeconds,
        Codec::Integer,
    ),
    (
        "max_message_size",
        QueueAttributeName::MaximumMessageSize,
        Codec::Integer,
    ),
    (
        "receive_wait_time_seconds",
        QueueAttributeName::ReceiveMessageWaitTimeSeconds,
        Codec::Integer,
    ),
    (
        "redrive_policy",
        QueueAttributeName::RedrivePolicy,
        Codec::Redrive,
    ),
    ("policy", QueueAttributeName::Policy, Codec::Document),
    (
        "sqs_managed_sse_enabled",
        QueueAttributeName::SqsManagedSseEnabled,
        Codec::Bool,
    ),
    (
        "kms_master_key_id",
        QueueAttributeName::KmsMasterKeyId,
        Codec::Text,
    ),
];

impl Codec {
    fn encode(self, prop: &str, value: &Value) -> Result<String> {
        let wrong = |what: &str| ProviderError::invalid(format!("`{prop}` must be {what}"));
        match self {
            Codec::Integer => value
                .as_i64()
                .map(|n| n.to_string())
                .ok_or_else(|| wrong("a whole number")),
            Codec::Bool => value
                .as_bool()
                .map(|b| b.to_string())
                .ok_or_else(|| wrong("true or false")),
            Codec::Text => value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| wrong("a string")),
            Codec::Document => document_json(prop, value),
            Codec::Redrive => {
                let fields = value.as_map().ok_or_else(|| wrong("a mapping"))?;
                let arn = fields
                    .get("dead_letter_target_arn")
                    .and_then(Value::as_str)
                    .ok_or_else(|| wrong("a mapping with a `dead_letter_target_arn` string"))?;
                let count = fields
                    .get("max_receive_count")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| wrong("a mapping with a whole `max_receive_count`"))?;
                Ok(
                    serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": count })
                        .to_string(),
                )
            }
        }
    }

    /// The property value for an attribute string; `None` when the string means "not set".
    fn decode(self, prop: &str, text: &str) -> Result<Option<Value>> {
        let odd = || ProviderError::invalid(format!("AWS returned `{text}` for `{prop}`"));
        if text.trim().is_empty() {
            return Ok(None);
        }
        let value = match self {
            Codec::Integer => Value::int(text.trim().parse().map_err(|_| odd())?),
            Codec::Bool => Value::Bool(text.trim().parse().map_err(|_| odd())?),
            Codec::Text => Value::str(text),
            Codec::Document => document_from_aws(prop, text)?,
            Codec::Redrive => redrive_from_aws(text).ok_or_else(odd)?,
        };
        Ok(Some(value))
    }

    /// What to send when a property without a default leaves the stack: clear what SQS can
    /// clear. A number or switch without a default is left as it is (strata stops managing it).
    fn cleared(self) -> Option<String> {
        match self {
            Codec::Text | Codec::Document | Codec::Redrive => Some(String::new()),
            Codec::Integer | Codec::Bool => None,
        }
    }
}

/// Reads SQS's `{"deadLetterTargetArn": .., "maxReceiveCount": ..}` into the snake_case object
/// the stack writes. SQS has returned the count both as a number and as a string.
fn redrive_from_aws(text: &str) -> Option<Value> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    let arn = json.get("deadLetterTargetArn")?.as_str()?;
    let count = match json.get("maxReceiveCount")? {
        serde_json::Value::Number(n) => n.as_i64()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(Value::Map(Map::from([
        ("dead_letter_target_arn".to_string(), Value::str(arn)),
        ("max_receive_count".to_string(), Value::int(count)),
    ])))
}

/// `Ok(None)` for "the queue does not exist", the result otherwise.
pub(crate) fn queue_missing_is_none<T>(result: Result<T>) -> Result<Option<T>> {
    missing_is_none(result, QUEUE_NOT_FOUND)
}

/// Manages SQS queues; the id is the queue URL.
pub struct QueueProvider {
    schema: TypeSchema,
    sqs: aws_sdk_sqs::Client,
    /// The region and partition of the queues' ARNs, which create derives rather than reads.
    region: String,
    partition: &'static str,
    /// Talking to the local emulator, whose `SetQueueAttributes` erases `Policy` when the call
    /// does not carry it (AWS changes only the attributes given).
    emulator: bool,
}

impl QueueProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            sqs: crate::aws::sdk_client!(aws_sdk_sqs, ctx),
            region: ctx.region(),
            partition: ctx.partition(),
            emulator: ctx.custom_endpoint,
        }
    }

    /// The queue at `url` in the stack's terms, or `None` when it does not exist.
    async fn find_queue(&self, url: &str) -> Result<Option<Resource>> {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = queue_missing_is_none(out)? else {
            return Ok(None);
        };
        let tags = self
            .sqs
            .list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .map_err(api_error);
        let Some(tags) = queue_missing_is_none(tags)? else {
            return Ok(None);
        };
        let empty = HashMap::new();
        let attrs = out.attributes().unwrap_or(&empty);
        let arn = attrs.get(&QueueAttributeName::QueueArn).ok_or_else(|| {
            ProviderError::invalid(format!("GetQueueAttributes returned no QueueArn for {url}"))
        })?;
        let name = arn.rsplit(':').next().unwrap_or(arn.as_str()).to_string();

        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(&name));
        let fifo = attrs
            .get(&QueueAttributeName::FifoQueue)
            .is_some_and(|v| v.trim() == "true");
        properties.insert("fifo_queue".into(), Value::Bool(fifo));
        for (prop, attr, codec) in SETTABLE {
            let value = match attrs.get(attr) {
                Some(text) => codec.decode(prop, text)?,
                None => None,
            };
            // An absent switch is off: a standard queue has no ContentBasedDeduplication.
            let value = value.or(match codec {
                Codec::Bool => Some(Value::Bool(false)),
                _ => None,
            });
            if let Some(value) = value {
                properties.insert(prop.to_string(), value);
            }
        }
        properties.insert("tags".into(), tags_value(tags.tags().into_iter().flatten()));

        let attributes = Map::from([
            ("arn".to_string(), Value::str(arn)),
            ("url".to_string(), Value::str(url)),
            ("name".to_string(), Value::str(&name)),
        ]);
        Ok(Some(Resource {
            id: url.to_string(),
            properties,
            attributes,
        }))
    }

    /// The queue `CreateQueue` just made at `url`, without reading it back: SQS keeps the
    /// attributes and tags exactly as `CreateQueue` took them, and the ARN follows from the
    /// name and the account, which is the URL's path (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`).
    /// The properties are what [`Self::find_queue`] reads for them, so a plan without refresh
    /// and one with agree.
    fn as_created(
        &self,
        url: &str,
        name: &str,
        sent: &HashMap<QueueAttributeName, String>,
        tags: HashMap<String, String>,
    ) -> Result<Resource> {
        let account = url
            .trim_end_matches('/')
            .rsplit('/')
            .nth(1)
            .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                ProviderError::invalid(format!("the queue URL {url} names no account"))
            })?;
        let arn = format!(
            "arn:{}:sqs:{}:{account}:{name}",
            self.partition, self.region
        );
        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(name));
        let fifo = sent.get(&QueueAttributeName::FifoQueue).map(String::as_str) == Some("true");
        properties.insert("fifo_queue".into(), Value::Bool(fifo));
        for (prop, attr, codec) in SETTABLE {
            if let Some(value) = sent.get(attr) {
                if let Some(value) = codec.decode(prop, value)? {
                    properties.insert(prop.to_string(), value);
                }
            }
        }
        // The switches CreateQueue was not sent, as SQS sets them: content-based deduplication
        // off, and SSE-SQS on for a new queue not encrypted with a KMS key (AWS's default since
        // 2022, which the emulator follows).
        let kms = sent.contains_key(&QueueAttributeName::KmsMasterKeyId);
        for (prop, default) in [
            ("content_based_deduplication", false),
            ("sqs_managed_sse_enabled", !kms),
        ] {
            properties
                .entry(prop.to_string())
                .or_insert(Value::Bool(default));
        }
        properties.insert("tags".into(), tags_value(tags));
        let attributes = Map::from([
            ("arn".to_string(), Value::str(&arn)),
            ("url".to_string(), Value::str(url)),
            ("name".to_string(), Value::str(name)),
        ]);
        Ok(Resource {
            id: url.to_string(),
            properties,
            attributes,
        })
    }

    /// Reads a queue that must exist (it was just changed), waiting out SQS's eventual
    /// consistency.
    async fn read_existing(&self, url: &str) -> Result<Resource> {
        wait_for(
            &format!("queue {url} to be readable"),
            QUEUE_READABLE,
            || self.find_queue(url),
        )
        .await
    }
}

#[async_trait]
impl Provider for QueueProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the queue with every attribute the stack gives, and the defaults it does not:
    /// sending them pins the schema's defaults even where AWS's own change.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let mut attributes = HashMap::new();
        if desired(&self.schema, props, "fifo_queue").and_then(|v| v.as_bool()) == Some(true) {
            attributes.insert(QueueAttributeName::FifoQueue, "true".to_string());
        }
        for (prop, attr, codec) in SETTABLE {
            if let Some(value) = desired(&self.schema, props, prop) {
                attributes.insert(attr.clone(), codec.encode(prop, &value)?);
            }
        }
        let tags: HashMap<String, String> = tag_strings(props.get("tags"))?.into_iter().collect();
        let tags = (!tags.is_empty()).then_some(tags);

        let out = with_backoff(
            QUEUE_DELETED_RECENTLY_BUDGET,
            |e| e.is_code(QUEUE_DELETED_RECENTLY),
            || {
                let call = self
                    .sqs
                    .create_queue()
                    .queue_name(&name)
                    .set_attributes(Some(attributes.clone()))
                    .set_tags(tags.clone());
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;
        let url = out
            .queue_url()
            .ok_or_else(|| ProviderError::invalid("CreateQueue returned no queue URL"))?;
        after_made(url, async {
            self.as_created(url, &name, &attributes, tags.unwrap_or_default())
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_queue(&req.id).await
    }

    /// Sends the changed attributes in one `SetQueueAttributes`, then tags and untags only the
    /// keys that differ from the recorded tags.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let mut attributes = HashMap::new();
        let mut tags_changed = false;
        for prop in &req.changed {
            if prop == "tags" {
                tags_changed = true;
                continue;
            }
            let Some((_, attr, codec)) = SETTABLE.iter().find(|(p, ..)| p == prop) else {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            };
            let value = match desired(&self.schema, &req.properties, prop) {
                Some(value) => Some(codec.encode(prop, &value)?),
                None => codec.cleared(),
            };
            if let Some(value) = value {
                attributes.insert(attr.clone(), value);
            }
        }
        if self.emulator
            && !attributes.is_empty()
            && !attributes.contains_key(&QueueAttributeName::Policy)
        {
            // Keep a policy another resource (an `aws.sqs.queue_policy`) manages: the emulator
            // would drop it. Against AWS this call is never made.
            let current = self
                .sqs
                .get_queue_attributes()
                .queue_url(&req.id)
                .attribute_names(QueueAttributeName::Policy)
                .send()
                .await
                .map_err(api_error)?;
            if let Some(policy) = current
                .attributes
                .and_then(|mut a| a.remove(&QueueAttributeName::Policy))
            {
                attributes.insert(QueueAttributeName::Policy, policy);
            }
        }
        if !attributes.is_empty() {
            self.sqs
                .set_queue_attributes()
                .queue_url(&req.id)
                .set_attributes(Some(attributes))
                .send()
                .await
                .map_err(api_error)?;
        }
        if tags_changed {
            let api = QueueTags {
                client: &self.sqs,
                id: &req.id,
            };
            reconcile(&api, &req.prior_properties, &req.properties).await?;
        }
        self.read_existing(&req.id).await
    }

    /// Deletes the queue; one that is already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .sqs
            .delete_queue()
            .queue_url(&req.id)
            .send()
            .await
            .map_err(api_error);
        queue_missing_is_none(out).map(|_| ())
    }

    /// Finds the queue by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        let out = self
            .sqs
            .get_queue_url()
            .queue_name(&name)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = queue_missing_is_none(out)? else {
            return Ok(None);
        };
        let url = out
            .queue_url()
            .ok_or_else(|| ProviderError::invalid("GetQueueUrl returned no queue URL"))?;
        self.find_queue(url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The physical name the stack loader derives for a resource of `stack.yaml` text.
    fn derived_name(text: &str, address: &str) -> String {
        let stack = stacks::load_str(
            std::path::Path::new("stack.yaml"),
            text,
            &stacks::LoadOptions::default(),
            &stacks::Catalog::new([schema()]),
        )
        .unwrap_or_else(|d| panic!("{d:?}"));
        match &stack.resources[address].properties["name"] {
            stacks::Expr::Value {
                value: Value::String(name),
            } => name.clone(),
            other => panic!("`name` of {address} is {other:?}"),
        }
    }

    #[test]
    fn a_fifo_queue_given_no_name_gets_one_ending_in_fifo_within_the_limit() {
        let text = "stack: orders\nresources:\n  jobs:\n    type: aws.sqs.queue\n    properties: { fifo_queue: true }\n  plain:\n    type: aws.sqs.queue\n";
        assert_eq!(derived_name(text, "jobs"), "orders-jobs.fifo");
        assert_eq!(derived_name(text, "plain"), "orders-plain");
        let address = "a_queue_whose_logical_name_is_rather_long";
        let text = format!(
            "stack: an-order-intake-stack-with-a-rather-long-name\nresources:\n  {address}:\n    type: aws.sqs.queue\n    properties: {{ fifo_queue: true }}\n"
        );
        let long = derived_name(&text, address);
        assert!(long.ends_with(".fifo"), "{long}");
        assert!(long.len() <= NAME_MAX_LEN, "{long}");
    }

    #[test]
    fn every_settable_attribute_is_a_property_of_the_schema() {
        let schema = schema();
        for (prop, ..) in SETTABLE {
            assert!(schema.prop(prop).is_some(), "{prop}");
        }
    }

    #[test]
    fn attribute_strings_read_back_as_the_kinds_the_stack_writes() {
        assert_eq!(
            Codec::Integer.decode("delay_seconds", "30").unwrap(),
            Some(Value::int(30))
        );
        assert_eq!(
            Codec::Bool.decode("fifo_queue", "true").unwrap(),
            Some(Value::Bool(true))
        );
        assert_eq!(Codec::Document.decode("policy", "").unwrap(), None);
        assert!(Codec::Integer.decode("delay_seconds", "soon").is_err());
    }

    #[test]
    fn a_redrive_policy_round_trips_with_a_string_or_numeric_count() {
        let value = Value::Map(Map::from([
            ("dead_letter_target_arn".to_string(), Value::str("arn:dlq")),
            ("max_receive_count".to_string(), Value::int(5)),
        ]));
        let text = Codec::Redrive.encode("redrive_policy", &value).unwrap();
        assert_eq!(
            Codec::Redrive.decode("redrive_policy", &text).unwrap(),
            Some(value.clone())
        );
        let stringly = r#"{"deadLetterTargetArn":"arn:dlq","maxReceiveCount":"5"}"#;
        assert_eq!(
            Codec::Redrive.decode("redrive_policy", stringly).unwrap(),
            Some(value)
        );
    }
}
