//! `aws.ec2.eip`: an Elastic IP address, allocated for use in a VPC.
//!
//! The allocation id is the resource's id; a NAT gateway takes it as `allocation_id`. An
//! address a NAT gateway uses cannot be released until that gateway is deleted: the engine
//! deletes the gateway first (it references the address), and the NAT gateway provider waits
//! until the gateway is really gone.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Address, DomainType, ResourceType};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{ec2_object, read_back, requested_tags, tag_specification, tags_from_aws, Ec2};
use crate::aws::{api_error, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::retry::delete_with_backoff;
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.eip";

/// How EC2 says an allocation does not exist.
const EIP_NOT_FOUND: &[&str] = &["InvalidAllocationID.NotFound"];

/// How EC2 refuses to release an address still associated: right after the NAT gateway that
/// used it reaches `deleted`, AWS may still hold the association for a moment.
const ADDRESS_IN_USE: &[&str] = &["InvalidIPAddress.InUse"];

/// How long release keeps retrying an address AWS still counts as in use.
const RELEASE_IN_USE_BUDGET: Duration = Duration::from_secs(5 * 60);

/// The address's properties: only tags (it is always allocated in the `vpc` domain).
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![Prop::new("tags", Kind::Map(Box::new(Kind::String)))],
        attrs: vec!["id", "public_ip"],
        taggable: true,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.ec2.eip`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(EipProvider::new(ctx)),
    about: "An Elastic IP address, allocated for use in a VPC (a NAT gateway takes its id as \
            `allocation_id`).",
    import_id: "the allocation id (`eipalloc-…`)",
    attributes: &[
        ("id", "the allocation id (`eipalloc-…`)"),
        ("public_ip", "the public IPv4 address"),
    ],
    property_notes: &[],
    actions: Actions {
        create: &["ec2:AllocateAddress", "ec2:CreateTags"],
        read: &["ec2:DescribeAddresses"],
        update: &["ec2:CreateTags", "ec2:DeleteTags"],
        delete: &["ec2:ReleaseAddress"],
    },
    resources: &["arn:{partition}:ec2:{region}:{account}:elastic-ip/{id}"],
    passes_role: &[],
};

ec2_object!(Address: describe_addresses(set_allocation_ids, set_filters)
    -> addresses, id: allocation_id, not_found: EIP_NOT_FOUND);

/// Manages Elastic IP addresses; the id is the allocation id.
pub struct EipProvider {
    schema: TypeSchema,
    ec2: Ec2,
}

impl EipProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
        }
    }

    fn resource(&self, address: &Address) -> Result<Resource> {
        let id = address.allocation_id().ok_or_else(|| {
            ProviderError::invalid("EC2 returned an address without an allocation id")
        })?;
        let mut attributes = Map::from([("id".to_string(), Value::str(id))]);
        if let Some(ip) = address.public_ip() {
            attributes.insert("public_ip".into(), Value::str(ip));
        }
        Ok(Resource {
            id: id.to_string(),
            properties: Map::from([("tags".to_string(), tags_from_aws(address.tags()))]),
            attributes,
        })
    }

    async fn read_one(&self, id: &str) -> Result<Option<Resource>> {
        self.ec2
            .read_one(id, |address| self.resource(address).map(Some))
            .await
    }
}

#[async_trait]
impl Provider for EipProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Allocates an address in the `vpc` domain, tagged, and records what `AllocateAddress`
    /// answered (the allocation id and the address) with its tags: nothing is read back.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let out = self
            .ec2
            .client
            .allocate_address()
            .domain(DomainType::Vpc)
            .set_tag_specifications(
                tag_specification(ResourceType::ElasticIp, &req.properties)?.map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(api_error)?;
        let id = out
            .allocation_id()
            .ok_or_else(|| ProviderError::invalid("AllocateAddress returned no allocation id"))?
            .to_string();
        after_made(&id, async {
            let address = Address::builder()
                .allocation_id(&id)
                .set_public_ip(out.public_ip)
                .set_domain(out.domain)
                .set_tags(Some(requested_tags(&req.properties)?))
                .build();
            self.resource(&address)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        self.ec2
            .read_many(&reqs, |address, _| self.resource(address).map(Some))
            .await
    }

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
        read_back("Elastic IP", &req.id, || self.read_one(&req.id)).await
    }

    /// Releases the address, retrying while AWS still counts it as in use by a NAT gateway
    /// that was just deleted; one already released is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let id = req.id.as_str();
        delete_with_backoff(
            RELEASE_IN_USE_BUDGET,
            ADDRESS_IN_USE,
            EIP_NOT_FOUND,
            || async move {
                self.ec2
                    .client
                    .release_address()
                    .allocation_id(id)
                    .send()
                    .await
                    .map_err(api_error)
            },
        )
        .await
    }

    /// Finds the address by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self.ec2.tagged_id::<Address>(TYPE_NAME, &req).await? {
            Some(id) => self.read_one(&id).await,
            None => Ok(None),
        }
    }
}
