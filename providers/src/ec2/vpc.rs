//! `aws.ec2.vpc`: a virtual private cloud.
//!
//! The CIDR block and tenancy are fixed at create. The two DNS switches are VPC attributes that
//! `ModifyVpcAttribute` changes one per call (EC2 refuses two in one request), and that only
//! `DescribeVpcAttribute` reads, one per call. EC2 creates a default security group and a main
//! route table with every VPC; their ids are attributes, so a stack can refer to them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, ResourceType, Tenancy, Vpc, VpcAttributeName, VpcState,
};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{
    ec2_object, filter, once_visible, read_back, requested_tags, same_error, tag_specification,
    tags_from_aws, Ec2, DEPENDENCY_VIOLATION, IDS_PER_DESCRIBE,
};
use crate::aws::{api_error, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, required_str};
use crate::retry::{delete_with_backoff, wait_for, Wait};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.vpc";

/// How EC2 says a VPC does not exist.
pub(crate) const VPC_NOT_FOUND: &[&str] = &["InvalidVpcID.NotFound"];

/// The tenancies a VPC can have (`host` is for instances only).
const TENANCIES: &[&str] = &["default", "dedicated"];

/// How long a new VPC may stay `pending`, looking every 2 s.
const VPC_AVAILABLE: Wait = Wait {
    timeout: Duration::from_secs(300),
    interval: Duration::from_secs(2),
};

/// How long delete keeps retrying while EC2 still counts something in the VPC: right after
/// its subnets, gateways and groups are deleted, AWS may answer `DependencyViolation` for a
/// while (ENIs of deleted NAT gateways and Lambda functions linger). terraform-provider-aws
/// waits 5 minutes too.
const VPC_DEPENDENCY_BUDGET: Duration = Duration::from_secs(300);

