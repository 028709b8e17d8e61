//! `aws.cloudwatch.metric_alarm`: a CloudWatch alarm on one metric.
//!
//! `PutMetricAlarm` creates an alarm or replaces it whole: any setting it is not given is
//! cleared. So an update puts the complete desired alarm again, and every optional setting the
//! stack stops giving is cleared by that put. Because a put would silently take over an alarm of
//! the same name, create first checks that none exists, as terraform-provider-aws does. Tags are
//! given to the first put; on later puts AWS ignores them, so they change through
//! `TagResource`/`UntagResource`. The id is the alarm name.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension, MetricAlarm, StandardUnit, Statistic,
};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{cloudwatch_tags, AlarmTags, STANDARD_UNITS};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, number, required_str, set_in_prior_order};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.cloudwatch.metric_alarm";

/// CloudWatch's limit on an alarm name.
const NAME_MAX_LEN: usize = 255;

/// How CloudWatch says an alarm does not exist.
const NOT_FOUND: &[&str] = &["ResourceNotFound", "ResourceNotFoundException"];

/// How an alarm compares the statistic with the threshold.
const COMPARISON_OPERATORS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];

/// The standard statistics (percentiles go in `extended_statistic`).
const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// How an alarm treats periods without data.
const MISSING_DATA: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];

/// What CloudWatch does with missing data when the alarm does not say.
const DEFAULT_MISSING_DATA: &str = "missing";

/// The alarm's properties.
pub fn schema() -> TypeSchema {
    let actions = || Kind::List(Box::new(Kind::String));
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("alarm_name", Kind::String).force_new(),
            Prop::new("namespace", Kind::String).resettable(),
            Prop::new("metric_name", Kind::String).resettable(),
            Prop::new("statistic", Kind::String)
                .allowed(STATISTICS)
                .resettable(),
            Prop::new("extended_statistic", Kind::String).resettable(),
            Prop::new("dimensions", Kind::Map(Box::new(Kind::String))).resettable(),
            Prop::new("period", Kind::Integer).resettable(),
            Prop::new("evaluation_periods", Kind::Integer).required(),
            Prop::new("datapoints_to_alarm", Kind::Integer).resettable(),
            Prop::new("threshold", Kind::Number).resettable(),
            Prop::new("comparison_operator", Kind::String)
                .required()
                .allowed(COMPARISON_OPERATORS),
            Prop::new("alarm_actions", actions()).resettable(),
            Prop::new("ok_actions", actions()).resettable(),
            Prop::new("insufficient_data_actions", actions()).resettable(),
            Prop::new("treat_missing_data", Kind::String)
                .default(DEFAULT_MISSING_DATA)
                .allowed(MISSING_DATA),
            Prop::new("alarm_description", Kind::String).resettable(),
            Prop::new("actions_enabled", Kind::Bool).default(true),
            Prop::new("unit", Kind::String)
                .allowed(STANDARD_UNITS)
                .resettable(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "alarm_name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.cloudwatch.metric_alarm`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(MetricAlarmProvider::new(ctx)),
    about: "A CloudWatch alarm on one metric; `PutMetricAlarm` writes the whole alarm, so any \
            change re-puts it (settings taken out of the stack are cleared), and tags change by \
            key.",
    import_id: "the alarm name",
    attributes: &[("arn", "the alarm ARN"), ("name", "the alarm name")],
    property_notes: &[
        (
            "statistic",
            "one of the standard statistics; a percentile (`p99`) goes in `extended_statistic` \
             instead",
        ),
        (
            "period",
            "seconds per datapoint: 10, 20, 30 or a multiple of 60",
        ),
        (
            "alarm_actions",
            "ARNs notified when the alarm fires (an SNS topic's `${topic.arn}`); a set, \
             compared without regard to order",
        ),
        ("dimensions", "the metric's dimensions, names to values"),
    ],
    actions: Actions {
        create: &[
            "cloudwatch:DescribeAlarms",
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:TagResource",
        ],
        read: &[
            "cloudwatch:DescribeAlarms",
            "cloudwatch:ListTagsForResource",
        ],
        update: &[
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:ListTagsForResource",
        ],
        delete: &["cloudwatch:DeleteAlarms"],
    },
    resources: &["arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm_name}"],
    passes_role: &[],
};

/// A string property the request gives, or `None`.
fn text(props: &Map, prop: &str) -> Result<Option<String>> {
    match given(props, prop) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a string"))),
    }
}

