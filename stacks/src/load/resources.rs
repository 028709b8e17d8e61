//! `resources:`: names, types, properties checked against the catalog, then filled with
//! defaults, physical names, tags and sensitive markers; `depends_on`, `lifecycle`, and
//! dependency cycles.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use indexmap::IndexMap;

use crate::expr::Expr;
use crate::model::{Lifecycle, ResourceDecl, SourcePos};
use crate::names::{is_resource_name, physical_name, RESOURCE_NAME_RULE};
use crate::schema::{Kind, TypeSchema};
use crate::suggest::hint;
use crate::value::{Map, Value};
use crate::yaml::{Key, Node, NodeKind, Pos, SourceFile};

use crate::suggest::list_names;

use super::loader::{Loader, ADDRESS_TAG, STACK_TAG};
use super::parts::{Current, Instances};
use super::parts::{Edge, Owner, Place, Read};
use crate::names::InstanceKey;

const RESOURCE_KEYS: &[&str] = &[
    "type",
    "properties",
    "depends_on",
    "lifecycle",
    "count",
    "for_each",
    "condition",
];
/// How many characters strata adds to a `name_prefix` (hex digits of a random number).
pub const NAME_SUFFIX_LEN: usize = 8;

const LIFECYCLE_KEYS: &[&str] = &["prevent_destroy", "create_before_destroy", "ignore_changes"];

/// What a resource's declaration says before its properties are read.
pub(crate) struct Declared<'n> {
    key: &'n Key,
    entries: &'n [(Key, Node)],
}

