//! Turning strings with `${...}` into [`Expr`]s: each body is parsed ([`crate::lang`]), its
//! names resolved (params, locals and `stack.name` to their values, resources and `aws.*`
//! built-ins to references, module outputs to their expressions), and every part known now is
//! evaluated, so a failing call is an error of `strata validate`. Errors point at the column
//! of the part that is wrong.

use std::collections::BTreeMap;
use std::path::Path;

use crate::expr::{Expr, Piece, Reference};
use crate::lang::parser;
use crate::lang::resolve::{lower, Names};
use crate::lang::template::{self, Segment};
use crate::lang::{Ast, FileContext, LangError, Span};
use crate::suggest::{did_you_mean, hint};
use crate::value::Value;
use crate::yaml::{Node, NodeKind, Pos};

use crate::suggest::list_names;

use super::loader::Loader;
use super::parts::Instances;
use super::parts::{Edge, Instance, Place};

/// The built-ins a stack can name.
const BUILTINS: &[&str] = &[
    "stack.name",
    "aws.region",
    "aws.account_id",
    "aws.partition",
];

/// Roots of references that exist in the language but come later.
const NOT_YET: &[(&str, &str)] = &[];

enum Resolved {
    Value(Value),
    Ref(Reference),
    /// A module's output, a module input or a local known only at plan time: its expression,
    /// whose references are already full addresses.
    Expr(Expr),
}

/// Where a string is written, to turn character offsets inside it into file positions.
struct Located<'a> {
    node: &'a Node,
    chars: Vec<char>,
    /// Character offsets of every `${` of the string.
    dollars: Vec<usize>,
    positions: Vec<Pos>,
    exact: bool,
}

impl<'a> Located<'a> {
    fn new(node: &'a Node, text: &str, source: &str) -> Located<'a> {
        let chars: Vec<char> = text.chars().collect();
        let dollars: Vec<usize> = (0..chars.len())
            .filter(|&i| chars[i] == '$' && chars.get(i + 1) == Some(&'{'))
            .collect();
        let positions = node.dollar_brace_positions(source);
        let exact = positions.len() == dollars.len();
        Located {
            node,
            chars,
            dollars,
            positions,
            exact,
        }
    }

    /// The file position of `span`: exact when the source reads as the string does, else the
    /// `${` before it, else the node.
    fn pos(&self, span: Span, source: &str) -> Pos {
        let start = span.start as usize;
        let len = span.len as usize;
        let Some(ordinal) = self.dollars.iter().rposition(|&d| d <= start) else {
            return self.node.pos;
        };
        if !self.exact {
            return self.node.pos;
        }
        let dollar = self.dollars[ordinal];
        let exact = self.node.position_after_dollar(
            source,
            ordinal,
            self.chars.get(dollar..).unwrap_or_default(),
            start - dollar,
        );
        match exact {
            Some(pos) => pos.with_len(len),
            None => self.positions[ordinal].with_len(len),
        }
    }
}

/// What an expression is resolved against: the loader, where it is written, and how it reads.
struct LoaderNames<'l, 'c, 'p> {
    loader: &'l mut Loader<'c>,
    place: &'l Place<'p>,
    located: &'l Located<'l>,
    written: String,
    /// The `${...}` as a whole, and its inside without surrounding blanks: a reference that is
    /// the whole expression is reported at the `${`, as the person sees it.
    body: Span,
    content: Span,
}

