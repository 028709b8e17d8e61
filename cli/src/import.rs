//! `strata import ADDR ID`: bring an existing AWS resource under strata.
//!
//! The address must be declared in the stack, which gives the type. The resource is read
//! with its provider's `read` (the same call refresh makes, with no recorded properties), and
//! recorded under the address: its properties as read (only those the type's schema knows),
//! its attributes, and the dependencies the stack declares. Nothing in AWS changes; the next
//! plan shows how the resource differs from the stack.

use providers::ReadRequest;
use stacks::Map;
use state::ResourceState;

use crate::args::{Global, ImportArgs};
use crate::commands::{aws_context, backend, load_stack, Failure, Outcome};
use crate::ui::EXIT_OK;

pub(crate) async fn import(global: &Global, args: &ImportArgs) -> Outcome {
    let stack = load_stack(global)?;
    let address = args.address.as_str();
    let id = args.id.as_str();
    let Some(decl) = stack.resources.get(address) else {
        let help = match stacks::did_you_mean(address, stack.resources.keys()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "declare it under `resources:` in {} first, with its type and properties",
                stack.path.display()
            ),
        };
        return Err(Failure::new(format!(
            "`{address}` is not declared in {}",
            stack.path.display()
        ))
        .help(help));
    };
    let backend = backend(global, &stack)?;
    let lock = backend.lock("import", std::time::Duration::ZERO)?;
    let loaded = backend.load()?;
    if let Some(existing) = loaded.state.resources.get(address) {
        return Err(Failure::new(format!(
            "`{address}` is already in the state ({} {})",
            existing.type_name, existing.id
        ))
        .help(format!(
            "to manage another resource as `{address}`, forget this one first with \
             `strata state rm {address}`"
        )));
    }
    // Ids are unique per type only: a queue policy's id is its queue's URL.
    if let Some((other, _)) = loaded
        .state
        .resources
        .iter()
        .find(|(_, r)| r.id == id && r.type_name == decl.type_name)
    {
        return Err(
            Failure::new(format!("{id} is already in the state as `{other}`")).help(format!(
                "to manage it as `{address}` instead, run `strata state mv {other} {address}`"
            )),
        );
    }
    let mut recorder = backend.recorder(&lock, loaded)?;

    let aws = aws_context(global, &stack).await;
    let registry = providers::aws_registry(&aws);
    let provider = registry
        .get(&decl.type_name)
        .ok_or_else(|| Failure::new(format!("no provider for type `{}`", decl.type_name)))?;
    let found = provider
        .read(ReadRequest {
            address: address.to_string(),
            id: id.to_string(),
            prior_properties: Map::new(),
            prior_attributes: Map::new(),
        })
        .await
        .map_err(|e| {
            Failure::new(format!(
                "reading {} `{id}` to import it as `{address}`: {e}",
                decl.type_name
            ))
        })?;
    let Some(found) = found else {
        return Err(Failure::new(format!(
            "there is no {} with id `{id}` (in {})",
            decl.type_name,
            aws.region()
        ))
        .help("check the id, and the region (--region, AWS_REGION, the stack's `region:`)"));
    };
    let schema = provider.schema();
    let properties: Map = found
        .properties
        .into_iter()
        .filter(|(k, _)| schema.prop(k).is_some())
        .collect();
    let resource = ResourceState {
        type_name: decl.type_name.clone(),
        id: found.id.clone(),
        properties,
        attributes: found.attributes,
        dependencies: decl.dependencies().into_iter().collect(),
        create_before_destroy: decl.lifecycle.create_before_destroy,
    };
    recorder.put(address, resource, None)?;
    recorder.finish()?;
    drop(lock);
    println!(
        "Imported {} `{}` as `{address}`.\nRun `strata plan` to see how it differs from the stack.",
        decl.type_name, found.id
    );
    Ok(EXIT_OK)
}
