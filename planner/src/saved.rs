//! Keeping secrets out of plans that leave the process, and putting them back for `apply`.
//!
//! A plan carries values that may be secret: literal expressions under a sensitive marker
//! (schema-sensitive properties, sensitive outputs), values that referenced them, and values of
//! schema-sensitive properties read back from AWS or the state (which come back unmarked).
//! [`mark_sensitive`] marks the latter by the catalog, so every printer shows `(sensitive)`;
//! [`redact`] then replaces every sensitive value by a placeholder, for a saved plan file.
//!
//! [`restore`] undoes the redaction when a saved plan is applied. It is given the stack loaded
//! again (the caller checks that its `source_hash` is the plan's, so its expressions are the
//! ones planned) and the state (the caller checks it is the one planned against):
//! - `config` comes from the stack's resource declarations, `outputs[].value` from its outputs;
//! - a redacted `before` or `prior_attributes` entry comes from the state's recorded value
//!   (for a refreshed plan, what strata last applied rather than what AWS returned);
//! - a redacted `after` entry (and a redacted output's planned value) is evaluated again from
//!   the stack's expression against the restored plan, exactly as the planner evaluated it.

use std::collections::BTreeMap;

use stacks::{Catalog, Expr, Map, Stack, Value};
use state::State;

use crate::plan::{Plan, ResourceChange};
use crate::scope::Known;

/// `value` with a sensitive marker wherever `template` (the stack's evaluated value of the same
/// property) has one: what the stack treats as secret, a sensitive param, stays secret in what
/// AWS returns and the state recorded, which come back unmarked.
pub fn mark_like(value: Value, template: &Value) -> Value {
    match (value, template) {
        (v @ (Value::Sensitive(_) | Value::Unknown), _) => v,
        (v, Value::Sensitive(_)) => Value::Sensitive(Box::new(v)),
        (Value::Map(map), Value::Map(t)) => Value::Map(
            map.into_iter()
                .map(|(k, v)| match t.get(&k) {
                    Some(tv) => (k, mark_like(v, tv)),
                    None => (k, v),
                })
                .collect(),
        ),
        (Value::List(items), Value::List(t)) if items.len() == t.len() => Value::List(
            items
                .into_iter()
                .zip(t)
                .map(|(v, tv)| mark_like(v, tv))
                .collect(),
        ),
        (v, _) => v,
    }
}

/// [`mark_like`] for every property of `values` that `templates` has.
pub fn mark_map_like(values: Map, templates: &Map) -> Map {
    values
        .into_iter()
        .map(|(k, v)| match templates.get(&k) {
            Some(t) => (k, mark_like(v, t)),
            None => (k, v),
        })
        .collect()
}

/// What a saved plan holds in place of a sensitive value: `{"$sensitive": true}` in JSON.
pub fn placeholder() -> Value {
    Value::Sensitive(Box::new(Value::Bool(true)))
}

/// Why a saved plan cannot be put back together.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RestoreError {
    #[error("the plan changes `{0}`, which the stack no longer declares")]
    NotDeclared(String),
    #[error("the plan's `{address}` differs from the stack's declaration of it ({what})")]
    Differs { address: String, what: String },
    #[error("the sensitive value of `{address}.{key}` is not in the state")]
    Missing { address: String, key: String },
}

/// Marks, in one change, the properties its type says are sensitive (as [`Value::Sensitive`] in
/// `before`, `after` and `prior_attributes`). The planner calls it for every change when it
/// makes the plan, so no printer has to remember to.
pub fn mark_change(change: &mut ResourceChange, catalog: &Catalog) {
    let Some(schema) = catalog.get(&change.type_name) else {
        return;
    };
    let secret: Vec<&str> = schema
        .props
        .iter()
        .filter(|p| p.sensitive)
        .map(|p| p.name)
        .collect();
    if secret.is_empty() {
        return;
    }
    for map in [
        change.before.as_mut(),
        change.after.as_mut(),
        change.prior_attributes.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        for key in &secret {
            if let Some(v) = map.get_mut(*key) {
                if !matches!(v, Value::Sensitive(_) | Value::Null | Value::Unknown) {
                    *v = Value::Sensitive(Box::new(v.clone()));
                }
            }
        }
    }
}

/// The plan as a saved plan file holds it: every sensitive value (in values and in literal
/// expressions) replaced by [`placeholder`]. The plan is marked when it is made.
pub fn redact(plan: &Plan) -> Plan {
    let mut plan = plan.clone();
    for change in &mut plan.changes {
        for map in [
            change.before.as_mut(),
            change.after.as_mut(),
            change.prior_attributes.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            redact_map(map);
        }
        for expr in change.config.values_mut() {
            *expr = redact_expr(expr);
        }
    }
    for output in plan.outputs.values_mut() {
        output.value = redact_expr(&output.value);
        output.planned = redact_value(&output.planned);
    }
    redact_map(&mut plan.builtins);
    plan
}

fn redact_map(map: &mut Map) {
    for v in map.values_mut() {
        *v = redact_value(v);
    }
}

