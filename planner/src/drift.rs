//! Drift: what changed in AWS behind strata's back, resource by resource and property by
//! property, compared with what strata recorded as applied.
//!
//! Only properties strata applied (those in the state) are compared, the way the planner
//! compares them ([`equivalent`] with the schema's kinds: documents semantically, numbers by
//! value). A resource that no longer exists is reported as deleted. Detecting drift never
//! changes anything; fixing it is `strata apply` (or changing the stack to match).

use std::collections::BTreeMap;
use std::fmt::Write;

use stacks::{Catalog, Kind, Map, Value};
use state::State;

use crate::compare::equivalent;
use crate::diff::Live;
use crate::render::{write_change, Style};

/// One property whose live value differs from the recorded one.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyDrift {
    pub name: String,
    /// As strata applied it (sensitive properties marked).
    pub recorded: Value,
    /// As AWS has it now (sensitive properties marked).
    pub live: Value,
}

/// What happened to one resource.
#[derive(Clone, Debug, PartialEq)]
pub enum Drifted {
    /// It exists, and these properties differ.
    Changed(Vec<PropertyDrift>),
    /// It no longer exists.
    Deleted,
}

/// One resource that drifted.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDrift {
    pub address: String,
    pub type_name: String,
    pub id: String,
    pub drifted: Drifted,
}

/// Every resource of a state compared with AWS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DriftReport {
    /// Drifted resources, by address.
    pub resources: Vec<ResourceDrift>,
    /// How many resources match what was recorded.
    pub unchanged: usize,
}

impl DriftReport {
    pub fn has_drift(&self) -> bool {
        !self.resources.is_empty()
    }
}

/// Compares every resource of `state` with what refreshing found (`live`, from
/// [`crate::refresh::refresh`]). A resource missing from `live` was not read and is counted as
/// unchanged. `marks` holds, by address, the stack's evaluated properties: a value they mark
/// sensitive (from a sensitive param) is shown as `(sensitive)` on both sides.
pub fn detect(
    state: &State,
    live: &BTreeMap<String, Option<Live>>,
    catalog: &Catalog,
    marks: &BTreeMap<String, Map>,
) -> DriftReport {
    let mut report = DriftReport::default();
    for (address, recorded) in &state.resources {
        let schema = catalog.get(&recorded.type_name);
        let drifted = match live.get(address) {
            None => None,
            Some(None) => Some(Drifted::Deleted),
            Some(Some(found)) => {
                let mut props = Vec::new();
                // What was sensitive when recorded stays hidden, in both columns.
                let hidden = stacks::mark_paths(recorded.properties.clone(), &recorded.sensitive);
                let live = stacks::mark_paths(found.properties.clone(), &recorded.sensitive);
                for (name, applied) in &recorded.properties {
                    let prop = schema.and_then(|s| s.prop(name));
                    let kind = prop.map(|p| p.kind.clone()).unwrap_or(Kind::Any);
                    let now = found.properties.get(name).cloned().unwrap_or(Value::Null);
                    let same = match found.properties.get(name) {
                        Some(actual) => equivalent(&kind, applied, actual),
                        None => matches!(applied, Value::Null),
                    };
                    if !same {
                        let secret = prop.is_some_and(|p| p.sensitive);
                        let mark = |v: Value| {
                            if secret {
                                Value::Sensitive(Box::new(v))
                            } else {
                                v
                            }
                        };
                        let template = marks.get(address).and_then(|m| m.get(name));
                        let mark_like = |v: Value| match template {
                            Some(t) => crate::saved::mark_like(v, t),
                            None => v,
                        };
                        let recorded_mark = hidden.get(name).cloned().unwrap_or(Value::Null);
                        let live_mark = live.get(name).cloned().unwrap_or(Value::Null);
                        props.push(PropertyDrift {
                            name: name.clone(),
                            recorded: mark_like(mark(crate::saved::mark_like(
                                applied.clone(),
                                &recorded_mark,
                            ))),
                            live: mark_like(mark(crate::saved::mark_like(now, &live_mark))),
                        });
                    }
                }
                (!props.is_empty()).then_some(Drifted::Changed(props))
            }
        };
        match drifted {
            Some(drifted) => report.resources.push(ResourceDrift {
                address: address.clone(),
                type_name: recorded.type_name.clone(),
                id: recorded.id.clone(),
                drifted,
            }),
            None => report.unchanged += 1,
        }
    }
    report
}

