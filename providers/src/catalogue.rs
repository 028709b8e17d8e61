//! The catalogue: every resource type strata knows, registered once.
//!
//! Each type's file declares one [`Entry`] beside its schema, holding everything strata needs
//! to know about the type besides its code: the schema, how to build its provider, what
//! `strata import` takes as its id, and what each attribute holds. [`ENTRIES`] below lists
//! those entries, one line per type, and everything else is derived from it:
//! [`crate::catalog`] (what `validate` and the JSON Schema read), [`crate::aws_registry`]
//! (what `plan`, `apply` and `import` call), and `docs/resources.md` ([`reference`]), which
//! a test keeps in step with this list.
//!
//! So adding a type is its file (with its `ENTRY`), a `pub mod` line in its service, one line
//! here, and its test; `tests/catalogue.rs` checks the entry is complete.

use std::fmt::Write as _;
use std::sync::Arc;

use stacks::{Kind, NameRule, Prop, TypeSchema, Value};

use crate::aws::AwsContext;
use crate::{apigatewayv2, ec2, events, iam, lambda, sns, sqs, Provider};

/// One resource type: its schema and its provider together, and what the docs say of it.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The type's schema (its properties, which force replacement, its attributes).
    pub schema: fn() -> TypeSchema,
    /// The type's provider, with clients built from the context. Its
    /// [`Provider::schema`] is `schema()`.
    pub provider: fn(&AwsContext) -> Arc<dyn Provider>,
    /// What the type is, in one sentence, for the docs.
    pub about: &'static str,
    /// What `strata import ADDR ID` takes as `ID` ("the queue URL"): the id the provider's
    /// `read` is given.
    pub import_id: &'static str,
    /// Every attribute of the schema with what it holds, in the schema's order.
    pub attributes: &'static [(&'static str, &'static str)],
    /// Remarks on some properties, for the docs (`vpc_id`: detached and attached on change).
    pub property_notes: &'static [(&'static str, &'static str)],
}

impl Entry {
    /// The type name, from the schema.
    pub fn type_name(&self) -> &'static str {
        (self.schema)().type_name
    }

    /// What the docs say the attribute holds, when the entry documents it.
    pub fn attribute_doc(&self, attribute: &str) -> Option<&'static str> {
        self.attributes
            .iter()
            .find(|(name, _)| *name == attribute)
            .map(|(_, doc)| *doc)
    }

    /// The docs' remark on a property, if any.
    pub fn property_note(&self, prop: &str) -> Option<&'static str> {
        self.property_notes
            .iter()
            .find(|(name, _)| *name == prop)
            .map(|(_, note)| *note)
    }
}

/// Every resource type, in the order the docs list them: one registration line per type.
pub const ENTRIES: &[Entry] = &[
    ec2::vpc::ENTRY,
    ec2::subnet::ENTRY,
    ec2::internet_gateway::ENTRY,
    ec2::eip::ENTRY,
    ec2::nat_gateway::ENTRY,
    ec2::route_table::ENTRY,
    ec2::security_group::ENTRY,
    iam::role::ENTRY,
    iam::policy::ENTRY,
    lambda::function::ENTRY,
    lambda::permission::ENTRY,
    lambda::event_source_mapping::ENTRY,
    sns::topic::ENTRY,
    sns::subscription::ENTRY,
    sqs::queue::ENTRY,
    sqs::queue_policy::ENTRY,
    events::rule::ENTRY,
    apigatewayv2::api::ENTRY,
    apigatewayv2::integration::ENTRY,
    apigatewayv2::route::ENTRY,
    apigatewayv2::stage::ENTRY,
];

/// Every registered type, in the docs' order.
pub fn catalogue() -> &'static [Entry] {
    ENTRIES
}

/// Where the generated reference lives, from the workspace root.
pub const REFERENCE_PATH: &str = "docs/resources.md";

/// The resource type reference (`docs/resources.md`), generated from [`ENTRIES`]: a summary
/// table as the README used to carry, then per type its properties (required `*`, replacing
/// `R`, defaults), its attributes with what they hold, and the id `strata import` takes.
pub fn reference() -> String {
    let mut out = String::new();
    out.push_str(
        "# Resource types\n\n\
         <!-- Generated from the catalogue in providers/src/catalogue.rs: do not edit by hand.\n     \
         Regenerate with `STRATA_UPDATE_DOCS=1 cargo test -p providers --test catalogue`. -->\n\n\
         `*` required, `R` replaces the resource when changed; everything else updates in place.\n\
         A value in parentheses is the default: leaving the property out of the stack means that\n\
         value. Every property and attribute can be referenced as `${resource.name}`.\n\n\
         | type | properties | attributes |\n| --- | --- | --- |\n",
    );
    for entry in ENTRIES {
        let schema = (entry.schema)();
        let props: Vec<String> = schema.props.iter().map(summary_prop).collect();
        let attrs: Vec<String> = schema.attrs.iter().map(|a| format!("`{a}`")).collect();
        let _ = writeln!(
            out,
            "| [`{name}`](#{anchor}) | {} | {} |",
            props.join(", "),
            attrs.join(", "),
            name = schema.type_name,
            anchor = anchor(schema.type_name),
        );
    }
    for entry in ENTRIES {
        type_section(&mut out, entry);
    }
    out
}

