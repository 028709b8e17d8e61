//! `aws.ec2.vpc_endpoint`: a private way from a VPC to an AWS service (or a partner's).
//!
//! Its VPC, service and type are fixed at create. The route tables (gateway endpoints), the
//! subnets and security groups (interface endpoints) are sets changed in place with one
//! `ModifyVpcEndpoint` that adds and removes exactly the ids that differ from what AWS has, as
//! are its policy and private DNS switch. AWS builds an endpoint for a while (`pending`), and
//! deletes it for a while (`deleting`, then `deleted`, which AWS lists for some time), so
//! create and update wait for `available` and delete for `deleted`, with the budgets
//! terraform-provider-aws uses. An endpoint that is `deleted` no longer exists here.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType, VpcEndpoint, VpcEndpointType};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{ec2_object, filter, strings, tag_specification, tags_from_aws, Ec2};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, document_json};
use crate::props::{desired, given, required_str, set_in_prior_order};
use crate::retry::{wait_for, Wait};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.vpc_endpoint";

/// How EC2 says an endpoint does not exist.
const ENDPOINT_NOT_FOUND: &[&str] = &[
    "InvalidVpcEndpointId.NotFound",
    "InvalidVpcEndpoint.NotFound",
];

/// How long a new endpoint may stay `pending` (terraform-provider-aws: 10 minutes to create),
/// looking every 5 s as it does.
const ENDPOINT_AVAILABLE: Wait = Wait {
    timeout: Duration::from_secs(10 * 60),
    interval: Duration::from_secs(5),
};
/// How long a changed endpoint may stay `pending` (terraform-provider-aws: 10 minutes to
/// update), looking every 5 s.
const ENDPOINT_UPDATED: Wait = Wait {
    timeout: Duration::from_secs(10 * 60),
    interval: Duration::from_secs(5),
};
/// How long an endpoint may stay `deleting` (terraform-provider-aws: 10 minutes to delete),
/// looking every 5 s.
const ENDPOINT_DELETED: Wait = Wait {
    timeout: Duration::from_secs(10 * 60),
    interval: Duration::from_secs(5),
};

const ENDPOINT_TYPES: &[&str] = &["Gateway", "Interface", "GatewayLoadBalancer"];
const DEFAULT_TYPE: &str = "Gateway";

/// The id sets `ModifyVpcEndpoint` adds to and removes from.
const ID_SETS: &[&str] = &["route_table_ids", "subnet_ids", "security_group_ids"];

