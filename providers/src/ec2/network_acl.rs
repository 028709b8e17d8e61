//! `aws.ec2.network_acl`: a VPC network ACL, its numbered rules and the subnets it guards.
//!
//! Rules are sets keyed by `rule_no`, one set per direction, as AWS keeps them: an update
//! creates, replaces (`ReplaceNetworkAclEntry`) or deletes exactly the entries whose number
//! differs from what AWS has, so traffic matched by the other rules never stops and the ACL is
//! never replaced. AWS's catch-all deny rules (32767, and 32768 for IPv6) can be neither
//! changed nor deleted, and are never shown.
//!
//! A subnet always has exactly one network ACL. Associating one moves it from the ACL it has
//! now (`ReplaceNetworkAclAssociation`); taking it out of `subnet_ids`, or deleting the ACL,
//! moves it back to its VPC's default ACL, as terraform-provider-aws does.
//!
//! AWS speaks protocol numbers only; the stack may write `tcp`, `udp`, `icmp`, `all` or a
//! number, and a rule reads back as the stack wrote it whenever AWS holds the same rule.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IcmpTypeCode, NetworkAcl, NetworkAclEntry, PortRange, ResourceType, RuleAction,
};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{
    ec2_object, filter, list_of, read_back, strings, tag_specification, tags_from_aws, Ec2,
    Ec2Object, Query, DEPENDENCY_VIOLATION, PROPAGATION,
};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, in_prior_order, required_str, set_in_prior_order};
use crate::retry::delete_with_backoff;
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.network_acl";

/// How EC2 says a network ACL does not exist. moto 5.2.5 answers a `DescribeNetworkAcls` of an
/// unknown id with the route table code; AWS never sends that code for this call.
const ACL_NOT_FOUND: &[&str] = &[
    "InvalidNetworkAclID.NotFound",
    "InvalidRouteTableID.NotFound",
];
/// How EC2 says an association is already gone (its subnet was deleted).
const ASSOCIATION_NOT_FOUND: &[&str] = &["InvalidAssociationID.NotFound"];
/// How EC2 says an entry is already gone.
const ENTRY_NOT_FOUND: &[&str] = &["InvalidNetworkAclEntry.NotFound"];

/// AWS's catch-all rules (IPv4, IPv6) at the end of every ACL: fixed, never shown.
const DEFAULT_RULE_NUMBERS: &[i32] = &[32767, 32768];
/// The rule numbers a stack may use.
const RULE_NUMBERS: std::ops::RangeInclusive<i64> = 1..=32766;

const ACTIONS: &[&str] = &["allow", "deny"];

/// The fields of one rule.
fn rule_kind() -> Kind {
    Kind::Object(vec![
        Prop::new("rule_no", Kind::Integer).required(),
        Prop::new("action", Kind::String)
            .required()
            .allowed(ACTIONS),
        Prop::new("protocol", Kind::String).required(),
        Prop::new("cidr_block", Kind::String).cidr(),
        Prop::new("ipv6_cidr_block", Kind::String),
        Prop::new("from_port", Kind::Integer),
        Prop::new("to_port", Kind::Integer),
        Prop::new("icmp_type", Kind::Integer),
        Prop::new("icmp_code", Kind::Integer),
    ])
}

/// The network ACL's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("vpc_id", Kind::String).required().force_new(),
            Prop::new("ingress", Kind::List(Box::new(rule_kind()))),
            Prop::new("egress", Kind::List(Box::new(rule_kind()))),
            Prop::new("subnet_ids", Kind::List(Box::new(Kind::String))),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "arn"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: None,
    }
}

