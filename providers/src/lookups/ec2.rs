//! EC2 lookups: availability zones, a VPC, subnets, a security group. Each is one paginated
//! `Describe*` call with EC2's own filters, so a filter a person knows from the AWS CLI works
//! as it is (`filter: { vpc-id: vpc-123, "tag:Tier": private }`).

use aws_sdk_ec2::types::{Filter, Tag};
use stacks::schema::{LookupArg as Arg, LookupAttr as Attr, LookupSchema};
use stacks::{Map, Value};

use super::kit::{only, text, texts, Args, Failure, Found, LookupEntry, K};
use crate::aws::{api_error, sdk_client, AwsContext};
use crate::ec2::tags_from_aws;

pub const AVAILABILITY_ZONES: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.ec2.availability_zones",
        args: &[
            Arg::optional("all_availability_zones", K::Bool),
            Arg::optional("state", K::String),
            Arg::optional("exclude_names", K::Strings),
            Arg::optional("exclude_zone_ids", K::Strings),
            Arg::optional("filter", K::Filter),
        ],
        attributes: &[
            Attr::new("names", K::Strings),
            Attr::new("zone_ids", K::Strings),
            Attr::new("group_names", K::Strings),
        ],
    },
    about: "The availability zones of the region (by default those enabled for the account, \
            without Local and Wavelength zones), sorted by name.",
    actions: &["ec2:DescribeAvailabilityZones"],
};

pub const VPC: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.ec2.vpc",
        args: &[
            Arg::optional("id", K::String),
            Arg::optional("cidr_block", K::String),
            Arg::optional("default", K::Bool),
            Arg::optional("state", K::String),
            Arg::optional("tags", K::StringMap),
            Arg::optional("filter", K::Filter),
        ],
        attributes: &[
            Attr::new("id", K::String),
            Attr::new("arn", K::String),
            Attr::new("cidr_block", K::String),
            Attr::new("default", K::Bool),
            Attr::new("dhcp_options_id", K::String),
            Attr::new("instance_tenancy", K::String),
            Attr::new("owner_id", K::String),
            Attr::new("state", K::String),
            Attr::new("tags", K::StringMap),
        ],
    },
    about: "One VPC, by id, CIDR block, tags or EC2 filters.",
    actions: &["ec2:DescribeVpcs"],
};

pub const SUBNETS: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.ec2.subnets",
        args: &[
            Arg::optional("tags", K::StringMap),
            Arg::optional("filter", K::Filter),
        ],
        attributes: &[Attr::new("ids", K::Strings)],
    },
    about: "The ids of every subnet matching tags or EC2 filters (`vpc-id`, \
            `availability-zone`), sorted; none is not an error.",
    actions: &["ec2:DescribeSubnets"],
};

pub const SECURITY_GROUP: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.ec2.security_group",
        args: &[
            Arg::optional("id", K::String),
            Arg::optional("name", K::String),
            Arg::optional("vpc_id", K::String),
            Arg::optional("tags", K::StringMap),
            Arg::optional("filter", K::Filter),
        ],
        attributes: &[
            Attr::new("id", K::String),
            Attr::new("arn", K::String),
            Attr::new("name", K::String),
            Attr::new("description", K::String),
            Attr::new("vpc_id", K::String),
            Attr::new("owner_id", K::String),
            Attr::new("tags", K::StringMap),
        ],
    },
    about: "One security group, by id, name, VPC, tags or EC2 filters.",
    actions: &["ec2:DescribeSecurityGroups"],
};

/// EC2 filters from the arguments that map onto one (`id` onto `vpc-id`, ...), then the
/// `filter` and `tags` arguments.
fn ec2_filters(args: &Args, named: &[(&str, &str)]) -> Result<Vec<Filter>, Failure> {
    let mut pairs = Vec::new();
    for (arg, filter) in named {
        let values = args.strings(arg)?;
        if !values.is_empty() {
            pairs.push((filter.to_string(), values));
        }
    }
    pairs.extend(args.filters()?);
    Ok(pairs
        .into_iter()
        .map(|(name, values)| {
            Filter::builder()
                .name(name)
                .set_values(Some(values))
                .build()
        })
        .collect())
}

/// `arn:PARTITION:ec2:REGION:OWNER:KIND/ID`, as Terraform builds it.
fn ec2_arn(ctx: &AwsContext, owner: Option<&str>, kind: &str, id: &str) -> Value {
    Value::String(format!(
        "arn:{}:ec2:{}:{}:{kind}/{id}",
        ctx.partition(),
        ctx.region(),
        owner.unwrap_or_default()
    ))
}