/// The endpoint's properties. `private_dns_enabled` is sent as `false` when the stack leaves
/// it out, as terraform-provider-aws does.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("vpc_id", Kind::String).required().force_new(),
            Prop::new("service_name", Kind::String)
                .required()
                .force_new(),
            Prop::new("vpc_endpoint_type", Kind::String)
                .force_new()
                .default(DEFAULT_TYPE)
                .allowed(ENDPOINT_TYPES),
            Prop::new("route_table_ids", Kind::List(Box::new(Kind::String))),
            Prop::new("subnet_ids", Kind::List(Box::new(Kind::String))),
            Prop::new("security_group_ids", Kind::List(Box::new(Kind::String))),
            Prop::new("private_dns_enabled", Kind::Bool).default(false),
            Prop::new("policy", Kind::Document).policy(stacks::PolicyRole::Resource),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "arn", "prefix_list_id"],
        taggable: true,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.ec2.vpc_endpoint`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(VpcEndpointProvider::new(ctx)),
    about: "A VPC endpoint to an AWS service: its route tables, subnets and security groups \
            are sets changed in place; create and update wait until it is `available`, delete \
            until it is `deleted`.",
    import_id: "the endpoint id (`vpce-…`)",
    attributes: &[
        ("id", "the endpoint id (`vpce-…`)"),
        ("arn", "the endpoint's ARN"),
        (
            "prefix_list_id",
            "the prefix list of the service's addresses (gateway services such as S3), for \
             security group rules; null when the service has none",
        ),
    ],
    property_notes: &[
        (
            "route_table_ids",
            "gateway endpoints: the route tables that get its route",
        ),
        (
            "subnet_ids",
            "interface endpoints: a network interface in each",
        ),
        (
            "policy",
            "left out, AWS's full-access policy stays and is not managed",
        ),
    ],
    actions: Actions {
        create: &[
            "ec2:CreateVpcEndpoint",
            "ec2:CreateTags",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribePrefixLists",
        ],
        read: &["ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"],
        update: &[
            "ec2:ModifyVpcEndpoint",
            "ec2:DescribeVpcEndpoints",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ],
        delete: &["ec2:DeleteVpcEndpoints", "ec2:DescribeVpcEndpoints"],
    },
    resources: &[
        "arn:{partition}:ec2:{region}:{account}:vpc-endpoint/{id}",
        "arn:{partition}:ec2:{region}:{account}:vpc/{vpc_id}",
        "arn:{partition}:ec2:{region}:{account}:route-table/{route_table_ids}",
        "arn:{partition}:ec2:{region}:{account}:subnet/{subnet_ids}",
        "arn:{partition}:ec2:{region}:{account}:security-group/{security_group_ids}",
    ],
    passes_role: &[],
};

ec2_object!(VpcEndpoint: describe_vpc_endpoints(set_vpc_endpoint_ids, set_filters)
    -> vpc_endpoints, id: vpc_endpoint_id, not_found: ENDPOINT_NOT_FOUND;
    /// Only endpoints that are (or may become) usable.
    fn find_filters() -> Vec<Filter> {
        vec![filter(
            "vpc-endpoint-state",
            &["pendingAcceptance", "pending", "available"],
        )]
    }

    fn adoptable(&self) -> bool {
        !is_gone(self) && state(self) != "deleting"
    }
);

/// The endpoint's state, in lower case. AWS writes endpoint states in camel case
/// (`available`, `pendingAcceptance`), which the SDK's `State` (`Available`, ...) does not
/// parse, so states are compared by name, ignoring case, as terraform-provider-aws does.
fn state(endpoint: &VpcEndpoint) -> String {
    endpoint
        .state()
        .map(|s| s.as_str().to_ascii_lowercase())
        .unwrap_or_default()
}

/// True for an endpoint AWS has deleted but still lists: strata treats it as not existing.
fn is_gone(endpoint: &VpcEndpoint) -> bool {
    state(endpoint) == "deleted"
}

/// The ids the endpoint has in one of its sets (`route_table_ids`, ...).
fn live_ids(endpoint: &VpcEndpoint, prop: &str) -> BTreeSet<String> {
    match prop {
        "route_table_ids" => endpoint.route_table_ids().iter().cloned().collect(),
        "subnet_ids" => endpoint.subnet_ids().iter().cloned().collect(),
        "security_group_ids" => endpoint
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn desired_ids(props: &Map, prop: &str) -> Result<BTreeSet<String>> {
    match given(props, prop) {
        Some(value) => Ok(strings(&value, prop)?.into_iter().collect()),
        None => Ok(BTreeSet::new()),
    }
}

/// The endpoint in the stack's terms; `prior` is what the stack last applied, and
/// `prefix_lists` the prefix list ids of services by name.
fn resource(
    ec2: &Ec2,
    endpoint: &VpcEndpoint,
    prior: &Map,
    prefix_lists: &HashMap<String, String>,
) -> Result<Option<Resource>> {
    if is_gone(endpoint) {
        return Ok(None);
    }
    let id = endpoint.vpc_endpoint_id().ok_or_else(|| {
        ProviderError::invalid("DescribeVpcEndpoints returned an endpoint without an id")
    })?;
    let mut properties = Map::new();
    for (prop, value) in [
        ("vpc_id", endpoint.vpc_id()),
        ("service_name", endpoint.service_name()),
    ] {
        if let Some(value) = value {
            properties.insert(prop.to_string(), Value::str(value));
        }
    }
    let endpoint_type = endpoint
        .vpc_endpoint_type()
        .map(|t| t.as_str())
        .unwrap_or(DEFAULT_TYPE);
    properties.insert("vpc_endpoint_type".into(), Value::str(endpoint_type));
    for prop in ID_SETS {
        properties.insert(
            prop.to_string(),
            set_in_prior_order(prior.get(*prop), live_ids(endpoint, prop)),
        );
    }
    properties.insert(
        "private_dns_enabled".into(),
        Value::Bool(endpoint.private_dns_enabled().unwrap_or(false)),
    );
    if let Some(policy) = endpoint.policy_document().filter(|p| !p.is_empty()) {
        properties.insert("policy".into(), document_from_aws("policy", policy)?);
    }
    properties.insert("tags".into(), tags_from_aws(endpoint.tags()));
    let arn = ec2.arn(endpoint.owner_id(), "vpc-endpoint", id)?;
    let prefix_list = endpoint
        .service_name()
        .and_then(|name| prefix_lists.get(name))
        .map(Value::str)
        .unwrap_or(Value::Null);
    Ok(Some(Resource {
        id: id.to_string(),
        properties,
        attributes: Map::from([
            ("id".to_string(), Value::str(id)),
            ("arn".to_string(), Value::str(arn)),
            ("prefix_list_id".to_string(), prefix_list),
        ]),
    }))
}

/// Manages VPC endpoints; the id is the endpoint id.
pub struct VpcEndpointProvider {
    schema: TypeSchema,
    ec2: Ec2,
}

impl VpcEndpointProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
        }
    }

    /// The endpoint, unless AWS no longer has it (or lists it as `deleted`).
    async fn describe_one(&self, id: &str) -> Result<Option<VpcEndpoint>> {
        Ok(self
            .ec2
            .describe_one::<VpcEndpoint>(id)
            .await?
            .filter(|e| !is_gone(e)))
    }

    /// The prefix list ids of the services named, by name, in one `DescribePrefixLists`
    /// (terraform-provider-aws reads an endpoint's `prefix_list_id` the same way).
    async fn prefix_lists(&self, names: BTreeSet<String>) -> Result<HashMap<String, String>> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let out = self
            .ec2
            .client
            .describe_prefix_lists()
            .filters(filter("prefix-list-name", &names))
            .send()
            .await
            .map_err(api_error)?;
        Ok(out
            .prefix_lists()
            .iter()
            .filter_map(|p| {
                Some((
                    p.prefix_list_name()?.to_string(),
                    p.prefix_list_id()?.to_string(),
                ))
            })
            .collect())
    }

    async fn read_one(&self, id: &str, prior: &Map) -> Result<Option<Resource>> {
        match self.describe_one(id).await? {
            Some(endpoint) => self.endpoint_resource(&endpoint, prior).await,
            None => Ok(None),
        }
    }

    /// The endpoint as `DescribeVpcEndpoints` listed it, in the stack's terms (its service's
    /// prefix list looked up).
    async fn endpoint_resource(
        &self,
        endpoint: &VpcEndpoint,
        prior: &Map,
    ) -> Result<Option<Resource>> {
        let names = endpoint.service_name().map(str::to_string).into_iter();
        let prefix_lists = self.prefix_lists(names.collect()).await?;
        resource(&self.ec2, endpoint, prior, &prefix_lists)
    }

    /// Waits until the endpoint is usable: `available`, or waiting for its service's owner to
    /// accept it (`pendingAcceptance`), as terraform-provider-aws waits. The endpoint as last
    /// described.
    async fn wait_available(&self, id: &str, budget: Wait) -> Result<VpcEndpoint> {
        wait_for(
            &format!("VPC endpoint {id} to become available"),
            budget,
            || async move {
                let Some(endpoint) = self.describe_one(id).await? else {
                    // Not visible yet.
                    return Ok(None);
                };
                match state(&endpoint).as_str() {
                    "available" | "pendingacceptance" => Ok(Some(endpoint)),
                    now @ ("failed" | "rejected") => Err(ProviderError::invalid(format!(
                        "VPC endpoint {id} is {now}{}",
                        endpoint
                            .last_error()
                            .and_then(|e| e.message())
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    ))),
                    _ => Ok(None),
                }
            },
        )
        .await
    }

    async fn wait_deleted(&self, id: &str) -> Result<()> {
        wait_for(
            &format!("VPC endpoint {id} to be deleted"),
            ENDPOINT_DELETED,
            || async move { Ok(self.describe_one(id).await?.is_none().then_some(())) },
        )
        .await
    }
}

#[async_trait]
impl Provider for VpcEndpointProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the endpoint tagged, with its sets and policy, and waits until it is
    /// available.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let endpoint_type = desired(&self.schema, props, "vpc_endpoint_type")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_TYPE.to_string());
        let private_dns = desired(&self.schema, props, "private_dns_enabled")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let policy = match given(props, "policy") {
            Some(policy) => Some(document_json("policy", &policy)?),
            None => None,
        };
        let ids = |prop: &str| -> Result<Option<Vec<String>>> {
            let ids = desired_ids(props, prop)?;
            Ok((!ids.is_empty()).then(|| ids.into_iter().collect()))
        };
        let out = self
            .ec2
            .client
            .create_vpc_endpoint()
            .vpc_id(required_str(props, "vpc_id")?)
            .service_name(required_str(props, "service_name")?)
            .vpc_endpoint_type(VpcEndpointType::from(endpoint_type.as_str()))
            .private_dns_enabled(private_dns)
            .set_policy_document(policy)
            .set_route_table_ids(ids("route_table_ids")?)
            .set_subnet_ids(ids("subnet_ids")?)
            .set_security_group_ids(ids("security_group_ids")?)
            .set_tag_specifications(
                tag_specification(ResourceType::VpcEndpoint, props)?.map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(api_error)?;
        let id = out
            .vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .ok_or_else(|| ProviderError::invalid("CreateVpcEndpoint returned no id"))?
            .to_string();
        after_made(&id, async {
            // What the wait last described is what a read gives: not described twice.
            let endpoint = self.wait_available(&id, ENDPOINT_AVAILABLE).await?;
            self.endpoint_resource(&endpoint, props)
                .await?
                .ok_or_else(|| {
                    ProviderError::invalid(format!("VPC endpoint {id} vanished after create"))
                })
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id, &req.prior_properties).await
    }

    /// Reads every endpoint in one `DescribeVpcEndpoints` and every prefix list in one
    /// `DescribePrefixLists`.
    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        let ids: Vec<String> = reqs.iter().map(|r| r.id.clone()).collect();
        let found = self.ec2.describe::<VpcEndpoint>(&ids).await;
        let names: BTreeSet<String> = found
            .iter()
            .filter_map(|f| {
                f.as_ref()
                    .ok()?
                    .as_ref()?
                    .service_name()
                    .map(str::to_string)
            })
            .collect();
        let prefix_lists = match self.prefix_lists(names).await {
            Ok(lists) => lists,
            Err(e) => return reqs.iter().map(|_| Err(super::same_error(&e))).collect(),
        };
        found
            .into_iter()
            .zip(&reqs)
            .map(|(found, req)| match found? {
                Some(endpoint) => {
                    resource(&self.ec2, &endpoint, &req.prior_properties, &prefix_lists)
                }
                None => Ok(None),
            })
            .collect()
    }

    /// One `ModifyVpcEndpoint` for the sets (against what AWS has now), the policy and the
    /// private DNS switch, then a wait for `available`; tags apart.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let props = &req.properties;
        let modifies = req.changed.iter().any(|p| p != "tags");
        if modifies {
            let endpoint = self.describe_one(&req.id).await?.ok_or_else(|| {
                ProviderError::invalid(format!("VPC endpoint {} no longer exists", req.id))
            })?;
            let mut call = self
                .ec2
                .client
                .modify_vpc_endpoint()
                .vpc_endpoint_id(&req.id);
            for prop in &req.changed {
                match prop.as_str() {
                    "route_table_ids" | "subnet_ids" | "security_group_ids" => {
                        let want = desired_ids(props, prop)?;
                        let have = live_ids(&endpoint, prop);
                        let add: Vec<String> = want.difference(&have).cloned().collect();
                        let remove: Vec<String> = have.difference(&want).cloned().collect();
                        let (add, remove) = (
                            (!add.is_empty()).then_some(add),
                            (!remove.is_empty()).then_some(remove),
                        );
                        call = match prop.as_str() {
                            "route_table_ids" => call
                                .set_add_route_table_ids(add)
                                .set_remove_route_table_ids(remove),
                            "subnet_ids" => {
                                call.set_add_subnet_ids(add).set_remove_subnet_ids(remove)
                            }
                            _ => call
                                .set_add_security_group_ids(add)
                                .set_remove_security_group_ids(remove),
                        };
                    }
                    "private_dns_enabled" => {
                        let on = desired(&self.schema, props, "private_dns_enabled")
                            .and_then(|v| v.as_bool())
                            .unwrap_or(false);
                        call = call.private_dns_enabled(on);
                    }
                    "policy" => {
                        call = match given(props, "policy") {
                            Some(policy) => call.policy_document(document_json("policy", &policy)?),
                            None => call.reset_policy(true),
                        };
                    }
                    "tags" => {}
                    other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
                }
            }
            call.send().await.map_err(api_error)?;
            self.wait_available(&req.id, ENDPOINT_UPDATED).await?;
        }
        if req.changed.iter().any(|p| p == "tags") {
            self.ec2
                .update_tags(&req.id, &req.prior_properties, props)
                .await?;
        }
        self.read_one(&req.id, props).await?.ok_or_else(|| {
            ProviderError::invalid(format!("VPC endpoint {} no longer exists", req.id))
        })
    }

    /// Deletes the endpoint and waits until AWS says it is deleted; one already gone is
    /// success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .ec2
            .client
            .delete_vpc_endpoints()
            .vpc_endpoint_ids(&req.id)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, ENDPOINT_NOT_FOUND)? else {
            return Ok(());
        };
        // The call succeeds as a whole and lists the endpoints it could not delete.
        if let Some(error) = out.unsuccessful().iter().find_map(|u| u.error()) {
            let err = ProviderError::Api {
                code: error.code().unwrap_or("Unsuccessful").to_string(),
                message: error.message().unwrap_or_default().to_string(),
            };
            if err.is_code(ENDPOINT_NOT_FOUND) {
                return Ok(());
            }
            return Err(err);
        }
        self.wait_deleted(&req.id).await
    }

    /// Finds the endpoint by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self.ec2.tagged_id::<VpcEndpoint>(TYPE_NAME, &req).await? {
            Some(id) => self.read_one(&id, &req.properties).await,
            None => Ok(None),
        }
    }
}
