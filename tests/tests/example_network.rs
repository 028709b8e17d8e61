//! The network example as a user drives it: the built `strata` binary against the emulator,
//! checked through the EC2 API. Apply (zones from a param, subnets and route tables stamped out
//! per zone, their availability zones read by a lookup), a second plan with no changes, a zone
//! added (that zone's resources alone), a security group rule added in place, subnets replaced,
//! and destroy leaving nothing tagged behind.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{Filter, NatGatewayState};
use strata_tests::{assert_code, Project};

const STACK: &str = include_str!("../../examples/network/stack.yaml");
const STACK_NAME: &str = "network";

fn stack_filter() -> Filter {
    Filter::builder()
        .name("tag:strata:stack")
        .values(STACK_NAME)
        .build()
}

fn address_filter(address: &str) -> Filter {
    Filter::builder()
        .name("tag:strata:address")
        .values(stacks::address_tag(address))
        .build()
}

/// The ids of the subnets tagged for `address`.
async fn subnets(ec2: &aws_sdk_ec2::Client, address: &str) -> Vec<(String, String)> {
    let out = ec2
        .describe_subnets()
        .filters(stack_filter())
        .filters(address_filter(address))
        .send()
        .await
        .unwrap();
    out.subnets()
        .iter()
        .map(|s| {
            (
                s.subnet_id().unwrap_or_default().to_string(),
                s.cidr_block().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn group_id(ec2: &aws_sdk_ec2::Client, address: &str) -> String {
    let out = ec2
        .describe_security_groups()
        .filters(stack_filter())
        .filters(address_filter(address))
        .send()
        .await
        .unwrap();
    assert_eq!(out.security_groups().len(), 1, "{out:?}");
    out.security_groups()[0]
        .group_id()
        .unwrap_or_default()
        .to_string()
}

/// A group's ingress as (from port, source) pairs.
async fn ingress(ec2: &aws_sdk_ec2::Client, group: &str) -> BTreeSet<(i32, String)> {
    let out = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    let mut rules = BTreeSet::new();
    for p in out.security_groups()[0].ip_permissions() {
        let port = p.from_port().unwrap_or(-1);
        for r in p.ip_ranges() {
            rules.insert((port, r.cidr_ip().unwrap_or_default().to_string()));
        }
        for g in p.user_id_group_pairs() {
            rules.insert((port, g.group_id().unwrap_or_default().to_string()));
        }
    }
    rules
}

/// The subnets associated with the route table tagged for `address`.
async fn table_subnets(ec2: &aws_sdk_ec2::Client, address: &str) -> BTreeSet<String> {
    let out = ec2
        .describe_route_tables()
        .filters(stack_filter())
        .filters(address_filter(address))
        .send()
        .await
        .unwrap();
    assert_eq!(out.route_tables().len(), 1, "{out:?}");
    out.route_tables()[0]
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id().map(str::to_string))
        .collect()
}

/// Everything carrying this stack's tag that still exists, by kind.
async fn tagged_leftovers(ec2: &aws_sdk_ec2::Client) -> Vec<String> {
    let mut left = Vec::new();
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack_filter())
        .send()
        .await
        .unwrap();
    left.extend(vpcs.vpcs().iter().map(|v| format!("{:?}", v.vpc_id())));
    let subnets = ec2
        .describe_subnets()
        .filters(stack_filter())
        .send()
        .await
        .unwrap();
    left.extend(
        subnets
            .subnets()
            .iter()
            .map(|s| format!("{:?}", s.subnet_id())),
    );
    let gateways = ec2
        .describe_internet_gateways()
        .filters(stack_filter())
        .send()
        .await
        .unwrap();
    left.extend(
        gateways
            .internet_gateways()
            .iter()
            .map(|g| format!("{:?}", g.internet_gateway_id())),
    );
    let addresses = ec2
        .describe_addresses()
        .filters(stack_filter())
        .send()
        .await
        .unwrap();
    left.extend(
        addresses
            .addresses()
            .iter()
            .map(|a| format!("{:?}", a.allocation_id())),
    );
    let tables = ec2
        .describe_route_tables()
        .filters(stack_filter())
        .send()
        .await
        .unwrap();
    left.extend(
        tables
            .route_tables()
            .iter()
            .map(|t| format!("{:?}", t.route_table_id())),
    );
    let groups = ec2
        .describe_security_groups()
        .filters(stack_filter())
        .send()
        .await
        .unwrap();
    left.extend(
        groups
            .security_groups()
            .iter()
            .map(|g| format!("{:?}", g.group_id())),
    );
    // AWS lists deleted NAT gateways for an hour; only live ones count.
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    left.extend(
        nats.nat_gateways()
            .iter()
            .filter(|n| n.state() != Some(&NatGatewayState::Deleted))
            .map(|n| format!("{:?}", n.nat_gateway_id())),
    );
    left
}

#[tokio::test(flavor = "multi_thread")]
async fn the_network_stack_applies_changes_a_rule_in_place_replaces_a_subnet_and_destroys() {
    let p = Project::new(STACK);
    let ec2 = aws_sdk_ec2::Client::new(&p.ctx().sdk);

    let run = p.strata(&["validate"]);
    assert_code(&run, 0);

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 14 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );

    // What AWS has: one VPC, four subnets, a NAT gateway that is available, the routes.
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack_filter())
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "{vpcs:?}");
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.0.0.0/16"));
    let public_a = subnets(&ec2, r#"public["a"]"#).await;
    let public_b = subnets(&ec2, r#"public["b"]"#).await;
    let private_a = subnets(&ec2, r#"private["a"]"#).await;
    let private_b = subnets(&ec2, r#"private["b"]"#).await;
    assert_eq!(private_b.len(), 1, "{private_b:?}");
    assert_eq!(public_b[0].1, "10.0.2.0/24");
    assert_eq!(private_b[0].1, "10.0.12.0/24");
    let zone_of = |id: &str| {
        let ec2 = ec2.clone();
        let id = id.to_string();
        async move {
            let out = ec2.describe_subnets().subnet_ids(id).send().await.unwrap();
            out.subnets()[0]
                .availability_zone()
                .unwrap_or_default()
                .to_string()
        }
    };
    assert_eq!(zone_of(&public_a[0].0).await, "us-east-1a");
    assert_eq!(zone_of(&private_b[0].0).await, "us-east-1b");
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert_eq!(nats.nat_gateways().len(), 1, "{nats:?}");
    assert_eq!(
        nats.nat_gateways()[0].state(),
        Some(&NatGatewayState::Available)
    );
    assert_eq!(
        nats.nat_gateways()[0].subnet_id(),
        Some(public_a[0].0.as_str())
    );
    assert_eq!(
        table_subnets(&ec2, r#"public_routes["b"]"#).await,
        BTreeSet::from([public_b[0].0.clone()])
    );
    assert_eq!(
        table_subnets(&ec2, r#"private_routes["a"]"#).await,
        BTreeSet::from([private_a[0].0.clone()])
    );
    let web = group_id(&ec2, "web").await;
    let app = group_id(&ec2, "app").await;
    assert_eq!(
        ingress(&ec2, &app).await,
        BTreeSet::from([(8080, web.clone())])
    );

    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // A third zone: its subnets and route tables alone, in us-east-1c.
    let run = p.strata(&["plan", "--var", "zones=[a, b, c]"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Plan: 4 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    for address in [
        r#"+ public["c"]"#,
        r#"+ private["c"]"#,
        r#"+ public_routes["c"]"#,
        r#"+ private_routes["c"]"#,
        "10.0.3.0/24",
        "10.0.13.0/24",
        "us-east-1c",
    ] {
        assert!(
            run.stdout.contains(address),
            "{address} in:\n{}",
            run.stdout
        );
    }

    // One more rule for `web`: an in-place update of that group alone.
    let with_http = STACK.replace(
        "          description: HTTPS\n",
        "          description: HTTPS\n        - protocol: tcp\n          from_port: 80\n          to_port: 80\n          cidr_blocks: [0.0.0.0/0]\n",
    );
    assert_ne!(with_http, STACK);
    p.write_stack(&with_http);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("~ web"), "{}", run.stdout);
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(group_id(&ec2, "web").await, web, "the same group");
    assert_eq!(
        ingress(&ec2, &web).await,
        BTreeSet::from([
            (443, "0.0.0.0/0".to_string()),
            (80, "0.0.0.0/0".to_string())
        ])
    );
    assert_eq!(
        ingress(&ec2, &app).await,
        BTreeSet::from([(8080, web.clone())])
    );
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // New CIDR blocks replace the private subnets; their route tables follow in place.
    let moved = with_http.replace("each.value + 11)", "each.value + 21)");
    assert_ne!(moved, with_http);
    p.write_stack(&moved);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout.contains(r#"-/+ private["b"] (aws.ec2.subnet)"#),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("# forces replacement"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Plan: 0 to add, 2 to change, 2 to replace, 0 to destroy."),
        "{}",
        run.stdout
    );
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let replaced = subnets(&ec2, r#"private["b"]"#).await;
    assert_eq!(replaced.len(), 1, "only the new subnet: {replaced:?}");
    assert_ne!(replaced[0].0, private_b[0].0);
    assert_eq!(replaced[0].1, "10.0.22.0/24");
    let old = ec2
        .describe_subnets()
        .subnet_ids(&private_b[0].0)
        .send()
        .await;
    assert!(old.is_err(), "the old subnet is gone: {old:?}");
    assert_eq!(
        table_subnets(&ec2, r#"private_routes["b"]"#).await,
        BTreeSet::from([replaced[0].0.clone()])
    );
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);

    // Destroy leaves nothing with the stack's tags.
    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    let left = tagged_leftovers(&ec2).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}
