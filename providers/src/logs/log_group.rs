//! `aws.logs.log_group`: a CloudWatch Logs log group.
//!
//! `CreateLogGroup` takes the name, class, KMS key and tags; retention is a separate policy
//! (`PutRetentionPolicy`, or `DeleteRetentionPolicy` for "never expire", which strata writes as
//! `retention_in_days: 0`, as Terraform does). A KMS key is associated and disassociated in
//! place. The class and the name replace the group. The id is the log group name.
//!
//! `DescribeLogGroups` returns the ARN with a trailing `:*` (the ARN of the group's streams); the
//! `arn` attribute leaves it out, as Terraform's does, so it can be used for tagging and in
//! policies that name the group itself.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::{LogGroup, LogGroupClass};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{LogGroupTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::retry::{delete_with_backoff, with_backoff};
use crate::tags::{reconcile, tag_map, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.logs.log_group";

/// CloudWatch Logs' limit on a log group name.
const NAME_MAX_LEN: usize = 512;

/// The log group classes AWS offers; a group's class is fixed when it is made.
const CLASSES: &[&str] = &["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];

/// The class AWS gives a group created without one (and reports for groups older than classes).
const DEFAULT_CLASS: &str = "STANDARD";

/// The class whose retention AWS fixes itself: strata neither sets nor compares it.
const DELIVERY_CLASS: &str = "DELIVERY";

/// `retention_in_days` for "never expire": no retention policy at all.
const NEVER_EXPIRE: i64 = 0;

/// How long `PutRetentionPolicy` is retried while the caller's own new IAM permission to call it
/// propagates (terraform-provider-aws's `propagationTimeout`).
const RETENTION_PROPAGATION_BUDGET: Duration = Duration::from_secs(120);

/// How long `DeleteLogGroup` is retried while another operation on the group is in progress
/// (`OperationAbortedException`), as terraform-provider-aws does.
const DELETE_ABORTED_BUDGET: Duration = Duration::from_secs(60);

/// The log group's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("retention_in_days", Kind::Integer)
                .default(NEVER_EXPIRE)
                .rule(retention_days),
            Prop::new("kms_key_id", Kind::String).resettable(),
            Prop::new("log_group_class", Kind::String)
                .force_new()
                .default(DEFAULT_CLASS)
                .allowed(CLASSES),
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

/// How the catalogue knows `aws.logs.log_group`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(LogGroupProvider::new(ctx)),
    about: "A CloudWatch Logs log group: its retention (a separate policy, changed in place), \
            its KMS key (associated in place) and its class (fixed when made).",
    import_id: "the log group name",
    attributes: &[
        (
            "arn",
            "the log group ARN, without the `:*` that `DescribeLogGroups` appends (as Terraform \
             gives it)",
        ),
        ("name", "the log group name"),
    ],
    property_notes: &[
        (
            "retention_in_days",
            "days to keep events; `0` (the default) keeps them forever. AWS accepts 1, 3, 5, 7, \
             14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, \
             3288 and 3653 (`validate` refuses other values); a `DELIVERY` group's retention \
             is AWS's to set and is not compared",
        ),
        (
            "kms_key_id",
            "the ARN of a KMS key, associated and disassociated in place",
        ),
    ],
    actions: Actions {
        create: &[
            "logs:CreateLogGroup",
            "logs:TagResource",
            "logs:PutRetentionPolicy",
            "logs:DescribeLogGroups",
            "logs:ListTagsForResource",
        ],
        read: &["logs:DescribeLogGroups", "logs:ListTagsForResource"],
        update: &[
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:DescribeLogGroups",
            "logs:ListTagsForResource",
        ],
        delete: &["logs:DeleteLogGroup"],
    },
    resources: &[
        "arn:{partition}:logs:{region}:{account}:log-group:{name}",
        "arn:{partition}:logs:{region}:{account}:log-group:{name}:*",
    ],
    passes_role: &[],
};

/// A log group ARN as strata gives it: without the `:*` that `DescribeLogGroups` appends.
pub(crate) fn trim_wildcard(arn: &str) -> &str {
    arn.strip_suffix(":*").unwrap_or(arn)
}

/// The retention periods CloudWatch Logs takes, in days (`PutRetentionPolicy`).
const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// `retention_in_days` is 0 (never expire) or one of [`RETENTION_DAYS`].
fn retention_days(value: &Value) -> std::result::Result<(), stacks::Failure> {
    let Some(days) = value.as_i64() else {
        return Ok(());
    };
    if days == NEVER_EXPIRE || RETENTION_DAYS.contains(&days) {
        return Ok(());
    }
    let nearest = RETENTION_DAYS
        .iter()
        .min_by_key(|d| (**d - days).abs())
        .copied()
        .unwrap_or(1);
    Err(stacks::Failure {
        problem: "is not a retention period CloudWatch Logs takes".into(),
        help: format!(
            "write 0 (never expire) or one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, \
             400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (the nearest: {nearest})"
        ),
    })
}

/// True for the error AWS gives while the caller's permission to set retention propagates.
fn retention_not_yet_allowed(err: &ProviderError) -> bool {
    err.is_code(&["AccessDeniedException"])
        && err.message().is_some_and(|m| {
            m.contains("no identity-based policy allows the logs:PutRetentionPolicy action")
        })
}

/// Manages log groups; the id is the log group name.
pub struct LogGroupProvider {
    schema: TypeSchema,
    logs: aws_sdk_cloudwatchlogs::Client,
    ctx: AwsContext,
}

impl LogGroupProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            logs: crate::aws::sdk_client!(aws_sdk_cloudwatchlogs, ctx),
            ctx: ctx.clone(),
        }
    }

    /// The log group named exactly `name`, as AWS describes it.
    async fn describe(&self, name: &str) -> Result<Option<LogGroup>> {
        let mut groups = self
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .into_paginator()
            .items()
            .send();
        while let Some(group) = groups.next().await {
            let group = group.map_err(api_error)?;
            if group.log_group_name() == Some(name) {
                return Ok(Some(group));
            }
        }
        Ok(None)
    }

    /// The log group in the stack's terms, or `None` when it does not exist. `written` is what
    /// the stack last gave, for the one value AWS sets itself (a `DELIVERY` group's retention).
    async fn find_group(&self, name: &str, written: &Map) -> Result<Option<Resource>> {
        let Some(group) = self.describe(name).await? else {
            return Ok(None);
        };
        let arn = group
            .arn()
            .or(group.log_group_arn())
            .map(trim_wildcard)
            .ok_or_else(|| {
                ProviderError::invalid(format!("DescribeLogGroups returned no ARN for {name}"))
            })?
            .to_string();
        let tags = self
            .logs
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(api_error);
        let Some(tags) = missing_is_none(tags, NOT_FOUND)? else {
            return Ok(None);
        };
        let class = group
            .log_group_class()
            .map_or(DEFAULT_CLASS, |c| c.as_str())
            .to_string();
        let retention = match (class.as_str(), given(written, "retention_in_days")) {
            (DELIVERY_CLASS, Some(written)) => written,
            _ => Value::int(group.retention_in_days().map_or(NEVER_EXPIRE, i64::from)),
        };

        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(name));
        properties.insert("retention_in_days".into(), retention);
        if let Some(key) = group.kms_key_id() {
            properties.insert("kms_key_id".into(), Value::str(key));
        }
        properties.insert("log_group_class".into(), Value::str(&class));
        properties.insert(
            "tags".into(),
            tags_value(
                tags.tags()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
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

    /// Reads a group that must exist (it was just created or changed).
    async fn read_existing(&self, name: &str, written: &Map) -> Result<Resource> {
        self.find_group(name, written).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "log group {name} was written but cannot be read back"
            ))
        })
    }

    /// Sets the retention the request asks for: a policy of that many days, or none.
    async fn set_retention(&self, name: &str, props: &Map) -> Result<()> {
        let days = desired(&self.schema, props, "retention_in_days")
            .and_then(|v| v.as_i64())
            .unwrap_or(NEVER_EXPIRE);
        if days == NEVER_EXPIRE {
            let out = self
                .logs
                .delete_retention_policy()
                .log_group_name(name)
                .send()
                .await
                .map_err(api_error);
            // No policy to delete is what "never expire" means.
            return missing_is_none(out, NOT_FOUND).map(|_| ());
        }
        let days = i32::try_from(days).map_err(|_| {
            ProviderError::invalid(format!("`retention_in_days` {days} is out of range"))
        })?;
        with_backoff(
            RETENTION_PROPAGATION_BUDGET,
            retention_not_yet_allowed,
            || async {
                self.logs
                    .put_retention_policy()
                    .log_group_name(name)
                    .retention_in_days(days)
                    .send()
                    .await
                    .map_err(api_error)
            },
        )
        .await?;
        Ok(())
    }

    /// The group's ARN: recorded, or read.
    async fn arn_of(&self, name: &str, recorded: &Map) -> Result<String> {
        if let Some(arn) = recorded.get("arn").and_then(Value::as_str) {
            return Ok(arn.to_string());
        }
        let found = self.read_existing(name, &Map::new()).await?;
        Ok(found.attributes["arn"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }
}

#[async_trait]
impl Provider for LogGroupProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let class = desired(&self.schema, props, "log_group_class")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_CLASS.to_string());
        let tag_strings = tag_strings(props.get("tags"))?;
        let tags = tag_map(tag_strings.clone())?;
        let kms_key = given(props, "kms_key_id").and_then(|v| v.as_str().map(str::to_string));
        let create = async {
            self.logs
                .create_log_group()
                .log_group_name(&name)
                .log_group_class(LogGroupClass::from(class.as_str()))
                .set_kms_key_id(kms_key.clone())
                .set_tags((!tags.is_empty()).then_some(tags))
                .send()
                .await
                .map_err(api_error)
        };
        // The account (for the ARN) is asked while the group is made, never after.
        let (_, arn) = futures::try_join!(create, async {
            Ok::<_, ProviderError>(self.ctx.arn("logs", &format!("log-group:{name}")).await)
        })?;
        after_made(&name, async {
            let arn = arn?;
            let days = desired(&self.schema, props, "retention_in_days").and_then(|v| v.as_i64());
            if class == DELIVERY_CLASS {
                // AWS sets a delivery group's retention itself: read what it chose.
                return self.read_existing(&name, props).await;
            }
            if days.is_some_and(|d| d != NEVER_EXPIRE) {
                self.set_retention(&name, props).await?;
            }
            let mut properties = Map::from([
                ("name".to_string(), Value::str(&name)),
                (
                    "retention_in_days".to_string(),
                    Value::int(days.unwrap_or(NEVER_EXPIRE)),
                ),
                ("log_group_class".to_string(), Value::str(&class)),
                ("tags".to_string(), tags_value(tag_strings)),
            ]);
            if let Some(key) = kms_key {
                properties.insert("kms_key_id".into(), Value::str(key));
            }
            Ok(Resource {
                id: name.clone(),
                properties,
                attributes: Map::from([
                    ("arn".to_string(), Value::str(&arn)),
                    ("name".to_string(), Value::str(&name)),
                ]),
            })
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_group(&req.id, &req.prior_properties).await
    }

    /// Retention by its own policy calls, the KMS key by associating or disassociating it, tags
    /// by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let name = req.id.as_str();
        for prop in &req.changed {
            match prop.as_str() {
                "retention_in_days" => self.set_retention(name, &req.properties).await?,
                "kms_key_id" => match given(&req.properties, "kms_key_id") {
                    Some(key) => {
                        let key = key.as_str().ok_or_else(|| {
                            ProviderError::invalid("`kms_key_id` must be a string")
                        })?;
                        self.logs
                            .associate_kms_key()
                            .log_group_name(name)
                            .kms_key_id(key)
                            .send()
                            .await
                            .map_err(api_error)?;
                    }
                    None => {
                        self.logs
                            .disassociate_kms_key()
                            .log_group_name(name)
                            .send()
                            .await
                            .map_err(api_error)?;
                    }
                },
                "tags" => {
                    let arn = self.arn_of(name, &req.prior_attributes).await?;
                    let api = LogGroupTags {
                        client: &self.logs,
                        id: &arn,
                    };
                    reconcile(&api, &req.prior_properties, &req.properties).await?;
                }
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        self.read_existing(name, &req.properties).await
    }

    /// `DeleteLogGroup` (its streams, events and filters go with it); one already gone is
    /// success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        delete_with_backoff(
            DELETE_ABORTED_BUDGET,
            &["OperationAbortedException"],
            NOT_FOUND,
            || async {
                self.logs
                    .delete_log_group()
                    .log_group_name(&req.id)
                    .send()
                    .await
                    .map_err(api_error)
            },
        )
        .await
    }

    /// The group of the deterministic name, if it exists.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_group(&name, &req.properties).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arn_leaves_out_the_streams_wildcard() {
        assert_eq!(
            trim_wildcard("arn:aws:logs:us-east-1:123456789012:log-group:app:*"),
            "arn:aws:logs:us-east-1:123456789012:log-group:app"
        );
        assert_eq!(
            trim_wildcard("arn:aws:logs:us-east-1:123456789012:log-group:app"),
            "arn:aws:logs:us-east-1:123456789012:log-group:app"
        );
    }

    #[test]
    fn only_the_propagation_access_denied_is_retried() {
        let err = |code: &str, message: &str| ProviderError::Api {
            code: code.into(),
            message: message.into(),
        };
        assert!(retention_not_yet_allowed(&err(
            "AccessDeniedException",
            "User: x is not authorized: no identity-based policy allows the logs:PutRetentionPolicy action"
        )));
        assert!(!retention_not_yet_allowed(&err(
            "AccessDeniedException",
            "explicit deny in a service control policy"
        )));
        assert!(!retention_not_yet_allowed(&err(
            "InvalidParameterException",
            "no identity-based policy allows the logs:PutRetentionPolicy action"
        )));
    }
}
