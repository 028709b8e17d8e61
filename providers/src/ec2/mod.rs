//! The `aws.ec2.*` resource types: a VPC and what a network is built of.
//!
//! EC2 resources have no names of their own (a security group's name is unique only within its
//! VPC), so strata finds what it created by the `strata:stack` and `strata:address` tags. Every
//! create passes the complete tag set in `TagSpecifications`: a resource is never untagged, not
//! even between its create and a later `CreateTags`, so an interrupted apply can always adopt it.
//!
//! What every EC2 type shares lives here: tags (one `CreateTags`/`DeleteTags` API for all of
//! them), ARNs built from an owner id, the wait for a new resource to become visible (EC2 is
//! eventually consistent), and, through [`Ec2Object`], reading by ids with batched `Describe*`
//! calls and finding what strata tagged. A type's own file says how its `Describe*` call is
//! made and how what it lists reads in the stack's terms.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use stacks::{Map, Value, ADDRESS_TAG, STACK_TAG};

use crate::aws::{api_error, AwsContext};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{tag_strings, tags_value, TagApi};
use crate::{FindRequest, ProviderError, ReadRequest, Resource, Result};

pub mod eip;
pub mod flow_log;
pub mod internet_gateway;
pub mod nat_gateway;
pub mod network_acl;
pub mod route_table;
pub mod security_group;
pub mod subnet;
pub mod vpc;
pub mod vpc_endpoint;

/// How long a resource EC2 just created may stay invisible to `Describe*` and to calls that
/// name it (EC2's API is eventually consistent; terraform-provider-aws waits 2 minutes too),
/// looking every 2 s.
pub(crate) const PROPAGATION: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(2),
};

/// Calls `op`, a call naming the EC2 object `id` a create made a moment ago, until EC2 stops
/// answering that `id` is not found (one of the `not_found` codes, naming it), within
/// [`PROPAGATION`]: EC2 is eventually consistent, so an object a create has just answered may
/// not be known everywhere yet, and AWS documents retrying. Another object not found (a wrong
/// id in the stack) fails at once.
pub(crate) async fn once_visible<T, F, Fut>(id: &str, not_found: &[&str], op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    with_backoff(PROPAGATION.timeout, |e| names_missing(e, id, not_found), op).await
}

/// True when `err` says that `id` does not exist: a `not_found` code whose message names it.
pub(crate) fn names_missing(err: &ProviderError, id: &str, not_found: &[&str]) -> bool {
    err.is_code(not_found) && err.to_string().contains(id)
}

/// How many ids one `Describe*` call is given: EC2 caps ids and filter values per request.
pub(crate) const IDS_PER_DESCRIBE: usize = 200;

