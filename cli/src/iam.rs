//! `strata iam-policy`: the policy a CI deployer needs for the whole life of the stack, from a
//! plan made without refreshing (the state gives the ids; nothing is changed or locked long).

use std::sync::Arc;

use engine::{PlanRequest, Session};

use crate::args::{Global, IamFormat, IamPolicyArgs};
use crate::context::{backend, cloud, load_stack, open_options, print_policy, Outcome};
use crate::progress::PlainLines;
use crate::ui::{self, EXIT_OK};

pub(crate) async fn iam_policy(global: &Global, args: &IamPolicyArgs) -> Outcome {
    let stack = load_stack(global)?;
    let backend = backend(global, &stack);
    let cloud = cloud(global, &stack).await?;
    let color = ui::use_color(global.no_color, ui::stdout_is_terminal());
    let session = Session::open(
        stack,
        backend,
        cloud.clone(),
        &open_options(global, "iam-policy"),
        Arc::new(PlainLines::new(color)),
    )
    .await?;
    let plan = session
        .plan(&PlanRequest {
            refresh: false,
            destroy: false,
            targets: Vec::new(),
        })
        .await?;
    session.finish_plan(&plan, None)?;
    print_policy(
        &plan,
        planner::iam::Scope::Life,
        &cloud,
        args.format == IamFormat::Json,
    )
    .await?;
    Ok(EXIT_OK)
}
