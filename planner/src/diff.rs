//! Deciding what to do: the resolved stack against the (refreshed) state.
//!
//! The planner walks the stack's resources in dependency order, evaluates each one's
//! properties against what is known so far (unknown after an upstream create or replace),
//! compares them with what exists, and decides create / update / replace / no-op from the
//! schema's `force_new` flags. Resources in the state and not in the stack are deleted.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::{DiGraph, NodeIndex};
use stacks::{Catalog, Expr, Map, Reference, Scope, Stack, Value};
use state::{ResourceState, State};

use crate::compare::equivalent;
use crate::plan::{Action, OutputPlan, Plan, ResourceChange, PLAN_FORMAT_VERSION};

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

/// What is known of each resource while planning: the planned properties and attributes. A
/// reference resolves to the resource's attribute when that is known, else to its planned
/// property, else to unknown. [`crate::saved::restore`] rebuilds the same scope from a saved
/// plan, so that its values resolve as they did when it was made.
pub(crate) struct Known<'a> {
    pub(crate) builtins: &'a Map,
    /// address -> (properties after, attributes) where unknown attributes are absent.
    pub(crate) resources: BTreeMap<String, (Map, Option<Map>)>,
}

impl Scope for Known<'_> {
    fn lookup(&self, reference: &Reference) -> Option<Value> {
        match reference {
            Reference::Builtin { name } => {
                Some(self.builtins.get(name).cloned().unwrap_or(Value::Unknown))
            }
            Reference::Resource { address, attr } => {
                let (props, attrs) = self.resources.get(address)?;
                if let Some(attrs) = attrs {
                    if let Some(v) = attrs.get(attr) {
                        return Some(v.clone());
                    }
                }
                match props.get(attr) {
                    Some(v) => Some(v.clone()),
                    None => Some(Value::Unknown),
                }
            }
        }
    }
}