/// The VPC's properties. The DNS switches have AWS's documented defaults, so leaving them out
/// of the stack resets them.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("cidr_block", Kind::String)
                .cidr()
                .required()
                .force_new(),
            Prop::new("enable_dns_support", Kind::Bool).default(true),
            Prop::new("enable_dns_hostnames", Kind::Bool).default(false),
            Prop::new("instance_tenancy", Kind::String)
                .force_new()
                .default("default")
                .allowed(TENANCIES),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec![
            "id",
            "arn",
            "default_security_group_id",
            "main_route_table_id",
        ],
        taggable: true,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.ec2.vpc`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(VpcProvider::new(ctx)),
    about: "A virtual private cloud: an address range of its own, with the default security \
            group and main route table EC2 gives every VPC.",
    import_id: "the VPC id (`vpc-…`)",
    attributes: &[
        ("id", "the VPC id (`vpc-…`)"),
        ("arn", "the VPC's ARN"),
        (
            "default_security_group_id",
            "the id of the security group EC2 created with the VPC",
        ),
        (
            "main_route_table_id",
            "the id of the route table EC2 created with the VPC",
        ),
    ],
    property_notes: &[],
    actions: Actions {
        // `DescribeVpcs` only while EC2 answers the new VPC `pending`; the default group and
        // main table, which `CreateVpc` does not answer, are looked up.
        create: &[
            "ec2:CreateVpc",
            "ec2:CreateTags",
            "ec2:ModifyVpcAttribute",
            "ec2:DescribeVpcs",
            "ec2:DescribeRouteTables",
            "ec2:DescribeSecurityGroups",
        ],
        read: &[
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcAttribute",
            "ec2:DescribeRouteTables",
            "ec2:DescribeSecurityGroups",
        ],
        update: &["ec2:ModifyVpcAttribute", "ec2:CreateTags", "ec2:DeleteTags"],
        delete: &["ec2:DeleteVpc"],
    },
    resources: &["arn:{partition}:ec2:{region}:{account}:vpc/{id}"],
    passes_role: &[],
};

ec2_object!(Vpc: describe_vpcs(set_vpc_ids, set_filters)
    -> vpcs, id: vpc_id, not_found: VPC_NOT_FOUND);

/// The two DNS switches: the property, and the attribute EC2 reads it as.
const DNS_SWITCHES: &[(&str, VpcAttributeName)] = &[
    ("enable_dns_support", VpcAttributeName::EnableDnsSupport),
    ("enable_dns_hostnames", VpcAttributeName::EnableDnsHostnames),
];

/// Manages VPCs; the id is the VPC id.
pub struct VpcProvider {
    schema: TypeSchema,
    ec2: Ec2,
}

impl VpcProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
        }
    }

    /// Reads VPCs in the stack's terms with one `DescribeVpcs`, one `DescribeSecurityGroups`
    /// and one `DescribeRouteTables` for all of them, plus the two attributes of each (at once).
    async fn read_vpcs(&self, ids: &[String]) -> Vec<Result<Option<Resource>>> {
        let vpcs = self.ec2.describe::<Vpc>(ids).await;
        let present: Vec<&str> = vpcs
            .iter()
            .filter_map(|v| match v {
                Ok(Some(vpc)) => vpc.vpc_id(),
                _ => None,
            })
            .collect();
        let defaults = match self.default_groups_and_main_tables(&present).await {
            Ok(defaults) => defaults,
            Err(e) => return vpcs.iter().map(|_| Err(same_error(&e))).collect(),
        };
        let reads = vpcs.into_iter().map(|vpc| {
            let defaults = &defaults;
            async move {
                let Some(vpc) = vpc? else { return Ok(None) };
                self.resource(&vpc, defaults).await
            }
        });
        futures::future::join_all(reads).await
    }

    /// Per VPC id, its default security group and its main route table, in two concurrent
    /// calls (per [`IDS_PER_DESCRIBE`] VPCs: EC2 caps the values of a filter).
    async fn default_groups_and_main_tables(&self, vpc_ids: &[&str]) -> Result<Defaults> {
        let mut defaults = Defaults::default();
        for chunk in vpc_ids.chunks(IDS_PER_DESCRIBE) {
            let groups = self
                .ec2
                .client
                .describe_security_groups()
                .filters(filter("vpc-id", chunk))
                .filters(filter("group-name", &["default"]))
                .send();
            let tables = self
                .ec2
                .client
                .describe_route_tables()
                .filters(filter("vpc-id", chunk))
                .filters(filter("association.main", &["true"]))
                .send();
            let (groups, tables) =
                futures::try_join!(async { groups.await.map_err(api_error) }, async {
                    tables.await.map_err(api_error)
                })?;
            for group in groups.security_groups() {
                if let (Some(vpc), Some(id)) = (group.vpc_id(), group.group_id()) {
                    defaults.groups.insert(vpc.to_string(), id.to_string());
                }
            }
            for table in tables.route_tables() {
                let main = table.associations().iter().any(|a| a.main() == Some(true));
                if let (true, Some(vpc), Some(id)) = (main, table.vpc_id(), table.route_table_id())
                {
                    defaults.tables.insert(vpc.to_string(), id.to_string());
                }
            }
        }
        Ok(defaults)
    }

    /// One VPC's properties and attributes, its DNS switches read; `None` when it was deleted
    /// while being read.
    async fn resource(&self, vpc: &Vpc, defaults: &Defaults) -> Result<Option<Resource>> {
        let id = vpc
            .vpc_id()
            .ok_or_else(|| ProviderError::invalid("DescribeVpcs returned a VPC without an id"))?;
        let read = DNS_SWITCHES.iter().map(|(prop, attribute)| async move {
            Ok::<_, ProviderError>(
                self.dns_switch(id, attribute.clone())
                    .await?
                    .map(|on| (*prop, on)),
            )
        });
        let switches: Option<Vec<(&str, bool)>> = futures::future::try_join_all(read)
            .await?
            .into_iter()
            .collect();
        match switches {
            Some(switches) => self.vpc_resource(vpc, &switches, defaults).map(Some),
            None => Ok(None),
        }
    }

    /// A VPC in the stack's terms, given its DNS switches (which only `DescribeVpcAttribute`
    /// reads, or a create just set) and its default group and main table.
    fn vpc_resource(
        &self,
        vpc: &Vpc,
        switches: &[(&str, bool)],
        defaults: &Defaults,
    ) -> Result<Resource> {
        let id = vpc
            .vpc_id()
            .ok_or_else(|| ProviderError::invalid("EC2 returned a VPC without an id"))?;
        let mut properties = Map::new();
        if let Some(cidr) = vpc.cidr_block() {
            properties.insert("cidr_block".into(), Value::str(cidr));
        }
        let tenancy = vpc
            .instance_tenancy()
            .map(Tenancy::as_str)
            .unwrap_or("default");
        properties.insert("instance_tenancy".into(), Value::str(tenancy));
        for (prop, on) in switches {
            properties.insert(prop.to_string(), Value::Bool(*on));
        }
        properties.insert("tags".into(), tags_from_aws(vpc.tags()));

        let mut attributes = Map::from([
            ("id".to_string(), Value::str(id)),
            (
                "arn".to_string(),
                Value::str(self.ec2.arn(vpc.owner_id(), "vpc", id)?),
            ),
        ]);
        if let Some(group) = defaults.groups.get(id) {
            attributes.insert("default_security_group_id".into(), Value::str(group));
        }
        if let Some(table) = defaults.tables.get(id) {
            attributes.insert("main_route_table_id".into(), Value::str(table));
        }
        Ok(Resource {
            id: id.to_string(),
            properties,
            attributes,
        })
    }

    /// The default security group and main route table EC2 made with a new VPC, waiting until
    /// `Describe*` lists both (EC2 is eventually consistent).
    async fn defaults_of_new(&self, id: &str) -> Result<Defaults> {
        read_back(
            "VPC's default security group and main route table",
            id,
            || async move {
                let defaults = self.default_groups_and_main_tables(&[id]).await?;
                let both = defaults.groups.contains_key(id) && defaults.tables.contains_key(id);
                Ok(both.then_some(defaults))
            },
        )
        .await
    }

    /// A DNS switch of the VPC; `None` when the VPC is gone.
    async fn dns_switch(&self, id: &str, attribute: VpcAttributeName) -> Result<Option<bool>> {
        let out = self
            .ec2
            .client
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(attribute.clone())
            .send()
            .await
            .map_err(api_error);
        let out = match out {
            Ok(out) => out,
            Err(e) if e.is_code(VPC_NOT_FOUND) => return Ok(None),
            Err(e) => return Err(e),
        };
        let value = match attribute {
            VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
            _ => out.enable_dns_support(),
        };
        Ok(Some(value.and_then(|v| v.value()).unwrap_or(false)))
    }

    async fn read_one(&self, id: &str) -> Result<Option<Resource>> {
        self.read_vpcs(&[id.to_string()])
            .await
            .pop()
            .unwrap_or(Ok(None))
    }

    async fn set_dns_switch(&self, id: &str, prop: &str, on: bool) -> Result<()> {
        let value = AttributeBooleanValue::builder().value(on).build();
        let call = self.ec2.client.modify_vpc_attribute().vpc_id(id);
        let call = if prop == "enable_dns_hostnames" {
            call.enable_dns_hostnames(value)
        } else {
            call.enable_dns_support(value)
        };
        call.send().await.map_err(api_error)?;
        Ok(())
    }

    /// Sets DNS switches one call each, in an order EC2 accepts: DNS hostnames need DNS
    /// support, so support is turned on before hostnames and turned off after them.
    async fn set_dns_switches(&self, id: &str, mut switches: Vec<(&str, bool)>) -> Result<()> {
        switches.sort_by_key(|&(prop, on)| match (prop, on) {
            ("enable_dns_support", true) => 0,
            ("enable_dns_support", false) => 2,
            _ => 1,
        });
        for (prop, on) in switches {
            self.set_dns_switch(id, prop, on).await?;
        }
        Ok(())
    }

    fn switch(&self, props: &Map, prop: &str) -> Result<bool> {
        desired(&self.schema, props, prop)
            .and_then(|v| v.as_bool())
            .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be true or false")))
    }

    /// Waits until the new VPC leaves `pending`.
    async fn wait_available(&self, id: &str) -> Result<()> {
        wait_for(
            &format!("VPC {id} to become available"),
            VPC_AVAILABLE,
            || async move {
                let out = self
                    .ec2
                    .client
                    .describe_vpcs()
                    .vpc_ids(id)
                    .send()
                    .await
                    .map_err(api_error);
                match out {
                    Ok(out) => Ok(out
                        .vpcs()
                        .iter()
                        .any(|v| v.state() == Some(&VpcState::Available))
                        .then_some(())),
                    // Not visible yet.
                    Err(e) if e.is_code(VPC_NOT_FOUND) => Ok(None),
                    Err(e) => Err(e),
                }
            },
        )
        .await
    }
}

/// The default security group and main route table of each VPC, by VPC id.
#[derive(Default)]
struct Defaults {
    groups: HashMap<String, String>,
    tables: HashMap<String, String>,
}

#[async_trait]
impl Provider for VpcProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the VPC tagged, waits for it only while EC2 answers it `pending`, then sets each
    /// DNS switch that differs from what EC2 gives a new VPC (DNS support on, hostnames off)
    /// while looking up the default security group and main route table EC2 made with it (the
    /// one thing `CreateVpc` does not answer). Records the answer with the switches as set.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let tenancy = desired(&self.schema, props, "instance_tenancy")
            .and_then(|v| v.as_str().map(Tenancy::from))
            .unwrap_or(Tenancy::Default);
        let out = self
            .ec2
            .client
            .create_vpc()
            .cidr_block(required_str(props, "cidr_block")?)
            .instance_tenancy(tenancy)
            .set_tag_specifications(tag_specification(ResourceType::Vpc, props)?.map(|t| vec![t]))
            .send()
            .await
            .map_err(api_error)?;
        let mut vpc = out
            .vpc
            .ok_or_else(|| ProviderError::invalid("CreateVpc returned no VPC"))?;
        let id = vpc
            .vpc_id()
            .ok_or_else(|| ProviderError::invalid("CreateVpc returned no VPC id"))?
            .to_string();
        after_made(&id, async {
            if vpc.state() != Some(&VpcState::Available) {
                self.wait_available(&id).await?;
            }
            // What EC2 gives a new VPC: DNS support on, hostnames off.
            let mut wanted = Vec::new();
            let mut changes = Vec::new();
            for (prop, new_vpc_value) in [
                ("enable_dns_support", true),
                ("enable_dns_hostnames", false),
            ] {
                let on = self.switch(props, prop)?;
                wanted.push((prop, on));
                if on != new_vpc_value {
                    changes.push((prop, on));
                }
            }
            let (_, defaults) = futures::try_join!(
                once_visible(&id, VPC_NOT_FOUND, || self
                    .set_dns_switches(&id, changes.clone())),
                self.defaults_of_new(&id)
            )?;
            vpc.tags = Some(requested_tags(props)?);
            self.vpc_resource(&vpc, &wanted, &defaults)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        let ids: Vec<String> = reqs.into_iter().map(|r| r.id).collect();
        self.read_vpcs(&ids).await
    }

    /// Changes each DNS switch with its own `ModifyVpcAttribute` (EC2 takes one per call),
    /// then the tags that differ.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let mut switches = Vec::new();
        for prop in &req.changed {
            match prop.as_str() {
                "enable_dns_support" | "enable_dns_hostnames" => {
                    switches.push((prop.as_str(), self.switch(&req.properties, prop)?));
                }
                "tags" => {
                    self.ec2
                        .update_tags(&req.id, &req.prior_properties, &req.properties)
                        .await?
                }
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        self.set_dns_switches(&req.id, switches).await?;
        read_back("VPC", &req.id, || self.read_one(&req.id)).await
    }

    /// Deletes the VPC, retrying while AWS still counts dependencies that are going away; one
    /// already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let id = req.id.as_str();
        delete_with_backoff(
            VPC_DEPENDENCY_BUDGET,
            DEPENDENCY_VIOLATION,
            VPC_NOT_FOUND,
            || async move {
                self.ec2
                    .client
                    .delete_vpc()
                    .vpc_id(id)
                    .send()
                    .await
                    .map_err(api_error)
            },
        )
        .await
    }

    /// Finds the VPC by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self.ec2.tagged_id::<Vpc>(TYPE_NAME, &req).await? {
            Some(id) => self.read_one(&id).await,
            None => Ok(None),
        }
    }
}
