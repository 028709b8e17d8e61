//! `params:` declarations and their values from `--var-file` and `--var`.
//!
//! Later sources win: the declared default, then each var file in order, then each `--var`.
//! Errors in a var file point into that file; errors in a `--var` quote it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diag::Diagnostic;
use crate::expr::Expr;
use crate::names::{is_param_name, PARAM_NAME_RULE};
use crate::suggest::hint;
use crate::value::Value;
use crate::yaml::{self, Key, Node, NodeKind, Pos, SourceFile};

use crate::suggest::list_names;

use super::exprs::plain_text;
use super::loader::{LoadOptions, Loader};
use super::parts::{Call, Input};

const PARAM_KEYS: &[&str] = &["type", "default", "allowed", "description", "sensitive"];
const TYPE_NAMES: &[&str] = &["string", "number", "bool", "list"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamType {
    String,
    Number,
    Bool,
    /// A list of strings.
    List,
}

impl ParamType {
    fn describe(self) -> &'static str {
        match self {
            ParamType::String => "a string",
            ParamType::Number => "a number",
            ParamType::Bool => "`true` or `false`",
            ParamType::List => "a list of strings",
        }
    }

    fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Number => "number",
            ParamType::Bool => "bool",
            ParamType::List => "list",
        }
    }
}

/// One declared param.
#[derive(Clone, Debug)]
pub(crate) struct ParamDecl {
    pub name: String,
    key: Pos,
    ty: ParamType,
    default: Option<(Value, Pos)>,
    allowed: Vec<Value>,
    /// `sensitive: true`: its value is never printed (plans, progress, errors, plan files).
    sensitive: bool,
    /// The declaration had an error (reported): it has no value, and saying so again, or
    /// calling references to it unknown, would only repeat that error.
    broken: bool,
}

impl ParamDecl {
    /// `value` marked sensitive when the param is.
    fn marked(&self, value: Value) -> Value {
        match (self.sensitive, value) {
            (true, v @ Value::Sensitive(_)) => v,
            (true, v) => Value::Sensitive(Box::new(v)),
            (false, v) => v,
        }
    }

    fn broken(key: &Key) -> ParamDecl {
        ParamDecl {
            name: key.name.clone(),
            key: key.pos,
            ty: ParamType::String,
            default: None,
            allowed: Vec::new(),
            sensitive: false,
            broken: true,
        }
    }
}

/// Where a param's value came from, for pointing at it.
enum Origin {
    Default,
    File(SourceFile, Pos),
    Var(String),
}

