//! Loading a stack file: YAML in, a resolved and validated [`Stack`] out, or every error
//! found, each pointing at its `file:line:column`.
//!
//! The loader never stops at the first problem: it keeps going with what it could read so a
//! person sees all their mistakes at once, sorted by position. It never calls AWS, and never
//! panics on any input.

mod exprs;
mod loader;
mod locals;
pub(crate) mod module_env;
mod modules;
mod moved;
mod params;
mod parts;
mod props;
mod reads;
mod repeat;
mod resources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use indexmap::IndexMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::Expr;
use crate::model::{Backend, OutputDecl, ResourceDecl, Stack};
use crate::names::{is_stack_name, STACK_NAME_RULE};
use crate::schema::Catalog;
use crate::suggest::hint;
use crate::value::Value;
use crate::yaml::{self, Key, Node, NodeKind, Pos, SourceFile};

pub use crate::model::{LookupDecl, Reads, StackRefDecl};
pub use loader::{LoadOptions, ADDRESS_TAG, STACK_TAG};
pub use resources::NAME_SUFFIX_LEN;

use crate::suggest::list_names;
use loader::{Fields, Loader};
use module_env::ModuleEnv;
use parts::Place;

/// Reads, resolves and validates the stack file at `path`.
///
/// Every problem found (malformed YAML, unknown keys, types, properties, params or
/// references, wrong value types, dependency cycles) is returned together, sorted by
/// position; nothing is contacted over the network.
pub fn load(path: &Path, options: &LoadOptions, catalog: &Catalog) -> Result<Stack, Diagnostics> {
    let bytes =
        files::capped::read_capped(path, files::capped::MAX_TEXT_FILE).map_err(|error| {
            let mut d = Diagnostic::new(format!(
                "cannot read stack file `{}`: {error}",
                path.display()
            ));
            if error.kind() == std::io::ErrorKind::NotFound {
                d = d.help(
                    "run `strata init` to create one, or pass `-f PATH` to name another file",
                );
            }
            Diagnostics::from(d)
        })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostics::from(
            Diagnostic::new(format!(
                "stack file `{}` is not valid UTF-8 text",
                path.display()
            ))
            .help("save the file as UTF-8"),
        )
    })?;
    load_str(path, &text, options, catalog)
}

/// [`load`] for a stack file already in memory; `path` is only used in messages and as
/// [`Stack::path`].
pub fn load_str(
    path: &Path,
    text: &str,
    options: &LoadOptions,
    catalog: &Catalog,
) -> Result<Stack, Diagnostics> {
    let file = SourceFile::new(path, text);
    let root = yaml::parse(&file).map_err(|d| Diagnostics::from(*d))?;
    let env = Rc::new(ModuleEnv::new(path));
    let mut loader = Loader::new(Rc::new(file), catalog, env, String::new(), Vec::new());
    let stack = loader.stack(&root, options);
    loader.finish(stack)
}

/// The keys a stack file may have at its top level.
const TOP_LEVEL_KEYS: &[&str] = &[
    "stack",
    "description",
    "region",
    "tags",
    "params",
    "locals",
    "lookups",
    "stack_refs",
    "backend",
    "modules",
    "resources",
    "moved",
    "outputs",
];
const OUTPUT_KEYS: &[&str] = &["value", "sensitive", "description"];
/// Where state lives when a stack names no backend, relative to the stack file.
pub const DEFAULT_STATE_DIR: &str = ".strata";

