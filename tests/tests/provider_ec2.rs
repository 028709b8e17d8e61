//! The EC2 providers (`aws.ec2.*`) against the local emulator: create, read back through the
//! SDK and through the provider, update in place (same id), find by the strata tags, delete,
//! and delete again.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, NatGatewayState};
use providers::aws::AwsContext;
use providers::ec2::eip::EipProvider;
use providers::ec2::internet_gateway::InternetGatewayProvider;
use providers::ec2::nat_gateway::NatGatewayProvider;
use providers::ec2::route_table::RouteTableProvider;
use providers::ec2::security_group::SecurityGroupProvider;
use providers::ec2::subnet::SubnetProvider;
use providers::ec2::vpc::VpcProvider;
use providers::{Provider, ReadRequest, Resource};
use serde_json::json;
use stacks::{Map, Value};
use strata_tests::kit::{
    assert_reads_back, context, delete, map, refresh, string_map, update, TestStack, ACCOUNT,
};
use strata_tests::Emulator;

const STACK: TestStack = TestStack::named("network");

/// Deleting what is gone is success, and reading it finds nothing.
async fn assert_gone(provider: &dyn Provider, address: &str, resource: &Resource) {
    delete(provider, address, resource).await;
    assert_eq!(
        refresh(
            provider,
            address,
            &resource.id,
            &resource.properties,
            &Map::new()
        )
        .await,
        None
    );
}

