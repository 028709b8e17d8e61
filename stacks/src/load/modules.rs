//! `modules:`: module instances, inlined into the stack.
//!
//! Each instance's `module.yaml` is loaded by a loader of its own whose resources get the
//! instance's path as a prefix (`net.vpc`, `outer.inner.queue`), so they join the stack's
//! resources with distinct addresses and physical names. The module's params are set from the
//! instance's `inputs`; an input that references a resource of the stack stays an expression,
//! so the edge crosses the boundary. `${net.OUTPUT}` in the stack becomes the output's
//! expression, which references the module's resources by their full addresses; nothing else in
//! a module is visible outside it. Errors in a module point into its file, with a note naming
//! the line that used it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use files::digest::sha256_hex;
use indexmap::IndexMap;
use semver::VersionReq;

use crate::lang::parser;
use crate::lang::template::{self, Segment};
use crate::model::{OutputDecl, ResourceDecl};
use crate::names::{is_resource_name, RESOURCE_NAME_RULE};
use crate::registry::{self, Source, MODULE_FILE};
use crate::yaml::{self, Key, Node, NodeKind, Pos, SourceFile};

use crate::suggest::list_names;

use super::loader::{Fields, Loader};
use super::module_env::{inside, normalize};
use super::parts::{Call, GivenInput, Instance, Place};
use super::parts::{Current, Instances};
use crate::names::InstanceKey;
use crate::value::Value;

/// Keys of one `modules:` entry.
const INSTANCE_KEYS: &[&str] = &[
    "source",
    "version",
    "inputs",
    "count",
    "for_each",
    "condition",
];
/// Keys a `module.yaml` may have at its top level.
const MODULE_KEYS: &[&str] = &[
    "module",
    "version",
    "description",
    "tags",
    "params",
    "locals",
    "modules",
    "resources",
    "outputs",
];
/// How deep modules may nest: far beyond any real use, but a bound on a runaway include.
const MAX_DEPTH: usize = 16;

impl<'c> Loader<'c> {
    /// Loads every module instance of this file (in an order where an instance whose inputs use
    /// another's outputs comes after it) and returns all their resources.
    pub(crate) fn modules(
        &mut self,
        node: &Node,
        tags: &BTreeMap<String, String>,
    ) -> IndexMap<String, ResourceDecl> {
        let mut declared: Vec<(&Key, &[(Key, Node)])> = Vec::new();
        for (key, value) in self.mapping(node, "`modules`") {
            if !is_resource_name(&key.name) {
                self.error(
                    key.pos,
                    format!("invalid module name `{}`", key.name),
                    Some(format!(
                        "a module instance is named like a resource: a lowercase letter, then lowercase letters, digits and `_`, at most 63 characters (`{RESOURCE_NAME_RULE}`)"
                    )),
                );
                continue;
            }
            if ["params", "stack", "aws"].contains(&key.name.as_str()) {
                self.error(
                    key.pos,
                    format!(
                        "`{}` cannot name a module: `${{{}.…}}` already means something else",
                        key.name, key.name
                    ),
                    Some("choose another name".into()),
                );
                continue;
            }
            if self.resource_types.contains_key(&key.name) {
                self.error(
                    key.pos,
                    format!(
                        "module `{}` has the same name as resource `{}`",
                        key.name, key.name
                    ),
                    Some("rename one of them: `${NAME.…}` must name one thing".into()),
                );
                continue;
            }
            let NodeKind::Map(entries) = &value.kind else {
                self.error(
                    value.pos,
                    format!(
                        "module `{}` must be a mapping with `source:` and `inputs:`, not {}",
                        key.name,
                        value.describe()
                    ),
                    Some("write `NAME: { source: ./modules/NAME, inputs: { ... } }`".into()),
                );
                continue;
            };
            self.modules.insert(key.name.clone(), Instance::Pending);
            self.declare_repeat(&key.name, entries);
            declared.push((key, entries));
        }

        let mut resources = IndexMap::new();
        for index in self.module_order(&declared) {
            let (key, entries) = declared[index];
            let instance = match self.instances_of(&key.name) {
                None => Instance::Broken,
                Some(Instances::Absent) => Instance::Absent,
                Some(Instances::Deferred) => Instance::Deferred,
                Some(Instances::Single) => match self.instance(key, entries, None, tags) {
                    Some((outputs, found)) => {
                        let instance = Instance::Loaded {
                            outputs: outputs.into_iter().map(|(k, o)| (k, o.value)).collect(),
                            addresses: found.keys().cloned().collect(),
                        };
                        resources.extend(found);
                        instance
                    }
                    None => Instance::Broken,
                },
                Some(repeated) => {
                    self.repeated_instances(key, entries, &repeated, tags, &mut resources)
                }
            };
            self.modules.insert(key.name.clone(), instance);
        }
        resources
    }

