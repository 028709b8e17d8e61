//! `strata iam-policy`: the policy a CI deployer needs for the whole life of the stack, from a
//! plan made without refreshing (the state gives the ids; nothing is changed).

use engine::PlanRequest;

use crate::args::{Global, IamFormat, IamPolicyArgs};
use crate::context::{open_and_plan, print_policy, Outcome};
use crate::ui::{self, EXIT_OK};

pub(crate) async fn iam_policy(global: &Global, args: &IamPolicyArgs) -> Outcome {
    let stack = crate::reads::load_and_read(global).await?;
    let color = ui::use_color(global.no_color, ui::stderr_is_terminal());
    let request = PlanRequest {
        refresh: false,
        ..PlanRequest::default()
    };
    let backend = stack.backend.clone();
    let lookups = crate::context::lookup_types(&stack);
    let (session, plan, cloud) =
        open_and_plan(global, stack, "iam-policy", &request, color).await?;
    session.finish_plan(&plan, None)?;
    let json = args.format == IamFormat::Json;
    print_policy(
            &plan,
            planner::iam::Scope::Life,
            &backend,
            &lookups,
            &cloud,
            json,
        )
        .await?;
    Ok(EXIT_OK)
}
