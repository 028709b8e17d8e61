//! `count`, `for_each` and `condition`: how many instances a resource stamps out, each under
//! its own address (`subnets[0]`, `queues["main"]`), and what `${each.key}`, `${each.value}`,
//! `${count.index}` and `${RES["key"].ATTR}` / `${RES[*].ATTR}` stand for.
//!
//! The instances of a resource are worked out on first use (a reference to them may come
//! before the resource in the file), from values known when the stack is loaded: params,
//! locals, literals and functions of those. One that needs a value known only after apply is
//! an error naming that value.

use std::collections::BTreeMap;

use crate::expr::Reference;
use crate::lang::{Ast, LangError};
use crate::names::InstanceKey;
use crate::suggest::hint;
use crate::value::Value;
use crate::yaml::{Key, Node, Pos};

use super::loader::Loader;
use super::parts::{Current, Edge, Instance, Instances, Place, Repeat};

/// The keys of a resource that stamp out instances (at most one of them).
pub(crate) const REPEAT_KEYS: &[&str] = &["count", "for_each", "condition"];

/// The most instances one resource may have: a typo (`count: 100000000`) must not exhaust
/// memory.
const MAX_INSTANCES: usize = 10_000;

impl<'c> Loader<'c> {
    /// Records the `count`, `for_each` or `condition` of resource `name` (reporting more than
    /// one of them), to be worked out on first use.
    pub(crate) fn declare_repeat(&mut self, name: &str, entries: &[(Key, Node)]) {
        let given: Vec<&(Key, Node)> = entries
            .iter()
            .filter(|(k, _)| REPEAT_KEYS.contains(&k.name.as_str()))
            .collect();
        if let [first, second, ..] = given.as_slice() {
            self.error(
                second.0.pos,
                format!(
                    "resource `{name}` has both `{}` and `{}`",
                    first.0.name, second.0.name
                ),
                Some("keep one of `count`, `for_each` and `condition`".into()),
            );
            self.repeats
                .insert(name.to_string(), ("count", Repeat::Done(None)));
            return;
        }
        if let Some((key, node)) = given.first() {
            let kind = REPEAT_KEYS
                .iter()
                .copied()
                .find(|k| *k == key.name)
                .unwrap_or("count");
            self.repeats.insert(
                name.to_string(),
                (
                    kind,
                    Repeat::Pending {
                        kind,
                        node: node.clone(),
                    },
                ),
            );
        }
    }

    /// The instances of resource `name` of this file (worked out on first use); `None` when
    /// its `count`/`for_each`/`condition` has errors (reported).
    pub(crate) fn instances_of(&mut self, name: &str) -> Option<Instances> {
        let (kind, node) = match self.repeats.get(name) {
            None => return Some(Instances::Single),
            Some((_, Repeat::Done(done))) => return done.clone(),
            Some((_, Repeat::Resolving)) => return None,
            Some((_, Repeat::Pending { kind, node })) => (*kind, node.clone()),
        };
        self.repeats
            .insert(name.to_string(), (kind, Repeat::Resolving));
        let current = self.current.take();
        let result = self.work_out(name, kind, &node);
        self.current = current;
        self.repeats
            .insert(name.to_string(), (kind, Repeat::Done(result.clone())));
        result
    }

    /// Whether resource `name` of this file is declared with `count` or `for_each` (its
    /// instances are picked by index), whether or not they could be worked out.
    pub(crate) fn is_repeated(&self, name: &str) -> bool {
        matches!(self.repeats.get(name), Some((kind, _)) if *kind != "condition")
    }