/// Makes the plan. Never calls AWS.
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

    let order = dependency_order(stack)?;
    let mut changes: BTreeMap<String, ResourceChange> = BTreeMap::new();
    let mut known = Known {
        builtins: &builtins,
        resources: BTreeMap::new(),
    };

    let prior_of = |address: &str| -> Option<(ResourceState, Map, bool)> {
        let recorded = state.resources.get(address)?;
        match refreshed {
            None => Some((recorded.clone(), recorded.properties.clone(), false)),
            Some(live) => match live.get(address) {
                Some(Some(l)) => {
                    let mut rs = recorded.clone();
                    rs.id = l.id.clone();
                    let mut attrs = recorded.attributes.clone();
                    attrs.extend(l.attributes.clone());
                    rs.attributes = attrs;
                    Some((rs, l.properties.clone(), false))
                }
                Some(None) => Some((recorded.clone(), Map::new(), true)),
                None => Some((recorded.clone(), recorded.properties.clone(), false)),
            },
        }
    };

    if !destroy {
        for address in &order {
            let decl = &stack.resources[address];
            let schema = catalog.get(&decl.type_name);
            let after: Map = decl
                .properties
                .iter()
                .map(|(k, e)| (k.clone(), e.eval(&known)))
                .collect();
            let mut after = after;
            let dependencies: Vec<String> = decl.dependencies().into_iter().collect();
            let prior = prior_of(address);

            let mut change = ResourceChange {
                address: address.clone(),
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
                dependencies: dependencies.clone(),
                prior_dependencies: Vec::new(),
                gone: false,
            };

            match prior {
                None => {}
                Some((recorded, _, true)) => {
                    change.gone = true;
                    change.prior_dependencies = recorded.dependencies.clone();
                }
                Some((recorded, before, false)) => {
                    change.id = Some(recorded.id.clone());
                    change.prior_attributes = Some(recorded.attributes.clone());
                    change.prior_dependencies = recorded.dependencies.clone();
                    if recorded.type_name != decl.type_name {
                        change.action = Action::Replace;
                        change.replace_because = vec!["type".to_string()];
                    } else {
                        for key in &decl.lifecycle.ignore_changes {
                            if let Some(old) = before.get(key) {
                                after.insert(key.clone(), old.clone());
                            }
                        }
                        let mut changed = Vec::new();
                        let mut forcing = Vec::new();
                        for (key, desired) in &after {
                            let prop = schema.and_then(|s| s.prop(key));
                            let kind = prop.map(|p| p.kind.clone()).unwrap_or(stacks::Kind::Any);
                            let same = match before.get(key) {
                                Some(actual) => equivalent(&kind, desired, actual),
                                None => matches!(desired, Value::Null),
                            };
                            if !same {
                                changed.push(key.clone());
                                if prop.is_some_and(|p| p.force_new) {
                                    forcing.push(key.clone());
                                }
                            }
                        }
                        // Set when last applied, no longer in the stack: cleared, where the
                        // type can reset it and AWS still holds something.
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
                        change.action = if !forcing.is_empty() {
                            Action::Replace
                        } else if !changed.is_empty() {
                            Action::Update
                        } else {
                            Action::NoOp
                        };
                        change.changed = changed;
                        change.replace_because = forcing;
                    }
                    change.before = Some(crate::saved::mark_map_like(before, &after));
                }
            }

            // What dependants may read of this resource now.
            let attrs = match change.action {
                Action::NoOp | Action::Update => change.prior_attributes.clone(),
                _ => None,
            };
            known
                .resources
                .insert(address.clone(), (after.clone(), attrs));
            change.after = Some(after);
            if matches!(change.action, Action::Replace) && decl.lifecycle.prevent_destroy {
                return Err(PlanError::PreventDestroy {
                    address: address.clone(),
                    action: "replace".into(),
                });
            }
            changes.insert(address.clone(), change);
        }
    }

    // Everything recorded that the stack no longer declares (or all of it, for destroy).
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
        if destroy {
            if let Some(decl) = stack.resources.get(address) {
                if decl.lifecycle.prevent_destroy {
                    return Err(PlanError::PreventDestroy {
                        address: address.clone(),
                        action: "destroy".into(),
                    });
                }
            }
        }
        let gone = matches!(refreshed.and_then(|r| r.get(address)), Some(None));
        let before = refreshed
            .and_then(|r| r.get(address))
            .and_then(|l| l.as_ref().map(|l| l.properties.clone()))
            .unwrap_or_else(|| recorded.properties.clone());
        changes.insert(
            address.clone(),
            ResourceChange {
                address: address.clone(),
                type_name: recorded.type_name.clone(),
                // A resource that is already gone needs no call; it only leaves the state.
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
            },
        );
    }

    propagate_create_before_destroy(&mut changes);

    if !targets.is_empty() {
        restrict_to_targets(&mut changes, &targets, destroy)?;
    }

    // Dependency order for stack resources, then deletions.
    let mut ordered: Vec<ResourceChange> = Vec::new();
    for address in &order {
        if let Some(c) = changes.remove(address) {
            ordered.push(c);
        }
    }
    ordered.extend(changes.into_values());

    let outputs = if destroy {
        BTreeMap::new()
    } else {
        stack
            .outputs
            .iter()
            .map(|(name, out)| {
                (
                    name.clone(),
                    OutputPlan {
                        value: out.value.clone(),
                        sensitive: out.sensitive,
                        planned: out.value.eval(&known),
                    },
                )
            })
            .collect()
    };

    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        stack: stack.name.clone(),
        lineage: state.lineage.clone(),
        serial: state.serial,
        source_hash: stack.source_hash.clone(),
        destroy,
        changes: ordered,
        outputs,
        builtins,
    })
}

