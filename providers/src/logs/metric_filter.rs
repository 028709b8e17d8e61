//! `aws.logs.metric_filter`: a metric filter on a log group, turning matching events into a
//! CloudWatch metric.
//!
//! `PutMetricFilter` creates the filter or replaces it whole, so create and every in-place
//! change are that one call with the complete definition. The log group and the filter name
//! replace the filter. The id is `LOG_GROUP:NAME`, the id Terraform imports (neither name may
//! hold a `:`).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricTransformation, StandardUnit};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{split_two_part_id, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::cloudwatch::STANDARD_UNITS;
use crate::props::{given, number, required_str};
use crate::tags::{tag_strings, tags_value};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.logs.metric_filter";

/// CloudWatch Logs' limit on a filter name.
const NAME_MAX_LEN: usize = 512;

/// The unit CloudWatch Logs gives a metric transformation that names none.
const DEFAULT_UNIT: &str = "None";

/// How many times a delete is repeated while `DescribeMetricFilters` still lists the filter.
/// Names are unique in a log group, so on AWS the first delete is the last; the check after it
/// costs one call and makes a delete that did not take an error instead of a leftover.
const DELETE_ATTEMPTS: usize = 5;

/// The filter's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("log_group_name", Kind::String)
                .required()
                .force_new(),
            Prop::new("pattern", Kind::String).required(),
            Prop::new(
                "metric_transformation",
                Kind::Object(vec![
                    Prop::new("name", Kind::String).required(),
                    Prop::new("namespace", Kind::String).required(),
                    Prop::new("value", Kind::String).required(),
                    Prop::new("default_value", Kind::Number),
                    Prop::new("unit", Kind::String).allowed(STANDARD_UNITS),
                    Prop::new("dimensions", Kind::Map(Box::new(Kind::String))),
                ]),
            )
            .required(),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.logs.metric_filter`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(MetricFilterProvider::new(ctx)),
    about: "A metric filter on a log group: events matching `pattern` become a CloudWatch \
            metric; a change is one `PutMetricFilter` with the whole filter.",
    import_id: "`LOG_GROUP:NAME`: the log group name, a `:`, and the filter name",
    attributes: &[("id", "`LOG_GROUP:NAME`, the id `strata import` takes")],
    property_notes: &[
        (
            "pattern",
            "a filter pattern; `\"\"` matches every event. Leading and trailing spaces are \
             dropped, as AWS drops them",
        ),
        (
            "metric_transformation",
            "the metric: its `name`, `namespace`, the `value` each match adds (`\"1\"` or \
             `$.field`), and optionally `default_value`, `unit` (AWS's default `None`) and \
             `dimensions` (up to three fields of the event)",
        ),
    ],
    actions: Actions {
        create: &["logs:PutMetricFilter"],
        read: &["logs:DescribeMetricFilters"],
        update: &["logs:PutMetricFilter"],
        delete: &["logs:DeleteMetricFilter", "logs:DescribeMetricFilters"],
    },
    resources: &[
        "arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}",
        "arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}:*",
    ],
    passes_role: &[],
};

/// The id of the filter `name` on `log_group`.
fn filter_id(log_group: &str, name: &str) -> String {
    format!("{log_group}:{name}")
}

/// The metric transformation the stack gives, as AWS takes it.
fn transformation(props: &Map) -> Result<MetricTransformation> {
    let block = given(props, "metric_transformation")
        .ok_or_else(|| ProviderError::invalid("`metric_transformation` is required"))?;
    let fields = block
        .as_map()
        .ok_or_else(|| ProviderError::invalid("`metric_transformation` must be a mapping"))?;
    let text = |field: &str| -> Result<Option<String>> {
        match given(fields, field) {
            None => Ok(None),
            Some(v) => v.as_str().map(|s| Some(s.to_string())).ok_or_else(|| {
                ProviderError::invalid(format!("`metric_transformation.{field}` must be a string"))
            }),
        }
    };
    let default_value = match given(fields, "default_value") {
        None => None,
        Some(v) => Some(v.as_f64().ok_or_else(|| {
            ProviderError::invalid("`metric_transformation.default_value` must be a number")
        })?),
    };
    let dimensions: HashMap<String, String> =
        tag_strings(fields.get("dimensions"))?.into_iter().collect();
    MetricTransformation::builder()
        .set_metric_name(text("name")?)
        .set_metric_namespace(text("namespace")?)
        .set_metric_value(text("value")?)
        .set_default_value(default_value)
        .set_unit(text("unit")?.map(|u| StandardUnit::from(u.as_str())))
        .set_dimensions((!dimensions.is_empty()).then_some(dimensions))
        .build()
        .map_err(|e| ProviderError::invalid(format!("`metric_transformation`: {e}")))
}

