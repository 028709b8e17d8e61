//! The catalogue is complete and the only source of the type list: every type has a schema, a
//! provider of that schema, import support and documented attributes; `catalog()` (what
//! `validate` reads) and `aws_registry()` (what `plan` calls) agree; and `docs/resources.md` is
//! what the catalogue generates. No emulator: building the providers calls nothing.

use std::collections::BTreeSet;
use std::path::PathBuf;

use providers::aws::AwsContext;
use providers::catalogue::{reference, REFERENCE_PATH};
use stacks::{Kind, Prop};

/// Set to regenerate `docs/resources.md` instead of checking it.
const UPDATE_DOCS: &str = "STRATA_UPDATE_DOCS";

/// A context whose clients point at a port nothing listens on: building providers with it
/// must not call AWS.
fn offline() -> AwsContext {
    AwsContext::for_endpoint("http://127.0.0.1:1", "us-east-1")
}

#[test]
fn every_type_has_a_provider_of_its_registered_schema() {
    let ctx = offline();
    for entry in providers::catalogue() {
        let schema = (entry.schema)();
        let provider = (entry.provider)(&ctx);
        assert_eq!(
            provider.schema(),
            &schema,
            "the provider of {} has another schema than the one registered",
            schema.type_name
        );
    }
}

#[test]
fn every_type_is_registered_once() {
    let mut seen = BTreeSet::new();
    for entry in providers::catalogue() {
        assert!(
            seen.insert(entry.type_name()),
            "{} is registered twice",
            entry.type_name()
        );
    }
}

#[test]
fn every_type_says_what_import_takes_and_what_it_is() {
    for entry in providers::catalogue() {
        assert!(
            !entry.import_id.trim().is_empty(),
            "{} does not say what `strata import` takes as its id",
            entry.type_name()
        );
        assert!(
            !entry.about.trim().is_empty(),
            "{} does not say what it is",
            entry.type_name()
        );
    }
}

#[test]
fn every_attribute_is_documented_and_every_doc_names_an_attribute() {
    for entry in providers::catalogue() {
        let schema = (entry.schema)();
        let documented: Vec<&str> = entry.attributes.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            documented, schema.attrs,
            "the attribute docs of {} do not list the schema's attributes in its order",
            schema.type_name
        );
        for (name, doc) in entry.attributes {
            assert!(
                !doc.trim().is_empty(),
                "attribute `{name}` of {} has an empty doc",
                schema.type_name
            );
        }
        for (prop, note) in entry.property_notes {
            assert!(
                schema.prop(prop).is_some(),
                "{} has a note on `{prop}`, which is not one of its properties",
                schema.type_name
            );
            assert!(!note.trim().is_empty(), "the note on `{prop}` is empty");
        }
    }
}

#[test]
fn the_catalog_and_the_registry_list_the_same_types_with_the_same_schemas() {
    let catalog = providers::catalog();
    let registry = providers::aws_registry(&offline());
    let from_catalog: Vec<&str> = catalog.type_names().collect();
    let from_registry: Vec<&str> = registry.type_names().collect();
    assert_eq!(from_catalog, from_registry);
    assert_eq!(from_catalog.len(), providers::catalogue().len());
    let registry_catalog = registry.catalog();
    for name in from_catalog {
        assert_eq!(
            catalog.get(name),
            registry_catalog.get(name),
            "validate and plan see different schemas of {name}"
        );
    }
}

/// Every property of a schema, nested fields included, so a check can see them all.
fn all_props(props: &[Prop]) -> Vec<&Prop> {
    let mut all = Vec::new();
    for prop in props {
        all.push(prop);
        let nested = match &prop.kind {
            Kind::Object(fields) => Some(fields),
            Kind::List(item) => match item.as_ref() {
                Kind::Object(fields) => Some(fields),
                _ => None,
            },
            _ => None,
        };
        if let Some(fields) = nested {
            all.extend(all_props(fields));
        }
    }
    all
}

