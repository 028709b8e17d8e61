//! `aws.ec2.security_group`: a VPC security group with its ingress and egress rules inline.
//!
//! The group's VPC, name and description are fixed at create. Its rules are sets, as AWS keeps
//! them: AWS identifies a rule by protocol, port range and one source (a CIDR block, an IPv6
//! block, another group or a prefix list), so each rule of the stack (which may list several
//! CIDR blocks) is expanded into those [`Permission`]s. An update compares the stack's
//! permissions with what AWS has now and revokes, authorizes, or re-describes exactly the ones
//! that differ; a rule change never replaces the group (SPEC §3).
//!
//! AWS gives every new group an allow-all egress rule. A stack that writes no `egress` leaves
//! it alone and is not shown it as drift; a stack that writes `egress` owns the whole set, so
//! create revokes that default unless the stack lists it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroup, UserIdGroupPair,
};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{
    ec2_object, list_of, names_missing, read_back, requested_tags, strings, tag_specification,
    tags_from_aws, Ec2, DEPENDENCY_VIOLATION, PROPAGATION,
};
use crate::aws::{api_error, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::retry::{delete_with_backoff, with_backoff};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ec2.security_group";

/// How EC2 says a security group does not exist.
const GROUP_NOT_FOUND: &[&str] = &["InvalidGroup.NotFound"];

/// EC2's limit on a group name.
const NAME_MAX_LEN: usize = 255;

/// The description a group gets when the stack gives none (EC2 requires one).
const DEFAULT_DESCRIPTION: &str = "Managed by strata";

/// How long delete keeps retrying `DependencyViolation`. AWS refuses to delete a group that a
/// network interface or another group's rule still references, and the interfaces of deleted
/// Lambda functions and NAT gateways linger for many minutes. terraform-provider-aws waits
/// 15 minutes too.
const GROUP_DEPENDENCY_BUDGET: Duration = Duration::from_secs(15 * 60);

/// The protocols a rule can name; `all` is AWS's `-1`.
const PROTOCOLS: &[&str] = &["tcp", "udp", "icmp", "all"];

/// The fields of one rule.
fn rule_kind() -> Kind {
    Kind::Object(vec![
        Prop::new("protocol", Kind::String)
            .required()
            .allowed(PROTOCOLS),
        Prop::new("from_port", Kind::Integer),
        Prop::new("to_port", Kind::Integer),
        Prop::new("cidr_blocks", Kind::List(Box::new(Kind::String))).cidr(),
        Prop::new("ipv6_cidr_blocks", Kind::List(Box::new(Kind::String))),
        Prop::new("source_security_group_id", Kind::String),
        Prop::new("description", Kind::String),
    ])
}

/// The group's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("vpc_id", Kind::String).required().force_new(),
            Prop::new("name", Kind::String).force_new(),
            Prop::new("description", Kind::String)
                .force_new()
                .default(DEFAULT_DESCRIPTION),
            Prop::new("ingress", Kind::List(Box::new(rule_kind()))),
            Prop::new("egress", Kind::List(Box::new(rule_kind()))),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["id", "arn", "name"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.ec2.security_group`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(SecurityGroupProvider::new(ctx)),
    about: "A VPC security group with its ingress and egress rules inline; a rule change \
            revokes and authorizes only the rules that differ, and never replaces the group.",
    import_id: "the security group id (`sg-…`)",
    attributes: &[
        ("id", "the security group id (`sg-…`)"),
        ("arn", "the security group's ARN"),
        ("name", "the group name"),
    ],
    property_notes: &[(
        "egress",
        "left out, AWS's default allow-all egress rule stays and is not shown; written, the \
         stack owns every egress rule",
    )],
    actions: Actions {
        // `UpdateSecurityGroupRuleDescriptionsEgress` when the stack describes AWS's default
        // egress rule; `DescribeSecurityGroups` only where EC2 does not answer the ARN.
        create: &[
            "ec2:CreateSecurityGroup",
            "ec2:CreateTags",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
            "ec2:DescribeSecurityGroups",
        ],
        read: &["ec2:DescribeSecurityGroups"],
        update: &[
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ],
        delete: &["ec2:DeleteSecurityGroup"],
    },
    resources: &[
        "arn:{partition}:ec2:{region}:{account}:security-group/{id}",
        "arn:{partition}:ec2:{region}:{account}:vpc/{vpc_id}",
        "arn:{partition}:ec2:{region}:{account}:security-group-rule/*",
    ],
    passes_role: &[],
};

ec2_object!(SecurityGroup: describe_security_groups(set_group_ids, set_filters)
    -> security_groups, id: group_id, not_found: GROUP_NOT_FOUND);

/// Where a permission lets traffic come from (ingress) or go to (egress).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Cidr(String),
    Ipv6(String),
    Group(String),
    /// A managed prefix list: AWS may hold one; a stack cannot write it.
    PrefixList(String),
}

/// One rule as AWS identifies it: protocol (AWS's form), port range and one source.
/// Descriptions are not part of a rule's identity; they are kept beside it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Permission {
    protocol: String,
    from_port: Option<i32>,
    to_port: Option<i32>,
    source: Source,
}

/// A set of permissions, each with its description.
type Permissions = BTreeMap<Permission, Option<String>>;

/// The protocol as AWS names it: `all` is `-1`, protocol numbers of named protocols are names.
fn aws_protocol(protocol: &str) -> String {
    match protocol.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".into(),
        "tcp" | "6" => "tcp".into(),
        "udp" | "17" => "udp".into(),
        "icmp" | "1" => "icmp".into(),
        other => other.into(),
    }
}

/// The protocol as the stack writes it.
fn stack_protocol(protocol: &str) -> &str {
    if protocol == "-1" {
        "all"
    } else {
        protocol
    }
}

/// The port range AWS keeps for a protocol: none for all traffic, every ICMP type and code
/// (`-1`) where the stack gives none.
fn port_range(protocol: &str, from: Option<i32>, to: Option<i32>) -> (Option<i32>, Option<i32>) {
    match protocol {
        "-1" => (None, None),
        "icmp" => (Some(from.unwrap_or(-1)), Some(to.unwrap_or(-1))),
        _ => (from, to),
    }
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty()).map(str::to_string)
}

/// One rule of the stack, expanded into the permissions AWS keeps for it.
fn expand(rule: &Value, what: &str) -> Result<Vec<(Permission, Option<String>)>> {
    let fields = rule
        .as_map()
        .ok_or_else(|| ProviderError::invalid(format!("`{what}` must be a mapping")))?;
    let protocol = given(fields, "protocol")
        .and_then(|v| v.as_str().map(aws_protocol))
        .ok_or_else(|| ProviderError::invalid(format!("`{what}.protocol` is required")))?;
    let port = |name: &str| -> Result<Option<i32>> {
        match given(fields, name) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    ProviderError::invalid(format!("`{what}.{name}` must be a port number"))
                }),
        }
    };
    let (from, to) = port_range(&protocol, port("from_port")?, port("to_port")?);
    if matches!(protocol.as_str(), "tcp" | "udp") && (from.is_none() || to.is_none()) {
        return Err(ProviderError::invalid(format!(
            "`{what}` allows {protocol}, so it needs `from_port` and `to_port`"
        )));
    }
    let description = given(fields, "description").and_then(|v| non_empty(v.as_str()));
    let mut sources = Vec::new();
    if let Some(blocks) = given(fields, "cidr_blocks") {
        let blocks = strings(&blocks, &format!("{what}.cidr_blocks"))?;
        sources.extend(blocks.into_iter().map(Source::Cidr));
    }
    if let Some(blocks) = given(fields, "ipv6_cidr_blocks") {
        let blocks = strings(&blocks, &format!("{what}.ipv6_cidr_blocks"))?;
        sources.extend(blocks.into_iter().map(Source::Ipv6));
    }
    if let Some(group) = given(fields, "source_security_group_id") {
        let group = group.as_str().ok_or_else(|| {
            ProviderError::invalid(format!(
                "`{what}.source_security_group_id` must be a string"
            ))
        })?;
        sources.push(Source::Group(group.to_string()));
    }
    if sources.is_empty() {
        return Err(ProviderError::invalid(format!(
            "`{what}` needs a source: `cidr_blocks`, `ipv6_cidr_blocks` or `source_security_group_id`"
        )));
    }
    Ok(sources
        .into_iter()
        .map(|source| {
            let permission = Permission {
                protocol: protocol.clone(),
                from_port: from,
                to_port: to,
                source,
            };
            (permission, description.clone())
        })
        .collect())
}

/// Every permission of a list of rules from the stack (`prop` is `ingress` or `egress`).
fn desired_permissions(props: &Map, prop: &str) -> Result<Permissions> {
    let mut permissions = Permissions::new();
    let Some(rules) = given(props, prop) else {
        return Ok(permissions);
    };
    let rules = rules
        .as_list()
        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a list of rules")))?
        .to_vec();
    for (i, rule) in rules.iter().enumerate() {
        permissions.extend(expand(rule, &format!("{prop}[{i}]"))?);
    }
    Ok(permissions)
}

/// The permissions AWS lists for a group (its `IpPermissions` or `IpPermissionsEgress`).
fn aws_permissions(listed: &[IpPermission]) -> Permissions {
    let mut permissions = Permissions::new();
    for p in listed {
        let protocol = aws_protocol(p.ip_protocol().unwrap_or("-1"));
        let (from, to) = port_range(&protocol, p.from_port(), p.to_port());
        let mut add = |source: Source, description: Option<&str>| {
            let permission = Permission {
                protocol: protocol.clone(),
                from_port: from,
                to_port: to,
                source,
            };
            permissions.insert(permission, non_empty(description));
        };
        for r in p.ip_ranges() {
            if let Some(cidr) = r.cidr_ip() {
                add(Source::Cidr(cidr.to_string()), r.description());
            }
        }
        for r in p.ipv6_ranges() {
            if let Some(cidr) = r.cidr_ipv6() {
                add(Source::Ipv6(cidr.to_string()), r.description());
            }
        }
        for g in p.user_id_group_pairs() {
            if let Some(group) = g.group_id() {
                add(Source::Group(group.to_string()), g.description());
            }
        }
        for l in p.prefix_list_ids() {
            if let Some(list) = l.prefix_list_id() {
                add(Source::PrefixList(list.to_string()), l.description());
            }
        }
    }
    permissions
}

/// The `IpPermission` that authorizes or revokes one permission.
fn ip_permission(permission: &Permission, description: Option<&String>) -> IpPermission {
    let description = description.cloned();
    let builder = IpPermission::builder()
        .ip_protocol(&permission.protocol)
        .set_from_port(permission.from_port)
        .set_to_port(permission.to_port);
    match &permission.source {
        Source::Cidr(cidr) => builder.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .set_description(description)
                .build(),
        ),
        Source::Ipv6(cidr) => builder.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(cidr)
                .set_description(description)
                .build(),
        ),
        Source::Group(group) => builder.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(group)
                .set_description(description)
                .build(),
        ),
        Source::PrefixList(list) => builder.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(list)
                .set_description(description)
                .build(),
        ),
    }
    .build()
}

/// Permissions as the `IpPermission`s that authorize or revoke them.
fn ip_permissions(permissions: &Permissions) -> Vec<IpPermission> {
    permissions
        .iter()
        .map(|(p, d)| ip_permission(p, d.as_ref()))
        .collect()
}

/// What an update does to one direction's rules: revoke what the stack no longer has,
/// authorize what AWS does not have, re-describe what only changed its description.
#[derive(Debug, Default, PartialEq)]
struct RuleChanges {
    revoke: Permissions,
    authorize: Permissions,
    describe: Permissions,
}

impl RuleChanges {
    fn between(actual: &Permissions, desired: &Permissions) -> RuleChanges {
        let mut changes = RuleChanges::default();
        for (permission, description) in actual {
            if !desired.contains_key(permission) {
                changes
                    .revoke
                    .insert(permission.clone(), description.clone());
            }
        }
        for (permission, description) in desired {
            match actual.get(permission) {
                None => {
                    changes
                        .authorize
                        .insert(permission.clone(), description.clone());
                }
                Some(now) if now != description => {
                    changes
                        .describe
                        .insert(permission.clone(), description.clone());
                }
                Some(_) => {}
            }
        }
        changes
    }
}

/// What makes a new group's egress rules `desired`, without reading the group. AWS gives a
/// new group in a VPC an allow-all IPv4 rule, and an allow-all IPv6 rule when the VPC has an
/// IPv6 block, which only a read would tell. Revoking a rule a group lacks is no error (AWS
/// lists it among the answer's `UnknownIpPermissions`; terraform-provider-aws revokes both
/// defaults so too), so the IPv6 default is revoked whatever, and authorized again when the
/// stack lists it.
fn new_group_egress(desired: &Permissions) -> RuleChanges {
    let all_traffic = |source| Permission {
        protocol: "-1".into(),
        from_port: None,
        to_port: None,
        source,
    };
    let given = Permissions::from([(all_traffic(Source::Cidr("0.0.0.0/0".into())), None)]);
    let mut changes = RuleChanges::between(&given, desired);
    changes
        .revoke
        .insert(all_traffic(Source::Ipv6("::/0".into())), None);
    changes
}

/// The stack's rule for a group of permissions sharing protocol, ports and description.
fn rule_value(
    protocol: &str,
    from: Option<i32>,
    to: Option<i32>,
    description: Option<&String>,
) -> Map {
    let mut rule = Map::from([("protocol".to_string(), Value::str(stack_protocol(protocol)))]);
    if let Some(from) = from {
        rule.insert("from_port".into(), Value::int(from.into()));
    }
    if let Some(to) = to {
        rule.insert("to_port".into(), Value::int(to.into()));
    }
    if let Some(description) = description {
        rule.insert("description".into(), Value::str(description));
    }
    rule
}

/// Permissions as rules in a canonical order: one rule per protocol, ports and description
/// holding its CIDR blocks (sorted), then one rule per source group.
fn canonical_rules(permissions: &Permissions) -> Vec<Value> {
    type Key<'a> = (&'a str, Option<i32>, Option<i32>, Option<&'a String>);
    let mut grouped: BTreeMap<Key<'_>, Vec<&Source>> = BTreeMap::new();
    for (p, description) in permissions {
        grouped
            .entry((&p.protocol, p.from_port, p.to_port, description.as_ref()))
            .or_default()
            .push(&p.source);
    }
    let mut rules = Vec::new();
    for ((protocol, from, to, description), sources) in grouped {
        let base = rule_value(protocol, from, to, description);
        let mut blocks = base.clone();
        let mut has_blocks = false;
        for (field, pick) in [
            (
                "cidr_blocks",
                (|s: &Source| matches!(s, Source::Cidr(_))) as fn(&Source) -> bool,
            ),
            ("ipv6_cidr_blocks", |s: &Source| {
                matches!(s, Source::Ipv6(_))
            }),
        ] {
            let list: Vec<Value> = sources
                .iter()
                .filter(|s| pick(s))
                .filter_map(|s| match s {
                    Source::Cidr(c) | Source::Ipv6(c) => Some(Value::str(c)),
                    _ => None,
                })
                .collect();
            if !list.is_empty() {
                has_blocks = true;
                blocks.insert(field.into(), Value::List(list));
            }
        }
        if has_blocks {
            rules.push(Value::Map(blocks));
        }
        for source in &sources {
            match source {
                Source::Group(group) => {
                    let mut rule = base.clone();
                    rule.insert("source_security_group_id".into(), Value::str(group));
                    rules.push(Value::Map(rule));
                }
                // No stack field names a prefix list: the rule reads back without a source,
                // which differs from every rule a stack can write.
                Source::PrefixList(_) => rules.push(Value::Map(base.clone())),
                Source::Cidr(_) | Source::Ipv6(_) => {}
            }
        }
    }
    rules
}

/// AWS's rules as the `ingress` or `egress` list, in the order the stack last wrote them.
///
/// The planner compares lists element by element, and AWS returns rules grouped its own way
/// and in no promised order. Each rule of `prior` whose permissions AWS all has (with the same
/// descriptions) is given back as the stack wrote it, in the stack's order; what AWS has beyond
/// them follows in [`canonical_rules`] order. So when AWS has exactly the stack's set the list
/// is equal to the stack's, and when it does not, the list differs where it should.
fn rules_value(actual: &Permissions, prior: Option<&[Value]>) -> Value {
    let mut unclaimed = actual.clone();
    let mut rules = Vec::new();
    for rule in prior.unwrap_or_default() {
        let Ok(permissions) = expand(rule, "rule") else {
            continue;
        };
        if permissions
            .iter()
            .all(|(p, description)| actual.get(p) == Some(description))
        {
            for (p, _) in &permissions {
                unclaimed.remove(p);
            }
            rules.push(rule.unmarked());
        }
    }
    rules.extend(canonical_rules(&unclaimed));
    Value::List(rules)
}

/// True when the stack manages the group's egress rules (it wrote `egress`), or when nothing
/// is known of the stack (an import), so that what AWS has is shown.
fn manages_egress(prior: &Map) -> bool {
    prior.is_empty() || given(prior, "egress").is_some()
}

/// The group in the stack's terms; `prior` is what the stack last applied.
fn resource(ec2: &Ec2, group: &SecurityGroup, prior: &Map) -> Result<Resource> {
    let id = group
        .group_id()
        .ok_or_else(|| ProviderError::invalid("EC2 returned a security group without an id"))?;
    let name = group.group_name().unwrap_or_default();
    let mut properties = Map::new();
    if let Some(vpc) = group.vpc_id() {
        properties.insert("vpc_id".into(), Value::str(vpc));
    }
    properties.insert("name".into(), Value::str(name));
    if let Some(description) = group.description() {
        properties.insert("description".into(), Value::str(description));
    }
    properties.insert(
        "ingress".into(),
        rules_value(
            &aws_permissions(group.ip_permissions()),
            list_of(prior, "ingress"),
        ),
    );
    if manages_egress(prior) {
        properties.insert(
            "egress".into(),
            rules_value(
                &aws_permissions(group.ip_permissions_egress()),
                list_of(prior, "egress"),
            ),
        );
    }
    properties.insert("tags".into(), tags_from_aws(group.tags()));
    let arn = match group.security_group_arn() {
        Some(arn) => arn.to_string(),
        None => ec2.arn(group.owner_id(), "security-group", id)?,
    };
    Ok(Resource {
        id: id.to_string(),
        properties,
        attributes: Map::from([
            ("id".to_string(), Value::str(id)),
            ("arn".to_string(), Value::str(arn)),
            ("name".to_string(), Value::str(name)),
        ]),
    })
}

/// Which of a group's rule sets an API call changes.
#[derive(Clone, Copy, Debug)]
enum Direction {
    Ingress,
    Egress,
}

/// Manages security groups with their rules; the id is the group id.
pub struct SecurityGroupProvider {
    schema: TypeSchema,
    ec2: Ec2,
}

impl SecurityGroupProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ec2: Ec2::new(ctx),
        }
    }

    async fn describe_one(&self, id: &str) -> Result<Option<SecurityGroup>> {
        self.ec2.describe_one(id).await
    }

    async fn read_one(&self, id: &str, prior: &Map) -> Result<Option<Resource>> {
        self.ec2
            .read_one(id, |group| resource(&self.ec2, group, prior).map(Some))
            .await
    }

    /// Makes one direction's `changes`: revokes first (so a group at its rule limit can take
    /// the new rules), then authorizes, then re-describes. This group, when EC2 does not show
    /// it everywhere yet, is waited out for `not_found`: a group created a moment ago.
    async fn set_rules(
        &self,
        id: &str,
        direction: Direction,
        changes: &RuleChanges,
        not_found: Duration,
    ) -> Result<()> {
        // The six calls differ only in their builder type: each is sent the same way.
        macro_rules! send {
            ($call:ident, $permissions:expr) => {
                with_backoff(
                    not_found,
                    |e| names_missing(e, id, GROUP_NOT_FOUND),
                    || async move {
                        self.ec2
                            .client
                            .$call()
                            .group_id(id)
                            .set_ip_permissions(Some(ip_permissions($permissions)))
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(api_error)
                    },
                )
                .await
            };
        }
        if !changes.revoke.is_empty() {
            match direction {
                Direction::Ingress => send!(revoke_security_group_ingress, &changes.revoke),
                Direction::Egress => send!(revoke_security_group_egress, &changes.revoke),
            }?;
        }
        if !changes.authorize.is_empty() {
            match direction {
                Direction::Ingress => send!(authorize_security_group_ingress, &changes.authorize),
                Direction::Egress => send!(authorize_security_group_egress, &changes.authorize),
            }?;
        }
        if !changes.describe.is_empty() {
            match direction {
                Direction::Ingress => send!(
                    update_security_group_rule_descriptions_ingress,
                    &changes.describe
                ),
                Direction::Egress => send!(
                    update_security_group_rule_descriptions_egress,
                    &changes.describe
                ),
            }?;
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for SecurityGroupProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the group tagged, then authorizes its ingress rules and, when the stack writes
    /// `egress`, makes the egress rules exactly those (see [`new_group_egress`]), the two
    /// directions at once. Records the group as the create was asked for it, with the ARN
    /// `CreateSecurityGroup` answered and the rules just set: nothing is read back.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let ingress = desired_permissions(props, "ingress")?;
        let egress = match given(props, "egress") {
            Some(_) => Some(desired_permissions(props, "egress")?),
            None => None,
        };
        let description = desired(&self.schema, props, "description")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_DESCRIPTION.to_string());
        let name = required_str(props, "name")?;
        let vpc = required_str(props, "vpc_id")?;
        let out = self
            .ec2
            .client
            .create_security_group()
            .group_name(&name)
            .description(&description)
            .vpc_id(&vpc)
            .set_tag_specifications(
                tag_specification(ResourceType::SecurityGroup, props)?.map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(api_error)?;
        let id = out
            .group_id()
            .ok_or_else(|| ProviderError::invalid("CreateSecurityGroup returned no group id"))?
            .to_string();
        let arn = out.security_group_arn;
        after_made(&id, async {
            let ingress_changes = RuleChanges::between(&Permissions::new(), &ingress);
            let egress_changes = egress.as_ref().map(new_group_egress);
            futures::try_join!(
                self.set_rules(
                    &id,
                    Direction::Ingress,
                    &ingress_changes,
                    PROPAGATION.timeout
                ),
                async {
                    match &egress_changes {
                        Some(changes) => {
                            self.set_rules(&id, Direction::Egress, changes, PROPAGATION.timeout)
                                .await
                        }
                        None => Ok(()),
                    }
                }
            )?;
            // An EC2 that does not answer the ARN: it is built from the owner a read gives.
            let owner = match &arn {
                Some(_) => None,
                None => {
                    read_back("security group", &id, || self.describe_one(&id))
                        .await?
                        .owner_id
                }
            };
            let group = SecurityGroup::builder()
                .group_id(&id)
                .group_name(name)
                .description(description)
                .vpc_id(vpc)
                .set_security_group_arn(arn)
                .set_owner_id(owner)
                .set_ip_permissions(Some(ip_permissions(&ingress)))
                .set_ip_permissions_egress(egress.as_ref().map(ip_permissions))
                .set_tags(Some(requested_tags(props)?))
                .build();
            resource(&self.ec2, &group, props)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.read_one(&req.id, &req.prior_properties).await
    }

    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        self.ec2
            .read_many(&reqs, |group, req| {
                resource(&self.ec2, group, &req.prior_properties).map(Some)
            })
            .await
    }

    /// Changes exactly the rules that differ from what AWS has now; never replaces the group.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let changes_rules = req.changed.iter().any(|p| p == "ingress" || p == "egress");
        let group = if changes_rules {
            Some(self.describe_one(&req.id).await?.ok_or_else(|| {
                ProviderError::invalid(format!("security group {} no longer exists", req.id))
            })?)
        } else {
            None
        };
        for prop in &req.changed {
            match (prop.as_str(), &group) {
                ("ingress", Some(group)) => {
                    let desired = desired_permissions(&req.properties, "ingress")?;
                    let changes =
                        RuleChanges::between(&aws_permissions(group.ip_permissions()), &desired);
                    self.set_rules(&req.id, Direction::Ingress, &changes, Duration::ZERO)
                        .await?;
                }
                // An `egress` the stack stopped writing is no longer managed: left as it is.
                ("egress", Some(group)) => {
                    if given(&req.properties, "egress").is_some() {
                        let desired = desired_permissions(&req.properties, "egress")?;
                        let actual = aws_permissions(group.ip_permissions_egress());
                        let changes = RuleChanges::between(&actual, &desired);
                        self.set_rules(&req.id, Direction::Egress, &changes, Duration::ZERO)
                            .await?;
                    }
                }
                ("tags", _) => {
                    self.ec2
                        .update_tags(&req.id, &req.prior_properties, &req.properties)
                        .await?
                }
                (other, _) => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        read_back("security group", &req.id, || {
            self.read_one(&req.id, &req.properties)
        })
        .await
    }

    /// Deletes the group, retrying while AWS still counts references to it that are going
    /// away; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let id = req.id.as_str();
        delete_with_backoff(
            GROUP_DEPENDENCY_BUDGET,
            DEPENDENCY_VIOLATION,
            GROUP_NOT_FOUND,
            || async move {
                self.ec2
                    .client
                    .delete_security_group()
                    .group_id(id)
                    .send()
                    .await
                    .map_err(api_error)
            },
        )
        .await
    }

    /// Finds the group by its strata tags.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        match self.ec2.tagged_id::<SecurityGroup>(TYPE_NAME, &req).await? {
            Some(id) => self.read_one(&id, &req.properties).await,
            None => Ok(None),
        }
    }
}

/// What the loader checks of a security group's rules (`TypeSchema::check`): a protocol,
/// ports where it has them, a source.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        desired_permissions(props, "ingress")?;
        desired_permissions(props, "egress")?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: serde_json::Value) -> Value {
        Value::from_json(json)
    }

    fn rules(json: serde_json::Value) -> Vec<Value> {
        match value(json) {
            Value::List(items) => items,
            other => panic!("not a list: {other}"),
        }
    }

    fn permissions_of(list: &[Value]) -> Permissions {
        let props = Map::from([("ingress".to_string(), Value::List(list.to_vec()))]);
        desired_permissions(&props, "ingress").unwrap()
    }

    /// What AWS would list for the rules: one `IpPermission` per protocol and port range
    /// holding all its sources, groups and sources in reverse order.
    fn as_aws_lists_them(permissions: &Permissions) -> Permissions {
        type Ports = (String, Option<i32>, Option<i32>);
        let mut by_ports: BTreeMap<Ports, Vec<IpPermission>> = BTreeMap::new();
        for (p, d) in permissions {
            by_ports
                .entry((p.protocol.clone(), p.from_port, p.to_port))
                .or_default()
                .push(ip_permission(p, d.as_ref()));
        }
        let mut listed = Vec::new();
        for ((protocol, from, to), parts) in by_ports {
            let mut merged = IpPermission::builder()
                .ip_protocol(protocol)
                .set_from_port(from)
                .set_to_port(to);
            for part in parts.iter().rev() {
                for r in part.ip_ranges() {
                    merged = merged.ip_ranges(r.clone());
                }
                for r in part.ipv6_ranges() {
                    merged = merged.ipv6_ranges(r.clone());
                }
                for g in part.user_id_group_pairs() {
                    merged = merged.user_id_group_pairs(g.clone());
                }
            }
            listed.push(merged.build());
        }
        listed.reverse();
        aws_permissions(&listed)
    }

    #[test]
    fn rules_read_back_in_the_stack_order_when_aws_has_the_same_set() {
        let stack = rules(serde_json::json!([
            { "protocol": "tcp", "from_port": 8080, "to_port": 8080, "source_security_group_id": "sg-web" },
            { "protocol": "tcp", "from_port": 443, "to_port": 443,
              "cidr_blocks": ["10.0.0.0/8", "0.0.0.0/0"], "description": "HTTPS" },
            { "protocol": "all", "from_port": 0, "to_port": 0, "cidr_blocks": ["192.168.0.0/16"] },
        ]));
        let actual = as_aws_lists_them(&permissions_of(&stack));
        // The planner compares lists element by element: this equality is "no changes".
        assert_eq!(
            rules_value(&actual, Some(&stack)),
            Value::List(stack.clone())
        );
    }

    #[test]
    fn a_rule_aws_lacks_makes_the_list_differ() {
        let stack = rules(serde_json::json!([
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"] },
            { "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"] },
        ]));
        let actual = permissions_of(&stack[..1]);
        assert_eq!(
            rules_value(&actual, Some(&stack)),
            Value::List(stack[..1].to_vec())
        );
    }

    #[test]
    fn rules_aws_has_beyond_the_stack_follow_in_canonical_order() {
        let stack = rules(serde_json::json!([
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"] },
        ]));
        let mut actual = permissions_of(&stack);
        actual.extend(permissions_of(&rules(serde_json::json!([
            { "protocol": "udp", "from_port": 53, "to_port": 53, "cidr_blocks": ["10.1.0.0/16", "10.0.0.0/16"] },
            { "protocol": "tcp", "from_port": 22, "to_port": 22, "source_security_group_id": "sg-b" },
            { "protocol": "tcp", "from_port": 22, "to_port": 22, "source_security_group_id": "sg-a" },
        ]))));
        let read = rules_value(&actual, Some(&stack));
        let expected = rules(serde_json::json!([
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"] },
            { "protocol": "tcp", "from_port": 22, "to_port": 22, "source_security_group_id": "sg-a" },
            { "protocol": "tcp", "from_port": 22, "to_port": 22, "source_security_group_id": "sg-b" },
            { "protocol": "udp", "from_port": 53, "to_port": 53, "cidr_blocks": ["10.0.0.0/16", "10.1.0.0/16"] },
        ]));
        assert_eq!(read, Value::List(expected.clone()));
        // Without a prior order, the same canonical order: stable from one plan to the next.
        let unordered = rules_value(&actual, None);
        let Value::List(items) = unordered else {
            panic!()
        };
        assert_eq!(items.len(), 4);
        assert_eq!(rules_value(&actual, Some(&items)), Value::List(items));
    }

    #[test]
    fn a_changed_description_is_a_difference() {
        let stack = rules(serde_json::json!([
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"], "description": "new" },
        ]));
        let actual = permissions_of(&rules(serde_json::json!([
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"], "description": "old" },
        ])));
        assert_ne!(
            rules_value(&actual, Some(&stack)),
            Value::List(stack.clone())
        );
        let changes = RuleChanges::between(&actual, &permissions_of(&stack));
        assert!(changes.revoke.is_empty() && changes.authorize.is_empty());
        assert_eq!(changes.describe.len(), 1);
    }

    #[test]
    fn a_rule_change_revokes_and_authorizes_only_the_permissions_that_differ() {
        let before = permissions_of(&rules(serde_json::json!([
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0", "10.0.0.0/8"] },
        ])));
        let after = permissions_of(&rules(serde_json::json!([
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"] },
            { "protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_blocks": ["0.0.0.0/0"] },
        ])));
        let changes = RuleChanges::between(&before, &after);
        let sources = |p: &Permissions| -> Vec<(Option<i32>, Source)> {
            p.keys().map(|k| (k.from_port, k.source.clone())).collect()
        };
        assert_eq!(
            sources(&changes.revoke),
            vec![(Some(443), Source::Cidr("10.0.0.0/8".into()))]
        );
        assert_eq!(
            sources(&changes.authorize),
            vec![(Some(80), Source::Cidr("0.0.0.0/0".into()))]
        );
        assert!(changes.describe.is_empty());
    }

    #[test]
    fn protocol_all_is_aws_minus_one_without_ports() {
        let stack = rules(serde_json::json!([{ "protocol": "all", "cidr_blocks": ["0.0.0.0/0"] }]));
        let aws = aws_permissions(&[IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build()]);
        assert_eq!(permissions_of(&stack), aws);
        assert_eq!(canonical_rules(&aws), stack);
    }

    #[test]
    fn rules_without_ports_or_sources_are_refused() {
        let props = |rule: serde_json::Value| {
            Map::from([("ingress".to_string(), value(serde_json::json!([rule])))])
        };
        let no_ports =
            props(serde_json::json!({ "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"] }));
        assert!(desired_permissions(&no_ports, "ingress").is_err());
        let no_source =
            props(serde_json::json!({ "protocol": "tcp", "from_port": 1, "to_port": 2 }));
        assert!(desired_permissions(&no_source, "ingress").is_err());
    }

    #[test]
    fn a_new_groups_egress_keeps_the_default_rule_the_stack_lists_and_revokes_the_others() {
        let changes = |json: serde_json::Value| {
            let props = Map::from([("egress".to_string(), value(json))]);
            new_group_egress(&desired_permissions(&props, "egress").unwrap())
        };
        let sources = |p: &Permissions| -> Vec<(String, Source)> {
            p.keys()
                .map(|k| (k.protocol.clone(), k.source.clone()))
                .collect()
        };
        let all = |source: Source| ("-1".to_string(), source);
        let v4 = || Source::Cidr("0.0.0.0/0".into());
        let v6 = || Source::Ipv6("::/0".into());

        let keeps = changes(serde_json::json!([
            { "protocol": "all", "cidr_blocks": ["0.0.0.0/0"] },
            { "protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.0.0.0/16"] },
        ]));
        assert_eq!(sources(&keeps.revoke), vec![all(v6())]);
        assert_eq!(
            sources(&keeps.authorize),
            vec![("tcp".to_string(), Source::Cidr("10.0.0.0/16".into()))]
        );
        assert!(keeps.describe.is_empty());

        let replaces = changes(serde_json::json!([
            { "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"] },
        ]));
        assert_eq!(sources(&replaces.revoke), vec![all(v4()), all(v6())]);
        assert_eq!(
            sources(&replaces.authorize),
            vec![("tcp".to_string(), v4())]
        );

        // The IPv6 default may or may not be there: revoked, then authorized again.
        let ipv6 =
            changes(serde_json::json!([{ "protocol": "all", "ipv6_cidr_blocks": ["::/0"] }]));
        assert_eq!(sources(&ipv6.revoke), vec![all(v4()), all(v6())]);
        assert_eq!(sources(&ipv6.authorize), vec![all(v6())]);

        // A description on the default rule is set on the rule AWS made.
        let described = changes(serde_json::json!([
            { "protocol": "all", "cidr_blocks": ["0.0.0.0/0"], "description": "out" },
        ]));
        assert_eq!(sources(&described.revoke), vec![all(v6())]);
        assert!(described.authorize.is_empty());
        assert_eq!(sources(&described.describe), vec![all(v4())]);
    }

    #[test]
    fn egress_is_read_only_when_the_stack_manages_it() {
        assert!(!manages_egress(&Map::from([(
            "vpc_id".to_string(),
            Value::str("vpc-1")
        )])));
        assert!(manages_egress(&Map::from([(
            "egress".to_string(),
            Value::List(vec![])
        )])));
        assert!(manages_egress(&Map::new()));
    }
}
