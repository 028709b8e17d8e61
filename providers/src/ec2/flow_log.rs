//! `aws.ec2.flow_log`: the IP traffic of a VPC, a subnet or a network interface, logged to
//! CloudWatch Logs, S3 or Firehose.
//!
//! Everything about a flow log is fixed at create but its tags: any other change replaces it.
//! `CreateFlowLogs` reports a refused resource in `Unsuccessful` rather than as an error, so
//! create reads that list; and it refuses a delivery role IAM has not propagated yet ("Unable
//! to assume given IAM role"), so create retries that for as long as terraform-provider-aws
//! does.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    FlowLog, FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType,
};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{ec2_object, read_back, tag_specification, tags_from_aws, Ec2};
use crate::aws::{api_error, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given_str};
use crate::retry::with_backoff;
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.flow_log";

/// How EC2 says a flow log does not exist.
const FLOW_LOG_NOT_FOUND: &[&str] = &["InvalidFlowLogId.NotFound"];

/// How long create retries a delivery role that IAM has not propagated yet
/// (terraform-provider-aws: `iamPropagationTimeout`, 2 minutes).
const ROLE_PROPAGATION_BUDGET: Duration = Duration::from_secs(2 * 60);
/// What EC2 says (code `InvalidParameter`) while it cannot assume a new role yet.
const ROLE_NOT_ASSUMABLE: &str = "Unable to assume given IAM role";

const TRAFFIC_TYPES: &[&str] = &["ACCEPT", "REJECT", "ALL"];
const DESTINATION_TYPES: &[&str] = &["cloud-watch-logs", "s3", "kinesis-data-firehose"];
const DEFAULT_DESTINATION_TYPE: &str = "cloud-watch-logs";
/// AWS's aggregation interval, in seconds, when none is given; 60 is the other choice.
const DEFAULT_AGGREGATION_INTERVAL: i64 = 600;
const AGGREGATION_INTERVALS: &[i64] = &[60, 600];

/// What a flow log can watch: the property that names it, its id prefix and its type for
/// `CreateFlowLogs`.
const SOURCES: &[(&str, &str, FlowLogsResourceType)] = &[
    ("vpc_id", "vpc-", FlowLogsResourceType::Vpc),
    ("subnet_id", "subnet-", FlowLogsResourceType::Subnet),
    ("eni_id", "eni-", FlowLogsResourceType::NetworkInterface),
];

/// The flow log's properties: all of them replace it when changed, but its tags.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("vpc_id", Kind::String).force_new(),
            Prop::new("subnet_id", Kind::String).force_new(),
            Prop::new("eni_id", Kind::String).force_new(),
            Prop::new("traffic_type", Kind::String)
                .required()
                .force_new()
                .allowed(TRAFFIC_TYPES),
            Prop::new("log_destination_type", Kind::String)
                .force_new()
                .default(DEFAULT_DESTINATION_TYPE)
                .allowed(DESTINATION_TYPES),
            Prop::new("log_destination", Kind::String).force_new(),
            Prop::new("log_group_name", Kind::String).force_new(),
            Prop::new("iam_role_arn", Kind::String)
                .arn(&["iam"])
                .force_new(),
            Prop::new("max_aggregation_interval", Kind::Integer)
                .force_new()
                .default(DEFAULT_AGGREGATION_INTERVAL),
            Prop::new("log_format", Kind::String).force_new(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "arn"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: None,
    }
}

/// How the catalogue knows `aws.ec2.flow_log`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(FlowLogProvider::new(ctx)),
    about: "A flow log of the IP traffic of one VPC, subnet or network interface, delivered \
            to CloudWatch Logs, S3 or Firehose; everything but its tags is fixed at create.",
    import_id: "the flow log id (`fl-…`)",
    attributes: &[
        ("id", "the flow log id (`fl-…`)"),
        ("arn", "the flow log's ARN"),
    ],
    property_notes: &[
        (
            "vpc_id",
            "exactly one of `vpc_id`, `subnet_id` and `eni_id` is given",
        ),
        (
            "log_destination",
            "the ARN of the log group, bucket (or folder) or delivery stream",
        ),
        (
            "iam_role_arn",
            "the role that delivers to CloudWatch Logs (required there)",
        ),
        ("max_aggregation_interval", "60 or 600 seconds"),
    ],
    actions: Actions {
        create: &[
            "ec2:CreateFlowLogs",
            "ec2:CreateTags",
            "ec2:DescribeFlowLogs",
            "iam:PassRole",
        ],
        read: &["ec2:DescribeFlowLogs"],
        update: &["ec2:CreateTags", "ec2:DeleteTags"],
        delete: &["ec2:DeleteFlowLogs"],
    },
    resources: &[
        "arn:{partition}:ec2:{region}:{account}:vpc-flow-log/{id}",
        "arn:{partition}:ec2:{region}:{account}:vpc/{vpc_id}",
        "arn:{partition}:ec2:{region}:{account}:subnet/{subnet_id}",
        "arn:{partition}:ec2:{region}:{account}:network-interface/{eni_id}",
    ],
    passes_role: &[("iam_role_arn", "vpc-flow-logs.amazonaws.com")],
};

