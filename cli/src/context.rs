//! What every command shares: the failure type and exit code it ends with, loading the stack
//! (its errors printed with their source lines), where its state lives, and how AWS is reached.
//! No command file imports another; they all import this.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine::{AwsCloud, EngineError, OpenOptions};
use providers::aws::{AwsContext, AwsOptions};
use stacks::registry::RegistryError;
use stacks::Stack;
use state::Backend;

use crate::args::Global;
use crate::ui::{self, EXIT_ERROR};

/// A failure that ends the command: what happened and what to do. An empty message means it
/// was printed already (stack diagnostics, apply errors).
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) help: Option<String>,
    pub(crate) code: i32,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            help: None,
            code: EXIT_ERROR,
        }
    }

    /// A failure already reported: only the exit code is left to give.
    pub(crate) fn reported() -> Failure {
        Failure::new("")
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Failure {
        self.help = Some(help.into());
        self
    }
}

impl From<state::StateError> for Failure {
    fn from(e: state::StateError) -> Failure {
        Failure::new(e.to_string())
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Failure {
        let help = e.help().map(str::to_string);
        let failure = Failure::new(e.to_string());
        match help {
            Some(help) => failure.help(help),
            None => failure,
        }
    }
}

impl From<RegistryError> for Failure {
    fn from(e: RegistryError) -> Failure {
        let failure = Failure::new(e.message);
        match e.help {
            Some(help) => failure.help(help),
            None => failure,
        }
    }
}

/// A command's result: its exit code, or the failure that ended it.
pub(crate) type Outcome = Result<i32, Failure>;

/// Loads and validates the stack; stack errors are printed here with their source lines.
/// Lookups and stack references are not read (references to them are unknown): see
/// [`crate::reads::load_and_read`] for commands that plan.
pub(crate) fn load_stack(global: &Global) -> Result<Stack, Failure> {
    load_stack_with(global, None)
}

/// [`load_stack`] with the values of the stack's lookups and stack references.
pub(crate) fn load_stack_with(
    global: &Global,
    reads: Option<stacks::Reads>,
) -> Result<Stack, Failure> {
    let options = stacks::LoadOptions {
        vars: global.vars.clone(),
        var_files: global.var_files.clone(),
        reads,
    };
    let catalog = providers::catalog();
    stacks::load(&global.file, &options, &catalog).map_err(|diagnostics| {
        let color = ui::use_color(global.no_color, ui::stderr_is_terminal());
        eprintln!("{}", diagnostics.render(color));
        Failure::reported()
    })
}

/// Where the stack's state lives: `.strata/` beside the stack file (or `backend.local.path`),
/// or an S3 object (`backend.s3`), whose run journal stays in `.strata/` beside the stack file.
pub(crate) fn backend(global: &Global, stack: &Stack) -> Arc<dyn Backend> {
    let s3_client =
        |region: Option<&str>| crate::s3::s3_client(global, stack.region.as_deref(), region);
    state::open(
        &stack.backend,
        &stack_dir(&global.file),
        &stack.name,
        s3_client,
    )
}

/// The directory of the stack file: where relative paths in it start.
pub(crate) fn stack_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// AWS as the flags and the environment configure it, then the stack's `region:`.
/// A profile that is named but defined nowhere is an error here, before any call.
pub(crate) async fn cloud(global: &Global, stack: &Stack) -> Result<Arc<AwsCloud>, Failure> {
    let options = AwsOptions {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
        max_requests: usize::from(global.max_requests),
    };
    providers::aws::check_profile(&options).map_err(|e| {
        Failure::new(e).help(
            "name a profile that `aws configure list-profiles` shows (--profile, AWS_PROFILE), \
             or add it to the AWS config file",
        )
    })?;
    let mut ctx = AwsContext::load(&options, stack.region.as_deref()).await;
    // Relative local paths in the stack (Lambda code) start beside the stack file.
    ctx.base_dir = stack_dir(&global.file);
    Ok(Arc::new(AwsCloud::new(ctx)))
}

/// How a session for `operation` opens, from the global flags.
pub(crate) fn open_options(global: &Global, operation: &str) -> OpenOptions {
    OpenOptions::new(operation, global.lock_timeout)
}

/// `s` for a count other than one.
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Prints the IAM policy `scope` needs for `plan` (SPEC §6: `plan --emit-iam`, `iam-policy`),
/// in the account the credentials belong to (STS `GetCallerIdentity`).
pub(crate) async fn print_policy(
    plan: &planner::Plan,
    scope: planner::iam::Scope,
    backend: &stacks::Backend,
    lookups: &[(String, String)],
    cloud: &AwsCloud,
    json: bool,
) -> Result<(), Failure> {
    let ctx = cloud.context();
    let account = ctx.account_id().await.map_err(|e| {
        Failure::new(format!(
            "could not read the account id for the policy's ARNs (sts:GetCallerIdentity): {e}"
        ))
    })?;
    let place = providers::catalogue::policy::Place {
        partition: ctx.partition().to_string(),
        region: ctx.region(),
        account,
    };
    let mut policy = planner::iam::policy(plan, scope, place);
    let pairs: Vec<(&str, &str)> = lookups
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    if let Some(statement) = providers::catalogue::policy::lookup_statement(&pairs) {
        policy.statements.insert(0, statement);
    }
    if let stacks::Backend::S3 { bucket, key, .. } = backend {
        let state = planner::iam::state_statements(&policy.place, bucket, key);
        policy.statements.splice(0..0, state);
    }
    if json {
        println!("{}", planner::iam::render_json(&policy));
    } else {
        print!("{}", planner::iam::render_text(&policy, scope, &plan.stack));
    }
    Ok(())
}

/// The stack's lookups as (name, type) pairs, for the policy's statement of their reads.
pub(crate) fn lookup_types(stack: &Stack) -> Vec<(String, String)> {
    stack
        .lookups
        .iter()
        .map(|(name, decl)| (name.clone(), decl.type_name.clone()))
        .collect()
}

/// Opens a session for `operation` (progress as plain lines, coloured when `color`) and makes
/// the plan `request` asks for: what `plan`, `graph --plan` and `iam-policy` share.
pub(crate) async fn open_and_plan(
    global: &Global,
    stack: Stack,
    operation: &str,
    request: &engine::PlanRequest,
    color: bool,
) -> Result<(engine::Session, planner::Plan, Arc<AwsCloud>), Failure> {
    let backend = backend(global, &stack);
    let cloud = cloud(global, &stack).await?;
    let session = engine::Session::open(
        stack,
        backend,
        cloud.clone(),
        &open_options(global, operation),
        Arc::new(crate::progress::PlainLines::new(color)),
    )
    .await?;
    let plan = session.plan(request).await?;
    Ok((session, plan, cloud))
}