/// How the catalogue knows `aws.ec2.network_acl`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(NetworkAclProvider::new(ctx)),
    about: "A VPC network ACL with its numbered ingress and egress rules (sets keyed by \
            `rule_no`) and the subnets it guards; a rule change creates, replaces or deletes \
            that entry alone and never replaces the ACL.",
    import_id: "the network ACL id (`acl-…`)",
    attributes: &[
        ("id", "the network ACL id (`acl-…`)"),
        ("arn", "the network ACL's ARN"),
    ],
    property_notes: &[
        (
            "ingress",
            "rules `{rule_no, action, protocol, cidr_block | ipv6_cidr_block, from_port, \
             to_port, icmp_type, icmp_code}`; `protocol` is `tcp`, `udp`, `icmp`, `all` or a \
             protocol number; AWS's catch-all rule 32767 is never shown",
        ),
        ("egress", "rules as for `ingress`"),
        (
            "subnet_ids",
            "each subnet is moved from the ACL it has; one taken out (or every one, when the \
             ACL is deleted) goes back to its VPC's default ACL",
        ),
    ],
    actions: Actions {
        create: &[
            "ec2:CreateNetworkAcl",
            "ec2:CreateTags",
            "ec2:CreateNetworkAclEntry",
            "ec2:ReplaceNetworkAclAssociation",
            "ec2:DescribeNetworkAcls",
        ],
        read: &["ec2:DescribeNetworkAcls"],
        update: &[
            "ec2:CreateNetworkAclEntry",
            "ec2:ReplaceNetworkAclEntry",
            "ec2:DeleteNetworkAclEntry",
            "ec2:ReplaceNetworkAclAssociation",
            "ec2:DescribeNetworkAcls",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ],
        delete: &[
            "ec2:DescribeNetworkAcls",
            "ec2:ReplaceNetworkAclAssociation",
            "ec2:DeleteNetworkAcl",
        ],
    },
    resources: &[
        "arn:{partition}:ec2:{region}:{account}:network-acl/*",
        "arn:{partition}:ec2:{region}:{account}:vpc/{vpc_id}",
        "arn:{partition}:ec2:{region}:{account}:subnet/{subnet_ids}",
    ],
    passes_role: &[],
};

ec2_object!(NetworkAcl: describe_network_acls(set_network_acl_ids, set_filters)
    -> network_acls, id: network_acl_id, not_found: ACL_NOT_FOUND);

/// Which of an ACL's rule sets a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn prop(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    fn egress(self) -> bool {
        self == Direction::Egress
    }
}

/// One rule as AWS keeps it: the protocol as its number, ports only for TCP and UDP, ICMP
/// type and code only for ICMP (AWS ignores the others), the action in lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    action: String,
    protocol: i32,
    cidr_block: Option<String>,
    ipv6_cidr_block: Option<String>,
    from_port: Option<i32>,
    to_port: Option<i32>,
    icmp_type: Option<i32>,
    icmp_code: Option<i32>,
}

/// Rules by rule number.
type Rules = BTreeMap<i32, Rule>;

const ALL: i32 = -1;
const ICMP: i32 = 1;
const TCP: i32 = 6;
const UDP: i32 = 17;
const ICMPV6: i32 = 58;

/// The protocol number of a protocol as the stack (or AWS) writes it, as Terraform reads it:
/// `all` is `-1`, the names `tcp`, `udp`, `icmp` (and `icmpv6`) their IANA numbers.
fn protocol_number(protocol: &str) -> Option<i32> {
    match protocol.trim().to_ascii_lowercase().as_str() {
        "all" => Some(ALL),
        "icmp" => Some(ICMP),
        "tcp" => Some(TCP),
        "udp" => Some(UDP),
        "icmpv6" | "ipv6-icmp" => Some(ICMPV6),
        number => number.parse().ok().filter(|n| (-1..=255).contains(n)),
    }
}

/// The protocol as a stack writes it, for rules the stack did not write.
fn protocol_name(number: i32) -> String {
    match number {
        ALL => "all".into(),
        ICMP => "icmp".into(),
        TCP => "tcp".into(),
        UDP => "udp".into(),
        other => other.to_string(),
    }
}