/// How EC2 refuses to delete (or detach) what something else still uses; the users of a
/// network often go away moments before, so deletes retry it within a budget.
pub(crate) const DEPENDENCY_VIOLATION: &[&str] = &["DependencyViolation"];

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
            client: crate::aws::sdk_client!(aws_sdk_ec2, ctx),
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
        let api = Ec2Tags {
            client: &self.client,
            id,
        };
        crate::tags::reconcile(&api, prior, desired).await
    }

    /// Describes objects of one type by id with as few calls as EC2 allows (see
    /// [`describe_many`]): one result per id, in the order of `ids`.
    pub async fn describe<T: Ec2Object>(&self, ids: &[String]) -> Vec<Result<Option<T>>> {
        let client = &self.client;
        describe_many(ids, T::NOT_FOUND, |ids| async move {
            let listed = T::describe(client, Query::ids(ids)).await?;
            Ok(keyed(listed))
        })
        .await
    }

    /// Describes one object by id; `None` when EC2 does not have it.
    pub async fn describe_one<T: Ec2Object>(&self, id: &str) -> Result<Option<T>> {
        self.describe(&[id.to_string()])
            .await
            .pop()
            .unwrap_or(Ok(None))
    }

    /// Reads one resource: describes its object and gives it to `resource` (the type's own
    /// translation into the stack's terms, which may say the object no longer counts).
    pub async fn read_one<T: Ec2Object>(
        &self,
        id: &str,
        resource: impl FnOnce(&T) -> Result<Option<Resource>>,
    ) -> Result<Option<Resource>> {
        match self.describe_one(id).await? {
            Some(object) => resource(&object),
            None => Ok(None),
        }
    }

    /// Reads many resources of one type in as few `Describe*` calls as EC2 allows; `resource`
    /// is given each object found with the request that asked for it.
    pub async fn read_many<T: Ec2Object>(
        &self,
        reqs: &[ReadRequest],
        resource: impl Fn(&T, &ReadRequest) -> Result<Option<Resource>>,
    ) -> Vec<Result<Option<Resource>>> {
        let ids: Vec<String> = reqs.iter().map(|r| r.id.clone()).collect();
        self.describe::<T>(&ids)
            .await
            .into_iter()
            .zip(reqs)
            .map(|(found, req)| match found? {
                Some(object) => resource(&object, req),
                None => Ok(None),
            })
            .collect()
    }

    /// The id of the one object of `type_name` that carries the strata tags of the address
    /// `req` looks for (see [`only_one`]), among those [`Ec2Object::adoptable`].
    pub async fn tagged_id<T: Ec2Object>(
        &self,
        type_name: &str,
        req: &FindRequest,
    ) -> Result<Option<String>> {
        let mut filters = strata_filters(&req.stack, &req.address);
        filters.extend(T::find_filters());
        let listed = T::describe(&self.client, Query::filters(filters)).await?;
        let ids = listed
            .iter()
            .filter(|object| object.adoptable())
            .filter(|object| has_strata_tags(object.ec2_tags(), &req.stack, &req.address))
            .filter_map(|object| object.ec2_id().map(str::to_string))
            .collect();
        only_one(type_name, &req.address, ids)
    }
}

/// EC2's tagging calls for one resource: `CreateTags` and `DeleteTags` take any EC2 id.
struct Ec2Tags<'a> {
    client: &'a aws_sdk_ec2::Client,
    id: &'a str,
}

#[async_trait]
impl TagApi for Ec2Tags<'_> {
    async fn tag(&self, tags: BTreeMap<String, String>) -> Result<()> {
        self.client
            .create_tags()
            .resources(self.id)
            .set_tags(Some(aws_tags(&tags)))
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn untag(&self, keys: Vec<String>) -> Result<()> {
        let keys = keys.iter().map(|k| Tag::builder().key(k).build()).collect();
        self.client
            .delete_tags()
            .resources(self.id)
            .set_tags(Some(keys))
            .send()
            .await
            .map_err(api_error)?;
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

/// The tags a create sent in `TagSpecifications`, as EC2 lists them: what the new object holds,
/// recorded without reading it back (EC2 tags an object with its whole tag set, or fails the
/// create).
pub(crate) fn requested_tags(props: &Map) -> Result<Vec<Tag>> {
    Ok(aws_tags(&tag_strings(props.get("tags"))?))
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
    let tag = stacks::address_tag(address);
    [(STACK_TAG, stack), (ADDRESS_TAG, tag.as_str())]
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
    has(STACK_TAG, stack) && has(ADDRESS_TAG, &stacks::address_tag(address))
}

/// What one `Describe*` call asks for: some ids, or what some filters select.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pub ids: Option<Vec<String>>,
    pub filters: Option<Vec<Filter>>,
}

impl Query {
    fn ids(ids: Vec<String>) -> Query {
        Query {
            ids: Some(ids),
            filters: None,
        }
    }

    fn filters(filters: Vec<Filter>) -> Query {
        Query {
            ids: None,
            filters: Some(filters),
        }
    }
}

/// An EC2 object type as its `Describe*` call lists it: how to make the call, how EC2 says an
/// id is not there, and the id and tags of what it lists. With it, reading by ids (batched,
/// see [`Ec2::describe`]) and finding what strata tagged (see [`Ec2::tagged_id`]) are written
/// once for every EC2 type; each type's file says only this, with [`ec2_object!`].
#[async_trait]
pub(crate) trait Ec2Object: Clone + Send + Sync + Sized + 'static {
    /// The error codes with which `Describe*` refuses an id that does not exist.
    const NOT_FOUND: &'static [&'static str];

    /// One `Describe*` call: the objects `query` selects (without paginating: a call by ids
    /// is given at most [`IDS_PER_DESCRIBE`], and a call by strata's tags selects one).
    async fn describe(client: &aws_sdk_ec2::Client, query: Query) -> Result<Vec<Self>>;

    fn ec2_id(&self) -> Option<&str>;

    fn ec2_tags(&self) -> &[Tag];

    /// Filters `find` adds to the tag filters (a NAT gateway's live states).
    fn find_filters() -> Vec<Filter> {
        Vec::new()
    }

    /// Whether `find` may adopt this object (a NAT gateway being deleted may not).
    fn adoptable(&self) -> bool {
        true
    }
}