impl<'c> Loader<'c> {
    /// Every resource's name and type, so references can be checked in any order.
    pub(crate) fn declare_resources<'n>(&mut self, node: &'n Node) -> Vec<Declared<'n>> {
        let entries = self.mapping(node, "`resources`");
        // First every name and type, so references can be checked in any order.
        let mut declared = Vec::new();
        for (key, value) in entries {
            if !is_resource_name(&key.name) {
                self.error(
                    key.pos,
                    format!("invalid resource name `{}`", key.name),
                    Some(format!(
                        "a resource name starts with a lowercase letter and has only lowercase letters, digits and `_`, at most 63 characters (`{RESOURCE_NAME_RULE}`)"
                    )),
                );
            }
            let (entries, schema) = match &value.kind {
                NodeKind::Map(entries) => (entries.as_slice(), self.resource_type(key, entries)),
                _ => {
                    self.error(
                        value.pos,
                        format!(
                            "resource `{}` must be a mapping with `type:` and `properties:`, not {}",
                            key.name,
                            value.describe()
                        ),
                        Some("write `NAME: { type: TYPE, properties: { ... } }`".into()),
                    );
                    (&[][..], None)
                }
            };
            self.resource_types.insert(key.name.clone(), schema);
            self.declare_repeat(&key.name, entries);
            declared.push(Declared { key, entries });
        }
        declared
    }

    /// The declared resources with their properties, in declaration order; those with errors
    /// are left out (and reported).
    pub(crate) fn read_resources(
        &mut self,
        declared: &[Declared<'_>],
        stack_tags: &BTreeMap<String, String>,
    ) -> IndexMap<String, ResourceDecl> {
        let mut out = IndexMap::new();
        for d in declared {
            let Some(instances) = self.instances_of(&d.key.name) else {
                continue;
            };
            let each = match &instances {
                Instances::Each(map) => Some(map),
                _ => None,
            };
            for key in instances.keys() {
                self.current = match (&key, each) {
                    (Some(InstanceKey::Index(i)), _) => Some(Current::Count(*i)),
                    (Some(InstanceKey::Key(k)), Some(map)) => Some(Current::Each {
                        key: k.clone(),
                        value: map.get(k).cloned().unwrap_or(Value::Null),
                    }),
                    _ => None,
                };
                let (read, decl) = self.resource(d, key.as_ref(), stack_tags);
                self.current = None;
                self.reads.push(read);
                if let Some(decl) = decl {
                    out.insert(decl.address.clone(), decl);
                }
            }
        }
        out
    }

    /// The schema named by a resource's `type:`, reporting a missing or unknown type.
    fn resource_type(&mut self, key: &Key, entries: &[(Key, Node)]) -> Option<&'c TypeSchema> {
        let catalog = self.catalog;
        let Some((_, type_node)) = entries.iter().find(|(k, _)| k.name == "type") else {
            self.error(
                key.pos,
                format!("resource `{}` has no `type:`", key.name),
                Some("add `type: TYPE`, e.g. `type: aws.sqs.queue`".into()),
            );
            return None;
        };
        let type_name = self.text(type_node, &format!("`type` of resource `{}`", key.name))?;
        match catalog.get(&type_name) {
            Some(schema) => Some(schema),
            None => {
                let help = hint(&type_name, catalog.type_names()).unwrap_or_else(|| {
                    "run `strata schema` to see every resource type".to_string()
                });
                self.error(
                    type_node.pos,
                    format!("unknown resource type `{type_name}`"),
                    Some(help),
                );
                None
            }
        }
    }

    /// One instance of a declared resource (`instance` is its key, for `count` and
    /// `for_each`).
    fn resource(
        &mut self,
        declared: &Declared<'_>,
        instance: Option<&InstanceKey>,
        stack_tags: &BTreeMap<String, String>,
    ) -> (Read, Option<ResourceDecl>) {
        let key = declared.key;
        let address = key.name.as_str();
        let qualified = match instance {
            Some(k) => format!("{}{}", self.qualify(address), k.suffix()),
            None => self.qualify(address),
        };
        let fields = self.fields(
            declared.entries,
            RESOURCE_KEYS,
            &format!("in resource `{address}`"),
        );
        let schema = self.resource_types.get(address).copied().flatten();
        let place = Place::Resource(address);
        self.edges.clear();

        // Properties: checked against the schema when the type is known; otherwise only their
        // references are checked.
        let properties_field = fields.get("properties");
        let all_entries: &[(Key, Node)] = match properties_field {
            Some((_, node)) => self.mapping(node, &format!("`properties` of resource `{address}`")),
            None => &[],
        };
        let (name_prefix, without_prefix) = self.name_prefix(schema, address, all_entries);
        let prop_entries: &[(Key, Node)] = without_prefix.as_deref().unwrap_or(all_entries);
        let properties = match schema {
            Some(schema) => {
                let missing_at = properties_field
                    .map(|(k, _)| k.pos)
                    .or_else(|| fields.get("type").map(|(k, _)| k.pos))
                    .unwrap_or(key.pos);
                let owner = Owner {
                    type_name: schema.type_name,
                    place: &place,
                };
                self.check_fields(prop_entries, &schema.props, "", missing_at, &owner)
            }
            None => {
                // Still report unknown references, though the resource itself is in error.
                for (_, v) in prop_entries {
                    let _ = self.any_expr(v, &place);
                }
                None
            }
        };

        let depends_on = match fields.node("depends_on") {
            Some(node) => self.depends_on(address, node),
            None => Vec::new(),
        };
        let lifecycle = match fields.node("lifecycle") {
            Some(node) => self.lifecycle(address, node, schema),
            None => Lifecycle::default(),
        };
        let edges = std::mem::take(&mut self.edges);

        let tags_node = prop_entries
            .iter()
            .find(|(k, v)| k.name == "tags" && !v.is_null())
            .map(|(_, v)| v);
        let decl = match (schema, properties) {
            (Some(schema), Some(mut properties)) => self
                .fill(
                    schema,
                    &qualified,
                    &mut properties,
                    stack_tags,
                    tags_node,
                    name_prefix.is_some(),
                )
                .and_then(|()| self.check_props(schema, &properties, prop_entries, key.pos))
                .map(|()| ResourceDecl {
                    address: qualified.clone(),
                    type_name: schema.type_name.to_string(),
                    properties,
                    depends_on,
                    lifecycle,
                    name_prefix,
                    pos: SourcePos {
                        file: self.file.path.clone(),
                        line: key.pos.line,
                        column: key.pos.column,
                    },
                    property_pos: prop_entries
                        .iter()
                        .map(|(k, _)| {
                            let pos = SourcePos {
                                file: self.file.path.clone(),
                                line: k.pos.line,
                                column: k.pos.column,
                            };
                            (k.name.clone(), pos)
                        })
                        .collect(),
                }),
            _ => None,
        };
        let read = Read {
            address: qualified,
            key: key.pos,
            edges,
            file: self.file.clone(),
        };
        (read, decl)
    }

    /// The type's own check over its properties together ([`TypeSchema::check`]). A string
    /// known only at plan or apply time (`vpc_id: ${vpc.id}`) stands in as a placeholder, so
    /// the rest is still checked; a refusal that names such a property is left to the provider,
    /// which makes the same check with the real value before it calls AWS. The error is at the
    /// property it names, else at the resource.
    fn check_props(
        &mut self,
        schema: &TypeSchema,
        properties: &BTreeMap<String, Expr>,
        entries: &[(Key, Node)],
        at: Pos,
    ) -> Option<()> {
        let Some(check) = schema.check else {
            return Some(());
        };
        let mut known = Map::new();
        let mut unknown = BTreeSet::new();
        for (name, expr) in properties {
            if let Some(value) = expr.known_value().filter(|v| !v.has_unknown()) {
                known.insert(name.clone(), value);
                continue;
            }
            let kind = schema.prop(name).map_or(&Kind::Any, |p| &p.kind);
            // A value of another kind known only later: the check would guess, so it waits
            // for the provider, which makes it with the real value.
            let Some(value) = with_placeholders(expr, kind) else {
                return Some(());
            };
            known.insert(name.clone(), value);
            unknown.insert(name.as_str());
        }
        let Err(problem) = (check.0)(&known) else {
            return Some(());
        };
        let named: Vec<&str> = problem
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|quoted| {
                let end = quoted
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(quoted.len());
                &quoted[..end]
            })
            .collect();
        let placeholder_named = named.iter().any(|n| unknown.contains(n));
        if placeholder_named || (named.is_empty() && !unknown.is_empty()) {
            return Some(());
        }
        let pos = named
            .iter()
            .find_map(|n| entries.iter().find(|(k, _)| k.name == *n))
            .map_or(at, |(k, _)| k.pos);
        self.error(
            pos,
            format!("{problem} ({})", schema.type_name),
            Some("AWS would refuse this; change the properties as the message says".into()),
        );
        None
    }

    /// Defaults, the physical name, tags, and sensitive markers. `address` is the full one.
    fn fill(
        &mut self,
        schema: &TypeSchema,
        address: &str,
        properties: &mut BTreeMap<String, Expr>,
        stack_tags: &BTreeMap<String, String>,
        tags_node: Option<&Node>,
        prefixed: bool,
    ) -> Option<()> {
        for prop in &schema.props {
            if let Some(default) = &prop.default {
                properties
                    .entry(prop.name.to_string())
                    .or_insert_with(|| Expr::Value {
                        value: default.clone(),
                    });
            }
        }
        if let Some(rule) = &schema.name_rule {
            if !properties.contains_key(rule.prop) && !prefixed {
                let suffix = rule.suffix_when.is_some_and(|(flag, _)| {
                    properties.get(flag)
                        == Some(&Expr::Value {
                            value: Value::Bool(true),
                        })
                });
                let name = physical_name(&self.stack_name, address, rule, suffix);
                properties.insert(rule.prop.to_string(), Expr::value(name));
            }
        }
        if schema.taggable {
            let mut tags: BTreeMap<String, Expr> = stack_tags
                .iter()
                .map(|(k, v)| (k.clone(), Expr::value(v.as_str())))
                .collect();
            match properties.remove("tags") {
                None => {}
                Some(Expr::Value {
                    value: Value::Map(own),
                }) => tags.extend(own.into_iter().map(|(k, v)| (k, Expr::Value { value: v }))),
                Some(Expr::Map { entries }) => tags.extend(entries),
                Some(_) => {
                    if let Some(node) = tags_node {
                        self.error(
                            node.pos,
                            format!("`tags` of resource `{}` must be written as a mapping", address.rsplit('.').next().unwrap_or(address)),
                            Some("they are merged with the stack's tags; write `tags: { NAME: VALUE }`".into()),
                        );
                    }
                    return None;
                }
            }
            tags.insert(STACK_TAG.to_string(), Expr::value(self.stack_name.as_str()));
            tags.insert(
                ADDRESS_TAG.to_string(),
                Expr::value(crate::names::address_tag(address)),
            );
            properties.insert("tags".to_string(), Expr::Map { entries: tags });
        }
        for prop in schema.props.iter().filter(|p| p.sensitive) {
            if let Some(expr) = properties.remove(prop.name) {
                let wrapped = match expr {
                    already @ Expr::Sensitive { .. } => already,
                    other => Expr::Sensitive {
                        inner: Box::new(other),
                    },
                };
                properties.insert(prop.name.to_string(), wrapped);
            }
        }
        Some(())
    }

    /// `name_prefix:` among a resource's properties: its text, and the properties without it
    /// (`None` when it is not there). Only a type with a name takes it, in place of the name;
    /// the prefix and the suffix strata adds must fit the service's length limit.
    #[allow(clippy::type_complexity)]
    fn name_prefix(
        &mut self,
        schema: Option<&TypeSchema>,
        address: &str,
        entries: &[(Key, Node)],
    ) -> (Option<String>, Option<Vec<(Key, Node)>>) {
        let Some((key, node)) = entries.iter().find(|(k, _)| k.name == "name_prefix") else {
            return (None, None);
        };
        let rest: Vec<(Key, Node)> = entries
            .iter()
            .filter(|(k, _)| k.name != "name_prefix")
            .cloned()
            .collect();
        let Some(schema) = schema else {
            return (None, Some(rest));
        };
        let Some(rule) = &schema.name_rule else {
            self.error(
                key.pos,
                format!(
                    "{} has no name, so it takes no `name_prefix`",
                    schema.type_name
                ),
                Some("remove `name_prefix`".into()),
            );
            return (None, Some(rest));
        };
        if let Some((named, _)) = entries.iter().find(|(k, _)| k.name == rule.prop) {
            self.error(
                named.pos,
                format!(
                    "resource `{address}` has both `{}` and `name_prefix`",
                    rule.prop
                ),
                Some(format!(
                    "keep one: `name_prefix` makes strata choose a unique `{}` that starts with it",
                    rule.prop
                )),
            );
            return (None, Some(rest));
        }
        let place = Place::Resource(address);
        let text = match &node.kind {
            NodeKind::Str(s) => match self.string_expr(node, s, &place) {
                Some(Expr::Value {
                    value: Value::String(text),
                }) => Some(text),
                Some(_) => {
                    self.error(
                        node.pos,
                        "`name_prefix` must be known when strata plans".to_string(),
                        Some("use params, locals or literals in it".into()),
                    );
                    None
                }
                None => None,
            },
            _ => self.text(node, "`name_prefix`"),
        };
        let Some(text) = text else {
            return (None, Some(rest));
        };
        let suffix = rule.suffix_when.map_or(0, |(_, s)| s.chars().count());
        let room = rule.max_len.saturating_sub(NAME_SUFFIX_LEN + suffix);
        if text.chars().count() > room {
            self.error(
                node.pos,
                format!(
                    "`name_prefix` is {} characters; {} names are at most {}, and strata adds {NAME_SUFFIX_LEN}",
                    text.chars().count(),
                    schema.type_name,
                    rule.max_len
                ),
                Some(format!("keep it to {room} characters")),
            );
            return (None, Some(rest));
        }
        (Some(text), Some(rest))
    }

    fn depends_on(&mut self, address: &str, node: &Node) -> Vec<String> {
        let items: &[Node] = match &node.kind {
            NodeKind::List(items) => items,
            NodeKind::Null => &[],
            _ => {
                self.error(
                    node.pos,
                    format!(
                        "`depends_on` of resource `{address}` must be a list of resource names, not {}",
                        node.describe()
                    ),
                    Some(format!(
                        "write `depends_on: [{}]`",
                        node.scalar_text().unwrap_or_else(|| "NAME".into())
                    )),
                );
                &[]
            }
        };
        let mut out = Vec::new();
        for item in items {
            let Some(name) = item.as_str() else {
                self.error(
                    item.pos,
                    format!("`depends_on` lists resource names, not {}", item.describe()),
                    None,
                );
                continue;
            };
            if name == address {
                self.error(
                    item.pos,
                    format!("resource `{address}` depends on itself"),
                    Some("remove it from `depends_on`".into()),
                );
                continue;
            }
            if let Some(instance) = self.modules.get(name) {
                // A module instance: every resource in it (in every instance of it).
                {
                    for to in instance.addresses() {
                        self.edges.push(Edge {
                            to: to.clone(),
                            pos: item.pos,
                            via: "`depends_on`".to_string(),
                        });
                        if !out.contains(&to) {
                            out.push(to);
                        }
                    }
                }
                continue;
            }
            if !self.resource_types.contains_key(name) {
                let names: Vec<&String> = self
                    .resource_types
                    .keys()
                    .chain(self.modules.keys())
                    .collect();
                let help = hint(name, names.iter().map(|s| s.as_str()))
                    .unwrap_or_else(|| format!("the stack's resources are {}", list_names(&names)));
                self.error(
                    item.pos,
                    format!("`depends_on` names unknown resource `{name}`"),
                    Some(help),
                );
                continue;
            }
            for to in self.instance_addresses(name) {
                self.edges.push(Edge {
                    to: to.clone(),
                    pos: item.pos,
                    via: "`depends_on`".to_string(),
                });
                if !out.contains(&to) {
                    out.push(to);
                }
            }
        }
        out
    }

    fn lifecycle(&mut self, address: &str, node: &Node, schema: Option<&TypeSchema>) -> Lifecycle {
        let mut lifecycle = Lifecycle::default();
        let entries = self.mapping(node, &format!("`lifecycle` of resource `{address}`"));
        let fields = self.fields(
            entries,
            LIFECYCLE_KEYS,
            &format!("in `lifecycle` of resource `{address}`"),
        );
        if let Some(n) = fields.node("prevent_destroy") {
            lifecycle.prevent_destroy = self.boolean(n, "`prevent_destroy`").unwrap_or(false);
        }
        if let Some(n) = fields.node("create_before_destroy") {
            lifecycle.create_before_destroy =
                self.boolean(n, "`create_before_destroy`").unwrap_or(false);
        }
        if let Some(n) = fields.node("ignore_changes") {
            let items: &[Node] = match &n.kind {
                NodeKind::List(items) => items,
                NodeKind::Null => &[],
                _ => {
                    self.error(
                        n.pos,
                        format!(
                            "`ignore_changes` must be a list of property names, not {}",
                            n.describe()
                        ),
                        Some(format!(
                            "write `ignore_changes: [{}]`",
                            n.scalar_text().unwrap_or_else(|| "tags".into())
                        )),
                    );
                    &[]
                }
            };
            for item in items {
                let Some(name) = item.as_str() else {
                    self.error(
                        item.pos,
                        format!(
                            "`ignore_changes` lists property names, not {}",
                            item.describe()
                        ),
                        None,
                    );
                    continue;
                };
                if let Some(schema) = schema {
                    if schema.prop(name).is_none() {
                        let names: Vec<&str> = schema.props.iter().map(|p| p.name).collect();
                        let help = hint(name, names.iter().copied()).unwrap_or_else(|| {
                            format!("{} takes {}", schema.type_name, list_names(&names))
                        });
                        self.error(
                            item.pos,
                            format!(
                                "`ignore_changes` names `{name}`, which is not a property of {}",
                                schema.type_name
                            ),
                            Some(help),
                        );
                        continue;
                    }
                }
                lifecycle.ignore_changes.push(name.to_string());
            }
        }
        lifecycle
    }

    /// Two resources of one type must not have the same physical name: with modules, a
    /// resource `jobs_queue` and a resource `queue` in module `jobs` would both derive
    /// `STACK-jobs-queue` and fight over one AWS resource. Reported at the one declared later.
    pub(crate) fn check_physical_names(&mut self, resources: &IndexMap<String, ResourceDecl>) {
        let files: BTreeMap<&str, (Rc<SourceFile>, Pos)> = self
            .reads
            .iter()
            .map(|r| (r.address.as_str(), (r.file.clone(), r.key)))
            .collect();
        let mut seen: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        let mut found = Vec::new();
        for decl in resources.values() {
            let Some(rule) = self
                .catalog
                .get(&decl.type_name)
                .and_then(|s| s.name_rule.as_ref())
            else {
                continue;
            };
            let Some(Expr::Value {
                value: Value::String(name),
            }) = decl.properties.get(rule.prop)
            else {
                continue;
            };
            if let Some(first) =
                seen.insert((decl.type_name.as_str(), name.as_str()), &decl.address)
            {
                if let Some((file, pos)) = files.get(decl.address.as_str()) {
                    let local = decl.address.rsplit('.').next().unwrap_or(&decl.address);
                    found.push(
                        file.error(
                            pos.with_len(local.chars().count()),
                            format!(
                                "resources `{first}` and `{}` would both be the {} named `{name}`",
                                decl.address, decl.type_name
                            ),
                        )
                        .help(format!(
                            "rename one of them, or give one its own `{}:`",
                            rule.prop
                        )),
                    );
                }
            }
        }
        self.diags.extend(found);
    }

    /// The dependency graph of everything read (the stack's resources in declaration order,
    /// then any that had errors), from the references and `depends_on` each one makes.
    pub(crate) fn dependency_graph(
        &self,
        resources: &IndexMap<String, ResourceDecl>,
    ) -> crate::graph::DependencyGraph {
        let addresses = resources
            .keys()
            .map(String::as_str)
            .chain(self.reads.iter().map(|r| r.address.as_str()));
        let declared: Vec<(String, &str)> = resources
            .values()
            .flat_map(|d| {
                d.dependencies()
                    .into_iter()
                    .map(move |dep| (dep, d.address.as_str()))
            })
            .collect();
        let edges = self
            .reads
            .iter()
            .flat_map(|r| {
                r.edges
                    .iter()
                    .map(move |e| (e.to.as_str(), r.address.as_str()))
            })
            .chain(declared.iter().map(|(dep, to)| (dep.as_str(), *to)));
        crate::graph::DependencyGraph::from_edges(addresses, edges)
    }

    /// Reports every dependency cycle once, over the flattened graph of the stack and all its
    /// modules, naming its resources in order from the one declared first (the stack's own
    /// before those of modules), pointing at that one's declaration, with a note per edge
    /// naming the file and line that makes it.
    pub(crate) fn check_cycles(&mut self, graph: &crate::graph::DependencyGraph) {
        let mut read = std::mem::take(&mut self.reads);
        read.sort_by_key(|r| r.address.matches('.').count());
        let read = read.as_slice();
        let position: BTreeMap<&str, usize> = read
            .iter()
            .enumerate()
            .map(|(i, r)| (r.address.as_str(), i))
            .collect();
        let mut cycles: Vec<Vec<usize>> = graph
            .cycles()
            .into_iter()
            .filter_map(|scc| {
                let members: BTreeSet<usize> = scc
                    .iter()
                    .filter_map(|a| position.get(a.as_str()).copied())
                    .collect();
                cycle_from(read, &members)
            })
            .collect();
        cycles.sort();
        for cycle in cycles {
            let names: Vec<&str> = cycle
                .iter()
                .filter_map(|&i| read.get(i).map(|r| r.address.as_str()))
                .collect();
            let Some(first) = cycle.first().and_then(|&i| read.get(i)) else {
                continue;
            };
            let mut text = names.join(" -> ");
            text.push_str(" -> ");
            text.push_str(names.first().copied().unwrap_or_default());
            let mut d = first
                .file
                .error(first.key.with_len(first.address.chars().count()), format!("dependency cycle: {text}"))
                .help("remove one of these references or `depends_on` entries; strata must create each resource after the ones it uses");
            for (i, from) in names.iter().enumerate() {
                let to = names
                    .get(i + 1)
                    .or(names.first())
                    .copied()
                    .unwrap_or_default();
                let how = read
                    .iter()
                    .find(|r| r.address == *from)
                    .and_then(|r| r.edges.iter().find(|e| e.to == to).map(|e| (r, e)))
                    .map(|(r, e)| {
                        format!(
                            "`{from}` uses `{to}` through {} at {}:{}:{}",
                            e.via,
                            r.file.path.display(),
                            e.pos.line,
                            e.pos.column
                        )
                    });
                if let Some(how) = how {
                    d = d.note(how);
                }
            }
            self.push(d);
        }
    }
}