fn tags(tags: &[Tag]) -> Value {
    tags_from_aws(tags)
}

pub(crate) async fn availability_zones(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let ec2 = sdk_client!(aws_sdk_ec2, ctx);
    let mut call = ec2
        .describe_availability_zones()
        .set_filters(Some(ec2_filters(args, &[("state", "state")])?));
    if let Some(all) = args.bool("all_availability_zones")? {
        call = call.all_availability_zones(all);
    }
    let out = call.send().await.map_err(api_error)?;
    let (exclude_names, exclude_ids) = (
        args.strings("exclude_names")?,
        args.strings("exclude_zone_ids")?,
    );
    let mut zones: Vec<_> = out
        .availability_zones()
        .iter()
        .filter(|z| {
            !exclude_names
                .iter()
                .any(|n| Some(n.as_str()) == z.zone_name())
        })
        .filter(|z| !exclude_ids.iter().any(|n| Some(n.as_str()) == z.zone_id()))
        .collect();
    zones.sort_by_key(|z| z.zone_name().unwrap_or_default().to_string());
    let mut groups: Vec<&str> = zones.iter().filter_map(|z| z.group_name()).collect();
    groups.sort_unstable();
    groups.dedup();
    Ok(Map::from([
        (
            "names".into(),
            texts(zones.iter().filter_map(|z| z.zone_name())),
        ),
        (
            "zone_ids".into(),
            texts(zones.iter().filter_map(|z| z.zone_id())),
        ),
        ("group_names".into(), texts(groups)),
    ]))
}

pub(crate) async fn vpc(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let ec2 = sdk_client!(aws_sdk_ec2, ctx);
    let filters = ec2_filters(
        args,
        &[
            ("id", "vpc-id"),
            ("cidr_block", "cidr"),
            ("default", "is-default"),
            ("state", "state"),
        ],
    )?;
    let mut found = Vec::new();
    let mut pages = ec2
        .describe_vpcs()
        .set_filters(Some(filters))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        found.extend(page.map_err(api_error)?.vpcs().iter().cloned());
    }
    let vpc = only(found, |v| v.vpc_id().unwrap_or_default().to_string())?;
    let id = vpc.vpc_id().unwrap_or_default();
    Ok(Map::from([
        ("id".into(), Value::str(id)),
        ("arn".into(), ec2_arn(ctx, vpc.owner_id(), "vpc", id)),
        ("cidr_block".into(), text(vpc.cidr_block())),
        (
            "default".into(),
            Value::Bool(vpc.is_default().unwrap_or(false)),
        ),
        ("dhcp_options_id".into(), text(vpc.dhcp_options_id())),
        (
            "instance_tenancy".into(),
            text(vpc.instance_tenancy().map(|t| t.as_str())),
        ),
        ("owner_id".into(), text(vpc.owner_id())),
        ("state".into(), text(vpc.state().map(|s| s.as_str()))),
        ("tags".into(), tags(vpc.tags())),
    ]))
}

pub(crate) async fn subnets(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let ec2 = sdk_client!(aws_sdk_ec2, ctx);
    let mut ids = Vec::new();
    let mut pages = ec2
        .describe_subnets()
        .set_filters(Some(ec2_filters(args, &[])?))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(api_error)?;
        ids.extend(
            page.subnets()
                .iter()
                .filter_map(|s| s.subnet_id().map(str::to_string)),
        );
    }
    ids.sort();
    Ok(Map::from([("ids".into(), texts(ids))]))
}

pub(crate) async fn security_group(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let ec2 = sdk_client!(aws_sdk_ec2, ctx);
    let filters = ec2_filters(
        args,
        &[
            ("id", "group-id"),
            ("name", "group-name"),
            ("vpc_id", "vpc-id"),
        ],
    )?;
    let mut found = Vec::new();
    let mut pages = ec2
        .describe_security_groups()
        .set_filters(Some(filters))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        found.extend(page.map_err(api_error)?.security_groups().iter().cloned());
    }
    let group = only(found, |g| g.group_id().unwrap_or_default().to_string())?;
    let id = group.group_id().unwrap_or_default();
    Ok(Map::from([
        ("id".into(), Value::str(id)),
        (
            "arn".into(),
            ec2_arn(ctx, group.owner_id(), "security-group", id),
        ),
        ("name".into(), text(group.group_name())),
        ("description".into(), text(group.description())),
        ("vpc_id".into(), text(group.vpc_id())),
        ("owner_id".into(), text(group.owner_id())),
        ("tags".into(), tags(group.tags())),
    ]))
}