/// A whole-number property the request gives (or its default), as CloudWatch's `i32`.
fn whole(schema: &TypeSchema, props: &Map, prop: &str) -> Result<Option<i32>> {
    match desired(schema, props, prop) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a whole number"))),
    }
}

/// A list of ARNs the request gives, or `None`.
fn arns(props: &Map, prop: &str) -> Result<Option<Vec<String>>> {
    match given(props, prop) {
        None => Ok(None),
        Some(v) => v
            .as_list()
            .and_then(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            })
            .map(Some)
            .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a list of ARNs"))),
    }
}

/// A list of actions AWS holds, as the stack should see it: in the stack's order, and absent
/// when AWS has none and the stack never wrote the list.
fn action_list(written: &Map, prop: &str, live: &[String]) -> Option<Value> {
    (!live.is_empty() || written.contains_key(prop))
        .then(|| set_in_prior_order(written.get(prop), live.iter().cloned()))
}

/// The alarm in the stack's terms: its properties, from what `DescribeAlarms` returns and the
/// alarm's tags. `written` is what the stack last gave, for list order and empty settings.
fn alarm_properties(alarm: &MetricAlarm, tags: Value, written: &Map) -> Map {
    let mut p = Map::new();
    let put_str = |p: &mut Map, prop: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            p.insert(prop.into(), Value::str(v));
        }
    };
    put_str(&mut p, "alarm_name", alarm.alarm_name());
    put_str(&mut p, "namespace", alarm.namespace());
    put_str(&mut p, "metric_name", alarm.metric_name());
    put_str(
        &mut p,
        "statistic",
        alarm.statistic().map(Statistic::as_str),
    );
    put_str(&mut p, "extended_statistic", alarm.extended_statistic());
    put_str(&mut p, "alarm_description", alarm.alarm_description());
    put_str(&mut p, "unit", alarm.unit().map(StandardUnit::as_str));
    put_str(
        &mut p,
        "comparison_operator",
        alarm.comparison_operator().map(ComparisonOperator::as_str),
    );
    if !alarm.dimensions().is_empty() || written.contains_key("dimensions") {
        p.insert(
            "dimensions".into(),
            tags_value(
                alarm
                    .dimensions()
                    .iter()
                    .filter_map(|d| Some((d.name()?, d.value()?))),
            ),
        );
    }
    for (prop, value) in [
        ("period", alarm.period()),
        ("evaluation_periods", alarm.evaluation_periods()),
        ("datapoints_to_alarm", alarm.datapoints_to_alarm()),
    ] {
        if let Some(n) = value {
            p.insert(prop.into(), Value::int(n.into()));
        }
    }
    if let Some(threshold) = alarm.threshold() {
        p.insert("threshold".into(), number(threshold));
    }
    for (prop, live) in [
        ("alarm_actions", alarm.alarm_actions()),
        ("ok_actions", alarm.ok_actions()),
        (
            "insufficient_data_actions",
            alarm.insufficient_data_actions(),
        ),
    ] {
        if let Some(list) = action_list(written, prop, live) {
            p.insert(prop.into(), list);
        }
    }
    p.insert(
        "treat_missing_data".into(),
        Value::str(alarm.treat_missing_data().unwrap_or(DEFAULT_MISSING_DATA)),
    );
    p.insert(
        "actions_enabled".into(),
        Value::Bool(alarm.actions_enabled().unwrap_or(true)),
    );
    p.insert("tags".into(), tags);
    p
}

/// Manages metric alarms; the id is the alarm name.
pub struct MetricAlarmProvider {
    schema: TypeSchema,
    cloudwatch: aws_sdk_cloudwatch::Client,
    ctx: AwsContext,
}

