//! A network's creates read nothing back either. Through the recording proxy, a VPC with a DNS
//! switch, subnets (one mapping public IPs, one in a zone EC2 picks), an internet gateway, an
//! Elastic IP, a NAT gateway, route tables with routes and subnet associations, and security
//! groups with ingress and egress rules (one keeping AWS's allow-all egress rule, one replacing
//! it, one leaving egress alone) make exactly their creates and follow-up calls: no `Describe*`
//! but the VPC's one look-up of the default security group and main route table EC2 made with
//! it (which `CreateVpc` does not answer); no wait, since the emulator answers every object
//! `available`. The state they leave equals, property by property, what each provider reads,
//! and plans with and without refresh are empty.

use strata_tests::kit::assert_apply_asks;

const STACK: &str = r#"
stack: lean-net
region: us-east-1
tags: { team: network }
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.8.0.0/16, enable_dns_hostnames: true, tags: { tier: core } }
  public:
    type: aws.ec2.subnet
    properties:
      vpc_id: ${vpc.id}
      cidr_block: 10.8.1.0/24
      availability_zone: us-east-1a
      map_public_ip_on_launch: true
  edge:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.8.2.0/24 }
  private:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.8.11.0/24, availability_zone: us-east-1b }
  gateway:
    type: aws.ec2.internet_gateway
    properties: { vpc_id: "${vpc.id}" }
  nat_ip:
    type: aws.ec2.eip
    properties: { tags: { use: nat } }
  nat:
    type: aws.ec2.nat_gateway
    properties: { subnet_id: "${public.id}", allocation_id: "${nat_ip.id}" }
    depends_on: [gateway]
  public_routes:
    type: aws.ec2.route_table
    properties:
      vpc_id: ${vpc.id}
      routes: [{ destination_cidr_block: 0.0.0.0/0, gateway_id: "${gateway.id}" }]
      subnet_ids: ["${public.id}", "${edge.id}"]
  private_routes:
    type: aws.ec2.route_table
    properties:
      vpc_id: ${vpc.id}
      routes:
        - { destination_cidr_block: 0.0.0.0/0, nat_gateway_id: "${nat.id}" }
        - { destination_cidr_block: 192.168.0.0/16, gateway_id: "${gateway.id}" }
      subnet_ids: ["${private.id}"]
  web:
    type: aws.ec2.security_group
    properties:
      vpc_id: ${vpc.id}
      description: HTTPS from anywhere
      ingress:
        - { protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [0.0.0.0/0, 10.0.0.0/8], description: HTTPS }
        - { protocol: tcp, from_port: 80, to_port: 80, cidr_blocks: [0.0.0.0/0] }
      egress:
        - { protocol: all, cidr_blocks: [0.0.0.0/0], description: Anywhere }
        - { protocol: tcp, from_port: 5432, to_port: 5432, cidr_blocks: [10.8.0.0/16], description: DB }
  app:
    type: aws.ec2.security_group
    properties:
      vpc_id: ${vpc.id}
      ingress: [{ protocol: tcp, from_port: 8080, to_port: 8080, source_security_group_id: "${web.id}", description: From web }]
      egress: [{ protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [0.0.0.0/0] }]
      tags: { tier: app }
  pings:
    type: aws.ec2.security_group
    properties:
      vpc_id: ${vpc.id}
      ingress: [{ protocol: icmp, cidr_blocks: [10.8.0.0/16] }]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn network_creates_read_nothing_back_and_record_what_aws_holds() {
    // Nothing but what is listed: no read back (the one look-up of the account aside).
    let expected = [
        // The VPC: its DNS hostnames switched on, while the default security group and main
        // route table EC2 made with it are looked up (at once).
        ("ec2:CreateVpc", 1),
        ("ec2:ModifyVpcAttribute", 1),
        ("ec2:DescribeSecurityGroups", 1),
        ("ec2:DescribeRouteTables", 1),
        // Three subnets, one mapping public IPs.
        ("ec2:CreateSubnet", 3),
        ("ec2:ModifySubnetAttribute", 1),
        ("ec2:CreateInternetGateway", 1),
        ("ec2:AttachInternetGateway", 1),
        ("ec2:AllocateAddress", 1),
        ("ec2:CreateNatGateway", 1),
        // Two tables, three routes, three associations.
        ("ec2:CreateRouteTable", 2),
        ("ec2:CreateRoute", 3),
        ("ec2:AssociateRouteTable", 3),
        // Three groups, each with ingress; two own their egress: AWS's default rules revoked
        // (`web` keeps the IPv4 one it lists, and describes it) and theirs authorized.
        ("ec2:CreateSecurityGroup", 3),
        ("ec2:AuthorizeSecurityGroupIngress", 3),
        ("ec2:RevokeSecurityGroupEgress", 2),
        ("ec2:AuthorizeSecurityGroupEgress", 2),
        ("ec2:UpdateSecurityGroupRuleDescriptionsEgress", 1),
    ];
    assert_apply_asks(STACK, "lean-net", &expected).await;
}
