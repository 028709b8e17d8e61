//! Saved plans: `plan --out FILE` and `apply FILE`, and printing a plan in each format.
//!
//! A plan file is JSON: a small envelope (what it is, which strata wrote it, fingerprints of
//! the stack file, the params and the state it was made from) around the [`Plan`] with every
//! sensitive value replaced by `{"$sensitive": true}` ([`planner::saved::redact`]). It is
//! written with mode 0600, atomically.
//!
//! `apply FILE` loads the stack again and refuses the plan, saying what changed, unless the
//! stack file, the params and the state are exactly those it was made from. The secrets are
//! then taken back from the stack and the state ([`planner::saved::restore`]): the file alone
//! is not enough to apply, and never reveals a secret.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use planner::markdown::render_markdown;
use planner::Plan;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stacks::{Catalog, Stack};
use state::State;

use crate::args::{Global, PlanFormat};
use crate::commands::{execute, open_session, print_text_plan, Failure, Outcome};

/// What the `kind` field of a plan file says.
const PLAN_FILE_KIND: &str = "strata-plan";
/// The envelope's version; bumped when it changes incompatibly.
const PLAN_FILE_VERSION: u32 = 1;
/// Why a saved plan is stale when neither the stack file nor the params changed.
const MODULE_OR_CODE_CHANGED: &str =
    "a module it uses, or local code it packages (a Lambda `code.path`), changed since the plan was made";
/// Mode of a plan file: it names resources and ids, if no secrets.
const PLAN_FILE_MODE: u32 = 0o600;

/// The file `plan --out` writes.
#[derive(Serialize, Deserialize)]
struct PlanFile {
    kind: String,
    version: u32,
    strata_version: String,
    /// SHA-256 of the stack file's bytes when the plan was made.
    stack_file_sha256: String,
    /// SHA-256 of the params' final values when the plan was made.
    params_sha256: String,
    /// SHA-256 of the state the plan was made against (resources and outputs).
    state_sha256: String,
    /// SHA-256 of the local files the stack's properties name (Lambda code) when the plan was
    /// made: the code apply would upload must be the code reviewed.
    #[serde(default)]
    local_files_sha256: String,
    /// The plan, sensitive values redacted.
    plan: Plan,
}

/// Just enough of a file to tell a plan file (and its version) from anything else.
#[derive(Deserialize)]
struct Envelope {
    kind: Option<String>,
    version: Option<u32>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fingerprint of what a state records (its resources and outputs, not its serial): two
/// states with the same fingerprint plan the same.
pub(crate) fn fingerprint(state: &State) -> String {
    let json = serde_json::json!({
        "resources": state.resources,
        "outputs": state.outputs,
    });
    sha256_hex(json.to_string().as_bytes())
}

fn stack_file_hash(stack: &Stack) -> Result<String, Failure> {
    let bytes = std::fs::read(&stack.path).map_err(|e| {
        Failure::new(format!(
            "cannot read the stack file {}: {e}",
            stack.path.display()
        ))
    })?;
    Ok(sha256_hex(&bytes))
}

fn local_files_hash(stack: &Stack) -> Result<String, Failure> {
    stacks::archive::fingerprint_files(&stack.local_paths).map_err(Failure::new)
}

fn params_hash(stack: &Stack) -> String {
    sha256_hex(
        serde_json::to_string(&stack.params)
            .unwrap_or_default()
            .as_bytes(),
    )
}

/// Prints `plan` to stdout in `format`.
pub(crate) fn print_plan(global: &Global, plan: &Plan, catalog: &Catalog, format: PlanFormat) {
    match format {
        PlanFormat::Text => print_text_plan(global, plan, catalog),
        PlanFormat::Json => {
            let json = planner::json::plan_json(plan, catalog);
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
        }
        PlanFormat::Markdown => {
            let marked = planner::saved::mark_sensitive(plan, catalog);
            print!("{}", render_markdown(&marked));
        }
    }
}

/// Tells where the plan went: on stdout after a text plan, else on stderr (stdout holds the
/// JSON or Markdown).
pub(crate) fn saved_note(path: &Path, format: PlanFormat) {
    let note = format!(
        "Saved the plan to {}. Apply exactly it with `strata apply {}`.",
        path.display(),
        path.display()
    );
    if format == PlanFormat::Text {
        println!("\n{note}");
    } else {
        eprintln!("{note}");
    }
}

/// Writes `plan` to `path` (0600, atomically), redacted. `recorded` is the state as the plan
/// command left it (its serial may have moved past the plan's if settling a crashed run wrote
/// it); `planned_state` the fingerprint of the state the plan was made against.
pub(crate) fn save(
    path: &Path,
    plan: &Plan,
    stack: &Stack,
    recorded: &State,
    planned_state: String,
    catalog: &Catalog,
) -> Result<(), Failure> {
    let mut plan = planner::saved::redact(plan, catalog);
    plan.lineage = recorded.lineage.clone();
    plan.serial = recorded.serial;
    let file = PlanFile {
        kind: PLAN_FILE_KIND.to_string(),
        version: PLAN_FILE_VERSION,
        strata_version: env!("CARGO_PKG_VERSION").to_string(),
        stack_file_sha256: stack_file_hash(stack)?,
        params_sha256: params_hash(stack),
        state_sha256: planned_state,
        local_files_sha256: local_files_hash(stack)?,
        plan,
    };
    let mut bytes = serde_json::to_vec_pretty(&file)
        .map_err(|e| Failure::new(format!("cannot encode the plan: {e}")))?;
    bytes.push(b'\n');
    write_private(path, &bytes)
        .map_err(|e| Failure::new(format!("writing the plan to {}: {e}", path.display())))
}

/// Writes a 0600 file atomically: a temporary file beside it, fsync, rename.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(PLAN_FILE_MODE)
            .open(&tmp)?;
        file.set_permissions(std::fs::Permissions::from_mode(PLAN_FILE_MODE))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn read(path: &Path) -> Result<PlanFile, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::new(format!("cannot read the plan file {}: {e}", path.display())))?;
    let not_a_plan = || {
        Failure::new(format!(
            "{} is not a plan saved by `strata plan --out`",
            path.display()
        ))
        .help(format!(
            "save one with `strata plan --out {}`",
            path.display()
        ))
    };
    let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|_| not_a_plan())?;
    if envelope.kind.as_deref() != Some(PLAN_FILE_KIND) {
        return Err(not_a_plan());
    }
    match envelope.version {
        Some(PLAN_FILE_VERSION) => {}
        Some(v) if v > PLAN_FILE_VERSION => {
            return Err(Failure::new(format!(
                "{} was saved by a newer strata (plan file version {v}; this strata reads {PLAN_FILE_VERSION})",
                path.display()
            ))
            .help("apply it with the strata that saved it, or make the plan again with this one"))
        }
        _ => return Err(not_a_plan()),
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        Failure::new(format!("the plan file {} is damaged: {e}", path.display()))
            .help("make the plan again with `strata plan --out FILE`")
    })
}