impl Rule {
    /// A rule with only what AWS keeps for its protocol.
    fn normalised(mut self) -> Rule {
        if !matches!(self.protocol, TCP | UDP) {
            self.from_port = None;
            self.to_port = None;
        }
        if matches!(self.protocol, ICMP | ICMPV6) {
            // Left out, AWS takes every type and code: `-1`.
            self.icmp_type = Some(self.icmp_type.unwrap_or(-1));
            self.icmp_code = Some(self.icmp_code.unwrap_or(-1));
        } else {
            self.icmp_type = None;
            self.icmp_code = None;
        }
        self.action = self.action.to_ascii_lowercase();
        self
    }

    /// The rule as the stack writes it.
    fn value(&self, rule_no: i32) -> Value {
        let mut fields = Map::from([
            ("rule_no".to_string(), Value::int(rule_no.into())),
            ("action".to_string(), Value::str(&self.action)),
            (
                "protocol".to_string(),
                Value::str(protocol_name(self.protocol)),
            ),
        ]);
        let texts = [
            ("cidr_block", &self.cidr_block),
            ("ipv6_cidr_block", &self.ipv6_cidr_block),
        ];
        for (name, text) in texts {
            if let Some(text) = text {
                fields.insert(name.into(), Value::str(text));
            }
        }
        // Every ICMP type or code (`-1`) is what a stack that writes none means.
        let numbers = [
            ("from_port", self.from_port),
            ("to_port", self.to_port),
            ("icmp_type", self.icmp_type.filter(|t| *t != -1)),
            ("icmp_code", self.icmp_code.filter(|c| *c != -1)),
        ];
        for (name, number) in numbers {
            if let Some(number) = number {
                fields.insert(name.into(), Value::int(number.into()));
            }
        }
        Value::Map(fields)
    }
}

/// One rule of the stack, with its number; `what` names it in errors (`ingress[0]`).
fn stack_rule(value: &Value, what: &str) -> Result<(i32, Rule)> {
    let fields = value
        .as_map()
        .ok_or_else(|| ProviderError::invalid(format!("`{what}` must be a mapping")))?;
    let text = |name: &str| -> Result<Option<String>> {
        match given(fields, name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| ProviderError::invalid(format!("`{what}.{name}` must be a string"))),
        }
    };
    let number = |name: &str| -> Result<Option<i32>> {
        match given(fields, name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    ProviderError::invalid(format!("`{what}.{name}` must be a whole number"))
                }),
        }
    };
    let rule_no = number("rule_no")?
        .filter(|n| RULE_NUMBERS.contains(&i64::from(*n)))
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "`{what}.rule_no` is required, from {} to {}",
                RULE_NUMBERS.start(),
                RULE_NUMBERS.end()
            ))
        })?;
    let action = text("action")?
        .map(|a| a.to_ascii_lowercase())
        .filter(|a| ACTIONS.contains(&a.as_str()))
        .ok_or_else(|| {
            ProviderError::invalid(format!("`{what}.action` is required: `allow` or `deny`"))
        })?;
    let protocol = text("protocol")?
        .ok_or_else(|| ProviderError::invalid(format!("`{what}.protocol` is required")))?;
    let protocol = protocol_number(&protocol).ok_or_else(|| {
        ProviderError::invalid(format!(
            "`{what}.protocol` `{protocol}` is not `tcp`, `udp`, `icmp`, `all` or a protocol \
             number from -1 to 255"
        ))
    })?;
    let rule = Rule {
        action,
        protocol,
        cidr_block: text("cidr_block")?,
        ipv6_cidr_block: text("ipv6_cidr_block")?,
        from_port: number("from_port")?,
        to_port: number("to_port")?,
        icmp_type: number("icmp_type")?,
        icmp_code: number("icmp_code")?,
    }
    .normalised();
    if rule.cidr_block.is_some() == rule.ipv6_cidr_block.is_some() {
        return Err(ProviderError::invalid(format!(
            "`{what}` needs exactly one of `cidr_block` and `ipv6_cidr_block`"
        )));
    }
    if matches!(protocol, TCP | UDP) && (rule.from_port.is_none() || rule.to_port.is_none()) {
        return Err(ProviderError::invalid(format!(
            "`{what}` is for {}, so it needs `from_port` and `to_port`",
            protocol_name(protocol)
        )));
    }
    Ok((rule_no, rule))
}

