//! Helpers shared by the state crate's integration tests.
#![allow(dead_code)]

use std::path::Path;

use stacks::{Map, Value};
use state::{LocalBackend, ResourceState};

/// The stack every test records.
pub const STACK: &str = "web";

/// A backend in `<tmp>/.strata`, as the CLI would place it beside a stack file.
pub fn backend(tmp: &Path) -> LocalBackend {
    LocalBackend::new(tmp.join(".strata"), STACK)
}

/// A queue as a provider would return it, with a sensitive property to prove it is kept.
pub fn queue(name: &str) -> ResourceState {
    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(name));
    properties.insert(
        "secret".into(),
        Value::Sensitive(Box::new(Value::str("hunter2"))),
    );
    let mut attributes = Map::new();
    attributes.insert(
        "arn".into(),
        Value::str(format!("arn:aws:sqs:eu-west-1:1:{name}")),
    );
    ResourceState {
        type_name: "aws.sqs.queue".into(),
        id: format!("https://sqs.eu-west-1.amazonaws.com/1/{name}"),
        properties,
        attributes,
        dependencies: vec![],
        create_before_destroy: false,
        tainted: false,
        sensitive: Vec::new(),
    }
}

/// The desired identity of a queue, as an intent records it.
pub fn identity(name: &str) -> Map {
    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(name));
    properties
}
