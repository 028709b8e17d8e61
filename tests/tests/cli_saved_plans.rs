//! Saved plans as CI uses them: `plan --out FILE`, review, `apply FILE`. A saved plan is
//! applied exactly, holds no secret, and is refused once anything it was made from changed.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use aws_sdk_sqs::types::QueueAttributeName;
use strata_tests::{assert_code, run_strata, Project, Run};

const STACK: &str = r#"stack: saved
region: us-east-1
params:
  retention: { type: number, default: 345600 }
  token: { type: string, default: not-the-secret }
resources:
  jobs:
    type: aws.sqs.queue
    properties:
      message_retention_seconds: ${params.retention}
  events:
    type: aws.sns.topic
    properties:
      display_name: Saved plans
  jobs_subscription:
    type: aws.sns.subscription
    properties: { topic_arn: "${events.arn}", protocol: sqs, endpoint: "${jobs.arn}" }
outputs:
  jobs_url: ${jobs.url}
  token:
    value: ${params.token}
    sensitive: true
"#;

/// The value of the sensitive param: it must never be written to a plan file.
const SECRET: &str = "pa55-Wd-7f3a9c";

/// The project, run as a CI job runs it.
struct Ci(Project);

impl Ci {
    fn new() -> Ci {
        Ci(Project::new(STACK))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Runs strata with the secret token set, as a CI job would from its secret store.
    fn strata(&self, args: &[&str]) -> Run {
        let token = format!("token={SECRET}");
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--var", &token]);
        self.0.strata(&all)
    }

    async fn retention(&self) -> String {
        let sqs = aws_sdk_sqs::Client::new(&self.0.ctx().sdk);
        let url = sqs
            .get_queue_url()
            .queue_name("saved-jobs")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        sqs.get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::MessageRetentionPeriod)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()
            .remove(&QueueAttributeName::MessageRetentionPeriod)
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_applied_exactly_and_refused_once_anything_it_was_made_from_changed() {
    let p = Ci::new();

    // Saved: private, and no secret in it.
    let run = p.strata(&["plan", "--out", "first.plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Saved the plan to first.plan."),
        "{}",
        run.stdout
    );
    let file = p.path().join("first.plan");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "plan file mode {mode:o}");
    let bytes = std::fs::read_to_string(&file).unwrap();
    assert!(!bytes.contains(SECRET), "the secret is in the plan file");
    assert!(bytes.contains(r#""$sensitive": true"#), "{bytes}");

    // Nothing changed since: applied as saved, without asking, secrets restored.
    let run = p.strata(&["apply", "first.plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 3 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(SECRET), "{}", run.stdout);
    let run = p.strata(&["output", "token"]);
    assert_code(&run, 0);
    assert_eq!(run.stdout.trim(), SECRET);
    assert_eq!(p.retention().await, "345600");

    // A plan applies once: afterwards the state has moved on.
    let run = p.strata(&["apply", "first.plan"]);
    assert_code(&run, 1);
    let applied_twice = run.stderr.clone();

    // Another apply between plan and apply: refused, nothing changed in AWS.
    let run = p.strata(&["plan", "--out", "second.plan", "--var", "retention=86400"]);
    assert_code(&run, 0);
    let run = p.strata(&["apply", "--auto-approve", "--var", "retention=1209600"]);
    assert_code(&run, 0);
    let run = p.strata(&["apply", "second.plan", "--var", "retention=86400"]);
    assert_code(&run, 1);
    let state_changed = run.stderr.clone();
    assert_eq!(p.retention().await, "1209600");

    // The stack file or the params changed: refused, saying which.
    let run = p.strata(&["plan", "--out", "third.plan", "--var", "retention=86400"]);
    assert_code(&run, 0);
    let stack_path = p.path().join("stack.yaml");
    std::fs::write(&stack_path, format!("{STACK}# edited after planning\n")).unwrap();
    let run = p.strata(&["apply", "third.plan", "--var", "retention=86400"]);
    assert_code(&run, 1);
    let stack_changed = run.stderr.clone();
    std::fs::write(&stack_path, STACK).unwrap();
    let run = p.strata(&["apply", "third.plan", "--var", "retention=60"]);
    assert_code(&run, 1);
    let params_changed = run.stderr.clone();
    assert_eq!(p.retention().await, "1209600");

    insta::assert_snapshot!(format!(
        "--- applied twice\n{applied_twice}--- another apply in between\n{state_changed}\
         --- stack file edited\n{stack_changed}--- other params\n{params_changed}"
    ));

    // Back as planned: it applies, exactly the planned update.
    let run = p.strata(&["apply", "third.plan", "--var", "retention=86400"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 0 added, 1 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    assert_eq!(p.retention().await, "86400");

    // A saved destroy plan destroys.
    let run = p.strata(&["plan", "--destroy", "--out", "destroy.plan"]);
    assert_code(&run, 0);
    let run = p.strata(&["apply", "destroy.plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Destroy complete: 0 added, 0 changed, 3 destroyed."),
        "{}",
        run.stdout
    );
    let run = p.strata(&["state", "list"]);
    assert_code(&run, 0);
    assert_eq!(run.stdout, "");
}

#[test]
fn a_file_that_is_not_a_saved_plan_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    std::fs::write(
        dir.path().join("plan.json"),
        "{\"format_version\": \"1.0\"}",
    )
    .unwrap();
    let run = run_strata(dir.path(), &["apply", "plan.json"], &[]);
    assert_code(&run, 1);
    insta::assert_snapshot!(run.stderr, @r"
    error: plan.json is not a plan saved by `strata plan --out`
      help: save one with `strata plan --out plan.json`
    ");
}

/// A function whose code is the directory `src/` beside the stack.
const FUNCTION_STACK: &str = r#"stack: coded
resources:
  runner:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: { Service: lambda.amazonaws.com }
          Action: sts:AssumeRole
  worker:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: handler.handle
      role: ${runner.arn}
      code: { path: src }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_once_the_code_it_would_upload_changed() {
    let p = Project::new(FUNCTION_STACK);
    let handler = p.path().join("src/handler.py");
    std::fs::create_dir_all(handler.parent().unwrap()).unwrap();
    std::fs::write(&handler, "def handle(event, context):\n    return 1\n").unwrap();

    let run = p.strata(&["plan", "--out", "code.plan"]);
    assert_code(&run, 0);
    std::fs::write(&handler, "def handle(event, context):\n    return 2\n").unwrap();
    let run = p.strata(&["apply", "code.plan"]);
    assert_code(&run, 1);
    assert!(
        run.stderr.contains(
            "a module it uses, or local code it packages (a Lambda `code.path`), changed since the plan was made"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(p.strata(&["state", "list"]).stdout, "", "nothing applied");

    // The code as planned: the plan applies.
    std::fs::write(&handler, "def handle(event, context):\n    return 1\n").unwrap();
    let run = p.strata(&["apply", "code.plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 2 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
}

/// A plan file someone edited (here, turning a queue that is unchanged into a delete, and
/// pointing a change at another queue's id) is refused before any call, and nothing changes.
#[test]
fn an_edited_plan_file_is_refused_and_changes_nothing() {
    let p = Project::new(
        "stack: edited\nregion: us-east-1\nresources:\n  keep:\n    type: aws.sqs.queue\n  more:\n    type: aws.sqs.queue\n    properties: { visibility_timeout_seconds: 40 }\n",
    );
    let env = p.emu.aws_env();
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    p.write_stack(
        "stack: edited\nregion: us-east-1\nresources:\n  keep:\n    type: aws.sqs.queue\n  more:\n    type: aws.sqs.queue\n    properties: { visibility_timeout_seconds: 50 }\n",
    );
    assert_code(&p.strata(&["plan", "--out", "ci.plan"]), 0);
    let path = p.path().join("ci.plan");
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let index = |file: &serde_json::Value, address: &str| {
        file["plan"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c["address"] == address)
            .unwrap()
    };
    let state_before = std::fs::read(p.path().join(".strata/edited.state.json")).unwrap();

    // An unchanged queue turned into a delete.
    let mut edited = original.clone();
    let keep = index(&edited, "keep");
    edited["plan"]["changes"][keep]["action"] = "delete".into();
    std::fs::write(&path, serde_json::to_vec(&edited).unwrap()).unwrap();
    let run = run_strata(p.path(), &["apply", "ci.plan"], &env);
    assert_code(&run, 1);
    assert!(
        run.stderr
            .contains("does not match a plan of the same stack, params and state")
            && run
                .stderr
                .contains("`keep` is to be destroyed in the file, unchanged now"),
        "{}",
        run.stderr
    );

    // The update pointed at the other queue.
    let mut edited = original.clone();
    let (keep, more) = (index(&edited, "keep"), index(&edited, "more"));
    let other = edited["plan"]["changes"][keep]["id"].clone();
    edited["plan"]["changes"][more]["id"] = other;
    std::fs::write(&path, serde_json::to_vec(&edited).unwrap()).unwrap();
    let run = run_strata(p.path(), &["apply", "ci.plan"], &env);
    assert_code(&run, 1);
    assert!(run.stderr.contains("`more`"), "{}", run.stderr);

    assert_eq!(
        std::fs::read(p.path().join(".strata/edited.state.json")).unwrap(),
        state_before,
        "the state is untouched"
    );
    // The file as strata wrote it still applies.
    std::fs::write(&path, serde_json::to_vec(&original).unwrap()).unwrap();
    assert_code(&run_strata(p.path(), &["apply", "ci.plan"], &env), 0);
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);
}

/// A plan saved before an apply was interrupted (its create left unrecorded in the journal) is
/// stale: `apply FILE` refuses it before any cloud call, instead of settling the create first.
/// AWS is out of reach here, so any call would fail with a connection error instead.
#[test]
fn a_saved_plan_is_refused_before_any_cloud_call_when_an_interrupted_create_is_unsettled() {
    let p = Project::new(
        "stack: unsettled\nregion: us-east-1\nresources:\n  jobs:\n    type: aws.sqs.queue\n    properties: { visibility_timeout_seconds: 40 }\n",
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    p.write_stack(
        "stack: unsettled\nregion: us-east-1\nresources:\n  jobs:\n    type: aws.sqs.queue\n    properties: { visibility_timeout_seconds: 50 }\n",
    );
    assert_code(&p.strata(&["plan", "--out", "ci.plan"]), 0);

    // An apply of another change was killed after it announced a create: the journal holds
    // the intent, unsettled.
    let dir = p.path().join(".strata");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("unsettled.state.json")).unwrap())
            .unwrap();
    let journal = [
        serde_json::json!({
            "op": "begin", "stack": "unsettled",
            "lineage": state["lineage"], "serial": state["serial"],
        }),
        serde_json::json!({
            "op": "intent", "id": "7d1c3f5e-0000-4000-8000-000000000001", "address": "extra",
            "type": "aws.sqs.queue", "properties": { "name": "unsettled-extra" },
            "started_at": "2026-12-07T10:00:00Z",
        }),
    ]
    .iter()
    .map(|r| format!("{r}\n"))
    .collect::<String>();
    std::fs::write(dir.join("unsettled.journal"), journal).unwrap();

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut env = p.emu.aws_env();
    env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    env.push((
        "AWS_ENDPOINT_URL".into(),
        format!("http://127.0.0.1:{port}"),
    ));
    let run = run_strata(p.path(), &["apply", "ci.plan"], &env);
    assert_code(&run, 1);
    assert!(
        run.stderr
            .contains("is stale: an interrupted run left 1 create(s) unrecorded")
            && run.stderr.contains("run `strata plan --out"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.to_lowercase().contains("connect"),
        "a cloud call was made: {}",
        run.stderr
    );
}
