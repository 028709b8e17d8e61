//! The JSON Schema of the stack file format, for editors (`strata schema`).
//!
//! Built from a [`Catalog`], so every resource type strata knows is in it with its own
//! properties: `yaml-language-server` (VS Code's YAML extension, Helix, Neovim) then completes
//! type names and property names and flags a misspelt key as you type. The schema is draft-07,
//! the newest draft those editors fully support, and rejects unknown keys everywhere
//! (`additionalProperties: false`), as the loader does.
//!
//! It describes the shape only. What needs the whole stack (references that resolve, cycles,
//! physical-name rules, a param's value fitting its type) is left to `strata validate`. Any
//! value may be written as a string holding `${...}`, since a whole-string reference takes
//! the referenced value's own type; such strings are accepted wherever a value is.

use serde_json::{json, Map as JsonMap, Value as Json};

use crate::schema::{Catalog, Kind, Prop, TypeSchema};

/// The `$id` of the schema, so editors can cache it.
pub const STACK_SCHEMA_ID: &str = "https://strata.dev/schemas/stack.schema.json";

/// The JSON Schema (draft-07) of a stack file whose resources are the types of `catalog`.
/// Deterministic: the same catalog always gives the same document, key for key.
pub fn stack_json_schema(catalog: &Catalog) -> Json {
    let type_names: Vec<&str> = catalog.type_names().collect();
    let mut definitions = JsonMap::new();
    definitions.insert("expression".into(), expression());
    definitions.insert("param".into(), param());
    definitions.insert("output".into(), output());
    definitions.insert("backend".into(), backend());
    definitions.insert("module".into(), module());
    definitions.insert("lifecycle".into(), lifecycle());
    definitions.insert("resource".into(), resource(catalog, &type_names));
    for type_name in &type_names {
        if let Some(schema) = catalog.get(type_name) {
            definitions.insert(properties_definition(type_name), type_properties(schema));
        }
    }

    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": STACK_SCHEMA_ID,
        "title": "strata stack",
        "description": "A strata stack file (stack.yaml): resources on AWS, their params and outputs.",
        "type": "object",
        "required": ["stack"],
        "additionalProperties": false,
        "properties": {
            "stack": {
                "description": "The stack's name.",
                "type": "string",
                "pattern": "^[a-z][a-z0-9-]{0,62}$"
            },
            "description": { "type": ["string", "null"] },
            "region": {
                "description": "AWS region; --region and AWS_REGION override it.",
                "type": ["string", "null"]
            },
            "tags": {
                "description": "Default tags for every taggable resource.",
                "type": ["object", "null"],
                "additionalProperties": { "type": ["string", "number", "boolean"] }
            },
            "params": {
                "description": "Typed inputs, set with --var NAME=VALUE or --var-file FILE.",
                "type": ["object", "null"],
                "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,62}$" },
                "additionalProperties": { "$ref": "#/definitions/param" }
            },
            "locals": {
                "description": "Named values computed from expressions, used as ${locals.NAME}; they may use params, resources, built-ins, functions and each other.",
                "type": ["object", "null"],
                "propertyNames": { "pattern": "^[a-z_][a-z0-9_-]*$" }
            },
            "lookups": {
                "description": "Facts read from AWS at every plan, never changed: ${lookups.NAME.ATTR} (docs/lookups.md).",
                "type": ["object", "null"],
                "additionalProperties": {
                    "type": "object",
                    "required": ["type"],
                    "properties": { "type": { "type": "string" } }
                }
            },
            "stack_refs": {
                "description": "Outputs of other strata stacks, read from their backends: ${stack_refs.NAME.OUTPUT}.",
                "type": ["object", "null"],
                "additionalProperties": {
                    "type": "object",
                    "required": ["backend"],
                    "additionalProperties": false,
                    "properties": {
                        "backend": { "$ref": "#/definitions/backend" },
                        "stack": { "type": "string", "pattern": "^[a-z][a-z0-9-]{0,62}$" }
                    }
                }
            },
            "backend": { "$ref": "#/definitions/backend" },
            "modules": {
                "type": ["object", "null"],
                "additionalProperties": { "$ref": "#/definitions/module" }
            },
            "resources": {
                "type": ["object", "null"],
                "propertyNames": { "pattern": "^[a-z][a-z0-9_]{0,62}$" },
                "additionalProperties": { "$ref": "#/definitions/resource" }
            },
            "moved": {
                "description": "Renames that keep the resource: each `from` address recorded in the state becomes `to`, with no change in AWS.",
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "required": ["from", "to"],
                    "additionalProperties": false,
                    "properties": {
                        "from": { "type": "string" },
                        "to": { "type": "string" }
                    }
                }
            },
            "outputs": {
                "type": ["object", "null"],
                "additionalProperties": { "$ref": "#/definitions/output" }
            }
        },
        "definitions": Json::Object(definitions)
    })
}

