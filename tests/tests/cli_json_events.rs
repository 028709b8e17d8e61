//! `apply --json` and `destroy --json`: newline-delimited JSON events a CI job can keep as a log
//! or feed to a tool: the plan (in the documented JSON plan format), one event as each
//! operation starts and finishes, and a summary with the outputs.

use serde_json::Value as Json;
use strata_tests::{assert_code, Project, Run};

const STACK: &str = r#"stack: events
params:
  visibility: { type: number, default: 30 }
resources:
  jobs:
    type: aws.sqs.queue
    properties: { visibility_timeout_seconds: "${params.visibility}" }
  alerts:
    type: aws.sns.topic
outputs:
  jobs_url: ${jobs.url}
"#;

/// Every stdout line as JSON; panics on a line that is not.
fn events(run: &Run) -> Vec<Json> {
    run.stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", run.stdout))
        })
        .collect()
}

fn of_type<'a>(events: &'a [Json], kind: &str) -> Vec<&'a Json> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[test]
fn apply_and_destroy_report_every_step_as_one_json_object_per_line() {
    let p = Project::new(STACK);

    let run = p.strata(&["apply", "--json"]);
    assert_code(&run, 1);
    assert!(
        run.stderr
            .contains("`apply --json` cannot ask for approval"),
        "{}",
        run.stderr
    );

    let run = p.strata(&["apply", "--json", "--auto-approve"]);
    assert_code(&run, 0);
    let all = events(&run);
    assert_eq!(all[0]["type"], "plan");
    assert_eq!(all[0]["plan"]["summary"]["add"], 2, "{:#}", all[0]);
    let started: Vec<&str> = of_type(&all, "started")
        .iter()
        .map(|e| e["address"].as_str().unwrap())
        .collect();
    let finished = of_type(&all, "finished");
    assert_eq!(started.len(), 2);
    assert_eq!(finished.len(), 2);
    for e in &finished {
        assert_eq!(e["operation"], "create");
        assert!(e["elapsed_seconds"].as_f64().unwrap() >= 0.0);
        assert!(e["id"].as_str().is_some_and(|id| !id.is_empty()), "{e}");
        assert!(e["time"].as_str().unwrap().ends_with('Z'), "{e}");
    }
    let summary = all.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["status"], "complete");
    assert_eq!(summary["added"], 2);
    assert!(summary["outputs"]["jobs_url"]
        .as_str()
        .unwrap()
        .ends_with("/events-jobs"));

    // A saved plan, applied with --json: one update.
    let run = p.strata(&["plan", "--var", "visibility=90", "--out", "more.plan"]);
    assert_code(&run, 0);
    let run = p.strata(&["apply", "more.plan", "--var", "visibility=90", "--json"]);
    assert_code(&run, 0);
    let all = events(&run);
    assert_eq!(of_type(&all, "finished")[0]["operation"], "update");
    let summary = all.last().unwrap();
    assert_eq!(
        (summary["changed"].as_u64(), summary["added"].as_u64()),
        (Some(1), Some(0))
    );

    // Nothing to do: still a summary.
    let run = p.strata(&[
        "apply",
        "--var",
        "visibility=90",
        "--json",
        "--auto-approve",
    ]);
    assert_code(&run, 0);
    let all = events(&run);
    assert_eq!(all.len(), 2, "{}", run.stdout);
    assert_eq!(all[1]["status"], "complete");

    let run = p.strata(&[
        "destroy",
        "--var",
        "visibility=90",
        "--json",
        "--auto-approve",
    ]);
    assert_code(&run, 0);
    let all = events(&run);
    assert_eq!(of_type(&all, "finished").len(), 2);
    assert_eq!(all.last().unwrap()["destroyed"], 2);
    assert_eq!(all.last().unwrap()["outputs"], serde_json::json!({}));
}