fn tag_map(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A network to build on: a VPC and, when asked, subnets in it.
struct Network {
    ec2: aws_sdk_ec2::Client,
    vpcs: VpcProvider,
    subnets: SubnetProvider,
}

impl Network {
    fn new(ctx: &AwsContext) -> Network {
        Network {
            ec2: aws_sdk_ec2::Client::new(&ctx.sdk),
            vpcs: VpcProvider::new(ctx),
            subnets: SubnetProvider::new(ctx),
        }
    }

    async fn vpc(&self, address: &str, cidr: &str) -> Resource {
        let props = map(json!({ "cidr_block": cidr, "tags": STACK.tags_for(address, json!({})) }));
        STACK.create(&self.vpcs, address, &props).await
    }

    async fn subnet(&self, address: &str, vpc: &Resource, cidr: &str, zone: &str) -> Resource {
        let props = map(json!({
            "vpc_id": vpc.id,
            "cidr_block": cidr,
            "availability_zone": zone,
            "tags": STACK.tags_for(address, json!({})),
        }));
        STACK.create(&self.subnets, address, &props).await
    }
}

#[tokio::test]
async fn a_vpc_reads_back_as_requested_and_changes_its_dns_switches_in_place() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let vpcs = VpcProvider::new(&ctx);
    let ec2 = aws_sdk_ec2::Client::new(&ctx.sdk);

    let requested = map(json!({
        "cidr_block": "10.0.0.0/16",
        "enable_dns_support": true,
        "enable_dns_hostnames": true,
        "instance_tenancy": "default",
        "tags": STACK.tags_for("vpc", json!({ "team": "platform" })),
    }));
    let vpc = STACK.create(&vpcs, "vpc", &requested).await;
    assert!(vpc.id.starts_with("vpc-"), "{}", vpc.id);
    assert_reads_back(&vpc, &requested);

    // Through the SDK.
    let described = ec2.describe_vpcs().vpc_ids(&vpc.id).send().await.unwrap();
    let live = &described.vpcs()[0];
    assert_eq!(live.cidr_block(), Some("10.0.0.0/16"));
    assert_eq!(
        tag_map(live.tags()),
        string_map([
            ("strata:address", "vpc"),
            ("strata:stack", STACK.name),
            ("team", "platform"),
        ])
    );
    let hostnames = ec2
        .describe_vpc_attribute()
        .vpc_id(&vpc.id)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(
        hostnames.enable_dns_hostnames().and_then(|v| v.value()),
        Some(true)
    );

    // Attributes: the ARN from the owner, the default group and main table EC2 made.
    assert_eq!(
        vpc.attributes["arn"],
        Value::str(format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/{}", vpc.id))
    );
    assert_eq!(vpc.attributes["id"], Value::str(&vpc.id));
    let default_group = ec2
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(&vpc.id).build())
        .filters(
            Filter::builder()
                .name("group-name")
                .values("default")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        vpc.attributes["default_security_group_id"].as_str(),
        default_group.security_groups()[0].group_id()
    );
    let main_table = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&vpc.id).build())
        .filters(
            Filter::builder()
                .name("association.main")
                .values("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        vpc.attributes["main_route_table_id"].as_str(),
        main_table.route_tables()[0].route_table_id()
    );

    // In place: both switches off, one call each; the same VPC.
    let second = map(json!({
        "cidr_block": "10.0.0.0/16",
        "enable_dns_support": false,
        "enable_dns_hostnames": false,
        "instance_tenancy": "default",
        "tags": STACK.tags_for("vpc", json!({ "team": "network" })),
    }));
    let updated = update(
        &vpcs,
        "vpc",
        &vpc,
        &second,
        &["enable_dns_support", "enable_dns_hostnames", "tags"],
    )
    .await;
    assert_eq!(updated.id, vpc.id);
    assert_reads_back(&updated, &second);
    for (attribute, read) in [
        (aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport, true),
        (
            aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
            false,
        ),
    ] {
        let out = ec2
            .describe_vpc_attribute()
            .vpc_id(&vpc.id)
            .attribute(attribute)
            .send()
            .await
            .unwrap();
        let value = if read {
            out.enable_dns_support()
        } else {
            out.enable_dns_hostnames()
        };
        assert_eq!(value.and_then(|v| v.value()), Some(false));
    }
    let live = ec2.describe_vpcs().vpc_ids(&vpc.id).send().await.unwrap();
    assert_eq!(
        tag_map(live.vpcs()[0].tags())
            .get("team")
            .map(String::as_str),
        Some("network")
    );

    // Found by its tags, and only by its own.
    let found = STACK
        .find(&vpcs, "vpc", &second)
        .await
        .expect("found by tags");
    assert_eq!(found.id, vpc.id);
    assert_eq!(STACK.find(&vpcs, "other", &second).await, None);

    delete(&vpcs, "vpc", &updated).await;
    let gone = ec2
        .describe_vpcs()
        .vpc_ids(&vpc.id)
        .send()
        .await
        .expect_err("the VPC is gone");
    assert_eq!(gone.code(), Some("InvalidVpcID.NotFound"), "{gone:?}");
    assert_gone(&vpcs, "vpc", &updated).await;
    assert_eq!(STACK.find(&vpcs, "vpc", &second).await, None);
}

#[tokio::test]
async fn vpcs_are_refreshed_together_and_a_deleted_one_reads_as_gone() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let net = Network::new(&ctx);
    let first = net.vpc("first", "10.1.0.0/16").await;
    let second = net.vpc("second", "10.2.0.0/16").await;
    delete(&net.vpcs, "first", &first).await;

    let reqs = [&first, &second]
        .into_iter()
        .map(|r| ReadRequest {
            address: "x".into(),
            id: r.id.clone(),
            prior_properties: r.properties.clone(),
            prior_attributes: r.attributes.clone(),
        })
        .collect();
    let read = net.vpcs.read_many(reqs).await;
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].as_ref().unwrap(), &None);
    assert_eq!(read[1].as_ref().unwrap().as_ref(), Some(&second));
}

