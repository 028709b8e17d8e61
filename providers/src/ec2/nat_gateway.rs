//! `aws.ec2.nat_gateway`: a public NAT gateway, giving a private subnet's instances a way out.
//!
//! Everything about a NAT gateway is fixed at create but its tags. AWS builds it for a minute
//! or two (`pending`), and a route to it only works once it is `available`, so create waits.
//! Deleting it also takes a while (`deleting`), and its Elastic IP cannot be released before it
//! is `deleted`, so delete waits too: the engine releases the address only after this returns.
//! A gateway that is `deleted` (AWS lists it for an hour) or `failed` no longer exists here.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, NatGateway, NatGatewayState, ResourceType};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{ec2_object, filter, requested_tags, tag_specification, tags_from_aws, Ec2};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::required_str;
use crate::retry::{wait_for, Wait};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.nat_gateway";

/// How EC2 says a NAT gateway does not exist.
const NAT_NOT_FOUND: &[&str] = &["NatGatewayNotFound", "InvalidNatGatewayID.NotFound"];

/// How long a new NAT gateway may stay `pending` (terraform-provider-aws: 10 minutes),
/// looking every 5 s.
const NAT_AVAILABLE: Wait = Wait {
    timeout: Duration::from_secs(10 * 60),
    interval: Duration::from_secs(5),
};
/// How long a NAT gateway may stay `deleting` (terraform-provider-aws: 30 minutes), looking
/// every 5 s.
const NAT_DELETED: Wait = Wait {
    timeout: Duration::from_secs(30 * 60),
    interval: Duration::from_secs(5),
};

