//! `strata output [NAME]`: the outputs recorded by the last apply, read from the state.

use stacks::Value;

use crate::args::{Global, OutputArgs};
use crate::context::{backend, load_stack, Failure, Outcome};
use crate::ui::EXIT_OK;

pub(crate) fn output(global: &Global, args: &OutputArgs) -> Outcome {
    let stack = load_stack(global)?;
    let loaded = engine::read_state(&*backend(global, &stack))?;
    let outputs = &loaded.state.outputs;
    match &args.name {
        Some(name) => {
            let value = outputs.get(name).ok_or_else(|| {
                let known: Vec<&str> = outputs.keys().map(String::as_str).collect();
                Failure::new(format!("no output named `{name}` in the state")).help(
                    if known.is_empty() {
                        "run `strata apply` first".to_string()
                    } else {
                        format!("the outputs are: {}", known.join(", "))
                    },
                )
            })?;
            if args.json {
                println!("{}", value.to_json());
            } else {
                match value.unmarked() {
                    Value::String(s) => println!("{s}"),
                    other => println!("{}", other.to_json()),
                }
            }
        }
        None => {
            if args.json {
                let map: serde_json::Map<String, serde_json::Value> = outputs
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            serde_json::json!({
                                "value": v.to_json(),
                                "sensitive": v.has_sensitive(),
                            }),
                        )
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::Value::Object(map))
                        .unwrap_or_default()
                );
            } else {
                for (name, value) in outputs {
                    println!("{name} = {}", value.render());
                }
            }
        }
    }
    Ok(EXIT_OK)
}