#[tokio::test]
async fn a_subnet_reads_back_as_requested_and_maps_public_ips_in_place() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let net = Network::new(&ctx);
    let vpc = net.vpc("vpc", "10.0.0.0/16").await;

    let requested = map(json!({
        "vpc_id": vpc.id,
        "cidr_block": "10.0.1.0/24",
        "availability_zone": "us-east-1a",
        "map_public_ip_on_launch": false,
        "tags": STACK.tags_for("public_a", json!({ "tier": "public" })),
    }));
    let subnet = STACK.create(&net.subnets, "public_a", &requested).await;
    assert!(subnet.id.starts_with("subnet-"), "{}", subnet.id);
    assert_reads_back(&subnet, &requested);
    let arn = subnet.attributes["arn"].as_str().unwrap().to_string();
    assert!(
        arn.starts_with(&format!("arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/"))
            && arn.ends_with(&subnet.id),
        "{arn}"
    );

    let live = net
        .ec2
        .describe_subnets()
        .subnet_ids(&subnet.id)
        .send()
        .await
        .unwrap();
    let live = &live.subnets()[0];
    assert_eq!(live.vpc_id(), Some(vpc.id.as_str()));
    assert_eq!(live.cidr_block(), Some("10.0.1.0/24"));
    assert_eq!(live.availability_zone(), Some("us-east-1a"));
    assert_eq!(live.map_public_ip_on_launch(), Some(false));
    assert_eq!(
        tag_map(live.tags()).get("tier").map(String::as_str),
        Some("public")
    );

    let second = map(json!({
        "vpc_id": vpc.id,
        "cidr_block": "10.0.1.0/24",
        "availability_zone": "us-east-1a",
        "map_public_ip_on_launch": true,
        "tags": STACK.tags_for("public_a", json!({ "tier": "public" })),
    }));
    let updated = update(
        &net.subnets,
        "public_a",
        &subnet,
        &second,
        &["map_public_ip_on_launch"],
    )
    .await;
    assert_eq!(updated.id, subnet.id);
    assert_reads_back(&updated, &second);
    let live = net
        .ec2
        .describe_subnets()
        .subnet_ids(&subnet.id)
        .send()
        .await
        .unwrap();
    assert_eq!(live.subnets()[0].map_public_ip_on_launch(), Some(true));

    assert_eq!(
        STACK
            .find(&net.subnets, "public_a", &second)
            .await
            .map(|r| r.id),
        Some(subnet.id.clone())
    );
    delete(&net.subnets, "public_a", &updated).await;
    let gone = net
        .ec2
        .describe_subnets()
        .subnet_ids(&subnet.id)
        .send()
        .await
        .expect_err("the subnet is gone");
    assert_eq!(gone.code(), Some("InvalidSubnetID.NotFound"), "{gone:?}");
    assert_gone(&net.subnets, "public_a", &updated).await;
}

