//! Resource type schemas: which properties a type takes, their kinds, which are required,
//! which force replacement, which are secret, and which attributes the type exposes.
//!
//! Providers declare a schema per type; the stack loader validates against it and the planner
//! decides replacement from its `force_new` flags. A schema is plain data, so the engine can be
//! tested with fake types.

use std::collections::BTreeMap;

use crate::value::Value;

/// The kind of value a property holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    String,
    Number,
    Integer,
    Bool,
    /// A list whose items all have this kind.
    List(Box<Kind>),
    /// A mapping from free-form string keys to values of this kind (tags, environment).
    Map(Box<Kind>),
    /// A mapping with fixed keys (a nested block such as a redrive policy).
    Object(Vec<Prop>),
    /// A policy or pattern document: a YAML mapping sent to AWS as JSON and compared
    /// semantically (key order, whitespace and single-vs-list never diff).
    Document,
    /// Anything.
    Any,
}

impl Kind {
    /// How the kind reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Kind::String => "a string".into(),
            Kind::Number => "a number".into(),
            Kind::Integer => "a whole number".into(),
            Kind::Bool => "true or false".into(),
            Kind::List(item) => format!("a list of {}", item.describe_plural()),
            Kind::Map(item) => format!("a mapping of names to {}", item.describe_plural()),
            Kind::Object(_) => "a mapping".into(),
            Kind::Document => "a mapping or JSON text (a policy or pattern document)".into(),
            Kind::Any => "any value".into(),
        }
    }

    fn describe_plural(&self) -> String {
        match self {
            Kind::String => "strings".into(),
            Kind::Number | Kind::Integer => "numbers".into(),
            Kind::Bool => "booleans".into(),
            Kind::Object(_) | Kind::Document | Kind::Map(_) => "mappings".into(),
            other => other.describe(),
        }
    }
}

/// What a policy document property grants, for the checks that read policies (`strata lint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyRole {
    /// An IAM identity policy: what the role, user or group holding it may do.
    Identity,
    /// A resource policy: who may act on the resource (an SQS queue's or SNS topic's policy).
    Resource,
    /// A trust policy: who may assume the role.
    Trust,
}

/// One property of a resource type (or of a nested object).
#[derive(Clone, Debug, PartialEq)]
pub struct Prop {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Changing it replaces the resource (`R` in the catalogue).
    pub force_new: bool,
    /// A replacement this property forces creates the new object before deleting the old one,
    /// as `lifecycle: { create_before_destroy: true }` would, whatever the stack says: for
    /// objects something must point at without a gap (an API Gateway deployment, which a stage
    /// serves and which AWS refuses to delete while a stage still uses it).
    pub create_before_destroy: bool,
    /// Never printed; shown as `(sensitive)`.
    pub sensitive: bool,
    /// The value AWS uses when the property is not given. When set, leaving the property out
    /// of the stack means "this value", so removing it from the stack resets it.
    pub default: Option<Value>,
    /// Allowed values, for string properties with a closed set.
    pub allowed: &'static [&'static str],
    /// A local file or directory. A relative path written literally in a module file is taken
    /// from that module's directory (the loader rewrites it to a path from the stack file's
    /// directory, where providers resolve relative paths).
    pub local_path: bool,
    /// Taking it out of the stack after it was applied clears it in AWS (the provider's update
    /// resets a changed property the stack no longer gives, and reads an unset one back as
    /// absent or empty). Without this, a property taken out is no longer managed: AWS keeps
    /// what it has.
    pub resettable: bool,
    /// The property is a policy document (or a mapping of names to policy documents) with this
    /// role. Checks over policies find them through it, so a new type with a policy property
    /// gets them without naming the type.
    pub policy: Option<PolicyRole>,
    /// Other resources may own what this property holds when the stack leaves it out (a role's
    /// `managed_policy_arns`, which `aws.iam.role_policy_attachment` resources may attach one
    /// by one): `import` then records nothing for it, so the next plan does not clear what
    /// those resources made. Terraform's Optional+Computed.
    pub shared_when_unset: bool,
    /// Attributes that an in-place change of this property may change (a Lambda function's
    /// `version`, when a change publishes one). The planner shows them to dependants as known
    /// only after apply, so that what references them is updated too; without this, an update
    /// keeps every attribute as recorded.
    pub updates_attrs: &'static [&'static str],
    /// What a known value must satisfy beyond its kind (a range, a CIDR, an ARN of a
    /// service), checked at load time so bad input never reaches AWS.
    pub checks: Vec<Check>,
    /// Properties of the same mapping AWS needs whenever this one is given.
    pub requires: &'static [&'static str],
    /// Properties of the same mapping AWS refuses beside this one.
    pub conflicts: &'static [&'static str],
}