impl Names for LoaderNames<'_, '_, '_> {
    fn resolve(
        &mut self,
        root: &str,
        attr: Option<(&str, Span)>,
        span: Span,
    ) -> Result<(Ast, bool), Option<LangError>> {
        let file = self.loader.file.clone();
        let pos = if span == self.content {
            self.located.pos(self.body, &file.text)
        } else {
            self.located.pos(span, &file.text)
        };
        if let Some((_, why)) = NOT_YET.iter().find(|(r, _)| *r == root) {
            return Err(Some(
                LangError::new(span, format!("`{root}` is not supported yet"))
                    .help(format!("{why}, which strata does not have yet")),
            ));
        }
        let Some((name, _)) = attr else {
            let help = match root {
                "params" | "locals" => format!("write `{root}.NAME`"),
                "each" => "write `each.key` or `each.value`".into(),
                "count" => "write `count.index`".into(),
                "stack" => "write `stack.name`".into(),
                "aws" => "write `aws.region`, `aws.account_id` or `aws.partition`".into(),
                _ if self.loader.resource_types.contains_key(root) => {
                    format!("a resource is used through one of its attributes: `{root}.ATTRIBUTE`")
                }
                _ if self.loader.modules.contains_key(root) => {
                    format!("a module is used through one of its outputs: `{root}.OUTPUT`")
                }
                _ => parser::FORMS.into(),
            };
            return Err(Some(
                LangError::new(span, format!("`{root}` alone is not a value")).help(help),
            ));
        };
        let resolved = self
            .loader
            .resolve(root, name, &self.written, self.place, pos)
            .ok_or(None)?;
        let ast = match resolved {
            Resolved::Value(value) => Ast::Value { value },
            Resolved::Ref(reference) => Ast::Ref { reference },
            Resolved::Expr(expr) => expr.into_ast(),
        };
        Ok((ast, true))
    }

    fn reads(&self, root: &str) -> bool {
        matches!(root, "lookups" | "stack_refs")
    }

    fn read_attr(
        &mut self,
        root: &str,
        name: &str,
        attr: &str,
        span: Span,
    ) -> Result<Ast, Option<LangError>> {
        let file = self.loader.file.clone();
        let pos = self.located.pos(span, &file.text);
        self.loader.read_attr(root, name, attr, pos)
    }

    fn repeated(&mut self, root: &str) -> bool {
        (self.loader.resource_types.contains_key(root) || self.loader.modules.contains_key(root))
            && self.loader.is_repeated(root)
    }

    fn instance(
        &mut self,
        root: &str,
        key: &Value,
        key_span: Span,
        attr: (&str, Span),
        span: Span,
    ) -> Result<Ast, Option<LangError>> {
        let file = self.loader.file.clone();
        let pos = self.located.pos(span, &file.text);
        let key_pos = self.located.pos(key_span, &file.text);
        let written = self.written.clone();
        self.loader
            .instance_ref(root, key, attr.0, self.place, (pos, key_pos), &written)
    }

    fn instances(
        &mut self,
        root: &str,
        attr: (&str, Span),
        by_key: bool,
        span: Span,
    ) -> Result<Ast, Option<LangError>> {
        let file = self.loader.file.clone();
        let pos = self.located.pos(span, &file.text);
        let written = self.written.clone();
        self.loader
            .instances_ref(root, attr.0, by_key, self.place, pos, &written)
    }
}

