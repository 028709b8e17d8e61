//! `aws.sfn.state_machine`: a Step Functions state machine.
//!
//! `CreateStateMachine` takes everything at once. Step Functions assumes the machine's role when
//! it is created, so a role made moments before may not be assumable yet: the create is retried
//! while AWS says so (as terraform-provider-aws does). `UpdateStateMachine` changes the
//! definition, the role, logging and tracing in place; the name and the type replace the
//! machine. The id is the state machine ARN.
//!
//! The definition is a document: a YAML mapping (or JSON text) in the stack, JSON for AWS,
//! compared semantically. Logging and tracing read back only as far as the stack wrote them
//! (AWS reports `level: OFF` and tracing off for a machine given neither), so a machine whose
//! stack leaves them out re-plans clean; taking them out of the stack turns them off.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sfn::operation::describe_state_machine::DescribeStateMachineOutput;
use aws_sdk_sfn::types::{
    CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration, StateMachineType,
    TracingConfiguration,
};
use aws_smithy_types::date_time::Format;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{sfn_tags, StateMachineTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, required_document_json};
use crate::props::{desired, given, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.sfn.state_machine";

/// Step Functions' limit on a state machine name.
const NAME_MAX_LEN: usize = 80;

/// Step Functions' limit on a definition, in characters (1 MiB).
const DEFINITION_MAX_LEN: usize = 1024 * 1024;

/// The machine types; a machine's type is fixed when it is made.
const TYPES: &[&str] = &["STANDARD", "EXPRESS"];

/// The type a machine gets when the stack names none (AWS's default, and Terraform's).
const DEFAULT_TYPE: &str = "STANDARD";

/// The logging levels Step Functions offers.
const LOG_LEVELS: &[&str] = &["ALL", "ERROR", "FATAL", "OFF"];

/// The level AWS reports for a machine that logs nothing.
const LEVEL_OFF: &str = "OFF";

/// How long `CreateStateMachine` is retried while the new role cannot be assumed yet (IAM
/// propagation) or a machine of the same name is still being deleted: terraform-provider-aws's
/// create timeout for this resource.
const CREATE_PROPAGATION_BUDGET: Duration = Duration::from_secs(5 * 60);

/// How long an update may take to be visible to `DescribeStateMachine` (terraform-provider-aws
/// waits for its update timeout, one minute), looking every second.
const UPDATE_VISIBLE: Wait = Wait {
    timeout: Duration::from_secs(60),
    interval: Duration::from_secs(1),
};

/// How long a deleted machine may stay `DELETING` (running executions are stopped first):
/// terraform-provider-aws's delete timeout, looking every five seconds.
const DELETED: Wait = Wait {
    timeout: Duration::from_secs(5 * 60),
    interval: Duration::from_secs(5),
};

/// The state machine's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String)
                .force_new()
                .length(1, NAME_MAX_LEN),
            Prop::new("definition", Kind::Document)
                .required()
                .length(1, DEFINITION_MAX_LEN),
            Prop::new("role_arn", Kind::String).required().arn(&["iam"]),
            Prop::new("type", Kind::String)
                .force_new()
                .default(DEFAULT_TYPE)
                .allowed(TYPES),
            Prop::new(
                "logging_configuration",
                Kind::Object(vec![
                    Prop::new("level", Kind::String).allowed(LOG_LEVELS),
                    Prop::new("include_execution_data", Kind::Bool),
                    Prop::new("log_destination", Kind::String).arn(&["logs"]),
                ]),
            )
            .resettable(),
            Prop::new(
                "tracing_configuration",
                Kind::Object(vec![Prop::new("enabled", Kind::Bool)]),
            )
            .resettable(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name", "creation_date", "status"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.sfn.state_machine`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(StateMachineProvider::new(ctx)),
    about: "A Step Functions state machine: its definition (a document), role, logging and \
            tracing change in place; its name and type replace it. The create is retried while \
            a new role cannot be assumed yet.",
    import_id: "the state machine ARN",
    attributes: &[
        ("arn", "the state machine ARN"),
        ("name", "the state machine name"),
        ("creation_date", "when the machine was created (RFC 3339)"),
        ("status", "`ACTIVE`, or `DELETING` while it is deleted"),
    ],
    property_notes: &[
        (
            "definition",
            "the Amazon States Language document, as a mapping or JSON text",
        ),
        (
            "logging_configuration",
            "`{level, include_execution_data, log_destination}`; `log_destination` is a log \
             group ARN ending in `:*` (`${logs.arn}:*`); taken out of the stack, logging is \
             turned off",
        ),
        (
            "tracing_configuration",
            "`{enabled}` (X-Ray); taken out of the stack, tracing is turned off",
        ),
    ],
    actions: Actions {
        create: &[
            "states:CreateStateMachine",
            "states:DescribeStateMachine",
            "states:ListTagsForResource",
            "iam:PassRole",
        ],
        read: &[
            "states:DescribeStateMachine",
            "states:ListTagsForResource",
            "states:ListStateMachines",
        ],
        update: &[
            "states:UpdateStateMachine",
            "states:TagResource",
            "states:UntagResource",
            "states:DescribeStateMachine",
            "states:ListTagsForResource",
            "iam:PassRole",
        ],
        delete: &["states:DeleteStateMachine", "states:DescribeStateMachine"],
    },
    resources: &["arn:{partition}:states:{region}:{account}:stateMachine:{name}"],
    passes_role: &[("role_arn", "states.amazonaws.com")],
};

/// True for the errors AWS gives while a new role cannot be assumed by Step Functions yet, or
/// while a machine of the same name is still being deleted: both pass with time.
fn not_yet_creatable(err: &ProviderError) -> bool {
    if err.is_code(&["StateMachineDeleting"]) {
        return true;
    }
    err.is_code(&["AccessDeniedException"])
        && err.message().is_some_and(|m| {
            m.contains("Neither the global service principal")
                || m.contains("authorized to assume the provided role")
        })
}

/// A string field of a nested mapping.
fn field_str(fields: &Map, key: &str) -> Option<String> {
    given(fields, key).and_then(|v| v.as_str().map(str::to_string))
}

/// A bool field of a nested mapping.
fn field_bool(fields: &Map, key: &str) -> Option<bool> {
    given(fields, key).and_then(|v| v.as_bool())
}

/// The nested mapping `prop`, when the stack gives it.
fn nested(props: &Map, prop: &str) -> Option<Map> {
    given(props, prop).and_then(|v| v.as_map().cloned())
}

/// The logging the request asks for: as written, else off.
fn logging(props: &Map) -> Result<LoggingConfiguration> {
    let fields = nested(props, "logging_configuration").unwrap_or_default();
    let level = field_str(&fields, "level").unwrap_or_else(|| LEVEL_OFF.to_string());
    let destinations = field_str(&fields, "log_destination")
        .map(|arn| {
            vec![LogDestination::builder()
                .cloud_watch_logs_log_group(
                    CloudWatchLogsLogGroup::builder().log_group_arn(arn).build(),
                )
                .build()]
        })
        .filter(|d| !d.is_empty());
    Ok(LoggingConfiguration::builder()
        .level(LogLevel::from(level.as_str()))
        .include_execution_data(field_bool(&fields, "include_execution_data").unwrap_or(false))
        .set_destinations(destinations)
        .build())
}

/// The tracing the request asks for: as written, else off.
fn tracing(props: &Map) -> TracingConfiguration {
    let fields = nested(props, "tracing_configuration").unwrap_or_default();
    TracingConfiguration::builder()
        .enabled(field_bool(&fields, "enabled").unwrap_or(false))
        .build()
}

/// The logging AWS reports, in the stack's terms: `None` when it is off and the stack wrote
/// none; otherwise the level and destination, and `include_execution_data` when the stack wrote
/// it or it is on.
fn logging_value(aws: Option<&LoggingConfiguration>, written: Option<&Map>) -> Option<Value> {
    let level = aws
        .and_then(|l| l.level())
        .map_or(LEVEL_OFF, |l| l.as_str())
        .to_string();
    let include = aws.is_some_and(|l| l.include_execution_data());
    let destination = aws
        .and_then(|l| l.destinations().first())
        .and_then(|d| d.cloud_watch_logs_log_group())
        .and_then(|g| g.log_group_arn())
        .map(str::to_string);
    if written.is_none() && level == LEVEL_OFF && !include && destination.is_none() {
        return None;
    }
    let mut map = Map::new();
    let wrote = |key: &str| written.is_some_and(|w| w.contains_key(key));
    if wrote("level") || level != LEVEL_OFF {
        map.insert("level".into(), Value::str(&level));
    }
    if wrote("include_execution_data") || include {
        map.insert("include_execution_data".into(), Value::Bool(include));
    }
    if let Some(arn) = destination {
        map.insert("log_destination".into(), Value::str(arn));
    }
    Some(Value::Map(map))
}

/// The tracing AWS reports, in the stack's terms: `None` when it is off and the stack wrote
/// none.
fn tracing_value(aws: Option<&TracingConfiguration>, written: Option<&Map>) -> Option<Value> {
    let enabled = aws.is_some_and(|t| t.enabled());
    if written.is_none() && !enabled {
        return None;
    }
    Some(Value::Map(Map::from([(
        "enabled".to_string(),
        Value::Bool(enabled),
    )])))
}

/// Manages state machines; the id is the state machine ARN.
pub struct StateMachineProvider {
    schema: TypeSchema,
    sfn: aws_sdk_sfn::Client,
}

impl StateMachineProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            sfn: crate::aws::sdk_client!(aws_sdk_sfn, ctx),
        }
    }

    async fn describe(&self, arn: &str) -> Result<Option<DescribeStateMachineOutput>> {
        let out = self
            .sfn
            .describe_state_machine()
            .state_machine_arn(arn)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND)
    }

    /// The machine in the stack's terms, or `None` when it does not exist. `written` is what
    /// the stack last gave, for how far logging and tracing read back.
    async fn find_machine(&self, arn: &str, written: &Map) -> Result<Option<Resource>> {
        let Some(machine) = self.describe(arn).await? else {
            return Ok(None);
        };
        let tags = self
            .sfn
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(api_error);
        let Some(tags) = missing_is_none(tags, NOT_FOUND)? else {
            return Ok(None);
        };
        let name = machine.name().to_string();
        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(&name));
        properties.insert(
            "definition".into(),
            document_from_aws("definition", machine.definition())?,
        );
        properties.insert("role_arn".into(), Value::str(machine.role_arn()));
        properties.insert("type".into(), Value::str(machine.r#type().as_str()));
        if let Some(value) = logging_value(
            machine.logging_configuration(),
            nested(written, "logging_configuration").as_ref(),
        ) {
            properties.insert("logging_configuration".into(), value);
        }
        if let Some(value) = tracing_value(
            machine.tracing_configuration(),
            nested(written, "tracing_configuration").as_ref(),
        ) {
            properties.insert("tracing_configuration".into(), value);
        }
        properties.insert(
            "tags".into(),
            tags_value(
                tags.tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))),
            ),
        );
        let mut attributes = Map::from([
            ("arn".to_string(), Value::str(machine.state_machine_arn())),
            ("name".to_string(), Value::str(&name)),
            (
                "creation_date".to_string(),
                Value::str(
                    machine
                        .creation_date()
                        .fmt(Format::DateTime)
                        .unwrap_or_default(),
                ),
            ),
        ]);
        if let Some(status) = machine.status() {
            attributes.insert("status".into(), Value::str(status.as_str()));
        }
        Ok(Some(Resource {
            id: machine.state_machine_arn().to_string(),
            properties,
            attributes,
        }))
    }

    async fn read_existing(&self, arn: &str, written: &Map) -> Result<Resource> {
        self.find_machine(arn, written).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "state machine {arn} was written but cannot be read back"
            ))
        })
    }

    /// The ARN of the machine named `name`, from `ListStateMachines`.
    async fn arn_by_name(&self, name: &str) -> Result<Option<String>> {
        let mut machines = self.sfn.list_state_machines().into_paginator().send();
        while let Some(page) = machines.next().await {
            let page = page.map_err(api_error)?;
            if let Some(machine) = page.state_machines().iter().find(|m| m.name() == name) {
                return Ok(Some(machine.state_machine_arn().to_string()));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl Provider for StateMachineProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// `CreateStateMachine` with everything, retried while the role cannot be assumed yet.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let definition = required_document_json(props, "definition")?;
        let role_arn = required_str(props, "role_arn")?;
        let kind = desired(&self.schema, props, "type")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_TYPE.to_string());
        let tags = sfn_tags(tag_strings(props.get("tags"))?)?;
        let logging = given(props, "logging_configuration")
            .is_some()
            .then(|| logging(props))
            .transpose()?;
        let tracing = given(props, "tracing_configuration")
            .is_some()
            .then(|| tracing(props));
        let out = with_backoff(CREATE_PROPAGATION_BUDGET, not_yet_creatable, || {
            let call = self
                .sfn
                .create_state_machine()
                .name(&name)
                .definition(&definition)
                .role_arn(&role_arn)
                .r#type(StateMachineType::from(kind.as_str()))
                .set_logging_configuration(logging.clone())
                .set_tracing_configuration(tracing.clone())
                .set_tags((!tags.is_empty()).then(|| tags.clone()));
            async move { call.send().await.map_err(api_error) }
        })
        .await?;
        let arn = out.state_machine_arn().to_string();
        after_made(&arn, async { self.read_existing(&arn, props).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_machine(&req.id, &req.prior_properties).await
    }

    /// One `UpdateStateMachine` for the definition, role, logging and tracing (the ones that
    /// changed), waiting until it is visible; tags by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let arn = req.id.as_str();
        let props = &req.properties;
        let changed = |prop: &str| req.changed.iter().any(|p| p == prop);
        for prop in &req.changed {
            if !matches!(
                prop.as_str(),
                "definition"
                    | "role_arn"
                    | "logging_configuration"
                    | "tracing_configuration"
                    | "tags"
            ) {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            }
        }
        let machine_level = [
            "definition",
            "role_arn",
            "logging_configuration",
            "tracing_configuration",
        ];
        if machine_level.iter().any(|p| changed(p)) {
            let definition = required_document_json(props, "definition")?;
            let role_arn = required_str(props, "role_arn")?;
            self.sfn
                .update_state_machine()
                .state_machine_arn(arn)
                .definition(&definition)
                .role_arn(&role_arn)
                .set_logging_configuration(
                    changed("logging_configuration")
                        .then(|| logging(props))
                        .transpose()?,
                )
                .set_tracing_configuration(changed("tracing_configuration").then(|| tracing(props)))
                .send()
                .await
                .map_err(api_error)?;
            let wanted = document_from_aws("definition", &definition)?;
            wait_for(
                &format!("state machine {arn} to show its update"),
                UPDATE_VISIBLE,
                || async {
                    let Some(machine) = self.describe(arn).await? else {
                        return Ok(None);
                    };
                    let shown = document_from_aws("definition", machine.definition())?;
                    Ok((shown == wanted && machine.role_arn() == role_arn).then_some(()))
                },
            )
            .await?;
        }
        if changed("tags") {
            let api = StateMachineTags {
                client: &self.sfn,
                id: arn,
            };
            reconcile(&api, &req.prior_properties, props).await?;
        }
        self.read_existing(arn, props).await
    }

    /// `DeleteStateMachine`, then waits until the machine is gone (AWS stops its running
    /// executions first); one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .sfn
            .delete_state_machine()
            .state_machine_arn(&req.id)
            .send()
            .await
            .map_err(api_error);
        if missing_is_none(out, NOT_FOUND)?.is_none() {
            return Ok(());
        }
        wait_for(
            &format!("state machine {} to be deleted", req.id),
            DELETED,
            || async { Ok(self.describe(&req.id).await?.is_none().then_some(())) },
        )
        .await
    }

    /// The machine of the deterministic name, if it exists.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        let Some(arn) = self.arn_by_name(&name).await? else {
            return Ok(None);
        };
        self.find_machine(&arn, &req.properties).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, message: &str) -> ProviderError {
        ProviderError::Api {
            code: code.into(),
            message: message.into(),
        }
    }

    #[test]
    fn only_a_role_not_yet_assumable_or_a_machine_still_deleting_is_retried() {
        assert!(not_yet_creatable(&err(
            "AccessDeniedException",
            "Neither the global service principal states.amazonaws.com, nor the regional one is \
             authorized to assume the provided role."
        )));
        assert!(not_yet_creatable(&err("StateMachineDeleting", "")));
        assert!(!not_yet_creatable(&err(
            "AccessDeniedException",
            "User is not authorized to perform: states:CreateStateMachine"
        )));
        assert!(!not_yet_creatable(&err("InvalidDefinition", "bad")));
    }

    #[test]
    fn logging_and_tracing_that_are_off_read_back_as_absent_unless_written() {
        let off = LoggingConfiguration::builder()
            .level(LogLevel::Off)
            .include_execution_data(false)
            .build();
        assert_eq!(logging_value(Some(&off), None), None);
        let written = Map::from([("level".to_string(), Value::str("OFF"))]);
        assert_eq!(
            logging_value(Some(&off), Some(&written)),
            Some(Value::Map(written.clone()))
        );
        let on = LoggingConfiguration::builder()
            .level(LogLevel::All)
            .include_execution_data(false)
            .destinations(
                LogDestination::builder()
                    .cloud_watch_logs_log_group(
                        CloudWatchLogsLogGroup::builder()
                            .log_group_arn("arn:aws:logs:us-east-1:1:log-group:g:*")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let read = logging_value(Some(&on), None).unwrap();
        assert_eq!(
            read.as_map().unwrap().keys().collect::<Vec<_>>(),
            ["level", "log_destination"]
        );
        let untraced = TracingConfiguration::builder().enabled(false).build();
        assert_eq!(tracing_value(Some(&untraced), None), None);
    }
}