    /// Every instance of a module with `count` or `for_each`, each loaded with its own
    /// `each.*` / `count.index` and address (`net["eu"]`); `Broken` if any has errors.
    fn repeated_instances(
        &mut self,
        key: &Key,
        entries: &[(Key, Node)],
        repeated: &Instances,
        tags: &BTreeMap<String, String>,
        resources: &mut IndexMap<String, ResourceDecl>,
    ) -> Instance {
        let mut instances = Vec::new();
        let mut ok = true;
        for instance_key in repeated.keys().into_iter().flatten() {
            self.current = match (&instance_key, repeated) {
                (InstanceKey::Index(i), _) => Some(Current::Count(*i)),
                (InstanceKey::Key(k), Instances::Each(map)) => Some(Current::Each {
                    key: k.clone(),
                    value: map.get(k).cloned().unwrap_or(Value::Null),
                }),
                _ => None,
            };
            let loaded = self.instance(key, entries, Some(&instance_key), tags);
            self.current = None;
            match loaded {
                Some((outputs, found)) => {
                    let outputs = outputs.into_iter().map(|(k, o)| (k, o.value)).collect();
                    instances.push((instance_key, outputs, found.keys().cloned().collect()));
                    resources.extend(found);
                }
                None => ok = false,
            }
        }
        if ok {
            Instance::Repeated { instances }
        } else {
            Instance::Broken
        }
    }

    /// Declared instances in an order where each comes after the instances whose outputs its
    /// inputs use, declaration order otherwise. Instances that use each other are reported and
    /// left out.
    fn module_order(&mut self, declared: &[(&Key, &[(Key, Node)])]) -> Vec<usize> {
        let names: Vec<&str> = declared.iter().map(|(k, _)| k.name.as_str()).collect();
        let uses: Vec<Vec<usize>> = declared
            .iter()
            .map(|(key, entries)| {
                let mut texts = Vec::new();
                if let Some((_, inputs)) = entries.iter().find(|(k, _)| k.name == "inputs") {
                    strings(inputs, &mut texts);
                }
                let mut used = Vec::new();
                for text in texts {
                    for segment in template::scan(text).0 {
                        let Segment::Expr(body) = segment else {
                            continue;
                        };
                        let Ok(syn) = parser::parse(&body.chars, body.start) else {
                            continue;
                        };
                        let mut roots = Vec::new();
                        parser::root_names(&syn, &mut roots);
                        for head in roots {
                            if let Some(i) =
                                names.iter().position(|n| *n == head && head != key.name)
                            {
                                used.push(i);
                            }
                        }
                    }
                }
                used
            })
            .collect();
        let mut done = vec![false; declared.len()];
        let mut order = Vec::new();
        loop {
            let ready = (0..declared.len()).find(|&i| !done[i] && uses[i].iter().all(|&j| done[j]));
            match ready {
                Some(i) => {
                    done[i] = true;
                    order.push(i);
                }
                None => break,
            }
        }
        for (i, (key, _)) in declared.iter().enumerate() {
            if !done[i] {
                let others: Vec<&str> = uses[i]
                    .iter()
                    .filter(|&&j| !done[j])
                    .map(|&j| names[j])
                    .collect();
                self.error(
                    key.pos,
                    format!(
                        "module `{}` and module {} use each other's outputs in their `inputs`",
                        key.name,
                        list_names(&others).replace(" or ", " and ")
                    ),
                    Some("a module's inputs must be known before it is loaded; break the loop by passing one value directly".into()),
                );
                self.modules.insert(key.name.clone(), Instance::Broken);
            }
        }
        order
    }