fn redact_value(value: &Value) -> Value {
    match value {
        Value::Sensitive(_) => placeholder(),
        Value::List(items) => Value::List(items.iter().map(redact_value).collect()),
        Value::Map(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), redact_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn redact_expr(expr: &Expr) -> Expr {
    match expr {
        Expr::Sensitive { .. } => Expr::Sensitive {
            inner: Box::new(Expr::Value {
                value: Value::Bool(true),
            }),
        },
        Expr::Value { value } => Expr::Value {
            value: redact_value(value),
        },
        Expr::List { items } => Expr::List {
            items: items.iter().map(redact_expr).collect(),
        },
        Expr::Map { entries } => Expr::Map {
            entries: entries
                .iter()
                .map(|(k, e)| (k.clone(), redact_expr(e)))
                .collect(),
        },
        Expr::Lang { ast, at } => Expr::Lang {
            ast: Box::new(
                ast.map_leaves(&redact_value, &|_| stacks::lang::Ast::Value {
                    value: Value::Bool(true),
                }),
            ),
            at: at.clone(),
        },
        other @ (Expr::Ref { .. } | Expr::Concat { .. }) => other.clone(),
    }
}

/// Puts a redacted plan back together for apply; see the module documentation. `stack` must
/// be the stack the plan was made from and `state` the state it was made against.
pub fn restore(saved: Plan, stack: &Stack, state: &State) -> Result<Plan, RestoreError> {
    let mut plan = saved;
    let builtins = plan.builtins.clone();
    let mut scope = Known::new(builtins);
    for change in &mut plan.changes {
        restore_change(change, stack, state, &scope)?;
        if let Some(after) = &change.after {
            let attrs = change.attributes_for_dependants();
            scope.insert(&change.address, after.clone(), attrs);
        }
    }
    for (name, output) in &mut plan.outputs {
        let decl = stack
            .outputs
            .get(name)
            .ok_or_else(|| RestoreError::Differs {
                address: format!("outputs.{name}"),
                what: "the output is no longer declared".into(),
            })?;
        if redact_expr(&decl.value) != output.value {
            return Err(RestoreError::Differs {
                address: format!("outputs.{name}"),
                what: "its value".into(),
            });
        }
        output.value = decl.value.clone();
        if output.planned.has_sensitive() {
            output.planned = output.value.eval(&scope);
        }
    }
    Ok(plan)
}

fn restore_change(
    change: &mut ResourceChange,
    stack: &Stack,
    state: &State,
    scope: &Known,
) -> Result<(), RestoreError> {
    let recorded = state.resources.get(&change.address);
    let from_state = |map: &mut Map, recorded: Option<&Map>| -> Result<(), RestoreError> {
        for (key, value) in map.iter_mut() {
            if value.has_sensitive() {
                let found =
                    recorded
                        .and_then(|r| r.get(key))
                        .ok_or_else(|| RestoreError::Missing {
                            address: change.address.clone(),
                            key: key.clone(),
                        })?;
                // Still secret: restored values keep their marker.
                *value = match found {
                    Value::Sensitive(_) => found.clone(),
                    other => Value::Sensitive(Box::new(other.clone())),
                };
            }
        }
        Ok(())
    };
    if let Some(before) = change.before.as_mut() {
        from_state(before, recorded.map(|r| &r.properties))?;
    }
    if let Some(attrs) = change.prior_attributes.as_mut() {
        from_state(attrs, recorded.map(|r| &r.attributes))?;
    }

    if change.after.is_none() {
        // A delete: nothing of the stack is involved.
        return Ok(());
    }
    let decl = stack
        .resources
        .get(&change.address)
        .ok_or_else(|| RestoreError::NotDeclared(change.address.clone()))?;
    let redacted: BTreeMap<String, Expr> = decl
        .properties
        .iter()
        .map(|(k, e)| (k.clone(), redact_expr(e)))
        .collect();
    if redacted != change.config {
        return Err(RestoreError::Differs {
            address: change.address.clone(),
            what: "its properties".into(),
        });
    }
    change.config = decl.properties.clone();
    let before = change.before.clone().unwrap_or_default();
    if let Some(after) = change.after.as_mut() {
        for (key, value) in after.iter_mut() {
            if !value.has_sensitive() {
                continue;
            }
            let ignored = decl.lifecycle.ignore_changes.contains(key);
            *value = match (ignored, before.get(key)) {
                (true, Some(old)) => old.clone(),
                _ => match decl.properties.get(key) {
                    Some(expr) => expr.eval(scope),
                    None => {
                        return Err(RestoreError::Differs {
                            address: change.address.clone(),
                            what: format!("`{key}` is not declared"),
                        })
                    }
                },
            };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, OutputPlan, PLAN_FORMAT_VERSION};
    use stacks::{Kind, Lifecycle, OutputDecl, Prop, ResourceDecl, TypeSchema};

    fn secret(v: &str) -> Value {
        Value::Sensitive(Box::new(Value::str(v)))
    }

    fn catalog() -> Catalog {
        Catalog::new([TypeSchema {
            type_name: "test.db",
            props: vec![
                Prop::new("password", Kind::String).sensitive(),
                Prop::new("size", Kind::Integer),
            ],
            attrs: vec!["endpoint"],
            taggable: false,
            check: None,
            name_rule: None,
        }])
    }

    fn stack() -> Stack {
        let decl = ResourceDecl {
            address: "db".into(),
            type_name: "test.db".into(),
            properties: BTreeMap::from([
                (
                    "password".to_string(),
                    Expr::Sensitive {
                        inner: Box::new(Expr::value("n3w-s3cret")),
                    },
                ),
                ("size".to_string(), Expr::value(10i64)),
            ]),
            depends_on: vec![],
            lifecycle: Lifecycle::default(),
            name_prefix: None,
            pos: Default::default(),
            property_pos: Default::default(),
        };
        Stack {
            name: "s".into(),
            description: None,
            region: None,
            tags: BTreeMap::new(),
            params: BTreeMap::new(),
            backend: stacks::Backend::Local {
                path: ".strata".into(),
            },
            local_paths: Vec::new(),
            moved: Vec::new(),
            lookups: Default::default(),
            stack_refs: Default::default(),
            read_values: Default::default(),
            stack_ref_uses: Default::default(),
            resources: [("db".to_string(), decl)].into_iter().collect(),
            outputs: [(
                "token".to_string(),
                OutputDecl {
                    value: Expr::Sensitive {
                        inner: Box::new(Expr::value("t0ken")),
                    },
                    sensitive: true,
                    description: None,
                },
            )]
            .into_iter()
            .collect(),
            path: "stack.yaml".into(),
            source_hash: "h".into(),
            graph: Default::default(),
        }
    }

    fn plan(stack: &Stack) -> Plan {
        let decl = &stack.resources["db"];
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            stack: "s".into(),
            lineage: "l".into(),
            serial: 1,
            source_hash: "h".into(),
            destroy: false,
            changes: vec![ResourceChange {
                address: "db".into(),
                type_name: "test.db".into(),
                action: Action::Update,
                id: Some("db-1".into()),
                before: Some(Map::from([
                    ("password".to_string(), Value::str("old-s3cret")),
                    ("size".to_string(), Value::int(10)),
                ])),
                prior_attributes: Some(Map::from([(
                    "endpoint".to_string(),
                    Value::str("db.example"),
                )])),
                after: Some(Map::from([
                    ("password".to_string(), secret("n3w-s3cret")),
                    ("size".to_string(), Value::int(10)),
                ])),
                config: decl.properties.clone(),
                changed: vec!["password".into()],
                replace_because: vec![],
                create_before_destroy: false,
                dependencies: vec![],
                prior_dependencies: vec![],
                gone: false,
                tainted: false,
                unknown_attributes: Vec::new(),
                moved_from: None,
            }],
            steps: vec![],
            outputs: BTreeMap::from([(
                "token".to_string(),
                OutputPlan {
                    value: stack.outputs["token"].value.clone(),
                    sensitive: true,
                    planned: secret("t0ken"),
                },
            )]),
            builtins: BTreeMap::new(),
            targets: Vec::new(),
            lookups: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    fn state() -> State {
        let mut state = State::new("s");
        state.resources.insert(
            "db".into(),
            state::ResourceState {
                type_name: "test.db".into(),
                id: "db-1".into(),
                properties: Map::from([
                    ("password".to_string(), Value::str("old-s3cret")),
                    ("size".to_string(), Value::int(10)),
                ]),
                attributes: Map::from([("endpoint".to_string(), Value::str("db.example"))]),
                dependencies: vec![],
                create_before_destroy: false,
                tainted: false,
                sensitive: Vec::new(),
            },
        );
        state
    }

    #[test]
    fn a_redacted_plan_holds_no_secret_and_restores_to_the_plan_with_markers() {
        let stack = stack();
        // The planner marks what the type says is secret when it makes the plan.
        let mut original = plan(&stack);
        for change in &mut original.changes {
            mark_change(change, &catalog());
        }
        assert_eq!(
            original.changes[0].before.as_ref().unwrap()["password"],
            secret("old-s3cret")
        );
        let redacted = redact(&original);
        let text = serde_json::to_string(&redacted).unwrap();
        for secret in ["old-s3cret", "n3w-s3cret", "t0ken"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let read: Plan = serde_json::from_str(&text).unwrap();
        let restored = restore(read, &stack, &state()).unwrap();
        assert_eq!(restored, original);
    }

    #[test]
    fn a_plan_whose_expressions_differ_from_the_stack_is_refused() {
        let stack = stack();
        let redacted = redact(&plan(&stack));
        let mut other = stack.clone();
        other
            .resources
            .get_mut("db")
            .unwrap()
            .properties
            .insert("size".into(), Expr::value(20i64));
        let err = restore(redacted, &other, &state()).unwrap_err();
        assert!(matches!(err, RestoreError::Differs { .. }), "{err}");
    }
}