/// Implements [`Ec2Object`] for an SDK type from what is particular to it, in the type's file:
///
/// ```text
/// ec2_object!(Vpc: describe_vpcs(set_vpc_ids, set_filters) -> vpcs, id: vpc_id,
///     not_found: VPC_NOT_FOUND);
/// ```
///
/// is the `Describe*` call, its id and filter setters, the output's list, the object's id
/// getter and the not-found codes. Anything after the codes (a `;`, then methods such as
/// [`Ec2Object::adoptable`]) goes into the impl as written.
macro_rules! ec2_object {
    (
        $object:ident: $call:ident($ids:ident, $filters:ident) -> $listed:ident,
        id: $id:ident, not_found: $not_found:path $(; $($extra:tt)*)?
    ) => {
        #[async_trait::async_trait]
        impl $crate::ec2::Ec2Object for $object {
            const NOT_FOUND: &'static [&'static str] = $not_found;

            async fn describe(
                client: &aws_sdk_ec2::Client,
                query: $crate::ec2::Query,
            ) -> $crate::Result<Vec<$object>> {
                let out = client
                    .$call()
                    .$ids(query.ids)
                    .$filters(query.filters)
                    .send()
                    .await
                    .map_err($crate::aws::api_error)?;
                Ok(out.$listed.unwrap_or_default())
            }

            fn ec2_id(&self) -> Option<&str> {
                self.$id()
            }

            fn ec2_tags(&self) -> &[aws_sdk_ec2::types::Tag] {
                self.tags()
            }

            $($($extra)*)?
        }
    };
}

pub(crate) use ec2_object;

/// What one `Describe*` call listed, keyed by id, as [`describe_many`] takes it.
fn keyed<T: Ec2Object>(listed: Vec<T>) -> Vec<(String, T)> {
    listed
        .into_iter()
        .filter_map(|object| Some((object.ec2_id()?.to_string(), object)))
        .collect()
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
    wait_for(&format!("{what} {id} to be readable"), PROPAGATION, read).await
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
async fn describe_many<T, F, Fut>(
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
    fn only_a_not_found_naming_the_new_object_is_waited_out() {
        let err = |code: &str, message: &str| ProviderError::Api {
            code: code.into(),
            message: message.into(),
        };
        let codes = &["InvalidGroup.NotFound"];
        let missing = |id| format!("The security group '{id}' does not exist");
        assert!(names_missing(
            &err("InvalidGroup.NotFound", &missing("sg-new")),
            "sg-new",
            codes
        ));
        // A rule naming another group that does not exist: a mistake, not a delay.
        assert!(!names_missing(
            &err("InvalidGroup.NotFound", &missing("sg-typo")),
            "sg-new",
            codes
        ));
        assert!(!names_missing(
            &err("UnauthorizedOperation", "not allowed on sg-new"),
            "sg-new",
            codes
        ));
    }

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
