//! What the tests share on the AWS side, mostly for the provider tests (`tests/provider_*.rs`):
//! the real provider code driven through the [`Provider`] trait against the emulator, the way
//! the engine drives it.
//!
//! * [`TestStack`] stands for the stack a test acts for: [`TestStack::create`] and
//!   [`TestStack::find`] pass its name, [`TestStack::tags_for`] gives the `strata:` tags the core
//!   would add.
//! * [`read`], [`refresh`], [`update`] and [`delete`] make one call each and panic with the
//!   address when the provider fails, so a test reads as the steps it takes.
//! * [`assert_reads_back`] and [`assert_reads_back_as_planned`] pin the "second plan is empty"
//!   guarantee: exactly, or as the planner compares; [`assert_state_is_what_aws_holds`] pins
//!   it for a whole state a run of the binary left.
//!
//! The CLI and example tests use [`context`], [`queue_urls`], [`queue_names`], [`topic_arns`],
//! [`topic_attributes`], [`function_names`] and [`event_source_arns`] too, to look at what the emulator holds after
//! the binary ran, and [`string_map`] to write the tags they expect
//! to find there.

use std::collections::BTreeMap;

use planner::compare::equivalent;
use providers::aws::AwsContext;
use providers::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ReadRequest, Resource, UpdateRequest,
};
use serde_json::json;
use stacks::{Kind, Map, Value};

use crate::proxy::{by_action, Faults, Proxy};
use crate::Emulator;

/// The account id the emulator gives every resource it makes.
pub const ACCOUNT: &str = "123456789012";

/// `json` (a JSON object) as a property map. Panics on anything but an object.
pub fn map(json: serde_json::Value) -> Map {
    match Value::from_json(json) {
        Value::Map(map) => map,
        other => panic!("not a mapping: {other}"),
    }
}

/// The providers' AWS context for `emu`, in `us-east-1`.
pub fn context(emu: &Emulator) -> AwsContext {
    emu.aws_context()
}

/// The stack a provider test creates and finds resources for. Its name goes into every
/// create and find request and into the `strata:stack` tag, as the core would pass them.
#[derive(Clone, Copy, Debug)]
pub struct TestStack {
    pub name: &'static str,
}

impl TestStack {
    pub const fn named(name: &'static str) -> TestStack {
        TestStack { name }
    }

    /// The tags the core would pass: the resource's own (`own`, a JSON object) plus strata's.
    pub fn tags_for(&self, address: &str, own: serde_json::Value) -> serde_json::Value {
        let mut tags = own;
        tags["strata:stack"] = json!(self.name);
        tags["strata:address"] = json!(address);
        tags
    }

    /// Creates `address` with `properties`; panics, naming the address, if the provider fails.
    pub async fn create(
        &self,
        provider: &dyn Provider,
        address: &str,
        properties: &Map,
    ) -> Resource {
        self.try_create(provider, address, properties)
            .await
            .unwrap_or_else(|e| panic!("creating {address}: {e}"))
    }

    /// Creates `address` with `properties`, for tests that expect the provider to refuse.
    pub async fn try_create(
        &self,
        provider: &dyn Provider,
        address: &str,
        properties: &Map,
    ) -> providers::Result<Resource> {
        provider
            .create(CreateRequest {
                address: address.into(),
                stack: self.name.into(),
                properties: properties.clone(),
            })
            .await
    }

