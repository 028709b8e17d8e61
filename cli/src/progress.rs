//! The views of a run's one event stream: a live view on a terminal, one plain line per event
//! elsewhere, and newline-delimited JSON for CI logs and tools.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use engine::{Event, EventSink, Status, Summary};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use planner::render::{render_plan, Style};
use stacks::Value;

use crate::ui;

/// How often the live view redraws elapsed times.
const TICK: Duration = Duration::from_millis(120);

/// What a person sees: the plan, one line per event (`orders: creating`, `orders: created in
/// 1.2s (id)`), the summary and the outputs.
pub struct PlainLines {
    color: bool,
}

impl PlainLines {
    pub fn new(color: bool) -> PlainLines {
        PlainLines { color }
    }
}

impl EventSink for PlainLines {
    fn event(&self, event: Event) {
        if let Some(line) = step_line(&event) {
            println!("{line}");
        } else {
            person_event(&event, self.color);
        }
    }
}

/// One JSON object per line per event: `{"type": "started", "time": ..., ...}` (see
/// `engine::events` for which events it carries).
pub struct JsonLines;

impl EventSink for JsonLines {
    fn event(&self, event: Event) {
        match event {
            Event::Refresh { .. } | Event::Outputs { .. } => {}
            Event::Interrupted => eprintln!("{INTERRUPTED}"),
            other => {
                let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(&other) else {
                    return;
                };
                let mut object = serde_json::Map::new();
                object.insert(
                    "type".into(),
                    fields.get("type").cloned().unwrap_or_default(),
                );
                object.insert(
                    "time".into(),
                    humantime::format_rfc3339_millis(std::time::SystemTime::now())
                        .to_string()
                        .into(),
                );
                object.extend(fields.into_iter().filter(|(k, _)| k != "type"));
                println!("{}", serde_json::Value::Object(object));
            }
        }
    }
}

/// What is printed when Ctrl-C arrives.
const INTERRUPTED: &str =
    "\nInterrupted: starting nothing new, waiting for running operations to finish and be recorded...";

/// The events that are not a step's, as a person reads them.
fn person_event(event: &Event, color: bool) {
    match event {
        Event::Adopted { address } => {
            eprintln!("{address}: adopted (created by an interrupted apply)")
        }
        Event::LockTakenOver {
            who,
            pid,
            operation,
            since,
        } => eprintln!(
            "Took over the lock of {who} (pid {pid}, `strata {operation}`, since {since}): \
             that process is no longer running."
        ),
        Event::Plan { plan } => print!("{}", render_plan(plan, Style { color })),
        Event::Interrupted => eprintln!("{INTERRUPTED}"),
        Event::Summary(summary) => print_summary(summary, color),
        Event::Outputs { outputs } => print_outputs(outputs),
        Event::Refresh { .. }
        | Event::Started { .. }
        | Event::Finished { .. }
        | Event::Failed { .. } => {}
    }
}

/// The end of a run: the counts, then every error (on stderr).
fn print_summary(summary: &Summary, color: bool) {
    if summary.nothing_to_do {
        return;
    }
    let verb = if summary.operation == "destroy" {
        "Destroy"
    } else {
        "Apply"
    };
    // One verdict per run: complete, failed or interrupted, with what was done.
    let counts = format!(
        "{} added, {} changed, {} destroyed.",
        summary.added, summary.changed, summary.destroyed
    );
    println!();
    let color_err = color && ui::stderr_is_terminal();
    match summary.status {
        Status::Complete => println!("{verb} complete: {counts}"),
        Status::Interrupted => {
            println!("{verb} interrupted: {counts}");
            for e in &summary.errors {
                ui::error(color_err, e, None);
            }
            eprintln!(
                "Every finished operation is recorded; run the same command again to continue."
            );
        }
        Status::Failed => {
            println!("{verb} failed: {counts}");
            for e in &summary.errors {
                ui::error(color_err, e, None);
            }
        }
    }
}

/// `Outputs:` and one `name = value` line each (sensitive ones as `(sensitive)`).
pub fn print_outputs(outputs: &BTreeMap<String, Value>) {
    if outputs.is_empty() {
        return;
    }
    println!("\nOutputs:");
    for (name, value) in outputs {
        println!("  {name} = {}", value.render());
    }
}

/// The text of a step's event as a plain line.
fn step_line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Started { address, operation } => format!("{address}: {}", operation.verb().0),
        Event::Finished {
            address,
            operation,
            elapsed,
            id,
        } => {
            let id = id
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|i| format!(" ({i})"))
                .unwrap_or_default();
            format!(
                "{address}: {} in {:.1}s{id}",
                operation.verb().1,
                elapsed.as_secs_f64()
            )
        }
        Event::Failed {
            address,
            operation,
            elapsed,
            ..
        } => format!(
            "{address}: {} failed after {:.1}s",
            operation.verb().0,
            elapsed.as_secs_f64()
        ),
        _ => return None,
    })
}

/// A spinner per running resource with its elapsed time; finished ones stay as lines.
pub struct LiveView {
    color: bool,
    multi: MultiProgress,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
}

impl LiveView {
    pub fn new(color: bool) -> LiveView {
        LiveView {
            color,
            multi: MultiProgress::new(),
            bars: Mutex::new(BTreeMap::new()),
        }
    }

    fn spinner(&self, message: String) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message);
        bar.enable_steady_tick(TICK);
        bar
    }
}

impl EventSink for LiveView {
    fn event(&self, event: Event) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        match &event {
            Event::Refresh { resources } => {
                let bar = self.spinner(format!(
                    "refreshing {resources} resource{}",
                    if *resources == 1 { "" } else { "s" }
                ));
                bars.insert(String::new(), bar);
            }
            Event::Started { address, operation } => {
                let bar = self.spinner(format!("{address}: {}", operation.verb().0));
                bars.insert(address.clone(), bar);
            }
            Event::Finished { address, .. } | Event::Failed { address, .. } => {
                let line = step_line(&event).unwrap_or_default();
                match bars.remove(address) {
                    Some(bar) => {
                        bar.set_style(
                            ProgressStyle::with_template("{msg}")
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        bar.finish_with_message(line);
                    }
                    None => {
                        let _ = self.multi.println(line);
                    }
                }
            }
            other => {
                if let Some(bar) = bars.remove("") {
                    bar.finish_and_clear();
                }
                person_event(other, self.color);
            }
        }
    }
}