/// The rules of one direction the stack asks for.
fn desired_rules(props: &Map, direction: Direction) -> Result<Rules> {
    let prop = direction.prop();
    let Some(items) = given(props, prop) else {
        return Ok(Rules::new());
    };
    let items = items
        .as_list()
        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a list of rules")))?
        .to_vec();
    let mut rules = Rules::new();
    for (i, item) in items.iter().enumerate() {
        let (rule_no, rule) = stack_rule(item, &format!("{prop}[{i}]"))?;
        if rules.insert(rule_no, rule).is_some() {
            return Err(ProviderError::invalid(format!(
                "`{prop}` has two rules numbered {rule_no}"
            )));
        }
    }
    Ok(rules)
}

/// The rules AWS has in one direction, without its catch-all rules.
fn aws_rules(acl: &NetworkAcl, direction: Direction) -> Rules {
    acl.entries()
        .iter()
        .filter(|e| e.egress().unwrap_or(false) == direction.egress())
        .filter_map(|e| Some((e.rule_number()?, aws_rule(e)?)))
        .filter(|(rule_no, _)| !DEFAULT_RULE_NUMBERS.contains(rule_no))
        .collect()
}

fn aws_rule(entry: &NetworkAclEntry) -> Option<Rule> {
    Some(
        Rule {
            action: entry.rule_action()?.as_str().to_string(),
            protocol: protocol_number(entry.protocol()?)?,
            cidr_block: entry.cidr_block().map(str::to_string),
            ipv6_cidr_block: entry.ipv6_cidr_block().map(str::to_string),
            from_port: entry.port_range().and_then(|p| p.from()),
            to_port: entry.port_range().and_then(|p| p.to()),
            icmp_type: entry.icmp_type_code().and_then(|c| c.r#type()),
            icmp_code: entry.icmp_type_code().and_then(|c| c.code()),
        }
        .normalised(),
    )
}

fn rule_no_of(rule: &Value) -> Option<i64> {
    rule.as_map()?.get("rule_no")?.as_i64()
}

/// AWS's rules as the stack's list: a rule AWS holds as the stack last wrote it (`prior`)
/// reads back exactly as written (`tcp` stays `tcp`, ports of an `all` rule stay), in the
/// stack's order; every other rule reads in AWS's terms, after them, by number.
fn rules_value(actual: &Rules, prior: &[Value]) -> Value {
    let written: BTreeMap<i32, (Rule, Value)> = prior
        .iter()
        .filter_map(|v| {
            let (rule_no, rule) = stack_rule(v, "rule").ok()?;
            Some((rule_no, (rule, v.unmarked())))
        })
        .collect();
    let values = actual
        .iter()
        .map(|(rule_no, rule)| match written.get(rule_no) {
            Some((as_written, value)) if as_written == rule => value.clone(),
            _ => rule.value(*rule_no),
        })
        .collect();
    Value::List(in_prior_order(
        prior.iter().filter_map(rule_no_of),
        values,
        rule_no_of,
    ))
}

/// The subnets associated with the ACL, with their association ids.
fn associations(acl: &NetworkAcl) -> BTreeMap<String, String> {
    acl.associations()
        .iter()
        .filter_map(|a| {
            Some((
                a.subnet_id()?.to_string(),
                a.network_acl_association_id()?.to_string(),
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

/// The ACL in the stack's terms; `prior` is what the stack last applied.
fn resource(ec2: &Ec2, acl: &NetworkAcl, prior: &Map) -> Result<Option<Resource>> {
    let id = acl.network_acl_id().ok_or_else(|| {
        ProviderError::invalid("DescribeNetworkAcls returned an ACL without an id")
    })?;
    let mut properties = Map::new();
    if let Some(vpc) = acl.vpc_id() {
        properties.insert("vpc_id".into(), Value::str(vpc));
    }
    for direction in [Direction::Ingress, Direction::Egress] {
        properties.insert(
            direction.prop().into(),
            rules_value(
                &aws_rules(acl, direction),
                list_of(prior, direction.prop()).unwrap_or_default(),
            ),
        );
    }
    properties.insert(
        "subnet_ids".into(),
        set_in_prior_order(prior.get("subnet_ids"), associations(acl).into_keys()),
    );
    properties.insert("tags".into(), tags_from_aws(acl.tags()));
    let arn = ec2.arn(acl.owner_id(), "network-acl", id)?;
    Ok(Some(Resource {
        id: id.to_string(),
        properties,
        attributes: Map::from([
            ("id".to_string(), Value::str(id)),
            ("arn".to_string(), Value::str(arn)),
        ]),
    }))
}

/// Manages network ACLs with their rules and subnet associations; the id is the ACL id.
pub struct NetworkAclProvider {
    schema: TypeSchema,
    ec2: Ec2,
}

impl NetworkAclProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
        }
    }

    async fn describe_one(&self, id: &str) -> Result<Option<NetworkAcl>> {
        self.ec2.describe_one(id).await
    }

    async fn read_one(&self, id: &str, prior: &Map) -> Result<Option<Resource>> {
        self.ec2
            .read_one(id, |acl| resource(&self.ec2, acl, prior))
            .await
    }

    async fn existing(&self, id: &str) -> Result<NetworkAcl> {
        self.describe_one(id)
            .await?
            .ok_or_else(|| ProviderError::invalid(format!("network ACL {id} no longer exists")))
    }

    /// Makes one direction's rules `desired`, given what AWS has: deletes the numbers the
    /// stack dropped, replaces the ones that changed, creates the new ones.
    async fn set_rules(
        &self,
        id: &str,
        direction: Direction,
        actual: &Rules,
        desired: &Rules,
    ) -> Result<()> {
        for rule_no in actual.keys().filter(|n| !desired.contains_key(*n)) {
            let out = self
                .ec2
                .client
                .delete_network_acl_entry()
                .network_acl_id(id)
                .egress(direction.egress())
                .rule_number(*rule_no)
                .send()
                .await
                .map_err(api_error);
            missing_is_none(out, ENTRY_NOT_FOUND)?;
        }
        for (rule_no, rule) in desired {
            match actual.get(rule_no) {
                Some(now) if now == rule => {}
                Some(_) => self.put_rule(id, direction, *rule_no, rule, true).await?,
                None => self.put_rule(id, direction, *rule_no, rule, false).await?,
            }
        }
        Ok(())
    }

    /// Creates one entry, or replaces the entry of that number.
    async fn put_rule(
        &self,
        id: &str,
        direction: Direction,
        rule_no: i32,
        rule: &Rule,
        replace: bool,
    ) -> Result<()> {
        let ports = rule.from_port.map(|_| {
            PortRange::builder()
                .set_from(rule.from_port)
                .set_to(rule.to_port)
                .build()
        });
        let icmp = matches!(rule.protocol, ICMP | ICMPV6).then(|| {
            IcmpTypeCode::builder()
                .set_type(rule.icmp_type)
                .set_code(rule.icmp_code)
                .build()
        });
        let action = RuleAction::from(rule.action.as_str());
        let protocol = rule.protocol.to_string();
        let client = &self.ec2.client;
        // The two calls take the same fields; each is built the same way.
        macro_rules! send {
            ($call:ident) => {
                client
                    .$call()
                    .network_acl_id(id)
                    .egress(direction.egress())
                    .rule_number(rule_no)
                    .rule_action(action)
                    .protocol(protocol)
                    .set_cidr_block(rule.cidr_block.clone())
                    .set_ipv6_cidr_block(rule.ipv6_cidr_block.clone())
                    .set_port_range(ports)
                    .set_icmp_type_code(icmp)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(api_error)
            };
        }
        if replace {
            send!(replace_network_acl_entry)
        } else {
            send!(create_network_acl_entry)
        }
    }

    /// The id of the VPC's default network ACL, where subnets go back to.
    async fn default_acl(&self, vpc: &str) -> Result<String> {
        let query = Query {
            ids: None,
            filters: Some(vec![filter("vpc-id", &[vpc]), filter("default", &["true"])]),
        };
        NetworkAcl::describe(&self.ec2.client, query)
            .await?
            .iter()
            .find_map(|acl| acl.network_acl_id().map(str::to_string))
            .ok_or_else(|| ProviderError::invalid(format!("VPC {vpc} has no default network ACL")))
    }

    /// The association that ties `subnet` to its network ACL now; `None` when the subnet is
    /// gone.
    async fn association_of(&self, subnet: &str) -> Result<Option<String>> {
        let query = Query {
            ids: None,
            filters: Some(vec![filter("association.subnet-id", &[subnet])]),
        };
        let acls = NetworkAcl::describe(&self.ec2.client, query).await?;
        Ok(acls
            .iter()
            .flat_map(|acl| acl.associations())
            .find(|a| a.subnet_id() == Some(subnet))
            .and_then(|a| a.network_acl_association_id().map(str::to_string)))
    }

    /// Moves the subnet of `association` to the ACL `acl`.
    async fn move_to(&self, association: &str, acl: &str) -> Result<()> {
        let out = self
            .ec2
            .client
            .replace_network_acl_association()
            .association_id(association)
            .network_acl_id(acl)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, ASSOCIATION_NOT_FOUND).map(|_| ())
    }

    /// Makes the ACL guard exactly the `desired` subnets: the new ones are moved from the ACL
    /// they have, the dropped ones back to the VPC's default ACL.
    async fn set_subnets(
        &self,
        id: &str,
        vpc: &str,
        current: &BTreeMap<String, String>,
        desired: &BTreeSet<String>,
    ) -> Result<()> {
        let dropped: Vec<&String> = current
            .iter()
            .filter(|(subnet, _)| !desired.contains(*subnet))
            .map(|(_, association)| association)
            .collect();
        if !dropped.is_empty() {
            let default = self.default_acl(vpc).await?;
            for association in dropped {
                self.move_to(association, &default).await?;
            }
        }
        for subnet in desired.iter().filter(|s| !current.contains_key(*s)) {
            let association = self.association_of(subnet).await?.ok_or_else(|| {
                ProviderError::invalid(format!(
                    "subnet {subnet} has no network ACL association (does it exist?)"
                ))
            })?;
            self.move_to(&association, id).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for NetworkAclProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the ACL tagged, then its rules, then moves its subnets to it.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let ingress = desired_rules(props, Direction::Ingress)?;
        let egress = desired_rules(props, Direction::Egress)?;
        let subnets = desired_subnets(props)?;
        let vpc = required_str(props, "vpc_id")?;
        let out = self
            .ec2
            .client
            .create_network_acl()
            .vpc_id(&vpc)
            .set_tag_specifications(
                tag_specification(ResourceType::NetworkAcl, props)?.map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(api_error)?;
        let id = out
            .network_acl()
            .and_then(|a| a.network_acl_id())
            .ok_or_else(|| ProviderError::invalid("CreateNetworkAcl returned no id"))?
            .to_string();
        after_made(&id, async {
            read_back("network ACL", &id, || self.describe_one(&id)).await?;
            self.set_rules(&id, Direction::Egress, &Rules::new(), &egress)
                .await?;
            self.set_rules(&id, Direction::Ingress, &Rules::new(), &ingress)
                .await?;
            self.set_subnets(&id, &vpc, &BTreeMap::new(), &subnets)
                .await?;
            read_back("network ACL", &id, || self.read_one(&id, props)).await
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id, &req.prior_properties).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        self.ec2
            .read_many(&reqs, |acl, req| {
                resource(&self.ec2, acl, &req.prior_properties)
            })
            .await
    }

    /// Changes exactly the rules and associations that differ from what AWS has now.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let changes_sets = req
            .changed
            .iter()
            .any(|p| matches!(p.as_str(), "ingress" | "egress" | "subnet_ids"));
        let acl = if changes_sets {
            Some(self.existing(&req.id).await?)
        } else {
            None
        };
        for prop in &req.changed {
            match (prop.as_str(), &acl) {
                ("ingress", Some(acl)) => {
                    let desired = desired_rules(&req.properties, Direction::Ingress)?;
                    let actual = aws_rules(acl, Direction::Ingress);
                    self.set_rules(&req.id, Direction::Ingress, &actual, &desired)
                        .await?;
                }
                ("egress", Some(acl)) => {
                    let desired = desired_rules(&req.properties, Direction::Egress)?;
                    let actual = aws_rules(acl, Direction::Egress);
                    self.set_rules(&req.id, Direction::Egress, &actual, &desired)
                        .await?;
                }
                ("subnet_ids", Some(acl)) => {
                    let desired = desired_subnets(&req.properties)?;
                    let vpc = acl.vpc_id().unwrap_or_default().to_string();
                    self.set_subnets(&req.id, &vpc, &associations(acl), &desired)
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
        read_back("network ACL", &req.id, || {
            self.read_one(&req.id, &req.properties)
        })
        .await
    }

    /// Moves every subnet the ACL guards back to the VPC's default ACL, then deletes it,
    /// retrying while EC2 still counts an association (terraform-provider-aws retries for
    /// EC2's propagation time too); one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let Some(acl) = self.describe_one(&req.id).await? else {
            return Ok(());
        };
        let current = associations(&acl);
        if !current.is_empty() {
            let vpc = acl.vpc_id().unwrap_or_default().to_string();
            self.set_subnets(&req.id, &vpc, &current, &BTreeSet::new())
                .await?;
        }
        let id = req.id.as_str();
        delete_with_backoff(
            PROPAGATION.timeout,
            DEPENDENCY_VIOLATION,
            ACL_NOT_FOUND,
            || async move {
                self.ec2
                    .client
                    .delete_network_acl()
                    .network_acl_id(id)
                    .send()
                    .await
                    .map_err(api_error)
            },
        )
        .await
    }

    /// Finds the ACL by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self.ec2.tagged_id::<NetworkAcl>(TYPE_NAME, &req).await? {
            Some(id) => self.read_one(&id, &req.properties).await,
            None => Ok(None),
        }
    }
}

/// What the loader checks of a network ACL's rules (`TypeSchema::check`): numbers, actions,
/// one block, ports for TCP and UDP, no number twice.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        desired_rules(props, Direction::Ingress)?;
        desired_rules(props, Direction::Egress)?;
        desired_subnets(props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(json: serde_json::Value) -> Vec<Value> {
        match Value::from_json(json) {
            Value::List(items) => items,
            other => panic!("not a list: {other}"),
        }
    }

    fn desired(list: &[Value]) -> Rules {
        let props = Map::from([("ingress".to_string(), Value::List(list.to_vec()))]);
        desired_rules(&props, Direction::Ingress).unwrap()
    }

    #[test]
    fn protocols_are_numbers_as_terraform_reads_them() {
        assert_eq!(protocol_number("tcp"), Some(6));
        assert_eq!(protocol_number("6"), Some(6));
        assert_eq!(protocol_number("ALL"), Some(-1));
        assert_eq!(protocol_number("-1"), Some(-1));
        assert_eq!(protocol_number("icmp"), Some(1));
        assert_eq!(protocol_number("50"), Some(50));
        assert_eq!(protocol_number("256"), None);
        assert_eq!(protocol_number("gre-ish"), None);
    }

    #[test]
    fn rules_aws_holds_read_back_as_the_stack_wrote_them_in_its_order() {
        let stack = rules(serde_json::json!([
            { "rule_no": 200, "action": "allow", "protocol": "all", "cidr_block": "10.0.0.0/8",
              "from_port": 0, "to_port": 0 },
            { "rule_no": 100, "action": "ALLOW", "protocol": "tcp", "cidr_block": "0.0.0.0/0",
              "from_port": 443, "to_port": 443 },
        ]));
        // AWS: numbers, no ports for `-1`, sorted by number.
        let aws = desired(&stack);
        assert_eq!(aws[&200].protocol, -1);
        assert_eq!(aws[&200].from_port, None);
        assert_eq!(aws[&100].action, "allow");
        assert_eq!(rules_value(&aws, &stack), Value::List(stack.clone()));
    }

    #[test]
    fn a_changed_or_extra_rule_reads_in_aws_terms_and_makes_the_list_differ() {
        let stack = rules(serde_json::json!([
            { "rule_no": 100, "action": "allow", "protocol": "tcp", "cidr_block": "0.0.0.0/0",
              "from_port": 443, "to_port": 443 },
        ]));
        let mut aws = desired(&stack);
        aws.get_mut(&100).unwrap().to_port = Some(444);
        aws.insert(
            50,
            Rule {
                action: "deny".into(),
                protocol: 17,
                cidr_block: Some("10.0.0.0/8".into()),
                ipv6_cidr_block: None,
                from_port: Some(53),
                to_port: Some(53),
                icmp_type: None,
                icmp_code: None,
            },
        );
        let read = rules_value(&aws, &stack);
        let expected = rules(serde_json::json!([
            { "rule_no": 100, "action": "allow", "protocol": "tcp", "cidr_block": "0.0.0.0/0",
              "from_port": 443, "to_port": 444 },
            { "rule_no": 50, "action": "deny", "protocol": "udp", "cidr_block": "10.0.0.0/8",
              "from_port": 53, "to_port": 53 },
        ]));
        assert_eq!(read, Value::List(expected));
    }

    #[test]
    fn rules_need_a_number_a_block_and_ports_for_tcp_and_numbers_are_unique() {
        let bad = |rule: serde_json::Value| {
            let props = Map::from([("ingress".to_string(), Value::from_json(rule))]);
            desired_rules(&props, Direction::Ingress).is_err()
        };
        assert!(bad(serde_json::json!([
            { "rule_no": 0, "action": "allow", "protocol": "all", "cidr_block": "0.0.0.0/0" }
        ])));
        assert!(bad(serde_json::json!([
            { "rule_no": 32767, "action": "allow", "protocol": "all", "cidr_block": "0.0.0.0/0" }
        ])));
        assert!(bad(serde_json::json!([
            { "rule_no": 1, "action": "allow", "protocol": "all" }
        ])));
        assert!(bad(serde_json::json!([
            { "rule_no": 1, "action": "allow", "protocol": "tcp", "cidr_block": "0.0.0.0/0" }
        ])));
        assert!(bad(serde_json::json!([
            { "rule_no": 1, "action": "allow", "protocol": "all", "cidr_block": "0.0.0.0/0" },
            { "rule_no": 1, "action": "deny", "protocol": "all", "cidr_block": "0.0.0.0/0" }
        ])));
        assert!(!bad(serde_json::json!([
            { "rule_no": 1, "action": "allow", "protocol": "icmp", "cidr_block": "0.0.0.0/0",
              "icmp_type": 8, "icmp_code": 0 }
        ])));
    }
}
