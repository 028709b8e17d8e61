//! The plan: a plain, serializable value that says what apply will do, per address.
//!
//! Like Terraform's saved plans, a [`Plan`] can be printed, written to a file and applied
//! later exactly as written: the executor walks it and never re-diffs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stacks::{Expr, Map, Value};

/// Bumped whenever the serialized shape of a plan changes incompatibly (2: explicit steps,
/// replacements as two distinct actions; 3: expressions of the language in `config` and
/// output values, `Expr::Lang`).
pub const PLAN_FORMAT_VERSION: u32 = 3;

/// What happens to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Replaced: the old object is deleted first, then the new one created (the default).
    DeleteThenCreate,
    /// Replaced with `create_before_destroy`: the new object first, the old one deleted once
    /// everything that used it points at the new one.
    CreateThenDelete,
    Delete,
}

impl Action {
    /// The symbol shown in plans (SPEC §7).
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::CreateThenDelete => "+/-",
            Action::DeleteThenCreate => "-/+",
            Action::Delete => "-",
        }
    }

    /// Either kind of replacement.
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    /// The replacement of this kind: create-then-delete when `create_before_destroy`.
    pub fn replace(create_before_destroy: bool) -> Action {
        if create_before_destroy {
            Action::CreateThenDelete
        } else {
            Action::DeleteThenCreate
        }
    }
}

/// One kind of step the executor runs: one provider call and its state record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// A new resource.
    Create,
    /// A change in place.
    Update,
    /// A resource the stack no longer declares (or every one, for destroy).
    Delete,
    /// The new object of a replacement.
    CreateReplacement,
    /// The old object of a replacement (recorded as `ADDRESS#deposed` meanwhile when it is
    /// deleted after the new one was created).
    DeleteReplaced,
}

impl StepKind {
    /// Whether the step deletes an object.
    pub fn deletes(self) -> bool {
        matches!(self, StepKind::Delete | StepKind::DeleteReplaced)
    }

    /// How the step reads in progress lines: `creating` / `created`.
    pub fn verb(self) -> (&'static str, &'static str) {
        match self {
            StepKind::Create | StepKind::CreateReplacement => ("creating", "created"),
            StepKind::Update => ("updating", "updated"),
            StepKind::Delete | StepKind::DeleteReplaced => ("destroying", "destroyed"),
        }
    }

    /// The operation's name in JSON events: `create`, `update` or `delete`.
    pub fn operation(self) -> &'static str {
        match self {
            StepKind::Create | StepKind::CreateReplacement => "create",
            StepKind::Update => "update",
            StepKind::Delete | StepKind::DeleteReplaced => "delete",
        }
    }
}

/// One step of a plan and the steps it waits for. The planner decides every edge; the
/// executor starts a step once all it waits for have finished, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The resource's address (its [`ResourceChange`] in the plan).
    pub address: String,
    pub kind: StepKind,
    /// Indices into [`Plan::steps`] of the steps that must finish first.
    pub waits_for: Vec<usize>,
}

/// The planned change of one resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: String,
    pub type_name: String,
    pub action: Action,
    /// The physical id of the existing resource (update, replace, delete, no-op).
    pub id: Option<String>,
    /// Properties before: refreshed from AWS, or as recorded with `--refresh=false`.
    pub before: Option<Map>,
    /// Attributes recorded in the state for the existing resource.
    pub prior_attributes: Option<Map>,
    /// Properties after apply; unknown values are [`Value::Unknown`].
    pub after: Option<Map>,
    /// The expressions behind `after`, evaluated again at apply as upstream results arrive.
    pub config: BTreeMap<String, Expr>,
    /// Properties whose value changes.
    pub changed: Vec<String>,
    /// Properties that force the replacement.
    pub replace_because: Vec<String>,
    /// The replacement creates the new resource before deleting the old one.
    pub create_before_destroy: bool,
    /// What the new resource depends on (its references and `depends_on`).
    pub dependencies: Vec<String>,
    /// What the existing resource depended on, from the state: deletes follow these reversed.
    pub prior_dependencies: Vec<String>,
    /// The resource was recorded but no longer exists in AWS: it is created again.
    #[serde(default)]
    pub gone: bool,
    /// The existing object is tainted (its create failed after it was made): it is replaced
    /// whatever its properties say.
    #[serde(default)]
    pub tainted: bool,
    /// Attributes an update may change (the changed properties' `updates_attrs`): dependants
    /// see them as unknown until the update returns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_attributes: Vec<String>,
    /// The address the state records this resource under, renamed to this one by a `moved`
    /// entry when the plan is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
}

impl ResourceChange {
    /// The attributes dependants may read of this resource before it is applied: those
    /// recorded, for a no-op or an update (less what the update may change); none for a
    /// create or a replacement, whose attributes are all known only after apply.
    pub fn attributes_for_dependants(&self) -> Option<Map> {
        match self.action {
            Action::NoOp | Action::Update => self.prior_attributes.clone().map(|mut attrs| {
                for name in &self.unknown_attributes {
                    attrs.insert(name.clone(), Value::Unknown);
                }
                attrs
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
impl ResourceChange {
    /// A change of a queue at `address` with nothing known of it, for tests to fill in.
    pub(crate) fn bare(address: &str, action: Action) -> ResourceChange {
        ResourceChange {
            address: address.into(),
            type_name: "aws.sqs.queue".into(),
            action,
            id: None,
            before: None,
            prior_attributes: None,
            after: None,
            config: BTreeMap::new(),
            changed: vec![],
            replace_because: vec![],
            create_before_destroy: false,
            dependencies: vec![],
            prior_dependencies: vec![],
            gone: false,
            tainted: false,
            unknown_attributes: Vec::new(),
            moved_from: None,
        }
    }
}

/// One output, evaluated after apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputPlan {
    pub value: Expr,
    pub sensitive: bool,
    /// The value as far as it is known at plan time.
    pub planned: Value,
}

/// The summary counts shown on the last line of a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
}

/// A whole plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub stack: String,
    /// The state it was made against: a saved plan applies only to that exact state.
    pub lineage: String,
    pub serial: u64,
    /// Hash of the stack file and params it was made from.
    pub source_hash: String,
    /// A `--destroy` plan.
    pub destroy: bool,
    /// Changes in dependency order (what is depended on first), no-ops included.
    pub changes: Vec<ResourceChange>,
    /// What the executor does, and in which order: see [`Step`].
    pub steps: Vec<Step>,
    pub outputs: BTreeMap<String, OutputPlan>,
    /// Values of built-ins (`aws.region`, `aws.account_id`) the plan was made with.
    pub builtins: BTreeMap<String, Value>,
    /// The `--target` addresses it was restricted to (none: the whole stack).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// What each of the stack's lookups read (SPEC §10).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lookups: BTreeMap<String, Value>,
    /// Outputs this plan changes or removes that other stacks read (`stack_refs`), with those
    /// stacks' names (SPEC §11).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub consumers: BTreeMap<String, Vec<String>>,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => s.replace += 1,
                Action::Delete => s.destroy += 1,
                Action::NoOp => {}
            }
        }
        s
    }

    /// True when applying would change anything in AWS or in the state (a `moved` rename).
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.action != Action::NoOp || c.moved_from.is_some())
    }

    /// The `moved` renames this plan makes in the state: `(from, to)`.
    pub fn moves(&self) -> impl Iterator<Item = (&str, &str)> {
        self.changes.iter().filter_map(|c| {
            c.moved_from
                .as_deref()
                .map(|from| (from, c.address.as_str()))
        })
    }

    /// The planned change of `address`.
    pub fn change(&self, address: &str) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| c.address == address)
    }
}