impl Loader<'_> {
    pub(crate) fn declare_params(&mut self, node: &Node) -> Vec<ParamDecl> {
        let mut decls = Vec::new();
        for (key, value) in self.mapping(node, "`params`") {
            if !is_param_name(&key.name) {
                self.error(
                    key.pos,
                    format!("invalid param name `{}`", key.name),
                    Some(format!(
                        "a param name starts with a letter or `_` and has only letters, digits and `_`, at most 63 characters (`{PARAM_NAME_RULE}`)"
                    )),
                );
                decls.push(ParamDecl::broken(key));
                continue;
            }
            decls.push(self.declare_param(key, value));
        }
        decls
    }

    fn declare_param(&mut self, key: &Key, node: &Node) -> ParamDecl {
        let name = &key.name;
        let entries = match &node.kind {
            NodeKind::Map(entries) => entries.as_slice(),
            NodeKind::Null => &[],
            _ => {
                self.error(
                    node.pos,
                    format!("param `{name}` must be a mapping, not {}", node.describe()),
                    Some(format!(
                        "write `{name}: {{ type: string, default: {} }}`",
                        node.scalar_text().unwrap_or_else(|| "VALUE".into())
                    )),
                );
                return ParamDecl::broken(key);
            }
        };
        let fields = self.fields(entries, PARAM_KEYS, &format!("in param `{name}`"));
        if let Some(n) = fields.node("description") {
            if !n.is_null() {
                self.text(n, &format!("`description` of param `{name}`"));
            }
        }
        let sensitive = match fields.node("sensitive").filter(|n| !n.is_null()) {
            Some(n) => self
                .boolean(n, &format!("`sensitive` of param `{name}`"))
                .unwrap_or(false),
            None => false,
        };
        let default_node = fields.node("default").filter(|n| !n.is_null());
        let ty = match fields.node("type") {
            Some(n) => match n.as_str() {
                Some("string") => ParamType::String,
                Some("number") => ParamType::Number,
                Some("bool") => ParamType::Bool,
                Some("list") => ParamType::List,
                _ => {
                    let written = n.scalar_text().unwrap_or_default();
                    let help = hint(&written, TYPE_NAMES.iter().copied())
                        .unwrap_or_else(|| format!("a param's type is {}", list_names(TYPE_NAMES)));
                    self.error(
                        n.pos,
                        format!("unknown type {} for param `{name}`", n.describe()),
                        Some(help),
                    );
                    return ParamDecl::broken(key);
                }
            },
            // No type: the default's kind, else a string.
            None => match default_node.map(|n| &n.kind) {
                Some(NodeKind::Number { .. }) => ParamType::Number,
                Some(NodeKind::Bool(_)) => ParamType::Bool,
                Some(NodeKind::List(_)) => ParamType::List,
                _ => ParamType::String,
            },
        };

        let mut allowed = Vec::new();
        let mut allowed_ok = true;
        if let Some(n) = fields.node("allowed") {
            match &n.kind {
                NodeKind::List(items) => {
                    let item_type = if ty == ParamType::List {
                        ParamType::String
                    } else {
                        ty
                    };
                    for item in items {
                        match value_from_node(item_type, item) {
                            Ok(v) => allowed.push(v),
                            Err(got) => {
                                allowed_ok = false;
                                self.error(
                                    item.pos,
                                    format!(
                                        "allowed value of param `{name}` must be {}, not {got}",
                                        item_type.describe()
                                    ),
                                    None,
                                );
                            }
                        }
                    }
                }
                _ => {
                    allowed_ok = false;
                    self.error(
                        n.pos,
                        format!(
                            "`allowed` of param `{name}` must be a list, not {}",
                            n.describe()
                        ),
                        Some("write `allowed: [a, b]`".into()),
                    );
                }
            }
        }

        let mut default = None;
        let mut broken = false;
        if let Some(n) = default_node {
            match value_from_node(ty, n) {
                Ok(v) => default = Some((v, n.pos)),
                Err(_) if sensitive => {
                    broken = true;
                    self.push(
                        self.file
                            .error(
                                n.pos,
                                format!(
                                    "default of param `{name}` must be {}, not the (sensitive) \
                                     value written here",
                                    ty.describe()
                                ),
                            )
                            .without_source(),
                    );
                }
                Err(got) => {
                    broken = true;
                    self.error(
                        n.pos,
                        format!(
                            "default of param `{name}` must be {}, not {got}",
                            ty.describe()
                        ),
                        None,
                    );
                }
            }
        }
        let mut decl = ParamDecl {
            name: name.clone(),
            key: key.pos,
            ty,
            default,
            allowed: if allowed_ok { allowed } else { Vec::new() },
            sensitive,
            broken,
        };
        if let Some((value, pos)) = &decl.default {
            if let Some(d) = not_allowed(&decl, value) {
                let help = d.help.unwrap_or_default();
                self.push(self.file.error(*pos, d.message).help(help));
                decl.broken = true;
            }
        }
        decl
    }

    /// Final values of every param: defaults, then var files, then `--var`s.
    pub(crate) fn resolve_params(
        &mut self,
        decls: &[ParamDecl],
        options: &LoadOptions,
    ) -> BTreeMap<String, Value> {
        let mut chosen: BTreeMap<String, (Value, Origin)> = BTreeMap::new();
        // Params whose given value was refused (reported once, not also as missing).
        let mut rejected: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for decl in decls {
            if let Some((value, _)) = &decl.default {
                chosen.insert(decl.name.clone(), (value.clone(), Origin::Default));
            }
        }
        let names: Vec<&str> = decls.iter().map(|d| d.name.as_str()).collect();
        let find = |name: &str| decls.iter().find(|d| d.name == name);
        let unknown_help = |name: &str| {
            hint(name, names.iter().copied()).unwrap_or_else(|| {
                if names.is_empty() {
                    "the stack declares no params; declare it under `params:`".to_string()
                } else {
                    format!("the stack's params are {}", list_names(&names))
                }
            })
        };

        for path in &options.var_files {
            let Some(file) = self.read_var_file(path) else {
                continue;
            };
            let root = match yaml::parse(&file) {
                Ok(root) => root,
                Err(d) => {
                    self.push(*d);
                    continue;
                }
            };
            let entries = match &root.kind {
                NodeKind::Map(entries) => entries.as_slice(),
                NodeKind::Null => &[],
                _ => {
                    self.push(
                        file.error(
                            root.pos,
                            format!(
                                "a var file must be a mapping of param names to values, not {}",
                                root.describe()
                            ),
                        )
                        .help("write one `NAME: VALUE` per line"),
                    );
                    continue;
                }
            };
            for (key, node) in entries {
                let Some(decl) = find(&key.name) else {
                    self.push(
                        file.error(key.pos, format!("unknown param `{}` in var file", key.name))
                            .help(unknown_help(&key.name)),
                    );
                    continue;
                };
                match value_from_node(decl.ty, node) {
                    Ok(value) => {
                        chosen.insert(
                            decl.name.clone(),
                            (value, Origin::File(file.clone(), node.pos)),
                        );
                    }
                    Err(_) if decl.sensitive => {
                        rejected.insert(decl.name.clone());
                        self.push(
                            file.error(
                                node.pos,
                                format!(
                                    "param `{}` is {}, not the (sensitive) value given here",
                                    decl.name,
                                    decl.ty.describe()
                                ),
                            )
                            .without_source(),
                        )
                    }
                    Err(got) => {
                        rejected.insert(decl.name.clone());
                        self.push(file.error(
                            node.pos,
                            format!("param `{}` is {}, not {got}", decl.name, decl.ty.describe()),
                        ))
                    }
                }
            }
        }

        for raw in &options.vars {
            let Some((name, text)) = raw.split_once('=') else {
                self.push(
                    Diagnostic::new(format!("`--var {raw}` is not NAME=VALUE"))
                        .help(format!("write `--var {}=VALUE`", raw.trim())),
                );
                continue;
            };
            let name = name.trim();
            let Some(decl) = find(name) else {
                self.push(
                    Diagnostic::new(format!("unknown param `{name}` in `--var {raw}`"))
                        .help(unknown_help(name)),
                );
                continue;
            };
            match value_from_text(decl.ty, text) {
                Ok(value) => {
                    chosen.insert(decl.name.clone(), (value, Origin::Var(raw.clone())));
                }
                Err(help) if decl.sensitive => {
                    rejected.insert(decl.name.clone());
                    self.push(
                        Diagnostic::new(format!(
                            "param `{name}` is {}, not the value given in `--var {name}=(sensitive)`",
                            decl.ty.describe()
                        ))
                        .help(help),
                    )
                }
                Err(help) => {
                    rejected.insert(decl.name.clone());
                    self.push(
                        Diagnostic::new(format!(
                            "param `{name}` is {}, not `{text}` (in `--var {raw}`)",
                            decl.ty.describe()
                        ))
                        .help(help),
                    )
                }
            }
        }

        let mut values = BTreeMap::new();
        for decl in decls {
            if decl.broken {
                continue;
            }
            let Some((value, origin)) = chosen.remove(&decl.name) else {
                if rejected.contains(&decl.name) {
                    // Its value was given and refused above: not "no value" as well.
                    continue;
                }
                self.error(
                    decl.key.with_len(decl.name.chars().count()),
                    format!("param `{}` has no value", decl.name),
                    Some(format!(
                        "pass `--var {}=VALUE`, or give it a `default:`",
                        decl.name
                    )),
                );
                continue;
            };
            // A default was checked where it was declared.
            if !matches!(origin, Origin::Default) {
                if let Some(d) = not_allowed(decl, &value) {
                    let help = d.help.clone().unwrap_or_default();
                    let d = match origin {
                        Origin::File(file, pos) if decl.sensitive => {
                            file.error(pos, d.message).help(help).without_source()
                        }
                        Origin::File(file, pos) => file.error(pos, d.message).help(help),
                        Origin::Var(_) if decl.sensitive => Diagnostic::new(format!(
                            "{} (in `--var {}=(sensitive)`)",
                            d.message, decl.name
                        ))
                        .help(help),
                        Origin::Var(raw) => {
                            Diagnostic::new(format!("{} (in `--var {raw}`)", d.message)).help(help)
                        }
                        Origin::Default => d,
                    };
                    self.push(d);
                    continue;
                }
            }
            values.insert(decl.name.clone(), decl.marked(value));
        }
        values
    }

    /// A module's params from the `inputs` its instance was given: values known while loading
    /// are checked like params (type, `allowed`) and substituted; values that reference
    /// resources are kept as expressions for the planner. An unknown input, a missing required
    /// one, and a value of the wrong type are errors in the file that uses the module.
    pub(crate) fn resolve_inputs(&mut self, decls: &[ParamDecl], call: &Call) {
        let instance = &call.instance;
        let names: Vec<&str> = decls.iter().map(|d| d.name.as_str()).collect();
        let mut given = BTreeMap::new();
        for input in &call.inputs {
            if names.contains(&input.name.as_str()) {
                given.insert(input.name.as_str(), input);
                continue;
            }
            let help = hint(&input.name, names.iter().copied()).unwrap_or_else(|| {
                if names.is_empty() {
                    "the module declares no `params:`, so it takes no inputs".to_string()
                } else {
                    format!("its inputs are {}", list_names(&names))
                }
            });
            self.push(
                call.parent
                    .error(
                        input.key_pos,
                        format!("module `{instance}` has no input `{}`", input.name),
                    )
                    .help(help),
            );
        }
        for decl in decls {
            if decl.broken {
                continue;
            }
            let Some(input) = given.get(decl.name.as_str()) else {
                match &decl.default {
                    Some((value, _)) => {
                        self.params
                            .insert(decl.name.clone(), decl.marked(value.clone()));
                    }
                    None => self.push(
                        call.parent
                            .error(
                                call.key_pos,
                                format!("module `{instance}` needs input `{}`", decl.name),
                            )
                            .help(format!(
                                "add `{}: VALUE` ({}) under `inputs:`",
                                decl.name,
                                decl.ty.describe()
                            )),
                    ),
                }
                continue;
            };
            let wrong = |got: &str| {
                call.parent.error(
                    input.value_pos,
                    format!(
                        "input `{}` of module `{instance}` must be {}, not {got}",
                        decl.name,
                        decl.ty.describe()
                    ),
                )
            };
            match &input.expr {
                Expr::Value { value } => match value_from_value(decl.ty, value) {
                    Ok(value) => match not_allowed(decl, &value.unmarked()) {
                        Some(d) => {
                            let help = d.help.unwrap_or_default();
                            self.push(
                                call.parent
                                    .error(
                                        input.value_pos,
                                        format!("{} (input of module `{instance}`)", d.message),
                                    )
                                    .help(help),
                            );
                        }
                        None => {
                            self.params.insert(decl.name.clone(), decl.marked(value));
                        }
                    },
                    Err(got) => self.push(wrong(&got)),
                },
                Expr::Concat { .. } if decl.ty != ParamType::String => {
                    self.push(wrong("a string built from `${...}`"));
                }
                Expr::Map { .. } => self.push(wrong("a mapping")),
                Expr::List { .. } if decl.ty != ParamType::List => self.push(wrong("a list")),
                expr => {
                    let origin = format!(
                        "input `{}` of module `{instance}` set at {}:{}:{}",
                        decl.name,
                        call.parent.path.display(),
                        input.value_pos.line,
                        input.value_pos.column
                    );
                    let expr = match decl.sensitive {
                        true => Expr::Sensitive {
                            inner: Box::new(expr.clone()),
                        },
                        false => expr.clone(),
                    };
                    self.inputs
                        .insert(decl.name.clone(), Input { expr, origin });
                }
            }
        }
    }

    fn read_var_file(&mut self, path: &Path) -> Option<SourceFile> {
        match files::capped::read_capped(path, files::capped::MAX_TEXT_FILE) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Some(SourceFile::new(path, &text)),
                Err(_) => {
                    self.push(Diagnostic::new(format!(
                        "var file `{}` is not valid UTF-8 text",
                        path.display()
                    )));
                    None
                }
            },
            Err(error) => {
                self.push(
                    Diagnostic::new(format!(
                        "cannot read var file `{}`: {error}",
                        path.display()
                    ))
                    .help("check the path given to `--var-file`"),
                );
                None
            }
        }
    }
}

