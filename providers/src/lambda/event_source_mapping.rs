//! `aws.lambda.event_source_mapping`: Lambda polling a queue or stream and invoking a function.
//!
//! A mapping moves through transitional states (`Creating`, `Enabling`, `Disabling`,
//! `Updating`, `Deleting`); create and update wait for it to settle, delete waits for it to be
//! gone, so that a function or queue deleted after it is no longer in use. The id is the
//! mapping's UUID.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_lambda::operation::get_event_source_mapping::GetEventSourceMappingOutput;
use aws_sdk_lambda::types::EventSourcePosition;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::function::{function_name_of, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.lambda.event_source_mapping";

/// How long Lambda may take to accept a mapping whose function's role was just given access to
/// the source ("The provided execution role does not have permissions to call ReceiveMessage"):
/// IAM propagates in seconds; terraform-provider-aws allows two minutes.
const ROLE_PROPAGATION_BUDGET: Duration = Duration::from_secs(120);

/// How long a mapping may stay in a transitional state after create or update, looking every
/// 2 s.
const MAPPING_SETTLED: Wait = Wait {
    timeout: Duration::from_secs(600),
    interval: Duration::from_secs(2),
};
/// How long a deleted mapping may stay `Deleting`, looking every 2 s.
const MAPPING_DELETED: Wait = Wait {
    timeout: Duration::from_secs(600),
    interval: Duration::from_secs(2),
};

/// How long update and delete keep retrying `ResourceInUseException` (the mapping is still
/// changing from a previous call).
const MAPPING_IN_USE_BUDGET: Duration = Duration::from_secs(120);

/// States a mapping passes through on its way to `Enabled` or `Disabled`.
const TRANSITIONAL_STATES: &[&str] = &["Creating", "Enabling", "Disabling", "Updating"];

/// The mapping's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("function_name", Kind::String).required(),
            Prop::new("event_source_arn", Kind::String)
                .arn(&["sqs", "kinesis", "dynamodb", "kafka", "mq"])
                .required()
                .force_new(),
            Prop::new("batch_size", Kind::Integer).range(1, 10_000),
            Prop::new("maximum_batching_window_in_seconds", Kind::Integer).range(0, 300),
            Prop::new("enabled", Kind::Bool).default(true),
            Prop::new("starting_position", Kind::String)
                .force_new()
                .allowed(&["TRIM_HORIZON", "LATEST"]),
            Prop::new("parallelization_factor", Kind::Integer).range(1, 10),
            Prop::new("maximum_retry_attempts", Kind::Integer).range(-1, 10_000),
            Prop::new("maximum_record_age_in_seconds", Kind::Integer).range(-1, 604_800),
            Prop::new("bisect_batch_on_function_error", Kind::Bool),
        ],
        attrs: vec!["id", "state"],
        taggable: false,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: None,
    }
}

/// How the catalogue knows `aws.lambda.event_source_mapping`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(EventSourceMappingProvider::new(ctx)),
    about: "Lambda polling a queue or stream and invoking a function; create and update wait \
            for it to settle, delete for it to be gone.",
    import_id: "the mapping's UUID",
    attributes: &[
        ("id", "the mapping's UUID"),
        ("state", "the mapping's state (`Enabled`, `Disabled`, ...)"),
    ],
    property_notes: &[
        (
            "function_name",
            "a function name or ARN; it reads back the way the stack wrote it",
        ),
        (
            "starting_position",
            "required for a stream source (a DynamoDB or Kinesis stream), refused for a queue",
        ),
        (
            "parallelization_factor",
            "this and `maximum_retry_attempts`, `maximum_record_age_in_seconds` and \
             `bisect_batch_on_function_error` are for stream sources",
        ),
    ],
    actions: Actions {
        create: &[
            "lambda:CreateEventSourceMapping",
            "lambda:GetEventSourceMapping",
            "lambda:DeleteEventSourceMapping",
        ],
        read: &[
            "lambda:GetEventSourceMapping",
            "lambda:ListEventSourceMappings",
        ],
        update: &[
            "lambda:UpdateEventSourceMapping",
            "lambda:GetEventSourceMapping",
        ],
        delete: &[
            "lambda:DeleteEventSourceMapping",
            "lambda:GetEventSourceMapping",
        ],
    },
    resources: &["arn:{partition}:lambda:{region}:{account}:event-source-mapping:{id}"],
    passes_role: &[],
};

