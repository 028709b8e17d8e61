//! Shows that recording costs one journal record per operation, whatever the size of the stack.
//!
//! Records N creates (an intent, then the put that resolves it), each synced before the next, as
//! an apply of N resources would, then compacts. Prints the time and the bytes written, and the
//! time per operation early and late in the run: if recording rewrote the state file, late
//! operations would cost N times more than early ones.
//!
//! `cargo run --release -p state --example record_many -- [N] [DIR]`
//! (N defaults to 5000; DIR to a temporary directory. fsync cost depends on the disk under DIR.)

use std::time::{Duration, Instant};

use stacks::{Map, Value};
use state::{Backend, Intent, LocalBackend, ResourceState};

/// How many resources to record when no N is given.
const DEFAULT_COUNT: usize = 5000;
/// How many operations at each end of the run to time separately.
const WINDOW: usize = 500;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = match args.next() {
        Some(n) => n.parse()?,
        None => DEFAULT_COUNT,
    };
    let tmp = match args.next() {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let backend = LocalBackend::new(tmp.path().join(".strata"), "many");
    let lock = backend.lock("apply", Duration::ZERO)?;
    let mut recorder = backend.recorder(&lock, backend.load()?)?;

    let started = Instant::now();
    let mut window_start = started;
    let mut first_window = Duration::ZERO;
    for i in 0..count {
        if i == count.saturating_sub(WINDOW) {
            window_start = Instant::now();
        }
        let name = format!("queue-{i:05}");
        let mut identity = Map::new();
        identity.insert("name".into(), Value::str(&name));
        let intent = Intent::new(&format!("queue.{name}"), "aws.sqs.queue", identity.clone());
        let intent_id = intent.id.clone();
        recorder.intent(intent)?;
        recorder.put(
            &format!("queue.{name}"),
            queue(&name, identity),
            Some(&intent_id),
        )?;
        if i + 1 == WINDOW.min(count) {
            first_window = started.elapsed();
        }
    }
    let last_window = window_start.elapsed();
    let recording = started.elapsed();
    let journal_bytes = std::fs::metadata(backend.journal_path())?.len();

    let compacting = Instant::now();
    let state = recorder.finish()?;
    let compaction = compacting.elapsed();
    let state_bytes = std::fs::metadata(backend.state_path())?.len();

    let records = 2 * count;
    let window = WINDOW.min(count);
    println!("recorded {count} creates ({records} journal records, each synced)");
    println!(
        "  recording:  {recording:.2?} ({:.1} µs per record), {journal_bytes} journal bytes",
        recording.as_secs_f64() * 1e6 / records as f64
    );
    println!(
        "  first {window} creates: {:.1} µs per record; last {window}: {:.1} µs per record",
        first_window.as_secs_f64() * 1e6 / (2 * window) as f64,
        last_window.as_secs_f64() * 1e6 / (2 * window) as f64
    );
    println!(
        "  compaction: {compaction:.2?}, state file {state_bytes} bytes, serial {}",
        state.serial
    );
    println!(
        "  bytes written: {} (rewriting the state file per operation would write about {})",
        journal_bytes + state_bytes,
        state_bytes as u128 * records as u128 / 2
    );
    Ok(())
}

/// A queue as a provider would return it.
fn queue(name: &str, properties: Map) -> ResourceState {
    let mut attributes = Map::new();
    attributes.insert(
        "arn".into(),
        Value::str(format!("arn:aws:sqs:eu-west-1:123456789012:{name}")),
    );
    ResourceState {
        type_name: "aws.sqs.queue".into(),
        id: format!("https://sqs.eu-west-1.amazonaws.com/123456789012/{name}"),
        properties,
        attributes,
        dependencies: vec![],
        create_before_destroy: false,
        tainted: false,
        sensitive: Vec::new(),
    }
}
