//! `aws.ec2.internet_gateway`: a VPC's way to and from the internet.
//!
//! The gateway and its attachment are one resource, as in terraform-provider-aws: `vpc_id`
//! attaches it, and a new `vpc_id` detaches it from the old VPC and attaches it to the new one,
//! keeping the gateway (and its id). Delete detaches first.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttachmentStatus, InternetGateway, InternetGatewayAttachment, ResourceType,
};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{
    ec2_object, once_visible, read_back, requested_tags, tag_specification, tags_from_aws, Ec2,
    DEPENDENCY_VIOLATION,
};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::given;
use crate::retry::with_backoff;
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.internet_gateway";

/// How EC2 says an internet gateway does not exist.
const IGW_NOT_FOUND: &[&str] = &["InvalidInternetGatewayID.NotFound"];

/// How EC2 says the gateway is not attached to that VPC (detaching twice).
const NOT_ATTACHED: &[&str] = &["Gateway.NotAttached"];

/// How long detach keeps retrying `DependencyViolation`: AWS refuses to detach while the VPC
/// still has public addresses mapped (a NAT gateway's Elastic IP, being deleted alongside).
/// terraform-provider-aws waits 15 minutes too.
const DETACH_DEPENDENCY_BUDGET: Duration = Duration::from_secs(15 * 60);