    /// Looks `address` up as adoption after a crash would; panics if the provider fails.
    pub async fn find(
        &self,
        provider: &dyn Provider,
        address: &str,
        properties: &Map,
    ) -> Option<Resource> {
        provider
            .find(FindRequest {
                address: address.into(),
                stack: self.name.into(),
                properties: properties.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("finding {address}: {e}"))
    }
}

/// Reads `resource` again, passing what it holds as the prior state; panics if the provider
/// fails. `None`: the resource is gone.
pub async fn read(provider: &dyn Provider, address: &str, resource: &Resource) -> Option<Resource> {
    refresh(
        provider,
        address,
        &resource.id,
        &resource.properties,
        &resource.attributes,
    )
    .await
}

/// A read as a refresh makes it: by `id`, with the properties and attributes strata recorded.
/// Panics if the provider fails.
pub async fn refresh(
    provider: &dyn Provider,
    address: &str,
    id: &str,
    recorded: &Map,
    attributes: &Map,
) -> Option<Resource> {
    provider
        .read(ReadRequest {
            address: address.into(),
            id: id.into(),
            prior_properties: recorded.clone(),
            prior_attributes: attributes.clone(),
        })
        .await
        .unwrap_or_else(|e| panic!("reading {address}: {e}"))
}

/// Updates `prior` in place to `properties`, naming the `changed` ones; panics if the provider
/// fails.
pub async fn update(
    provider: &dyn Provider,
    address: &str,
    prior: &Resource,
    properties: &Map,
    changed: &[&str],
) -> Resource {
    provider
        .update(UpdateRequest {
            address: address.into(),
            id: prior.id.clone(),
            prior_properties: prior.properties.clone(),
            prior_attributes: prior.attributes.clone(),
            properties: properties.clone(),
            changed: changed.iter().map(|s| s.to_string()).collect(),
        })
        .await
        .unwrap_or_else(|e| panic!("updating {address}: {e}"))
}

/// Deletes `resource`; panics if the provider fails (a resource already gone is success).
pub async fn delete(provider: &dyn Provider, address: &str, resource: &Resource) {
    provider
        .delete(DeleteRequest {
            address: address.into(),
            id: resource.id.clone(),
            properties: resource.properties.clone(),
            attributes: resource.attributes.clone(),
        })
        .await
        .unwrap_or_else(|e| panic!("deleting {address}: {e}"));
}

/// The "second plan is empty" guarantee, exactly: every property the stack gave reads back
/// equal to the letter.
pub fn assert_reads_back(resource: &Resource, requested: &Map) {
    for (key, want) in requested {
        assert_eq!(
            resource.properties.get(key),
            Some(want),
            "property `{key}` of {} reads back differently",
            resource.id
        );
    }
}

/// The properties among those the stack gave that differ as the planner sees them (by the
/// kind the provider's schema gives each; a property not read back differs).
pub fn differing(provider: &dyn Provider, resource: &Resource, requested: &Map) -> Vec<String> {
    requested
        .iter()
        .filter(|(key, want)| {
            let kind = provider
                .schema()
                .prop(key)
                .map(|p| p.kind.clone())
                .unwrap_or(Kind::Any);
            !resource
                .properties
                .get(*key)
                .is_some_and(|got| equivalent(&kind, want, got))
        })
        .map(|(key, _)| key.clone())
        .collect()
}

/// The "second plan is empty" guarantee as the planner compares: every property the stack gave
/// reads back equivalent (documents semantically, everything else by value).
pub fn assert_reads_back_as_planned(provider: &dyn Provider, resource: &Resource, requested: &Map) {
    let differing = differing(provider, resource, requested);
    assert!(
        differing.is_empty(),
        "{} reads back differently in {differing:?}:\n  requested {requested:?}\n  read      {:?}",
        resource.id,
        resource.properties
    );
}

/// What creates recorded without reading back is what AWS holds: every resource of the state
/// `dir` holds for `stack`, read now through its provider, equals the record as the planner
/// compares them (each recorded property by its schema's kind, attributes exactly), and a
/// plan without refresh and one with refresh (the binary run with `env`) both show no changes.
pub async fn assert_state_is_what_aws_holds(
    emu: &Emulator,
    dir: &std::path::Path,
    stack: &str,
    env: &[(String, String)],
) {
    let path = dir.join(format!(".strata/{stack}.state.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let state: state::State = serde_json::from_str(&text).unwrap();
    let registry = providers::aws_registry(&context(emu));
    for (address, recorded) in &state.resources {
        let provider = registry.get(&recorded.type_name).unwrap();
        let live = provider
            .read(ReadRequest {
                address: address.clone(),
                id: recorded.id.clone(),
                prior_properties: recorded.properties.clone(),
                prior_attributes: recorded.attributes.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("reading {address}: {e}"))
            .unwrap_or_else(|| panic!("{address} is gone"));
        let differs = differing(provider.as_ref(), &live, &recorded.properties);
        assert!(
            differs.is_empty(),
            "{address} was recorded as {:?}\nbut reads as {:?}\ndiffering in {differs:?}",
            recorded.properties,
            live.properties
        );
        assert_eq!(live.attributes, recorded.attributes, "{address}");
    }
    for plan in [
        &["plan", "--detailed-exitcode", "--refresh=false"][..],
        &["plan", "--detailed-exitcode"],
    ] {
        let run = crate::run_strata(dir, plan, env);
        crate::assert_code_while(&run, 0, &plan.join(" "));
    }
}

/// Creates make `expected` requests and record what AWS holds: `stack_yaml` (the stack named
/// `stack`) applied through the recording proxy asks exactly `expected` (by `service:Action`,
/// but the one look-up of the account), then [`assert_state_is_what_aws_holds`].
pub async fn assert_apply_asks(stack_yaml: &str, stack: &str, expected: &[(&str, usize)]) {
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, Faults::default());
    let env = proxy.aws_env();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), stack_yaml).unwrap();
    let run = crate::run_strata(dir.path(), &["apply", "--auto-approve"], &env);
    crate::assert_code_while(&run, 0, "the apply");
    let calls = proxy.calls();
    let mut asked = by_action(&calls);
    // The account is asked of STS once a run, however many types derive ARNs from it.
    let accounts = asked.remove("sts:GetCallerIdentity").unwrap_or(0);
    assert!(
        accounts <= 1,
        "the account asked {accounts} times: {calls:#?}"
    );
    let expected: BTreeMap<String, usize> = expected
        .iter()
        .map(|(action, n)| (action.to_string(), *n))
        .collect();
    assert_eq!(asked, expected, "{calls:#?}");
    // Recorded without a read, and read now: the same, as the planner compares them; plans
    // with and without refresh are empty.
    assert_state_is_what_aws_holds(&emu, dir.path(), stack, &env).await;
}

/// The URLs of every queue the emulator holds, sorted.
pub async fn queue_urls(ctx: &AwsContext) -> Vec<String> {
    let mut urls = aws_sdk_sqs::Client::new(&ctx.sdk)
        .list_queues()
        .send()
        .await
        .unwrap()
        .queue_urls
        .unwrap_or_default();
    urls.sort();
    urls
}

/// The names of every queue the emulator holds, sorted.
pub async fn queue_names(ctx: &AwsContext) -> Vec<String> {
    let mut names: Vec<String> = queue_urls(ctx)
        .await
        .into_iter()
        .map(|url| url.rsplit('/').next().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

/// The ARNs of every SNS topic the emulator holds, sorted.
pub async fn topic_arns(ctx: &AwsContext) -> Vec<String> {
    let mut arns: Vec<String> = aws_sdk_sns::Client::new(&ctx.sdk)
        .list_topics()
        .send()
        .await
        .unwrap()
        .topics
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.topic_arn)
        .collect();
    arns.sort();
    arns
}

/// The attributes SNS reports for the topic `arn`.
pub async fn topic_attributes(sns: &aws_sdk_sns::Client, arn: &str) -> BTreeMap<String, String> {
    sns.get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetTopicAttributes {arn}: {e:?}"))
        .attributes()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// The names of every Lambda function the emulator holds, sorted.
pub async fn function_names(ctx: &AwsContext) -> Vec<String> {
    let mut names: Vec<String> = aws_sdk_lambda::Client::new(&ctx.sdk)
        .list_functions()
        .send()
        .await
        .unwrap()
        .functions
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| f.function_name)
        .collect();
    names.sort();
    names
}

/// The event source ARNs of the Lambda function `function`'s event source mappings.
pub async fn event_source_arns(ctx: &AwsContext, function: &str) -> Vec<String> {
    aws_sdk_lambda::Client::new(&ctx.sdk)
        .list_event_source_mappings()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .event_source_mappings
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.event_source_arn)
        .collect()
}

/// `pairs` as a map of owned strings: how tests write the tags they expect.
pub fn string_map<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