    /// Loads one instance: its inputs (in this file), its source, then its `module.yaml` with a
    /// loader of its own. `None` when it has errors (all reported).
    fn instance(
        &mut self,
        key: &Key,
        entries: &[(Key, Node)],
        instance_key: Option<&InstanceKey>,
        tags: &BTreeMap<String, String>,
    ) -> Option<(IndexMap<String, OutputDecl>, IndexMap<String, ResourceDecl>)> {
        let name = key.name.as_str();
        let fields = self.fields(entries, INSTANCE_KEYS, &format!("in module `{name}`"));
        let inputs = match fields.node("inputs") {
            Some(node) => self.given_inputs(name, node),
            None => Some(Vec::new()),
        };
        let (source_text, dir, published) = self.locate(key, &fields)?;
        // A module's inputs with errors: its own file would only report them missing.
        let inputs = inputs?;
        let canonical = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        let source_pos = fields.node("source").map_or(key.pos, |n| n.pos);
        if self.chain.contains(&canonical) || self.chain.len() >= MAX_DEPTH {
            self.error(
                source_pos,
                format!("module `{name}` (`{source_text}`) uses itself"),
                Some("a module cannot include itself, directly or through other modules".into()),
            );
            return None;
        }
        let path = normalize(&dir.join(MODULE_FILE));
        let text = match files::capped::read_capped(&path, files::capped::MAX_TEXT_FILE).and_then(
            |bytes| {
                String::from_utf8(bytes).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text")
                })
            },
        ) {
            Ok(text) => text,
            Err(e) => {
                self.error(
                    source_pos,
                    format!("cannot read {}: {e}", path.display()),
                    None,
                );
                return None;
            }
        };
        self.module_hashes.push(sha256_hex(text.as_bytes()));
        let full = match instance_key {
            Some(k) => format!("{}{}", self.qualify(name), k.suffix()),
            None => self.qualify(name),
        };
        let used_at = format!(
            "in module `{full}` (`{source_text}`), used at {}:{}:{}",
            self.file.path.display(),
            key.pos.line,
            key.pos.column
        );
        let file = Rc::new(SourceFile::new(&path, &text));
        let root = match yaml::parse(&file) {
            Ok(root) => root,
            Err(d) => {
                self.push(d.note(used_at));
                return None;
            }
        };

        let canonical_dir = canonical.clone();
        let mut chain = self.chain.clone();
        chain.push(canonical);
        let mut child = Loader::new(
            file,
            self.catalog,
            self.env.clone(),
            format!("{full}."),
            chain,
        );
        child.stack_name = self.stack_name.clone();
        child.reads_pending = self.reads_pending;
        child.dir_from_stack = Some(self.env.path_from_project(&dir));
        child.published_root = match published {
            true => Some(canonical_dir),
            false => self.published_root.clone(),
        };
        if published && self.published_root.is_none() {
            child.caller_inputs = inputs.iter().map(|i| i.name.clone()).collect();
        }
        let call = Call {
            instance: full,
            key_pos: key.pos.with_len(name.chars().count()),
            parent: self.file.clone(),
            inputs,
        };
        let body = child.module_body(&root, &call, tags);
        let failed = !child.diags.is_empty();
        for d in child.diags.drain(..) {
            self.diags.push(d.note(used_at.clone()));
        }
        self.reads.append(&mut child.reads);
        self.module_hashes.append(&mut child.module_hashes);
        self.local_paths.append(&mut child.local_paths);
        match body {
            Some((resources, outputs)) if !failed => Some((outputs, resources)),
            _ => None,
        }
    }

    /// The instance's `inputs`, read as expressions in this file. `None` if any has an error.
    fn given_inputs(&mut self, name: &str, node: &Node) -> Option<Vec<GivenInput>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (key, value) in self.mapping(node, &format!("`inputs` of module `{name}`")) {
            if value.is_null() {
                continue;
            }
            match self.any_expr(value, &Place::ModuleInput(name)) {
                Some(expr) => out.push(GivenInput {
                    name: key.name.clone(),
                    expr,
                    key_pos: key.pos,
                    value_pos: value.pos,
                }),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// The directory an instance's `source` names: a local directory (relative to this file),
    /// or the verified cached copy of the published version `strata.lock` pins (then `true`).
    /// Inside a published module a local directory must be inside that module's own directory.
    fn locate(&mut self, key: &Key, fields: &Fields<'_>) -> Option<(String, PathBuf, bool)> {
        let name = key.name.as_str();
        let Some(source_node) = fields.node("source") else {
            self.error(
                key.pos,
                format!("module `{name}` has no `source:`"),
                Some("write `source: ./modules/NAME` (a directory holding module.yaml) or `source: REGISTRY/NAME` with `version:`".into()),
            );
            return None;
        };
        let source_text = self.text(source_node, &format!("`source` of module `{name}`"))?;
        let version_node = fields.node("version").filter(|n| !n.is_null());
        match Source::parse(&source_text) {
            Err(help) => {
                self.error(
                    source_node.pos,
                    format!("invalid module source `{source_text}`"),
                    Some(help),
                );
                None
            }
            Ok(Source::Local(relative)) => {
                if let Some(v) = version_node {
                    self.error(
                        v.pos,
                        format!("module `{name}` comes from a directory, so it takes no `version:`"),
                        Some("`version:` is a semver requirement for a published module (`source: REGISTRY/NAME`); remove it".into()),
                    );
                    return None;
                }
                let base = self.file.path.parent().unwrap_or(Path::new(""));
                let dir = base.join(&relative);
                if let Some(root) = &self.published_root {
                    if !inside(root, base, &relative) {
                        self.error(
                            source_node.pos,
                            format!(
                                "module `{name}` (`{source_text}`) is outside this published module's directory"
                            ),
                            Some(format!(
                                "a published module uses only what its archive holds ({}): put the module below this module.yaml and write `./DIR`, or publish it and write `REGISTRY/NAME`",
                                self.env.path_from_project(root).display()
                            )),
                        );
                        return None;
                    }
                }
                if !dir.join(MODULE_FILE).is_file() {
                    self.error(
                        source_node.pos,
                        format!("module source `{source_text}` has no {MODULE_FILE}"),
                        Some(format!(
                            "looked for {}; a module is a directory holding module.yaml",
                            normalize(&dir.join(MODULE_FILE)).display()
                        )),
                    );
                    return None;
                }
                Some((source_text, dir, false))
            }
            Ok(Source::Registry {
                registry,
                name: module_name,
            }) => {
                let Some(version_node) = version_node else {
                    self.error(
                        key.pos,
                        format!(
                            "module `{name}` uses published module `{source_text}` and needs `version:`"
                        ),
                        Some("add a semver requirement, such as `version: \"^1.0\"`".into()),
                    );
                    return None;
                };
                let text = self.text(version_node, "`version`")?;
                let requirement = match VersionReq::parse(&text) {
                    Ok(r) => r,
                    Err(e) => {
                        self.error(
                            version_node.pos,
                            format!("`{text}` is not a semver requirement: {e}"),
                            Some("write one such as \"^1.2\", \"~1.2.3\" or \">=1.0, <2\"".into()),
                        );
                        return None;
                    }
                };
                match self.env.registry_dir(&registry, &module_name, &requirement) {
                    Ok(dir) => Some((source_text, dir, true)),
                    Err(e) => {
                        self.error(source_node.pos, e.message, e.help);
                        None
                    }
                }
            }
        }
    }

    /// A `module.yaml`, loaded for one instance: like a stack file with `module:` and
    /// `version:` in place of `stack:`, params set from the instance's inputs, and tags merged
    /// over the using file's.
    fn module_body(
        &mut self,
        root: &Node,
        call: &Call,
        parent_tags: &BTreeMap<String, String>,
    ) -> Option<(IndexMap<String, ResourceDecl>, IndexMap<String, OutputDecl>)> {
        let entries = match &root.kind {
            NodeKind::Map(entries) => entries,
            _ => {
                self.error(
                    Pos {
                        line: root.pos.line.max(1),
                        column: root.pos.column.max(1),
                        len: 1,
                    },
                    format!(
                        "a module file must be a mapping of keys such as `module:` and `resources:`, not {}",
                        root.describe()
                    ),
                    Some("start it with `module: NAME` and `version: X.Y.Z`".into()),
                );
                return None;
            }
        };
        let mut kept = Vec::new();
        for (key, node) in entries {
            let refused = match key.name.as_str() {
                "stack" => Some((
                    "a module file names its module with `module:`, not `stack:`",
                    "write `module: NAME` and `version: X.Y.Z` instead",
                )),
                "region" => Some((
                    "a module cannot set `region`",
                    "the stack that uses the module decides where it goes; remove it",
                )),
                "backend" => Some((
                    "a module cannot set `backend`",
                    "its resources are recorded in the state of the stack that uses it; remove it",
                )),
                _ => None,
            };
            match refused {
                Some((message, help)) => self.error(key.pos, message, Some(help.into())),
                None => kept.push((key.clone(), node.clone())),
            }
        }
        let fields = self.fields(&kept, MODULE_KEYS, "at the top of a module file");
        match fields.node("module") {
            None => self.error(
                root.pos.with_len(1),
                "missing `module:`: every module file names its module",
                Some("add `module: NAME` and `version: X.Y.Z` at the top of the file".into()),
            ),
            Some(node) => {
                if let Some(name) = self.text(node, "`module`") {
                    if !registry::is_module_name(&name) {
                        self.error(
                            node.pos,
                            format!("invalid module name `{name}`"),
                            Some("a module name starts with a lowercase letter and has only lowercase letters, digits and `-`, at most 63 characters".into()),
                        );
                    }
                }
            }
        }
        if let Some(node) = fields.node("version").filter(|n| !n.is_null()) {
            if let Some(text) = self.text(node, "`version`") {
                if let Err(e) = semver::Version::parse(&text) {
                    self.error(
                        node.pos,
                        format!("`version: {text}` is not a semantic version: {e}"),
                        Some("write three numbers, such as `version: 1.2.0`".into()),
                    );
                }
            }
        }
        if let Some(node) = fields.node("description").filter(|n| !n.is_null()) {
            self.text(node, "`description`");
        }
        let decls = fields
            .node("params")
            .map(|n| self.declare_params(n))
            .unwrap_or_default();
        self.declared_params = decls.iter().map(|d| d.name.clone()).collect();
        self.resolve_inputs(&decls, call);
        if let Some(node) = fields.node("locals") {
            self.declare_locals(node);
        }
        let declared = match fields.node("resources") {
            Some(node) => self.declare_resources(node),
            None => Vec::new(),
        };
        let mut tags = parent_tags.clone();
        if let Some(node) = fields.node("tags") {
            tags.extend(self.stack_tags(node));
        }
        Some(self.contents(&fields, &tags, &declared))
    }
}

/// Every string below `node`.
fn strings<'n>(node: &'n Node, out: &mut Vec<&'n str>) {
    match &node.kind {
        NodeKind::Str(s) => out.push(s),
        NodeKind::List(items) => items.iter().for_each(|i| strings(i, out)),
        NodeKind::Map(entries) => entries.iter().for_each(|(_, v)| strings(v, out)),
        _ => {}
    }
}
