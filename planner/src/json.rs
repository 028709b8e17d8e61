//! `strata plan --format json`: the plan as a documented, versioned JSON document for tools.
//!
//! The schema is `docs/plan-format.schema.json`, described in `docs/plan-format.md`. Promises:
//! - `format_version` is `MAJOR.MINOR`: a minor bump only adds fields, a major bump may change
//!   or remove them;
//! - the same plan always gives the same bytes: object keys are sorted, nothing depends on the
//!   time or the machine, and `resource_changes` come in plan order (what is depended on
//!   first, then deletions by address);
//! - a value known only after apply is `{"$unknown": true}`, a sensitive one is
//!   `{"$sensitive": true}` (its value is never written). A mapping whose only key is
//!   `$unknown` or `$sensitive` is always such a marker.

use serde_json::{json, Map as JsonMap, Value as Json};
use stacks::{Map, Value};

use crate::plan::{Action, Plan, ResourceChange};

/// The version of the JSON plan format (see the module documentation).
pub const JSON_FORMAT_VERSION: &str = "1.1";

/// The plan as the JSON document of `docs/plan-format.schema.json`.
pub fn plan_json(plan: &Plan) -> Json {
    let summary = plan.summary();
    let changes: Vec<Json> = plan.changes.iter().map(change_json).collect();
    let outputs: JsonMap<String, Json> = plan
        .outputs
        .iter()
        .map(|(name, o)| {
            let value = if o.sensitive {
                Value::Sensitive(Box::new(Value::Null))
            } else {
                o.planned.clone()
            };
            (
                name.clone(),
                json!({ "sensitive": o.sensitive, "value": value.to_marked_json(true) }),
            )
        })
        .collect();
    let mut doc = json!({
        "format_version": JSON_FORMAT_VERSION,
        "stack": plan.stack,
        "destroy": plan.destroy,
        // Before anything is recorded a state has no lineage yet (a fresh one is made each
        // run): null, so the same input still gives the same document.
        "state": {
            "lineage": (plan.serial > 0).then_some(&plan.lineage),
            "serial": plan.serial,
        },
        "source_hash": plan.source_hash,
        "has_changes": plan.has_changes(),
        "summary": {
            "add": summary.add,
            "change": summary.change,
            "replace": summary.replace,
            "destroy": summary.destroy,
        },
        "resource_changes": changes,
        "outputs": outputs,
    });
    // Added in 1.1, present only when the stack has them.
    if let Json::Object(object) = &mut doc {
        if !plan.lookups.is_empty() {
            let lookups: JsonMap<String, Json> = plan
                .lookups
                .iter()
                .map(|(name, value)| (name.clone(), value.to_marked_json(true)))
                .collect();
            object.insert("lookups".into(), Json::Object(lookups));
        }
        if !plan.consumers.is_empty() {
            object.insert("consumers".into(), json!(plan.consumers));
        }
    }
    sorted(doc)
}

/// The name of an action in the JSON format.
pub fn action_name(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no_op",
        Action::Create => "create",
        Action::Update => "update",
        Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
        Action::Delete => "delete",
    }
}

fn change_json(c: &ResourceChange) -> Json {
    let values = |m: &Option<Map>| match m {
        Some(map) => Value::Map(map.clone()).to_marked_json(true),
        None => Json::Null,
    };
    let mut json = change_fields(c, values);
    if let (Some(from), Json::Object(object)) = (&c.moved_from, &mut json) {
        object.insert("moved_from".into(), json!(from));
    }
    json
}

fn change_fields(c: &ResourceChange, values: impl Fn(&Option<Map>) -> Json) -> Json {
    json!({
        "address": c.address,
        "type": c.type_name,
        "action": action_name(c.action),
        "id": c.id,
        "before": values(&c.before),
        "after": values(&c.after),
        "changed": c.changed,
        "replace_because": c.replace_because,
        "create_before_destroy": c.create_before_destroy,
        "deleted_outside_strata": c.gone,
        "dependencies": c.dependencies,
    })
}

/// The same JSON with every object's keys in sorted order (serde_json keeps insertion order
/// in this workspace).
fn sorted(value: Json) -> Json {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<(String, Json)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::{OutputPlan, PLAN_FORMAT_VERSION};

    #[test]
    fn unknown_and_sensitive_values_are_markers_and_keys_are_sorted() {
        let change = ResourceChange {
            address: "q".into(),
            type_name: "aws.sqs.queue".into(),
            action: Action::Create,
            id: None,
            before: None,
            prior_attributes: None,
            after: Some(Map::from([
                ("z".to_string(), Value::Unknown),
                (
                    "a".to_string(),
                    Value::Sensitive(Box::new(Value::str("pw"))),
                ),
            ])),
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
        };
        let plan = Plan {
            format_version: PLAN_FORMAT_VERSION,
            stack: "s".into(),
            lineage: "l".into(),
            serial: 0,
            source_hash: "h".into(),
            destroy: false,
            changes: vec![change],
            steps: vec![],
            outputs: BTreeMap::from([(
                "secret".to_string(),
                OutputPlan {
                    value: stacks::Expr::value("pw"),
                    sensitive: true,
                    planned: Value::str("pw"),
                },
            )]),
            builtins: BTreeMap::new(),
            targets: Vec::new(),
            lookups: BTreeMap::new(),
            consumers: BTreeMap::new(),
        };
        let json = plan_json(&plan);
        let text = serde_json::to_string(&json).unwrap();
        assert!(!text.contains("pw"), "{text}");
        let after = &json["resource_changes"][0]["after"];
        assert_eq!(after["z"], json!({ "$unknown": true }));
        assert_eq!(after["a"], json!({ "$sensitive": true }));
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort();
        assert_eq!(keys, sorted_keys);
    }
}