impl Prop {
    /// An optional property of this kind, updated in place.
    pub fn new(name: &'static str, kind: Kind) -> Prop {
        Prop {
            name,
            kind,
            required: false,
            force_new: false,
            create_before_destroy: false,
            sensitive: false,
            default: None,
            allowed: &[],
            local_path: false,
            resettable: false,
            policy: None,
            shared_when_unset: false,
            updates_attrs: &[],
            checks: Vec::new(),
            requires: &[],
            conflicts: &[],
        }
    }

    pub fn required(mut self) -> Prop {
        self.required = true;
        self
    }

    pub fn force_new(mut self) -> Prop {
        self.force_new = true;
        self
    }

    /// Changing it replaces the resource, new object first (see
    /// [`Prop::create_before_destroy`](Prop#structfield.create_before_destroy)).
    pub fn create_before_destroy(mut self) -> Prop {
        self.force_new = true;
        self.create_before_destroy = true;
        self
    }

    pub fn sensitive(mut self) -> Prop {
        self.sensitive = true;
        self
    }

    pub fn default(mut self, value: impl Into<Value>) -> Prop {
        self.default = Some(value.into());
        self
    }

    pub fn allowed(mut self, values: &'static [&'static str]) -> Prop {
        self.allowed = values;
        self
    }

    pub fn resettable(mut self) -> Prop {
        self.resettable = true;
        self
    }

    pub fn shared_when_unset(mut self) -> Prop {
        self.shared_when_unset = true;
        self
    }

    pub fn local_path(mut self) -> Prop {
        self.local_path = true;
        self
    }

    /// A local path naming a directory or a `.zip` file.
    pub fn directory_or_zip(mut self) -> Prop {
        self.local_path = true;
        self.checks.push(Check::DirectoryOrZip);
        self
    }

    /// A local path naming a regular file.
    pub fn regular_file(mut self) -> Prop {
        self.local_path = true;
        self.checks.push(Check::RegularFile);
        self
    }

    pub fn policy(mut self, role: PolicyRole) -> Prop {
        self.policy = Some(role);
        self
    }

    pub fn updates_attrs(mut self, attrs: &'static [&'static str]) -> Prop {
        self.updates_attrs = attrs;
        self
    }

    /// AWS takes this property only with these (of the same mapping) given too.
    pub fn requires(mut self, others: &'static [&'static str]) -> Prop {
        self.requires = others;
        self
    }

    /// AWS refuses this property beside any of these (of the same mapping).
    pub fn conflicts_with(mut self, others: &'static [&'static str]) -> Prop {
        self.conflicts = others;
        self
    }

    /// A number AWS takes only between `min` and `max` (both included).
    pub fn range(mut self, min: i64, max: i64) -> Prop {
        self.checks.push(Check::Range(min, max));
        self
    }

    /// A string AWS takes only with `min` to `max` characters.
    pub fn length(mut self, min: usize, max: usize) -> Prop {
        self.checks.push(Check::Length(min, max));
        self
    }

    /// An IPv4 CIDR block (`10.0.0.0/16`).
    pub fn cidr(mut self) -> Prop {
        self.checks.push(Check::Cidr);
        self
    }

    /// An ARN of one of these services (`&["sqs"]`); any service when empty.
    pub fn arn(mut self, services: &'static [&'static str]) -> Prop {
        self.checks.push(Check::Arn(services));
        self
    }

    /// A rule of the type's own ([`Check::Rule`]): what AWS requires that a range, a length,
    /// a CIDR or an ARN cannot say.
    pub fn rule(mut self, rule: fn(&Value) -> Result<(), crate::checks::Failure>) -> Prop {
        self.checks.push(Check::Rule(crate::checks::Rule(rule)));
        self
    }
}

