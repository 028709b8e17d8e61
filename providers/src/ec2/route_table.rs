//! `aws.ec2.route_table`: a VPC route table, its routes and the subnets it serves.
//!
//! Routes and subnet associations are managed inline, as sets: routes keyed by their
//! destination, associations by subnet. An update changes only what differs from what AWS has,
//! one call each (`CreateRoute`, `ReplaceRoute`, `DeleteRoute`, `AssociateRouteTable`,
//! `DisassociateRouteTable`), so traffic to unchanged destinations never drops.
//!
//! Read reports the routes someone created (`CreateRoute`), not the VPC's local route nor
//! routes a VPN gateway propagates, and reports both lists in the stack's order where AWS has
//! the same set (see [`crate::props::in_prior_order`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    ResourceType, Route, RouteOrigin, RouteState, RouteTable, RouteTableAssociation,
    RouteTableAssociationState, RouteTableAssociationStateCode,
};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{
    ec2_object, list_of, once_visible, read_back, requested_tags, strings, tag_specification,
    tags_from_aws, Ec2,
};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, in_prior_order, required_str, set_in_prior_order};
use crate::retry::{wait_for, Wait};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.route_table";

/// How long a new subnet association may stay `associating` (terraform-provider-aws: 5
/// minutes), looking every 2 s.
const ASSOCIATED: Wait = Wait {
    timeout: Duration::from_secs(300),
    interval: Duration::from_secs(2),
};

/// How EC2 says a route table does not exist.
const TABLE_NOT_FOUND: &[&str] = &["InvalidRouteTableID.NotFound"];
/// How EC2 says an association (or a route) is already gone.
const ASSOCIATION_NOT_FOUND: &[&str] = &["InvalidAssociationID.NotFound"];
const ROUTE_NOT_FOUND: &[&str] = &["InvalidRoute.NotFound"];

/// The route table's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("vpc_id", Kind::String).required().force_new(),
            Prop::new(
                "routes",
                Kind::List(Box::new(Kind::Object(vec![
                    Prop::new("destination_cidr_block", Kind::String)
                        .cidr()
                        .required(),
                    Prop::new("gateway_id", Kind::String),
                    Prop::new("nat_gateway_id", Kind::String),
                ]))),
            ),
            Prop::new("subnet_ids", Kind::List(Box::new(Kind::String))),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: None,
    }
}

/// How the catalogue knows `aws.ec2.route_table`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(RouteTableProvider::new(ctx)),
    about: "A VPC route table with its routes and the subnets it serves, each managed as a \
            set: an update changes only the routes and associations that differ.",
    import_id: "the route table id (`rtb-…`)",
    attributes: &[("id", "the route table id (`rtb-…`)")],
    property_notes: &[
        (
            "routes",
            "keyed by `destination_cidr_block`; each needs one of `gateway_id` and \
             `nat_gateway_id`",
        ),
        ("subnet_ids", "the subnets associated with the table"),
    ],
    actions: Actions {
        // `DescribeRouteTables` only while EC2 answers an association `associating`.
        create: &[
            "ec2:CreateRouteTable",
            "ec2:CreateTags",
            "ec2:CreateRoute",
            "ec2:AssociateRouteTable",
            "ec2:DescribeRouteTables",
        ],
        read: &["ec2:DescribeRouteTables"],
        update: &[
            "ec2:CreateRoute",
            "ec2:ReplaceRoute",
            "ec2:DeleteRoute",
            "ec2:AssociateRouteTable",
            "ec2:DisassociateRouteTable",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ],
        delete: &["ec2:DisassociateRouteTable", "ec2:DeleteRouteTable"],
    },
    resources: &[
        "arn:{partition}:ec2:{region}:{account}:route-table/{id}",
        "arn:{partition}:ec2:{region}:{account}:vpc/{vpc_id}",
        "arn:{partition}:ec2:{region}:{account}:subnet/{subnet_ids}",
        "arn:{partition}:ec2:{region}:{account}:internet-gateway/*",
        "arn:{partition}:ec2:{region}:{account}:natgateway/*",
    ],
    passes_role: &[],
};

