//! `aws.ec2.subnet`: a range of a VPC's addresses in one availability zone.
//!
//! Its VPC, CIDR block and zone are fixed at create. Whether instances launched in it get a
//! public IPv4 address is a subnet attribute, changed in place with `ModifySubnetAttribute`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, SubnetState};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{
    by_id, describe_many, read_back, strata_filters, tag_specification, tagged_id, tags_from_aws,
    Ec2,
};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::props::{desired, given, required_str};
use crate::retry::{wait_for, with_backoff};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.subnet";

/// How EC2 says a subnet does not exist.
pub(crate) const SUBNET_NOT_FOUND: &[&str] = &["InvalidSubnetID.NotFound"];

/// How long a new subnet may stay `pending`.
const SUBNET_AVAILABLE_TIMEOUT: Duration = Duration::from_secs(300);
/// How often to look while waiting for a subnet to become available.
const SUBNET_AVAILABLE_INTERVAL: Duration = Duration::from_secs(2);

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
            Prop::new("cidr_block", Kind::String).required().force_new(),
            Prop::new("availability_zone", Kind::String).force_new(),
            Prop::new("map_public_ip_on_launch", Kind::Bool).default(false),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "arn"],
        taggable: true,
        name_rule: None,
    }
}

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

    /// Describes subnets by id, in one call where EC2 allows it.
    async fn describe(&self, ids: &[String]) -> Vec<Result<Option<aws_sdk_ec2::types::Subnet>>> {
        let client = &self.ec2.client;
        describe_many(ids, SUBNET_NOT_FOUND, |ids| async move {
            let out = client
                .describe_subnets()
                .set_subnet_ids(Some(ids))
                .send()
                .await
                .map_err(api_error)?;
            Ok(by_id(out.subnets()))
        })
        .await
    }

    /// A subnet in the stack's terms.
    fn resource(&self, subnet: &aws_sdk_ec2::types::Subnet) -> Result<Resource> {
        let id = subnet.subnet_id().ok_or_else(|| {
            ProviderError::invalid("DescribeSubnets returned a subnet without an id")
        })?;
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
        match self.describe(&[id.to_string()]).await.pop() {
            Some(Ok(Some(subnet))) => self.resource(&subnet).map(Some),
            Some(Err(e)) => Err(e),
            _ => Ok(None),
        }
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
            SUBNET_AVAILABLE_TIMEOUT,
            SUBNET_AVAILABLE_INTERVAL,
            || async move {
                match self.describe(&[id.to_string()]).await.pop() {
                    Some(Ok(Some(subnet))) => {
                        Ok((subnet.state() == Some(&SubnetState::Available)).then_some(()))
                    }
                    Some(Err(e)) => Err(e),
                    // Not visible yet.
                    _ => Ok(None),
                }
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

    /// Creates the subnet tagged, waits for it, then maps public IPs when asked (a new subnet
    /// does not).
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
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .ok_or_else(|| ProviderError::invalid("CreateSubnet returned no subnet id"))?
            .to_string();
        self.wait_available(&id).await?;
        if self.map_public_ip(props)? {
            self.set_map_public_ip(&id, true).await?;
        }
        read_back("subnet", &id, || self.read_one(&id)).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        let ids: Vec<String> = reqs.into_iter().map(|r| r.id).collect();
        self.describe(&ids)
            .await
            .into_iter()
            .map(|found| match found? {
                Some(subnet) => self.resource(&subnet).map(Some),
                None => Ok(None),
            })
            .collect()
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
                other => {
                    return Err(ProviderError::invalid(format!(
                        "`{other}` of {TYPE_NAME} cannot be changed in place"
                    )))
                }
            }
        }
        read_back("subnet", &req.id, || self.read_one(&req.id)).await
    }

    /// Deletes the subnet, retrying while network interfaces of deleted resources linger in
    /// it; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let id = req.id.as_str();
        let out = with_backoff(
            SUBNET_DEPENDENCY_BUDGET,
            |e| e.is_code(&["DependencyViolation"]),
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
        .await;
        missing_is_none(out, SUBNET_NOT_FOUND).map(|_| ())
    }

    /// Finds the subnet by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let out = self
            .ec2
            .client
            .describe_subnets()
            .set_filters(Some(strata_filters(&req.stack, &req.address)))
            .send()
            .await
            .map_err(api_error)?;
        match tagged_id(TYPE_NAME, out.subnets(), &req)? {
            Some(id) => self.read_one(&id).await,
            None => Ok(None),
        }
    }
}
