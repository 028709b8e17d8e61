//! `aws.scheduler.schedule_group`: an EventBridge Scheduler schedule group.
//!
//! A group is a name and tags; only the tags change in place. AWS deletes a group (and the
//! schedules in it) asynchronously: the delete waits until the group is gone, as
//! terraform-provider-aws does. The id is the group name.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_smithy_types::date_time::Format;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{scheduler_tags, ScheduleGroupTags, NAME_MAX_LEN, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::required_str;
use crate::retry::{wait_for, Wait};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.scheduler.schedule_group";

/// The state of a group AWS is deleting.
const DELETING: &str = "DELETING";

/// How long a new group may take to be readable as `ACTIVE` (Scheduler is eventually
/// consistent; terraform-provider-aws's create timeout), looking every second.
const ACTIVE: Wait = Wait {
    timeout: Duration::from_secs(5 * 60),
    interval: Duration::from_secs(1),
};

/// How long a deleted group (with its schedules) may take to go (terraform-provider-aws's
/// delete timeout), looking every two seconds.
const DELETED: Wait = Wait {
    timeout: Duration::from_secs(5 * 60),
    interval: Duration::from_secs(2),
};

/// The group's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String)
                .force_new()
                .length(1, NAME_MAX_LEN),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec![
            "arn",
            "name",
            "state",
            "creation_date",
            "last_modification_date",
        ],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.scheduler.schedule_group`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(ScheduleGroupProvider::new(ctx)),
    about: "An EventBridge Scheduler schedule group: a name and tags (changed in place); \
            deleting it deletes its schedules, and waits until the group is gone.",
    import_id: "the group name",
    attributes: &[
        ("arn", "the group ARN"),
        ("name", "the group name"),
        ("state", "`ACTIVE`, or `DELETING`"),
        ("creation_date", "when the group was created (RFC 3339)"),
        (
            "last_modification_date",
            "when the group was last changed (RFC 3339)",
        ),
    ],
    property_notes: &[],
    actions: Actions {
        create: &[
            "scheduler:CreateScheduleGroup",
            "scheduler:GetScheduleGroup",
            "scheduler:TagResource",
            "scheduler:ListTagsForResource",
        ],
        read: &[
            "scheduler:GetScheduleGroup",
            "scheduler:ListTagsForResource",
        ],
        update: &[
            "scheduler:TagResource",
            "scheduler:UntagResource",
            "scheduler:GetScheduleGroup",
            "scheduler:ListTagsForResource",
        ],
        delete: &[
            "scheduler:DeleteScheduleGroup",
            "scheduler:GetScheduleGroup",
        ],
    },
    resources: &["arn:{partition}:scheduler:{region}:{account}:schedule-group/{name}"],
    passes_role: &[],
};

/// A timestamp as the attributes show it.
fn timestamp(time: Option<&aws_smithy_types::DateTime>) -> Value {
    time.and_then(|t| t.fmt(Format::DateTime).ok())
        .map_or(Value::Null, Value::String)
}

/// Manages schedule groups; the id is the group name.
pub struct ScheduleGroupProvider {
    schema: TypeSchema,
    scheduler: aws_sdk_scheduler::Client,
}

impl ScheduleGroupProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            scheduler: crate::aws::sdk_client!(aws_sdk_scheduler, ctx),
        }
    }

    /// The group in the stack's terms, or `None` when it does not exist (or is being deleted).
    async fn find_group(&self, name: &str) -> Result<Option<Resource>> {
        let out = self
            .scheduler
            .get_schedule_group()
            .name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(group) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let state = group.state().map(|s| s.as_str().to_string());
        if state.as_deref() == Some(DELETING) {
            return Ok(None);
        }
        let arn = group
            .arn()
            .ok_or_else(|| {
                ProviderError::invalid(format!("GetScheduleGroup gave no ARN for {name}"))
            })?
            .to_string();
        let tags = self
            .scheduler
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(api_error);
        let Some(tags) = missing_is_none(tags, NOT_FOUND)? else {
            return Ok(None);
        };
        let properties = Map::from([
            ("name".to_string(), Value::str(name)),
            (
                "tags".to_string(),
                tags_value(tags.tags().iter().map(|t| (t.key(), t.value()))),
            ),
        ]);
        let attributes = Map::from([
            ("arn".to_string(), Value::str(&arn)),
            ("name".to_string(), Value::str(name)),
            (
                "state".to_string(),
                state.map_or(Value::Null, Value::String),
            ),
            (
                "creation_date".to_string(),
                timestamp(group.creation_date()),
            ),
            (
                "last_modification_date".to_string(),
                timestamp(group.last_modification_date()),
            ),
        ]);
        Ok(Some(Resource {
            id: name.to_string(),
            properties,
            attributes,
        }))
    }

    async fn read_existing(&self, name: &str) -> Result<Resource> {
        self.find_group(name).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "schedule group {name} was written but cannot be read back"
            ))
        })
    }
}

#[async_trait]
impl Provider for ScheduleGroupProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// `CreateScheduleGroup` with the tags, then waits until the group reads back `ACTIVE`.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let tags = scheduler_tags(tag_strings(props.get("tags"))?)?;
        self.scheduler
            .create_schedule_group()
            .name(&name)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        after_made(&name, async {
            wait_for(
                &format!("schedule group {name} to be active"),
                ACTIVE,
                || self.find_group(&name),
            )
            .await
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_group(&req.id).await
    }

    /// Tags by key; nothing else changes in place.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        for prop in &req.changed {
            if prop != "tags" {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            }
        }
        let arn = match req.prior_attributes.get("arn").and_then(Value::as_str) {
            Some(arn) => arn.to_string(),
            None => self.read_existing(&req.id).await?.attributes["arn"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
        let api = ScheduleGroupTags {
            client: &self.scheduler,
            id: &arn,
        };
        reconcile(&api, &req.prior_properties, &req.properties).await?;
        self.read_existing(&req.id).await
    }

    /// `DeleteScheduleGroup`, then waits until the group is gone; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .scheduler
            .delete_schedule_group()
            .name(&req.id)
            .send()
            .await
            .map_err(api_error);
        if missing_is_none(out, NOT_FOUND)?.is_none() {
            return Ok(());
        }
        wait_for(
            &format!("schedule group {} to be deleted", req.id),
            DELETED,
            || async {
                let out = self
                    .scheduler
                    .get_schedule_group()
                    .name(&req.id)
                    .send()
                    .await
                    .map_err(api_error);
                Ok(missing_is_none(out, NOT_FOUND)?.is_none().then_some(()))
            },
        )
        .await
    }

    /// The group of the deterministic name, if it exists.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_group(&name).await
    }
}
