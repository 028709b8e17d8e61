//! What the loader's files pass each other: where an expression is written, the references a
//! resource makes, module instances and their inputs, and the resources read so far. Plain
//! data, so every part of the loader can name it without naming the others.

use std::collections::BTreeMap;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::expr::Expr;
use crate::names::InstanceKey;
use crate::value::Value;
use crate::yaml::{Node, Pos, SourceFile};

/// Where an expression is written, which decides what it may reference.
pub(crate) enum Place<'a> {
    /// The stack's `tags:`: resolved while loading, so only params and `stack.name`.
    StackTags,
    /// A property of this resource: anything but itself.
    Resource(&'a str),
    /// An output: anything.
    Output,
    /// The `inputs` of module instance `.0`: anything but that module's own outputs.
    ModuleInput(&'a str),
    /// The value of a local: anything (a resource using the local depends on what it
    /// references).
    Local,
    /// The `count`, `for_each` or `condition` of resource `.0`: what is known at load.
    Repeat(&'a str),
    /// The arguments of a lookup: what is known before anything is read or changed.
    Read,
}

/// A reference from the resource being read to another one, kept for cycle messages.
#[derive(Clone, Debug)]
pub(crate) struct Edge {
    /// The full address (`net.vpc`).
    pub to: String,
    pub pos: Pos,
    /// How the dependency was written: `${b.arn}` or `depends_on`.
    pub via: String,
}

/// An input given to a module instance that is known only at plan time.
#[derive(Clone, Debug)]
pub(crate) struct Input {
    pub expr: Expr,
    /// Where it was set, for messages: "input `x` of module `net` set at stack.yaml:9:7".
    pub origin: String,
}

/// A module instance of the file being loaded.
#[derive(Clone, Debug)]
pub(crate) enum Instance {
    /// Declared, not loaded yet.
    Pending,
    /// It has errors (reported); references to it are not reported again.
    Broken,
    Loaded {
        /// Output expressions by name (references are full addresses).
        outputs: IndexMap<String, Expr>,
        /// The full addresses of every resource in it (and in its modules).
        addresses: Vec<String>,
    },
    /// With `count` or `for_each`: each instance's key, outputs and addresses.
    Repeated {
        instances: Vec<(InstanceKey, IndexMap<String, Expr>, Vec<String>)>,
    },
    /// A false `condition`: no instance; references to it are `null`.
    Absent,
    /// Its `count` or `for_each` waits for lookups or stack references not read yet.
    Deferred,
}

impl Instance {
    /// The full addresses of every resource in it, all instances together.
    pub fn addresses(&self) -> Vec<String> {
        match self {
            Instance::Loaded { addresses, .. } => addresses.clone(),
            Instance::Repeated { instances } => instances
                .iter()
                .flat_map(|(_, _, addresses)| addresses.iter().cloned())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// How a module instance is used: the parent's side of loading it.
pub(crate) struct Call {
    /// The full address of the instance (`net`, `outer.inner`).
    pub instance: String,
    /// Where the instance is declared in the parent file.
    pub key_pos: Pos,
    pub parent: Rc<SourceFile>,
    pub inputs: Vec<GivenInput>,
}

/// One entry of an instance's `inputs`.
pub(crate) struct GivenInput {
    pub name: String,
    pub expr: Expr,
    pub key_pos: Pos,
    pub value_pos: Pos,
}

/// One resource read, in the stack or in a module: where it depends on others (for the cycle
/// check over the whole flattened graph).
pub(crate) struct Read {
    /// The full address (`net.vpc`).
    pub(super) address: String,
    /// Where its name is written, in `file`.
    pub(super) key: Pos,
    /// Its references, positioned in `file`.
    pub(super) edges: Vec<Edge>,
    pub(super) file: Rc<SourceFile>,
}

/// Whose properties are being checked: the type (for messages) and where the values are
/// written (for what they may reference).
pub(crate) struct Owner<'a> {
    pub type_name: &'a str,
    pub place: &'a Place<'a>,
}

/// One local of the file being loaded.
#[derive(Clone, Debug)]
pub(crate) enum Local {
    /// Declared, not evaluated yet.
    Pending(Node),
    /// Being evaluated: meeting it again is a cycle.
    Resolving,
    /// Evaluated; `None` when it has errors (reported).
    Done(Option<Expr>),
}

/// What a resource stamps out.
#[derive(Clone, Debug)]
pub(crate) enum Instances {
    /// No `count`, `for_each` or a true `condition`: one resource at its plain address.
    Single,
    /// A false `condition`: none; references to it are `null`.
    Absent,
    Count(usize),
    /// `for_each`: key and value of each instance, by key.
    Each(BTreeMap<String, Value>),
    /// It depends on lookups or stack references not read yet (a first load before reading
    /// them): no instances now, and references to them are unknown.
    Deferred,
}

impl Instances {
    /// Whether instances are picked by index (`count`, `for_each`).
    pub(crate) fn repeated(&self) -> bool {
        matches!(self, Instances::Count(_) | Instances::Each(_))
    }

    /// The key of each instance: `None` for the single one.
    pub(crate) fn keys(&self) -> Vec<Option<InstanceKey>> {
        match self {
            Instances::Single => vec![None],
            Instances::Absent | Instances::Deferred => Vec::new(),
            Instances::Count(n) => (0..*n).map(|i| Some(InstanceKey::Index(i))).collect(),
            Instances::Each(map) => map
                .keys()
                .map(|k| Some(InstanceKey::Key(k.clone())))
                .collect(),
        }
    }
}

/// A resource's repetition, as far as it is worked out.
#[derive(Clone, Debug)]
pub(crate) enum Repeat {
    /// Declared with `kind` (`count`, `for_each`, `condition`) written as `node`.
    Pending { kind: &'static str, node: Node },
    /// Being worked out: meeting it again is a cycle.
    Resolving,
    /// Worked out; `None` when it has errors (reported).
    Done(Option<Instances>),
}

/// The instance whose properties are being read: what `each.*` and `count.index` are.
#[derive(Clone, Debug)]
pub(crate) enum Current {
    Count(usize),
    Each { key: String, value: Value },
}
