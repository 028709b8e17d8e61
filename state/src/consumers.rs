//! Stack references (SPEC §11), the state side: another stack's outputs read from its backend
//! without its lock, and the record a consuming stack leaves beside the producer's state.
//!
//! The record is one small file per consumer, `<stack>.consumers/<consumer>.json` in a local
//! state directory or `KEY.consumers/<consumer>.json` in S3, beside the producer's state the
//! way its lock and backup are: each consumer writes only its own, so two consumers never
//! race, and the producer never needs to lock anything to read them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::StateError;
use crate::model::now_rfc3339;

/// What one consuming stack read from a producer's outputs, as its record holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerRecord {
    /// The consuming stack's name.
    pub consumer: String,
    /// The producer's outputs it reads, sorted.
    pub outputs: Vec<String>,
    /// When the record last changed, RFC 3339.
    pub recorded_at: String,
}

impl ConsumerRecord {
    /// A record of `consumer` reading `outputs` (sorted, each once), made now.
    pub fn new(consumer: &str, outputs: &[String]) -> ConsumerRecord {
        let mut outputs = outputs.to_vec();
        outputs.sort();
        outputs.dedup();
        ConsumerRecord {
            consumer: consumer.to_string(),
            outputs,
            recorded_at: now_rfc3339(),
        }
    }
}

/// The file name of `consumer`'s record: its stack name, which is refused when it could name
/// another place (a stack name is `[a-z][a-z0-9-]*`; the loader checked it already).
pub(crate) fn record_name(consumer: &str) -> Result<String, StateError> {
    let valid = consumer.starts_with(|c: char| c.is_ascii_lowercase())
        && consumer
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(format!("{consumer}.json"))
    } else {
        Err(StateError::BadConsumer {
            name: consumer.to_string(),
        })
    }
}

/// The bytes of a record, pretty JSON and a final newline.
pub(crate) fn encode(record: &ConsumerRecord) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(record).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// A record's bytes; `location` names it when they are not a record.
pub(crate) fn decode(bytes: &[u8], location: &str) -> Result<ConsumerRecord, StateError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StateError::corrupt(location, format!("not a strata consumer record: {e}")))
}

/// Per output, the stacks whose records say they read it, sorted.
pub(crate) fn by_output(records: Vec<ConsumerRecord>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for record in records {
        for output in record.outputs {
            out.entry(output).or_default().push(record.consumer.clone());
        }
    }
    for consumers in out.values_mut() {
        consumers.sort();
        consumers.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consumer_name_that_could_name_another_file_is_refused() {
        assert_eq!(record_name("app").unwrap(), "app.json");
        assert_eq!(record_name("app-2").unwrap(), "app-2.json");
        for bad in ["", "../app", "app/x", ".app", "App", "2app"] {
            assert!(
                matches!(record_name(bad), Err(StateError::BadConsumer { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn consumers_are_grouped_by_output_and_sorted() {
        let records = vec![
            ConsumerRecord::new("jobs", &["vpc_id".into()]),
            ConsumerRecord::new(
                "app",
                &["vpc_id".into(), "subnet_ids".into(), "vpc_id".into()],
            ),
        ];
        assert_eq!(records[1].outputs, vec!["subnet_ids", "vpc_id"]);
        let grouped = by_output(records);
        assert_eq!(grouped["vpc_id"], vec!["app", "jobs"]);
        assert_eq!(grouped["subnet_ids"], vec!["app"]);
    }
}