/// The gateway's properties: the VPC it is attached to, and tags.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("vpc_id", Kind::String),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "arn"],
        taggable: true,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.ec2.internet_gateway`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(InternetGatewayProvider::new(ctx)),
    about: "A VPC's way to and from the internet; the gateway and its attachment are one \
            resource.",
    import_id: "the internet gateway id (`igw-…`)",
    attributes: &[
        ("id", "the internet gateway id (`igw-…`)"),
        ("arn", "the internet gateway's ARN"),
    ],
    property_notes: &[(
        "vpc_id",
        "a new `vpc_id` detaches the gateway and attaches it to the new VPC, keeping it",
    )],
    actions: Actions {
        create: &[
            "ec2:CreateInternetGateway",
            "ec2:CreateTags",
            "ec2:AttachInternetGateway",
        ],
        read: &["ec2:DescribeInternetGateways"],
        update: &[
            "ec2:AttachInternetGateway",
            "ec2:DetachInternetGateway",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ],
        delete: &["ec2:DetachInternetGateway", "ec2:DeleteInternetGateway"],
    },
    resources: &[
        "arn:{partition}:ec2:{region}:{account}:internet-gateway/{id}",
        "arn:{partition}:ec2:{region}:{account}:vpc/{vpc_id}",
    ],
    passes_role: &[],
};

ec2_object!(InternetGateway: describe_internet_gateways(set_internet_gateway_ids, set_filters)
    -> internet_gateways, id: internet_gateway_id, not_found: IGW_NOT_FOUND);

/// The VPCs the gateway is attached (or attaching) to.
fn attached_vpcs(igw: &InternetGateway) -> Vec<String> {
    igw.attachments()
        .iter()
        .filter(|a| {
            !matches!(
                a.state(),
                Some(AttachmentStatus::Detached | AttachmentStatus::Detaching)
            )
        })
        .filter_map(|a| a.vpc_id().map(str::to_string))
        .collect()
}

/// Manages internet gateways and their attachment; the id is the gateway id.
pub struct InternetGatewayProvider {
    schema: TypeSchema,
    ec2: Ec2,
}

impl InternetGatewayProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
        }
    }

    fn resource(&self, igw: &InternetGateway) -> Result<Resource> {
        let id = igw.internet_gateway_id().ok_or_else(|| {
            ProviderError::invalid("EC2 returned an internet gateway without an id")
        })?;
        let mut properties = Map::new();
        if let Some(vpc) = attached_vpcs(igw).first() {
            properties.insert("vpc_id".into(), Value::str(vpc));
        }
        properties.insert("tags".into(), tags_from_aws(igw.tags()));
        Ok(Resource {
            id: id.to_string(),
            properties,
            attributes: Map::from([
                ("id".to_string(), Value::str(id)),
                (
                    "arn".to_string(),
                    Value::str(self.ec2.arn(igw.owner_id(), "internet-gateway", id)?),
                ),
            ]),
        })
    }

    async fn read_one(&self, id: &str) -> Result<Option<Resource>> {
        self.ec2
            .read_one(id, |igw| self.resource(igw).map(Some))
            .await
    }

    async fn attach(&self, id: &str, vpc: &str) -> Result<()> {
        // The gateway was created a moment ago: EC2 may not show it everywhere yet.
        once_visible(id, IGW_NOT_FOUND, || async move {
            self.ec2
                .client
                .attach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc)
                .send()
                .await
                .map_err(api_error)
        })
        .await?;
        Ok(())
    }

    /// Detaches the gateway from `vpc`, waiting out the public addresses AWS still maps in
    /// it; a gateway no longer attached there is success.
    async fn detach(&self, id: &str, vpc: &str) -> Result<()> {
        let out = with_backoff(
            DETACH_DEPENDENCY_BUDGET,
            |e| e.is_code(DEPENDENCY_VIOLATION),
            || async move {
                self.ec2
                    .client
                    .detach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(vpc)
                    .send()
                    .await
                    .map_err(api_error)
            },
        )
        .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.is_code(NOT_ATTACHED) || e.is_code(IGW_NOT_FOUND) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn vpc_of(props: &Map) -> Option<String> {
    given(props, "vpc_id").and_then(|v| v.as_str().map(str::to_string))
}

#[async_trait]
impl Provider for InternetGatewayProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the gateway tagged and attaches it to `vpc_id`, when given. Records what
    /// `CreateInternetGateway` answered (id, owner) with its tags and the attachment just
    /// made: nothing is read back.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let out = self
            .ec2
            .client
            .create_internet_gateway()
            .set_tag_specifications(
                tag_specification(ResourceType::InternetGateway, props)?.map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(api_error)?;
        let mut igw = out
            .internet_gateway
            .ok_or_else(|| ProviderError::invalid("CreateInternetGateway returned no gateway"))?;
        let id = igw
            .internet_gateway_id()
            .ok_or_else(|| ProviderError::invalid("CreateInternetGateway returned no id"))?
            .to_string();
        after_made(&id, async {
            if let Some(vpc) = vpc_of(props) {
                self.attach(&id, &vpc).await?;
                // How `DescribeInternetGateways` lists a gateway attached to a VPC: `available`,
                // a state the SDK's enum (shared with VPN gateways) does not name.
                igw.attachments = Some(vec![InternetGatewayAttachment::builder()
                    .vpc_id(vpc)
                    .state(AttachmentStatus::from("available"))
                    .build()]);
            }
            igw.tags = Some(requested_tags(props)?);
            self.resource(&igw)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        self.ec2
            .read_many(&reqs, |igw, _| self.resource(igw).map(Some))
            .await
    }

    /// A new `vpc_id` detaches the gateway from every VPC it is attached to now (as AWS says,
    /// not as recorded) and attaches it to the new one; the gateway stays the same.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        for prop in &req.changed {
            match prop.as_str() {
                "vpc_id" => {
                    let wanted = vpc_of(&req.properties);
                    let igw = self
                        .ec2
                        .describe_one::<InternetGateway>(&req.id)
                        .await?
                        .ok_or_else(|| {
                            ProviderError::invalid(format!(
                                "internet gateway {} no longer exists",
                                req.id
                            ))
                        })?;
                    let current = attached_vpcs(&igw);
                    for vpc in current.iter().filter(|v| Some(*v) != wanted.as_ref()) {
                        self.detach(&req.id, vpc).await?;
                    }
                    if let Some(vpc) = wanted.filter(|w| !current.contains(w)) {
                        self.attach(&req.id, &vpc).await?;
                    }
                }
                "tags" => {
                    self.ec2
                        .update_tags(&req.id, &req.prior_properties, &req.properties)
                        .await?
                }
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        read_back("internet gateway", &req.id, || self.read_one(&req.id)).await
    }

    /// Detaches the gateway from its VPCs, then deletes it; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let Some(igw) = self.ec2.describe_one::<InternetGateway>(&req.id).await? else {
            return Ok(());
        };
        for vpc in attached_vpcs(&igw) {
            self.detach(&req.id, &vpc).await?;
        }
        let out = self
            .ec2
            .client
            .delete_internet_gateway()
            .internet_gateway_id(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, IGW_NOT_FOUND).map(|_| ())
    }

    /// Finds the gateway by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self
            .ec2
            .tagged_id::<InternetGateway>(TYPE_NAME, &req)
            .await?
        {
            Some(id) => self.read_one(&id).await,
            None => Ok(None),
        }
    }
}
