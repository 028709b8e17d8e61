//! Deciding what to do: the resolved stack against the (refreshed) state.
//!
//! The planner walks the stack's resources in dependency order, evaluates each one's
//! properties against what is known so far (unknown after an upstream create or replace),
//! compares them with what exists, and decides create / update / replace / no-op from the
//! schema's `force_new` flags. Resources in the state and not in the stack are deleted.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use stacks::{Catalog, Expr, Map, Reference, ResourceDecl, Scope, Stack, TypeSchema, Value};
use state::{ResourceState, State};

use crate::compare::equivalent;
use crate::plan::{Action, OutputPlan, Plan, ResourceChange, PLAN_FORMAT_VERSION};
use crate::scope::Known;

/// What the planner found impossible to plan.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error("`{address}` has lifecycle.prevent_destroy set, but this plan would {action} it")]
    PreventDestroy { address: String, action: String },
    #[error("unknown resource type `{type_name}` for `{address}` in the state")]
    UnknownType { address: String, type_name: String },
    #[error("dependency cycle between {0}")]
    Cycle(String),
    #[error("--target `{0}` names no resource or module instance of this stack or its state")]
    UnknownTarget(String),
    #[error("`moved` renames `{from}` to `{to}` (at {at}), but the state already records `{to}`")]
    MovedOntoExisting {
        from: String,
        to: String,
        at: String,
    },
    /// An expression failed on values known only at plan time (an index out of range, a call
    /// that fails on a resource's attribute).
    #[error("{what}: {error}")]
    Expression {
        what: String,
        error: stacks::EvalError,
    },
}

/// What the planner reads: the stack, the state, and what refreshing found.
pub struct PlanInput<'a> {
    pub stack: &'a Stack,
    pub state: &'a State,
    /// Per address in the state: what exists now (`None`: deleted outside strata). When
    /// `None` as a whole, the recorded properties are trusted (`--refresh=false`).
    pub refreshed: Option<&'a BTreeMap<String, Option<Live>>>,
    pub catalog: &'a Catalog,
    /// `aws.region`, `aws.account_id`.
    pub builtins: BTreeMap<String, Value>,
    /// Plan the deletion of everything in the state.
    pub destroy: bool,
    /// Only these addresses (and what they depend on; what depends on them for destroy).
    pub targets: Vec<String>,
}

/// A resource as refreshed from AWS.
#[derive(Clone, Debug, PartialEq)]
pub struct Live {
    pub id: String,
    pub properties: Map,
    pub attributes: Map,
}