ec2_object!(FlowLog: describe_flow_logs(set_flow_log_ids, set_filter)
    -> flow_logs, id: flow_log_id, not_found: FLOW_LOG_NOT_FOUND);

/// What the flow log watches: the one source property the stack gave.
fn source(props: &Map) -> Result<(String, FlowLogsResourceType)> {
    let given: Vec<(String, FlowLogsResourceType)> = SOURCES
        .iter()
        .filter_map(|(prop, _, kind)| given_str(props, prop).map(|id| (id, kind.clone())))
        .collect();
    match <[_; 1]>::try_from(given) {
        Ok([one]) => Ok(one),
        Err(_) => Err(ProviderError::invalid(
            "a flow log needs exactly one of `vpc_id`, `subnet_id` and `eni_id`",
        )),
    }
}

/// A destination ARN as AWS keeps it: a log group's ARN without the `:*` a person may copy
/// from the console, as terraform-provider-aws sends it.
fn destination_arn(arn: &str) -> &str {
    arn.strip_suffix(":*").unwrap_or(arn)
}

/// The flow log in the stack's terms; `prior` is what the stack last applied, `arn` built by
/// the caller.
fn resource(flow_log: &FlowLog, prior: &Map, arn: String) -> Result<Option<Resource>> {
    let id = flow_log.flow_log_id().ok_or_else(|| {
        ProviderError::invalid("DescribeFlowLogs returned a flow log without an id")
    })?;
    let mut properties = Map::new();
    if let Some(watched) = flow_log.resource_id() {
        if let Some((prop, _, _)) = SOURCES.iter().find(|(_, p, _)| watched.starts_with(p)) {
            properties.insert(prop.to_string(), Value::str(watched));
        }
    }
    let texts = [
        ("traffic_type", flow_log.traffic_type().map(|t| t.as_str())),
        (
            "log_destination_type",
            flow_log.log_destination_type().map(|t| t.as_str()),
        ),
        ("log_group_name", flow_log.log_group_name()),
        ("iam_role_arn", flow_log.deliver_logs_permission_arn()),
        ("log_format", flow_log.log_format()),
    ];
    for (prop, value) in texts {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            properties.insert(prop.to_string(), Value::str(value));
        }
    }
    if let Some(destination) = flow_log.log_destination().filter(|d| !d.is_empty()) {
        // The stack's spelling, when it names the same destination.
        let written = given_str(prior, "log_destination")
            .filter(|w| destination_arn(w) == destination)
            .unwrap_or_else(|| destination.to_string());
        properties.insert("log_destination".into(), Value::str(written));
    }
    properties.insert(
        "max_aggregation_interval".into(),
        Value::int(
            flow_log
                .max_aggregation_interval()
                .map(i64::from)
                .unwrap_or(DEFAULT_AGGREGATION_INTERVAL),
        ),
    );
    properties.insert("tags".into(), tags_from_aws(flow_log.tags()));
    Ok(Some(Resource {
        id: id.to_string(),
        properties,
        attributes: Map::from([
            ("id".to_string(), Value::str(id)),
            ("arn".to_string(), Value::str(arn)),
        ]),
    }))
}

/// Manages flow logs; the id is the flow log id.
pub struct FlowLogProvider {
    schema: TypeSchema,
    ec2: Ec2,
    ctx: AwsContext,
}

impl FlowLogProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
            ctx: ctx.clone(),
        }
    }

    /// `arn:PARTITION:ec2:REGION:ACCOUNT:vpc-flow-log/ID`, as AWS documents it.
    async fn arn(&self, id: &str) -> Result<String> {
        let account = self.ctx.account_id().await?;
        Ok(format!(
            "arn:{}:ec2:{}:{account}:vpc-flow-log/{id}",
            self.ec2.partition, self.ec2.region
        ))
    }

    async fn read_one(&self, id: &str, prior: &Map) -> Result<Option<Resource>> {
        match self.ec2.describe_one::<FlowLog>(id).await? {
            Some(flow_log) => resource(&flow_log, prior, self.arn(id).await?),
            None => Ok(None),
        }
    }

    fn aggregation_interval(&self, props: &Map) -> Result<i32> {
        aggregation_interval(&self.schema, props)
    }
}

/// The aggregation interval a flow log asks for: 60 or 600 seconds, all EC2 takes.
fn aggregation_interval(schema: &TypeSchema, props: &Map) -> Result<i32> {
    desired(schema, props, "max_aggregation_interval")
        .and_then(|v| v.as_i64())
        .filter(|n| AGGREGATION_INTERVALS.contains(n))
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            ProviderError::invalid("`max_aggregation_interval` must be 60 or 600 seconds")
        })
}