impl Loader<'_> {
    /// Where file functions of this file read: its directory, and nothing outside it.
    fn file_dir(&self) -> &Path {
        self.file
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn lang_error(&mut self, located: &Located<'_>, error: LangError) {
        let file = self.file.clone();
        let pos = located.pos(error.span, &file.text);
        self.error(pos, error.message, error.help);
    }

    /// A string from the stack file as an expression. `None` when it held an error (reported).
    pub(crate) fn string_expr(&mut self, node: &Node, text: &str, place: &Place) -> Option<Expr> {
        if !template::has_dollar_brace(text) {
            return Some(Expr::value(text));
        }
        let file = self.file.clone();
        let source = file.text.as_str();
        let located = Located::new(node, text, source);
        let (segments, errors) = template::scan(text);
        let mut ok = errors.is_empty();
        for error in errors {
            self.lang_error(&located, error);
        }
        let whole = matches!(segments.as_slice(), [Segment::Expr(_)]);
        let files = FileContext::new(self.file_dir(), crate::lang::templating::render);
        let mut parts: Vec<(Ast, Option<Span>)> = Vec::new();
        let mut first_at = None;
        for segment in segments {
            match segment {
                Segment::Text(text) => parts.push((Ast::value(Value::String(text)), None)),
                Segment::Expr(body) => {
                    let at = located.pos(body.span, source);
                    first_at.get_or_insert(at);
                    let syn = match parser::parse(&body.chars, body.start) {
                        Ok(syn) => syn,
                        Err(error) => {
                            self.lang_error(&located, error);
                            ok = false;
                            continue;
                        }
                    };
                    let lead = body.chars.iter().take_while(|c| c.is_whitespace()).count();
                    let trail = body
                        .chars
                        .iter()
                        .rev()
                        .take_while(|c| c.is_whitespace())
                        .count();
                    let content = Span::new(
                        body.start + lead,
                        body.chars.len().saturating_sub(lead + trail),
                    );
                    let mut names = LoaderNames {
                        loader: self,
                        place,
                        located: &located,
                        written: body.written(),
                        body: body.span,
                        content,
                    };
                    let ast = match lower(syn, &mut names) {
                        Ok(ast) => ast,
                        Err(error) => {
                            if let Some(error) = error {
                                self.lang_error(&located, error);
                            }
                            ok = false;
                            continue;
                        }
                    };
                    match ast.fold(&files) {
                        Ok(ast) => parts.push((ast, Some(body.span))),
                        Err(error) => {
                            self.lang_error(&located, error);
                            ok = false;
                        }
                    }
                }
            }
        }
        let read = std::mem::take(&mut *files.read.borrow_mut());
        self.local_paths.extend(read);
        if !ok {
            return None;
        }
        let at = first_at.unwrap_or(node.pos);
        let at_text = format!("{}:{}:{}", self.file.path.display(), at.line, at.column);
        if whole {
            let (ast, _) = parts.pop()?;
            return Some(Expr::from_ast(ast, at_text));
        }
        self.joined(parts, &located, at_text)
    }

    /// Text and expressions joined into a string: pieces of text and references when that is
    /// all they are (as before expressions had operators), else one template expression.
    fn joined(
        &mut self,
        parts: Vec<(Ast, Option<Span>)>,
        located: &Located<'_>,
        at: String,
    ) -> Option<Expr> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut sensitive = false;
        let mut simple = true;
        for (ast, span) in &parts {
            let whole_value = match ast {
                Ast::Value { value } => Some(value.unmarked()),
                _ => None,
            };
            if let Some(Value::List(_) | Value::Map(_)) = whole_value {
                let span = span.unwrap_or_default();
                let written: String = located
                    .chars
                    .iter()
                    .skip(span.start as usize)
                    .take(span.len as usize)
                    .collect();
                self.lang_error(
                    located,
                    LangError::new(
                        span,
                        format!("`{written}` is a list or mapping and cannot be joined into a string"),
                    )
                    .help("use it as the whole value (`\"${...}\"` alone), or turn it into text with `jsonencode(...)` or `join(...)`"),
                );
                return None;
            }
            if simple && !flatten(ast, &mut pieces, &mut sensitive) {
                simple = false;
            }
        }
        if !simple {
            let whole = Span::new(0, located.chars.len());
            let parts = parts.into_iter().map(|(ast, _)| ast).collect();
            return Some(Expr::Lang {
                ast: Box::new(Ast::Template { parts, span: whole }),
                at,
            });
        }
        let joined = match pieces.as_slice() {
            [] => Expr::value(""),
            [Piece::Text { text }] => Expr::value(text.as_str()),
            _ => Expr::Concat { pieces },
        };
        Some(if sensitive {
            Expr::Sensitive {
                inner: Box::new(joined),
            }
        } else {
            joined
        })
    }

    /// Any node as an expression, without a kind to check: documents, outputs, unknown types.
    pub(crate) fn any_expr(&mut self, node: &Node, place: &Place) -> Option<Expr> {
        match &node.kind {
            NodeKind::Str(s) => self.string_expr(node, s, place),
            NodeKind::List(items) => {
                let items: Vec<Option<Expr>> =
                    items.iter().map(|i| self.any_expr(i, place)).collect();
                items.into_iter().collect::<Option<Vec<_>>>().map(list_expr)
            }
            NodeKind::Map(entries) => {
                let entries: Vec<(String, Option<Expr>)> = entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), self.any_expr(v, place)))
                    .collect();
                let mut map = BTreeMap::new();
                let mut ok = true;
                for (k, v) in entries {
                    match v {
                        Some(v) => {
                            map.insert(k, v);
                        }
                        None => ok = false,
                    }
                }
                ok.then(|| map_expr(map))
            }
            _ => Some(Expr::Value {
                value: node.to_value(),
            }),
        }
    }

    fn resolve(
        &mut self,
        head: &str,
        name: &str,
        written: &str,
        place: &Place,
        pos: Pos,
    ) -> Option<Resolved> {
        match head {
            "params" => {
                if let Some(value) = self.params.get(name) {
                    return Some(Resolved::Value(value.clone()));
                }
                if let Some(input) = self.inputs.get(name) {
                    let (expr, origin) = (input.expr.clone(), input.origin.clone());
                    match place {
                        Place::StackTags => {
                            self.error(
                                pos,
                                format!("`{written}` cannot be used in the module's `tags`"),
                                Some(format!("{origin} is known only at plan time; put it in a resource's own `tags`")),
                            );
                            return None;
                        }
                        Place::Resource(_) => {
                            for to in expr.resource_addresses() {
                                self.edges.push(Edge {
                                    to,
                                    pos,
                                    via: format!("`{written}` ({origin})"),
                                });
                            }
                        }
                        Place::Output
                        | Place::ModuleInput(_)
                        | Place::Local
                        | Place::Repeat(_)
                        | Place::Read => {}
                    }
                    return Some(Resolved::Expr(expr));
                }
                if self.declared_params.contains(&name.to_string()) {
                    // Declared, but it has no value because of an error already reported.
                    return None;
                }
                let help = hint(name, &self.declared_params).unwrap_or_else(|| {
                    format!("declare it under `params:` (e.g. `{name}: {{ type: string }}`)")
                });
                self.error(
                    pos,
                    format!("unknown param `{name}` in `{written}`"),
                    Some(help),
                );
                None
            }
            "locals" => self.use_local(name, written, place, pos),
            "lookups" | "stack_refs" => self.read_value(head, name, pos).map(Resolved::Value),
            "each" | "count" => self
                .current_instance(head, name, written, place, pos)
                .map(Resolved::Value),
            "stack" | "aws" => {
                let full = format!("{head}.{name}");
                if full == "stack.name" {
                    return Some(Resolved::Value(Value::String(self.stack_name.clone())));
                }
                if !BUILTINS.contains(&full.as_str()) {
                    let help = hint(&full, BUILTINS.iter().copied())
                        .unwrap_or_else(|| format!("the built-ins are {}", list_names(BUILTINS)));
                    self.error(pos, format!("unknown built-in `{written}`"), Some(help));
                    return None;
                }
                if let Place::StackTags = place {
                    self.error(
                        pos,
                        format!("`{written}` cannot be used in the stack's `tags`"),
                        Some("stack tags are resolved before strata talks to AWS; use it in a resource's own `tags` instead".into()),
                    );
                    return None;
                }
                Some(Resolved::Ref(Reference::Builtin { name: full }))
            }
            _ => self.resolve_resource(head, name, written, place, pos),
        }
    }

    /// `${locals.NAME}`: the local's expression (evaluated on first use), with the edges a
    /// resource using it gets.
    fn use_local(
        &mut self,
        name: &str,
        written: &str,
        place: &Place,
        pos: Pos,
    ) -> Option<Resolved> {
        let expr = self.local(name, written, pos)?;
        match place {
            Place::StackTags if !matches!(expr, Expr::Value { .. }) => {
                self.error(
                    pos,
                    format!("`{written}` cannot be used in the stack's `tags`"),
                    Some(format!("local `{name}` is known only at plan time; use it in a resource's own `tags`")),
                );
                return None;
            }
            Place::Resource(me) => {
                let me = self.qualify(me);
                let addresses = expr.resource_addresses();
                if addresses.contains(&me) {
                    self.error(
                        pos,
                        format!("resource `{me}` references itself through local `{name}` in `{written}`"),
                        Some("a resource cannot use its own attributes; use the value itself or a param".into()),
                    );
                    return None;
                }
                for to in addresses {
                    self.edges.push(Edge {
                        to,
                        pos,
                        via: format!("`{written}` (local `{name}`)"),
                    });
                }
            }
            _ => {}
        }
        Some(match expr {
            Expr::Value { value } => Resolved::Value(value),
            Expr::Ref { reference } => Resolved::Ref(reference),
            other => Resolved::Expr(other),
        })
    }

    fn resolve_resource(
        &mut self,
        address: &str,
        attr: &str,
        written: &str,
        place: &Place,
        pos: Pos,
    ) -> Option<Resolved> {
        if let Place::StackTags = place {
            if self.resource_types.contains_key(address) || self.modules.contains_key(address) {
                self.error(
                    pos,
                    format!("`{written}` cannot be used in the stack's `tags`"),
                    Some("stack tags apply to every resource, so they cannot depend on one; put it in a resource's own `tags`".into()),
                );
                return None;
            }
        }
        if self.modules.contains_key(address) {
            return self.resolve_output(address, attr, written, place, pos);
        }
        if !self.resource_types.contains_key(address) {
            let mut candidates: Vec<String> = self.resource_types.keys().cloned().collect();
            candidates.extend(self.modules.keys().cloned());
            candidates.extend(["params", "stack", "aws", "locals"].map(String::from));
            let help = match did_you_mean(address, &candidates) {
                Some(c) => format!("did you mean `${{{c}.{attr}}}`?"),
                None if address == "var" => {
                    format!("a stack's inputs are params: `${{params.{attr}}}`")
                }
                None if address == "local" => format!("write `${{locals.{attr}}}`"),
                None if self.resource_types.is_empty() => {
                    "this stack declares no resources".to_string()
                }
                None => format!(
                    "the stack's resources are {}",
                    list_names(&self.resource_types.keys().collect::<Vec<_>>())
                ),
            };
            let help = match (&help, self.modules.is_empty()) {
                (h, false) if !h.starts_with("did you mean") => format!(
                    "{h}; its modules are {}",
                    list_names(&self.modules.keys().collect::<Vec<_>>())
                ),
                _ => help,
            };
            self.error(
                pos,
                format!("unknown resource `{address}` in `{written}`"),
                Some(help),
            );
            return None;
        }
        if let Place::Resource(me) = place {
            if *me == address {
                self.error(
                    pos,
                    format!("resource `{address}` references itself in `{written}`"),
                    Some(
                        "a resource cannot use its own attributes; use the value itself or a param"
                            .into(),
                    ),
                );
                return None;
            }
        }
        match self.instances_of(address) {
            None => return None,
            Some(Instances::Absent) => return Some(Resolved::Value(Value::Null)),
            Some(Instances::Deferred) if !self.is_repeated(address) => {
                return Some(Resolved::Value(Value::Unknown))
            }
            Some(instances) if instances.repeated() || self.is_repeated(address) => {
                let (kind, example) = match instances {
                    Instances::Count(_) => ("count", "0".to_string()),
                    _ => ("for_each", "\"KEY\"".to_string()),
                };
                self.error(
                    pos,
                    format!("resource `{address}` has `{kind}`: `{written}` does not say which instance"),
                    Some(format!("write `{address}[{example}].{attr}` for one instance, or `{address}[*].{attr}` for the list of all")),
                );
                return None;
            }
            Some(_) => {}
        }
        if !self.known_attr(address, attr, pos) {
            return None;
        }
        let full = self.qualify(address);
        if let Place::Resource(_) = place {
            self.edges.push(Edge {
                to: full.clone(),
                pos,
                via: format!("`{written}`"),
            });
        }
        Some(Resolved::Ref(Reference::Resource {
            address: full,
            attr: attr.to_string(),
        }))
    }

    /// Whether `attr` is an attribute (or property) of this file's resource `resource`; an
    /// unknown one is reported, with the attributes there are. A resource of an unknown type
    /// takes any (its type is reported where it is written).
    pub(crate) fn known_attr(&mut self, resource: &str, attr: &str, pos: Pos) -> bool {
        let Some(Some(schema)) = self.resource_types.get(resource).copied() else {
            return true;
        };
        if schema.has_attr(attr) {
            return true;
        }
        let names = schema.attr_names();
        let help = hint(attr, names.iter().copied())
            .unwrap_or_else(|| format!("{} has {}", schema.type_name, list_names(&names)));
        self.error(
            pos,
            format!(
                "unknown attribute `{attr}` of resource `{resource}` ({})",
                schema.type_name
            ),
            Some(help),
        );
        false
    }

    /// `${MODULE.OUTPUT}`: the output's expression, which references the module's resources by
    /// their full addresses. Only outputs are visible outside a module.
    fn resolve_output(
        &mut self,
        module: &str,
        output: &str,
        written: &str,
        place: &Place,
        pos: Pos,
    ) -> Option<Resolved> {
        if let Place::ModuleInput(me) = place {
            if *me == module {
                self.error(
                    pos,
                    format!("module `{module}` uses its own output in its `inputs`: `{written}`"),
                    Some("a module's inputs must be known before its resources; pass the value itself".into()),
                );
                return None;
            }
        }
        let full = self.qualify(module);
        let outputs = match self.modules.get(module) {
            Some(Instance::Loaded { outputs, .. }) => outputs.clone(),
            Some(Instance::Absent) => return Some(Resolved::Value(Value::Null)),
            Some(Instance::Deferred) => return Some(Resolved::Value(Value::Unknown)),
            Some(Instance::Repeated { .. }) => {
                self.error(
                    pos,
                    format!("module `{module}` has `count` or `for_each`: `{written}` does not say which instance"),
                    Some(format!("write `{module}[KEY].{output}` for one instance, or `{module}[*].{output}` for the list of all")),
                );
                return None;
            }
            // Its errors are reported where they are.
            _ => return None,
        };
        self.output_expr(&full, &outputs, output, written, place, pos)
            .map(Resolved::Expr)
    }

    /// Output `output` of module instance `full` (whose outputs are `outputs`), with the edges
    /// a resource using it gets; an unknown output is reported, listing those there are.
    pub(crate) fn output_expr(
        &mut self,
        full: &str,
        outputs: &indexmap::IndexMap<String, Expr>,
        output: &str,
        written: &str,
        place: &Place,
        pos: Pos,
    ) -> Option<Expr> {
        let Some(expr) = outputs.get(output).cloned() else {
            let names: Vec<&str> = outputs.keys().map(String::as_str).collect();
            let listed = if names.is_empty() {
                "none".to_string()
            } else {
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let help = hint(output, names.iter().copied()).unwrap_or_else(|| {
                format!(
                    "to use something else from inside the module, add it to the module's `outputs:` (e.g. `{output}: \"${{RESOURCE.ATTRIBUTE}}\"`)"
                )
            });
            self.error(
                pos,
                format!(
                    "`{written}`: only outputs of module `{full}` can be referenced; it has: {listed}"
                ),
                Some(help),
            );
            return None;
        };
        if let Place::Resource(_) = place {
            for to in expr.resource_addresses() {
                self.edges.push(Edge {
                    to,
                    pos,
                    via: format!("`{written}`"),
                });
            }
        }
        Some(expr)
    }
}