/// A cycle through `members` (one strongly connected component), starting at the member
/// declared first and following the shortest path back to it.
fn cycle_from(read: &[Read], members: &BTreeSet<usize>) -> Option<Vec<usize>> {
    let start = *members.first()?;
    let by_name: BTreeMap<&str, usize> = read
        .iter()
        .enumerate()
        .map(|(i, r)| (r.address.as_str(), i))
        .collect();
    let successors = |i: usize| -> Vec<usize> {
        let mut next: Vec<usize> = read
            .get(i)
            .map(|r| {
                r.edges
                    .iter()
                    .filter_map(|e| by_name.get(e.to.as_str()).copied())
                    .filter(|j| members.contains(j))
                    .collect()
            })
            .unwrap_or_default();
        next.sort_unstable();
        next.dedup();
        next
    };
    // Breadth-first from `start` until an edge leads back to it.
    let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut seen = BTreeSet::from([start]);
    while let Some(current) = queue.pop_front() {
        for next in successors(current) {
            if next == start {
                let mut path = vec![current];
                let mut at = current;
                while let Some(&p) = parent.get(&at) {
                    path.push(p);
                    at = p;
                }
                path.reverse();
                return Some(path);
            }
            if seen.insert(next) {
                parent.insert(next, current);
                queue.push_back(next);
            }
        }
    }
    None
}