/// Makes the plan. Never calls AWS.
///
/// Each declared resource is planned in dependency order (so a reference sees what is known of
/// its target so far), then everything recorded that the stack no longer declares is deleted;
/// replacement order is settled, `--target` applied, sensitive values marked once for every
/// printer, and the steps the executor walks are derived.
pub fn make_plan(input: PlanInput<'_>) -> Result<Plan, PlanError> {
    let PlanInput {
        stack,
        state,
        refreshed,
        catalog,
        builtins,
        destroy,
        targets,
    } = input;

    let order = stack
        .graph
        .order()
        .map_err(|stuck| PlanError::Cycle(stuck.join(", ")))?;
    let renames = moves(stack, state, destroy)?;
    let (renamed_state, renamed_refreshed);
    let (state, refreshed) = if renames.is_empty() {
        (state, refreshed)
    } else {
        renamed_state = rename_state(state, &renames);
        renamed_refreshed = refreshed.map(|r| {
            r.iter()
                .map(|(a, live)| (renamed(a, &renames), live.clone()))
                .collect::<BTreeMap<_, _>>()
        });
        (&renamed_state, renamed_refreshed.as_ref())
    };
    let mut changes: BTreeMap<String, ResourceChange> = BTreeMap::new();
    let mut known = Known::new(builtins.clone());
    let priors = Priors { state, refreshed };

    // Only what another resource or an output reads is kept to evaluate against: a copy of
    // every resource's values would double what a large plan holds.
    let read: BTreeSet<String> = stack
        .resources
        .values()
        .flat_map(ResourceDecl::dependencies)
        .chain(
            stack
                .outputs
                .values()
                .flat_map(|out| out.value.resource_addresses()),
        )
        .collect();
    if !destroy {
        for address in &order {
            let decl = &stack.resources[address];
            let change = plan_declared(decl, catalog.get(&decl.type_name), &priors, &known)?;
            if change.action.is_replace() && decl.lifecycle.prevent_destroy {
                return Err(PlanError::PreventDestroy {
                    address: address.clone(),
                    action: "replace".into(),
                });
            }
            if read.contains(address) {
                // What dependants may read of this resource now.
                let attrs = change.attributes_for_dependants();
                known.insert(address, change.after.clone().unwrap_or_default(), attrs);
            }
            changes.insert(address.clone(), change);
        }
    }
    for (address, recorded) in &state.resources {
        if changes.contains_key(address) {
            continue;
        }
        if catalog.get(&recorded.type_name).is_none() {
            return Err(PlanError::UnknownType {
                address: address.clone(),
                type_name: recorded.type_name.clone(),
            });
        }
        let decl = stack.resources.get(address);
        if destroy && decl.is_some_and(|d| d.lifecycle.prevent_destroy) {
            return Err(PlanError::PreventDestroy {
                address: address.clone(),
                action: "destroy".into(),
            });
        }
        changes.insert(
            address.clone(),
            plan_removed(address, recorded, decl, &priors),
        );
    }

    for (from, to) in &renames {
        if let Some(change) = changes.get_mut(to) {
            change.moved_from = Some(from.clone());
        }
    }
    settle_replacement_order(&mut changes);
    if !targets.is_empty() {
        restrict_to_targets(&mut changes, stack, &targets, destroy)?;
    }

    // Dependency order for stack resources, then deletions.
    let mut ordered: Vec<ResourceChange> = Vec::new();
    for address in &order {
        if let Some(c) = changes.remove(address) {
            ordered.push(c);
        }
    }
    ordered.extend(changes.into_values());
    for change in &mut ordered {
        crate::saved::mark_change(change, catalog);
    }

    let outputs = if destroy {
        BTreeMap::new()
    } else {
        stack
            .outputs
            .iter()
            .map(|(name, out)| {
                let planned =
                    out.value
                        .try_eval(&known)
                        .map_err(|error| PlanError::Expression {
                            what: format!("output `{name}`"),
                            error,
                        })?;
                Ok((
                    name.clone(),
                    OutputPlan {
                        value: out.value.clone(),
                        sensitive: out.sensitive,
                        planned,
                    },
                ))
            })
            .collect::<Result<_, PlanError>>()?
    };

    let steps = crate::steps::plan_steps(&ordered);
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        stack: stack.name.clone(),
        lineage: state.lineage.clone(),
        serial: state.serial,
        source_hash: stack.source_hash.clone(),
        destroy,
        changes: ordered,
        steps,
        outputs,
        builtins,
        targets,
        lookups: stack.read_values.lookups.clone(),
        consumers: BTreeMap::new(),
    })
}

/// What exists of each recorded resource: the state, overlaid with what refresh read.
struct Priors<'a> {
    state: &'a State,
    refreshed: Option<&'a BTreeMap<String, Option<Live>>>,
}

/// A recorded resource as the planner compares it.
/// Borrowed from the state and the refresh where nothing changes them: a plan of thousands of
/// recorded resources copies none of them to compare.
enum Prior<'a> {
    /// Not in the state.
    None,
    /// Recorded, but refresh found it deleted outside strata.
    Gone(&'a ResourceState),
    /// Recorded (id and attributes as refreshed) and its properties as they are now.
    Exists(Cow<'a, ResourceState>, &'a Map),
}

impl<'a> Priors<'a> {
    fn of(&self, address: &str) -> Prior<'a> {
        let Some(recorded) = self.state.resources.get(address) else {
            return Prior::None;
        };
        match self.refreshed.map(|live| live.get(address)) {
            Some(Some(Some(l))) => {
                let mut rs = recorded.clone();
                rs.id = l.id.clone();
                rs.attributes.extend(l.attributes.clone());
                Prior::Exists(Cow::Owned(rs), &l.properties)
            }
            Some(Some(None)) => Prior::Gone(recorded),
            _ => Prior::Exists(Cow::Borrowed(recorded), &recorded.properties),
        }
    }
}