/// Adds a part of a joined string to its pieces; `false` for what does not split into text and
/// references (a list, a mapping, an operator or a call). A sensitive part makes the whole
/// string sensitive.
fn flatten(ast: &Ast, pieces: &mut Vec<Piece>, sensitive: &mut bool) -> bool {
    match ast {
        Ast::Value { value } => match value {
            Value::List(_) | Value::Map(_) => false,
            Value::Sensitive(inner) => {
                *sensitive = true;
                flatten(&Ast::value((**inner).clone()), pieces, sensitive)
            }
            other => {
                push_text(pieces, &plain_text(other));
                true
            }
        },
        Ast::Ref { reference } => {
            pieces.push(Piece::Ref {
                reference: reference.clone(),
            });
            true
        }
        Ast::Template { parts, .. } => parts.iter().all(|p| flatten(p, pieces, sensitive)),
        Ast::Sensitive { inner } => {
            *sensitive = true;
            flatten(inner, pieces, sensitive)
        }
        _ => false,
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text { text: last }) = pieces.last_mut() {
        last.push_str(text);
    } else {
        pieces.push(Piece::Text {
            text: text.to_string(),
        });
    }
}

/// How a known value reads when joined into a string (as [`Expr::eval`] joins them).
pub(crate) fn plain_text(value: &Value) -> String {
    crate::lang::plain_text(value)
}

/// A list: a plain value when every item is known.
pub(crate) fn list_expr(items: Vec<Expr>) -> Expr {
    if items.iter().all(|i| matches!(i, Expr::Value { .. })) {
        let values = items
            .into_iter()
            .filter_map(|i| match i {
                Expr::Value { value } => Some(value),
                _ => None,
            })
            .collect();
        Expr::Value {
            value: Value::List(values),
        }
    } else {
        Expr::List { items }
    }
}

/// A mapping: a plain value when every entry is known.
pub(crate) fn map_expr(entries: BTreeMap<String, Expr>) -> Expr {
    if entries.values().all(|e| matches!(e, Expr::Value { .. })) {
        let values = entries
            .into_iter()
            .filter_map(|(k, e)| match e {
                Expr::Value { value } => Some((k, value)),
                _ => None,
            })
            .collect();
        Expr::Value {
            value: Value::Map(values),
        }
    } else {
        Expr::Map { entries }
    }
}