#[test]
fn the_reference_names_every_type_property_and_attribute() {
    let text = reference();
    for entry in providers::catalogue() {
        let schema = (entry.schema)();
        assert!(
            text.contains(&format!("## `{}`", schema.type_name)),
            "{}",
            schema.type_name
        );
        for prop in all_props(&schema.props) {
            assert!(
                text.contains(&format!("{}`", prop.name)),
                "{}.{}",
                schema.type_name,
                prop.name
            );
        }
        for (attr, doc) in entry.attributes {
            assert!(
                text.contains(&format!("| `{attr}` | {doc} |")),
                "{}.{attr}",
                schema.type_name
            );
        }
        assert!(text.contains(entry.import_id), "{}", schema.type_name);
    }
}

#[test]
fn the_committed_reference_is_what_the_catalogue_generates() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(REFERENCE_PATH);
    let generated = reference();
    if std::env::var_os(UPDATE_DOCS).is_some() {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{REFERENCE_PATH} is not what the catalogue generates; regenerate it with \
         `{UPDATE_DOCS}=1 cargo test -p providers --test catalogue` and commit it"
    );
}

#[test]
fn every_type_declares_the_iam_actions_of_each_operation() {
    for entry in providers::catalogue() {
        let schema = (entry.schema)();
        let actions = &entry.actions;
        if entry.is_local() {
            // strata makes it itself: no AWS call, so nothing to grant.
            assert!(
                actions.all().is_empty() && entry.resources.is_empty(),
                "{} is made by strata (`strata.`) but declares IAM actions or ARNs",
                schema.type_name
            );
            continue;
        }
        for (operation, list) in [
            ("create", actions.create),
            ("read", actions.read),
            ("delete", actions.delete),
        ] {
            assert!(
                !list.is_empty(),
                "{} declares no IAM action for {operation}",
                schema.type_name
            );
        }
        let updatable = schema.props.iter().any(|p| !p.force_new);
        assert_eq!(
            !actions.update.is_empty(),
            updatable,
            "{}: update actions must be declared exactly when a property changes in place",
            schema.type_name
        );
        for action in actions.all() {
            let well_formed = action.split_once(':').is_some_and(|(service, name)| {
                !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && name.starts_with(|c: char| c.is_ascii_uppercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric())
            });
            assert!(
                well_formed,
                "{}: `{action}` is not an IAM action (service:Action)",
                schema.type_name
            );
        }
    }
}

/// The property a template placeholder or a role path names: `name` of `{name=x|path}`,
/// `targets` of `targets[].role_arn`.
fn named_property(spec: &str) -> &str {
    let spec = spec.split(['|', '=']).next().unwrap_or(spec);
    spec.split(['.', '[']).next().unwrap_or(spec)
}

#[test]
fn every_type_declares_where_its_actions_apply_and_the_roles_it_passes() {
    use providers::catalogue::policy::is_star_only;
    for entry in providers::catalogue() {
        let schema = (entry.schema)();
        let name = schema.type_name;
        let scoped: Vec<&str> = entry
            .actions
            .all()
            .into_iter()
            .filter(|a| !is_star_only(a) && *a != "iam:PassRole")
            .collect();
        assert!(
            scoped.is_empty() || !entry.resources.is_empty(),
            "{name} declares no resource ARNs for {scoped:?}"
        );
        for template in entry.resources {
            assert!(
                template.starts_with("arn:{partition}:") || template.starts_with('{'),
                "{name}: `{template}` is not an ARN template"
            );
            assert_ne!(template.trim(), "*", "{name}: a bare `*` resource");
            let mut rest = *template;
            while let Some(open) = rest.find('{') {
                let close = open + rest[open..].find('}').expect("a closed placeholder");
                let prop = named_property(&rest[open + 1..close]);
                assert!(
                    ["partition", "region", "account", "id"].contains(&prop)
                        || schema.prop(prop).is_some(),
                    "{name}: `{template}` names `{prop}`, which is not a property"
                );
                rest = &rest[close + 1..];
            }
        }
        let passes = entry.actions.all().contains(&"iam:PassRole");
        assert_eq!(
            passes,
            !entry.passes_role.is_empty(),
            "{name}: `iam:PassRole` among its actions and the roles it passes disagree"
        );
        for (path, service) in entry.passes_role {
            assert!(
                schema.prop(named_property(path)).is_some(),
                "{name} passes the role at `{path}`, which is not a property"
            );
            assert!(service.ends_with(".amazonaws.com"), "{name}: `{service}`");
        }
    }
}
