//! `strata.random_id`: random bytes made once and kept in the state, as Terraform's
//! `random_id`, given in several encodings (a unique suffix for a bucket name: `${suffix.hex}`).
//!
//! Its attributes are Terraform's: `id` is the bytes in URL-safe base64 without padding;
//! `hex`, `b64_url`, `b64_std` and `dec` are the bytes in hex, URL-safe base64 without
//! padding, standard base64 with padding and as a big-endian decimal number, each after the
//! `prefix`.

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{
    count_of, keepers, positive_count, random_bytes, LocalProvider, IMPORT_REFUSED, MAX_LENGTH,
    NO_ACTIONS,
};
use crate::catalogue::entry::Entry;
use crate::props::given_str;
use crate::{Resource, Result};

pub const TYPE_NAME: &str = "strata.random_id";

/// The random id's properties: every one makes a new value when it changes.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("byte_length", Kind::Integer)
                .required()
                .force_new()
                .rule(positive_count),
            Prop::new("prefix", Kind::String).force_new(),
            keepers(),
        ],
        attrs: vec!["id", "hex", "b64_url", "b64_std", "dec"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `strata.random_id`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |_| Arc::new(LocalProvider::new(schema(), make, |_, made| made)),
    about: "Random bytes made once by strata and kept in its state, never sent to AWS \
            (Terraform's `random_id`): a unique suffix for a name. A change of `keepers` \
            (or of any property) makes new bytes.",
    import_id: IMPORT_REFUSED,
    attributes: &[
        (
            "id",
            "the bytes in URL-safe base64 without padding, without the prefix",
        ),
        ("hex", "the prefix, then the bytes in lower-case hex"),
        (
            "b64_url",
            "the prefix, then the bytes in URL-safe base64 without padding",
        ),
        (
            "b64_std",
            "the prefix, then the bytes in standard base64 with padding",
        ),
        (
            "dec",
            "the prefix, then the bytes as a big-endian unsigned decimal number",
        ),
    ],
    property_notes: &[
        ("byte_length", "how many random bytes: 1 to 4096"),
        (
            "keepers",
            "any values; when one of them changes, new bytes are made (and what uses them \
             changes too)",
        ),
    ],
    actions: NO_ACTIONS,
    resources: &[],
    passes_role: &[],
};

/// New random bytes in every encoding.
fn make(schema: &TypeSchema, props: &Map) -> Result<Resource> {
    let length = count_of(schema, props, "byte_length").min(MAX_LENGTH as usize);
    let bytes = random_bytes(length)?;
    let prefix = given_str(props, "prefix").unwrap_or_default();
    let id = URL_SAFE_NO_PAD.encode(&bytes);
    let attributes = encodings(&bytes, &prefix);
    Ok(Resource {
        id,
        properties: props.clone(),
        attributes,
    })
}

/// The attributes of `bytes` after `prefix`, as Terraform's `random_id` gives them.
fn encodings(bytes: &[u8], prefix: &str) -> Map {
    let dec = num_bigint::BigUint::from_bytes_be(bytes).to_string();
    Map::from([
        ("id".to_string(), Value::str(URL_SAFE_NO_PAD.encode(bytes))),
        (
            "hex".to_string(),
            Value::str(format!("{prefix}{}", hex::encode(bytes))),
        ),
        (
            "b64_url".to_string(),
            Value::str(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))),
        ),
        (
            "b64_std".to_string(),
            Value::str(format!("{prefix}{}", STANDARD.encode(bytes))),
        ),
        ("dec".to_string(), Value::str(format!("{prefix}{dec}"))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encodings_are_terraforms() {
        // Terraform's random_id of these bytes with prefix "app-".
        let attrs = encodings(&[0xfb, 0xff, 0x01, 0x00], "app-");
        assert_eq!(attrs["id"], Value::str("-_8BAA"));
        assert_eq!(attrs["hex"], Value::str("app-fbff0100"));
        assert_eq!(attrs["b64_url"], Value::str("app--_8BAA"));
        assert_eq!(attrs["b64_std"], Value::str("app-+/8BAA=="));
        assert_eq!(attrs["dec"], Value::str("app-4227793152"));
    }

    #[test]
    fn each_value_is_new_and_as_long_as_asked() {
        let props = Map::from([("byte_length".to_string(), Value::int(8))]);
        let one = make(&schema(), &props).unwrap();
        let two = make(&schema(), &props).unwrap();
        assert_eq!(one.attributes["hex"].as_str().unwrap().len(), 16);
        assert_ne!(one.attributes["hex"], two.attributes["hex"]);
    }
}
