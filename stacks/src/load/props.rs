//! Checking property values against a type's schema while turning them into [`Expr`]s.
//!
//! Literal values are checked all the way down (list items, mapping values, nested object
//! fields). A value that holds a reference is known only at plan time, so only the structure
//! around it is checked; a reference standing for a whole value is accepted as any kind.

use std::collections::BTreeMap;
use std::path::Path;

use crate::expr::Expr;
use crate::schema::{Check, Kind, Prop};
use crate::suggest::hint;
use crate::value::Value;
use crate::yaml::{Key, Node, NodeKind, Pos};

use crate::suggest::list_names;

use super::exprs::{list_expr, map_expr, plain_text};
use super::loader::Loader;
use super::module_env::{inside, normalize};
use super::parts::Owner;

impl Loader<'_> {
    /// The given fields of a mapping checked against `props`: unknown keys and missing
    /// required ones are reported (a missing one at `missing_at`). `prefix` is the path of
    /// the mapping (`""` for a resource's `properties`, `redrive_policy.` below it). A field
    /// set to null counts as not given.
    pub(crate) fn check_fields(
        &mut self,
        entries: &[(Key, Node)],
        props: &[Prop],
        prefix: &str,
        missing_at: Pos,
        owner: &Owner,
    ) -> Option<BTreeMap<String, Expr>> {
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, node) in entries {
            let Some(prop) = props.iter().find(|p| p.name == key.name) else {
                let names: Vec<&str> = props.iter().map(|p| p.name).collect();
                let help = hint(&key.name, names.iter().copied())
                    .unwrap_or_else(|| format!("{} takes {}", owner.type_name, list_names(&names)));
                self.error(
                    key.pos,
                    format!(
                        "unknown property `{prefix}{}` on {}",
                        key.name, owner.type_name
                    ),
                    Some(help),
                );
                ok = false;
                continue;
            };
            if node.is_null() {
                continue;
            }
            let path = format!("{prefix}{}", key.name);
            let checked = self
                .check_value(node, &prop.kind, prop.allowed, &path, key.pos, owner)
                .filter(|expr| self.check_rules(node, expr, &prop.checks, &path, owner));
            match checked {
                Some(expr) => {
                    let checked = match prop.local_path {
                        true => self.local_path(node, expr, &path, &prop.checks, owner),
                        false => Some(expr),
                    };
                    match checked {
                        Some(expr) => {
                            out.insert(key.name.clone(), expr);
                        }
                        None => ok = false,
                    }
                }
                None => ok = false,
            }
        }
        for prop in props.iter().filter(|p| p.required) {
            if !is_given(entries, prop.name) {
                let help = if prefix.is_empty() {
                    format!("add `{}:` under `properties:`", prop.name)
                } else {
                    format!("add `{}:` to `{}`", prop.name, prefix.trim_end_matches('.'))
                };
                self.error(
                    missing_at,
                    format!(
                        "missing required property `{prefix}{}` on {}",
                        prop.name, owner.type_name
                    ),
                    Some(help),
                );
                ok = false;
            }
        }
        ok &= self.check_together(entries, props, prefix, owner);
        ok.then_some(out)
    }

    /// Properties AWS takes only together (`Prop::requires`) or only apart
    /// (`Prop::conflicts_with`), within one mapping; an error at the property that breaks it.
    fn check_together(
        &mut self,
        entries: &[(Key, Node)],
        props: &[Prop],
        prefix: &str,
        owner: &Owner,
    ) -> bool {
        let given = |name: &str| is_given(entries, name);
        let mut ok = true;
        for (key, node) in entries {
            let Some(prop) = props.iter().find(|p| p.name == key.name) else {
                continue;
            };
            if node.is_null() {
                continue;
            }
            if let Some(missing) = prop.requires.iter().find(|other| !given(other)) {
                self.error(
                    key.pos,
                    format!(
                        "`{prefix}{}` needs `{prefix}{missing}` on {}",
                        key.name, owner.type_name
                    ),
                    Some(format!("add `{missing}:` or take out `{}`", key.name)),
                );
                ok = false;
            }
            if let Some(other) = prop.conflicts.iter().find(|other| given(other)) {
                self.error(
                    key.pos,
                    format!(
                        "`{prefix}{}` and `{prefix}{other}` cannot both be given on {}",
                        key.name, owner.type_name
                    ),
                    Some(format!("keep one of `{}` and `{other}`", key.name)),
                );
                ok = false;
            }
        }
        ok
    }

    /// A local path written literally: it must exist, it is recorded for a saved plan's
    /// fingerprint, and in a module file it is taken from the module's directory and rewritten
    /// as a path from the stack file's directory (where providers resolve relative paths). Absolute paths, and values built from `${...}` (a
    /// module input is written in the file that gives it), are kept as they are and checked
    /// only when used.
    fn local_path(
        &mut self,
        node: &Node,
        expr: Expr,
        path: &str,
        checks: &[Check],
        owner: &Owner,
    ) -> Option<Expr> {
        let NodeKind::Str(text) = &node.kind else {
            return Some(expr);
        };
        if crate::lang::template::has_dollar_brace(text) {
            let given =
                passed_param(text).is_some_and(|p| self.caller_inputs.iter().any(|i| i == p));
            if self.published_root.is_some() && !given {
                self.error(
                    node.pos,
                    format!(
                        "`{path}` is built from `${{...}}` in a published module, so it could name a path outside the module"
                    ),
                    Some("in a published module a local path is written plainly (`src`, below its module.yaml), or is `${params.NAME}` with an input the stack gives".into()),
                );
                return None;
            }
            return Some(expr);
        }
        let (expr, from_stack) = match &self.dir_from_stack {
            Some(dir) if Path::new(text).is_relative() => {
                let joined = normalize(&dir.join(text));
                let value = Value::String(joined.to_string_lossy().into_owned());
                (Expr::Value { value }, joined)
            }
            _ => (expr, Path::new(text).to_path_buf()),
        };
        if let Some(root) = &self.published_root {
            let base = self.file.path.parent().unwrap_or(Path::new(""));
            if !inside(root, base, Path::new(text.as_str())) {
                self.error(
                    node.pos,
                    format!(
                        "`{path}` names `{text}`, which is outside this published module's directory"
                    ),
                    Some(format!(
                        "a published module uses only what its archive holds ({}): put the files below its module.yaml and name them from there",
                        self.env.path_from_project(root).display()
                    )),
                );
                return None;
            }
        }
        let full = self.env.project_dir().join(&from_stack);
        if !full.exists() {
            let base = match self.dir_from_stack {
                Some(_) => "this module's directory",
                None => "the stack file's directory",
            };
            self.error(
                node.pos,
                format!(
                    "`{path}` names `{text}`, which does not exist (looked for {})",
                    normalize(&full).display()
                ),
                Some(format!(
                    "a relative path is taken from {base}; create it or correct the path"
                )),
            );
            return None;
        }
        for check in checks {
            if let Err(failure) = check.test_path(&full) {
                self.error(
                    node.pos,
                    format!(
                        "`{text}` {} (property `{path}` on {})",
                        failure.problem, owner.type_name
                    ),
                    Some(failure.help),
                );
                return None;
            }
        }
        self.local_paths.push(full);
        Some(expr)
    }

    /// One value checked against `kind`. `key_pos` is where the value's key is written, for
    /// errors about the value as a whole (a nested mapping's missing field).
    pub(crate) fn check_value(
        &mut self,
        node: &Node,
        kind: &Kind,
        allowed: &[&str],
        path: &str,
        key_pos: Pos,
        owner: &Owner,
    ) -> Option<Expr> {
        if let NodeKind::Str(s) = &node.kind {
            if crate::lang::template::has_dollar_brace(s) {
                let expr = self.string_expr(node, s, owner.place)?;
                return match expr {
                    Expr::Value { value } => {
                        self.check_known(node, value, kind, allowed, path, owner, s)
                    }
                    Expr::Concat { .. } | Expr::Lang { .. }
                        if is_template(&expr)
                            && !matches!(kind, Kind::String | Kind::Any | Kind::Document) =>
                    {
                        self.kind_error(
                            node,
                            kind,
                            path,
                            owner,
                            "got a string built from `${...}`",
                        );
                        None
                    }
                    other => Some(other),
                };
            }
        }
        match (kind, &node.kind) {
            (Kind::Any, _) => self.any_expr(node, owner.place),
            (Kind::Document, NodeKind::Map(_) | NodeKind::List(_)) => {
                self.any_expr(node, owner.place)
            }
            // A document written as JSON text, as Terraform stacks carry them.
            (Kind::Document, NodeKind::Str(text)) => {
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(serde_json::Value::Object(_) | serde_json::Value::Array(_)) => {
                        Some(Expr::value(text.clone()))
                    }
                    _ => {
                        self.kind_error(node, kind, path, owner, "got text that is not JSON");
                        None
                    }
                }
            }
            (Kind::String, NodeKind::Str(_) | NodeKind::Number { .. } | NodeKind::Bool(_)) => {
                let text = node.scalar_text().unwrap_or_default();
                self.check_allowed(node.pos, &text, allowed, path, owner)?;
                Some(Expr::value(text))
            }
            (Kind::Number, NodeKind::Number { number, .. }) => Some(Expr::Value {
                value: Value::Number(number.clone()),
            }),
            (Kind::Integer, NodeKind::Number { number, .. })
                if number.is_i64() || number.is_u64() =>
            {
                Some(Expr::Value {
                    value: Value::Number(number.clone()),
                })
            }
            (Kind::Bool, NodeKind::Bool(b)) => Some(Expr::value(*b)),
            (Kind::List(item_kind), NodeKind::List(items)) => {
                let checked: Vec<Option<Expr>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let item_path = format!("{path}[{i}]");
                        self.check_value(item, item_kind, allowed, &item_path, item.pos, owner)
                    })
                    .collect();
                checked
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(list_expr)
            }
            (Kind::Map(value_kind), NodeKind::Map(entries)) => {
                let mut out = BTreeMap::new();
                let mut ok = true;
                for (key, value) in entries {
                    let value_path = format!("{path}.{}", key.name);
                    match self.check_value(value, value_kind, &[], &value_path, key.pos, owner) {
                        Some(expr) => {
                            out.insert(key.name.clone(), expr);
                        }
                        None => ok = false,
                    }
                }
                ok.then(|| map_expr(out))
            }
            (Kind::Object(props), NodeKind::Map(entries)) => {
                let fields =
                    self.check_fields(entries, props, &format!("{path}."), key_pos, owner)?;
                Some(map_expr(fields))
            }
            _ => {
                self.kind_error(node, kind, path, owner, &format!("got {}", node.describe()));
                None
            }
        }
    }

    /// A value already known while loading (a param) checked against `kind`; strings are
    /// made from numbers and booleans for string properties.
    #[allow(clippy::too_many_arguments)]
    fn check_known(
        &mut self,
        node: &Node,
        value: Value,
        kind: &Kind,
        allowed: &[&str],
        path: &str,
        owner: &Owner,
        written: &str,
    ) -> Option<Expr> {
        // A lookup or stack reference not read yet: checked once it is (the second load).
        if value.has_unknown() {
            return Some(Expr::Value { value });
        }
        if let Value::Sensitive(inner) = value {
            // A sensitive param: checked like any value, never shown in the error.
            return match fit(*inner, kind) {
                Ok(value) => {
                    if let Value::String(text) = &value {
                        if !allowed.is_empty() && !allowed.contains(&text.as_str()) {
                            self.kind_error(
                                node,
                                kind,
                                path,
                                owner,
                                &format!(
                                    "but `{written}` (sensitive) is not one of {}",
                                    allowed.join(", ")
                                ),
                            );
                            return None;
                        }
                    }
                    Some(Expr::Value {
                        value: Value::Sensitive(Box::new(value)),
                    })
                }
                Err(_) => {
                    self.kind_error(
                        node,
                        kind,
                        path,
                        owner,
                        &format!("but `{written}` is a sensitive value of another kind"),
                    );
                    None
                }
            };
        }
        match fit(value, kind) {
            Ok(value) => {
                if let Value::String(text) = &value {
                    self.check_allowed(node.pos, text, allowed, path, owner)?;
                }
                Some(Expr::Value { value })
            }
            Err(found) => {
                self.kind_error(
                    node,
                    kind,
                    path,
                    owner,
                    &format!("but `{written}` is {found}"),
                );
                None
            }
        }
    }

    /// The prop's [`Check`]s over a known value (each item of a known list, at the item's
    /// position when written literally). A value known only at plan time is not checked here.
    fn check_rules(
        &mut self,
        node: &Node,
        expr: &Expr,
        checks: &[Check],
        path: &str,
        owner: &Owner,
    ) -> bool {
        let Expr::Value { value } = expr else {
            return true;
        };
        if checks.is_empty() {
            return true;
        }
        let items: Vec<(&Value, Pos, String)> = match (value, &node.kind) {
            (Value::List(values), NodeKind::List(nodes)) if values.len() == nodes.len() => values
                .iter()
                .zip(nodes)
                .enumerate()
                .map(|(i, (v, n))| (v, n.pos, format!("{path}[{i}]")))
                .collect(),
            (Value::List(values), _) => values
                .iter()
                .enumerate()
                .map(|(i, v)| (v, node.pos, format!("{path}[{i}]")))
                .collect(),
            (value, _) => vec![(value, node.pos, path.to_string())],
        };
        let mut ok = true;
        for (value, pos, path) in items {
            for check in checks {
                if let Err(failure) = check.test(value) {
                    let shown = match value {
                        Value::String(s) => format!("`{s}` "),
                        Value::Number(n) => format!("`{n}` "),
                        _ => String::new(),
                    };
                    self.error(
                        pos,
                        format!(
                            "{shown}{} for property `{path}` on {}",
                            failure.problem, owner.type_name
                        ),
                        Some(failure.help),
                    );
                    ok = false;
                    break;
                }
            }
        }
        ok
    }

    fn check_allowed(
        &mut self,
        pos: Pos,
        text: &str,
        allowed: &[&str],
        path: &str,
        owner: &Owner,
    ) -> Option<()> {
        if allowed.is_empty() || allowed.contains(&text) {
            return Some(());
        }
        let suggestion = hint(text, allowed.iter().copied())
            .map(|h| format!("{h} "))
            .unwrap_or_default();
        self.error(
            pos,
            format!(
                "`{text}` is not an allowed value of property `{path}` on {}",
                owner.type_name
            ),
            Some(format!(
                "{suggestion}allowed values: {}",
                list_names(allowed)
            )),
        );
        None
    }

    /// `got` ends the sentence: "got a list", "but `${params.x}` is the string `a`".
    fn kind_error(&mut self, node: &Node, kind: &Kind, path: &str, owner: &Owner, got: &str) {
        let help = match (kind, &node.kind) {
            (Kind::Number | Kind::Integer, NodeKind::Str(s)) if s.trim().parse::<f64>().is_ok() => {
                Some("remove the quotes to write a number".to_string())
            }
            (Kind::Bool, NodeKind::Str(s)) if s == "true" || s == "false" => {
                Some("remove the quotes to write a boolean".to_string())
            }
            (Kind::Integer, NodeKind::Number { .. }) => Some("write a whole number".to_string()),
            (Kind::List(_), _) => Some(format!(
                "write a list, e.g. `[{}]`",
                node.scalar_text().unwrap_or_default()
            )),
            _ => None,
        };
        self.error(
            node.pos,
            format!(
                "property `{path}` on {} expects {}, {got}",
                owner.type_name,
                kind.describe()
            ),
            help,
        );
    }
}

