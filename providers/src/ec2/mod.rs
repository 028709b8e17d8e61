//! The `aws.ec2.*` resource types: a VPC and what a network is built of.
//!
//! EC2 resources have no names of their own (a security group's name is unique only within its
//! VPC), so strata finds what it created by the `strata:stack` and `strata:address` tags. Every
//! create passes the complete tag set in `TagSpecifications`: a resource is never untagged, not
//! even between its create and a later `CreateTags`, so an interrupted apply can always adopt it.
//!
//! What every EC2 type shares lives here: tags (one `CreateTags`/`DeleteTags` API for all of
//! them), the tag filters `find` uses, ARNs built from an owner id, the wait for a new resource
//! to become visible (EC2 is eventually consistent), and batched `Describe*` reads.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::types::{
    Address, Filter, InternetGateway, NatGateway, ResourceType, RouteTable, SecurityGroup, Subnet,
    Tag, TagSpecification, Vpc,
};
use stacks::{Map, TypeSchema, Value, ADDRESS_TAG, STACK_TAG};

use crate::aws::{api_error, AwsContext};
use crate::retry::wait_for;
use crate::tags::{tag_strings, tags_value, TagChanges};
use crate::{FindRequest, Provider, ProviderError, Result};

pub mod eip;
pub mod internet_gateway;
pub mod nat_gateway;
pub mod route_table;
pub mod security_group;
pub mod subnet;
pub mod vpc;

/// The schemas of this service's types.
pub fn schemas() -> Vec<TypeSchema> {
    vec![
        vpc::schema(),
        subnet::schema(),
        internet_gateway::schema(),
        eip::schema(),
        nat_gateway::schema(),
        route_table::schema(),
        security_group::schema(),
    ]
}

/// This service's providers, with clients built from `ctx`.
pub fn providers(ctx: &AwsContext) -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(vpc::VpcProvider::new(ctx)),
        Arc::new(subnet::SubnetProvider::new(ctx)),
        Arc::new(internet_gateway::InternetGatewayProvider::new(ctx)),
        Arc::new(eip::EipProvider::new(ctx)),
        Arc::new(nat_gateway::NatGatewayProvider::new(ctx)),
        Arc::new(route_table::RouteTableProvider::new(ctx)),
        Arc::new(security_group::SecurityGroupProvider::new(ctx)),
    ]
}

/// How long a resource EC2 just created may stay invisible to `Describe*` and to calls that
/// name it (EC2's API is eventually consistent; terraform-provider-aws waits 2 minutes too).
pub(crate) const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);
/// How often to look while waiting for a new resource to become visible.
pub(crate) const PROPAGATION_INTERVAL: Duration = Duration::from_secs(2);

/// How many ids one `Describe*` call is given: EC2 caps ids and filter values per request.
pub(crate) const IDS_PER_DESCRIBE: usize = 200;

/// Where strata's clients point and what ARNs it builds: shared by every EC2 provider.
#[derive(Clone, Debug)]
pub(crate) struct Ec2 {
    pub client: aws_sdk_ec2::Client,
    pub region: String,
    pub partition: &'static str,
}

impl Ec2 {
    pub fn new(ctx: &AwsContext) -> Ec2 {
        Ec2 {
            client: aws_sdk_ec2::Client::new(&ctx.sdk),
            region: ctx.region(),
            partition: ctx.partition(),
        }
    }

    /// `arn:PARTITION:ec2:REGION:OWNER:KIND/ID`: EC2 does not return ARNs for most types, so
    /// they are built as AWS documents them, from the owner account the resource reports.
    pub fn arn(&self, owner: Option<&str>, kind: &str, id: &str) -> Result<String> {
        let owner = owner
            .filter(|o| !o.is_empty())
            .ok_or_else(|| ProviderError::invalid(format!("EC2 returned no owner id for {id}")))?;
        Ok(format!(
            "arn:{}:ec2:{}:{owner}:{kind}/{id}",
            self.partition, self.region
        ))
    }