/// The change of one declared resource: its properties evaluated against what is known so
/// far, compared with what exists.
fn plan_declared(
    decl: &ResourceDecl,
    schema: Option<&TypeSchema>,
    priors: &Priors<'_>,
    known: &Known,
) -> Result<ResourceChange, PlanError> {
    let mut after: Map =
        try_evaluate(&decl.properties, known).map_err(|error| PlanError::Expression {
            what: format!("resource `{}`", decl.address),
            error,
        })?;
    let mut change = ResourceChange {
        address: decl.address.clone(),
        type_name: decl.type_name.clone(),
        action: Action::Create,
        id: None,
        before: None,
        prior_attributes: None,
        after: None,
        config: decl.properties.clone(),
        changed: Vec::new(),
        replace_because: Vec::new(),
        create_before_destroy: decl.lifecycle.create_before_destroy,
        dependencies: decl.dependencies().into_iter().collect(),
        prior_dependencies: Vec::new(),
        gone: false,
        tainted: false,
        unknown_attributes: Vec::new(),
        moved_from: None,
    };
    let prefixed = chosen_name(decl, schema, priors, &mut after);
    match priors.of(&decl.address) {
        Prior::None => {}
        Prior::Gone(recorded) => {
            change.gone = true;
            change.prior_dependencies = recorded.dependencies.clone();
        }
        Prior::Exists(recorded, before) => {
            change.id = Some(recorded.id.clone());
            change.prior_attributes = Some(recorded.attributes.clone());
            change.prior_dependencies = recorded.dependencies.clone();
            if recorded.type_name != decl.type_name {
                change.action = Action::replace(change.create_before_destroy);
                change.replace_because = vec!["type".to_string()];
            } else {
                for key in &decl.lifecycle.ignore_changes {
                    if let Some(old) = before.get(key) {
                        after.insert(key.clone(), old.clone());
                    }
                }
                let (changed, forcing) = compare(schema, &recorded, before, &after);
                // A property whose replacement must not leave a gap creates the new object first.
                if forcing.iter().any(|key| {
                    schema
                        .and_then(|s| s.prop(key))
                        .is_some_and(|p| p.create_before_destroy)
                }) {
                    change.create_before_destroy = true;
                }
                change.tainted = recorded.tainted;
                change.action = if !forcing.is_empty() || recorded.tainted {
                    Action::replace(change.create_before_destroy)
                } else if !changed.is_empty() {
                    Action::Update
                } else {
                    Action::NoOp
                };
                if change.action == Action::Update {
                    change.unknown_attributes = updated_attributes(schema, &changed);
                }
                change.changed = changed;
                change.replace_because = forcing;
            }
            // Hidden where the stack marks it now, and where it was sensitive when recorded.
            let before = stacks::mark_paths(before.clone(), &recorded.sensitive);
            change.before = Some(crate::saved::mark_map_like(before, &after));
        }
    }
    if let Some((prop, kept)) = prefixed {
        // A replacement gets a name of its own, so the old and new objects never clash.
        if kept && change.action.is_replace() {
            after.insert(
                prop.to_string(),
                Value::String(fresh_name(decl, schema, &after)),
            );
            if !change.changed.iter().any(|c| c == prop) {
                change.changed.push(prop.to_string());
            }
        }
        if let Some(name) = after.get(prop) {
            change.config.insert(
                prop.to_string(),
                Expr::Value {
                    value: name.clone(),
                },
            );
        }
    }
    change.after = Some(after);
    Ok(change)
}

/// For a resource with `name_prefix`: puts its name in `after` — the recorded one while it
/// still starts with the prefix, else a new one — and says which property holds it and whether
/// the recorded one was kept. `None` for a resource without `name_prefix`.
fn chosen_name(
    decl: &ResourceDecl,
    schema: Option<&TypeSchema>,
    priors: &Priors<'_>,
    after: &mut Map,
) -> Option<(&'static str, bool)> {
    let prefix = decl.name_prefix.as_deref()?;
    let rule = schema?.name_rule.as_ref()?;
    let recorded = priors
        .state
        .resources
        .get(&decl.address)
        .and_then(|r| r.properties.get(rule.prop))
        .and_then(Value::as_str)
        .filter(|name| name.starts_with(prefix))
        .map(str::to_string);
    let kept = recorded.is_some();
    let name = recorded.unwrap_or_else(|| fresh_name(decl, schema, after));
    after.insert(rule.prop.to_string(), Value::String(name));
    Some((rule.prop, kept))
}

/// `name_prefix` and [`stacks::NAME_SUFFIX_LEN`] random hex digits (and the type's suffix,
/// `.fifo`, where its flag is set).
fn fresh_name(decl: &ResourceDecl, schema: Option<&TypeSchema>, after: &Map) -> String {
    let prefix = decl.name_prefix.as_deref().unwrap_or_default();
    let random = uuid::Uuid::new_v4().simple().to_string();
    let suffix = schema
        .and_then(|s| s.name_rule.as_ref())
        .and_then(|rule| rule.suffix_when)
        .filter(|(flag, _)| after.get(*flag).and_then(Value::as_bool) == Some(true))
        .map_or("", |(_, text)| text);
    format!("{prefix}{}{suffix}", &random[..stacks::NAME_SUFFIX_LEN])
}

