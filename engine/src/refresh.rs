//! Refresh: read every recorded resource from AWS before diffing. Read-only, in parallel,
//! grouped by type so providers whose API reads many ids at once make one call per group.

use std::collections::BTreeMap;

use providers::{ReadRequest, Registry};
use state::State;

use planner::Live;

/// Reads every resource in `state`. `None` for an address means it no longer exists.
/// Errors name the resource and what AWS said; every error is reported, not only the first.
pub async fn refresh(
    state: &State,
    registry: &Registry,
) -> Result<BTreeMap<String, Option<Live>>, Vec<String>> {
    let mut by_type: BTreeMap<&str, Vec<(&String, ReadRequest)>> = BTreeMap::new();
    for (address, rs) in &state.resources {
        by_type.entry(rs.type_name.as_str()).or_default().push((
            address,
            ReadRequest {
                address: address.clone(),
                id: rs.id.clone(),
                prior_properties: rs.properties.clone(),
                prior_attributes: rs.attributes.clone(),
            },
        ));
    }
    let mut errors = Vec::new();
    let mut groups = Vec::new();
    for (type_name, entries) in by_type {
        let Some(provider) = registry.get(type_name) else {
            errors.push(format!("no provider for type `{type_name}` (in the state)"));
            continue;
        };
        let (addresses, reqs): (Vec<&String>, Vec<ReadRequest>) = entries.into_iter().unzip();
        let provider = provider.clone();
        groups.push(async move {
            let results = provider.read_many(reqs).await;
            (type_name, addresses, results)
        });
    }
    let mut out = BTreeMap::new();
    for (type_name, addresses, results) in futures::future::join_all(groups).await {
        for (address, result) in addresses.into_iter().zip(results) {
            match result {
                Ok(found) => {
                    out.insert(
                        address.clone(),
                        found.map(|r| Live {
                            id: r.id,
                            properties: r.properties,
                            attributes: r.attributes,
                        }),
                    );
                }
                Err(e) => errors.push(format!("reading {type_name} `{address}`: {e}")),
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