/// A property as the summary table shows it: name, `*`, `R`, default.
fn summary_prop(prop: &Prop) -> String {
    let mut text = format!("`{}`", prop.name);
    if prop.required {
        text.push('*');
    }
    if prop.force_new {
        text.push_str(" R");
    }
    if let Some(default) = &prop.default {
        let _ = write!(text, " ({})", default_text(default));
    }
    text
}

/// The heading anchor GitHub gives `## \`aws.ec2.vpc\``: lower case, dots dropped.
fn anchor(type_name: &str) -> String {
    type_name.replace('.', "").to_lowercase()
}

fn default_text(value: &Value) -> String {
    value.to_json().to_string()
}

fn type_section(out: &mut String, entry: &Entry) {
    let schema = (entry.schema)();
    let _ = write!(out, "\n## `{}`\n\n{}\n\n", schema.type_name, entry.about);
    if schema.taggable {
        out.push_str(
            "Taggable: the stack's tags and the `strata:` tags are merged into `tags`.\n\n",
        );
    }
    if schema.props.is_empty() {
        out.push_str("No properties.\n");
    } else {
        out.push_str(
            "| property | kind | flags | default | notes |\n| --- | --- | --- | --- | --- |\n",
        );
        for prop in &schema.props {
            prop_rows(out, entry, &schema, "", prop);
        }
    }
    out.push_str("\n| attribute | holds |\n| --- | --- |\n");
    for attr in &schema.attrs {
        let doc = entry.attribute_doc(attr).unwrap_or("");
        let _ = writeln!(out, "| `{attr}` | {doc} |");
    }
    let _ = writeln!(
        out,
        "\nImport: `strata import ADDR ID`, where `ID` is {}.",
        entry.import_id
    );
}

/// One table row per property, and one per field of a nested mapping (`routes[].gateway_id`).
fn prop_rows(out: &mut String, entry: &Entry, schema: &TypeSchema, prefix: &str, prop: &Prop) {
    let name = format!("{prefix}{}", prop.name);
    let mut flags = Vec::new();
    if prop.required {
        flags.push("*");
    }
    if prop.force_new {
        flags.push("R");
    }
    if prop.sensitive {
        flags.push("sensitive");
    }
    let default = prop
        .default
        .as_ref()
        .map(|d| format!("`{}`", default_text(d)))
        .unwrap_or_default();
    let mut notes = Vec::new();
    if prefix.is_empty() {
        if let Some(note) = entry.property_note(prop.name) {
            notes.push(note.to_string());
        }
        if let Some(rule) = schema.name_rule.as_ref().filter(|r| r.prop == prop.name) {
            notes.push(derived_name_note(rule));
        }
    }
    if !prop.allowed.is_empty() {
        let allowed: Vec<String> = prop.allowed.iter().map(|a| format!("`{a}`")).collect();
        notes.push(format!("one of {}", allowed.join(", ")));
    }
    if prop.local_path {
        notes.push("a local path, from the stack file's directory".to_string());
    }
    if prop.resettable {
        notes.push("taking it out of the stack clears it".to_string());
    }
    let _ = writeln!(
        out,
        "| `{name}` | {} | {} | {default} | {} |",
        prop.kind.describe(),
        flags.join(" "),
        notes.join("; "),
    );
    let fields = match &prop.kind {
        Kind::Object(fields) => Some((fields, ".")),
        Kind::List(item) => match item.as_ref() {
            Kind::Object(fields) => Some((fields, "[].")),
            _ => None,
        },
        _ => None,
    };
    if let Some((fields, join)) = fields {
        let prefix = format!("{name}{join}");
        for field in fields {
            prop_rows(out, entry, schema, &prefix, field);
        }
    }
}

/// What a property holding the physical name says: derived when the stack gives none.
fn derived_name_note(rule: &NameRule) -> String {
    let mut note = format!(
        "given none, `STACK-ADDRESS` (at most {} characters, shortened with a hash)",
        rule.max_len
    );
    if let Some((switch, suffix)) = rule.suffix_when {
        let _ = write!(note, ", ending in `{suffix}` when `{switch}` is true");
    }
    note
}