ec2_object!(RouteTable: describe_route_tables(set_route_table_ids, set_filters)
    -> route_tables, id: route_table_id, not_found: TABLE_NOT_FOUND);

/// Where a route sends traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    /// An internet (or virtual private) gateway.
    Gateway(String),
    Nat(String),
    /// A target the stack cannot name (an instance, a peering connection): made outside strata.
    Other,
}

/// Routes by destination CIDR block.
type Routes = BTreeMap<String, Target>;

/// The routes the stack asks for. Each needs one target: a `gateway_id` or a `nat_gateway_id`.
fn desired_routes(props: &Map) -> Result<Routes> {
    let Some(items) = given(props, "routes") else {
        return Ok(Routes::new());
    };
    let items = items
        .as_list()
        .ok_or_else(|| ProviderError::invalid("`routes` must be a list of routes"))?
        .to_vec();
    let mut routes = Routes::new();
    for (i, item) in items.iter().enumerate() {
        let fields = item
            .as_map()
            .ok_or_else(|| ProviderError::invalid(format!("`routes[{i}]` must be a mapping")))?;
        let field = |name: &str| given(fields, name).and_then(|v| v.as_str().map(str::to_string));
        let destination = field("destination_cidr_block").ok_or_else(|| {
            ProviderError::invalid(format!("`routes[{i}].destination_cidr_block` is required"))
        })?;
        let target = match (field("gateway_id"), field("nat_gateway_id")) {
            (Some(gateway), None) => Target::Gateway(gateway),
            (None, Some(nat)) => Target::Nat(nat),
            _ => {
                return Err(ProviderError::invalid(format!(
                    "`routes[{i}]` ({destination}) needs exactly one of `gateway_id` and `nat_gateway_id`"
                )))
            }
        };
        if routes.insert(destination.clone(), target).is_some() {
            return Err(ProviderError::invalid(format!(
                "`routes` has two routes to {destination}"
            )));
        }
    }
    Ok(routes)
}

/// The routes of a table that someone created: not the local route, not propagated ones.
fn created_routes(table: &RouteTable) -> Routes {
    table
        .routes()
        .iter()
        .filter(|r| is_created(r))
        .filter_map(|r| {
            let destination = r.destination_cidr_block()?.to_string();
            let target = if let Some(nat) = r.nat_gateway_id() {
                Target::Nat(nat.to_string())
            } else if let Some(gateway) = r.gateway_id() {
                Target::Gateway(gateway.to_string())
            } else {
                Target::Other
            };
            Some((destination, target))
        })
        .collect()
}

/// The route `CreateRoute` adds, as `DescribeRouteTables` lists it.
fn created_route(destination: &str, target: &Target) -> Route {
    let route = Route::builder()
        .destination_cidr_block(destination)
        .origin(RouteOrigin::CreateRoute)
        .state(RouteState::Active);
    match target {
        Target::Gateway(id) => route.gateway_id(id),
        Target::Nat(id) => route.nat_gateway_id(id),
        Target::Other => route,
    }
    .build()
}

fn is_created(route: &Route) -> bool {
    match route.origin() {
        Some(origin) => *origin == RouteOrigin::CreateRoute,
        None => route.gateway_id() != Some("local"),
    }
}

fn route_value(destination: &str, target: &Target) -> Value {
    let mut fields = Map::from([(
        "destination_cidr_block".to_string(),
        Value::str(destination),
    )]);
    match target {
        Target::Gateway(id) => {
            fields.insert("gateway_id".into(), Value::str(id));
        }
        Target::Nat(id) => {
            fields.insert("nat_gateway_id".into(), Value::str(id));
        }
        // A route without a target the stack can write differs from every route it can.
        Target::Other => {}
    }
    Value::Map(fields)
}

fn destination_of(route: &Value) -> Option<String> {
    route
        .as_map()?
        .get("destination_cidr_block")?
        .as_str()
        .map(str::to_string)
}

/// The subnets associated with the table, with their association ids.
fn associations(table: &RouteTable) -> BTreeMap<String, String> {
    table
        .associations()
        .iter()
        .filter(|a| a.main() != Some(true))
        .filter_map(|a| {
            Some((
                a.subnet_id()?.to_string(),
                a.route_table_association_id()?.to_string(),
            ))
        })
        .collect()
}

