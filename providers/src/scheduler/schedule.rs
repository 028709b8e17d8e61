//! `aws.scheduler.schedule`: an EventBridge Scheduler schedule, which invokes one target on a
//! cron, rate or one-time expression.
//!
//! `UpdateSchedule` replaces the whole schedule with what it is given, so an update sends the
//! complete desired definition. The name and the group replace the schedule. Schedules take no
//! tags (their group does). The id is `GROUP/NAME`, as Terraform writes it.
//!
//! AWS fills in a target's retry policy when the stack gives none (24 hours, 185 attempts): it
//! reads back only as far as the stack wrote it, or where it differs from those defaults, so a
//! schedule that leaves it out re-plans clean.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::{
    DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, ScheduleState,
    Target,
};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{DEFAULT_GROUP, NAME_MAX_LEN, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::document_json;
use crate::props::{desired, given, required_str};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.scheduler.schedule";

/// The states a schedule can be in.
const STATES: &[&str] = &["ENABLED", "DISABLED"];

/// The flexible time window modes.
const WINDOW_MODES: &[&str] = &["OFF", "FLEXIBLE"];

/// The time zone AWS evaluates an expression in when the stack names none.
const DEFAULT_TIMEZONE: &str = "UTC";

/// The retry policy AWS gives a target that names none: a day, 185 attempts.
const DEFAULT_MAX_EVENT_AGE: i64 = 86_400;
const DEFAULT_MAX_RETRY_ATTEMPTS: i64 = 185;

/// The schedule's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String)
                .force_new()
                .length(1, NAME_MAX_LEN),
            Prop::new("group_name", Kind::String)
                .force_new()
                .default(DEFAULT_GROUP)
                .length(1, NAME_MAX_LEN),
            Prop::new("description", Kind::String)
                .length(0, 512)
                .resettable(),
            Prop::new("schedule_expression", Kind::String)
                .required()
                .length(1, 256),
            Prop::new("schedule_expression_timezone", Kind::String)
                .default(DEFAULT_TIMEZONE)
                .length(1, 50),
            Prop::new(
                "flexible_time_window",
                Kind::Object(vec![
                    Prop::new("mode", Kind::String)
                        .required()
                        .allowed(WINDOW_MODES),
                    Prop::new("maximum_window_in_minutes", Kind::Integer).range(1, 1440),
                ]),
            )
            .required(),
            Prop::new(
                "target",
                Kind::Object(vec![
                    Prop::new("arn", Kind::String).required().arn(&[]),
                    Prop::new("role_arn", Kind::String).required().arn(&["iam"]),
                    Prop::new("input", Kind::Document),
                    Prop::new(
                        "retry_policy",
                        Kind::Object(vec![
                            Prop::new("maximum_event_age_in_seconds", Kind::Integer)
                                .range(60, 86_400),
                            Prop::new("maximum_retry_attempts", Kind::Integer).range(0, 185),
                        ]),
                    ),
                    Prop::new(
                        "dead_letter_config",
                        Kind::Object(vec![Prop::new("arn", Kind::String).arn(&["sqs"])]),
                    ),
                ]),
            )
            .required(),
            Prop::new("state", Kind::String)
                .default("ENABLED")
                .allowed(STATES),
            Prop::new("start_date", Kind::String).resettable(),
            Prop::new("end_date", Kind::String).resettable(),
            Prop::new("kms_key_arn", Kind::String)
                .arn(&["kms"])
                .resettable(),
        ],
        attrs: vec!["arn", "name", "id"],
        taggable: false,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.scheduler.schedule`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(ScheduleProvider::new(ctx)),
    about: "An EventBridge Scheduler schedule invoking one target (a Lambda function, a state \
            machine, a queue, any API) on a cron, rate or one-time expression; every setting \
            but its name and group changes in place. Schedules take no tags.",
    import_id: "`GROUP/NAME`",
    attributes: &[
        ("arn", "the schedule ARN"),
        ("name", "the schedule name"),
        ("id", "`GROUP/NAME`"),
    ],
    property_notes: &[
        (
            "target",
            "`{arn*, role_arn*, input, retry_policy: {maximum_event_age_in_seconds, \
             maximum_retry_attempts}, dead_letter_config: {arn}}`; `role_arn` is a role \
             Scheduler assumes (trusting `scheduler.amazonaws.com`); `input` is a mapping or \
             text",
        ),
        (
            "start_date",
            "RFC 3339 (`2030-01-01T00:00:00Z`); taken out of the stack, it is cleared",
        ),
        (
            "end_date",
            "RFC 3339 (`2030-01-01T00:00:00Z`); taken out of the stack, it is cleared",
        ),
    ],
    actions: Actions {
        create: &[
            "scheduler:CreateSchedule",
            "scheduler:GetSchedule",
            "iam:PassRole",
        ],
        read: &["scheduler:GetSchedule"],
        update: &[
            "scheduler:UpdateSchedule",
            "scheduler:GetSchedule",
            "iam:PassRole",
        ],
        delete: &["scheduler:DeleteSchedule"],
    },
    resources: &[
        "arn:{partition}:scheduler:{region}:{account}:schedule/{group_name=default}/{name}",
    ],
    passes_role: &[("target.role_arn", "scheduler.amazonaws.com")],
};

/// The id of schedule `name` in `group`.
fn schedule_id(group: &str, name: &str) -> String {
    format!("{group}/{name}")
}

/// The group and the name in a schedule id.
fn parse_schedule_id(id: &str) -> Result<(String, String)> {
    match id.split_once('/') {
        Some((group, name)) if !group.is_empty() && !name.is_empty() => {
            Ok((group.to_string(), name.to_string()))
        }
        _ => Err(ProviderError::invalid(format!(
            "`{id}` is not a schedule id (`GROUP/NAME`: the group name, a `/`, and the schedule \
             name; `default/NAME` for the default group)"
        ))),
    }
}

fn text(fields: &Map, key: &str) -> Option<String> {
    given(fields, key).and_then(|v| v.as_str().map(str::to_string))
}

fn int32(fields: &Map, key: &str) -> Result<Option<i32>> {
    given(fields, key)
        .map(|v| {
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| ProviderError::invalid(format!("`{key}` must be a whole number")))
        })
        .transpose()
}

fn object(fields: &Map, key: &str) -> Option<Map> {
    given(fields, key).and_then(|v| v.as_map().cloned())
}

/// An RFC 3339 time the stack gives, as the SDK's timestamp.
fn date(props: &Map, key: &str) -> Result<Option<DateTime>> {
    text(props, key)
        .map(|s| {
            DateTime::from_str(&s, Format::DateTime).map_err(|_| {
                ProviderError::invalid(format!(
                    "`{key}` `{s}` is not an RFC 3339 time (`2030-01-01T00:00:00Z`)"
                ))
            })
        })
        .transpose()
}

/// A time AWS gives back, as the stack wrote it when the stack's text means the same instant.
fn date_value(aws: Option<&DateTime>, written: Option<String>) -> Option<Value> {
    let aws = aws?;
    if let Some(text) = written {
        if DateTime::from_str(&text, Format::DateTime).ok().as_ref() == Some(aws) {
            return Some(Value::String(text));
        }
    }
    aws.fmt(Format::DateTime).ok().map(Value::String)
}

fn flexible_window(props: &Map) -> Result<FlexibleTimeWindow> {
    let fields = object(props, "flexible_time_window")
        .ok_or_else(|| ProviderError::invalid("`flexible_time_window` is required"))?;
    let mode = text(&fields, "mode")
        .ok_or_else(|| ProviderError::invalid("`flexible_time_window.mode` is required"))?;
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::from(mode.as_str()))
        .set_maximum_window_in_minutes(int32(&fields, "maximum_window_in_minutes")?)
        .build()
        .map_err(|e| ProviderError::invalid(e.to_string()))
}

fn target(props: &Map) -> Result<Target> {
    let fields =
        object(props, "target").ok_or_else(|| ProviderError::invalid("`target` is required"))?;
    let input = match given(&fields, "input") {
        None => None,
        Some(Value::String(text)) => Some(text),
        Some(other) => Some(document_json("target.input", &other)?),
    };
    let retry = object(&fields, "retry_policy")
        .map(|retry| -> Result<RetryPolicy> {
            Ok(RetryPolicy::builder()
                .set_maximum_event_age_in_seconds(int32(&retry, "maximum_event_age_in_seconds")?)
                .set_maximum_retry_attempts(int32(&retry, "maximum_retry_attempts")?)
                .build())
        })
        .transpose()?;
    let dead_letter = object(&fields, "dead_letter_config")
        .and_then(|d| text(&d, "arn"))
        .map(|arn| DeadLetterConfig::builder().arn(arn).build());
    Target::builder()
        .set_arn(text(&fields, "arn"))
        .set_role_arn(text(&fields, "role_arn"))
        .set_input(input)
        .set_retry_policy(retry)
        .set_dead_letter_config(dead_letter)
        .build()
        .map_err(|e| ProviderError::invalid(e.to_string()))
}

/// A target's retry policy in the stack's terms: each limit the stack wrote, and each that is
/// not AWS's default; `None` when that leaves nothing and the stack wrote no policy.
fn retry_value(aws: Option<&RetryPolicy>, written: Option<&Map>) -> Option<Value> {
    let aws = aws?;
    let wrote = |key: &str| written.is_some_and(|w| w.contains_key(key));
    let mut map = Map::new();
    for (key, value, default) in [
        (
            "maximum_event_age_in_seconds",
            aws.maximum_event_age_in_seconds(),
            DEFAULT_MAX_EVENT_AGE,
        ),
        (
            "maximum_retry_attempts",
            aws.maximum_retry_attempts(),
            DEFAULT_MAX_RETRY_ATTEMPTS,
        ),
    ] {
        if let Some(value) = value.map(i64::from) {
            if wrote(key) || value != default {
                map.insert(key.to_string(), Value::int(value));
            }
        }
    }
    (written.is_some() || !map.is_empty()).then_some(Value::Map(map))
}

/// Manages schedules; the id is `GROUP/NAME`.
pub struct ScheduleProvider {
    schema: TypeSchema,
    scheduler: aws_sdk_scheduler::Client,
}

impl ScheduleProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            scheduler: crate::aws::sdk_client!(aws_sdk_scheduler, ctx),
        }
    }

    /// The schedule in the stack's terms, or `None` when it (or its group) does not exist.
    async fn find_schedule(
        &self,
        group: &str,
        name: &str,
        written: &Map,
    ) -> Result<Option<Resource>> {
        let out = self
            .scheduler
            .get_schedule()
            .group_name(group)
            .name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(schedule) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let properties = properties_of(&schedule, group, name, written);
        let id = schedule_id(group, name);
        let attributes = Map::from([
            (
                "arn".to_string(),
                schedule.arn().map_or(Value::Null, Value::str),
            ),
            ("name".to_string(), Value::str(name)),
            ("id".to_string(), Value::str(&id)),
        ]);
        Ok(Some(Resource {
            id,
            properties,
            attributes,
        }))
    }

    async fn read_existing(&self, group: &str, name: &str, written: &Map) -> Result<Resource> {
        self.find_schedule(group, name, written)
            .await?
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "schedule {name} in group {group} was written but cannot be read back"
                ))
            })
    }

    /// `CreateSchedule` or `UpdateSchedule` (which take the same complete definition).
    async fn put(&self, group: &str, name: &str, props: &Map, create: bool) -> Result<()> {
        let state = desired(&self.schema, props, "state")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "ENABLED".to_string());
        let timezone = desired(&self.schema, props, "schedule_expression_timezone")
            .and_then(|v| v.as_str().map(str::to_string));
        let expression = required_str(props, "schedule_expression")?;
        if create {
            self.scheduler
                .create_schedule()
                .group_name(group)
                .name(name)
                .schedule_expression(expression)
                .set_schedule_expression_timezone(timezone)
                .set_description(text(props, "description"))
                .flexible_time_window(flexible_window(props)?)
                .target(target(props)?)
                .state(ScheduleState::from(state.as_str()))
                .set_start_date(date(props, "start_date")?)
                .set_end_date(date(props, "end_date")?)
                .set_kms_key_arn(text(props, "kms_key_arn"))
                .send()
                .await
                .map_err(api_error)?;
        } else {
            self.scheduler
                .update_schedule()
                .group_name(group)
                .name(name)
                .schedule_expression(expression)
                .set_schedule_expression_timezone(timezone)
                .set_description(text(props, "description"))
                .flexible_time_window(flexible_window(props)?)
                .target(target(props)?)
                .state(ScheduleState::from(state.as_str()))
                .set_start_date(date(props, "start_date")?)
                .set_end_date(date(props, "end_date")?)
                .set_kms_key_arn(text(props, "kms_key_arn"))
                .send()
                .await
                .map_err(api_error)?;
        }
        Ok(())
    }
}

/// What AWS holds of a schedule, in the stack's terms.
fn properties_of(schedule: &GetScheduleOutput, group: &str, name: &str, written: &Map) -> Map {
    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(name));
    properties.insert("group_name".into(), Value::str(group));
    let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(Value::str);
    for (key, value) in [
        ("description", non_empty(schedule.description())),
        (
            "schedule_expression",
            non_empty(schedule.schedule_expression()),
        ),
        (
            "schedule_expression_timezone",
            non_empty(schedule.schedule_expression_timezone())
                .or_else(|| Some(Value::str(DEFAULT_TIMEZONE))),
        ),
        ("state", schedule.state().map(|s| Value::str(s.as_str()))),
        ("kms_key_arn", non_empty(schedule.kms_key_arn())),
        (
            "start_date",
            date_value(schedule.start_date(), text(written, "start_date")),
        ),
        (
            "end_date",
            date_value(schedule.end_date(), text(written, "end_date")),
        ),
    ] {
        if let Some(value) = value {
            properties.insert(key.to_string(), value);
        }
    }
    if let Some(window) = schedule.flexible_time_window() {
        let mut map = Map::from([("mode".to_string(), Value::str(window.mode().as_str()))]);
        if let Some(minutes) = window.maximum_window_in_minutes() {
            map.insert(
                "maximum_window_in_minutes".into(),
                Value::int(minutes.into()),
            );
        }
        properties.insert("flexible_time_window".into(), Value::Map(map));
    }
    if let Some(aws) = schedule.target() {
        let written_target = object(written, "target").unwrap_or_default();
        let mut map = Map::from([
            ("arn".to_string(), Value::str(aws.arn())),
            ("role_arn".to_string(), Value::str(aws.role_arn())),
        ]);
        if let Some(input) = aws.input().filter(|s| !s.is_empty()) {
            map.insert("input".into(), Value::str(input));
        }
        if let Some(retry) = retry_value(
            aws.retry_policy(),
            object(&written_target, "retry_policy").as_ref(),
        ) {
            map.insert("retry_policy".into(), retry);
        }
        if let Some(arn) = aws.dead_letter_config().and_then(|d| d.arn()) {
            map.insert(
                "dead_letter_config".into(),
                Value::Map(Map::from([("arn".to_string(), Value::str(arn))])),
            );
        }
        properties.insert("target".into(), Value::Map(map));
    }
    properties
}

/// The group a request asks for: the stack's, else the default group.
fn group_of(schema: &TypeSchema, props: &Map) -> String {
    desired(schema, props, "group_name")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| DEFAULT_GROUP.to_string())
}

#[async_trait]
impl Provider for ScheduleProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let group = group_of(&self.schema, props);
        self.put(&group, &name, props, true).await?;
        after_made(&schedule_id(&group, &name), async {
            self.read_existing(&group, &name, props).await
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (group, name) = parse_schedule_id(&req.id)?;
        self.find_schedule(&group, &name, &req.prior_properties)
            .await
    }

    /// One `UpdateSchedule` with the complete desired definition.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (group, name) = parse_schedule_id(&req.id)?;
        for prop in &req.changed {
            if matches!(prop.as_str(), "name" | "group_name") {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            }
        }
        self.put(&group, &name, &req.properties, false).await?;
        self.read_existing(&group, &name, &req.properties).await
    }

    /// `DeleteSchedule`; one already gone (or whose group is gone) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (group, name) = parse_schedule_id(&req.id)?;
        let out = self
            .scheduler
            .delete_schedule()
            .group_name(group)
            .name(name)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// The schedule of the deterministic name in its group, if it exists.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        let group = group_of(&self.schema, &req.properties);
        self.find_schedule(&group, &name, &req.properties).await
    }
}

/// What the loader checks of a schedule's properties together (`TypeSchema::check`): its
/// window, its target, its dates as RFC 3339 times.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        flexible_window(props)?;
        target(props)?;
        date(props, "start_date")?;
        date(props, "end_date")?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_id_is_group_and_name() {
        assert_eq!(schedule_id("default", "nightly"), "default/nightly");
        assert_eq!(
            parse_schedule_id("jobs/nightly").unwrap(),
            ("jobs".to_string(), "nightly".to_string())
        );
        let err = parse_schedule_id("nightly").unwrap_err();
        assert!(err.to_string().contains("GROUP/NAME"), "{err}");
    }

    #[test]
    fn the_default_retry_policy_reads_back_only_when_written() {
        let defaults = RetryPolicy::builder()
            .maximum_event_age_in_seconds(86_400)
            .maximum_retry_attempts(185)
            .build();
        assert_eq!(retry_value(Some(&defaults), None), None);
        let written = Map::from([("maximum_retry_attempts".to_string(), Value::int(185))]);
        assert_eq!(
            retry_value(Some(&defaults), Some(&written)),
            Some(Value::Map(written.clone()))
        );
        let custom = RetryPolicy::builder()
            .maximum_event_age_in_seconds(3600)
            .maximum_retry_attempts(185)
            .build();
        assert_eq!(
            retry_value(Some(&custom), None),
            Some(Value::Map(Map::from([(
                "maximum_event_age_in_seconds".to_string(),
                Value::int(3600)
            )])))
        );
    }

    #[test]
    fn a_date_reads_back_as_written_when_it_is_the_same_instant() {
        let aws = DateTime::from_str("2030-01-01T00:00:00Z", Format::DateTime).unwrap();
        assert_eq!(
            date_value(Some(&aws), Some("2030-01-01T00:00:00.000Z".into())),
            Some(Value::str("2030-01-01T00:00:00.000Z"))
        );
        assert_eq!(
            date_value(Some(&aws), Some("2031-01-01T00:00:00Z".into())),
            Some(Value::str("2030-01-01T00:00:00Z"))
        );
    }
}