pub use crate::checks::{Check, Failure, Rule};

/// How strata derives a physical name when a stack gives none.
#[derive(Clone, Debug, PartialEq)]
pub struct NameRule {
    /// The property that holds the name (`name` for most types).
    pub prop: &'static str,
    /// The service's length limit; longer names are shortened with a hash suffix.
    pub max_len: usize,
    /// A bool property that, when true, requires this suffix (SQS and SNS FIFO: `.fifo`).
    pub suffix_when: Option<(&'static str, &'static str)>,
}

/// A type's check over all its properties ([`TypeSchema::check`]): `Err` with what is wrong,
/// naming the property in backquotes (`` `stream_view_type` is required when … ``), never
/// echoing a value. Compared by the function it calls.
#[derive(Clone, Copy)]
pub struct PropsCheck(pub fn(&crate::value::Map) -> Result<(), String>);

impl PartialEq for PropsCheck {
    fn eq(&self, other: &PropsCheck) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl std::fmt::Debug for PropsCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PropsCheck(..)")
    }
}

/// The schema of one resource type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeSchema {
    pub type_name: &'static str,
    pub props: Vec<Prop>,
    /// Attributes known after create, beyond the properties themselves.
    pub attrs: Vec<&'static str>,
    /// Whether the type carries tags (stack tags and `strata:` tags are merged into `tags`).
    pub taggable: bool,
    /// The type's own checks over its properties together (`stream_view_type` only with
    /// `stream_enabled: true`, one target per route): the provider's parsing, made by the
    /// loader on the values known then and by the provider before it calls AWS.
    pub check: Option<PropsCheck>,
    pub name_rule: Option<NameRule>,
}

impl TypeSchema {
    pub fn prop(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name == name)
    }

    /// True when `name` can be referenced as `${resource.name}`: an attribute or a property.
    pub fn has_attr(&self, name: &str) -> bool {
        self.attrs.contains(&name) || self.prop(name).is_some()
    }

    /// Every name that can be referenced, for "did you mean" hints.
    pub fn attr_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.attrs.clone();
        names.extend(self.props.iter().map(|p| p.name));
        names
    }
}

/// The kind of a lookup's argument or attribute: the few shapes lookups take and give, as
/// plain data so a lookup's schema can be a constant. [`LookupKind::kind`] gives the
/// [`Kind`] the loader checks values with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupKind {
    String,
    Bool,
    Integer,
    /// A list of strings (subnet ids, zone names).
    Strings,
    /// A mapping of names to strings (tags, environment variables).
    StringMap,
    /// A mapping of EC2 filter names to a string or a list of strings, with `tags` (a mapping
    /// of tag names to values) allowed among them: `{ tags: { Name: shared }, state: available }`.
    Filter,
    /// A policy document, as AWS gives it (JSON text).
    Document,
}

impl LookupKind {
    /// The kind the loader checks a value of this shape against.
    pub fn kind(self) -> Kind {
        match self {
            LookupKind::String | LookupKind::Document => Kind::String,
            LookupKind::Bool => Kind::Bool,
            LookupKind::Integer => Kind::Integer,
            LookupKind::Strings => Kind::List(Box::new(Kind::String)),
            LookupKind::StringMap => Kind::Map(Box::new(Kind::String)),
            LookupKind::Filter => Kind::Map(Box::new(Kind::Any)),
        }
    }

