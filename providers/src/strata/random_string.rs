//! `strata.random_string`: a random string made once and kept in the state, as Terraform's
//! `random_string`, from the character sets its properties choose, with at least `min_*` of
//! each.
//!
//! Like Terraform, the minimums are drawn first, the rest from every chosen set, and the whole
//! shuffled. Unlike Terraform, a minimum of a set the properties leave out is refused (the
//! value would hold characters the stack excluded). With `sensitive: true` (strata's own
//! property), `result` is marked sensitive: never printed, and whatever uses it is hidden too;
//! `id` is then `(sensitive)` rather than the value, as it is printed in plans.

use std::sync::Arc;

use stacks::{Kind, Map, Prop, PropsCheck, TypeSchema, Value};

use super::{
    count, count_of, keepers, positive_count, random_below, LocalProvider, IMPORT_REFUSED,
    NO_ACTIONS,
};
use crate::catalogue::entry::Entry;
use crate::props::{desired, given_str};
use crate::{ProviderError, Resource, Result};

pub const TYPE_NAME: &str = "strata.random_string";

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC: &str = "0123456789";
/// Terraform's special characters, used unless `override_special` gives others.
const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

/// What `id` holds when `result` is sensitive.
const HIDDEN_ID: &str = "(sensitive)";

/// The random string's properties: every one but `sensitive` makes a new value when it changes.
pub fn schema() -> TypeSchema {
    let flag = |name| Prop::new(name, Kind::Bool).force_new().default(true);
    let minimum = |name| {
        Prop::new(name, Kind::Integer)
            .force_new()
            .default(Value::int(0))
            .rule(count)
    };
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("length", Kind::Integer)
                .required()
                .force_new()
                .rule(positive_count),
            flag("upper"),
            flag("lower"),
            flag("numeric"),
            flag("special"),
            Prop::new("override_special", Kind::String).force_new(),
            minimum("min_upper"),
            minimum("min_lower"),
            minimum("min_numeric"),
            minimum("min_special"),
            keepers(),
            Prop::new("sensitive", Kind::Bool).default(false),
        ],
        attrs: vec!["result", "id"],
        taggable: false,
        check: Some(PropsCheck(check_props)),
        name_rule: None,
    }
}

/// How the catalogue knows `strata.random_string`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |_| Arc::new(LocalProvider::new(schema(), make, shown)),
    about: "A random string made once by strata and kept in its state, never sent to AWS \
            (Terraform's `random_string`); with `sensitive: true` its `result` is never \
            printed. A change of `keepers` (or of any property but `sensitive`) makes a new \
            string.",
    import_id: IMPORT_REFUSED,
    attributes: &[
        (
            "result",
            "the string; sensitive (never printed, nor what uses it) with `sensitive: true`",
        ),
        (
            "id",
            "the string, as Terraform's `id`; `(sensitive)` with `sensitive: true`",
        ),
    ],
    property_notes: &[
        (
            "length",
            "how many characters: 1 to 4096, at least the sum of the `min_*`",
        ),
        (
            "override_special",
            "the special characters to draw from instead of `!@#$%&*()-_=+[]{}<>:?`",
        ),
        (
            "min_upper",
            "at least this many upper-case letters (refused with `upper: false`)",
        ),
        (
            "keepers",
            "any values; when one of them changes, a new string is made (and what uses it \
             changes too)",
        ),
        (
            "sensitive",
            "strata's own: `result` is sensitive, hidden in plans, outputs and `state show`; \
             changing it keeps the string",
        ),
    ],
    actions: NO_ACTIONS,
    resources: &[],
    passes_role: &[],
};

/// One character set: the flag that chooses it, its minimum, its characters.
struct CharSet {
    flag: &'static str,
    minimum: &'static str,
    chars: Vec<char>,
}

/// The character sets the properties describe, chosen or not.
fn char_sets(props: &Map) -> [CharSet; 4] {
    let special = given_str(props, "override_special")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| SPECIAL.to_string());
    let set = |flag, minimum, chars: &str| CharSet {
        flag,
        minimum,
        chars: chars.chars().collect(),
    };
    [
        set("upper", "min_upper", UPPER),
        set("lower", "min_lower", LOWER),
        set("numeric", "min_numeric", NUMERIC),
        set("special", "min_special", &special),
    ]
}

fn chosen(schema: &TypeSchema, props: &Map, flag: &str) -> bool {
    desired(schema, props, flag)
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}

/// The checks a string can be made under, made at load time and before a create: every
/// minimum of a chosen set, room for all the minimums, something to draw the rest from.
fn check(props: &Map) -> Result<()> {
    let schema = schema();
    let length = count_of(&schema, props, "length");
    let mut minimums = 0;
    let mut any_chosen = false;
    for set in char_sets(props) {
        let minimum = count_of(&schema, props, set.minimum);
        let on = chosen(&schema, props, set.flag) && !set.chars.is_empty();
        if minimum > 0 && !on {
            return Err(ProviderError::invalid(format!(
                "`{}` asks for characters that `{}: false` leaves out",
                set.minimum, set.flag
            )));
        }
        minimums += minimum;
        any_chosen |= on;
    }
    if minimums > length {
        return Err(ProviderError::invalid(format!(
            "`length` is less than the `min_upper`, `min_lower`, `min_numeric` and \
             `min_special` together ({minimums})"
        )));
    }
    if !any_chosen {
        return Err(ProviderError::invalid(
            "`upper`, `lower`, `numeric` and `special` are all false: there is nothing to \
             draw from",
        ));
    }
    Ok(())
}

fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load(check(props))
}

fn draw(chars: &[char], n: usize, into: &mut Vec<char>) -> Result<()> {
    for _ in 0..n {
        into.push(chars[random_below(chars.len())?]);
    }
    Ok(())
}

/// A new string: each set's minimum, the rest from every chosen set, shuffled. The properties
/// have passed [`check`].
fn make(schema: &TypeSchema, props: &Map) -> Result<Resource> {
    let length = count_of(schema, props, "length");
    let sets = char_sets(props);
    let mut all = Vec::new();
    let mut out = Vec::with_capacity(length);
    for set in &sets {
        draw(&set.chars, count_of(schema, props, set.minimum), &mut out)?;
        if chosen(schema, props, set.flag) {
            all.extend(&set.chars);
        }
    }
    draw(&all, length.saturating_sub(out.len()), &mut out)?;
    // Fisher-Yates, so the minimums are not always first.
    for i in (1..out.len()).rev() {
        out.swap(i, random_below(i + 1)?);
    }
    let result: String = out.into_iter().collect();
    Ok(Resource {
        id: result.clone(),
        properties: props.clone(),
        attributes: Map::from([("result".to_string(), Value::str(result))]),
    })
}

/// The string as `sensitive` asks: `result` marked and `id` hidden when true, else both plain.
fn shown(schema: &TypeSchema, mut resource: Resource) -> Resource {
    let hide = desired(schema, &resource.properties, "sensitive")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let result = resource
        .attributes
        .get("result")
        .map(Value::unmarked)
        .unwrap_or(Value::Null);
    resource.id = match result.as_str() {
        Some(text) if !hide => text.to_string(),
        _ => HIDDEN_ID.to_string(),
    };
    let result = if hide {
        Value::Sensitive(Box::new(result))
    } else {
        result
    };
    resource.attributes.insert("result".into(), result);
    resource
        .attributes
        .insert("id".into(), Value::str(resource.id.clone()));
    resource
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(json: serde_json::Value) -> Map {
        match Value::from_json(json) {
            Value::Map(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_string_has_its_length_its_minimums_and_only_chosen_characters() {
        let asked = props(serde_json::json!({
            "length": 12, "special": false, "min_upper": 4, "min_numeric": 4,
        }));
        for _ in 0..50 {
            let made = make(&schema(), &asked).unwrap();
            let result = made.attributes["result"].as_str().unwrap().to_string();
            assert_eq!(result.chars().count(), 12);
            assert!(
                result.chars().all(|c| c.is_ascii_alphanumeric()),
                "{result}"
            );
            assert!(result.chars().filter(char::is_ascii_uppercase).count() >= 4);
            assert!(result.chars().filter(char::is_ascii_digit).count() >= 4);
        }
    }

    #[test]
    fn override_special_replaces_the_special_characters() {
        let asked = props(serde_json::json!({
            "length": 20, "upper": false, "lower": false, "numeric": false,
            "override_special": "_-",
        }));
        let made = make(&schema(), &asked).unwrap();
        let result = made.attributes["result"].as_str().unwrap().to_string();
        assert!(result.chars().all(|c| c == '_' || c == '-'), "{result}");
    }

    #[test]
    fn impossible_strings_are_refused_naming_the_property() {
        let refusal = |json| check_props(&props(json)).unwrap_err();
        assert!(
            refusal(serde_json::json!({ "length": 3, "min_upper": 2, "min_lower": 2 }))
                .starts_with("`length`")
        );
        assert!(
            refusal(serde_json::json!({ "length": 3, "upper": false, "min_upper": 1 }))
                .starts_with("`min_upper`")
        );
        assert!(refusal(serde_json::json!({
            "length": 3, "upper": false, "lower": false, "numeric": false, "special": false,
        }))
        .contains("nothing to draw from"));
        assert!(check_props(&props(serde_json::json!({ "length": 3 }))).is_ok());
    }

    #[test]
    fn a_sensitive_result_is_marked_and_its_id_hidden() {
        let asked = props(serde_json::json!({ "length": 8, "sensitive": true }));
        let made = shown(&schema(), make(&schema(), &asked).unwrap());
        assert!(matches!(made.attributes["result"], Value::Sensitive(_)));
        assert_eq!(made.id, HIDDEN_ID);
        let plain = props(serde_json::json!({ "length": 8 }));
        let shown_plain = shown(
            &schema(),
            Resource {
                properties: plain,
                ..made.clone()
            },
        );
        assert_eq!(
            Some(shown_plain.id.as_str()),
            made.attributes["result"].as_str()
        );
    }
}