    fn work_out(&mut self, name: &str, kind: &'static str, node: &Node) -> Option<Instances> {
        let expr = self.any_expr(node, &Place::Repeat(name))?;
        let Some(value) = expr.known_value().filter(|v| !v.has_unknown()) else {
            if self.reads_pending && expr.references().is_empty() {
                return Some(Instances::Deferred);
            }
            let later: Vec<String> = expr
                .references()
                .iter()
                .map(|r| format!("`${{{}}}`", r.display()))
                .collect();
            let what = if later.is_empty() {
                "a value".to_string()
            } else {
                later.join(", ")
            };
            let first_resource = expr.resource_addresses().into_iter().next();
            let help = match first_resource {
                Some(address) => format!(
                    "`{kind}` must be known when strata plans: use params, locals, lookups or literals; or split the apply: `strata apply --target {}` first, then pass the value in a param",
                    crate::names::address_base(&address)
                ),
                None => format!("`{kind}` must be known when strata plans: use params, locals, lookups or literals"),
            };
            self.error(
                node.pos,
                format!("`{kind}` of resource `{name}` depends on {what}, known only after apply"),
                Some(help),
            );
            return None;
        };
        if value.has_sensitive() {
            self.error(
                node.pos,
                format!("`{kind}` of resource `{name}` uses a sensitive value"),
                Some(
                    "instance keys are shown in every plan and address; keep secrets out of them"
                        .into(),
                ),
            );
            return None;
        }
        match kind {
            "condition" => match value {
                Value::Bool(true) => Some(Instances::Single),
                Value::Bool(false) => Some(Instances::Absent),
                other => {
                    self.error(
                        node.pos,
                        format!(
                            "`condition` of resource `{name}` must be `true` or `false`, not {}",
                            other.kind_name()
                        ),
                        Some(
                            "write a comparison, e.g. `condition: ${params.env == \"prod\"}`"
                                .into(),
                        ),
                    );
                    None
                }
            },
            "count" => match value.as_i64() {
                Some(n)
                    if n >= 0
                        && (n as usize) <= MAX_INSTANCES
                        && value.as_f64() == Some(n as f64) =>
                {
                    Some(Instances::Count(n as usize))
                }
                _ => {
                    self.error(
                        node.pos,
                        format!(
                            "`count` of resource `{name}` must be a whole number from 0 to {MAX_INSTANCES}, not {}",
                            value.render()
                        ),
                        Some("e.g. `count: 3` or `count: ${length(params.zones)}`".into()),
                    );
                    None
                }
            },
            _ => self.for_each_instances(name, &value, node.pos),
        }
    }