fn desired_subnets(props: &Map) -> Result<BTreeSet<String>> {
    match given(props, "subnet_ids") {
        Some(value) => Ok(strings(&value, "subnet_ids")?.into_iter().collect()),
        None => Ok(BTreeSet::new()),
    }
}

/// The table in the stack's terms; `prior` is what the stack last applied, whose list order
/// the read keeps.
fn resource(table: &RouteTable, prior: &Map) -> Result<Resource> {
    let id = table
        .route_table_id()
        .ok_or_else(|| ProviderError::invalid("EC2 returned a route table without an id"))?;
    let mut properties = Map::new();
    if let Some(vpc) = table.vpc_id() {
        properties.insert("vpc_id".into(), Value::str(vpc));
    }
    // BTreeMap order: sorted by destination.
    let routes = created_routes(table)
        .iter()
        .map(|(destination, target)| route_value(destination, target))
        .collect();
    let written = list_of(prior, "routes").unwrap_or_default();
    properties.insert(
        "routes".into(),
        Value::List(in_prior_order(
            written.iter().filter_map(destination_of),
            routes,
            destination_of,
        )),
    );
    properties.insert(
        "subnet_ids".into(),
        set_in_prior_order(prior.get("subnet_ids"), associations(table).into_keys()),
    );
    properties.insert("tags".into(), tags_from_aws(table.tags()));
    Ok(Resource {
        id: id.to_string(),
        properties,
        attributes: Map::from([("id".to_string(), Value::str(id))]),
    })
}

/// Manages route tables with their routes and subnet associations; the id is the table id.
pub struct RouteTableProvider {
    schema: TypeSchema,
    ec2: Ec2,
}