/// The properties that differ between `before` (what exists) and `after` (what the stack
/// wants), and those of them that force a replacement. A resettable property applied before
/// and no longer in the stack is cleared, where AWS still holds something.
fn compare(
    schema: Option<&TypeSchema>,
    recorded: &ResourceState,
    before: &Map,
    after: &Map,
) -> (Vec<String>, Vec<String>) {
    let mut changed = Vec::new();
    let mut forcing = Vec::new();
    for (key, desired) in after {
        let prop = schema.and_then(|s| s.prop(key));
        let kind = prop.map_or(&stacks::Kind::Any, |p| &p.kind);
        let same = match before.get(key) {
            Some(actual) if key == "tags" => equivalent(
                kind,
                &without_address_tag(desired),
                &without_address_tag(actual),
            ),
            Some(actual) => equivalent(kind, desired, actual),
            None => matches!(desired, Value::Null),
        };
        if !same {
            changed.push(key.clone());
            if prop.is_some_and(|p| p.force_new) {
                forcing.push(key.clone());
            }
        }
    }
    for key in recorded.properties.keys() {
        if after.contains_key(key) {
            continue;
        }
        let resettable = schema
            .and_then(|s| s.prop(key))
            .is_some_and(|p| p.resettable && !p.required && !p.force_new);
        if resettable && before.get(key).is_some_and(|v| !is_empty(v)) {
            changed.push(key.clone());
        }
    }
    (changed, forcing)
}

/// Tags without `strata:address`: the tag is written when the resource is made, and a `moved`
/// rename (which never calls AWS) leaves it as it was, so it never makes a diff alone.
fn without_address_tag(tags: &Value) -> Cow<'_, Value> {
    match tags {
        Value::Map(map) if map.contains_key(stacks::ADDRESS_TAG) => {
            let mut map = map.clone();
            map.remove(stacks::ADDRESS_TAG);
            Cow::Owned(Value::Map(map))
        }
        other => Cow::Borrowed(other),
    }
}

/// The attributes an in-place change of `changed` may change, each once, in schema order.
fn updated_attributes(schema: Option<&TypeSchema>, changed: &[String]) -> Vec<String> {
    let mut attrs: Vec<String> = Vec::new();
    for prop in schema.into_iter().flat_map(|s| &s.props) {
        if changed.iter().any(|c| c == prop.name) {
            for attr in prop.updates_attrs {
                if !attrs.iter().any(|a| a == attr) {
                    attrs.push(attr.to_string());
                }
            }
        }
    }
    attrs
}

/// The delete of a recorded resource the stack no longer declares (or of every one, for
/// destroy). A resource already gone needs no call; it only leaves the state. What the stack
/// still marks sensitive in it (a destroy plan of a declared resource) stays marked.
fn plan_removed(
    address: &str,
    recorded: &ResourceState,
    decl: Option<&ResourceDecl>,
    priors: &Priors<'_>,
) -> ResourceChange {
    let (gone, before) = match priors.of(address) {
        Prior::Gone(_) => (true, recorded.properties.clone()),
        Prior::Exists(_, now) => (false, now.clone()),
        Prior::None => (false, recorded.properties.clone()),
    };
    let before = stacks::mark_paths(before, &recorded.sensitive);
    let before = match decl {
        Some(decl) => crate::saved::mark_map_like(before, &evaluate_declared(&decl.properties)),
        None => before,
    };
    ResourceChange {
        address: address.to_string(),
        type_name: recorded.type_name.clone(),
        action: Action::Delete,
        id: Some(recorded.id.clone()),
        before: Some(before),
        prior_attributes: Some(recorded.attributes.clone()),
        after: None,
        config: BTreeMap::new(),
        changed: Vec::new(),
        replace_because: Vec::new(),
        create_before_destroy: recorded.create_before_destroy,
        dependencies: Vec::new(),
        prior_dependencies: recorded.dependencies.clone(),
        gone,
        tainted: false,
        unknown_attributes: Vec::new(),
        moved_from: None,
    }
}

/// Like Terraform: a replaced resource with create_before_destroy makes every replaced
/// resource it depends on create-before-destroy too, or the order could not be kept. Each
/// replacement's action then says which order it takes.
fn settle_replacement_order(changes: &mut BTreeMap<String, ResourceChange>) {
    loop {
        let mut flip = Vec::new();
        for c in changes.values() {
            if c.action.is_replace() && c.create_before_destroy {
                for dep in &c.dependencies {
                    if let Some(d) = changes.get(dep) {
                        if d.action.is_replace() && !d.create_before_destroy {
                            flip.push(dep.clone());
                        }
                    }
                }
            }
        }
        if flip.is_empty() {
            break;
        }
        for address in flip {
            if let Some(c) = changes.get_mut(&address) {
                c.create_before_destroy = true;
            }
        }
    }
    for c in changes.values_mut() {
        if c.action.is_replace() {
            c.action = Action::replace(c.create_before_destroy);
        }
    }
}

