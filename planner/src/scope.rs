//! What a reference sees, at plan time and at apply time alike: built-ins, and per resource its
//! properties and (once known) attributes.
//!
//! The planner fills it with each resource's planned properties (attributes only for what is
//! not created or replaced); the executor fills it with what AWS returned as results arrive;
//! [`crate::saved::restore`] rebuilds the planner's from a saved plan. One scope, so a value
//! resolves the same way at every stage.

use std::collections::BTreeMap;

use stacks::{Map, Reference, Scope, Value};

/// Built-ins and what is known of each resource.
#[derive(Clone, Debug, Default)]
pub struct Known {
    builtins: Map,
    /// address -> (properties, attributes when known).
    resources: BTreeMap<String, (Map, Option<Map>)>,
}

impl Known {
    /// A scope with these built-ins (`aws.region`, `aws.account_id`) and no resources yet.
    pub fn new(builtins: Map) -> Known {
        Known {
            builtins,
            resources: BTreeMap::new(),
        }
    }

    /// What is known of `address` now: its properties, and its attributes when they are known
    /// (`None` while it is still to be created).
    pub fn insert(&mut self, address: &str, properties: Map, attributes: Option<Map>) {
        self.resources
            .insert(address.to_string(), (properties, attributes));
    }
}

impl Scope for Known {
    /// A built-in not given is unknown; a resource reference is its attribute when known, else
    /// its property, else unknown; an address nothing was said of is not in this scope.
    fn lookup(&self, reference: &Reference) -> Option<Value> {
        match reference {
            Reference::Builtin { name } => {
                Some(self.builtins.get(name).cloned().unwrap_or(Value::Unknown))
            }
            Reference::Resource { address, attr } => {
                let (props, attrs) = self.resources.get(address)?;
                attrs
                    .as_ref()
                    .and_then(|a| a.get(attr))
                    .or_else(|| props.get(attr))
                    .cloned()
                    .or(Some(Value::Unknown))
            }
        }
    }
}