/// The gateway's properties: where it lives and which address it uses are fixed.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("subnet_id", Kind::String).required().force_new(),
            Prop::new("allocation_id", Kind::String)
                .required()
                .force_new(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id"],
        taggable: true,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.ec2.nat_gateway`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(NatGatewayProvider::new(ctx)),
    about: "A public NAT gateway, giving a private subnet's instances a way out; create waits \
            until it is `available`, delete until it is `deleted`.",
    import_id: "the NAT gateway id (`nat-…`)",
    attributes: &[("id", "the NAT gateway id (`nat-…`)")],
    property_notes: &[],
    actions: Actions {
        create: &[
            "ec2:CreateNatGateway",
            "ec2:CreateTags",
            "ec2:DescribeNatGateways",
        ],
        read: &["ec2:DescribeNatGateways"],
        update: &["ec2:CreateTags", "ec2:DeleteTags"],
        delete: &[
            "ec2:DeleteNatGateway",
            "ec2:DescribeNatGateways",
            "ec2:DescribeAddresses",
            "ec2:DisassociateAddress",
        ],
    },
    resources: &[
        "arn:{partition}:ec2:{region}:{account}:natgateway/{id}",
        "arn:{partition}:ec2:{region}:{account}:subnet/{subnet_id}",
        "arn:{partition}:ec2:{region}:{account}:elastic-ip/{allocation_id}",
        "arn:{partition}:ec2:{region}:{account}:network-interface/*",
    ],
    passes_role: &[],
};

ec2_object!(NatGateway: describe_nat_gateways(set_nat_gateway_ids, set_filter)
    -> nat_gateways, id: nat_gateway_id, not_found: NAT_NOT_FOUND;
    /// Only gateways that may still become (or are) `available`.
    fn find_filters() -> Vec<Filter> {
        vec![filter("state", &["pending", "available"])]
    }

    fn adoptable(&self) -> bool {
        !is_gone(self) && self.state() != Some(&NatGatewayState::Deleting)
    }
);

/// True for a gateway that is gone or going nowhere: strata treats it as not existing.
fn is_gone(nat: &NatGateway) -> bool {
    matches!(
        nat.state(),
        Some(NatGatewayState::Deleted | NatGatewayState::Failed)
    )
}

/// Manages NAT gateways; the id is the NAT gateway id.
pub struct NatGatewayProvider {
    schema: TypeSchema,
    ec2: Ec2,
}

impl NatGatewayProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
        }
    }

    /// The gateway by id, as AWS lists it (a deleted one included).
    async fn describe_one(&self, id: &str) -> Result<Option<NatGateway>> {
        self.ec2.describe_one(id).await
    }

    /// A live gateway in the stack's terms; `None` when it is deleted or failed.
    fn resource(&self, nat: &NatGateway) -> Result<Option<Resource>> {
        if is_gone(nat) {
            return Ok(None);
        }
        let id = nat.nat_gateway_id().ok_or_else(|| {
            ProviderError::invalid("DescribeNatGateways returned a gateway without an id")
        })?;
        let mut properties = Map::new();
        if let Some(subnet) = nat.subnet_id() {
            properties.insert("subnet_id".into(), Value::str(subnet));
        }
        // The address given at create is the primary one; secondary addresses come later.
        let addresses = nat.nat_gateway_addresses();
        let primary = addresses
            .iter()
            .find(|a| a.is_primary() == Some(true))
            .or_else(|| addresses.first());
        if let Some(allocation) = primary.and_then(|a| a.allocation_id()) {
            properties.insert("allocation_id".into(), Value::str(allocation));
        }
        properties.insert("tags".into(), tags_from_aws(nat.tags()));
        Ok(Some(Resource {
            id: id.to_string(),
            properties,
            attributes: Map::from([("id".to_string(), Value::str(id))]),
        }))
    }

    async fn read_one(&self, id: &str) -> Result<Option<Resource>> {
        self.ec2.read_one(id, |nat| self.resource(nat)).await
    }

    /// Waits until the new gateway is `available`; a `failed` one is an error with AWS's reason.
    async fn wait_available(&self, id: &str) -> Result<Resource> {
        wait_for(
            &format!("NAT gateway {id} to become available"),
            NAT_AVAILABLE,
            || async move {
                // Not visible yet: keep looking.
                let Some(nat) = self.describe_one(id).await? else {
                    return Ok(None);
                };
                match nat.state() {
                    Some(NatGatewayState::Available) => self.resource(&nat),
                    Some(
                        NatGatewayState::Failed
                        | NatGatewayState::Deleting
                        | NatGatewayState::Deleted,
                    ) => Err(ProviderError::Api {
                        code: nat.failure_code().unwrap_or("NatGatewayFailed").to_string(),
                        message: format!(
                            "NAT gateway {id} is {}: {}",
                            nat.state().map(NatGatewayState::as_str).unwrap_or("failed"),
                            nat.failure_message().unwrap_or("AWS gave no reason")
                        ),
                    }),
                    _ => Ok(None),
                }
            },
        )
        .await
    }

    /// Waits until the gateway is `deleted` (or no longer listed).
    async fn wait_deleted(&self, id: &str) -> Result<()> {
        wait_for(
            &format!("NAT gateway {id} to be deleted"),
            NAT_DELETED,
            || async move {
                let nat = self.describe_one(id).await?;
                Ok(nat
                    .is_none_or(|n| n.state() == Some(&NatGatewayState::Deleted))
                    .then_some(()))
            },
        )
        .await
    }
}

#[async_trait]
impl Provider for NatGatewayProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the gateway tagged and, while EC2 answers it `pending` (AWS always does), waits
    /// until it is `available`. One answered `available` is recorded as answered.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let out = self
            .ec2
            .client
            .create_nat_gateway()
            .subnet_id(required_str(props, "subnet_id")?)
            .allocation_id(required_str(props, "allocation_id")?)
            .set_tag_specifications(
                tag_specification(ResourceType::Natgateway, props)?.map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(api_error)?;
        let mut nat = out
            .nat_gateway
            .ok_or_else(|| ProviderError::invalid("CreateNatGateway returned no gateway"))?;
        let id = nat
            .nat_gateway_id()
            .ok_or_else(|| ProviderError::invalid("CreateNatGateway returned no id"))?
            .to_string();
        after_made(&id, async {
            if nat.state() != Some(&NatGatewayState::Available) {
                return self.wait_available(&id).await;
            }
            nat.tags = Some(requested_tags(props)?);
            self.resource(&nat)?.ok_or_else(|| {
                ProviderError::invalid(format!("CreateNatGateway answered {id} as gone"))
            })
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        self.ec2.read_many(&reqs, |nat, _| self.resource(nat)).await
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
        self.read_one(&req.id).await?.ok_or_else(|| {
            ProviderError::invalid(format!("NAT gateway {} no longer exists", req.id))
        })
    }

    /// Deletes the gateway and waits until it is `deleted`, so that its Elastic IP can be
    /// released next; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let mut interfaces = Vec::new();
        match self.describe_one(&req.id).await? {
            None => return Ok(()),
            Some(nat) if nat.state() == Some(&NatGatewayState::Deleted) => return Ok(()),
            Some(nat) if nat.state() == Some(&NatGatewayState::Deleting) => {}
            Some(nat) => {
                interfaces = nat
                    .nat_gateway_addresses()
                    .iter()
                    .filter_map(|a| a.network_interface_id().map(str::to_string))
                    .collect();
                let out = self
                    .ec2
                    .client
                    .delete_nat_gateway()
                    .nat_gateway_id(&req.id)
                    .send()
                    .await
                    .map_err(api_error);
                match out {
                    Ok(_) => {}
                    Err(e) if e.is_code(NAT_NOT_FOUND) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        }
        self.wait_deleted(&req.id).await?;
        self.release_association(&req, &interfaces).await
    }

    /// Finds the gateway by its strata tags, among those not deleted or failed.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self.ec2.tagged_id::<NatGateway>(TYPE_NAME, &req).await? {
            Some(id) => self.wait_available(&id).await.map(Some),
            None => Ok(None),
        }
    }
}

impl NatGatewayProvider {
    /// AWS disassociates the gateway's Elastic IP when the gateway is deleted. The emulator
    /// leaves it associated with the gateway's network interface (`interfaces`), so a new
    /// gateway on the same address would fail with `Resource.AlreadyAssociated`: disassociate
    /// what is left on those interfaces, and nothing else. Against AWS the address is already
    /// free and nothing is called.
    async fn release_association(&self, req: &DeleteRequest, interfaces: &[String]) -> Result<()> {
        let Some(allocation) = req.properties.get("allocation_id").and_then(Value::as_str) else {
            return Ok(());
        };
        let out = self
            .ec2
            .client
            .describe_addresses()
            .allocation_ids(allocation)
            .send()
            .await
            .map_err(api_error);
        let addresses = match out {
            Ok(out) => out.addresses.unwrap_or_default(),
            Err(e) if e.is_code(&["InvalidAllocationID.NotFound"]) => return Ok(()),
            Err(e) => return Err(e),
        };
        for address in addresses {
            let ours = address
                .network_interface_id()
                .is_some_and(|eni| interfaces.iter().any(|i| i == eni));
            if let (true, Some(association)) = (ours, address.association_id()) {
                let out = self
                    .ec2
                    .client
                    .disassociate_address()
                    .association_id(association)
                    .send()
                    .await
                    .map_err(api_error);
                // Gone already: nothing to undo.
                missing_is_none(out, &["InvalidAssociationID.NotFound"])?;
            }
        }
        Ok(())
    }
}