#[tokio::test]
async fn an_internet_gateway_moves_between_vpcs_in_place_and_is_detached_before_delete() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let net = Network::new(&ctx);
    let gateways = InternetGatewayProvider::new(&ctx);
    let first = net.vpc("first", "10.1.0.0/16").await;
    let second = net.vpc("second", "10.2.0.0/16").await;

    let requested =
        map(json!({ "vpc_id": first.id, "tags": STACK.tags_for("gateway", json!({})) }));
    let gateway = STACK.create(&gateways, "gateway", &requested).await;
    assert!(gateway.id.starts_with("igw-"), "{}", gateway.id);
    assert_reads_back(&gateway, &requested);
    assert_eq!(
        gateway.attributes["arn"],
        Value::str(format!(
            "arn:aws:ec2:us-east-1:{ACCOUNT}:internet-gateway/{}",
            gateway.id
        ))
    );
    let attached = |out: &aws_sdk_ec2::operation::describe_internet_gateways::DescribeInternetGatewaysOutput| -> Vec<String> {
        out.internet_gateways()[0]
            .attachments()
            .iter()
            .filter_map(|a| a.vpc_id().map(str::to_string))
            .collect()
    };
    let live = net
        .ec2
        .describe_internet_gateways()
        .internet_gateway_ids(&gateway.id)
        .send()
        .await
        .unwrap();
    assert_eq!(attached(&live), vec![first.id.clone()]);

    let moved = map(json!({ "vpc_id": second.id, "tags": STACK.tags_for("gateway", json!({})) }));
    let updated = update(&gateways, "gateway", &gateway, &moved, &["vpc_id"]).await;
    assert_eq!(updated.id, gateway.id);
    assert_reads_back(&updated, &moved);
    let live = net
        .ec2
        .describe_internet_gateways()
        .internet_gateway_ids(&gateway.id)
        .send()
        .await
        .unwrap();
    assert_eq!(attached(&live), vec![second.id.clone()]);

    assert_eq!(
        STACK.find(&gateways, "gateway", &moved).await.map(|r| r.id),
        Some(gateway.id.clone())
    );
    delete(&gateways, "gateway", &updated).await;
    let gone = net
        .ec2
        .describe_internet_gateways()
        .internet_gateway_ids(&gateway.id)
        .send()
        .await
        .expect_err("the gateway is gone");
    assert_eq!(
        gone.code(),
        Some("InvalidInternetGatewayID.NotFound"),
        "{gone:?}"
    );
    assert_gone(&gateways, "gateway", &updated).await;
    // Nothing holds the VPC any more.
    delete(&net.vpcs, "second", &second).await;
}

#[tokio::test]
async fn a_nat_gateway_is_available_after_create_and_its_address_is_released_after_delete() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let net = Network::new(&ctx);
    let gateways = InternetGatewayProvider::new(&ctx);
    let addresses = EipProvider::new(&ctx);
    let nats = NatGatewayProvider::new(&ctx);
    let vpc = net.vpc("vpc", "10.0.0.0/16").await;
    let subnet = net
        .subnet("public_a", &vpc, "10.0.1.0/24", "us-east-1a")
        .await;
    STACK
        .create(
            &gateways,
            "gateway",
            &map(json!({ "vpc_id": vpc.id, "tags": STACK.tags_for("gateway", json!({})) })),
        )
        .await;

    let eip_props = map(json!({ "tags": STACK.tags_for("nat_ip", json!({ "use": "nat" })) }));
    let eip = STACK.create(&addresses, "nat_ip", &eip_props).await;
    assert!(eip.id.starts_with("eipalloc-"), "{}", eip.id);
    assert_reads_back(&eip, &eip_props);
    let public_ip = eip.attributes["public_ip"].as_str().unwrap().to_string();
    let live = net
        .ec2
        .describe_addresses()
        .allocation_ids(&eip.id)
        .send()
        .await
        .unwrap();
    assert_eq!(live.addresses()[0].public_ip(), Some(public_ip.as_str()));
    assert_eq!(
        tag_map(live.addresses()[0].tags())
            .get("use")
            .map(String::as_str),
        Some("nat")
    );
    assert_eq!(
        STACK
            .find(&addresses, "nat_ip", &eip_props)
            .await
            .map(|r| r.id),
        Some(eip.id.clone())
    );

    let requested = map(json!({
        "subnet_id": subnet.id,
        "allocation_id": eip.id,
        "tags": STACK.tags_for("nat", json!({})),
    }));
    let nat = STACK.create(&nats, "nat", &requested).await;
    assert!(nat.id.starts_with("nat-"), "{}", nat.id);
    assert_reads_back(&nat, &requested);
    let live = net
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&nat.id)
        .send()
        .await
        .unwrap();
    let live = &live.nat_gateways()[0];
    assert_eq!(live.state(), Some(&NatGatewayState::Available));
    assert_eq!(live.subnet_id(), Some(subnet.id.as_str()));
    assert_eq!(
        live.nat_gateway_addresses()[0].allocation_id(),
        Some(eip.id.as_str())
    );

    // Tags are the one thing changed in place.
    let retagged = map(json!({
        "subnet_id": subnet.id,
        "allocation_id": eip.id,
        "tags": STACK.tags_for("nat", json!({ "zone": "a" })),
    }));
    let updated = update(&nats, "nat", &nat, &retagged, &["tags"]).await;
    assert_eq!(updated.id, nat.id);
    assert_reads_back(&updated, &retagged);
    assert_eq!(
        STACK.find(&nats, "nat", &retagged).await.map(|r| r.id),
        Some(nat.id.clone())
    );

    // The NAT gateway first (delete waits until it is deleted), then its address.
    delete(&nats, "nat", &updated).await;
    let live = net
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&nat.id)
        .send()
        .await
        .unwrap();
    assert!(
        live.nat_gateways()
            .iter()
            .all(|n| n.state() == Some(&NatGatewayState::Deleted)),
        "{live:?}"
    );
    assert_gone(&nats, "nat", &updated).await;
    assert_eq!(STACK.find(&nats, "nat", &retagged).await, None);

    delete(&addresses, "nat_ip", &eip).await;
    let gone = net
        .ec2
        .describe_addresses()
        .allocation_ids(&eip.id)
        .send()
        .await
        .expect_err("the address is released");
    assert_eq!(
        gone.code(),
        Some("InvalidAllocationID.NotFound"),
        "{gone:?}"
    );
    assert_gone(&addresses, "nat_ip", &eip).await;
}

