//! What a stack reads from outside it before planning: its lookups (SPEC §10), read from AWS,
//! and the outputs of the stacks it references (SPEC §11), read from their backends without
//! their locks. The stack is loaded once without them, they are read, and it is loaded again
//! with their values; a lookup whose arguments use another lookup waits for that one.

use std::sync::Arc;

use stacks::{Reads, Stack, Value};
use state::Backend;

use crate::args::Global;
use crate::context::{cloud, load_stack_with, stack_dir, Failure};

/// The stack with its lookups and stack references read, ready to plan. A stack without any is
/// loaded once and nothing is read.
pub(crate) async fn load_and_read(global: &Global) -> Result<Stack, Failure> {
    let mut stack = load_stack_with(global, None)?;
    if stack.lookups.is_empty() && stack.stack_refs.is_empty() {
        return Ok(stack);
    }
    let mut reads = Reads::default();
    for (name, reference) in &stack.stack_refs {
        let backend = producer_backend(global, &stack, reference);
        let outputs = backend.read_outputs().map_err(|e| {
            let at = position(&reference.pos);
            Failure::new(format!(
                "stack reference `{name}` at {at}: cannot read the outputs of stack `{}`: {e}",
                reference.stack
            ))
            .help("apply that stack first, or correct the reference's `backend` and `stack`")
        })?;
        reads
            .stack_refs
            .insert(name.clone(), Value::Map(outputs.into_iter().collect()));
    }
    if !stack.lookups.is_empty() {
        let cloud = cloud(global, &stack).await?;
        let ctx = cloud.context();
        loop {
            let ready: Vec<(String, stacks::LookupDecl)> = stack
                .lookups
                .iter()
                .filter(|(name, decl)| {
                    !reads.lookups.contains_key(*name) && !decl.args.has_unknown()
                })
                .map(|(name, decl)| (name.clone(), decl.clone()))
                .collect();
            if ready.is_empty() {
                break;
            }
            let found = futures::future::join_all(ready.iter().map(|(_, decl)| {
                providers::lookups::read_lookup(ctx, &decl.type_name, &decl.args)
            }))
            .await;
            for ((name, decl), result) in ready.into_iter().zip(found) {
                let value = result.map_err(|e| {
                    Failure::new(format!(
                        "lookup `{name}` at {}: {e}",
                        position(&decl.pos)
                    ))
                    .help("change the lookup's arguments so it finds exactly what you mean")
                })?;
                reads.lookups.insert(name, value);
            }
            stack = load_stack_with(global, Some(reads.clone()))?;
        }
        if let Some((name, decl)) = stack
            .lookups
            .iter()
            .find(|(name, _)| !reads.lookups.contains_key(*name))
        {
            return Err(Failure::new(format!(
                "lookup `{name}` at {} depends on lookups that use each other",
                position(&decl.pos)
            ))
            .help("a lookup may use another lookup's attributes, but not in a cycle"));
        }
        return Ok(stack);
    }
    load_stack_with(global, Some(reads))
}

/// After a successful apply: records, beside each referenced stack's state, which of its
/// outputs this stack reads, so that stack's plans name this one when they change them.
pub(crate) fn record_consumers(global: &Global, stack: &Stack) -> Result<(), Failure> {
    for (name, reference) in &stack.stack_refs {
        let outputs: Vec<String> = stack
            .stack_ref_uses
            .get(name)
            .map(|uses| uses.iter().cloned().collect())
            .unwrap_or_default();
        producer_backend(global, stack, reference)
            .record_consumer(&stack.name, &outputs)
            .map_err(|e| {
                Failure::new(format!(
                    "applied, but could not record beside stack `{}`'s state that this stack reads its outputs: {e}",
                    reference.stack
                ))
            })?;
    }
    Ok(())
}

/// The backend of the stack `reference` names: a local path from this stack file's directory,
/// or S3.
fn producer_backend(
    global: &Global,
    stack: &Stack,
    reference: &stacks::StackRefDecl,
) -> Arc<dyn Backend> {
    let s3_client =
        |region: Option<&str>| crate::s3::s3_client(global, stack.region.as_deref(), region);
    state::open(
        &reference.backend,
        &stack_dir(&global.file),
        &reference.stack,
        s3_client,
    )
}

fn position(pos: &stacks::SourcePos) -> String {
    format!("{}:{}:{}", pos.file.display(), pos.line, pos.column)
}
