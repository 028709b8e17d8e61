//! `aws.logs.subscription_filter`: a subscription filter that streams a log group's matching
//! events to a Lambda function, a Kinesis stream or a Firehose delivery stream.
//!
//! `PutSubscriptionFilter` creates the filter or replaces it whole, so create and every in-place
//! change are that one call with the complete definition. AWS delivers a test message to the
//! destination when the filter is put, which fails until the destination lets CloudWatch Logs
//! in (a Lambda permission for `logs.amazonaws.com`, or the role in `role_arn`); strata retries
//! those refusals for a while, as terraform-provider-aws does, since a permission made in the
//! same apply takes a moment to count. The log group, the name and the destination replace the
//! filter. The id is `LOG_GROUP|NAME`, the id Terraform imports.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::{Distribution, SubscriptionFilter};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{split_two_part_id, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::retry::with_backoff;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.logs.subscription_filter";

/// CloudWatch Logs' limit on a filter name.
const NAME_MAX_LEN: usize = 512;

/// Separates the log group and the filter name in the id (Terraform's import separator).
const ID_SEPARATOR: char = '|';

/// How events are spread over a Kinesis destination's shards.
const DISTRIBUTIONS: &[&str] = &["ByLogStream", "Random"];

/// The distribution AWS uses when none is given.
const DEFAULT_DISTRIBUTION: &str = "ByLogStream";

/// How long `PutSubscriptionFilter` is retried while the destination does not yet accept
/// CloudWatch Logs' test message (a new permission or role propagating), as
/// terraform-provider-aws does.
const PUT_PROPAGATION_BUDGET: Duration = Duration::from_secs(300);

/// The messages (with their codes) that mean "the destination does not let CloudWatch Logs in
/// yet": worth retrying while a permission propagates.
const NOT_YET_DELIVERABLE: &[(&str, &str)] = &[
    (
        "InvalidParameterException",
        "Could not deliver test message to specified",
    ),
    (
        "InvalidParameterException",
        "Could not execute the lambda function",
    ),
    ("OperationAbortedException", "Please try again"),
    (
        "ValidationException",
        "Make sure you have given CloudWatch Logs permission to assume the provided role",
    ),
];

