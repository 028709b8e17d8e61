//! The steps of a plan and the edges between them: the planner's decision of what runs in which
//! order, written into the [`Plan`] so that the executor only walks it (Pulumi's step generator).
//!
//! The rules:
//! - creates and updates wait for the creates and updates of what they depend on;
//! - deletes go in reverse: a resource's delete waits for the deletes of what depended on it;
//! - a delete-then-create replacement deletes, then creates; a create-then-delete one creates,
//!   then deletes;
//! - a deleted object (a removed resource, or the old object of a create-then-delete
//!   replacement) goes only after everything that referenced it was pointed elsewhere.

use std::collections::{BTreeSet, HashMap};

use crate::plan::{Action, ResourceChange, Step, StepKind};

/// The steps for `changes` (in plan order), each with the steps it waits for. Linear in the
/// number of changes and references: everything is looked up by address.
pub fn plan_steps(changes: &[ResourceChange]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut index: HashMap<(&str, Role), usize> = HashMap::new();
    for c in changes {
        for (role, kind) in kinds(c.action) {
            index.insert((c.address.as_str(), role), steps.len());
            steps.push(Step {
                address: c.address.clone(),
                kind,
                waits_for: Vec::new(),
            });
        }
    }
    let by_address: HashMap<&str, &ResourceChange> =
        changes.iter().map(|c| (c.address.as_str(), c)).collect();
    // Who refers to each address: in the recorded state, and in the stack.
    let mut referred_before: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut referred_now: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in changes {
        for dep in &c.prior_dependencies {
            referred_before
                .entry(dep.as_str())
                .or_default()
                .push(c.address.as_str());
        }
        for dep in &c.dependencies {
            referred_now
                .entry(dep.as_str())
                .or_default()
                .push(c.address.as_str());
        }
    }
    let mut waits: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); steps.len()];
    let mut edge = |before: Option<usize>, after: Option<usize>| {
        if let (Some(b), Some(a)) = (before, after) {
            if a != b {
                waits[a].insert(b);
            }
        }
    };

    for c in changes {
        let me = c.address.as_str();
        for dep in &c.dependencies {
            if by_address.contains_key(dep.as_str()) {
                edge(
                    step_of(&index, dep, Role::Forward),
                    step_of(&index, me, Role::Forward),
                );
            }
        }
        for dep in &c.prior_dependencies {
            if by_address.contains_key(dep.as_str()) {
                edge(
                    step_of(&index, me, Role::Delete),
                    step_of(&index, dep, Role::Delete),
                );
            }
        }
        match c.action {
            Action::DeleteThenCreate => edge(
                step_of(&index, me, Role::Delete),
                step_of(&index, me, Role::Forward),
            ),
            Action::CreateThenDelete => edge(
                step_of(&index, me, Role::Forward),
                step_of(&index, me, Role::Delete),
            ),
            _ => {}
        }
    }
    for c in changes {
        if !matches!(c.action, Action::Delete | Action::CreateThenDelete) {
            continue;
        }
        let me = c.address.as_str();
        let referrers = referred_before.get(me).into_iter().flatten().chain(
            c.action
                .is_replace()
                .then(|| referred_now.get(me))
                .flatten()
                .into_iter()
                .flatten(),
        );
        for &other in referrers.filter(|o| **o != me) {
            edge(
                step_of(&index, other, Role::Forward),
                step_of(&index, me, Role::Delete),
            );
        }
    }
    for (step, waits) in steps.iter_mut().zip(waits) {
        step.waits_for = waits.into_iter().collect();
    }
    steps
}

/// The index of `address`'s step in `role`, if it has one.
fn step_of<'k>(
    index: &HashMap<(&'k str, Role), usize>,
    address: &'k str,
    role: Role,
) -> Option<usize> {
    index.get(&(address, role)).copied()
}

/// The two places a resource's steps take: the create or update, and the delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Role {
    Forward,
    Delete,
}

/// The steps of an action, deletes listed first.
fn kinds(action: Action) -> Vec<(Role, StepKind)> {
    match action {
        Action::NoOp => vec![],
        Action::Create => vec![(Role::Forward, StepKind::Create)],
        Action::Update => vec![(Role::Forward, StepKind::Update)],
        Action::Delete => vec![(Role::Delete, StepKind::Delete)],
        Action::DeleteThenCreate | Action::CreateThenDelete => vec![
            (Role::Delete, StepKind::DeleteReplaced),
            (Role::Forward, StepKind::CreateReplacement),
        ],
    }
}