impl RouteTableProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
        }
    }

    async fn describe_one(&self, id: &str) -> Result<Option<RouteTable>> {
        self.ec2.describe_one(id).await
    }

    async fn read_one(&self, id: &str, prior: &Map) -> Result<Option<Resource>> {
        self.ec2
            .read_one(id, |table| resource(table, prior).map(Some))
            .await
    }

    /// Makes the table's routes `desired`, changing only the destinations that differ.
    async fn set_routes(&self, id: &str, current: &Routes, desired: &Routes) -> Result<()> {
        for destination in current.keys().filter(|d| !desired.contains_key(*d)) {
            let out = self
                .ec2
                .client
                .delete_route()
                .route_table_id(id)
                .destination_cidr_block(destination)
                .send()
                .await
                .map_err(api_error);
            // Gone already: nothing to undo.
            missing_is_none(out, ROUTE_NOT_FOUND)?;
        }
        for (destination, target) in desired {
            match current.get(destination) {
                Some(now) if now == target => {}
                Some(_) => {
                    let call = self
                        .ec2
                        .client
                        .replace_route()
                        .route_table_id(id)
                        .destination_cidr_block(destination);
                    let call = match target {
                        Target::Gateway(g) => call.gateway_id(g),
                        Target::Nat(n) => call.nat_gateway_id(n),
                        Target::Other => call,
                    };
                    call.send().await.map_err(api_error)?;
                }
                None => self.create_route(id, destination, target).await?,
            }
        }
        Ok(())
    }

    /// Creates one route, waiting out a table EC2 does not show everywhere yet.
    async fn create_route(&self, id: &str, destination: &str, target: &Target) -> Result<()> {
        once_visible(id, TABLE_NOT_FOUND, || async move {
            let call = self
                .ec2
                .client
                .create_route()
                .route_table_id(id)
                .destination_cidr_block(destination);
            let call = match target {
                Target::Gateway(g) => call.gateway_id(g),
                Target::Nat(n) => call.nat_gateway_id(n),
                Target::Other => call,
            };
            call.send().await.map_err(api_error)
        })
        .await?;
        Ok(())
    }

    /// Makes the table serve exactly the `desired` subnets.
    async fn set_subnets(
        &self,
        id: &str,
        current: &BTreeMap<String, String>,
        desired: &BTreeSet<String>,
    ) -> Result<()> {
        for (subnet, association) in current {
            if !desired.contains(subnet) {
                self.disassociate(association).await?;
            }
        }
        for subnet in desired.iter().filter(|s| !current.contains_key(*s)) {
            self.associate(id, subnet).await?;
        }
        Ok(())
    }

    /// Associates the table with a subnet, waiting out a table EC2 does not show everywhere
    /// yet, and, only when EC2 answers the association `associating`, until it is
    /// `associated` (as terraform-provider-aws waits). The association as the table lists it.
    async fn associate(&self, id: &str, subnet: &str) -> Result<RouteTableAssociation> {
        let out = once_visible(id, TABLE_NOT_FOUND, || async move {
            self.ec2
                .client
                .associate_route_table()
                .route_table_id(id)
                .subnet_id(subnet)
                .send()
                .await
                .map_err(api_error)
        })
        .await?;
        let association = out.association_id().ok_or_else(|| {
            ProviderError::invalid("AssociateRouteTable returned no association id")
        })?;
        let mut state = out.association_state().cloned();
        if state.as_ref().and_then(|s| s.state())
            == Some(&RouteTableAssociationStateCode::Associating)
        {
            state = Some(self.wait_associated(id, association).await?);
        }
        Ok(RouteTableAssociation::builder()
            .main(false)
            .route_table_id(id)
            .subnet_id(subnet)
            .route_table_association_id(association)
            .set_association_state(state)
            .build())
    }

    /// Waits until the table lists `association` as `associated`; a failed one is an error.
    async fn wait_associated(
        &self,
        id: &str,
        association: &str,
    ) -> Result<RouteTableAssociationState> {
        wait_for(
            &format!("route table association {association} to be associated"),
            ASSOCIATED,
            || async move {
                let Some(table) = self.describe_one(id).await? else {
                    return Ok(None);
                };
                let state = table
                    .associations()
                    .iter()
                    .find(|a| a.route_table_association_id() == Some(association))
                    .and_then(|a| a.association_state());
                match state.and_then(|s| s.state()) {
                    Some(RouteTableAssociationStateCode::Associated) => Ok(state.cloned()),
                    Some(
                        RouteTableAssociationStateCode::Failed
                        | RouteTableAssociationStateCode::Disassociated,
                    ) => Err(ProviderError::Api {
                        code: "AssociationFailed".into(),
                        message: format!(
                            "route table association {association} failed: {}",
                            state
                                .and_then(|s| s.status_message())
                                .unwrap_or("AWS gave no reason")
                        ),
                    }),
                    _ => Ok(None),
                }
            },
        )
        .await
    }

    async fn disassociate(&self, association: &str) -> Result<()> {
        let out = self
            .ec2
            .client
            .disassociate_route_table()
            .association_id(association)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, ASSOCIATION_NOT_FOUND).map(|_| ())
    }
}