/// An error (without a span) when `value` is not among the param's allowed values.
fn not_allowed(decl: &ParamDecl, value: &Value) -> Option<Diagnostic> {
    if decl.allowed.is_empty() {
        return None;
    }
    let offending: Vec<&Value> = match value {
        Value::List(items) => items.iter().filter(|i| !decl.allowed.contains(i)).collect(),
        other if decl.allowed.contains(other) => Vec::new(),
        other => vec![other],
    };
    let first = offending.first()?;
    let shown: Vec<String> = decl.allowed.iter().map(plain_text).collect();
    if decl.sensitive {
        return Some(
            Diagnostic::new(format!(
                "the (sensitive) value given for param `{}` is not one of its allowed values",
                decl.name
            ))
            .help(format!("allowed values: {}", list_names(&shown))),
        );
    }
    let first_text = plain_text(first);
    let suggestion = hint(&first_text, &shown)
        .map(|h| format!("{h} "))
        .unwrap_or_default();
    Some(
        Diagnostic::new(format!(
            "`{first_text}` is not an allowed value of param `{}`",
            decl.name
        ))
        .help(format!(
            "{suggestion}allowed values: {}",
            list_names(&shown)
        )),
    )
}

/// A YAML value as a param of type `ty`; `Err` describes what was found instead.
fn value_from_node(ty: ParamType, node: &Node) -> Result<Value, String> {
    match (ty, &node.kind) {
        (ParamType::String, NodeKind::Str(_) | NodeKind::Number { .. } | NodeKind::Bool(_)) => {
            Ok(Value::String(node.scalar_text().unwrap_or_default()))
        }
        (ParamType::Number, NodeKind::Number { number, .. }) => Ok(Value::Number(number.clone())),
        (ParamType::Bool, NodeKind::Bool(b)) => Ok(Value::Bool(*b)),
        (ParamType::List, NodeKind::List(items)) => items
            .iter()
            .map(|item| match &item.kind {
                NodeKind::Str(_) | NodeKind::Number { .. } | NodeKind::Bool(_) => {
                    Ok(Value::String(item.scalar_text().unwrap_or_default()))
                }
                _ => Err(format!("a list holding {}", item.describe())),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        _ => Err(node.describe()),
    }
}

/// A module input known while loading as a param of type `ty`; `Err` describes what it is.
fn value_from_value(ty: ParamType, value: &Value) -> Result<Value, String> {
    let scalar_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let describe = |v: &Value| match v {
        Value::List(_) => "a list".to_string(),
        Value::Map(_) => "a mapping".to_string(),
        Value::Null => "nothing (null)".to_string(),
        other => format!("the {} `{}`", other.kind_name(), plain_text(other)),
    };
    if let Value::Sensitive(inner) = value {
        return value_from_value(ty, inner)
            .map(|v| Value::Sensitive(Box::new(v)))
            .map_err(|_| "a sensitive value of another kind".to_string());
    }
    match (ty, value) {
        (ParamType::String, v) => scalar_text(v).map(Value::String).ok_or_else(|| describe(v)),
        (ParamType::Number, v @ Value::Number(_)) => Ok(v.clone()),
        (ParamType::Bool, v @ Value::Bool(_)) => Ok(v.clone()),
        (ParamType::List, Value::List(items)) => items
            .iter()
            .map(|i| {
                scalar_text(i)
                    .map(Value::String)
                    .ok_or_else(|| format!("a list holding {}", describe(i)))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        (_, v) => Err(describe(v)),
    }
}

/// A `--var` value as a param of type `ty`; `Err` says how to write it.
fn value_from_text(ty: ParamType, text: &str) -> Result<Value, String> {
    match ty {
        ParamType::String => Ok(Value::String(text.to_string())),
        ParamType::Number => {
            let trimmed = text.trim();
            if let Ok(i) = trimmed.parse::<i64>() {
                return Ok(Value::int(i));
            }
            trimmed
                .parse::<f64>()
                .ok()
                .and_then(yaml::number_from_f64)
                .map(Value::Number)
                .ok_or_else(|| "write a number, such as `256` or `0.5`".to_string())
        }
        ParamType::Bool => match text.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("write `true` or `false`".to_string()),
        },
        ParamType::List => {
            let trimmed = text.trim();
            if trimmed.starts_with('[') {
                let file = SourceFile::new(Path::new("--var"), trimmed);
                let node = yaml::parse(&file).map_err(|_| flow_list_help())?;
                value_from_node(ParamType::List, &node).map_err(|_| flow_list_help())
            } else if trimmed.is_empty() {
                Ok(Value::List(Vec::new()))
            } else {
                Ok(Value::List(
                    trimmed
                        .split(',')
                        .map(|s| Value::String(s.trim().to_string()))
                        .collect(),
                ))
            }
        }
    }
}

fn flow_list_help() -> String {
    format!(
        "write a {} list as `a,b,c` or `[a, b, c]`",
        ParamType::List.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_text_is_read_by_the_declared_type() {
        assert_eq!(
            value_from_text(ParamType::Number, "256"),
            Ok(Value::int(256))
        );
        assert!(value_from_text(ParamType::Number, "abc").is_err());
        assert_eq!(
            value_from_text(ParamType::Bool, "true"),
            Ok(Value::Bool(true))
        );
        assert!(value_from_text(ParamType::Bool, "yes").is_err());
        let list = Value::List(vec![Value::str("a"), Value::str("b")]);
        assert_eq!(value_from_text(ParamType::List, "a, b"), Ok(list.clone()));
        assert_eq!(value_from_text(ParamType::List, "[a, b]"), Ok(list));
        assert_eq!(
            value_from_text(ParamType::List, ""),
            Ok(Value::List(vec![]))
        );
        assert!(value_from_text(ParamType::List, "[a, [b]]").is_err());
        assert!(value_from_text(ParamType::List, "[a, ").is_err());
        assert_eq!(
            value_from_text(ParamType::String, "a=b"),
            Ok(Value::str("a=b"))
        );
    }
}