/// The function as the stack names it: the ARN when the stack gave an ARN, else the name.
fn function_as_read(function_arn: &str, prior: Option<&str>) -> String {
    match prior {
        Some(prior) if prior.starts_with("arn:") => function_arn.to_string(),
        _ => function_name_of(function_arn).to_string(),
    }
}

fn optional_i32(props: &Map, prop: &str) -> Result<Option<i32>> {
    match given(props, prop) {
        None => Ok(None),
        Some(v) => {
            let n = v.as_i64().ok_or_else(|| {
                ProviderError::invalid(format!("`{prop}` must be a whole number"))
            })?;
            i32::try_from(n)
                .map(Some)
                .map_err(|_| ProviderError::invalid(format!("`{prop}` {n} is out of range")))
        }
    }
}

fn optional_bool(props: &Map, prop: &str) -> Option<bool> {
    given(props, prop).and_then(|v| v.as_bool())
}

/// True for the ARN of a source Lambda reads as a stream (a DynamoDB table's stream, a Kinesis
/// stream), where it needs a `starting_position`; false for a queue.
fn is_stream_source(arn: &str) -> bool {
    let service = arn.split(':').nth(2).unwrap_or_default();
    (service == "dynamodb" && arn.contains("/stream/")) || service == "kinesis"
}

/// Lambda requires a starting position for a stream source and refuses one for a queue.
fn check_starting_position(props: &Map) -> Result<()> {
    let source = required_str(props, "event_source_arn")?;
    match (is_stream_source(&source), given(props, "starting_position")) {
        (true, None) => Err(ProviderError::invalid(format!(
            "`starting_position` (TRIM_HORIZON or LATEST) is required for the stream source \
             {source}"
        ))),
        (false, Some(_)) if source.split(':').nth(2) == Some("sqs") => Err(ProviderError::invalid(
            format!("`starting_position` is only for stream sources, not the queue {source}"),
        )),
        _ => Ok(()),
    }
}

/// The mapping in the stack's terms, from an answer describing it (`GetEventSourceMapping`'s,
/// or `CreateEventSourceMapping`'s, which has the same fields).
macro_rules! mapping_resource {
    ($answer:expr, $prior:expr) => {{
        let out = &$answer;
        let prior: &Map = $prior;
        (|| -> Result<Resource> {
            let uuid = out.uuid().ok_or_else(|| {
                ProviderError::invalid("Lambda returned a mapping without a UUID")
            })?;
            let state = out.state().unwrap_or_default();
            let mut properties = Map::new();
            if let Some(function_arn) = out.function_arn() {
                let prior_function = prior.get("function_name").and_then(Value::as_str);
                properties.insert(
                    "function_name".into(),
                    Value::str(function_as_read(function_arn, prior_function)),
                );
            }
            if let Some(source) = out.event_source_arn() {
                properties.insert("event_source_arn".into(), Value::str(source));
            }
            if let Some(size) = out.batch_size() {
                properties.insert("batch_size".into(), Value::int(i64::from(size)));
            }
            if let Some(window) = out.maximum_batching_window_in_seconds() {
                properties.insert(
                    "maximum_batching_window_in_seconds".into(),
                    Value::int(i64::from(window)),
                );
            }
            properties.insert(
                "enabled".into(),
                Value::Bool(!matches!(state, "Disabled" | "Disabling")),
            );
            if let Some(position) = out.starting_position() {
                properties.insert("starting_position".into(), Value::str(position.as_str()));
            }
            for (prop, value) in [
                ("parallelization_factor", out.parallelization_factor()),
                ("maximum_retry_attempts", out.maximum_retry_attempts()),
                (
                    "maximum_record_age_in_seconds",
                    out.maximum_record_age_in_seconds(),
                ),
            ] {
                if let Some(n) = value {
                    properties.insert(prop.into(), Value::int(i64::from(n)));
                }
            }
            if let Some(bisect) = out.bisect_batch_on_function_error() {
                properties.insert("bisect_batch_on_function_error".into(), Value::Bool(bisect));
            }
            Ok(Resource {
                id: uuid.to_string(),
                properties,
                attributes: Map::from([
                    ("id".to_string(), Value::str(uuid)),
                    ("state".to_string(), Value::str(state)),
                ]),
            })
        })()
    }};
}