    /// Sets and removes only the tags that differ between the recorded and desired `tags`.
    /// One API tags every EC2 resource type.
    pub async fn update_tags(&self, id: &str, prior: &Map, desired: &Map) -> Result<()> {
        let changes = TagChanges::between(prior.get("tags"), desired.get("tags"))?;
        if !changes.remove.is_empty() {
            let keys = changes
                .remove
                .iter()
                .map(|k| Tag::builder().key(k).build())
                .collect();
            self.client
                .delete_tags()
                .resources(id)
                .set_tags(Some(keys))
                .send()
                .await
                .map_err(api_error)?;
        }
        if !changes.set.is_empty() {
            self.client
                .create_tags()
                .resources(id)
                .set_tags(Some(aws_tags(&changes.set)))
                .send()
                .await
                .map_err(api_error)?;
        }
        Ok(())
    }
}

fn aws_tags<'a>(tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The `TagSpecifications` entry that tags a resource as it is created, with the complete
/// desired tag set (the core has merged the stack's and the `strata:` tags into `tags`).
pub(crate) fn tag_specification(
    resource_type: ResourceType,
    props: &Map,
) -> Result<Option<TagSpecification>> {
    let tags = tag_strings(props.get("tags"))?;
    if tags.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        TagSpecification::builder()
            .resource_type(resource_type)
            .set_tags(Some(aws_tags(&tags)))
            .build(),
    ))
}

/// EC2's tag list as the `tags` property.
pub(crate) fn tags_from_aws(tags: &[Tag]) -> Value {
    tags_value(
        tags.iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))),
    )
}

/// The `Describe*` filters that select what strata created for `address` of `stack`.
pub(crate) fn strata_filters(stack: &str, address: &str) -> Vec<Filter> {
    [(STACK_TAG, stack), (ADDRESS_TAG, address)]
        .into_iter()
        .map(|(key, value)| {
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(value)
                .build()
        })
        .collect()
}

/// True when `tags` carry the strata tags of `address` of `stack`. Checked again after the
/// filtered `Describe*`, since not every implementation of it honours tag filters.
pub(crate) fn has_strata_tags(tags: &[Tag], stack: &str, address: &str) -> bool {
    let has = |key: &str, value: &str| {
        tags.iter()
            .any(|t| t.key() == Some(key) && t.value() == Some(value))
    };
    has(STACK_TAG, stack) && has(ADDRESS_TAG, address)
}

/// What `Describe*` lists of every EC2 type: an id and tags. With it, `describe` keys what it
/// found ([`by_id`]) and `find` picks the one object tagged for an address ([`tagged_id`]) the
/// same way for every type.
pub(crate) trait Described: Clone {
    fn ec2_id(&self) -> Option<&str>;
    fn ec2_tags(&self) -> &[Tag];
}

macro_rules! described {
    ($($object:ty => $id:ident),* $(,)?) => {$(
        impl Described for $object {
            fn ec2_id(&self) -> Option<&str> {
                self.$id()
            }

            fn ec2_tags(&self) -> &[Tag] {
                self.tags()
            }
        }
    )*};
}

described! {
    Vpc => vpc_id,
    Subnet => subnet_id,
    InternetGateway => internet_gateway_id,
    Address => allocation_id,
    NatGateway => nat_gateway_id,
    RouteTable => route_table_id,
    SecurityGroup => group_id,
}

/// What one `Describe*` call listed, keyed by id, as [`describe_many`] takes it.
pub(crate) fn by_id<T: Described>(listed: &[T]) -> Vec<(String, T)> {
    listed
        .iter()
        .filter_map(|object| Some((object.ec2_id()?.to_string(), object.clone())))
        .collect()
}

/// The id of the one object of `listed` (a `Describe*` filtered by [`strata_filters`]) that
/// carries the strata tags of the address `req` looks for; see [`only_one`].
pub(crate) fn tagged_id<'a, T: Described + 'a>(
    type_name: &str,
    listed: impl IntoIterator<Item = &'a T>,
    req: &FindRequest,
) -> Result<Option<String>> {
    let ids = listed
        .into_iter()
        .filter(|object| has_strata_tags(object.ec2_tags(), &req.stack, &req.address))
        .filter_map(|object| object.ec2_id().map(str::to_string))
        .collect();
    only_one(type_name, &req.address, ids)
}

/// A `Describe*` filter on one name.
pub(crate) fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