/// The filter's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("log_group_name", Kind::String)
                .required()
                .force_new(),
            Prop::new("filter_pattern", Kind::String).required(),
            Prop::new("destination_arn", Kind::String)
                .arn(&["kinesis", "firehose", "lambda", "logs"])
                .required()
                .force_new(),
            Prop::new("role_arn", Kind::String)
                .arn(&["iam"])
                .resettable(),
            Prop::new("distribution", Kind::String)
                .default(DEFAULT_DISTRIBUTION)
                .allowed(DISTRIBUTIONS),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.logs.subscription_filter`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(SubscriptionFilterProvider::new(ctx)),
    about: "A subscription filter streaming a log group's matching events to a Lambda \
            function, a Kinesis stream or a Firehose delivery stream; a change is one \
            `PutSubscriptionFilter` with the whole filter.",
    import_id: "`LOG_GROUP|NAME`: the log group name, a `|`, and the filter name",
    attributes: &[("id", "`LOG_GROUP|NAME`, the id `strata import` takes")],
    property_notes: &[
        (
            "destination_arn",
            "a Lambda function ARN (which needs an `aws.lambda.permission` for \
             `logs.amazonaws.com`), a Kinesis stream ARN or a Firehose delivery stream ARN \
             (which need `role_arn`); changing it replaces the filter, as in Terraform",
        ),
        (
            "role_arn",
            "the role CloudWatch Logs assumes to write to a Kinesis or Firehose destination",
        ),
        (
            "distribution",
            "how events spread over a Kinesis stream's shards",
        ),
    ],
    actions: Actions {
        create: &[
            "logs:PutSubscriptionFilter",
            "logs:DescribeSubscriptionFilters",
            "iam:PassRole",
        ],
        read: &["logs:DescribeSubscriptionFilters"],
        update: &[
            "logs:PutSubscriptionFilter",
            "logs:DescribeSubscriptionFilters",
            "iam:PassRole",
        ],
        delete: &["logs:DeleteSubscriptionFilter"],
    },
    resources: &[
        "arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}",
        "arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}:*",
    ],
    passes_role: &[("role_arn", "logs.amazonaws.com")],
};

/// The id of the filter `name` on `log_group`.
fn filter_id(log_group: &str, name: &str) -> String {
    format!("{log_group}{ID_SEPARATOR}{name}")
}

/// True for a refusal that a destination permission still propagating explains.
fn not_yet_deliverable(err: &ProviderError) -> bool {
    NOT_YET_DELIVERABLE
        .iter()
        .any(|(code, text)| err.is_code(&[code]) && err.message().is_some_and(|m| m.contains(text)))
}

/// Manages subscription filters; the id is `LOG_GROUP|NAME`.
pub struct SubscriptionFilterProvider {
    schema: TypeSchema,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl SubscriptionFilterProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            logs: crate::aws::sdk_client!(aws_sdk_cloudwatchlogs, ctx),
        }
    }

    /// The filter `name` on `log_group` as AWS describes it; `None` when it or its group is gone.
    async fn describe(&self, log_group: &str, name: &str) -> Result<Option<SubscriptionFilter>> {
        let mut filters = self
            .logs
            .describe_subscription_filters()
            .log_group_name(log_group)
            .filter_name_prefix(name)
            .into_paginator()
            .items()
            .send();
        while let Some(filter) = filters.next().await {
            let Some(filter) = missing_is_none(filter.map_err(api_error), NOT_FOUND)? else {
                return Ok(None);
            };
            if filter.filter_name() == Some(name) {
                return Ok(Some(filter));
            }
        }
        Ok(None)
    }

    /// The filter in the stack's terms, or `None` when it does not exist.
    async fn find_filter(&self, log_group: &str, name: &str) -> Result<Option<Resource>> {
        let Some(filter) = self.describe(log_group, name).await? else {
            return Ok(None);
        };
        let id = filter_id(log_group, name);
        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(name));
        properties.insert("log_group_name".into(), Value::str(log_group));
        properties.insert(
            "filter_pattern".into(),
            Value::str(filter.filter_pattern().unwrap_or_default()),
        );
        if let Some(arn) = filter.destination_arn() {
            properties.insert("destination_arn".into(), Value::str(arn));
        }
        if let Some(role) = filter.role_arn().filter(|r| !r.is_empty()) {
            properties.insert("role_arn".into(), Value::str(role));
        }
        properties.insert(
            "distribution".into(),
            Value::str(
                filter
                    .distribution()
                    .map_or(DEFAULT_DISTRIBUTION, Distribution::as_str),
            ),
        );
        Ok(Some(Resource {
            attributes: Map::from([("id".to_string(), Value::str(&id))]),
            id,
            properties,
        }))
    }

    /// One `PutSubscriptionFilter` with the whole filter the request gives (retried while the
    /// destination does not yet accept CloudWatch Logs), then the read back.
    async fn put(&self, props: &Map) -> Result<Resource> {
        let name = required_str(props, "name")?;
        let log_group = required_str(props, "log_group_name")?;
        let pattern = required_str(props, "filter_pattern")?;
        let destination = required_str(props, "destination_arn")?;
        let role = given(props, "role_arn").and_then(|v| v.as_str().map(str::to_string));
        let distribution = desired(&self.schema, props, "distribution")
            .and_then(|v| v.as_str().map(Distribution::from));
        with_backoff(PUT_PROPAGATION_BUDGET, not_yet_deliverable, || async {
            self.logs
                .put_subscription_filter()
                .log_group_name(&log_group)
                .filter_name(&name)
                .filter_pattern(&pattern)
                .destination_arn(&destination)
                .set_role_arn(role.clone())
                .set_distribution(distribution.clone())
                .send()
                .await
                .map_err(api_error)
        })
        .await?;
        self.find_filter(&log_group, &name).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "subscription filter {} was written but cannot be read back",
                filter_id(&log_group, &name)
            ))
        })
    }
}

#[async_trait]
impl Provider for SubscriptionFilterProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// One `PutSubscriptionFilter`: until it succeeds there is no filter, and after it the
    /// filter is whole, so there is nothing half-made to record.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        self.put(&req.properties).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (log_group, name) = split_two_part_id(&req.id, ID_SEPARATOR, "subscription filter")?;
        self.find_filter(log_group, name).await
    }

    /// `filter_pattern`, `role_arn` and `distribution` change by putting the whole filter again.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req
            .changed
            .iter()
            .find(|p| !matches!(p.as_str(), "filter_pattern" | "role_arn" | "distribution"))
        {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        self.put(&req.properties).await
    }

    /// `DeleteSubscriptionFilter`; a filter or log group already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (log_group, name) = split_two_part_id(&req.id, ID_SEPARATOR, "subscription filter")?;
        let out = self
            .logs
            .delete_subscription_filter()
            .log_group_name(log_group)
            .filter_name(name)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// The filter of the recorded log group and deterministic name, if it exists.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let log_group = required_str(&req.properties, "log_group_name")?;
        let name = required_str(&req.properties, "name")?;
        self.find_filter(&log_group, &name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_splits_at_the_bar_terraform_imports_with() {
        let id = filter_id("/app/web", "to-lambda");
        assert_eq!(id, "/app/web|to-lambda");
        assert_eq!(
            split_two_part_id(&id, ID_SEPARATOR, "subscription filter").unwrap(),
            ("/app/web", "to-lambda")
        );
        let err = split_two_part_id("/app/web", ID_SEPARATOR, "subscription filter")
            .unwrap_err()
            .to_string();
        assert!(err.contains("LOG_GROUP|NAME"), "{err}");
    }

    #[test]
    fn only_refusals_a_propagating_permission_explains_are_retried() {
        let err = |code: &str, message: &str| ProviderError::Api {
            code: code.into(),
            message: message.into(),
        };
        assert!(not_yet_deliverable(&err(
            "InvalidParameterException",
            "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function."
        )));
        assert!(!not_yet_deliverable(&err(
            "InvalidParameterException",
            "1 validation error detected: filterPattern"
        )));
        assert!(!not_yet_deliverable(&err(
            "LimitExceededException",
            "Could not execute the lambda function"
        )));
    }
}