impl MetricAlarmProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            cloudwatch: crate::aws::sdk_client!(aws_sdk_cloudwatch, ctx),
            ctx: ctx.clone(),
        }
    }

    /// The metric alarm `name`, as `DescribeAlarms` returns it.
    async fn describe(&self, name: &str) -> Result<Option<MetricAlarm>> {
        let out = self
            .cloudwatch
            .describe_alarms()
            .alarm_names(name)
            .alarm_types(AlarmType::MetricAlarm)
            .send()
            .await
            .map_err(api_error)?;
        Ok(out
            .metric_alarms()
            .iter()
            .find(|a| a.alarm_name() == Some(name))
            .cloned())
    }

    /// The alarm in the stack's terms, or `None` when it does not exist.
    async fn find_alarm(&self, name: &str, written: &Map) -> Result<Option<Resource>> {
        let Some(alarm) = self.describe(name).await? else {
            return Ok(None);
        };
        let arn = alarm
            .alarm_arn()
            .ok_or_else(|| {
                ProviderError::invalid(format!("DescribeAlarms returned no ARN for {name}"))
            })?
            .to_string();
        let tags = self
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(api_error);
        let Some(tags) = missing_is_none(tags, NOT_FOUND)? else {
            return Ok(None);
        };
        let tags = tags_value(
            tags.tags()
                .iter()
                .filter_map(|t| Some((t.key()?, t.value()?))),
        );
        Ok(Some(Resource {
            id: name.to_string(),
            properties: alarm_properties(&alarm, tags, written),
            attributes: Map::from([
                ("arn".to_string(), Value::str(&arn)),
                ("name".to_string(), Value::str(name)),
            ]),
        }))
    }

    /// Reads an alarm that must exist (it was just put).
    async fn read_existing(&self, name: &str, written: &Map) -> Result<Resource> {
        self.find_alarm(name, written).await?.ok_or_else(|| {
            ProviderError::invalid(format!("alarm {name} was put but cannot be read back"))
        })
    }

    /// The whole alarm the request gives, as `PutMetricAlarm` takes it and `DescribeAlarms`
    /// then gives it back.
    fn requested(&self, props: &Map) -> Result<MetricAlarm> {
        let schema = &self.schema;
        let dimensions = tag_strings(props.get("dimensions"))?
            .into_iter()
            .map(|(name, value)| Dimension::builder().name(name).value(value).build())
            .collect::<Vec<_>>();
        let threshold = match given(props, "threshold") {
            None => None,
            Some(v) => Some(
                v.as_f64()
                    .ok_or_else(|| ProviderError::invalid("`threshold` must be a number"))?,
            ),
        };
        Ok(MetricAlarm::builder()
            .alarm_name(required_str(props, "alarm_name")?)
            .set_alarm_description(text(props, "alarm_description")?)
            .set_actions_enabled(
                desired(schema, props, "actions_enabled").and_then(|v| v.as_bool()),
            )
            .set_alarm_actions(arns(props, "alarm_actions")?)
            .set_ok_actions(arns(props, "ok_actions")?)
            .set_insufficient_data_actions(arns(props, "insufficient_data_actions")?)
            .set_namespace(text(props, "namespace")?)
            .set_metric_name(text(props, "metric_name")?)
            .set_statistic(text(props, "statistic")?.map(|s| Statistic::from(s.as_str())))
            .set_extended_statistic(text(props, "extended_statistic")?)
            .set_dimensions((!dimensions.is_empty()).then_some(dimensions))
            .set_period(whole(schema, props, "period")?)
            .set_evaluation_periods(whole(schema, props, "evaluation_periods")?)
            .set_datapoints_to_alarm(whole(schema, props, "datapoints_to_alarm")?)
            .set_threshold(threshold)
            .comparison_operator(ComparisonOperator::from(
                required_str(props, "comparison_operator")?.as_str(),
            ))
            .set_treat_missing_data(
                desired(schema, props, "treat_missing_data")
                    .and_then(|v| v.as_str().map(str::to_string)),
            )
            .set_unit(text(props, "unit")?.map(|u| StandardUnit::from(u.as_str())))
            .build())
    }

    /// One `PutMetricAlarm` with the whole alarm the request gives; `with_tags` only on create
    /// (AWS ignores tags when a put updates an alarm). Answers the alarm put.
    async fn put(&self, props: &Map, with_tags: bool) -> Result<MetricAlarm> {
        let alarm = self.requested(props)?;
        let tags = match with_tags {
            true => {
                Some(cloudwatch_tags(tag_strings(props.get("tags"))?)?).filter(|t| !t.is_empty())
            }
            false => None,
        };
        let a = alarm.clone();
        self.cloudwatch
            .put_metric_alarm()
            .set_alarm_name(a.alarm_name)
            .set_alarm_description(a.alarm_description)
            .set_actions_enabled(a.actions_enabled)
            .set_alarm_actions(a.alarm_actions)
            .set_ok_actions(a.ok_actions)
            .set_insufficient_data_actions(a.insufficient_data_actions)
            .set_namespace(a.namespace)
            .set_metric_name(a.metric_name)
            .set_statistic(a.statistic)
            .set_extended_statistic(a.extended_statistic)
            .set_dimensions(a.dimensions)
            .set_period(a.period)
            .set_evaluation_periods(a.evaluation_periods)
            .set_datapoints_to_alarm(a.datapoints_to_alarm)
            .set_threshold(a.threshold)
            .set_comparison_operator(a.comparison_operator)
            .set_treat_missing_data(a.treat_missing_data)
            .set_unit(a.unit)
            .set_tags(tags)
            .send()
            .await
            .map_err(api_error)?;
        Ok(alarm)
    }
}

