//! Apply progress: a live view on a terminal, one plain line per event elsewhere. Both
//! consume the executor's one event stream.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use planner::executor::{Event, EventSink};

/// How often the live view redraws elapsed times.
const TICK: Duration = Duration::from_millis(120);

/// One line per event: `orders: creating`, `orders: created in 1.2s (id)`.
pub struct PlainLines;

impl EventSink for PlainLines {
    fn event(&self, event: Event) {
        if let Some(line) = plain_line(&event) {
            println!("{line}");
        }
    }
}

/// One JSON object per line per event, for CI logs and tools: `{"type": "started", ...}`,
/// `finished` (with `elapsed_seconds` and `id`), `failed` (with `message`).
pub struct JsonLines;

impl EventSink for JsonLines {
    fn event(&self, event: Event) {
        let (kind, fields) = match &event {
            Event::Started { address, op } => (
                "started",
                serde_json::json!({ "address": address, "operation": op_name(*op) }),
            ),
            Event::Finished {
                address,
                op,
                elapsed,
                id,
            } => (
                "finished",
                serde_json::json!({
                    "address": address,
                    "operation": op_name(*op),
                    "elapsed_seconds": round_ms(*elapsed),
                    "id": id,
                }),
            ),
            Event::Failed {
                address,
                op,
                elapsed,
                message,
            } => (
                "failed",
                serde_json::json!({
                    "address": address,
                    "operation": op_name(*op),
                    "elapsed_seconds": round_ms(*elapsed),
                    "message": message,
                }),
            ),
        };
        json_event(kind, fields);
    }
}

/// Prints `{"type": KIND, "time": RFC 3339, ...fields}` as one line.
pub fn json_event(kind: &str, fields: serde_json::Value) {
    let mut object = serde_json::Map::new();
    object.insert("type".into(), kind.into());
    object.insert(
        "time".into(),
        humantime::format_rfc3339_millis(std::time::SystemTime::now())
            .to_string()
            .into(),
    );
    if let serde_json::Value::Object(fields) = fields {
        object.extend(fields);
    }
    println!("{}", serde_json::Value::Object(object));
}

fn op_name(op: planner::executor::Op) -> &'static str {
    match op {
        planner::executor::Op::Create => "create",
        planner::executor::Op::Update => "update",
        planner::executor::Op::Delete => "delete",
    }
}

fn round_ms(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1000.0).round() / 1000.0
}

/// The text of one event as a plain line.
pub fn plain_line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Started { address, op } => format!("{address}: {}", op.verb().0),
        Event::Finished {
            address,
            op,
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
                op.verb().1,
                elapsed.as_secs_f64()
            )
        }
        Event::Failed {
            address,
            op,
            elapsed,
            ..
        } => format!(
            "{address}: {} failed after {:.1}s",
            op.verb().0,
            elapsed.as_secs_f64()
        ),
    })
}

/// A spinner per running resource with its elapsed time; finished ones stay as lines.
pub struct LiveView {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
}

impl LiveView {
    pub fn new() -> LiveView {
        LiveView {
            multi: MultiProgress::new(),
            bars: Mutex::new(BTreeMap::new()),
        }
    }
}

impl EventSink for LiveView {
    fn event(&self, event: Event) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        match &event {
            Event::Started { address, op } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_message(format!("{address}: {}", op.verb().0));
                bar.enable_steady_tick(TICK);
                bars.insert(address.clone(), bar);
            }
            Event::Finished { address, .. } | Event::Failed { address, .. } => {
                let line = plain_line(&event).unwrap_or_default();
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
        }
    }
}