/// The report as a person reads it: per resource, `recorded -> live` per property, and a
/// summary line last.
pub fn render_drift(report: &DriftReport, style: Style) -> String {
    let mut out = String::new();
    let mut changed = 0;
    let mut deleted = 0;
    for r in &report.resources {
        match &r.drifted {
            Drifted::Changed(props) => {
                changed += 1;
                let header = format!("~ {} ({}) changed outside strata", r.address, r.type_name);
                let _ = writeln!(
                    out,
                    "  {}",
                    style.paint(anstyle::AnsiColor::Yellow, &header)
                );
                let _ = writeln!(out, "      id: {}", r.id);
                for p in props {
                    write_change(&mut out, &p.name, &p.recorded, &p.live, "");
                }
            }
            Drifted::Deleted => {
                deleted += 1;
                let header = format!(
                    "- {} ({}) was deleted outside strata",
                    r.address, r.type_name
                );
                let _ = writeln!(out, "  {}", style.paint(anstyle::AnsiColor::Red, &header));
                let _ = writeln!(out, "      id: {}", r.id);
            }
        }
        out.push('\n');
    }
    if report.has_drift() {
        let _ = writeln!(
            out,
            "Drift: {changed} changed, {deleted} deleted, {} unchanged. Values read `recorded -> live`.",
            report.unchanged
        );
        out.push_str(
            "Run `strata plan` to see what apply would do about it, or change the stack to match.\n",
        );
    } else {
        let _ = writeln!(
            out,
            "No drift: {} resource{} match{} what strata applied.",
            report.unchanged,
            if report.unchanged == 1 { "" } else { "s" },
            if report.unchanged == 1 { "es" } else { "" }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use stacks::{Map, Prop, TypeSchema};
    use state::ResourceState;

    fn catalog() -> Catalog {
        Catalog::new([TypeSchema {
            type_name: "test.queue",
            props: vec![
                Prop::new("timeout", Kind::Integer),
                Prop::new("policy", Kind::Document),
                Prop::new("password", Kind::String).sensitive(),
            ],
            attrs: vec![],
            taggable: false,
            check: None,
            name_rule: None,
        }])
    }

    fn resource(props: Map) -> ResourceState {
        ResourceState {
            type_name: "test.queue".into(),
            id: "q-1".into(),
            properties: props,
            attributes: Map::new(),
            dependencies: vec![],
            create_before_destroy: false,
            tainted: false,
            sensitive: Vec::new(),
        }
    }

    #[test]
    fn changed_properties_and_deleted_resources_are_reported_and_secrets_stay_hidden() {
        let mut state = State::new("s");
        let applied = Map::from([
            ("timeout".to_string(), Value::int(45)),
            ("password".to_string(), Value::str("pw-old")),
            (
                "policy".to_string(),
                Value::from_json(serde_json::json!({"Statement": {"Effect": "Allow"}})),
            ),
        ]);
        state
            .resources
            .insert("a".into(), resource(applied.clone()));
        state
            .resources
            .insert("b".into(), resource(applied.clone()));
        state
            .resources
            .insert("c".into(), resource(applied.clone()));
        let mut changed = applied.clone();
        changed.insert("timeout".into(), Value::int(120));
        changed.insert("password".into(), Value::str("pw-new"));
        // The same document as a JSON string with a one-element list: no drift.
        changed.insert(
            "policy".into(),
            Value::str(r#"{"Statement":[{"Effect":"Allow"}]}"#),
        );
        changed.insert("unmanaged".into(), Value::str("x"));
        let live = BTreeMap::from([
            (
                "a".to_string(),
                Some(Live {
                    id: "q-1".into(),
                    properties: changed,
                    attributes: Map::new(),
                }),
            ),
            ("b".to_string(), None),
            (
                "c".to_string(),
                Some(Live {
                    id: "q-1".into(),
                    properties: applied,
                    attributes: Map::new(),
                }),
            ),
        ]);
        let report = detect(&state, &live, &catalog(), &BTreeMap::new());
        assert_eq!(report.unchanged, 1);
        assert_eq!(report.resources.len(), 2);
        let Drifted::Changed(props) = &report.resources[0].drifted else {
            panic!("a changed")
        };
        let names: Vec<&str> = props.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["password", "timeout"]);
        assert_eq!(report.resources[1].drifted, Drifted::Deleted);
        let text = render_drift(&report, Style { color: false });
        assert!(!text.contains("pw-"), "{text}");
        insta::assert_snapshot!(text);
    }
}