impl<'c> Loader<'c> {
    fn new(
        file: Rc<SourceFile>,
        catalog: &'c Catalog,
        env: Rc<ModuleEnv>,
        prefix: String,
        chain: Vec<PathBuf>,
    ) -> Loader<'c> {
        Loader {
            file,
            catalog,
            diags: Vec::new(),
            stack_name: String::new(),
            params: BTreeMap::new(),
            inputs: BTreeMap::new(),
            declared_params: Vec::new(),
            resource_types: IndexMap::new(),
            edges: Vec::new(),
            prefix,
            modules: IndexMap::new(),
            reads: Vec::new(),
            env,
            chain,
            module_hashes: Vec::new(),
            local_paths: Vec::new(),
            dir_from_stack: None,
            published_root: None,
            caller_inputs: Vec::new(),
            locals: IndexMap::new(),
            locals_resolving: Vec::new(),
            repeats: BTreeMap::new(),
            current: None,
            lookups: IndexMap::new(),
            lookup_names: Vec::new(),
            stack_refs: IndexMap::new(),
            stack_ref_names: Vec::new(),
            read_values: None,
            reads_pending: false,
            stack_ref_uses: BTreeMap::new(),
        }
    }

    /// The address of this file's resource or module `name`: `net.vpc` inside instance `net`.
    fn qualify(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Records an error in the stack file.
    fn error(&mut self, pos: Pos, message: impl Into<String>, help: Option<String>) {
        let mut d = self.file.error(pos, message);
        if let Some(help) = help {
            d = d.help(help);
        }
        self.diags.push(d);
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// The entries of a mapping by name; keys not in `known` are reported, with a hint.
    /// `context` completes "unknown key `x` ...", e.g. "in resource `q`".
    fn fields<'n>(
        &mut self,
        entries: &'n [(Key, Node)],
        known: &[&str],
        context: &str,
    ) -> Fields<'n> {
        let mut fields = BTreeMap::new();
        for (key, node) in entries {
            if known.contains(&key.name.as_str()) {
                fields.insert(key.name.as_str(), (key, node));
            } else {
                let help = hint(&key.name, known.iter().copied())
                    .unwrap_or_else(|| format!("expected one of {}", list_names(known)));
                self.error(
                    key.pos,
                    format!("unknown key `{}` {context}", key.name),
                    Some(help),
                );
            }
        }
        Fields { entries: fields }
    }

    /// The entries of a node that must be a mapping (or empty); reports anything else.
    fn mapping<'n>(&mut self, node: &'n Node, what: &str) -> &'n [(Key, Node)] {
        match &node.kind {
            NodeKind::Map(entries) => entries,
            NodeKind::Null => &[],
            _ => {
                self.error(
                    node.pos,
                    format!("{what} must be a mapping, not {}", node.describe()),
                    None,
                );
                &[]
            }
        }
    }

    /// A plain text value (numbers and booleans read as written); reports anything else.
    fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.scalar_text() {
            Some(text) => Some(text),
            None => {
                self.error(
                    node.pos,
                    format!("{what} must be a string, not {}", node.describe()),
                    None,
                );
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.kind {
            NodeKind::Bool(b) => Some(b),
            _ => {
                let help = match node.as_str() {
                    Some("true") | Some("false") => Some("remove the quotes".to_string()),
                    Some("yes") | Some("on") => Some("write `true`".to_string()),
                    Some("no") | Some("off") => Some("write `false`".to_string()),
                    _ => None,
                };
                self.error(
                    node.pos,
                    format!("{what} must be `true` or `false`, not {}", node.describe()),
                    help,
                );
                None
            }
        }
    }

    fn stack(&mut self, root: &Node, options: &LoadOptions) -> Option<Stack> {
        let entries = match &root.kind {
            NodeKind::Map(entries) => entries,
            NodeKind::Null => {
                self.error(
                    Pos {
                        line: 1,
                        column: 1,
                        len: 1,
                    },
                    "the stack file is empty",
                    Some("start it with `stack: NAME`, then declare `resources:`".into()),
                );
                return None;
            }
            _ => {
                self.error(
                    root.pos,
                    format!(
                        "a stack file must be a mapping of keys such as `stack:` and `resources:`, not {}",
                        root.describe()
                    ),
                    Some("start it with `stack: NAME`".into()),
                );
                return None;
            }
        };
        let fields = self.fields(entries, TOP_LEVEL_KEYS, "at the top of the stack file");

        self.stack_name = self.stack_name(root, &fields);
        let description = fields
            .node("description")
            .filter(|n| !n.is_null())
            .and_then(|n| self.text(n, "`description`"));
        let region = fields
            .node("region")
            .filter(|n| !n.is_null())
            .and_then(|n| self.text(n, "`region`"));

        let decls = fields
            .node("params")
            .map(|n| self.declare_params(n))
            .unwrap_or_default();
        self.declared_params = decls.iter().map(|d| d.name.clone()).collect();
        self.params = self.resolve_params(&decls, options);
        self.read_values = options.reads.clone();
        if let Some(node) = fields.node("locals") {
            self.declare_locals(node);
        }
        if let Some(node) = fields.node("stack_refs") {
            self.declare_stack_refs(node);
        }
        if let Some(node) = fields.node("lookups") {
            self.declare_lookups(node);
        }
        self.reads_pending = self.read_values.is_none()
            && !(self.lookup_names.is_empty() && self.stack_ref_names.is_empty());
        let declared = match fields.node("resources") {
            Some(node) => self.declare_resources(node),
            None => Vec::new(),
        };

        let tags = fields
            .node("tags")
            .map(|n| self.stack_tags(n))
            .unwrap_or_default();
        let backend = fields
            .node("backend")
            .and_then(|n| self.backend(n))
            .unwrap_or_else(|| Backend::Local {
                path: PathBuf::from(DEFAULT_STATE_DIR),
            });
        let (resources, outputs) = self.contents(&fields, &tags, &declared);
        self.check_physical_names(&resources);
        let moved = fields
            .node("moved")
            .map(|n| self.moved(n, &resources))
            .unwrap_or_default();
        let graph = self.dependency_graph(&resources);
        self.check_cycles(&graph);

        let source_hash = source_hash(&self.file.text, &self.params, &self.module_hashes);
        Some(Stack {
            name: self.stack_name.clone(),
            description,
            region,
            tags,
            params: self.params.clone(),
            backend,
            resources,
            outputs,
            moved,
            lookups: std::mem::take(&mut self.lookups),
            stack_refs: std::mem::take(&mut self.stack_refs),
            read_values: self.read_values.clone().unwrap_or_default(),
            stack_ref_uses: std::mem::take(&mut self.stack_ref_uses),
            path: self.file.path.clone(),
            source_hash,
            local_paths: std::mem::take(&mut self.local_paths),
            graph,
        })
    }

    fn stack_name(&mut self, root: &Node, fields: &Fields<'_>) -> String {
        const PLACEHOLDER: &str = "stack";
        let rule_help = format!(
            "a stack name starts with a lowercase letter and has only lowercase letters, digits \
             and `-`, at most 63 characters (`{STACK_NAME_RULE}`)"
        );
        let Some(node) = fields.node("stack") else {
            self.error(
                root.pos.with_len(1),
                "missing `stack:`: every stack file names its stack",
                Some("add `stack: NAME` at the top of the file".into()),
            );
            return PLACEHOLDER.into();
        };
        let Some(name) = self.text(node, "`stack`") else {
            return PLACEHOLDER.into();
        };
        if is_stack_name(&name) {
            name
        } else {
            self.error(
                node.pos,
                format!("invalid stack name `{name}`"),
                Some(rule_help),
            );
            PLACEHOLDER.into()
        }
    }

    /// `tags:` of the stack: names to strings; `${params.*}` and `${stack.name}` are allowed.
    fn stack_tags(&mut self, node: &Node) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        for (key, value) in self.mapping(node, "`tags`") {
            let text = match &value.kind {
                NodeKind::Str(s) => match self.string_expr(value, s, &Place::StackTags) {
                    Some(Expr::Value {
                        value: Value::Sensitive(_),
                    })
                    | Some(Expr::Sensitive { .. }) => {
                        self.error(
                            value.pos,
                            format!("tag `{}` holds a sensitive param", key.name),
                            Some("tags are shown to anyone who can list the resources; keep secrets out of them".into()),
                        );
                        None
                    }
                    Some(Expr::Value { value: v }) => Some(exprs::plain_text(&v)),
                    _ => None,
                },
                _ => self.text(value, &format!("tag `{}`", key.name)),
            };
            if let Some(text) = text {
                tags.insert(key.name.clone(), text);
            }
        }
        tags
    }

    fn backend(&mut self, node: &Node) -> Option<Backend> {
        const KINDS: &[&str] = &["local", "s3"];
        let entries = self.mapping(node, "`backend`");
        let fields = self.fields(entries, KINDS, "in `backend` (it is `local` or `s3`)");
        if entries.len() > 1 {
            self.error(
                node.pos,
                "`backend` names more than one kind",
                Some("keep exactly one of `local:` and `s3:`".into()),
            );
            return None;
        }
        if let Some((_, local)) = fields.get("local") {
            let entries = self.mapping(local, "`backend.local`");
            let fields = self.fields(entries, &["path"], "in `backend.local`");
            let path = match fields.node("path") {
                Some(n) => self.text(n, "`backend.local.path`")?,
                None => DEFAULT_STATE_DIR.to_string(),
            };
            return Some(Backend::Local {
                path: PathBuf::from(path),
            });
        }
        if let Some((key, s3)) = fields.get("s3") {
            let entries = self.mapping(s3, "`backend.s3`");
            let fields = self.fields(entries, &["bucket", "key", "region"], "in `backend.s3`");
            let mut required = |name: &str| match fields.node(name) {
                Some(n) => self.text(n, &format!("`backend.s3.{name}`")),
                None => {
                    self.error(
                        key.pos,
                        format!("`backend.s3` needs `{name}:`"),
                        Some("write `s3: { bucket: BUCKET, key: PATH/state.json }`".into()),
                    );
                    None
                }
            };
            let bucket = required("bucket");
            let state_key = required("key");
            let region = match fields.node("region") {
                Some(n) if !n.is_null() => Some(self.text(n, "`backend.s3.region`")?),
                _ => None,
            };
            return Some(Backend::S3 {
                bucket: bucket?,
                key: state_key?,
                region,
            });
        }
        None
    }

    /// The resources (this file's and its modules') and the outputs of a stack or module file.
    /// Names come first, then modules (whose inputs may use this file's resources), then the
    /// resources' properties (which may use the modules' outputs).
    fn contents(
        &mut self,
        fields: &Fields<'_>,
        tags: &BTreeMap<String, String>,
        declared: &[resources::Declared<'_>],
    ) -> (IndexMap<String, ResourceDecl>, IndexMap<String, OutputDecl>) {
        let mut resources = match fields.node("modules") {
            Some(node) => self.modules(node, tags),
            None => IndexMap::new(),
        };
        resources.extend(self.read_resources(declared, tags));
        let outputs = match fields.node("outputs") {
            Some(node) => self.outputs(node),
            None => IndexMap::new(),
        };
        self.finish_locals();
        (resources, outputs)
    }

    fn outputs(&mut self, node: &Node) -> IndexMap<String, OutputDecl> {
        let mut outputs = IndexMap::new();
        for (key, value) in self.mapping(node, "`outputs`") {
            if key.name.is_empty() {
                self.error(key.pos, "an output needs a name", None);
                continue;
            }
            let decl = match &value.kind {
                NodeKind::Map(entries) => self.long_output(key, entries),
                NodeKind::Null => {
                    self.error(
                        key.pos,
                        format!("output `{}` has no value", key.name),
                        Some(format!("write `{}: \"${{RESOURCE.ATTRIBUTE}}\"`", key.name)),
                    );
                    None
                }
                _ => self
                    .any_expr(value, &Place::Output)
                    .map(|value| OutputDecl {
                        value,
                        sensitive: false,
                        description: None,
                    }),
            };
            if let Some(decl) = decl {
                outputs.insert(key.name.clone(), decl);
            }
        }
        outputs
    }

    /// `name: { value, sensitive, description }`.
    fn long_output(&mut self, key: &Key, entries: &[(Key, Node)]) -> Option<OutputDecl> {
        let context = format!("in output `{}`", key.name);
        let fields = self.fields(entries, OUTPUT_KEYS, &context);
        let sensitive = match fields.node("sensitive") {
            Some(n) => self
                .boolean(n, &format!("`sensitive` of output `{}`", key.name))
                .unwrap_or(false),
            None => false,
        };
        let description = match fields.node("description") {
            Some(n) if !n.is_null() => {
                self.text(n, &format!("`description` of output `{}`", key.name))
            }
            _ => None,
        };
        let Some(value_node) = fields.node("value") else {
            self.error(
                key.pos,
                format!("output `{}` has no `value:`", key.name),
                Some("write `value: \"${RESOURCE.ATTRIBUTE}\"`".into()),
            );
            return None;
        };
        let value = self.any_expr(value_node, &Place::Output)?;
        let value = if sensitive {
            Expr::Sensitive {
                inner: Box::new(value),
            }
        } else {
            value
        };
        Some(OutputDecl {
            value,
            sensitive,
            description,
        })
    }

    /// All errors sorted by position (command-line errors first), or the stack.
    fn finish(mut self, stack: Option<Stack>) -> Result<Stack, Diagnostics> {
        match stack {
            Some(stack) if self.diags.is_empty() => Ok(stack),
            _ => {
                if self.diags.is_empty() {
                    // Unreachable in practice: a missing stack always comes with an error.
                    self.diags.push(Diagnostic::new(format!(
                        "cannot load stack file `{}`",
                        self.file.path.display()
                    )));
                }
                self.diags.sort_by_key(sort_key);
                self.diags.dedup();
                Err(Diagnostics(self.diags))
            }
        }
    }
}

fn sort_key(d: &Diagnostic) -> (bool, PathBuf, u32, u32) {
    match &d.span {
        Some(span) => (true, span.file.clone(), span.line, span.column),
        None => (false, PathBuf::new(), 0, 0),
    }
}

/// SHA-256 over the file's bytes and the final params, so a saved plan can tell its inputs
/// changed. Params serialise in name order (a `BTreeMap`), so the hash is deterministic.
/// Module files feed it too, in the order they were loaded.
fn source_hash(text: &str, params: &BTreeMap<String, Value>, modules: &[String]) -> String {
    let mut hasher = files::digest::Sha256Hex::new();
    hasher.update(text.as_bytes());
    hasher.update([0u8]);
    let params_json = serde_json::to_string(params).unwrap_or_default();
    hasher.update(params_json.as_bytes());
    for module in modules {
        hasher.update([0u8]);
        hasher.update(module.as_bytes());
    }
    hasher.finish()
}