/// AWS's metric transformation in the stack's terms. `written` is the block the stack last
/// gave: a unit AWS reports as its default is shown only when the stack wrote one, and empty
/// dimensions only when the stack wrote them, so a stack that leaves them out reads back clean.
fn transformation_value(t: &MetricTransformation, written: Option<&Map>) -> Value {
    let wrote = |field: &str| written.is_some_and(|w| given(w, field).is_some());
    let mut block = Map::new();
    block.insert("name".into(), Value::str(t.metric_name()));
    block.insert("namespace".into(), Value::str(t.metric_namespace()));
    block.insert("value".into(), Value::str(t.metric_value()));
    if let Some(v) = t.default_value() {
        block.insert("default_value".into(), number(v));
    }
    let unit = t.unit().map_or(DEFAULT_UNIT, StandardUnit::as_str);
    if unit != DEFAULT_UNIT || wrote("unit") {
        block.insert("unit".into(), Value::str(unit));
    }
    let dimensions = t.dimensions().filter(|d| !d.is_empty());
    if dimensions.is_some() || wrote("dimensions") {
        block.insert(
            "dimensions".into(),
            tags_value(
                dimensions
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            ),
        );
    }
    Value::Map(block)
}

/// The filter pattern as the stack wrote it, when that is what AWS holds once trimmed.
fn pattern_value(aws: &str, written: &Map) -> Value {
    match written.get("pattern").and_then(Value::as_str) {
        Some(w) if w.trim() == aws.trim() => Value::str(w),
        _ => Value::str(aws),
    }
}

/// Manages metric filters; the id is `LOG_GROUP:NAME`.
pub struct MetricFilterProvider {
    schema: TypeSchema,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl MetricFilterProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            logs: crate::aws::sdk_client!(aws_sdk_cloudwatchlogs, ctx),
        }
    }

    /// The filter `name` on `log_group` as AWS describes it; `None` when it or its group is gone.
    async fn describe(&self, log_group: &str, name: &str) -> Result<Option<MetricFilter>> {
        let mut filters = self
            .logs
            .describe_metric_filters()
            .log_group_name(log_group)
            .filter_name_prefix(name)
            .into_paginator()
            .items()
            .send();
        let mut found = None;
        while let Some(filter) = filters.next().await {
            let Some(filter) = missing_is_none(filter.map_err(api_error), NOT_FOUND)? else {
                return Ok(None);
            };
            // Names are unique in a log group; should a listing ever repeat one, the last
            // listed is the latest put.
            if filter.filter_name() == Some(name) {
                found = Some(filter);
            }
        }
        Ok(found)
    }

    /// The filter in the stack's terms, or `None` when it does not exist.
    async fn find_filter(
        &self,
        log_group: &str,
        name: &str,
        written: &Map,
    ) -> Result<Option<Resource>> {
        let Some(filter) = self.describe(log_group, name).await? else {
            return Ok(None);
        };
        Ok(Some(filter_resource(
            log_group,
            name,
            filter.filter_pattern().unwrap_or_default(),
            filter.metric_transformations().first(),
            written,
        )))
    }

    /// One `PutMetricFilter` with the whole filter the request gives; what was put is recorded,
    /// nothing read back.
    async fn put(&self, props: &Map) -> Result<Resource> {
        let name = required_str(props, "name")?;
        let log_group = required_str(props, "log_group_name")?;
        let pattern = required_str(props, "pattern")?;
        let transformation = transformation(props)?;
        self.logs
            .put_metric_filter()
            .log_group_name(&log_group)
            .filter_name(&name)
            .filter_pattern(pattern.trim())
            .metric_transformations(transformation.clone())
            .send()
            .await
            .map_err(api_error)?;
        Ok(filter_resource(
            &log_group,
            &name,
            pattern.trim(),
            Some(&transformation),
            props,
        ))
    }
}

