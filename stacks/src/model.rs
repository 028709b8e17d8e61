//! The resolved stack: what the loader hands to the planner.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::expr::Expr;
use crate::graph::DependencyGraph;
use crate::value::Value;

/// `lifecycle:` of a resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// A plan that would delete or replace the resource is an error.
    #[serde(default)]
    pub prevent_destroy: bool,
    /// A replacement creates the new resource before deleting the old one.
    #[serde(default)]
    pub create_before_destroy: bool,
    /// Properties that never cause an update.
    #[serde(default)]
    pub ignore_changes: Vec<String>,
}

/// A position in a stack file, kept so later stages can point at the line that caused them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePos {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
}

/// One resource as declared, with params substituted and defaults, names and tags filled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceDecl {
    /// The logical address (`orders`, or `net.vpc` inside module instance `net`).
    pub address: String,
    pub type_name: String,
    /// Properties as expressions. Properties with a schema default are filled when omitted;
    /// `name` is filled with the deterministic physical name when the type has one; `tags`
    /// holds the stack's tags merged with the resource's and the `strata:` tags.
    pub properties: BTreeMap<String, Expr>,
    /// Addresses named in `depends_on`.
    pub depends_on: Vec<String>,
    pub lifecycle: Lifecycle,
    /// `name_prefix:`: strata chooses the name (this, then a random suffix) at create and at
    /// each replacement, and keeps it in the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    /// Where the resource is declared.
    pub pos: SourcePos,
    /// Where each property the stack writes is, by name (the key's position), for messages
    /// about one property (`strata lint`).
    #[serde(default)]
    pub property_pos: BTreeMap<String, SourcePos>,
}

impl ResourceDecl {
    /// Every address this resource depends on: its references and `depends_on`.
    pub fn dependencies(&self) -> BTreeSet<String> {
        let mut deps: BTreeSet<String> = self.depends_on.iter().cloned().collect();
        for expr in self.properties.values() {
            deps.extend(expr.resource_addresses());
        }
        deps.remove(&self.address);
        deps
    }
}

/// One `outputs:` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputDecl {
    pub value: Expr,
    pub sensitive: bool,
    pub description: Option<String>,
}

/// One `moved:` entry: the resource recorded at `from` is the one the stack now declares at
/// `to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Move {
    pub from: String,
    pub to: String,
    /// Where `to` is written.
    pub pos: SourcePos,
}

/// One `lookups:` entry, its arguments evaluated (a part may still be unknown when it uses
/// another lookup not read yet).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LookupDecl {
    pub type_name: String,
    /// The arguments as a mapping (`filter`, `name`, ...).
    pub args: Value,
    pub pos: SourcePos,
}

/// One `stack_refs:` entry: where the other stack's state is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackRefDecl {
    pub backend: Backend,
    /// The other stack's name (the entry's own name when not given).
    pub stack: String,
    pub pos: SourcePos,
}

/// What was read for `lookups` and `stack_refs`, by name: each a mapping (a lookup's
/// attributes, the other stack's outputs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reads {
    pub lookups: BTreeMap<String, Value>,
    pub stack_refs: BTreeMap<String, Value>,
}

/// Where the state lives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Backend {
    /// A directory, resolved against the stack file's directory.
    Local { path: PathBuf },
    S3 {
        bucket: String,
        key: String,
        region: Option<String>,
    },
}

/// A loaded, resolved and validated stack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    pub name: String,
    pub description: Option<String>,
    /// The stack's `region:`; flags and the environment override it.
    pub region: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Params with their final values.
    pub params: BTreeMap<String, Value>,
    pub backend: Backend,
    /// Resources in declaration order.
    pub resources: IndexMap<String, ResourceDecl>,
    pub outputs: IndexMap<String, OutputDecl>,
    /// `moved:` renames, each checked: `to` is declared, `from` is not.
    #[serde(default)]
    pub moved: Vec<Move>,
    /// `lookups:` and `stack_refs:`, checked, their arguments evaluated: what the caller reads
    /// before loading the stack again with [`crate::LoadOptions::reads`].
    #[serde(default)]
    pub lookups: IndexMap<String, LookupDecl>,
    #[serde(default)]
    pub stack_refs: IndexMap<String, StackRefDecl>,
    /// What was read for them and given to this load.
    #[serde(default)]
    pub read_values: Reads,
    /// Per stack reference, the outputs the stack uses: what it records beside the other
    /// stack's state when it applies.
    #[serde(default)]
    pub stack_ref_uses: BTreeMap<String, BTreeSet<String>>,
    /// The stack file.
    pub path: PathBuf,
    /// SHA-256 over the stack file and every value that fed it (vars), so a saved plan can
    /// tell that its inputs changed.
    pub source_hash: String,
    /// The local files and directories properties name (a Lambda's `code.path`), as paths from
    /// the current directory, in the order they were loaded: what a saved plan fingerprints
    /// ([`crate::archive::fingerprint_files`]).
    #[serde(default)]
    pub local_paths: Vec<PathBuf>,
    /// What depends on what, built once by the loader (see [`DependencyGraph`]).
    #[serde(skip)]
    pub graph: DependencyGraph,
}
