//! `aws.events.event_bus`: a custom EventBridge event bus, which rules (`aws.events.rule`
//! with `event_bus_name`) match events on.
//!
//! `CreateEventBus` takes the name, the partner event source, the description, the KMS key and
//! the tags. The description and the KMS key change in place (`UpdateEventBus`, which takes
//! both); the name and the event source replace the bus. The id is the bus name.

use std::sync::Arc;

use async_trait::async_trait;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{events_tags, RuleTags};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given_str, required_str};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.events.event_bus";

/// EventBridge's limit on an event bus name.
const NAME_MAX_LEN: usize = 256;

/// EventBridge's limit on a bus description.
const DESCRIPTION_MAX_LEN: usize = 512;

/// How EventBridge says a bus does not exist.
const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// The properties `UpdateEventBus` sets, together.
const UPDATABLE: &[&str] = &["description", "kms_key_identifier"];

/// The bus's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String)
                .force_new()
                .length(1, NAME_MAX_LEN),
            Prop::new("event_source_name", Kind::String)
                .force_new()
                .length(1, NAME_MAX_LEN),
            Prop::new("description", Kind::String).length(0, DESCRIPTION_MAX_LEN),
            Prop::new("kms_key_identifier", Kind::String),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.events.event_bus`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(EventBusProvider::new(ctx)),
    about: "A custom EventBridge event bus, which rules name in `event_bus_name`; its \
            description and KMS key change in place.",
    import_id: "the bus name",
    attributes: &[("arn", "the bus ARN"), ("name", "the bus name")],
    property_notes: &[
        (
            "event_source_name",
            "the partner event source a partner bus receives from",
        ),
        (
            "kms_key_identifier",
            "the KMS key (ARN, id, alias or alias ARN) that encrypts the bus's events",
        ),
    ],
    actions: Actions {
        create: &[
            "events:CreateEventBus",
            "events:TagResource",
            "events:DescribeEventBus",
            "events:ListTagsForResource",
        ],
        read: &["events:DescribeEventBus", "events:ListTagsForResource"],
        update: &[
            "events:UpdateEventBus",
            "events:TagResource",
            "events:UntagResource",
            "events:DescribeEventBus",
            "events:ListTagsForResource",
        ],
        delete: &["events:DeleteEventBus"],
    },
    resources: &["arn:{partition}:events:{region}:{account}:event-bus/{name}"],
    passes_role: &[],
};

/// Manages event buses; the id is the bus name.
pub struct EventBusProvider {
    schema: TypeSchema,
    events: aws_sdk_eventbridge::Client,
}

impl EventBusProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            events: crate::aws::sdk_client!(aws_sdk_eventbridge, ctx),
        }
    }

    /// The bus in the stack's terms, or `None` when it does not exist. `written` keeps the
    /// partner event source as the stack gave it (AWS does not describe it).
    async fn find_bus(&self, name: &str, written: &Map) -> Result<Option<Resource>> {
        let out = self
            .events
            .describe_event_bus()
            .name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(bus) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let arn = bus
            .arn()
            .ok_or_else(|| {
                ProviderError::invalid(format!("DescribeEventBus gave no ARN for {name}"))
            })?
            .to_string();
        let tags = self
            .events
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(api_error);
        let Some(tags) = missing_is_none(tags, NOT_FOUND)? else {
            return Ok(None);
        };
        let mut properties = Map::from([("name".to_string(), Value::str(name))]);
        if let Some(source) = given_str(written, "event_source_name") {
            properties.insert("event_source_name".into(), Value::str(source));
        }
        for (key, value) in [
            ("description", bus.description()),
            ("kms_key_identifier", bus.kms_key_identifier()),
        ] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                properties.insert(key.to_string(), Value::str(value));
            }
        }
        properties.insert(
            "tags".into(),
            tags_value(
                tags.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string())),
            ),
        );
        Ok(Some(Resource {
            id: name.to_string(),
            properties,
            attributes: Map::from([
                ("arn".to_string(), Value::str(&arn)),
                ("name".to_string(), Value::str(name)),
            ]),
        }))
    }

    async fn read_existing(&self, name: &str, written: &Map) -> Result<Resource> {
        self.find_bus(name, written).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "event bus {name} was written but cannot be read back"
            ))
        })
    }
}

#[async_trait]
impl Provider for EventBusProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// `CreateEventBus` with everything, tags included.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let tags = events_tags(tag_strings(props.get("tags"))?)?;
        self.events
            .create_event_bus()
            .name(&name)
            .set_event_source_name(given_str(props, "event_source_name"))
            .set_description(given_str(props, "description"))
            .set_kms_key_identifier(given_str(props, "kms_key_identifier"))
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        after_made(&name, async { self.read_existing(&name, props).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_bus(&req.id, &req.prior_properties).await
    }

    /// `UpdateEventBus` with the description and KMS key when either changed; tags by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let name = req.id.as_str();
        let props = &req.properties;
        for prop in &req.changed {
            if !UPDATABLE.contains(&prop.as_str()) && prop != "tags" {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            }
        }
        if req.changed.iter().any(|p| UPDATABLE.contains(&p.as_str())) {
            self.events
                .update_event_bus()
                .name(name)
                .description(given_str(props, "description").unwrap_or_default())
                .set_kms_key_identifier(given_str(props, "kms_key_identifier"))
                .send()
                .await
                .map_err(api_error)?;
        }
        if req.changed.iter().any(|p| p == "tags") {
            let arn = match req.prior_attributes.get("arn").and_then(Value::as_str) {
                Some(arn) => arn.to_string(),
                None => self.read_existing(name, props).await?.attributes["arn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            };
            let api = RuleTags {
                client: &self.events,
                id: &arn,
            };
            reconcile(&api, &req.prior_properties, props).await?;
        }
        self.read_existing(name, props).await
    }

    /// `DeleteEventBus`; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .events
            .delete_event_bus()
            .name(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// The bus of the deterministic name, if it exists.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_bus(&name, &req.properties).await
    }
}
