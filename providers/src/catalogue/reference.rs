//! The generated resource type reference, `docs/resources.md`.

use std::fmt::Write as _;

use stacks::{Kind, NameRule, Prop, TypeSchema, Value};

use super::entry::Entry;

/// The resource type reference (`docs/resources.md`) of `entries`: a summary table as the
/// README used to carry, then per type its properties (required `*`, replacing `R`,
/// defaults), its attributes with what they hold, and the id `strata import` takes.
pub fn markdown(entries: &[Entry]) -> String {
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
    for entry in entries {
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
    for entry in entries {
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
    if entry.is_local() {
        let _ = writeln!(
            out,
            "\nImport: refused; there is {}.\n\nNo AWS call: no IAM action to grant \
             (`strata iam-policy` lists nothing for it).",
            entry.import_id
        );
        return;
    }
    let _ = writeln!(
        out,
        "\nImport: `strata import ADDR ID`, where `ID` is {}.",
        entry.import_id
    );
    out.push_str("\n| IAM actions to | |\n| --- | --- |\n");
    let operations = [
        ("create", entry.actions.create),
        ("read (plan, import)", entry.actions.read),
        ("update", entry.actions.update),
        ("delete", entry.actions.delete),
    ];
    for (operation, actions) in operations {
        let actions: Vec<String> = actions.iter().map(|a| format!("`{a}`")).collect();
        let listed = if actions.is_empty() {
            "none (every property replaces it)".to_string()
        } else {
            actions.join(", ")
        };
        let _ = writeln!(out, "| {operation} | {listed} |");
    }
    let on: Vec<String> = entry.resources.iter().map(|r| format!("`{r}`")).collect();
    let on = if on.is_empty() {
        "`*` only".to_string()
    } else {
        on.join(", ")
    };
    let _ = writeln!(out, "| on (`strata iam-policy` fills these) | {on} |");
    for (path, service) in entry.passes_role {
        let _ = writeln!(
            out,
            "| `iam:PassRole` | the role in `{path}`, passed to `{service}` |"
        );
    }
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
    notes.extend(
        prop.checks
            .iter()
            .map(|c| c.describe())
            .filter(|d| !d.is_empty()),
    );
    if !prop.requires.is_empty() {
        let names: Vec<String> = prop.requires.iter().map(|n| format!("`{n}`")).collect();
        notes.push(format!("only with {}", names.join(", ")));
    }
    if !prop.conflicts.is_empty() {
        let names: Vec<String> = prop.conflicts.iter().map(|n| format!("`{n}`")).collect();
        notes.push(format!("not with {}", names.join(", ")));
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
