//! `aws.events.rule`: an EventBridge rule (a schedule or an event pattern) and its targets.
//!
//! The rule itself is written whole by `PutRule`: EventBridge replaces every rule-level setting
//! with what that call gives, so an update sends the complete desired definition. Targets are a
//! set keyed by `id`: an update puts only the targets that are new or changed and removes only
//! the ids that went, so a target nobody touched is never rewritten. Tags go through
//! `TagResource`/`UntagResource`.
//!
//! The id is the rule name on the default bus and `BUS/NAME` on any other (as Terraform writes
//! it), so that a rule can be read from its id alone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eventbridge::types::{DeadLetterConfig, RuleState, Tag, Target};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{events_tags, RuleTags};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, document_json};
use crate::props::{desired, given, in_prior_order, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.events.rule";

/// EventBridge's limit on a rule name.
const NAME_MAX_LEN: usize = 64;

/// The bus a rule is on when the stack names none.
const DEFAULT_BUS: &str = "default";

/// The states strata manages a rule in.
const STATES: &[&str] = &["ENABLED", "DISABLED"];

/// How EventBridge says a rule (or its bus) does not exist.
const RULE_NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// `PutTargets` takes at most this many targets per call.
const PUT_TARGETS_BATCH: usize = 10;
/// `RemoveTargets` takes at most this many ids per call.
const REMOVE_TARGETS_BATCH: usize = 100;

/// How long a new rule may take to be described (EventBridge is eventually consistent),
/// looking every second.
const RULE_READABLE: Wait = Wait {
    timeout: Duration::from_secs(60),
    interval: Duration::from_secs(1),
};

/// How long `DeleteRule` keeps retrying while EventBridge still sees the targets that were just
/// removed ("Rule can't be deleted since it has targets"), as terraform-provider-aws does.
const DELETE_WITH_TARGETS_BUDGET: Duration = Duration::from_secs(120);

/// The rule-level properties: any change to one of them is one `PutRule` with all of them.
const RULE_LEVEL: &[&str] = &[
    "description",
    "schedule_expression",
    "event_pattern",
    "state",
    "role_arn",
];

/// The rule's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("event_bus_name", Kind::String)
                .force_new()
                .default(DEFAULT_BUS),
            Prop::new("description", Kind::String),
            Prop::new("schedule_expression", Kind::String),
            Prop::new("event_pattern", Kind::Document),
            Prop::new("state", Kind::String)
                .default("ENABLED")
                .allowed(STATES),
            Prop::new("role_arn", Kind::String).arn(&["iam"]),
            Prop::new(
                "targets",
                Kind::List(Box::new(Kind::Object(vec![
                    Prop::new("id", Kind::String),
                    Prop::new("arn", Kind::String).arn(&[]).required(),
                    Prop::new("input", Kind::Document),
                    Prop::new("role_arn", Kind::String).arn(&["iam"]),
                    Prop::new("dead_letter_arn", Kind::String).arn(&["sqs"]),
                ]))),
            ),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.events.rule`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(RuleProvider::new(ctx)),
    about: "An EventBridge rule, a schedule or an event pattern, with its targets; an update \
            puts only the targets that are new or changed and removes only those that went.",
    import_id: "the rule name for a rule on the default bus, else `BUS/NAME`",
    attributes: &[("arn", "the rule ARN"), ("name", "the rule name")],
    property_notes: &[
        (
            "schedule_expression",
            "a rule has a `schedule_expression`, an `event_pattern`, or both",
        ),
        (
            "event_pattern",
            "a rule has a `schedule_expression`, an `event_pattern`, or both",
        ),
        (
            "targets",
            "keyed by `id`; an `id` left out is the last part of the target's `arn` (the \
             function, queue or topic name), so it stays the same from run to run; `input` is \
             a mapping or JSON text",
        ),
    ],
    actions: Actions {
        create: &[
            "events:PutRule",
            "events:TagResource",
            "events:PutTargets",
            "iam:PassRole",
        ],
        read: &[
            "events:DescribeRule",
            "events:ListTargetsByRule",
            "events:ListTagsForResource",
        ],
        update: &[
            "events:PutRule",
            "events:PutTargets",
            "events:RemoveTargets",
            "events:TagResource",
            "events:UntagResource",
            "iam:PassRole",
        ],
        delete: &[
            "events:ListTargetsByRule",
            "events:RemoveTargets",
            "events:DeleteRule",
        ],
    },
    resources: &[
        "arn:{partition}:events:{region}:{account}:rule/{name}",
        "arn:{partition}:events:{region}:{account}:rule/{event_bus_name}/{name}",
    ],
    passes_role: &[
        ("role_arn", "events.amazonaws.com"),
        ("targets[].role_arn", "events.amazonaws.com"),
    ],
};

/// The id of rule `name` on `bus`.
fn rule_id(bus: &str, name: &str) -> String {
    if bus == DEFAULT_BUS {
        name.to_string()
    } else {
        format!("{bus}/{name}")
    }
}

/// The bus and the name in a rule id. Rule names never hold `/`; a bus given as an ARN does,
/// so the name is what follows the last one.
fn parse_rule_id(id: &str) -> (String, String) {
    match id.rsplit_once('/') {
        Some((bus, name)) => (bus.to_string(), name.to_string()),
        None => (DEFAULT_BUS.to_string(), id.to_string()),
    }
}

/// The bus as the stack wrote it. EventBridge answers with the bus name; a stack that names the
/// bus by its ARN keeps its ARN, so that the bus never seems to change.
fn bus_as_written(written: Option<&str>, returned: &str) -> String {
    match written {
        Some(arn) if arn.ends_with(&format!("event-bus/{returned}")) => arn.to_string(),
        _ => returned.to_string(),
    }
}

/// EventBridge's limit on a target id.
const TARGET_ID_MAX_LEN: usize = 64;

/// One target as the stack writes it. `input` is JSON text: as written, or a mapping
/// serialised; two targets whose inputs are the same JSON are equal however it is spelled.
#[derive(Clone, Debug)]
struct TargetSpec {
    id: String,
    /// The stack wrote the `id` (rather than leaving it to [`default_target_id`]).
    id_given: bool,
    arn: String,
    input: Option<String>,
    role_arn: Option<String>,
    dead_letter_arn: Option<String>,
}

impl PartialEq for TargetSpec {
    fn eq(&self, other: &TargetSpec) -> bool {
        self.id == other.id
            && self.id_given == other.id_given
            && self.arn == other.arn
            && self.input.as_deref().map(canonical_json)
                == other.input.as_deref().map(canonical_json)
            && self.role_arn == other.role_arn
            && self.dead_letter_arn == other.dead_letter_arn
    }
}

/// The id of a target whose `id` the stack leaves out: the last part of its ARN (a function,
/// queue or topic name), in the characters EventBridge allows. Derived from the ARN, not the
/// target's place in the list, so reordering targets changes nothing.
fn default_target_id(arn: &str) -> String {
    let last = arn
        .rsplit([':', '/'])
        .find(|part| !part.is_empty())
        .unwrap_or(arn);
    let id: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    id.chars().take(TARGET_ID_MAX_LEN).collect()
}

/// A target's `input` as the JSON text EventBridge takes: text as written, a mapping (or
/// list) serialised.
fn input_text(value: Value) -> Result<String> {
    match value {
        Value::String(text) => Ok(text),
        other => document_json("input", &other),
    }
}

/// JSON text compact with sorted keys, or the text as it is when it is not JSON.
fn canonical_json(text: &str) -> String {
    fn sorted(json: serde_json::Value) -> serde_json::Value {
        match json {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(
                    entries.into_iter().map(|(k, v)| (k, sorted(v))).collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sorted).collect())
            }
            other => other,
        }
    }
    serde_json::from_str::<serde_json::Value>(text)
        .map(|json| sorted(json).to_string())
        .unwrap_or_else(|_| text.to_string())
}

impl TargetSpec {
    fn from_value(value: &Value) -> Result<TargetSpec> {
        let fields = value
            .as_map()
            .ok_or_else(|| ProviderError::invalid("each of `targets` must be a mapping"))?;
        let text = |key: &str| -> Result<Option<String>> {
            match given(fields, key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(ProviderError::invalid(format!(
                    "`{key}` of a target must be a string, not {}",
                    other.kind_name()
                ))),
            }
        };
        let arn = text("arn")?.ok_or_else(|| ProviderError::invalid("each target needs `arn`"))?;
        let id = text("id")?;
        Ok(TargetSpec {
            id_given: id.is_some(),
            id: id.unwrap_or_else(|| default_target_id(&arn)),
            arn,
            input: given(fields, "input").map(input_text).transpose()?,
            role_arn: text("role_arn")?,
            dead_letter_arn: text("dead_letter_arn")?,
        })
    }

    /// A target as EventBridge holds it. Its `id` counts as written unless it is the id that
    /// `written` (the targets the stack last gave) left to [`default_target_id`]; a target the
    /// stack never gave (an import, a target added elsewhere) shows its id.
    fn from_aws(target: &Target, written: &[TargetSpec]) -> TargetSpec {
        let set = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
        let id = target.id().to_string();
        let arn = target.arn().to_string();
        let id_given = match written.iter().find(|t| t.id == id) {
            Some(prior) => prior.id_given,
            None => true,
        };
        TargetSpec {
            id,
            id_given,
            arn,
            input: target.input().filter(|s| !s.is_empty()).map(canonical_json),
            role_arn: set(target.role_arn()),
            dead_letter_arn: set(target.dead_letter_config().and_then(|d| d.arn())),
        }
    }

    /// The target in the stack's terms: only the keys that are set, the `id` only when the
    /// stack writes it.
    fn to_value(&self) -> Value {
        let mut map = Map::from([("arn".to_string(), Value::str(&self.arn))]);
        if self.id_given {
            map.insert("id".to_string(), Value::str(&self.id));
        }
        for (key, value) in [
            ("input", &self.input),
            ("role_arn", &self.role_arn),
            ("dead_letter_arn", &self.dead_letter_arn),
        ] {
            if let Some(value) = value {
                map.insert(key.to_string(), Value::str(value));
            }
        }
        Value::Map(map)
    }

    fn to_aws(&self) -> Result<Target> {
        Target::builder()
            .id(&self.id)
            .arn(&self.arn)
            .set_input(self.input.clone())
            .set_role_arn(self.role_arn.clone())
            .set_dead_letter_config(
                self.dead_letter_arn
                    .as_ref()
                    .map(|arn| DeadLetterConfig::builder().arn(arn).build()),
            )
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))
    }
}

/// The `targets` property as specs; ids must be unique, since EventBridge keys targets by id.
fn target_specs(value: Option<&Value>) -> Result<Vec<TargetSpec>> {
    let Some(value) = value.map(Value::unmarked).filter(|v| *v != Value::Null) else {
        return Ok(Vec::new());
    };
    let items = value
        .as_list()
        .ok_or_else(|| ProviderError::invalid("`targets` must be a list"))?;
    let specs = items
        .iter()
        .map(TargetSpec::from_value)
        .collect::<Result<Vec<_>>>()?;
    let mut seen = std::collections::BTreeSet::new();
    for spec in &specs {
        if !seen.insert(spec.id.as_str()) {
            return Err(ProviderError::invalid(format!(
                "two targets have the id `{}`; target ids must be unique within a rule (give \
                 each target its own `id`)",
                spec.id
            )));
        }
    }
    Ok(specs)
}

/// What an update does to targets: put the new and changed ones, remove the ids that went.
#[derive(Debug, Default, PartialEq)]
struct TargetChanges {
    put: Vec<TargetSpec>,
    remove: Vec<String>,
}

impl TargetChanges {
    fn between(prior: &[TargetSpec], desired: &[TargetSpec]) -> TargetChanges {
        let before: BTreeMap<&str, &TargetSpec> =
            prior.iter().map(|t| (t.id.as_str(), t)).collect();
        let after: BTreeMap<&str, &TargetSpec> =
            desired.iter().map(|t| (t.id.as_str(), t)).collect();
        TargetChanges {
            put: desired
                .iter()
                .filter(|t| before.get(t.id.as_str()) != Some(t))
                .cloned()
                .collect(),
            remove: prior
                .iter()
                .filter(|t| !after.contains_key(t.id.as_str()))
                .map(|t| t.id.clone())
                .collect(),
        }
    }
}

/// Orders targets read from AWS: those in `order` (ids, as the stack or state lists them) in
/// that order, then any others by id. AWS's order carries no meaning; this keeps a second plan
/// empty.
fn in_order(mut targets: Vec<TargetSpec>, order: &[String]) -> Vec<TargetSpec> {
    targets.sort_by(|a, b| a.id.cmp(&b.id));
    in_prior_order(order.iter().cloned(), targets, |t| Some(t.id.clone()))
}

/// The targets of a `targets` value the stack wrote, each read as far as it can be (a target
/// that does not parse is left out): what reading back keeps the order and the written ids of.
fn written_targets(value: Option<&Value>) -> Vec<TargetSpec> {
    value
        .map(Value::unmarked)
        .as_ref()
        .and_then(Value::as_list)
        .into_iter()
        .flatten()
        .filter_map(|t| TargetSpec::from_value(t).ok())
        .collect()
}

/// Refuses a rule with neither a schedule nor a pattern: EventBridge needs at least one (and
/// accepts both).
fn check_trigger(props: &Map) -> Result<()> {
    match (
        given(props, "schedule_expression"),
        given(props, "event_pattern"),
    ) {
        (None, None) => Err(ProviderError::invalid(
            "a rule needs `schedule_expression` or `event_pattern`",
        )),
        _ => Ok(()),
    }
}

fn optional_str(props: &Map, prop: &str) -> Result<Option<String>> {
    match given(props, prop) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ProviderError::invalid(format!(
            "`{prop}` must be a string, not {}",
            other.kind_name()
        ))),
    }
}

/// An error for the entries a batch call (`PutTargets`, `RemoveTargets`) reports as failed,
/// which EventBridge does in a successful response.
fn failed_entries<'a>(
    call: &str,
    entries: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>, Option<&'a str>)>,
) -> Result<()> {
    let failures: Vec<String> = entries
        .into_iter()
        .map(|(id, code, message)| {
            format!(
                "target `{}`: {}: {}",
                id.unwrap_or("?"),
                code.unwrap_or("Unknown"),
                message.unwrap_or("")
            )
        })
        .collect();
    if failures.is_empty() {
        return Ok(());
    }
    Err(ProviderError::Api {
        code: format!("{call}Failed"),
        message: failures.join("; "),
    })
}

/// Manages EventBridge rules; the id is `NAME` (default bus) or `BUS/NAME`.
pub struct RuleProvider {
    schema: TypeSchema,
    events: aws_sdk_eventbridge::Client,
}

impl RuleProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            events: crate::aws::sdk_client!(aws_sdk_eventbridge, ctx),
        }
    }

    /// Every target of the rule, or `None` when the rule does not exist.
    async fn list_targets(&self, bus: &str, name: &str) -> Result<Option<Vec<Target>>> {
        let mut targets = Vec::new();
        let mut next_token = None;
        loop {
            let out = self
                .events
                .list_targets_by_rule()
                .rule(name)
                .event_bus_name(bus)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(api_error);
            let Some(out) = missing_is_none(out, RULE_NOT_FOUND)? else {
                return Ok(None);
            };
            targets.extend(out.targets().iter().cloned());
            match out.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                _ => return Ok(Some(targets)),
            }
        }
    }

    /// The rule in the stack's terms, or `None` when it does not exist. `written` is what the
    /// stack or the state says (for the order of targets and the spelling of the bus).
    async fn find_rule(&self, bus: &str, name: &str, written: &Map) -> Result<Option<Resource>> {
        let out = self
            .events
            .describe_rule()
            .name(name)
            .event_bus_name(bus)
            .send()
            .await
            .map_err(api_error);
        let Some(rule) = missing_is_none(out, RULE_NOT_FOUND)? else {
            return Ok(None);
        };
        let arn = rule
            .arn()
            .ok_or_else(|| {
                ProviderError::invalid(format!("DescribeRule returned no ARN for {name}"))
            })?
            .to_string();
        let Some(targets) = self.list_targets(bus, name).await? else {
            return Ok(None);
        };
        let tags = self
            .events
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(api_error);
        let Some(tags) = missing_is_none(tags, RULE_NOT_FOUND)? else {
            return Ok(None);
        };

        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(name));
        let returned_bus = non_empty(rule.event_bus_name()).unwrap_or(bus);
        let written_bus = written.get("event_bus_name").and_then(Value::as_str);
        properties.insert(
            "event_bus_name".into(),
            Value::str(bus_as_written(written_bus, returned_bus)),
        );
        if let Some(description) = non_empty(rule.description()) {
            properties.insert("description".into(), Value::str(description));
        }
        if let Some(schedule) = non_empty(rule.schedule_expression()) {
            properties.insert("schedule_expression".into(), Value::str(schedule));
        }
        if let Some(pattern) = non_empty(rule.event_pattern()) {
            properties.insert(
                "event_pattern".into(),
                document_from_aws("event_pattern", pattern)?,
            );
        }
        let state = rule.state().map(|s| s.as_str()).unwrap_or("ENABLED");
        properties.insert("state".into(), Value::str(state));
        if let Some(role) = non_empty(rule.role_arn()) {
            properties.insert("role_arn".into(), Value::str(role));
        }
        let written_targets = written_targets(written.get("targets"));
        let order: Vec<String> = written_targets.iter().map(|t| t.id.clone()).collect();
        let targets = in_order(
            targets
                .iter()
                .map(|t| TargetSpec::from_aws(t, &written_targets))
                .collect(),
            &order,
        );
        properties.insert(
            "targets".into(),
            Value::List(targets.iter().map(TargetSpec::to_value).collect()),
        );
        properties.insert(
            "tags".into(),
            tags_value(
                tags.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string())),
            ),
        );
        let attributes = Map::from([
            ("arn".to_string(), Value::str(&arn)),
            ("name".to_string(), Value::str(name)),
        ]);
        Ok(Some(Resource {
            id: rule_id(returned_bus, name),
            properties,
            attributes,
        }))
    }

    /// Reads a rule that must exist (it was just written), waiting out eventual consistency.
    async fn read_existing(&self, bus: &str, name: &str, written: &Map) -> Result<Resource> {
        let mut resource = wait_for(
            &format!("rule {name} to be readable"),
            RULE_READABLE,
            || self.find_rule(bus, name, written),
        )
        .await?;
        // The id keeps the bus as the stack wrote it (a name or an ARN).
        resource.id = rule_id(bus, name);
        Ok(resource)
    }

    /// `PutRule` with the complete rule-level definition in `props`; `tags` only on create
    /// (EventBridge ignores them when the rule exists). Returns the rule's ARN.
    async fn put_rule(
        &self,
        bus: &str,
        name: &str,
        props: &Map,
        tags: Option<Vec<Tag>>,
    ) -> Result<Option<String>> {
        check_trigger(props)?;
        let pattern = match given(props, "event_pattern") {
            Some(pattern) => Some(document_json("event_pattern", &pattern)?),
            None => None,
        };
        let state = desired(&self.schema, props, "state")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "ENABLED".to_string());
        let out = self
            .events
            .put_rule()
            .name(name)
            .event_bus_name(bus)
            .set_description(optional_str(props, "description")?)
            .set_schedule_expression(optional_str(props, "schedule_expression")?)
            .set_event_pattern(pattern)
            .state(RuleState::from(state.as_str()))
            .set_role_arn(optional_str(props, "role_arn")?)
            .set_tags(tags.filter(|t| !t.is_empty()))
            .send()
            .await
            .map_err(api_error)?;
        Ok(out.rule_arn)
    }

    async fn put_targets(&self, bus: &str, name: &str, targets: &[TargetSpec]) -> Result<()> {
        for batch in targets.chunks(PUT_TARGETS_BATCH) {
            let out = self
                .events
                .put_targets()
                .rule(name)
                .event_bus_name(bus)
                .set_targets(Some(
                    batch
                        .iter()
                        .map(TargetSpec::to_aws)
                        .collect::<Result<_>>()?,
                ))
                .send()
                .await
                .map_err(api_error)?;
            failed_entries(
                "PutTargets",
                out.failed_entries()
                    .iter()
                    .map(|e| (e.target_id(), e.error_code(), e.error_message())),
            )?;
        }
        Ok(())
    }

    async fn remove_targets(&self, bus: &str, name: &str, ids: &[String]) -> Result<()> {
        for batch in ids.chunks(REMOVE_TARGETS_BATCH) {
            let out = self
                .events
                .remove_targets()
                .rule(name)
                .event_bus_name(bus)
                .set_ids(Some(batch.to_vec()))
                .send()
                .await
                .map_err(api_error)?;
            failed_entries(
                "RemoveTargets",
                out.failed_entries()
                    .iter()
                    .map(|e| (e.target_id(), e.error_code(), e.error_message())),
            )?;
        }
        Ok(())
    }

    /// The rule's ARN: recorded, else asked for.
    async fn arn_of(&self, bus: &str, name: &str, recorded: &Map) -> Result<String> {
        if let Some(arn) = recorded.get("arn").and_then(Value::as_str) {
            return Ok(arn.to_string());
        }
        let out = self
            .events
            .describe_rule()
            .name(name)
            .event_bus_name(bus)
            .send()
            .await
            .map_err(api_error)?;
        out.arn().map(str::to_string).ok_or_else(|| {
            ProviderError::invalid(format!("DescribeRule returned no ARN for {name}"))
        })
    }
}

/// The rule `PutRule` (which answered `arn`) and `PutTargets` just made from `props`, without
/// reading it back: EventBridge holds what it was sent, so these are the properties a read
/// gives (patterns and inputs parsed as a read parses them).
fn as_created(
    schema: &TypeSchema,
    bus: &str,
    name: &str,
    props: &Map,
    arn: &str,
    targets: &[TargetSpec],
) -> Result<Resource> {
    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(name));
    properties.insert("event_bus_name".into(), Value::str(bus));
    for prop in ["description", "schedule_expression", "role_arn"] {
        if let Some(text) = optional_str(props, prop)?.filter(|t| !t.trim().is_empty()) {
            properties.insert(prop.into(), Value::str(text));
        }
    }
    if let Some(pattern) = given(props, "event_pattern") {
        let text = document_json("event_pattern", &pattern)?;
        properties.insert(
            "event_pattern".into(),
            document_from_aws("event_pattern", &text)?,
        );
    }
    let state = desired(schema, props, "state").unwrap_or_else(|| Value::str("ENABLED"));
    properties.insert("state".into(), state);
    let targets = targets.iter().map(|t| {
        TargetSpec {
            input: t.input.as_deref().map(canonical_json),
            ..t.clone()
        }
        .to_value()
    });
    properties.insert("targets".into(), Value::List(targets.collect()));
    properties.insert("tags".into(), tags_value(tag_strings(props.get("tags"))?));
    Ok(Resource {
        id: rule_id(bus, name),
        properties,
        attributes: Map::from([
            ("arn".to_string(), Value::str(arn)),
            ("name".to_string(), Value::str(name)),
        ]),
    })
}

/// `s` unless it is missing or blank: how EventBridge leaves a setting out.
fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The bus a request asks for: the stack's, else the default bus.
fn bus_of(schema: &TypeSchema, props: &Map) -> String {
    desired(schema, props, "event_bus_name")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| DEFAULT_BUS.to_string())
}

#[async_trait]
impl Provider for RuleProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// `PutRule` (with tags), then `PutTargets` for every target.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let bus = bus_of(&self.schema, props);
        let targets = target_specs(props.get("targets"))?;
        let tags = events_tags(tag_strings(props.get("tags"))?)?;
        let arn = self.put_rule(&bus, &name, props, Some(tags)).await?;
        after_made(&rule_id(&bus, &name), async {
            self.put_targets(&bus, &name, &targets).await?;
            let arn = arn.ok_or_else(|| ProviderError::invalid("PutRule returned no rule ARN"))?;
            as_created(&self.schema, &bus, &name, props, &arn, &targets)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (bus, name) = parse_rule_id(&req.id);
        let found = self.find_rule(&bus, &name, &req.prior_properties).await?;
        Ok(found.map(|mut resource| {
            resource.id = req.id.clone();
            resource
        }))
    }

    /// One `PutRule` when a rule-level property changed; `PutTargets` for new or changed
    /// targets and `RemoveTargets` for the ids that went; tags by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let (bus, name) = parse_rule_id(&req.id);
        for prop in &req.changed {
            if !RULE_LEVEL.contains(&prop.as_str()) && prop != "targets" && prop != "tags" {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            }
        }
        let changed = |prop: &str| req.changed.iter().any(|p| p == prop);

        if RULE_LEVEL.iter().any(|p| changed(p)) {
            self.put_rule(&bus, &name, &req.properties, None).await?;
        }
        if changed("targets") {
            let changes = TargetChanges::between(
                &target_specs(req.prior_properties.get("targets"))?,
                &target_specs(req.properties.get("targets"))?,
            );
            // Remove first: a target limit (5 per rule) counts the old ones too.
            self.remove_targets(&bus, &name, &changes.remove).await?;
            self.put_targets(&bus, &name, &changes.put).await?;
        }
        if changed("tags") {
            let arn = self.arn_of(&bus, &name, &req.prior_attributes).await?;
            let api = RuleTags {
                client: &self.events,
                id: &arn,
            };
            reconcile(&api, &req.prior_properties, &req.properties).await?;
        }
        let mut resource = self.read_existing(&bus, &name, &req.properties).await?;
        resource.id = req.id.clone();
        Ok(resource)
    }

    /// Removes every target (EventBridge refuses to delete a rule that has any), then deletes
    /// the rule; a rule already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (bus, name) = parse_rule_id(&req.id);
        let Some(targets) = self.list_targets(&bus, &name).await? else {
            return Ok(());
        };
        let ids: Vec<String> = targets.iter().map(|t| t.id().to_string()).collect();
        match self.remove_targets(&bus, &name, &ids).await {
            Err(e) if e.is_code(RULE_NOT_FOUND) => return Ok(()),
            other => other?,
        }
        let deleted = with_backoff(
            DELETE_WITH_TARGETS_BUDGET,
            |e| e.is_code(&["ValidationException"]) && e.to_string().contains("targets"),
            || {
                let call = self.events.delete_rule().name(&name).event_bus_name(&bus);
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await;
        missing_is_none(deleted, RULE_NOT_FOUND).map(|_| ())
    }

    /// Finds the rule by its deterministic name on its bus.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        let bus = bus_of(&self.schema, &req.properties);
        let found = self.find_rule(&bus, &name, &req.properties).await?;
        Ok(found.map(|mut resource| {
            resource.id = rule_id(&bus, &name);
            resource
        }))
    }
}

/// What the loader checks of a rule's properties together (`TypeSchema::check`): a schedule
/// or a pattern, and targets with an ARN each.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        check_trigger(props)?;
        target_specs(props.get("targets"))?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: &str, arn: &str) -> TargetSpec {
        TargetSpec {
            id: id.into(),
            id_given: true,
            arn: arn.into(),
            input: None,
            role_arn: None,
            dead_letter_arn: None,
        }
    }

    #[test]
    fn a_rule_id_round_trips_for_the_default_bus_a_named_bus_and_a_bus_arn() {
        for (bus, name) in [
            ("default", "nightly"),
            ("orders", "nightly"),
            (
                "arn:aws:events:us-east-1:123456789012:event-bus/orders",
                "nightly",
            ),
        ] {
            let id = rule_id(bus, name);
            assert_eq!(
                parse_rule_id(&id),
                (bus.to_string(), name.to_string()),
                "{id}"
            );
        }
        assert_eq!(rule_id("default", "nightly"), "nightly");
    }

    #[test]
    fn target_changes_put_only_new_or_changed_targets_and_remove_only_the_ids_that_went() {
        let kept = target("kept", "arn:aws:sqs:us-east-1:1:a");
        let changed = target("changed", "arn:aws:sqs:us-east-1:1:b");
        let gone = target("gone", "arn:aws:sqs:us-east-1:1:c");
        let mut changed_after = changed.clone();
        changed_after.input = Some("{}".into());
        let new = target("new", "arn:aws:sqs:us-east-1:1:d");
        let changes = TargetChanges::between(
            &[kept.clone(), changed, gone],
            &[new.clone(), kept, changed_after.clone()],
        );
        assert_eq!(
            changes,
            TargetChanges {
                put: vec![new, changed_after],
                remove: vec!["gone".into()],
            }
        );
    }

    #[test]
    fn targets_read_back_in_the_written_order_then_by_id() {
        let read = vec![
            target("a", "x"),
            target("z", "x"),
            target("m", "x"),
            target("b", "x"),
        ];
        let ordered = in_order(read, &["z".into(), "a".into()]);
        let ids: Vec<&str> = ordered.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["z", "a", "b", "m"]);
    }

    #[test]
    fn a_rule_needs_a_schedule_or_a_pattern_and_may_have_both() {
        let schedule = (
            "schedule_expression".to_string(),
            Value::str("rate(1 hour)"),
        );
        let pattern = (
            "event_pattern".to_string(),
            Value::Map(Map::from([("source".to_string(), Value::List(vec![]))])),
        );
        assert!(check_trigger(&Map::from([schedule.clone()])).is_ok());
        assert!(check_trigger(&Map::from([pattern.clone()])).is_ok());
        assert!(check_trigger(&Map::from([schedule, pattern])).is_ok());
        assert!(check_trigger(&Map::new()).is_err());
    }

    #[test]
    fn a_target_without_an_id_is_named_after_its_arn_and_reads_back_without_one() {
        let written = Value::Map(Map::from([(
            "arn".to_string(),
            Value::str("arn:aws:lambda:us-east-1:123456789012:function:orders-nightly"),
        )]));
        let spec = TargetSpec::from_value(&written).unwrap();
        assert_eq!(spec.id, "orders-nightly");
        assert!(!spec.id_given);
        let aws = spec.to_aws().unwrap();
        assert_eq!(
            TargetSpec::from_aws(&aws, std::slice::from_ref(&spec)).to_value(),
            written
        );
        // Imported (nothing written): the id is shown.
        let imported = TargetSpec::from_aws(&aws, &[]).to_value();
        assert_eq!(
            imported.as_map().unwrap()["id"].as_str(),
            Some("orders-nightly")
        );
        assert_eq!(
            default_target_id("arn:aws:sqs:us-east-1:123456789012:orders.fifo"),
            "orders.fifo"
        );
        assert_eq!(
            default_target_id("arn:aws:states:us-east-1:1:stateMachine:flow:v2"),
            "v2"
        );
    }

    #[test]
    fn a_target_input_written_as_a_mapping_or_as_json_text_is_sent_as_the_same_json() {
        let mapping = Value::Map(Map::from([
            ("arn".to_string(), Value::str("arn:aws:sqs:us-east-1:1:q")),
            (
                "input".to_string(),
                Value::Map(Map::from([
                    ("kind".to_string(), Value::str("nightly")),
                    ("batch".to_string(), Value::int(5)),
                ])),
            ),
        ]));
        let mut text = mapping.as_map().unwrap().clone();
        text.insert(
            "input".to_string(),
            Value::str(r#"{ "kind": "nightly", "batch": 5 }"#),
        );
        let from_mapping = TargetSpec::from_value(&mapping).unwrap();
        let from_text = TargetSpec::from_value(&Value::Map(text)).unwrap();
        assert_eq!(
            from_mapping.input.as_deref(),
            Some(r#"{"batch":5,"kind":"nightly"}"#)
        );
        assert_eq!(from_mapping, from_text);
    }

    #[test]
    fn duplicate_target_ids_are_refused() {
        let t = target("same", "arn:x").to_value();
        let err = target_specs(Some(&Value::List(vec![t.clone(), t]))).unwrap_err();
        assert!(err.to_string().contains("`same`"), "{err}");
    }

    #[test]
    fn a_bus_written_as_an_arn_stays_an_arn() {
        let arn = "arn:aws:events:us-east-1:123456789012:event-bus/orders";
        assert_eq!(bus_as_written(Some(arn), "orders"), arn);
        assert_eq!(bus_as_written(Some("orders"), "orders"), "orders");
        assert_eq!(bus_as_written(None, "default"), "default");
    }
}
