//! `strata schema`: the JSON Schema of the stack format accepts every example in the
//! repository and rejects what the loader rejects (misspelt properties, unknown keys).

use std::path::{Path, PathBuf};
use std::process::Command;

fn schema() -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("schema")
        .output()
        .expect("run strata schema");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the schema is JSON")
}

fn yaml_to_json(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).expect("YAML")
}

/// Every `stack.yaml` under `dir`, at any depth.
fn stack_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            stack_files(&path, out);
        } else if path.file_name().is_some_and(|n| n == "stack.yaml") {
            out.push(path);
        }
    }
}

fn errors(validator: &jsonschema::Validator, instance: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn the_schema_accepts_every_example_stack() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid JSON Schema");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut files = Vec::new();
    stack_files(&examples, &mut files);
    assert!(!files.is_empty(), "no examples found");
    for file in files {
        let stack = yaml_to_json(&std::fs::read_to_string(&file).unwrap());
        let found = errors(&validator, &stack);
        assert!(found.is_empty(), "{}: {found:#?}", file.display());
    }
}

#[test]
fn the_schema_rejects_a_misspelt_property_an_unknown_key_and_an_unknown_type() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid JSON Schema");
    let good = yaml_to_json(
        "stack: s\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { visibility_timeout_seconds: 60, delay_seconds: \"${params.d}\" }\n",
    );
    assert_eq!(errors(&validator, &good), Vec::<String>::new());
    for bad in [
        "stack: s\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { visiblity_timeout_seconds: 60 }\n",
        "stack: s\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { visibility_timeout_seconds: sixty }\n",
        "stack: s\nresources:\n  q:\n    type: aws.sqs.queue\n    lifecycle: { prevent_destroy: true, forever: true }\n",
        "stack: s\nresources:\n  q:\n    type: aws.sqs.queueue\n",
        "stack: s\nresource: {}\n",
        "stack: S\n",
    ] {
        let instance = yaml_to_json(bad);
        assert!(!validator.is_valid(&instance), "accepted:\n{bad}");
    }
}
