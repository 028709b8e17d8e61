//! [`Loader`]: everything the loader has learnt so far about one file, shared by the loader's
//! parts (each adds its own methods), and [`LoadOptions`], what feeds a stack from outside.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::diag::Diagnostic;
use crate::schema::{Catalog, TypeSchema};
use crate::value::Value;
use crate::yaml::{Key, Node, SourceFile};

use super::module_env::ModuleEnv;
use super::parts::{Current, Repeat};
use super::parts::{Edge, Input, Instance, Local, Read};
use crate::model::{LookupDecl, Reads, StackRefDecl};

/// Values that feed a stack from outside the file: `--var` and `--var-file`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadOptions {
    /// Raw `NAME=VALUE` strings from `--var`, in command-line order; they win over var files.
    pub vars: Vec<String>,
    /// `--var-file` paths (YAML mappings), in order; a later file wins over an earlier one.
    pub var_files: Vec<PathBuf>,
    /// The values of the stack's `lookups` and `stack_refs`, once read (see
    /// [`crate::Stack::lookups`]); without them, references to them are unknown.
    pub reads: Option<Reads>,
}

/// The tag every taggable resource carries with its stack's name, so strata can find what it
/// created (and adopt it after a crash).
pub const STACK_TAG: &str = "strata:stack";

/// The tag every taggable resource carries with its address within its stack.
pub const ADDRESS_TAG: &str = "strata:address";

/// Everything the loader has learnt so far about one file (the stack file, or one module
/// instance's `module.yaml`), and every error it has found.
pub(crate) struct Loader<'c> {
    pub(super) file: Rc<SourceFile>,
    pub(super) catalog: &'c Catalog,
    pub(super) diags: Vec<Diagnostic>,
    pub(super) stack_name: String,
    /// Final param values (params with errors are absent). In a module: its inputs known while
    /// loading, and the defaults of the others.
    pub(super) params: BTreeMap<String, Value>,
    /// A module's inputs known only at plan time (they reference resources), by param name.
    pub(super) inputs: BTreeMap<String, Input>,
    /// Every declared param name, so a param with a bad value is not also "unknown".
    pub(super) declared_params: Vec<String>,
    /// Every resource name of this file, with its schema when its type is known.
    pub(super) resource_types: IndexMap<String, Option<&'c TypeSchema>>,
    /// References found while reading the current resource.
    pub(super) edges: Vec<Edge>,
    /// The module path of this file's resources: `""` in the stack, `net.` in module instance
    /// `net`, `outer.inner.` below it. Addresses, references and physical names carry it.
    pub(super) prefix: String,
    /// This file's module instances by name.
    pub(super) modules: IndexMap<String, Instance>,
    /// Every resource read in this file and the modules below it, for the cycle check, which
    /// runs once over the whole flattened graph.
    pub(super) reads: Vec<Read>,
    /// The lock file and module cache of the stack.
    pub(super) env: Rc<ModuleEnv>,
    /// The module directories being loaded, outermost first: a module must not use itself.
    pub(super) chain: Vec<PathBuf>,
    /// SHA-256 of every module file loaded, for the stack's source hash.
    pub(super) module_hashes: Vec<String>,
    /// Every local path a property names, in this file and the modules below it.
    pub(super) local_paths: Vec<PathBuf>,
    /// In a module: its directory as a path from the stack file's directory, which relative
    /// local paths (a Lambda's `code.path`) written in the module file are rewritten to start
    /// from. `None` in the stack file itself.
    pub(super) dir_from_stack: Option<PathBuf>,
    /// In a published module (and the local modules inside it): the module's verified
    /// directory in the cache, canonical. Local paths and local module sources must stay inside
    /// it, so a published module uses only the bytes its archive pinned. `None` elsewhere.
    pub(super) published_root: Option<PathBuf>,
    /// In a published module used from outside any published module: the params its caller
    /// gives (written in the caller's file, so a local path in one is the caller's to choose).
    pub(super) caller_inputs: Vec<String>,
    /// This file's `locals:` by name, evaluated on first use.
    pub(super) locals: IndexMap<String, Local>,
    /// The locals being evaluated, outermost first, to name a cycle.
    pub(super) locals_resolving: Vec<String>,
    /// The `count` / `for_each` / `condition` of this file's resources that have one, by name.
    pub(super) repeats: BTreeMap<String, (&'static str, Repeat)>,
    /// The instance whose properties are being read (`each.key`, `count.index`).
    pub(super) current: Option<Current>,
    /// `lookups:` and `stack_refs:` of the stack, checked, and every name declared (those
    /// with errors too, so they are not also "unknown").
    pub(super) lookups: IndexMap<String, LookupDecl>,
    pub(super) lookup_names: Vec<String>,
    pub(super) stack_refs: IndexMap<String, StackRefDecl>,
    pub(super) stack_ref_names: Vec<String>,
    /// Their values, once read ([`LoadOptions::reads`]).
    pub(super) read_values: Option<Reads>,
    /// Lookups or stack references are declared but not read yet (a first load): what
    /// depends on them waits ([`super::parts::Instances::Deferred`]).
    pub(super) reads_pending: bool,
    /// Per stack reference, the outputs referenced.
    pub(super) stack_ref_uses: BTreeMap<String, std::collections::BTreeSet<String>>,
}

/// A mapping's entries by key, after unknown keys were reported.
pub(crate) struct Fields<'n> {
    pub(super) entries: BTreeMap<&'n str, (&'n Key, &'n Node)>,
}

impl<'n> Fields<'n> {
    pub(super) fn get(&self, name: &str) -> Option<(&'n Key, &'n Node)> {
        self.entries.get(name).copied()
    }

    pub(super) fn node(&self, name: &str) -> Option<&'n Node> {
        self.get(name).map(|(_, node)| node)
    }
}
