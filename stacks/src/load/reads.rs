//! `lookups:` (SPEC §10) and `stack_refs:` (SPEC §11): what a stack reads from outside it at
//! plan time. The loader checks their declarations and references; the values come from the
//! caller ([`LoadOptions::reads`](super::LoadOptions)), which reads them between two loads:
//! first without values (references to them are unknown, and `for_each` over them waits),
//! then with them (they are plain values, as known as a param).

use std::collections::BTreeMap;

use crate::expr::Expr;
use crate::lang::{Ast, LangError};
use crate::model::{LookupDecl, SourcePos, StackRefDecl};
use crate::schema::Prop;
use crate::suggest::{hint, list_names};
use crate::value::Value;
use crate::yaml::{Key, Node, Pos};

use super::loader::Loader;
use super::parts::{Owner, Place};

const STACK_REF_KEYS: &[&str] = &["backend", "stack"];

impl Loader<'_> {
    /// The `lookups:` of the stack.
    pub(crate) fn declare_lookups(&mut self, node: &Node) {
        for (key, value) in self.mapping(node, "`lookups`").to_vec() {
            if let Some(decl) = self.lookup_decl(&key, &value) {
                self.lookups.insert(key.name.clone(), decl);
            }
            self.lookup_names.push(key.name.clone());
        }
    }

    fn lookup_decl(&mut self, key: &Key, value: &Node) -> Option<LookupDecl> {
        let catalog = self.catalog;
        let entries = self.mapping(value, &format!("lookup `{}`", key.name));
        let Some((type_key, type_node)) = entries.iter().find(|(k, _)| k.name == "type") else {
            self.error(
                key.pos,
                format!("lookup `{}` has no `type:`", key.name),
                Some(format!(
                    "the lookup types are {}",
                    list_names(&catalog.lookup_names().collect::<Vec<_>>())
                )),
            );
            return None;
        };
        let _ = type_key;
        let type_name = self.text(type_node, "`type` of a lookup")?;
        let Some(schema) = catalog.lookup(&type_name) else {
            let help = hint(&type_name, catalog.lookup_names()).unwrap_or_else(|| {
                format!(
                    "the lookup types are {}",
                    list_names(&catalog.lookup_names().collect::<Vec<_>>())
                )
            });
            self.error(
                type_node.pos,
                format!("unknown lookup type `{type_name}`"),
                Some(help),
            );
            return None;
        };
        let props: Vec<Prop> = schema
            .args
            .iter()
            .map(|a| {
                let prop = Prop::new(a.name, a.kind.kind());
                if a.required {
                    prop.required()
                } else {
                    prop
                }
            })
            .collect();
        let args: Vec<(Key, Node)> = entries
            .iter()
            .filter(|(k, _)| k.name != "type")
            .cloned()
            .collect();
        let owner_name = format!("lookup type {type_name}");
        let place = Place::Read;
        let owner = Owner {
            type_name: &owner_name,
            place: &place,
        };
        let checked = self.check_fields(&args, &props, "", key.pos, &owner)?;
        let mut values = BTreeMap::new();
        for (name, expr) in checked {
            let Some(value) = known_now(&expr) else {
                let at = args
                    .iter()
                    .find(|(k, _)| k.name == name)
                    .map_or(key.pos, |(_, n)| n.pos);
                let refs: Vec<String> = expr
                    .references()
                    .iter()
                    .map(|r| format!("`${{{}}}`", r.display()))
                    .collect();
                self.error(
                    at,
                    format!(
                        "`{name}` of lookup `{}` depends on {}, known only after apply",
                        key.name,
                        refs.join(", ")
                    ),
                    Some("a lookup is read before anything changes: use params, locals, literals or other lookups".into()),
                );
                return None;
            };
            values.insert(name, value);
        }
        Some(LookupDecl {
            type_name,
            args: Value::Map(values),
            pos: self.source_pos(key.pos),
        })
    }

    /// The `stack_refs:` of the stack.
    pub(crate) fn declare_stack_refs(&mut self, node: &Node) {
        for (key, value) in self.mapping(node, "`stack_refs`").to_vec() {
            self.stack_ref_names.push(key.name.clone());
            let entries = self.mapping(&value, &format!("stack reference `{}`", key.name));
            let fields = self.fields(
                entries,
                STACK_REF_KEYS,
                &format!("in stack reference `{}`", key.name),
            );
            let Some(backend_node) = fields.node("backend") else {
                self.error(
                    key.pos,
                    format!("stack reference `{}` has no `backend:`", key.name),
                    Some("write `backend: { local: { path: ../network/.strata } }` or `backend: { s3: { bucket: B, key: K } }`, as the other stack's file has it".into()),
                );
                continue;
            };
            let stack = match fields.node("stack") {
                Some(n) => match self.text(n, "`stack` of a stack reference") {
                    Some(s) => s,
                    None => continue,
                },
                None => key.name.clone(),
            };
            let Some(backend) = self.backend(backend_node) else {
                continue;
            };
            let pos = self.source_pos(key.pos);
            self.stack_refs.insert(
                key.name.clone(),
                StackRefDecl {
                    backend,
                    stack,
                    pos,
                },
            );
        }
    }

    fn source_pos(&self, pos: Pos) -> SourcePos {
        SourcePos {
            file: self.file.path.clone(),
            line: pos.line,
            column: pos.column,
        }
    }

    /// `${lookups.NAME}` / `${stack_refs.NAME}` as a whole: the value read, or unknown before it
    /// is read. `None` (reported) for a name not declared.
    pub(crate) fn read_value(&mut self, root: &str, name: &str, pos: Pos) -> Option<Value> {
        let (declared, what) = match root {
            "lookups" => (&self.lookup_names, "lookup"),
            _ => (&self.stack_ref_names, "stack reference"),
        };
        if !declared.iter().any(|n| n == name) {
            let help = hint(name, declared.iter().map(String::as_str))
                .unwrap_or_else(|| format!("declare it under `{root}:`"));
            self.error(pos, format!("unknown {what} `{name}`"), Some(help));
            return None;
        }
        let read = self.read_values.as_ref().and_then(|r| match root {
            "lookups" => r.lookups.get(name),
            _ => r.stack_refs.get(name),
        });
        Some(read.cloned().unwrap_or(Value::Unknown))
    }

    /// `${lookups.NAME.ATTR}` and `${stack_refs.NAME.OUTPUT}`: one attribute or output, checked
    /// against the lookup's type, or against what the other stack has once it is read.
    pub(crate) fn read_attr(
        &mut self,
        root: &str,
        name: &str,
        attr: &str,
        pos: Pos,
    ) -> Result<Ast, Option<LangError>> {
        let whole = self.read_value(root, name, pos).ok_or(None)?;
        if root == "stack_refs" {
            self.stack_ref_uses
                .entry(name.to_string())
                .or_default()
                .insert(attr.to_string());
        }
        if root == "lookups" {
            if let Some(decl) = self.lookups.get(name) {
                if let Some(schema) = self.catalog.lookup(&decl.type_name) {
                    if schema.attribute(attr).is_none() {
                        let names = schema.attribute_names();
                        let help = hint(attr, names.iter().copied()).unwrap_or_else(|| {
                            format!("{} gives {}", decl.type_name, list_names(&names))
                        });
                        self.error(
                            pos,
                            format!(
                                "unknown attribute `{attr}` of lookup `{name}` ({})",
                                decl.type_name
                            ),
                            Some(help),
                        );
                        return Err(None);
                    }
                }
            }
        }
        let top = match whole {
            Value::Sensitive(inner) => (*inner, true),
            other => (other, false),
        };
        let value = match top {
            (Value::Unknown, _) => Value::Unknown,
            (Value::Map(map), sensitive) => match map.get(attr) {
                Some(v) if sensitive => Value::Sensitive(Box::new(v.clone())),
                Some(v) => v.clone(),
                None if root == "stack_refs" => {
                    let names: Vec<&str> = map.keys().map(String::as_str).collect();
                    let stack = self
                        .stack_refs
                        .get(name)
                        .map_or(name.to_string(), |r| r.stack.clone());
                    let listed = if names.is_empty() {
                        "it has no outputs".to_string()
                    } else {
                        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                        format!("its outputs: {}", quoted.join(", "))
                    };
                    let help = match hint(attr, names.iter().copied()) {
                        Some(h) => format!("{h} ({listed})"),
                        None => listed,
                    };
                    self.error(
                        pos,
                        format!("stack `{stack}` has no output `{attr}`"),
                        Some(help),
                    );
                    return Err(None);
                }
                None => Value::Null,
            },
            _ => Value::Null,
        };
        Ok(Ast::Value { value })
    }
}

/// The value of an expression known now, unknown parts (a lookup not read yet) included;
/// `None` when it references a resource or a built-in.
fn known_now(expr: &Expr) -> Option<Value> {
    if !expr.references().is_empty() {
        return None;
    }
    Some(expr.eval(&Unknowns))
}

struct Unknowns;

impl crate::expr::Scope for Unknowns {
    fn lookup(&self, _: &crate::expr::Reference) -> Option<Value> {
        Some(Value::Unknown)
    }
}