#[async_trait]
impl Provider for FlowLogProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the flow log tagged, retrying while its delivery role is not assumable yet.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let (watched, kind) = source(props)?;
        let destination_type = desired(&self.schema, props, "log_destination_type")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_DESTINATION_TYPE.to_string());
        let traffic = given_str(props, "traffic_type")
            .ok_or_else(|| ProviderError::invalid("`traffic_type` is required"))?;
        let interval = self.aggregation_interval(props)?;
        let tags = tag_specification(ResourceType::VpcFlowLog, props)?.map(|t| vec![t]);
        let call = self
            .ec2
            .client
            .create_flow_logs()
            .resource_ids(&watched)
            .resource_type(kind)
            .traffic_type(TrafficType::from(traffic.as_str()))
            .log_destination_type(LogDestinationType::from(destination_type.as_str()))
            .set_log_destination(
                given_str(props, "log_destination").map(|d| destination_arn(&d).to_string()),
            )
            .set_log_group_name(given_str(props, "log_group_name"))
            .set_deliver_logs_permission_arn(given_str(props, "iam_role_arn"))
            .set_log_format(given_str(props, "log_format"))
            .max_aggregation_interval(interval)
            .set_tag_specifications(tags);
        let out = with_backoff(
            ROLE_PROPAGATION_BUDGET,
            |e| e.is_code(&["InvalidParameter"]) && e.to_string().contains(ROLE_NOT_ASSUMABLE),
            || {
                let call = call.clone();
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;
        // A refused resource is listed, not raised.
        if let Some(error) = out.unsuccessful().iter().find_map(|u| u.error()) {
            return Err(ProviderError::Api {
                code: error.code().unwrap_or("Unsuccessful").to_string(),
                message: format!(
                    "flow log of {watched}: {}",
                    error.message().unwrap_or_default()
                ),
            });
        }
        let id = out
            .flow_log_ids()
            .first()
            .ok_or_else(|| ProviderError::invalid("CreateFlowLogs returned no flow log id"))?
            .to_string();
        after_made(&id, async {
            read_back("flow log", &id, || self.read_one(&id, props)).await
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id, &req.prior_properties).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        let ids: Vec<String> = reqs.iter().map(|r| r.id.clone()).collect();
        let found = self.ec2.describe::<FlowLog>(&ids).await;
        let mut results = Vec::with_capacity(reqs.len());
        for (found, req) in found.into_iter().zip(&reqs) {
            results.push(match found {
                Ok(Some(flow_log)) => match self.arn(&req.id).await {
                    Ok(arn) => resource(&flow_log, &req.prior_properties, arn),
                    Err(e) => Err(e),
                },
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            });
        }
        results
    }

    /// Only tags change in place.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        for prop in &req.changed {
            match prop.as_str() {
                "tags" => {
                    self.ec2
                        .update_tags(&req.id, &req.prior_properties, &req.properties)
                        .await?
                }
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        read_back("flow log", &req.id, || {
            self.read_one(&req.id, &req.properties)
        })
        .await
    }

    /// Deletes the flow log; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .ec2
            .client
            .delete_flow_logs()
            .flow_log_ids(&req.id)
            .send()
            .await
            .map_err(api_error);
        let out = match out {
            Ok(out) => out,
            Err(e) if e.is_code(FLOW_LOG_NOT_FOUND) => return Ok(()),
            Err(e) => return Err(e),
        };
        match out.unsuccessful().iter().find_map(|u| u.error()) {
            Some(error)
                if error
                    .code()
                    .is_some_and(|c| FLOW_LOG_NOT_FOUND.contains(&c)) =>
            {
                Ok(())
            }
            Some(error) => Err(ProviderError::Api {
                code: error.code().unwrap_or("Unsuccessful").to_string(),
                message: error.message().unwrap_or_default().to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Finds the flow log by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self.ec2.tagged_id::<FlowLog>(TYPE_NAME, &req).await? {
            Some(id) => self.read_one(&id, &req.properties).await,
            None => Ok(None),
        }
    }
}

/// What the loader checks of a flow log's properties together (`TypeSchema::check`): one
/// thing watched, an aggregation interval EC2 takes.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        source(props)?;
        aggregation_interval(&schema(), props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flow_log_watches_exactly_one_thing() {
        let props = |json: serde_json::Value| match Value::from_json(json) {
            Value::Map(m) => m,
            _ => unreachable!(),
        };
        let (id, kind) = source(&props(serde_json::json!({ "subnet_id": "subnet-1" }))).unwrap();
        assert_eq!(
            (id.as_str(), kind),
            ("subnet-1", FlowLogsResourceType::Subnet)
        );
        assert!(source(&props(serde_json::json!({}))).is_err());
        assert!(source(&props(
            serde_json::json!({ "vpc_id": "vpc-1", "eni_id": "eni-1" })
        ))
        .is_err());
    }

    #[test]
    fn a_log_group_arn_is_sent_without_its_wildcard() {
        assert_eq!(
            destination_arn("arn:aws:logs:us-east-1:1:log-group:flows:*"),
            "arn:aws:logs:us-east-1:1:log-group:flows"
        );
        assert_eq!(
            destination_arn("arn:aws:s3:::bucket"),
            "arn:aws:s3:::bucket"
        );
    }
}