/// The one resource found by the strata tags. Two mean something other than strata made a
/// copy: adopting either would orphan the other, so that is an error for a person to settle.
pub(crate) fn only_one(
    type_name: &str,
    address: &str,
    mut ids: Vec<String>,
) -> Result<Option<String>> {
    ids.sort();
    ids.dedup();
    match ids.len() {
        0 => Ok(None),
        1 => Ok(ids.pop()),
        _ => Err(ProviderError::invalid(format!(
            "found {} {type_name} resources tagged for `{address}` ({}); delete the extra ones or \
             remove their `{ADDRESS_TAG}` tag",
            ids.len(),
            ids.join(", ")
        ))),
    }
}

/// Waits until a resource EC2 has just created (or changed) can be read back.
pub(crate) async fn read_back<T, F, Fut>(what: &str, id: &str, read: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    wait_for(
        &format!("{what} {id} to be readable"),
        PROPAGATION_TIMEOUT,
        PROPAGATION_INTERVAL,
        read,
    )
    .await
}

/// A copy of an error, for reporting one failed batch call against every id it named.
pub(crate) fn same_error(err: &ProviderError) -> ProviderError {
    match err {
        ProviderError::Api { code, message } => ProviderError::Api {
            code: code.clone(),
            message: message.clone(),
        },
        other => ProviderError::Transport(other.to_string()),
    }
}

/// Describes many resources with as few calls as EC2 allows: refresh reads a whole stack's
/// VPCs (or subnets, ...) in one `Describe*`. EC2 fails the whole call when one id no longer
/// exists, so a NotFound (`not_found` codes) falls back to one call per id, where it means
/// that one resource is gone. `describe` returns what it found, keyed by id.
pub(crate) async fn describe_many<T, F, Fut>(
    ids: &[String],
    not_found: &[&str],
    describe: F,
) -> Vec<Result<Option<T>>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<(String, T)>>>,
{
    let mut results: Vec<Result<Option<T>>> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_DESCRIBE) {
        match describe(chunk.to_vec()).await {
            Ok(found) => {
                let mut by_id: HashMap<String, T> = found.into_iter().collect();
                results.extend(chunk.iter().map(|id| Ok(by_id.remove(id))));
            }
            Err(e) if e.is_code(not_found) => {
                let one_by_one = chunk.iter().map(|id| {
                    let call = describe(vec![id.clone()]);
                    async move {
                        match call.await {
                            Ok(found) => {
                                Ok(found.into_iter().find(|(i, _)| i == id).map(|(_, t)| t))
                            }
                            Err(e) if e.is_code(not_found) => Ok(None),
                            Err(e) => Err(e),
                        }
                    }
                });
                results.extend(futures::future::join_all(one_by_one).await);
            }
            Err(e) => results.extend(chunk.iter().map(|_| Err(same_error(&e)))),
        }
    }
    results
}

/// The property `prop` of `props` as a list, when the stack gave one.
pub(crate) fn list_of<'a>(props: &'a Map, prop: &str) -> Option<&'a [Value]> {
    props.get(prop).and_then(Value::as_list)
}

/// A list of strings from the stack (`subnet_ids`, `cidr_blocks`), or an error naming it.
pub(crate) fn strings(value: &Value, what: &str) -> Result<Vec<String>> {
    let items = value
        .as_list()
        .ok_or_else(|| ProviderError::invalid(format!("`{what}` must be a list of strings")))?;
    items
        .iter()
        .map(|item| {
            item.as_str().map(str::to_string).ok_or_else(|| {
                ProviderError::invalid(format!(
                    "`{what}` must be a list of strings, not hold {}",
                    item.kind_name()
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_resources_tagged_for_one_address_are_an_error() {
        assert_eq!(only_one("aws.ec2.vpc", "vpc", vec![]).unwrap(), None);
        assert_eq!(
            only_one("aws.ec2.vpc", "vpc", vec!["vpc-1".into(), "vpc-1".into()]).unwrap(),
            Some("vpc-1".to_string())
        );
        let err = only_one("aws.ec2.vpc", "vpc", vec!["vpc-2".into(), "vpc-1".into()]).unwrap_err();
        assert!(err.to_string().contains("vpc-1, vpc-2"), "{err}");
    }
}