/// `apply FILE`: checks that nothing the plan was made from changed, restores its secrets from
/// the stack and the state, and applies exactly it, without asking.
pub(crate) async fn apply_saved(
    global: &Global,
    path: &Path,
    parallelism: usize,
    json: bool,
) -> Outcome {
    let file = read(path)?;
    let session = open_session(global, "apply").await?;
    let again = || {
        format!(
            "run `strata plan --out {}` again, review it, then `strata apply {}`",
            path.display(),
            path.display()
        )
    };
    let stale = |what: String| {
        Failure::new(format!(
            "the saved plan {} is stale: {what}",
            path.display()
        ))
        .help(again())
    };

    let stack = &session.stack;
    if file.plan.stack != stack.name {
        return Err(stale(format!(
            "it was made for stack `{}`, but {} declares stack `{}`",
            file.plan.stack,
            stack.path.display(),
            stack.name
        )));
    }
    if file.plan.source_hash != stack.source_hash {
        let what = if file.stack_file_sha256 != stack_file_hash(stack)? {
            format!(
                "the stack file {} changed since the plan was made",
                stack.path.display()
            )
        } else if file.params_sha256 != params_hash(stack) {
            "the params (--var, --var-file) differ from those the plan was made with".to_string()
        } else {
            MODULE_OR_CODE_CHANGED.to_string()
        };
        return Err(stale(what));
    }
    if file.local_files_sha256 != local_files_hash(stack)? {
        return Err(stale(MODULE_OR_CODE_CHANGED.to_string()));
    }
    let current = session.recorder.state();
    // A plan made before anything was recorded has no lineage to compare (a state that does
    // not exist yet gets its lineage when first written); its serial 0 tells it apart.
    if file.plan.serial > 0 && file.plan.lineage != current.lineage {
        return Err(stale(format!(
            "the state was replaced since the plan was made (lineage {}, now {})",
            file.plan.lineage, current.lineage
        )));
    }
    if file.plan.serial != current.serial {
        return Err(stale(format!(
            "the state changed since the plan was made (serial {}, now {}): the plan was \
             applied already, or another apply, import or state command ran",
            file.plan.serial, current.serial
        )));
    }
    if file.state_sha256 != fingerprint(current) {
        return Err(stale(
            "the state changed since the plan was made (an interrupted run's records were \
             recovered)"
                .to_string(),
        ));
    }

    let plan =
        planner::saved::restore(file.plan, stack, current).map_err(|e| stale(e.to_string()))?;
    crate::commands::show_plan(global, &plan, &session.registry.catalog(), json);
    execute(global, session, plan, true, parallelism, json).await
}