#[async_trait]
impl Provider for MetricAlarmProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Refuses a name another alarm already has (a put would silently take it over), then one
    /// `PutMetricAlarm` with the tags, recording what was put (the ARN derived).
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "alarm_name")?;
        // The account (for the ARN) is asked while the name is checked.
        let (existing, arn) = futures::try_join!(self.describe(&name), async {
            Ok(self.ctx.arn("cloudwatch", &format!("alarm:{name}")).await)
        })?;
        if existing.is_some() {
            return Err(ProviderError::Api {
                code: "AlreadyExists".into(),
                message: format!(
                    "a CloudWatch alarm named {name} already exists; import it or choose \
                     another `alarm_name`"
                ),
            });
        }
        let alarm = self.put(props, true).await?;
        after_made(&name, async {
            let tags = tags_value(tag_strings(props.get("tags"))?);
            Ok(Resource {
                id: name.clone(),
                properties: alarm_properties(&alarm, tags, props),
                attributes: Map::from([
                    ("arn".to_string(), Value::str(&arn?)),
                    ("name".to_string(), Value::str(&name)),
                ]),
            })
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_alarm(&req.id, &req.prior_properties).await
    }

    /// Any change but tags re-puts the whole alarm; tags change by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let name = req.id.as_str();
        if let Some(prop) = req.changed.iter().find(|p| *p == "alarm_name") {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        if req.changed.iter().any(|p| p != "tags") {
            self.put(&req.properties, false).await?;
        }
        if req.changed.iter().any(|p| p == "tags") {
            let arn = match req.prior_attributes.get("arn").and_then(Value::as_str) {
                Some(arn) => arn.to_string(),
                None => self
                    .read_existing(name, &req.prior_properties)
                    .await?
                    .attributes["arn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            };
            let api = AlarmTags {
                client: &self.cloudwatch,
                id: &arn,
            };
            reconcile(&api, &req.prior_properties, &req.properties).await?;
        }
        self.read_existing(name, &req.properties).await
    }

    /// `DeleteAlarms` for this one alarm; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .cloudwatch
            .delete_alarms()
            .alarm_names(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// The alarm of the deterministic name, if it exists.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "alarm_name")?;
        self.find_alarm(&name, &req.properties).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alarm_reads_back_in_the_stack_s_terms() {
        let alarm = MetricAlarm::builder()
            .alarm_name("orders-errors")
            .namespace("AWS/Lambda")
            .metric_name("Errors")
            .statistic(Statistic::Sum)
            .dimensions(Dimension::builder().name("FunctionName").value("f").build())
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .alarm_actions("arn:aws:sns:us-east-1:123456789012:b")
            .alarm_actions("arn:aws:sns:us-east-1:123456789012:a")
            .actions_enabled(true)
            .build();
        let written = Map::from([(
            "alarm_actions".to_string(),
            Value::List(vec![
                Value::str("arn:aws:sns:us-east-1:123456789012:a"),
                Value::str("arn:aws:sns:us-east-1:123456789012:b"),
            ]),
        )]);
        let p = alarm_properties(&alarm, tags_value::<&str, &str>([]), &written);
        assert_eq!(p["threshold"], Value::int(1));
        assert_eq!(p["alarm_actions"], written["alarm_actions"]);
        assert_eq!(p["treat_missing_data"], Value::str("missing"));
        assert_eq!(p["dimensions"], tags_value([("FunctionName", "f")]));
        // Lists AWS holds empty and the stack never wrote stay out.
        assert!(!p.contains_key("ok_actions"), "{p:?}");
        assert!(!p.contains_key("alarm_description"), "{p:?}");
    }

    #[test]
    fn a_fractional_threshold_stays_a_fraction() {
        assert_eq!(number(0.5).as_f64(), Some(0.5));
        assert_eq!(number(80.0), Value::int(80));
    }
}