/// `value` as `kind`, or what it is instead.
fn fit(value: Value, kind: &Kind) -> Result<Value, String> {
    let describe = |v: &Value| format!("{} `{}`", article(v.kind_name()), plain_text(v));
    match (kind, value) {
        (Kind::Any, v) => Ok(v),
        (Kind::String, Value::String(s)) => Ok(Value::String(s)),
        (Kind::String, v @ (Value::Number(_) | Value::Bool(_))) => {
            Ok(Value::String(plain_text(&v)))
        }
        (Kind::Number, v @ Value::Number(_)) => Ok(v),
        (Kind::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Value::Number(n)),
        (Kind::Bool, v @ Value::Bool(_)) => Ok(v),
        (Kind::List(item), Value::List(items)) => items
            .into_iter()
            .map(|i| fit(i, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        (Kind::Document | Kind::Map(_) | Kind::Object(_), Value::Map(m)) => Ok(Value::Map(m)),
        (Kind::Document, v @ (Value::List(_) | Value::String(_))) => Ok(v),
        (_, v) => Err(describe(&v)),
    }
}

fn article(kind_name: &str) -> &'static str {
    match kind_name {
        "list" => "a list",
        "mapping" => "a mapping",
        "number" => "the number",
        "bool" => "the boolean",
        "null" => "null",
        _ => "the string",
    }
}

/// `NAME` when `text` is exactly `${params.NAME}`: a value passed through from the module's
/// caller, untouched.
fn passed_param(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("${")?.strip_suffix('}')?.trim();
    let name = inner.strip_prefix("params.")?;
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then_some(name)
}

/// Whether the mapping gives `name` (a field set to null counts as not given).
fn is_given(entries: &[(Key, Node)], name: &str) -> bool {
    entries.iter().any(|(k, v)| k.name == name && !v.is_null())
}

/// Whether `expr` is a string joining text and `${...}` (which gives a string whatever it
/// references).
fn is_template(expr: &Expr) -> bool {
    match expr {
        Expr::Concat { .. } => true,
        Expr::Lang { ast, .. } => matches!(**ast, crate::lang::Ast::Template { .. }),
        _ => false,
    }
}