/// Manages event source mappings; the id is the mapping's UUID.
pub struct EventSourceMappingProvider {
    schema: TypeSchema,
    lambda: aws_sdk_lambda::Client,
}

impl EventSourceMappingProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            lambda: crate::aws::sdk_client!(aws_sdk_lambda, ctx),
        }
    }

    async fn get(&self, uuid: &str) -> Result<Option<GetEventSourceMappingOutput>> {
        let out = self
            .lambda
            .get_event_source_mapping()
            .uuid(uuid)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND)
    }

    /// Deletes the mapping and waits until it is gone; one already gone is success.
    async fn remove(&self, uuid: &str) -> Result<()> {
        let out = with_backoff(MAPPING_IN_USE_BUDGET, in_use, || {
            let call = self.lambda.delete_event_source_mapping().uuid(uuid);
            async move { call.send().await.map_err(api_error) }
        })
        .await;
        if missing_is_none(out, NOT_FOUND)?.is_none() {
            return Ok(());
        }
        wait_for(
            &format!("event source mapping {uuid} to be deleted"),
            MAPPING_DELETED,
            || async { Ok(self.get(uuid).await?.is_none().then_some(())) },
        )
        .await
    }

    /// Waits until the mapping is no longer in a transitional state, and returns it.
    async fn wait_settled(&self, uuid: &str, prior: &Map) -> Result<Resource> {
        wait_for(
            &format!("event source mapping {uuid} to settle"),
            MAPPING_SETTLED,
            || async {
                let out = self.get(uuid).await?.ok_or_else(|| {
                    ProviderError::invalid(format!("event source mapping {uuid} disappeared"))
                })?;
                if TRANSITIONAL_STATES.contains(&out.state().unwrap_or_default()) {
                    return Ok(None);
                }
                mapping_resource!(out, prior).map(Some)
            },
        )
        .await
    }
}

fn in_use(e: &ProviderError) -> bool {
    e.is_code(&["ResourceInUseException"])
}