#[tokio::test]
async fn a_route_table_changes_routes_and_associations_one_by_one_and_keeps_the_stack_order() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let net = Network::new(&ctx);
    let gateways = InternetGatewayProvider::new(&ctx);
    let addresses = EipProvider::new(&ctx);
    let nats = NatGatewayProvider::new(&ctx);
    let tables = RouteTableProvider::new(&ctx);
    let vpc = net.vpc("vpc", "10.0.0.0/16").await;
    let a = net.subnet("a", &vpc, "10.0.1.0/24", "us-east-1a").await;
    let b = net.subnet("b", &vpc, "10.0.2.0/24", "us-east-1b").await;
    let c = net.subnet("c", &vpc, "10.0.3.0/24", "us-east-1a").await;
    let gateway = STACK
        .create(
            &gateways,
            "gateway",
            &map(json!({ "vpc_id": vpc.id, "tags": STACK.tags_for("gateway", json!({})) })),
        )
        .await;
    let eip = STACK.create(&addresses, "nat_ip", &map(json!({}))).await;
    let nat = STACK
        .create(
            &nats,
            "nat",
            &map(json!({ "subnet_id": a.id, "allocation_id": eip.id })),
        )
        .await;

    // Written out of order on purpose: b before a, and 10.9/16 before 0.0.0.0/0.
    let requested = map(json!({
        "vpc_id": vpc.id,
        "routes": [
            { "destination_cidr_block": "10.9.0.0/16", "nat_gateway_id": nat.id },
            { "destination_cidr_block": "0.0.0.0/0", "gateway_id": gateway.id },
        ],
        "subnet_ids": [b.id, a.id],
        "tags": STACK.tags_for("public_routes", json!({})),
    }));
    let table = STACK.create(&tables, "public_routes", &requested).await;
    assert!(table.id.starts_with("rtb-"), "{}", table.id);
    assert_reads_back(&table, &requested);
    let again = refresh(&tables, "public_routes", &table.id, &requested, &Map::new())
        .await
        .expect("the table exists");
    assert_reads_back(&again, &requested);

    let live_routes = |table_id: String| {
        let ec2 = net.ec2.clone();
        async move {
            let out = ec2
                .describe_route_tables()
                .route_table_ids(table_id)
                .send()
                .await
                .unwrap();
            let table = &out.route_tables()[0];
            let routes: BTreeMap<String, String> = table
                .routes()
                .iter()
                .filter_map(|r| {
                    let target = r.nat_gateway_id().or(r.gateway_id())?;
                    Some((r.destination_cidr_block()?.to_string(), target.to_string()))
                })
                .collect();
            let subnets: BTreeSet<String> = table
                .associations()
                .iter()
                .filter_map(|a| a.subnet_id().map(str::to_string))
                .collect();
            (routes, subnets)
        }
    };
    let (routes, subnets) = live_routes(table.id.clone()).await;
    assert_eq!(routes.get("0.0.0.0/0"), Some(&gateway.id));
    assert_eq!(routes.get("10.9.0.0/16"), Some(&nat.id));
    assert_eq!(routes.get("10.0.0.0/16").map(String::as_str), Some("local"));
    assert_eq!(subnets, BTreeSet::from([a.id.clone(), b.id.clone()]));
    // The local route is not one of the stack's.
    assert_eq!(table.properties["routes"].as_list().unwrap().len(), 2);

    // Default route moves to the NAT gateway, 10.9/16 goes, b is swapped for c.
    let second = map(json!({
        "vpc_id": vpc.id,
        "routes": [{ "destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id }],
        "subnet_ids": [a.id, c.id],
        "tags": STACK.tags_for("public_routes", json!({})),
    }));
    let updated = update(
        &tables,
        "public_routes",
        &table,
        &second,
        &["routes", "subnet_ids"],
    )
    .await;
    assert_eq!(updated.id, table.id);
    assert_reads_back(&updated, &second);
    let (routes, subnets) = live_routes(table.id.clone()).await;
    assert_eq!(routes.get("0.0.0.0/0"), Some(&nat.id));
    assert_eq!(routes.get("10.9.0.0/16"), None);
    assert_eq!(subnets, BTreeSet::from([a.id.clone(), c.id.clone()]));

    assert_eq!(
        STACK
            .find(&tables, "public_routes", &second)
            .await
            .map(|r| r.id),
        Some(table.id.clone())
    );
    delete(&tables, "public_routes", &updated).await;
    let gone = net
        .ec2
        .describe_route_tables()
        .route_table_ids(&table.id)
        .send()
        .await
        .expect_err("the table is gone");
    assert_eq!(
        gone.code(),
        Some("InvalidRouteTableID.NotFound"),
        "{gone:?}"
    );
    assert_gone(&tables, "public_routes", &updated).await;
}

/// Every permission of a group as (protocol, from, to, source, description), from the SDK.
async fn live_rules(
    ec2: &aws_sdk_ec2::Client,
    group: &str,
    egress: bool,
) -> BTreeSet<(String, Option<i32>, Option<i32>, String, Option<String>)> {
    let out = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    let group = &out.security_groups()[0];
    let permissions = if egress {
        group.ip_permissions_egress()
    } else {
        group.ip_permissions()
    };
    let mut rules = BTreeSet::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or_default().to_string();
        let (from, to) = if protocol == "-1" {
            (None, None)
        } else {
            (p.from_port(), p.to_port())
        };
        for r in p.ip_ranges() {
            rules.insert((
                protocol.clone(),
                from,
                to,
                r.cidr_ip().unwrap_or_default().to_string(),
                r.description().map(str::to_string),
            ));
        }
        for g in p.user_id_group_pairs() {
            rules.insert((
                protocol.clone(),
                from,
                to,
                g.group_id().unwrap_or_default().to_string(),
                g.description().map(str::to_string),
            ));
        }
    }
    rules
}