/// The filter `name` of `log_group` with `pattern` and `transformation` in the stack's terms;
/// `written` is what the stack last gave (the shape the pattern and transformation read in).
fn filter_resource(
    log_group: &str,
    name: &str,
    pattern: &str,
    transformation: Option<&MetricTransformation>,
    written: &Map,
) -> Resource {
    let id = filter_id(log_group, name);
    let written_block = written.get("metric_transformation").and_then(Value::as_map);
    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(name));
    properties.insert("log_group_name".into(), Value::str(log_group));
    properties.insert("pattern".into(), pattern_value(pattern, written));
    if let Some(t) = transformation {
        properties.insert(
            "metric_transformation".into(),
            transformation_value(t, written_block),
        );
    }
    Resource {
        attributes: Map::from([("id".to_string(), Value::str(&id))]),
        id,
        properties,
    }
}

#[async_trait]
impl Provider for MetricFilterProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// One `PutMetricFilter`: until it succeeds there is no filter, and after it the filter is
    /// whole, so there is nothing half-made to record.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        self.put(&req.properties).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (log_group, name) = split_two_part_id(&req.id, ':', "metric filter")?;
        self.find_filter(log_group, name, &req.prior_properties)
            .await
    }

    /// `pattern` and `metric_transformation` change by putting the whole filter again.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req
            .changed
            .iter()
            .find(|p| !matches!(p.as_str(), "pattern" | "metric_transformation"))
        {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        self.put(&req.properties).await
    }

    /// `DeleteMetricFilter` until the filter is no longer listed; a filter or log group already
    /// gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (log_group, name) = split_two_part_id(&req.id, ':', "metric filter")?;
        for _ in 0..DELETE_ATTEMPTS {
            let out = self
                .logs
                .delete_metric_filter()
                .log_group_name(log_group)
                .filter_name(name)
                .send()
                .await
                .map_err(api_error);
            missing_is_none(out, NOT_FOUND)?;
            if self.describe(log_group, name).await?.is_none() {
                return Ok(());
            }
        }
        Err(ProviderError::invalid(format!(
            "metric filter {} is still listed after {DELETE_ATTEMPTS} deletes",
            req.id
        )))
    }

    /// The filter of the recorded log group and deterministic name, if it exists.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let log_group = required_str(&req.properties, "log_group_name")?;
        let name = required_str(&req.properties, "name")?;
        self.find_filter(&log_group, &name, &req.properties).await
    }
}

/// What the loader checks of a metric filter's transformation (`TypeSchema::check`).
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        transformation(props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_splits_into_the_log_group_and_the_filter_name() {
        let id = filter_id("/app/web", "errors");
        assert_eq!(
            split_two_part_id(&id, ':', "metric filter").unwrap(),
            ("/app/web", "errors")
        );
        for bad in ["", "errors", ":errors", "/app/web:"] {
            let err = split_two_part_id(bad, ':', "metric filter")
                .unwrap_err()
                .to_string();
            assert!(err.contains("LOG_GROUP:NAME"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_default_unit_and_no_dimensions_read_back_as_the_stack_left_them_out() {
        let t = MetricTransformation::builder()
            .metric_name("Errors")
            .metric_namespace("App")
            .metric_value("1")
            .unit(StandardUnit::None)
            .build()
            .unwrap();
        let block = transformation_value(&t, None);
        let fields = block.as_map().unwrap();
        assert!(!fields.contains_key("unit"), "{block:?}");
        assert!(!fields.contains_key("dimensions"), "{block:?}");

        let written = Map::from([("unit".to_string(), Value::str("None"))]);
        let block = transformation_value(&t, Some(&written));
        assert_eq!(block.as_map().unwrap()["unit"], Value::str("None"));
    }

    #[test]
    fn a_pattern_written_with_spaces_reads_back_as_written() {
        let written = Map::from([("pattern".to_string(), Value::str(" ERROR "))]);
        assert_eq!(pattern_value("ERROR", &written), Value::str(" ERROR "));
        assert_eq!(pattern_value("WARN", &written), Value::str("WARN"));
    }
}