/// The definition name of one type's `properties:` mapping.
fn properties_definition(type_name: &str) -> String {
    format!("properties:{type_name}")
}

/// A string holding `${...}`: stands for a value of any kind.
fn expression() -> Json {
    json!({
        "description": "A `${...}` expression: params, locals, other resources' attributes, built-ins, operators, conditionals and function calls.",
        "type": "string",
        "pattern": "\\$\\{"
    })
}

fn param() -> Json {
    json!({
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "type": { "enum": ["string", "number", "bool", "list"] },
            "default": {},
            "allowed": { "type": "array" },
            "description": { "type": ["string", "null"] },
            "sensitive": { "type": "boolean", "description": "Never print the value: plans, progress, errors and plan files show (sensitive)." }
        }
    })
}

fn output() -> Json {
    json!({
        "oneOf": [
            { "not": { "type": ["object", "null"] } },
            {
                "type": "object",
                "required": ["value"],
                "additionalProperties": false,
                "properties": {
                    "value": {},
                    "sensitive": {
                        "description": "Never print the value; it shows as (sensitive).",
                        "type": "boolean"
                    },
                    "description": { "type": ["string", "null"] }
                }
            }
        ]
    })
}

fn backend() -> Json {
    json!({
        "description": "Where the state lives: `.strata/` beside the stack file unless set.",
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "local": {
                "type": ["object", "null"],
                "additionalProperties": false,
                "properties": { "path": { "type": "string" } }
            },
            "s3": {
                "type": "object",
                "additionalProperties": false,
                "required": ["bucket", "key"],
                "properties": {
                    "bucket": { "type": "string" },
                    "key": { "type": "string" },
                    "region": { "type": ["string", "null"] }
                }
            }
        }
    })
}

fn module() -> Json {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["source"],
        "properties": {
            "source": {
                "description": "A directory holding module.yaml, or REGISTRY/NAME.",
                "type": "string"
            },
            "version": {
                "description": "A semver requirement, for a published module.",
                "type": "string"
            },
            "inputs": { "type": ["object", "null"] }
        }
    })
}

fn lifecycle() -> Json {
    json!({
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "prevent_destroy": {
                "description": "A plan that would delete or replace the resource is an error.",
                "type": "boolean"
            },
            "create_before_destroy": {
                "description": "A replacement creates the new resource before deleting the old one.",
                "type": "boolean"
            },
            "ignore_changes": {
                "description": "Properties that never cause an update.",
                "type": "array",
                "items": { "type": "string" }
            }
        }
    })
}

/// A resource: `type` picks which `properties` schema applies (one `if`/`then` per type).
fn resource(catalog: &Catalog, type_names: &[&str]) -> Json {
    let per_type: Vec<Json> = type_names
        .iter()
        .filter(|t| catalog.get(t).is_some())
        .map(|type_name| {
            json!({
                "if": {
                    "properties": { "type": { "const": type_name } },
                    "required": ["type"]
                },
                "then": {
                    "properties": {
                        "properties": {
                            "$ref": format!("#/definitions/{}", properties_definition(type_name))
                        }
                    }
                }
            })
        })
        .collect();
    json!({
        "type": "object",
        "required": ["type"],
        "additionalProperties": false,
        "properties": {
            "type": { "description": "The resource type.", "enum": type_names },
            "properties": { "type": ["object", "null"] },
            "depends_on": {
                "description": "Extra edges: resources to create first.",
                "type": "array",
                "items": { "type": "string" }
            },
            "lifecycle": { "$ref": "#/definitions/lifecycle" },
            "count": {
                "description": "Stamps out this many instances, RES[0] .. RES[N-1]; known at plan time.",
                "type": ["integer", "string"]
            },
            "for_each": {
                "description": "Stamps out one instance per key (a list of strings, or a mapping whose values are each.value): RES[\"key\"]; known at plan time.",
                "type": ["array", "object", "string"]
            },
            "condition": {
                "description": "When false, the resource is not made and references to it are null; known at plan time.",
                "type": ["boolean", "string"]
            }
        },
        "not": {
            "anyOf": [
                { "required": ["count", "for_each"] },
                { "required": ["count", "condition"] },
                { "required": ["for_each", "condition"] }
            ]
        },
        "allOf": per_type
    })
}