/// The security group rule ids of a group, by (from port, source): a rule that was revoked
/// and authorized again gets a new id.
async fn rule_ids(ec2: &aws_sdk_ec2::Client, group: &str) -> BTreeMap<(i32, String), String> {
    let out = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(group).build())
        .send()
        .await
        .unwrap();
    out.security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(false))
        .map(|r| {
            let source = r
                .cidr_ipv4()
                .map(str::to_string)
                .or_else(|| {
                    r.referenced_group_info()
                        .and_then(|g| g.group_id())
                        .map(str::to_string)
                })
                .unwrap_or_default();
            (
                (r.from_port().unwrap_or(-1), source),
                r.security_group_rule_id().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn rule(
    protocol: &str,
    port: Option<i32>,
    source: &str,
    description: Option<&str>,
) -> (String, Option<i32>, Option<i32>, String, Option<String>) {
    (
        protocol.to_string(),
        port,
        port,
        source.to_string(),
        description.map(str::to_string),
    )
}

#[tokio::test]
async fn security_group_rules_change_one_by_one_and_never_replace_the_group() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let net = Network::new(&ctx);
    let groups = SecurityGroupProvider::new(&ctx);
    let vpc = net.vpc("vpc", "10.0.0.0/16").await;

    // Two CIDR blocks in one rule; the stack's rules not in any canonical order.
    let web_props = map(json!({
        "vpc_id": vpc.id,
        "name": "network-web",
        "description": "HTTPS from anywhere",
        "ingress": [
            { "protocol": "tcp", "from_port": 443, "to_port": 443,
              "cidr_blocks": ["10.0.0.0/8", "0.0.0.0/0"], "description": "HTTPS" },
            { "protocol": "icmp", "cidr_blocks": ["10.0.0.0/8"] },
        ],
        "tags": STACK.tags_for("web", json!({})),
    }));
    let web = STACK.create(&groups, "web", &web_props).await;
    assert!(web.id.starts_with("sg-"), "{}", web.id);
    assert_reads_back(&web, &web_props);
    assert_eq!(web.attributes["name"], Value::str("network-web"));
    assert_eq!(
        web.attributes["arn"],
        Value::str(format!(
            "arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{}",
            web.id
        ))
    );
    // The planner compares lists element by element: in whatever order the stack wrote the
    // rules, a refresh (which passes the recorded properties as prior) compares equal.
    let ingress_kind = groups.schema().prop("ingress").unwrap().kind.clone();
    let mut reordered = web_props.clone();
    let mut rules = reordered["ingress"].as_list().unwrap().to_vec();
    rules.reverse();
    reordered.insert("ingress".into(), Value::List(rules));
    for prior in [&web_props, &reordered] {
        let read = refresh(&groups, "web", &web.id, prior, &Map::new())
            .await
            .unwrap();
        assert!(
            planner::compare::equivalent(
                &ingress_kind,
                &prior["ingress"],
                &read.properties["ingress"]
            ),
            "{} vs {}",
            prior["ingress"],
            read.properties["ingress"]
        );
    }
    // The stack does not manage web's egress: AWS's default rule stays and is not reported.
    assert!(!web.properties.contains_key("egress"));
    assert_eq!(
        live_rules(&net.ec2, &web.id, true).await,
        BTreeSet::from([rule("-1", None, "0.0.0.0/0", None)])
    );
    assert_eq!(
        live_rules(&net.ec2, &web.id, false).await,
        BTreeSet::from([
            rule("tcp", Some(443), "0.0.0.0/0", Some("HTTPS")),
            rule("tcp", Some(443), "10.0.0.0/8", Some("HTTPS")),
            rule("icmp", Some(-1), "10.0.0.0/8", None),
        ])
    );

    // `app` manages its egress: AWS's default allow-all rule is revoked.
    let app_props = map(json!({
        "vpc_id": vpc.id,
        "name": "network-app",
        "description": "Managed by strata",
        "ingress": [
            { "protocol": "tcp", "from_port": 8080, "to_port": 8080,
              "source_security_group_id": web.id, "description": "From web" },
        ],
        "egress": [
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"] },
        ],
        "tags": STACK.tags_for("app", json!({})),
    }));
    let app = STACK.create(&groups, "app", &app_props).await;
    assert_reads_back(&app, &app_props);
    assert_eq!(
        live_rules(&net.ec2, &app.id, true).await,
        BTreeSet::from([rule("tcp", Some(443), "0.0.0.0/0", None)])
    );
    assert_eq!(
        live_rules(&net.ec2, &app.id, false).await,
        BTreeSet::from([rule("tcp", Some(8080), &web.id, Some("From web"))])
    );

    // Add a rule, drop one CIDR block, change nothing else: same group, untouched rules keep
    // their rule ids (they were not revoked and authorized again).
    let before = rule_ids(&net.ec2, &web.id).await;
    let second = map(json!({
        "vpc_id": vpc.id,
        "name": "network-web",
        "description": "HTTPS from anywhere",
        "ingress": [
            { "protocol": "tcp", "from_port": 443, "to_port": 443,
              "cidr_blocks": ["0.0.0.0/0"], "description": "HTTPS" },
            { "protocol": "icmp", "cidr_blocks": ["10.0.0.0/8"] },
            { "protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_blocks": ["0.0.0.0/0"] },
        ],
        "tags": STACK.tags_for("web", json!({})),
    }));
    let updated = update(&groups, "web", &web, &second, &["ingress"]).await;
    assert_eq!(updated.id, web.id);
    assert_reads_back(&updated, &second);
    assert_eq!(
        live_rules(&net.ec2, &web.id, false).await,
        BTreeSet::from([
            rule("tcp", Some(443), "0.0.0.0/0", Some("HTTPS")),
            rule("icmp", Some(-1), "10.0.0.0/8", None),
            rule("tcp", Some(80), "0.0.0.0/0", None),
        ])
    );
    let after = rule_ids(&net.ec2, &web.id).await;
    let key = (443, "0.0.0.0/0".to_string());
    assert_eq!(after.get(&key), before.get(&key), "{before:?} {after:?}");
    assert!(!after.contains_key(&(443, "10.0.0.0/8".to_string())));
    // Still untouched: egress, which the stack does not manage.
    assert_eq!(
        live_rules(&net.ec2, &web.id, true).await,
        BTreeSet::from([rule("-1", None, "0.0.0.0/0", None)])
    );

    // A description alone changes in place too, and egress rules change one by one.
    let third = map(json!({
        "vpc_id": vpc.id,
        "name": "network-app",
        "description": "Managed by strata",
        "ingress": [
            { "protocol": "tcp", "from_port": 8080, "to_port": 8080,
              "source_security_group_id": web.id, "description": "From web" },
        ],
        "egress": [
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"],
              "description": "HTTPS out" },
            { "protocol": "udp", "from_port": 53, "to_port": 53, "cidr_blocks": ["10.0.0.2/32"] },
        ],
        "tags": STACK.tags_for("app", json!({})),
    }));
    let app2 = update(&groups, "app", &app, &third, &["egress"]).await;
    assert_eq!(app2.id, app.id);
    assert_reads_back(&app2, &third);
    assert_eq!(
        live_rules(&net.ec2, &app.id, true).await,
        BTreeSet::from([
            rule("tcp", Some(443), "0.0.0.0/0", Some("HTTPS out")),
            rule("udp", Some(53), "10.0.0.2/32", None),
        ])
    );
    assert_eq!(
        live_rules(&net.ec2, &app.id, false).await,
        BTreeSet::from([rule("tcp", Some(8080), &web.id, Some("From web"))])
    );

    assert_eq!(
        STACK.find(&groups, "web", &second).await.map(|r| r.id),
        Some(web.id.clone())
    );
    delete(&groups, "app", &app2).await;
    delete(&groups, "web", &updated).await;
    let gone = net
        .ec2
        .describe_security_groups()
        .group_ids(&web.id)
        .send()
        .await
        .expect_err("the group is gone");
    assert_eq!(gone.code(), Some("InvalidGroup.NotFound"), "{gone:?}");
    assert_gone(&groups, "web", &updated).await;
    assert_gone(&groups, "app", &app2).await;
}