    fn for_each_instances(&mut self, name: &str, value: &Value, pos: Pos) -> Option<Instances> {
        let mut out = BTreeMap::new();
        match value {
            Value::List(items) => {
                for item in items {
                    let Some(key) = item.as_str() else {
                        self.error(
                            pos,
                            format!(
                                "`for_each` of resource `{name}` lists {}; a list gives the instance keys, so it holds strings",
                                item.kind_name()
                            ),
                            Some("use a mapping to give each instance a value: `{ KEY: VALUE }`".into()),
                        );
                        return None;
                    };
                    if out.insert(key.to_string(), item.clone()).is_some() {
                        self.error(
                            pos,
                            format!("`for_each` of resource `{name}` lists \"{key}\" twice"),
                            Some(
                                "each key names one instance; wrap the list in `distinct(...)`"
                                    .into(),
                            ),
                        );
                        return None;
                    }
                }
            }
            Value::Map(map) => {
                out.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            other => {
                self.error(
                    pos,
                    format!(
                        "`for_each` of resource `{name}` must be a list of strings or a mapping, not {}",
                        other.kind_name()
                    ),
                    Some("e.g. `for_each: [a, b]` or `for_each: ${params.zones}`".into()),
                );
                return None;
            }
        }
        if out.len() > MAX_INSTANCES {
            self.error(
                pos,
                format!(
                    "`for_each` of resource `{name}` has {} keys, more than {MAX_INSTANCES}",
                    out.len()
                ),
                None,
            );
            return None;
        }
        Some(Instances::Each(out))
    }

    /// `${each.key}`, `${each.value}`, `${count.index}`: the instance being read.
    pub(crate) fn current_instance(
        &mut self,
        root: &str,
        name: &str,
        written: &str,
        place: &Place,
        pos: Pos,
    ) -> Option<Value> {
        let (form, given) = match root {
            "each" => ("`for_each`", &["key", "value"][..]),
            _ => ("`count`", &["index"][..]),
        };
        let inside = matches!(place, Place::Resource(_) | Place::ModuleInput(_));
        let value = match (&self.current, root, name) {
            (Some(Current::Each { key, .. }), "each", "key") if inside => {
                Some(Value::String(key.clone()))
            }
            (Some(Current::Each { value, .. }), "each", "value") if inside => Some(value.clone()),
            (Some(Current::Count(i)), "count", "index") if inside => Some(Value::int(*i as i64)),
            _ => None,
        };
        if value.is_some() {
            return value;
        }
        if !given.contains(&name) {
            let help = hint(name, given.iter().copied()).unwrap_or_else(|| {
                format!(
                    "write `{root}.{}`",
                    given.join(format!("` or `{root}.").as_str())
                )
            });
            self.error(pos, format!("unknown `{written}`"), Some(help));
            return None;
        }
        self.error(
            pos,
            format!("`{written}` is only known inside a resource with {form}"),
            Some(format!(
                "add {form} to the resource, or use a value of its own here"
            )),
        );
        None
    }

    /// `root[key].attr`: an attribute of one instance of resource `root`; `(pos, key_pos)`
    /// are where the reference and its key are written.
    pub(crate) fn instance_ref(
        &mut self,
        root: &str,
        key: &Value,
        attr: &str,
        place: &Place,
        (pos, key_pos): (Pos, Pos),
        written: &str,
    ) -> Result<Ast, Option<LangError>> {
        if self.modules.contains_key(root) {
            let Some(instances) = self.module_instances(root, place, pos, written)? else {
                return Ok(Ast::Value {
                    value: Value::Unknown,
                });
            };
            let found = instances.iter().find(|(k, _)| match (k, key.unmarked()) {
                (InstanceKey::Index(i), Value::Number(_)) => key.as_i64() == Some(*i as i64),
                (InstanceKey::Key(k), Value::String(s)) => *k == s,
                _ => false,
            });
            let Some((instance_key, outputs)) = found else {
                let keys: Vec<String> = instances.iter().map(|(k, _)| k.suffix()).collect();
                self.error(
                    key_pos,
                    format!("module `{root}` has no instance [{}]", key.render()),
                    Some(format!("it has {}", keys.join(", "))),
                );
                return Err(None);
            };
            let full = format!("{}{}", self.qualify(root), instance_key.suffix());
            let expr = self
                .output_expr(&full, outputs, attr, written, place, pos)
                .ok_or(None)?;
            return Ok(expr.into_ast());
        }
        self.check_instance_use(root, attr, place, pos, written)?;
        let instances = self.instances_of(root).ok_or(None)?;
        if let Instances::Deferred = instances {
            return Ok(Ast::Value {
                value: Value::Unknown,
            });
        }
        let wanted = match (&instances, key.unmarked()) {
            (Instances::Count(n), Value::Number(_)) => match key.as_i64() {
                Some(i) if i >= 0 && (i as usize) < *n => Some(InstanceKey::Index(i as usize)),
                _ => None,
            },
            (Instances::Each(map), Value::String(k)) if map.contains_key(&k) => {
                Some(InstanceKey::Key(k))
            }
            _ => None,
        };
        let Some(wanted) = wanted else {
            let keys: Vec<String> = instances
                .keys()
                .into_iter()
                .flatten()
                .map(|k| k.suffix())
                .collect();
            let listed = if keys.is_empty() {
                "it has none".to_string()
            } else {
                format!("it has {}", keys.join(", "))
            };
            self.error(
                key_pos,
                format!("resource `{root}` has no instance [{}]", key.render()),
                Some(listed),
            );
            return Err(None);
        };
        let address = format!("{}{}", self.qualify(root), wanted.suffix());
        self.add_edge(place, &address, pos, written);
        Ok(Ast::Ref {
            reference: Reference::resource(address, attr),
        })
    }

    /// `attr` of every instance of `root`: a list in key order, or (`by_key`) a mapping by key
    /// for `for_each`.
    pub(crate) fn instances_ref(
        &mut self,
        root: &str,
        attr: &str,
        by_key: bool,
        place: &Place,
        pos: Pos,
        written: &str,
    ) -> Result<Ast, Option<LangError>> {
        if self.modules.contains_key(root) {
            let Some(instances) = self.module_instances(root, place, pos, written)? else {
                return Ok(Ast::Value {
                    value: Value::Unknown,
                });
            };
            let mut items = Vec::new();
            for (key, outputs) in &instances {
                let full = format!("{}{}", self.qualify(root), key.suffix());
                let expr = self
                    .output_expr(&full, outputs, attr, written, place, pos)
                    .ok_or(None)?;
                items.push((key.clone(), expr.into_ast()));
            }
            let keyed = items.iter().all(|(k, _)| matches!(k, InstanceKey::Key(_)));
            return Ok(if by_key && keyed {
                Ast::Map {
                    entries: items
                        .into_iter()
                        .map(|(k, ast)| match k {
                            InstanceKey::Key(k) => (k, ast),
                            InstanceKey::Index(i) => (i.to_string(), ast),
                        })
                        .collect(),
                }
            } else {
                Ast::List {
                    items: items.into_iter().map(|(_, ast)| ast).collect(),
                }
            });
        }
        self.check_instance_use(root, attr, place, pos, written)?;
        let instances = self.instances_of(root).ok_or(None)?;
        if let Instances::Deferred = instances {
            return Ok(Ast::Value {
                value: Value::Unknown,
            });
        }
        let base = self.qualify(root);
        let mut items = Vec::new();
        for key in instances.keys().into_iter().flatten() {
            let address = format!("{base}{}", key.suffix());
            self.add_edge(place, &address, pos, written);
            items.push((
                key,
                Ast::Ref {
                    reference: Reference::resource(address, attr),
                },
            ));
        }
        Ok(match (&instances, by_key) {
            (Instances::Each(_), true) => Ast::Map {
                entries: items
                    .into_iter()
                    .map(|(key, ast)| match key {
                        InstanceKey::Key(k) => (k, ast),
                        InstanceKey::Index(i) => (i.to_string(), ast),
                    })
                    .collect(),
            },
            _ => Ast::List {
                items: items.into_iter().map(|(_, ast)| ast).collect(),
            },
        })
    }

    /// The checks every use of an instance makes: not from itself, a known attribute.
    fn check_instance_use(
        &mut self,
        root: &str,
        attr: &str,
        place: &Place,
        pos: Pos,
        written: &str,
    ) -> Result<(), Option<LangError>> {
        if let Place::Resource(me) | Place::Repeat(me) = place {
            if *me == root {
                self.error(
                    pos,
                    format!("resource `{root}` references its own instances in `{written}`"),
                    Some("a resource cannot use its own attributes; use `each.key`, `each.value` or `count.index`".into()),
                );
                return Err(None);
            }
        }
        if self.known_attr(root, attr, pos) {
            Ok(())
        } else {
            Err(None)
        }
    }

    /// The instances of repeated module `root` (key and outputs), `None` while they wait for
    /// lookups; a module using its own outputs in its inputs is reported.
    #[allow(clippy::type_complexity)]
    fn module_instances(
        &mut self,
        root: &str,
        place: &Place,
        pos: Pos,
        written: &str,
    ) -> Result<
        Option<Vec<(InstanceKey, indexmap::IndexMap<String, crate::expr::Expr>)>>,
        Option<LangError>,
    > {
        if let Place::ModuleInput(me) = place {
            if *me == root {
                self.error(
                    pos,
                    format!("module `{root}` uses its own output in its `inputs`: `{written}`"),
                    Some("a module's inputs must be known before its resources; pass the value itself".into()),
                );
                return Err(None);
            }
        }
        match self.modules.get(root) {
            Some(Instance::Repeated { instances }) => Ok(Some(
                instances
                    .iter()
                    .map(|(k, outputs, _)| (k.clone(), outputs.clone()))
                    .collect(),
            )),
            Some(Instance::Deferred) => Ok(None),
            // Broken (reported where it is) or not loaded.
            _ => Err(None),
        }
    }

    fn add_edge(&mut self, place: &Place, to: &str, pos: Pos, written: &str) {
        if let Place::Resource(_) = place {
            self.edges.push(Edge {
                to: to.to_string(),
                pos,
                via: format!("`{written}`"),
            });
        }
    }

    /// The full addresses of every instance of this file's resource `name`.
    pub(crate) fn instance_addresses(&mut self, name: &str) -> Vec<String> {
        let base = self.qualify(name);
        match self.instances_of(name) {
            Some(instances) => instances
                .keys()
                .into_iter()
                .map(|k| match k {
                    Some(k) => format!("{base}{}", k.suffix()),
                    None => base.clone(),
                })
                .collect(),
            None => Vec::new(),
        }
    }
}
