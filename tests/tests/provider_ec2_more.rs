//! `aws.ec2.network_acl`, `aws.ec2.vpc_endpoint` and `aws.ec2.flow_log` through the built
//! binary against the emulator, each over its whole life: create (read back through the SDK),
//! a clean second plan, an in-place change that keeps the id, a replacing change that gives a
//! new id and leaves the old object gone, `state rm` + `import` + a clean plan, and a destroy
//! that leaves nothing.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, NetworkAcl, VpcEndpoint};
use strata_tests::{assert_code, Project};

fn ec2(p: &Project) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&p.ctx().sdk)
}

/// The recorded state of `address` in the project's stack `stack`.
fn recorded(p: &Project, stack: &str, address: &str) -> serde_json::Value {
    let path = p.path().join(format!(".strata/{stack}.state.json"));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    state["resources"][address].clone()
}

fn recorded_id(p: &Project, stack: &str, address: &str) -> String {
    recorded(p, stack, address)["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id recorded for {address}"))
        .to_string()
}

fn apply(p: &Project) {
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
}

fn assert_clean_plan(p: &Project) {
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
}

/// Plans (expecting changes, with every line of `expected` in the plan) and applies.
fn plan_and_apply(p: &Project, expected: &[&str]) {
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    for line in expected {
        assert!(run.stdout.contains(line), "no `{line}` in:\n{}", run.stdout);
    }
    apply(p);
}

/// Forgets `address`, imports it again by `id`, and expects a clean plan.
fn reimport(p: &Project, address: &str, id: &str) {
    assert_code(&p.strata(&["state", "rm", address]), 0);
    assert_code(&p.strata(&["import", address, id]), 0);
    assert_clean_plan(p);
}

// ---------------------------------------------------------------------------------------------
// aws.ec2.network_acl

