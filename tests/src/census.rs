//! How many objects of each kind the emulator holds, for the kinds the network and serverless
//! examples make: what the fault tests compare before, after and between runs to show that
//! nothing was duplicated and nothing orphaned.
//!
//! A census counts every object of a kind in the account, tagged by strata or not, so that an
//! object a crashed create left untagged is counted too. Take one before the first apply and
//! compare the others with it ([`Census::since`]): the emulator's defaults (the default VPC,
//! its subnets and groups) cancel out.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::NatGatewayState;
use providers::aws::AwsContext;

/// Objects by kind (`"vpc"`, `"queue"`, `"route"`...), only kinds with at least one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Census(pub BTreeMap<&'static str, i64>);

impl Census {
    /// What this census has more (or fewer) of than `before`, dropping kinds with no
    /// difference: after a destroy, empty.
    pub fn since(&self, before: &Census) -> Census {
        let mut diff = BTreeMap::new();
        for kind in self.0.keys().chain(before.0.keys()) {
            let n =
                self.0.get(kind).copied().unwrap_or(0) - before.0.get(kind).copied().unwrap_or(0);
            if n != 0 {
                diff.insert(*kind, n);
            }
        }
        Census(diff)
    }

    /// `pairs` as a census (kinds with a count of 0 left out).
    pub fn of(pairs: &[(&'static str, i64)]) -> Census {
        Census(
            pairs
                .iter()
                .filter(|(_, n)| *n != 0)
                .map(|(k, n)| (*k, *n))
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn add(&mut self, kind: &'static str, n: usize) {
        if n > 0 {
            *self.0.entry(kind).or_default() += n as i64;
        }
    }
}

/// Every VPC-network object of the account: VPCs, subnets, internet gateways and their
/// attachments, Elastic IPs, live NAT gateways, route tables with their routes and subnet
/// associations, security groups and their ingress rules.
pub async fn network(ctx: &AwsContext) -> Census {
    let ec2 = aws_sdk_ec2::Client::new(&ctx.sdk);
    let mut c = Census::default();
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    c.add("vpc", vpcs.vpcs().len());
    let subnets = ec2.describe_subnets().send().await.unwrap();
    c.add("subnet", subnets.subnets().len());
    let gateways = ec2.describe_internet_gateways().send().await.unwrap();
    c.add("internet_gateway", gateways.internet_gateways().len());
    c.add(
        "gateway_attachment",
        gateways
            .internet_gateways()
            .iter()
            .map(|g| g.attachments().len())
            .sum(),
    );
    let addresses = ec2.describe_addresses().send().await.unwrap();
    c.add("elastic_ip", addresses.addresses().len());
    // AWS lists deleted NAT gateways for an hour; only live ones count.
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    c.add(
        "nat_gateway",
        nats.nat_gateways()
            .iter()
            .filter(|n| n.state() != Some(&NatGatewayState::Deleted))
            .count(),
    );
    let tables = ec2.describe_route_tables().send().await.unwrap();
    c.add("route_table", tables.route_tables().len());
    c.add(
        "route",
        tables.route_tables().iter().map(|t| t.routes().len()).sum(),
    );
    c.add(
        "subnet_association",
        tables
            .route_tables()
            .iter()
            .flat_map(|t| t.associations())
            .filter(|a| a.subnet_id().is_some())
            .count(),
    );
    let groups = ec2.describe_security_groups().send().await.unwrap();
    c.add("security_group", groups.security_groups().len());
    c.add(
        "ingress_rule",
        groups
            .security_groups()
            .iter()
            .flat_map(|g| g.ip_permissions())
            .map(|p| p.ip_ranges().len() + p.user_id_group_pairs().len())
            .sum(),
    );
    c
}

/// What the network example makes, as [`network`] counts it: one VPC (with its main route
/// table, default security group and their rules), four subnets, an attached internet gateway,
/// an Elastic IP, a NAT gateway, two route tables with a default route each and two subnets
/// each, two security groups with one ingress rule each.
pub fn network_example() -> Census {
    Census::of(&[
        ("vpc", 1),
        ("subnet", 4),
        ("internet_gateway", 1),
        ("gateway_attachment", 1),
        ("elastic_ip", 1),
        ("nat_gateway", 1),
        // A public and a private table per zone (two zones), and the VPC's main table.
        ("route_table", 5),
        // Each table's local route, and the stack's default routes.
        ("route", 5 + 4),
        ("subnet_association", 4),
        // Two of the stack's and the VPC's default group.
        ("security_group", 3),
        // The stack's two (the emulator's default group has none).
        ("ingress_rule", 2),
    ])
}

/// Every serverless object of the account: queues, topics, subscriptions, roles with their
/// managed and inline policies, functions with their permission statements, event source
/// mappings, HTTP APIs with their integrations, routes and stages, event rules and their
/// targets.
pub async fn serverless(ctx: &AwsContext) -> Census {
    let mut c = Census::default();
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
    let queues = sqs.list_queues().send().await.unwrap();
    c.add("queue", queues.queue_urls().len());
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);
    c.add(
        "topic",
        sns.list_topics().send().await.unwrap().topics().len(),
    );
    c.add(
        "subscription",
        sns.list_subscriptions()
            .send()
            .await
            .unwrap()
            .subscriptions()
            .len(),
    );
    let iam = aws_sdk_iam::Client::new(&ctx.sdk);
    let roles = iam.list_roles().send().await.unwrap();
    // The emulator's own service-linked roles are not ours.
    let roles: Vec<String> = roles
        .roles()
        .iter()
        .filter(|r| !r.path().starts_with("/aws-service-role/"))
        .map(|r| r.role_name().to_string())
        .collect();
    c.add("role", roles.len());
    for role in &roles {
        let attached = iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .unwrap();
        c.add("role_managed_policy", attached.attached_policies().len());
        let inline = iam
            .list_role_policies()
            .role_name(role)
            .send()
            .await
            .unwrap();
        c.add("role_inline_policy", inline.policy_names().len());
    }
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let functions = lambda.list_functions().send().await.unwrap();
    c.add("function", functions.functions().len());
    for function in functions.functions() {
        let name = function.function_name().unwrap_or_default();
        if let Ok(policy) = lambda.get_policy().function_name(name).send().await {
            let statements = policy
                .policy()
                .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
                .and_then(|p| p["Statement"].as_array().map(Vec::len))
                .unwrap_or(0);
            c.add("function_permission", statements);
        }
    }
    let mappings = lambda.list_event_source_mappings().send().await.unwrap();
    c.add(
        "event_source_mapping",
        mappings.event_source_mappings().len(),
    );
    let apigw = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);
    let apis = apigw.get_apis().send().await.unwrap();
    c.add("api", apis.items().len());
    for api in apis.items() {
        let id = api.api_id().unwrap_or_default();
        let integrations = apigw.get_integrations().api_id(id).send().await.unwrap();
        c.add("integration", integrations.items().len());
        let routes = apigw.get_routes().api_id(id).send().await.unwrap();
        c.add("route", routes.items().len());
        let stages = apigw.get_stages().api_id(id).send().await.unwrap();
        c.add("stage", stages.items().len());
    }
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);
    let rules = events.list_rules().send().await.unwrap();
    c.add("rule", rules.rules().len());
    for rule in rules.rules() {
        let targets = events
            .list_targets_by_rule()
            .rule(rule.name().unwrap_or_default())
            .send()
            .await
            .unwrap();
        c.add("rule_target", targets.targets().len());
    }
    c
}

/// What the serverless example makes, as [`serverless`] counts it.
pub fn serverless_example() -> Census {
    Census::of(&[
        ("queue", 2),
        ("topic", 1),
        ("subscription", 1),
        ("role", 1),
        ("role_managed_policy", 1),
        ("role_inline_policy", 1),
        ("function", 1),
        ("function_permission", 1),
        ("event_source_mapping", 1),
        ("api", 1),
        ("integration", 1),
        ("route", 1),
        ("stage", 1),
        ("rule", 2),
        ("rule_target", 2),
    ])
}

/// An example the fault tests apply, with how to count what it makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Example {
    Network,
    Serverless,
}

impl Example {
    /// Its directory under `examples/`.
    pub fn dir(self) -> std::path::PathBuf {
        let name = match self {
            Example::Network => "network",
            Example::Serverless => "serverless",
        };
        crate::workspace_root().join("examples").join(name)
    }

    /// A fresh checkout of the example (no state) in a new temporary directory.
    pub fn checkout(self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        crate::copy_dir(&self.dir(), dir.path());
        dir
    }

    /// Counts the kinds of object this example makes.
    pub async fn census(self, ctx: &AwsContext) -> Census {
        match self {
            Example::Network => network(ctx).await,
            Example::Serverless => serverless(ctx).await,
        }
    }

    /// What an apply of the example adds to a census.
    pub fn made(self) -> Census {
        match self {
            Example::Network => network_example(),
            Example::Serverless => serverless_example(),
        }
    }
}