    /// How the kind reads in an error message or the docs.
    pub fn describe(self) -> String {
        match self {
            LookupKind::Document => "JSON text (a policy document)".into(),
            LookupKind::Filter => {
                "a mapping of filter names to a string or a list of strings, and `tags`".into()
            }
            other => other.kind().describe(),
        }
    }
}

/// One argument a lookup takes (`name`, `filter`, `secret_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupArg {
    pub name: &'static str,
    pub kind: LookupKind,
    pub required: bool,
}

impl LookupArg {
    /// An optional argument.
    pub const fn optional(name: &'static str, kind: LookupKind) -> LookupArg {
        LookupArg {
            name,
            kind,
            required: false,
        }
    }

    /// An argument the lookup cannot do without.
    pub const fn required(name: &'static str, kind: LookupKind) -> LookupArg {
        LookupArg {
            name,
            kind,
            required: true,
        }
    }
}

/// One attribute a lookup gives (`${lookups.NAME.ATTR}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupAttr {
    pub name: &'static str,
    pub kind: LookupKind,
    /// Always sensitive (a secret's value). An attribute may also be sensitive only for some
    /// objects (an SSM parameter's `value` when it is a `SecureString`): the value read is then
    /// a `Value::Sensitive` though this flag is false.
    pub sensitive: bool,
}

impl LookupAttr {
    pub const fn new(name: &'static str, kind: LookupKind) -> LookupAttr {
        LookupAttr {
            name,
            kind,
            sensitive: false,
        }
    }

    pub const fn sensitive(name: &'static str, kind: LookupKind) -> LookupAttr {
        LookupAttr {
            name,
            kind,
            sensitive: true,
        }
    }
}

/// The schema of one lookup type (SPEC §10): the arguments it takes and the attributes it
/// gives, so the loader checks a lookup's arguments and the attributes referenced before any
/// cloud call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupSchema {
    /// `aws.ec2.vpc`.
    pub name: &'static str,
    pub args: &'static [LookupArg],
    pub attributes: &'static [LookupAttr],
}

impl LookupSchema {
    pub fn arg(&self, name: &str) -> Option<&LookupArg> {
        self.args.iter().find(|a| a.name == name)
    }

    pub fn attribute(&self, name: &str) -> Option<&LookupAttr> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Every attribute name, for "did you mean" hints.
    pub fn attribute_names(&self) -> Vec<&'static str> {
        self.attributes.iter().map(|a| a.name).collect()
    }

    /// Every argument name, for "did you mean" hints.
    pub fn arg_names(&self) -> Vec<&'static str> {
        self.args.iter().map(|a| a.name).collect()
    }
}

/// Every resource type strata knows, by type name, and every lookup type.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    types: BTreeMap<&'static str, TypeSchema>,
    lookups: BTreeMap<&'static str, LookupSchema>,
}

impl Catalog {
    pub fn new(schemas: impl IntoIterator<Item = TypeSchema>) -> Catalog {
        Catalog {
            types: schemas.into_iter().map(|s| (s.type_name, s)).collect(),
            lookups: BTreeMap::new(),
        }
    }

    /// This catalogue with these lookup types too.
    pub fn with_lookups(mut self, lookups: impl IntoIterator<Item = LookupSchema>) -> Catalog {
        self.lookups
            .extend(lookups.into_iter().map(|l| (l.name, l)));
        self
    }

    /// The lookup type `name` (`aws.ec2.vpc`), if strata knows it.
    pub fn lookup(&self, name: &str) -> Option<&LookupSchema> {
        self.lookups.get(name)
    }

    /// Every lookup type name, sorted, for "did you mean" hints.
    pub fn lookup_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.lookups.keys().copied()
    }

    pub fn get(&self, type_name: &str) -> Option<&TypeSchema> {
        self.types.get(type_name)
    }

    pub fn type_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.types.keys().copied()
    }
}