#[async_trait]
impl Provider for EventSourceMappingProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        check_starting_position(props)?;
        let enabled = desired(&self.schema, props, "enabled").and_then(|v| v.as_bool());
        let call = self
            .lambda
            .create_event_source_mapping()
            .function_name(required_str(props, "function_name")?)
            .event_source_arn(required_str(props, "event_source_arn")?)
            .set_batch_size(optional_i32(props, "batch_size")?)
            .set_maximum_batching_window_in_seconds(optional_i32(
                props,
                "maximum_batching_window_in_seconds",
            )?)
            .set_enabled(enabled)
            .set_starting_position(
                given(props, "starting_position")
                    .and_then(|v| v.as_str().map(EventSourcePosition::from)),
            )
            .set_parallelization_factor(optional_i32(props, "parallelization_factor")?)
            .set_maximum_retry_attempts(optional_i32(props, "maximum_retry_attempts")?)
            .set_maximum_record_age_in_seconds(optional_i32(
                props,
                "maximum_record_age_in_seconds",
            )?)
            .set_bisect_batch_on_function_error(optional_bool(
                props,
                "bisect_batch_on_function_error",
            ));
        let out = with_backoff(
            ROLE_PROPAGATION_BUDGET,
            |e| {
                e.is_code(&["InvalidParameterValueException"])
                    && e.message().is_some_and(|m| m.contains("execution role"))
            },
            || {
                let call = call.clone();
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;
        let uuid = out
            .uuid()
            .ok_or_else(|| ProviderError::invalid("CreateEventSourceMapping returned no UUID"))?;
        // Lambda answers `Creating` until the mapping settles (the documented wait); an answer
        // already settled describes it as made, and nothing is read back.
        let settled = if TRANSITIONAL_STATES.contains(&out.state().unwrap_or_default()) {
            self.wait_settled(uuid, props).await
        } else {
            mapping_resource!(out, props)
        };
        match settled {
            Ok(mapping) => Ok(mapping),
            // Undo the half-made mapping; if that fails too, it is recorded as tainted.
            Err(err) => Err(err.after_rollback(uuid, self.remove(uuid).await)),
        }
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        match self.get(&req.id).await? {
            Some(out) => mapping_resource!(out, &req.prior_properties).map(Some),
            None => Ok(None),
        }
    }

    /// One `UpdateEventSourceMapping` with the changed settings, then waits for it to settle.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let props = &req.properties;
        let mut call = self.lambda.update_event_source_mapping().uuid(&req.id);
        for prop in &req.changed {
            call = match prop.as_str() {
                "function_name" => call.function_name(required_str(props, "function_name")?),
                "batch_size" => call.set_batch_size(optional_i32(props, "batch_size")?),
                "maximum_batching_window_in_seconds" => call
                    .set_maximum_batching_window_in_seconds(optional_i32(
                        props,
                        "maximum_batching_window_in_seconds",
                    )?),
                "enabled" => call
                    .set_enabled(desired(&self.schema, props, "enabled").and_then(|v| v.as_bool())),
                "parallelization_factor" => {
                    call.set_parallelization_factor(optional_i32(props, "parallelization_factor")?)
                }
                "maximum_retry_attempts" => {
                    call.set_maximum_retry_attempts(optional_i32(props, "maximum_retry_attempts")?)
                }
                "maximum_record_age_in_seconds" => call.set_maximum_record_age_in_seconds(
                    optional_i32(props, "maximum_record_age_in_seconds")?,
                ),
                "bisect_batch_on_function_error" => call.set_bisect_batch_on_function_error(
                    optional_bool(props, "bisect_batch_on_function_error"),
                ),
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            };
        }
        if !req.changed.is_empty() {
            with_backoff(MAPPING_IN_USE_BUDGET, in_use, || {
                let call = call.clone();
                async move { call.send().await.map_err(api_error) }
            })
            .await?;
        }
        self.wait_settled(&req.id, props).await
    }

    /// Deletes the mapping and waits until it is gone; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        self.remove(&req.id).await
    }

    /// Finds the mapping of this source to this function. Lambda filters by source; the
    /// function is matched here, as a name or an ARN.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let function = required_str(&req.properties, "function_name")?;
        let source = required_str(&req.properties, "event_source_arn")?;
        let mut pages = self
            .lambda
            .list_event_source_mappings()
            .event_source_arn(&source)
            .into_paginator()
            .items()
            .send();
        while let Some(mapping) = pages.next().await {
            let mapping = mapping.map_err(api_error)?;
            let same_function = mapping
                .function_arn()
                .is_some_and(|arn| function_name_of(arn) == function_name_of(&function));
            if same_function && mapping.event_source_arn() == Some(source.as_str()) {
                if let Some(uuid) = mapping.uuid() {
                    return match self.get(uuid).await? {
                        Some(out) => mapping_resource!(out, &req.properties).map(Some),
                        None => Ok(None),
                    };
                }
            }
        }
        Ok(None)
    }
}

/// What the loader checks of a mapping's properties together (`TypeSchema::check`): a
/// starting position for a stream source, none for a queue.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        check_starting_position(props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_source_needs_a_starting_position_and_a_queue_refuses_one() {
        let stream =
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000";
        let queue = "arn:aws:sqs:us-east-1:123456789012:orders";
        let props = |source: &str, position: Option<&str>| {
            let mut props = Map::from([("event_source_arn".to_string(), Value::str(source))]);
            if let Some(position) = position {
                props.insert("starting_position".into(), Value::str(position));
            }
            props
        };
        assert!(check_starting_position(&props(stream, None)).is_err());
        assert!(check_starting_position(&props(stream, Some("LATEST"))).is_ok());
        assert!(check_starting_position(&props(queue, None)).is_ok());
        assert!(check_starting_position(&props(queue, Some("LATEST"))).is_err());
        assert!(is_stream_source(
            "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
        ));
    }

    #[test]
    fn the_function_reads_back_as_a_name_or_an_arn_as_the_stack_gave_it() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:orders";
        assert_eq!(function_as_read(arn, Some("orders")), "orders");
        assert_eq!(function_as_read(arn, Some(arn)), arn);
        assert_eq!(function_as_read(arn, None), "orders");
    }
}
