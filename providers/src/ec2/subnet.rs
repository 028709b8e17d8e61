//! `aws.ec2.subnet`: a range of a VPC's addresses in one availability zone.
//!
//! Its VPC, CIDR block and zone are fixed at create. Whether instances launched in it get a
//! public IPv4 address is a subnet attribute, changed in place with `ModifySubnetAttribute`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Subnet, SubnetState};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{
    ec2_object, once_visible, read_back, requested_tags, tag_specification, tags_from_aws, Ec2,
    DEPENDENCY_VIOLATION,
};
use crate::aws::{api_error, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::retry::{delete_with_backoff, wait_for, Wait};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.subnet";

/// How EC2 says a subnet does not exist.
pub(crate) const SUBNET_NOT_FOUND: &[&str] = &["InvalidSubnetID.NotFound"];

/// How long a new subnet may stay `pending`, looking every 2 s.
const SUBNET_AVAILABLE: Wait = Wait {
    timeout: Duration::from_secs(300),
    interval: Duration::from_secs(2),
};

/// How long delete keeps retrying `DependencyViolation`: the network interfaces of a deleted
/// NAT gateway or Lambda function stay in the subnet for a while after their owner is gone
/// (Lambda's for up to 20 minutes). terraform-provider-aws waits 20 minutes too.
const SUBNET_DEPENDENCY_BUDGET: Duration = Duration::from_secs(20 * 60);

/// The subnet's properties. `map_public_ip_on_launch` is off in every subnet EC2 creates
/// outside a default VPC, so leaving it out of the stack turns it off.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("vpc_id", Kind::String).required().force_new(),
            Prop::new("cidr_block", Kind::String)
                .cidr()
                .required()
                .force_new(),
            Prop::new("availability_zone", Kind::String).force_new(),
            Prop::new("map_public_ip_on_launch", Kind::Bool).default(false),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "arn"],
        taggable: true,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.ec2.subnet`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(SubnetProvider::new(ctx)),
    about: "A range of a VPC's addresses in one availability zone.",
    import_id: "the subnet id (`subnet-…`)",
    attributes: &[
        ("id", "the subnet id (`subnet-…`)"),
        ("arn", "the subnet's ARN"),
    ],
    property_notes: &[],
    actions: Actions {
        // `DescribeSubnets` only while EC2 answers the new subnet `pending`.
        create: &[
            "ec2:CreateSubnet",
            "ec2:CreateTags",
            "ec2:ModifySubnetAttribute",
            "ec2:DescribeSubnets",
        ],
        read: &["ec2:DescribeSubnets"],
        update: &[
            "ec2:ModifySubnetAttribute",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ],
        delete: &["ec2:DeleteSubnet"],
    },
    resources: &[
        "arn:{partition}:ec2:{region}:{account}:subnet/{id}",
        "arn:{partition}:ec2:{region}:{account}:vpc/{vpc_id}",
    ],
    passes_role: &[],
};

ec2_object!(Subnet: describe_subnets(set_subnet_ids, set_filters)
    -> subnets, id: subnet_id, not_found: SUBNET_NOT_FOUND);

/// Manages subnets; the id is the subnet id.
pub struct SubnetProvider {
    schema: TypeSchema,
    ec2: Ec2,
}

impl SubnetProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
        }
    }

    /// A subnet in the stack's terms (as `DescribeSubnets` lists it, or as `CreateSubnet`
    /// answered it with what the create changed since).
    fn resource(&self, subnet: &Subnet) -> Result<Resource> {
        let id = subnet
            .subnet_id()
            .ok_or_else(|| ProviderError::invalid("EC2 returned a subnet without an id"))?;
        let mut properties = Map::new();
        for (prop, value) in [
            ("vpc_id", subnet.vpc_id()),
            ("cidr_block", subnet.cidr_block()),
            ("availability_zone", subnet.availability_zone()),
        ] {
            if let Some(value) = value {
                properties.insert(prop.to_string(), Value::str(value));
            }
        }
        properties.insert(
            "map_public_ip_on_launch".into(),
            Value::Bool(subnet.map_public_ip_on_launch().unwrap_or(false)),
        );
        properties.insert("tags".into(), tags_from_aws(subnet.tags()));
        let arn = match subnet.subnet_arn() {
            Some(arn) => arn.to_string(),
            None => self.ec2.arn(subnet.owner_id(), "subnet", id)?,
        };
        Ok(Resource {
            id: id.to_string(),
            properties,
            attributes: Map::from([
                ("id".to_string(), Value::str(id)),
                ("arn".to_string(), Value::str(arn)),
            ]),
        })
    }

    async fn read_one(&self, id: &str) -> Result<Option<Resource>> {
        self.ec2
            .read_one(id, |subnet| self.resource(subnet).map(Some))
            .await
    }

    async fn set_map_public_ip(&self, id: &str, on: bool) -> Result<()> {
        self.ec2
            .client
            .modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build())
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    fn map_public_ip(&self, props: &Map) -> Result<bool> {
        desired(&self.schema, props, "map_public_ip_on_launch")
            .and_then(|v| v.as_bool())
            .ok_or_else(|| {
                ProviderError::invalid("`map_public_ip_on_launch` must be true or false")
            })
    }

    /// Waits until the new subnet leaves `pending`.
    async fn wait_available(&self, id: &str) -> Result<()> {
        wait_for(
            &format!("subnet {id} to become available"),
            SUBNET_AVAILABLE,
            || async move {
                // `None`: not visible yet.
                let subnet = self.ec2.describe_one::<Subnet>(id).await?;
                Ok(subnet
                    .filter(|s| s.state() == Some(&SubnetState::Available))
                    .map(|_| ()))
            },
        )
        .await
    }
}

#[async_trait]
impl Provider for SubnetProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the subnet tagged, waits for it only while EC2 answers it `pending`, then maps
    /// public IPs when asked (a new subnet does not). Records what `CreateSubnet` answered
    /// (ids, ARN, zone) with the tags it was given and the mapping just set: nothing is read
    /// back.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let zone = given(props, "availability_zone").and_then(|v| v.as_str().map(str::to_string));
        let out = self
            .ec2
            .client
            .create_subnet()
            .vpc_id(required_str(props, "vpc_id")?)
            .cidr_block(required_str(props, "cidr_block")?)
            .set_availability_zone(zone)
            .set_tag_specifications(
                tag_specification(ResourceType::Subnet, props)?.map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(api_error)?;
        let mut subnet = out
            .subnet
            .ok_or_else(|| ProviderError::invalid("CreateSubnet returned no subnet"))?;
        let id = subnet
            .subnet_id()
            .ok_or_else(|| ProviderError::invalid("CreateSubnet returned no subnet id"))?
            .to_string();
        after_made(&id, async {
            if subnet.state() != Some(&SubnetState::Available) {
                self.wait_available(&id).await?;
            }
            let public = self.map_public_ip(props)?;
            if public != subnet.map_public_ip_on_launch().unwrap_or(false) {
                once_visible(&id, SUBNET_NOT_FOUND, || {
                    self.set_map_public_ip(&id, public)
                })
                .await?;
            }
            subnet.map_public_ip_on_launch = Some(public);
            subnet.tags = Some(requested_tags(props)?);
            self.resource(&subnet)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        self.ec2
            .read_many(&reqs, |subnet, _| self.resource(subnet).map(Some))
            .await
    }

    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        for prop in &req.changed {
            match prop.as_str() {
                "map_public_ip_on_launch" => {
                    let on = self.map_public_ip(&req.properties)?;
                    self.set_map_public_ip(&req.id, on).await?;
                }
                "tags" => {
                    self.ec2
                        .update_tags(&req.id, &req.prior_properties, &req.properties)
                        .await?
                }
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        read_back("subnet", &req.id, || self.read_one(&req.id)).await
    }

    /// Deletes the subnet, retrying while network interfaces of deleted resources linger in
    /// it; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let id = req.id.as_str();
        delete_with_backoff(
            SUBNET_DEPENDENCY_BUDGET,
            DEPENDENCY_VIOLATION,
            SUBNET_NOT_FOUND,
            || async move {
                self.ec2
                    .client
                    .delete_subnet()
                    .subnet_id(id)
                    .send()
                    .await
                    .map_err(api_error)
            },
        )
        .await
    }

    /// Finds the subnet by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self.ec2.tagged_id::<Subnet>(TYPE_NAME, &req).await? {
            Some(id) => self.read_one(&id).await,
            None => Ok(None),
        }
    }
}