async fn describe_acls(ec2: &aws_sdk_ec2::Client, filters: Vec<Filter>) -> Vec<NetworkAcl> {
    ec2.describe_network_acls()
        .set_filters(Some(filters))
        .send()
        .await
        .unwrap()
        .network_acls()
        .to_vec()
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// The network ACL a subnet is associated with.
async fn acl_of(ec2: &aws_sdk_ec2::Client, subnet: &str) -> String {
    let acls = describe_acls(ec2, vec![filter("association.subnet-id", subnet)]).await;
    let ids: Vec<&str> = acls.iter().filter_map(|a| a.network_acl_id()).collect();
    assert_eq!(ids.len(), 1, "subnet {subnet} is on {ids:?}");
    ids[0].to_string()
}

async fn default_acl(ec2: &aws_sdk_ec2::Client, vpc: &str) -> String {
    let acls = describe_acls(ec2, vec![filter("vpc-id", vpc), filter("default", "true")]).await;
    acls[0].network_acl_id().unwrap().to_string()
}

/// The ACL's rules of one direction as AWS has them: number → (action, protocol, from, to),
/// without the catch-all rule; `None` when the ACL does not exist.
async fn acl_rules(
    ec2: &aws_sdk_ec2::Client,
    acl: &str,
    egress: bool,
) -> Option<BTreeMap<i32, (String, String, Option<i32>, Option<i32>)>> {
    let out = ec2
        .describe_network_acls()
        .network_acl_ids(acl)
        .send()
        .await;
    let acls = out.ok()?.network_acls().to_vec();
    let acl = acls.first()?;
    Some(
        acl.entries()
            .iter()
            .filter(|e| e.egress() == Some(egress) && e.rule_number() != Some(32767))
            .map(|e| {
                (
                    e.rule_number().unwrap(),
                    (
                        e.rule_action().unwrap().as_str().to_string(),
                        e.protocol().unwrap().to_string(),
                        e.port_range().and_then(|p| p.from()),
                        e.port_range().and_then(|p| p.to()),
                    ),
                )
            })
            .collect(),
    )
}

/// Two VPCs with subnets `a` and `b` in the first and `c` in the second, and `acl` when given.
fn acl_stack(acl: &str) -> String {
    format!(
        r#"stack: acls
region: us-east-1
resources:
  vpc:
    type: aws.ec2.vpc
    properties: {{ cidr_block: 10.0.0.0/16 }}
  other_vpc:
    type: aws.ec2.vpc
    properties: {{ cidr_block: 10.1.0.0/16 }}
  a:
    type: aws.ec2.subnet
    properties: {{ vpc_id: "${{vpc.id}}", cidr_block: 10.0.1.0/24 }}
  b:
    type: aws.ec2.subnet
    properties: {{ vpc_id: "${{vpc.id}}", cidr_block: 10.0.2.0/24 }}
  c:
    type: aws.ec2.subnet
    properties: {{ vpc_id: "${{other_vpc.id}}", cidr_block: 10.1.1.0/24 }}
{acl}"#
    )
}

const ACL_FIRST: &str = r#"  acl:
    type: aws.ec2.network_acl
    properties:
      vpc_id: "${vpc.id}"
      ingress:
        - { rule_no: 200, action: allow, protocol: all, cidr_block: 10.0.0.0/8, from_port: 0, to_port: 0 }
        - { rule_no: 100, action: allow, protocol: tcp, cidr_block: 0.0.0.0/0, from_port: 443, to_port: 443 }
      egress:
        - { rule_no: 100, action: allow, protocol: "-1", cidr_block: 0.0.0.0/0 }
      subnet_ids: ["${a.id}"]
      tags: { tier: web }
"#;

/// Rule 100 changed (another port), 200 removed, 300 added; subnet `a` traded for `b`.
const ACL_CHANGED: &str = r#"  acl:
    type: aws.ec2.network_acl
    properties:
      vpc_id: "${vpc.id}"
      ingress:
        - { rule_no: 100, action: allow, protocol: tcp, cidr_block: 0.0.0.0/0, from_port: 8443, to_port: 8443 }
        - { rule_no: 300, action: deny, protocol: udp, cidr_block: 10.9.0.0/16, from_port: 53, to_port: 53 }
      egress:
        - { rule_no: 100, action: allow, protocol: "-1", cidr_block: 0.0.0.0/0 }
      subnet_ids: ["${b.id}"]
      tags: { tier: web }
"#;

/// In the other VPC: a replacement. (Its ICMP rule takes every type and code: moto 5.2.5
/// drops the `Icmp` fields of `CreateNetworkAclEntry`, so a type would not read back.)
const ACL_MOVED: &str = r#"  acl:
    type: aws.ec2.network_acl
    properties:
      vpc_id: "${other_vpc.id}"
      ingress:
        - { rule_no: 100, action: allow, protocol: tcp, cidr_block: 0.0.0.0/0, from_port: 8443, to_port: 8443 }
        - { rule_no: 110, action: allow, protocol: icmp, cidr_block: 0.0.0.0/0 }
      egress:
        - { rule_no: 100, action: allow, protocol: all, cidr_block: 0.0.0.0/0 }
      subnet_ids: ["${c.id}"]
      tags: { tier: web }
"#;

fn rule(
    action: &str,
    protocol: &str,
    ports: Option<(i32, i32)>,
) -> (String, String, Option<i32>, Option<i32>) {
    (
        action.to_string(),
        protocol.to_string(),
        ports.map(|p| p.0),
        ports.map(|p| p.1),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_network_acl_changes_rules_and_subnets_one_by_one_and_gives_subnets_back_to_the_default_acl(
) {
    let p = Project::new(&acl_stack(ACL_FIRST));
    let ec2 = ec2(&p);
    apply(&p);
    let acl = recorded_id(&p, "acls", "acl");
    let vpc = recorded_id(&p, "acls", "vpc");
    let (a, b, c) = (
        recorded_id(&p, "acls", "a"),
        recorded_id(&p, "acls", "b"),
        recorded_id(&p, "acls", "c"),
    );
    let vpc_default = default_acl(&ec2, &vpc).await;
    // AWS holds protocol numbers; `all` keeps no ports.
    assert_eq!(
        acl_rules(&ec2, &acl, false).await.unwrap(),
        BTreeMap::from([
            (100, rule("allow", "6", Some((443, 443)))),
            (200, rule("allow", "-1", None)),
        ])
    );
    assert_eq!(
        acl_rules(&ec2, &acl, true).await.unwrap(),
        BTreeMap::from([(100, rule("allow", "-1", None))])
    );
    assert_eq!(acl_of(&ec2, &a).await, acl);
    assert_eq!(acl_of(&ec2, &b).await, vpc_default);
    let arn = recorded(&p, "acls", "acl")["attributes"]["arn"].clone();
    assert_eq!(
        arn,
        serde_json::json!(format!(
            "arn:aws:ec2:us-east-1:123456789012:network-acl/{acl}"
        ))
    );
    // The rules read back in the stack's order and spelling (`tcp`, `-1`, ports of `all`).
    assert_clean_plan(&p);

    // One rule changed, one removed, one added, and the subnets traded: in place.
    p.write_stack(&acl_stack(ACL_CHANGED));
    plan_and_apply(
        &p,
        &[
            "~ acl (aws.ec2.network_acl) will be updated in place",
            "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.",
        ],
    );
    assert_eq!(recorded_id(&p, "acls", "acl"), acl);
    assert_eq!(
        acl_rules(&ec2, &acl, false).await.unwrap(),
        BTreeMap::from([
            (100, rule("allow", "6", Some((8443, 8443)))),
            (300, rule("deny", "17", Some((53, 53)))),
        ])
    );
    assert_eq!(
        acl_of(&ec2, &a).await,
        vpc_default,
        "a is back on the default ACL"
    );
    assert_eq!(acl_of(&ec2, &b).await, acl);
    assert_clean_plan(&p);

    // Another VPC replaces the ACL; the old one is deleted and its subnet given back.
    p.write_stack(&acl_stack(ACL_MOVED));
    plan_and_apply(&p, &["-/+ acl (aws.ec2.network_acl) must be replaced"]);
    let new_acl = recorded_id(&p, "acls", "acl");
    assert_ne!(new_acl, acl);
    assert_eq!(
        acl_rules(&ec2, &acl, false).await,
        None,
        "the old ACL is gone"
    );
    assert_eq!(acl_of(&ec2, &b).await, vpc_default);
    assert_eq!(acl_of(&ec2, &c).await, new_acl);
    assert_clean_plan(&p);

    reimport(&p, "acl", &new_acl);

    // Taken out of the stack, the ACL is deleted and its subnet goes back to the default.
    p.write_stack(&acl_stack(""));
    plan_and_apply(&p, &["- acl (aws.ec2.network_acl) will be destroyed"]);
    assert_eq!(acl_rules(&ec2, &new_acl, false).await, None);
    let other_vpc = recorded_id(&p, "acls", "other_vpc");
    assert_eq!(acl_of(&ec2, &c).await, default_acl(&ec2, &other_vpc).await);

    // Destroy: no ACL is left but the defaults of VPCs strata did not make.
    p.write_stack(&acl_stack(ACL_FIRST));
    apply(&p);
    let last = recorded_id(&p, "acls", "acl");
    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    assert_eq!(acl_rules(&ec2, &last, false).await, None);
    let left = describe_acls(&ec2, vec![filter("default", "false")]).await;
    assert!(left.is_empty(), "{left:?}");
}

// ---------------------------------------------------------------------------------------------
// aws.ec2.vpc_endpoint

fn endpoint_stack(service: &str, tables: &str) -> String {
    format!(
        r#"stack: endpoints
region: us-east-1
resources:
  vpc:
    type: aws.ec2.vpc
    properties: {{ cidr_block: 10.0.0.0/16 }}
  first:
    type: aws.ec2.route_table
    properties: {{ vpc_id: "${{vpc.id}}" }}
  second:
    type: aws.ec2.route_table
    properties: {{ vpc_id: "${{vpc.id}}" }}
  endpoint:
    type: aws.ec2.vpc_endpoint
    properties:
      vpc_id: "${{vpc.id}}"
      service_name: com.amazonaws.us-east-1.{service}
      route_table_ids: {tables}
      policy:
        Version: "2012-10-17"
        Statement:
          - {{ Effect: Allow, Principal: "*", Action: "{service}:*", Resource: "*" }}
      tags: {{ tier: data }}
"#
    )
}

/// AWS lists a deleted endpoint for a while, as `deleted`.
fn is_deleted(endpoint: &VpcEndpoint) -> bool {
    endpoint.state().map(|s| s.as_str()) == Some("deleted")
}

/// The endpoint as AWS lists it; `None` once it is gone (AWS lists deleted ones a while).
async fn endpoint(ec2: &aws_sdk_ec2::Client, id: &str) -> Option<VpcEndpoint> {
    let out = ec2
        .describe_vpc_endpoints()
        .vpc_endpoint_ids(id)
        .send()
        .await;
    out.ok()?
        .vpc_endpoints()
        .iter()
        .find(|e| !is_deleted(e))
        .cloned()
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vpc_endpoint_adds_and_removes_route_tables_in_place_and_is_replaced_for_another_service()
{
    let p = Project::new(&endpoint_stack("s3", r#"["${first.id}"]"#));
    let ec2 = ec2(&p);
    apply(&p);
    let id = recorded_id(&p, "endpoints", "endpoint");
    let first = recorded_id(&p, "endpoints", "first");
    let second = recorded_id(&p, "endpoints", "second");
    let live = endpoint(&ec2, &id).await.expect("the endpoint exists");
    assert_eq!(live.state().map(|s| s.as_str()), Some("available"));
    assert_eq!(live.service_name(), Some("com.amazonaws.us-east-1.s3"));
    assert_eq!(
        live.vpc_endpoint_type().map(|t| t.as_str()),
        Some("Gateway")
    );
    assert_eq!(live.route_table_ids(), std::slice::from_ref(&first));
    let policy: serde_json::Value = serde_json::from_str(live.policy_document().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Action"], "s3:*");
    let attributes = recorded(&p, "endpoints", "endpoint")["attributes"].clone();
    assert!(
        attributes["prefix_list_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("pl-")),
        "{attributes}"
    );
    assert_eq!(
        attributes["arn"],
        serde_json::json!(format!(
            "arn:aws:ec2:us-east-1:123456789012:vpc-endpoint/{id}"
        ))
    );
    assert_clean_plan(&p);

    // A second route table is added in place, then taken away again.
    p.write_stack(&endpoint_stack("s3", r#"["${second.id}", "${first.id}"]"#));
    plan_and_apply(
        &p,
        &["~ endpoint (aws.ec2.vpc_endpoint) will be updated in place"],
    );
    assert_eq!(recorded_id(&p, "endpoints", "endpoint"), id);
    let live = endpoint(&ec2, &id).await.unwrap();
    assert_eq!(
        sorted(live.route_table_ids()),
        sorted(&[first.clone(), second.clone()])
    );
    assert_clean_plan(&p);
    p.write_stack(&endpoint_stack("s3", r#"["${first.id}"]"#));
    plan_and_apply(
        &p,
        &["~ endpoint (aws.ec2.vpc_endpoint) will be updated in place"],
    );
    assert_eq!(recorded_id(&p, "endpoints", "endpoint"), id);
    assert_eq!(
        endpoint(&ec2, &id).await.unwrap().route_table_ids(),
        std::slice::from_ref(&first)
    );
    assert_clean_plan(&p);

    // Another service is another endpoint; the old one is deleted.
    p.write_stack(&endpoint_stack("dynamodb", r#"["${first.id}"]"#));
    plan_and_apply(
        &p,
        &["-/+ endpoint (aws.ec2.vpc_endpoint) must be replaced"],
    );
    let new_id = recorded_id(&p, "endpoints", "endpoint");
    assert_ne!(new_id, id);
    assert!(
        endpoint(&ec2, &id).await.is_none(),
        "the old endpoint is gone"
    );
    assert_eq!(
        endpoint(&ec2, &new_id).await.unwrap().service_name(),
        Some("com.amazonaws.us-east-1.dynamodb")
    );
    assert_clean_plan(&p);

    reimport(&p, "endpoint", &new_id);

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    assert!(endpoint(&ec2, &new_id).await.is_none());
    let left: Vec<_> = ec2
        .describe_vpc_endpoints()
        .send()
        .await
        .unwrap()
        .vpc_endpoints()
        .iter()
        .filter(|e| !is_deleted(e))
        .filter_map(|e| e.vpc_endpoint_id().map(str::to_string))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

// ---------------------------------------------------------------------------------------------
// aws.ec2.flow_log

const LOG_GROUP: &str = "arn:aws:logs:us-east-1:123456789012:log-group:flows";

fn flow_log_stack(traffic: &str, team: &str) -> String {
    format!(
        r#"stack: flows
region: us-east-1
resources:
  vpc:
    type: aws.ec2.vpc
    properties: {{ cidr_block: 10.0.0.0/16 }}
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: {{ Effect: Allow, Principal: {{ Service: vpc-flow-logs.amazonaws.com }}, Action: sts:AssumeRole }}
  flows:
    type: aws.ec2.flow_log
    properties:
      vpc_id: "${{vpc.id}}"
      traffic_type: {traffic}
      log_destination: "{LOG_GROUP}"
      iam_role_arn: "${{role.arn}}"
      tags: {{ team: {team} }}
"#
    )
}

async fn flow_log(ec2: &aws_sdk_ec2::Client, id: &str) -> Option<aws_sdk_ec2::types::FlowLog> {
    ec2.describe_flow_logs()
        .flow_log_ids(id)
        .send()
        .await
        .unwrap()
        .flow_logs()
        .iter()
        .find(|f| f.flow_log_id() == Some(id))
        .cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flow_log_changes_only_its_tags_in_place_and_is_replaced_for_other_traffic() {
    let p = Project::new(&flow_log_stack("ALL", "net"));
    let ec2 = ec2(&p);
    apply(&p);
    let id = recorded_id(&p, "flows", "flows");
    let vpc = recorded_id(&p, "flows", "vpc");
    let live = flow_log(&ec2, &id).await.expect("the flow log exists");
    assert_eq!(live.resource_id(), Some(vpc.as_str()));
    assert_eq!(live.traffic_type().map(|t| t.as_str()), Some("ALL"));
    assert_eq!(live.log_destination(), Some(LOG_GROUP));
    assert_eq!(
        live.log_destination_type().map(|t| t.as_str()),
        Some("cloud-watch-logs")
    );
    assert_eq!(live.max_aggregation_interval(), Some(600));
    assert_eq!(
        live.deliver_logs_permission_arn(),
        Some("arn:aws:iam::123456789012:role/flows-role")
    );
    assert_eq!(
        recorded(&p, "flows", "flows")["attributes"]["arn"],
        serde_json::json!(format!(
            "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/{id}"
        ))
    );
    assert_clean_plan(&p);

    // Tags change in place.
    p.write_stack(&flow_log_stack("ALL", "platform"));
    plan_and_apply(&p, &["~ flows (aws.ec2.flow_log) will be updated in place"]);
    assert_eq!(recorded_id(&p, "flows", "flows"), id);
    let live = flow_log(&ec2, &id).await.unwrap();
    assert!(live
        .tags()
        .iter()
        .any(|t| t.key() == Some("team") && t.value() == Some("platform")));
    assert_clean_plan(&p);

    // Other traffic is another flow log; the old one is deleted.
    p.write_stack(&flow_log_stack("REJECT", "platform"));
    plan_and_apply(&p, &["-/+ flows (aws.ec2.flow_log) must be replaced"]);
    let new_id = recorded_id(&p, "flows", "flows");
    assert_ne!(new_id, id);
    assert!(
        flow_log(&ec2, &id).await.is_none(),
        "the old flow log is gone"
    );
    assert_eq!(
        flow_log(&ec2, &new_id)
            .await
            .unwrap()
            .traffic_type()
            .map(|t| t.as_str()),
        Some("REJECT")
    );
    assert_clean_plan(&p);

    reimport(&p, "flows", &new_id);

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    let left = ec2.describe_flow_logs().send().await.unwrap();
    assert!(left.flow_logs().is_empty(), "{:?}", left.flow_logs());
}
