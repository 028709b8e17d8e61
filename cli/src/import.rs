//! `strata import ADDR ID`: bring an existing AWS resource under strata, through an engine
//! session (see `engine::Session::import`). Nothing in AWS changes; the next plan shows how the
//! resource differs from the stack.

use std::sync::Arc;

use crate::args::{Global, ImportArgs};
use crate::context::{backend, cloud, open_options, Outcome};
use crate::progress::PlainLines;
use crate::ui::{self, EXIT_OK};

pub(crate) async fn import(global: &Global, args: &ImportArgs) -> Outcome {
    let stack = crate::reads::load_and_read(global).await?;
    let type_name = stack
        .resources
        .get(&args.address)
        .map(|d| d.type_name.clone())
        .unwrap_or_default();
    let backend = backend(global, &stack);
    let cloud = cloud(global, &stack).await?;
    let color = ui::use_color(global.no_color, ui::stdout_is_terminal());
    let session = engine::Session::open(
        stack,
        backend,
        cloud,
        &open_options(global, "import"),
        Arc::new(PlainLines::new(color)),
    )
    .await?;
    let id = session.import(&args.address, &args.id).await?;
    println!(
        "Imported {type_name} `{id}` as `{}`.\nRun `strata plan` to see how it differs from the stack.",
        args.address
    );
    Ok(EXIT_OK)
}