#[async_trait]
impl Provider for RouteTableProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the table tagged, then its routes and subnet associations all at once. Records
    /// what `CreateRouteTable` answered (its local route, owner, tags) with the routes and the
    /// associations (ids as `AssociateRouteTable` answered them) just made: nothing is read
    /// back.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let routes = desired_routes(props)?;
        let subnets = desired_subnets(props)?;
        let out = self
            .ec2
            .client
            .create_route_table()
            .vpc_id(required_str(props, "vpc_id")?)
            .set_tag_specifications(
                tag_specification(ResourceType::RouteTable, props)?.map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(api_error)?;
        let mut table = out
            .route_table
            .ok_or_else(|| ProviderError::invalid("CreateRouteTable returned no table"))?;
        let id = table
            .route_table_id()
            .ok_or_else(|| ProviderError::invalid("CreateRouteTable returned no id"))?
            .to_string();
        after_made(&id, async {
            let made = routes
                .iter()
                .map(|(destination, target)| self.create_route(&id, destination, target));
            let associated = subnets.iter().map(|subnet| self.associate(&id, subnet));
            let (_, associations) = futures::try_join!(
                futures::future::try_join_all(made),
                futures::future::try_join_all(associated)
            )?;
            table.routes.get_or_insert_with(Vec::new).extend(
                routes
                    .iter()
                    .map(|(destination, target)| created_route(destination, target)),
            );
            table
                .associations
                .get_or_insert_with(Vec::new)
                .extend(associations);
            table.tags = Some(requested_tags(props)?);
            resource(&table, props)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id, &req.prior_properties).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        self.ec2
            .read_many(&reqs, |table, req| {
                resource(table, &req.prior_properties).map(Some)
            })
            .await
    }

    /// Changes routes and associations against what AWS has now, one call per difference.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let changes_sets = req
            .changed
            .iter()
            .any(|p| p == "routes" || p == "subnet_ids");
        let table = if changes_sets {
            Some(self.describe_one(&req.id).await?.ok_or_else(|| {
                ProviderError::invalid(format!("route table {} no longer exists", req.id))
            })?)
        } else {
            None
        };
        for prop in &req.changed {
            match (prop.as_str(), &table) {
                ("routes", Some(table)) => {
                    let desired = desired_routes(&req.properties)?;
                    self.set_routes(&req.id, &created_routes(table), &desired)
                        .await?;
                }
                ("subnet_ids", Some(table)) => {
                    let desired = desired_subnets(&req.properties)?;
                    self.set_subnets(&req.id, &associations(table), &desired)
                        .await?;
                }
                ("tags", _) => {
                    self.ec2
                        .update_tags(&req.id, &req.prior_properties, &req.properties)
                        .await?
                }
                (other, _) => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        read_back("route table", &req.id, || {
            self.read_one(&req.id, &req.properties)
        })
        .await
    }

    /// Disassociates the table from its subnets, then deletes it (its routes go with it); one
    /// already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let Some(table) = self.describe_one(&req.id).await? else {
            return Ok(());
        };
        for association in associations(&table).values() {
            self.disassociate(association).await?;
        }
        let out = self
            .ec2
            .client
            .delete_route_table()
            .route_table_id(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, TABLE_NOT_FOUND).map(|_| ())
    }

    /// Finds the table by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self.ec2.tagged_id::<RouteTable>(TYPE_NAME, &req).await? {
            Some(id) => self.read_one(&id, &req.properties).await,
            None => Ok(None),
        }
    }
}

/// What the loader checks of a route table's routes (`TypeSchema::check`): one target each,
/// one route per destination.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        desired_routes(props)?;
        desired_subnets(props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(destination: &str, key: &str, target: &str) -> Value {
        Value::Map(Map::from([
            (
                "destination_cidr_block".to_string(),
                Value::str(destination),
            ),
            (key.to_string(), Value::str(target)),
        ]))
    }

    #[test]
    fn each_route_needs_exactly_one_target() {
        let props = Map::from([(
            "routes".to_string(),
            Value::List(vec![Value::Map(Map::from([(
                "destination_cidr_block".to_string(),
                Value::str("0.0.0.0/0"),
            )]))]),
        )]);
        assert!(desired_routes(&props).is_err());
        let props = Map::from([(
            "routes".to_string(),
            Value::List(vec![
                route("0.0.0.0/0", "gateway_id", "igw-1"),
                route("10.1.0.0/16", "nat_gateway_id", "nat-1"),
            ]),
        )]);
        assert_eq!(
            desired_routes(&props).unwrap(),
            Routes::from([
                ("0.0.0.0/0".to_string(), Target::Gateway("igw-1".into())),
                ("10.1.0.0/16".to_string(), Target::Nat("nat-1".into())),
            ])
        );
    }

    #[test]
    fn routes_read_back_in_the_order_the_stack_wrote_them() {
        let prior = vec![
            route("10.1.0.0/16", "nat_gateway_id", "nat-1"),
            route("0.0.0.0/0", "gateway_id", "igw-1"),
        ];
        let sorted = vec![
            route("0.0.0.0/0", "gateway_id", "igw-1"),
            route("10.1.0.0/16", "nat_gateway_id", "nat-1"),
        ];
        let read = in_prior_order(
            prior.iter().filter_map(destination_of),
            sorted,
            destination_of,
        );
        assert_eq!(read, prior);
    }
}