/// Stack resources in dependency order (what is depended on first), declaration order
/// breaking ties so plans read in the order the file does.
fn dependency_order(stack: &Stack) -> Result<Vec<String>, PlanError> {
    let mut graph: DiGraph<String, ()> = DiGraph::new();
    let mut index: BTreeMap<String, NodeIndex> = BTreeMap::new();
    for address in stack.resources.keys() {
        index.insert(address.clone(), graph.add_node(address.clone()));
    }
    for (address, decl) in &stack.resources {
        for dep in decl.dependencies() {
            if let Some(&from) = index.get(&dep) {
                graph.add_edge(from, index[address], ());
            }
        }
    }
    // Kahn's algorithm with declaration order as the tie-break.
    let position: BTreeMap<&String, usize> = stack
        .resources
        .keys()
        .enumerate()
        .map(|(i, a)| (a, i))
        .collect();
    let mut indegree: BTreeMap<NodeIndex, usize> = graph
        .node_indices()
        .map(|n| {
            (
                n,
                graph
                    .neighbors_directed(n, petgraph::Direction::Incoming)
                    .count(),
            )
        })
        .collect();
    let mut ready: BTreeSet<(usize, NodeIndex)> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(n, _)| (position[&graph[*n]], *n))
        .collect();
    let mut out = Vec::new();
    while let Some(first) = ready.iter().next().copied() {
        ready.remove(&first);
        let node = first.1;
        out.push(graph[node].clone());
        for next in graph.neighbors_directed(node, petgraph::Direction::Outgoing) {
            let d = indegree.get_mut(&next).expect("every node has an indegree");
            *d -= 1;
            if *d == 0 {
                ready.insert((position[&graph[next]], next));
            }
        }
    }
    if out.len() != stack.resources.len() {
        let stuck: Vec<String> = stack
            .resources
            .keys()
            .filter(|a| !out.contains(a))
            .cloned()
            .collect();
        return Err(PlanError::Cycle(stuck.join(", ")));
    }
    Ok(out)
}

/// Like Terraform: a replaced resource with create_before_destroy makes every replaced
/// resource it depends on create-before-destroy too, or the order could not be kept.
fn propagate_create_before_destroy(changes: &mut BTreeMap<String, ResourceChange>) {
    loop {
        let mut flip = Vec::new();
        for c in changes.values() {
            if c.action == Action::Replace && c.create_before_destroy {
                for dep in &c.dependencies {
                    if let Some(d) = changes.get(dep) {
                        if d.action == Action::Replace && !d.create_before_destroy {
                            flip.push(dep.clone());
                        }
                    }
                }
            }
        }
        if flip.is_empty() {
            return;
        }
        for address in flip {
            if let Some(c) = changes.get_mut(&address) {
                c.create_before_destroy = true;
            }
        }
    }
}

/// Keeps only the targets (resources, or every resource of a module instance) and what they
/// depend on (for destroy: what depends on them).
fn restrict_to_targets(
    changes: &mut BTreeMap<String, ResourceChange>,
    targets: &[String],
    destroy: bool,
) -> Result<(), PlanError> {
    // A target is a resource, or a module instance (`net`, `outer.inner`): every resource
    // below it.
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for t in targets {
        if changes.contains_key(t) {
            keep.insert(t.clone());
            continue;
        }
        let prefix = format!("{t}.");
        let inside: Vec<String> = changes
            .keys()
            .filter(|a| a.starts_with(&prefix))
            .cloned()
            .collect();
        if inside.is_empty() {
            return Err(PlanError::UnknownTarget(t.clone()));
        }
        keep.extend(inside);
    }
    loop {
        let before = keep.len();
        for c in changes.values() {
            if destroy {
                let deps: Vec<&String> =
                    c.prior_dependencies.iter().chain(&c.dependencies).collect();
                if deps.iter().any(|d| keep.contains(*d)) {
                    keep.insert(c.address.clone());
                }
            } else if keep.contains(&c.address) {
                keep.extend(c.dependencies.iter().cloned());
            }
        }
        if keep.len() == before {
            break;
        }
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