/// The `moved` entries that apply to this state: `from` recorded (an entry whose `from` is
/// gone is ignored). A `to` the state records already is an error. A destroy plan deletes
/// under the recorded addresses and moves nothing.
fn moves(stack: &Stack, state: &State, destroy: bool) -> Result<Vec<(String, String)>, PlanError> {
    let mut out = Vec::new();
    if destroy {
        return Ok(out);
    }
    for m in &stack.moved {
        if !state.resources.contains_key(&m.from) {
            continue;
        }
        if state.resources.contains_key(&m.to) {
            return Err(PlanError::MovedOntoExisting {
                from: m.from.clone(),
                to: m.to.clone(),
                at: format!("{}:{}:{}", m.pos.file.display(), m.pos.line, m.pos.column),
            });
        }
        out.push((m.from.clone(), m.to.clone()));
    }
    Ok(out)
}

/// `address` after the renames.
fn renamed(address: &str, renames: &[(String, String)]) -> String {
    renames
        .iter()
        .find(|(from, _)| from == address)
        .map_or_else(|| address.to_string(), |(_, to)| to.clone())
}

/// The state as it reads once the renames are made (dependencies renamed too).
fn rename_state(state: &State, renames: &[(String, String)]) -> State {
    let mut out = state.clone();
    out.resources = state
        .resources
        .iter()
        .map(|(address, recorded)| {
            let mut recorded = recorded.clone();
            for dep in &mut recorded.dependencies {
                *dep = renamed(dep, renames);
            }
            (renamed(address, renames), recorded)
        })
        .collect();
    out
}

/// Keeps only the targets (resources, or every resource of a module instance) and what they
/// depend on, from the stack's graph (for destroy: what depends on them, from the graph and
/// from what the state recorded).
fn restrict_to_targets(
    changes: &mut BTreeMap<String, ResourceChange>,
    stack: &Stack,
    targets: &[String],
    destroy: bool,
) -> Result<(), PlanError> {
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for t in targets {
        if changes.contains_key(t) {
            keep.insert(t.clone());
            continue;
        }
        let prefix = format!("{t}.");
        let instance = format!("{t}[");
        let inside: Vec<String> = changes
            .keys()
            .filter(|a| a.starts_with(&prefix) || a.starts_with(&instance))
            .cloned()
            .collect();
        if inside.is_empty() {
            return Err(PlanError::UnknownTarget(t.clone()));
        }
        keep.extend(inside);
    }
    if destroy {
        loop {
            let before = keep.len();
            keep = stack.graph.with_dependants(&keep);
            for c in changes.values() {
                if c.prior_dependencies.iter().any(|d| keep.contains(d)) {
                    keep.insert(c.address.clone());
                }
            }
            if keep.len() == before {
                break;
            }
        }
    } else {
        keep = stack.graph.with_dependencies(&keep);
    }
    for c in changes.values_mut() {
        if !keep.contains(&c.address) {
            c.action = Action::NoOp;
        }
    }
    Ok(())
}

/// The properties of `change` with expressions evaluated against `scope`; used by the
/// executor as results arrive.
pub fn evaluate(config: &BTreeMap<String, Expr>, scope: &dyn Scope) -> Map {
    config
        .iter()
        .map(|(k, e)| (k.clone(), e.eval(scope)))
        .collect()
}

/// [`evaluate`], failing on the first expression that fails (the planner and the executor
/// report it; [`evaluate`] is for values already planned).
pub fn try_evaluate(
    config: &BTreeMap<String, Expr>,
    scope: &dyn Scope,
) -> Result<Map, stacks::EvalError> {
    config
        .iter()
        .map(|(k, e)| Ok((k.clone(), e.try_eval(scope)?)))
        .collect()
}

/// `config` as the stack writes it, before anything exists: references to other resources
/// are unknown. Where a sensitive param went shows as a sensitive marker.
pub fn evaluate_declared(config: &BTreeMap<String, Expr>) -> Map {
    struct Unknowns;
    impl Scope for Unknowns {
        fn lookup(&self, _: &Reference) -> Option<Value> {
            Some(Value::Unknown)
        }
    }
    evaluate(config, &Unknowns)
}

/// Whether a property value read back means "not set": null, `""`, `[]` or `{}`.
fn is_empty(value: &Value) -> bool {
    match value.unmarked() {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::List(items) => items.is_empty(),
        Value::Map(map) => map.is_empty(),
        _ => false,
    }
}