/// The `properties:` mapping of one type.
fn type_properties(schema: &TypeSchema) -> Json {
    let mut out = object_of(&schema.props);
    if let Json::Object(map) = &mut out {
        map.insert(
            "description".into(),
            Json::String(format!("Properties of {}.", schema.type_name)),
        );
        // A resource may have no `properties:` at all when nothing is required.
        if schema.props.iter().all(|p| !p.required) {
            map.insert("type".into(), json!(["object", "null"]));
        }
        if let (Some(rule), Some(Json::Object(props))) =
            (&schema.name_rule, map.get_mut("properties"))
        {
            props.insert(
                "name_prefix".into(),
                json!({
                    "description": format!("In place of `{}`: strata chooses a unique name starting with this at create and at each replacement.", rule.prop),
                    "type": "string"
                }),
            );
        }
    }
    out
}

/// A mapping with fixed keys: each prop's schema, the required ones, nothing else.
fn object_of(props: &[Prop]) -> Json {
    let properties: JsonMap<String, Json> = props
        .iter()
        .map(|p| (p.name.to_string(), prop(p)))
        .collect();
    let required: Vec<&str> = props
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    let mut out = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties
    });
    if !required.is_empty() {
        out["required"] = json!(required);
    }
    out
}

fn prop(p: &Prop) -> Json {
    let mut notes = Vec::new();
    if p.required {
        notes.push("Required.".to_string());
    }
    if p.force_new {
        notes.push("Changing it replaces the resource.".to_string());
    }
    if p.sensitive {
        notes.push("Sensitive: never printed.".to_string());
    }
    let mut schema = kind(&p.kind, p.allowed);
    if let Json::Object(map) = &mut schema {
        if !notes.is_empty() {
            map.insert("description".into(), Json::String(notes.join(" ")));
        }
        if let Some(default) = &p.default {
            map.insert("default".into(), default.to_json());
        }
    }
    schema
}

/// The schema of a value of `kind`. Every value may also be null (not given) or a `${...}`.
fn kind(kind: &Kind, allowed: &[&str]) -> Json {
    let literal = match kind {
        Kind::Any => return json!({}),
        // Numbers and booleans are read as text where a string is expected.
        Kind::String if !allowed.is_empty() => json!({ "enum": allowed }),
        Kind::String => json!({ "type": ["string", "number", "boolean"] }),
        Kind::Number => json!({ "type": "number" }),
        Kind::Integer => json!({ "type": "integer" }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::List(item) => json!({ "type": "array", "items": self::kind(item, allowed) }),
        Kind::Map(item) => json!({
            "type": "object",
            "additionalProperties": self::kind(item, &[])
        }),
        Kind::Object(props) => object_of(props),
        Kind::Document => json!({
            "description": "A policy or pattern document, written as YAML or as JSON text.",
            "type": ["object", "array", "string"]
        }),
    };
    json!({
        "anyOf": [
            literal,
            { "$ref": "#/definitions/expression" },
            { "type": "null" }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::new([TypeSchema {
            type_name: "test.queue",
            props: vec![
                Prop::new("name", Kind::String).force_new(),
                Prop::new("timeout", Kind::Integer).default(30),
                Prop::new("mode", Kind::String).allowed(&["a", "b"]),
                Prop::new("target", Kind::String).required(),
            ],
            attrs: vec!["arn"],
            taggable: false,
            check: None,
            name_rule: None,
        }])
    }

    #[test]
    fn each_type_gets_its_own_closed_properties_mapping() {
        let schema = stack_json_schema(&catalog());
        let props = &schema["definitions"]["properties:test.queue"];
        assert_eq!(props["additionalProperties"], json!(false));
        assert_eq!(props["required"], json!(["target"]));
        assert_eq!(props["properties"]["timeout"]["default"], json!(30));
        assert_eq!(
            schema["definitions"]["resource"]["properties"]["type"]["enum"],
            json!(["test.queue"])
        );
    }

    #[test]
    fn locals_are_a_mapping_of_named_values() {
        let schema = stack_json_schema(&catalog());
        assert_eq!(
            schema["properties"]["locals"]["type"],
            json!(["object", "null"])
        );
    }

    #[test]
    fn the_schema_is_the_same_every_time() {
        assert_eq!(
            stack_json_schema(&catalog()).to_string(),
            stack_json_schema(&catalog()).to_string()
        );
    }
}