/// The placeholder a string known only at plan or apply time stands as in a type's check.
const PLACEHOLDER: &str = "(known after apply)";

/// `expr`'s value with every string known only later replaced by [`PLACEHOLDER`], following
/// `kind` into lists and mappings; `None` when a part of another kind is not known yet.
fn with_placeholders(expr: &Expr, kind: &Kind) -> Option<Value> {
    if let Some(value) = expr.known_value().filter(|v| !v.has_unknown()) {
        return Some(value);
    }
    match (expr, kind) {
        (Expr::Sensitive { inner }, kind) => {
            Some(Value::Sensitive(Box::new(with_placeholders(inner, kind)?)))
        }
        (Expr::List { items }, Kind::List(item)) => Some(Value::List(
            items
                .iter()
                .map(|e| with_placeholders(e, item))
                .collect::<Option<_>>()?,
        )),
        (Expr::Map { entries }, Kind::Map(item)) => Some(Value::Map(
            entries
                .iter()
                .map(|(k, e)| with_placeholders(e, item).map(|v| (k.clone(), v)))
                .collect::<Option<_>>()?,
        )),
        (Expr::Map { entries }, Kind::Object(props)) => Some(Value::Map(
            entries
                .iter()
                .map(|(k, e)| {
                    let prop = props.iter().find(|p| p.name == k)?;
                    with_placeholders(e, &prop.kind).map(|v| (k.clone(), v))
                })
                .collect::<Option<_>>()?,
        )),
        (_, Kind::String) => Some(Value::String(PLACEHOLDER.into())),
        _ => None,
    }
}
