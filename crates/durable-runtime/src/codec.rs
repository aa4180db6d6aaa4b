//! How SQL backends store values: documents as JSON text, timestamps as
//! milliseconds, counters as integers, statuses by their wire spelling —
//! shared by `durable-sqlite` and `durable-postgres` so their rows read the
//! same and report corrupt data the same way.

use crate::{Delta, PersistenceError};
use durable_core::model::{ExecutionStatus, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A [`PersistenceError::Corrupt`] of `arn`.
pub fn corrupt(arn: &str, message: impl Into<String>) -> PersistenceError {
    PersistenceError::Corrupt {
        arn: arn.to_owned(),
        message: message.into(),
    }
}

/// A [`PersistenceError::InvalidDelta`] of `arn`.
pub fn invalid_delta(arn: &str, message: impl Into<String>) -> PersistenceError {
    PersistenceError::InvalidDelta {
        arn: arn.to_owned(),
        message: message.into(),
    }
}

/// `value` as JSON text.
pub fn to_json<T: Serialize>(arn: &str, value: &T) -> Result<String, PersistenceError> {
    serde_json::to_string(value).map_err(|error| {
        PersistenceError::backend(format!("cannot serialize execution {arn}"), false, error)
    })
}

/// `json` read back; `what` names the part in the error.
pub fn from_json<T: DeserializeOwned>(
    arn: &str,
    what: &str,
    json: &str,
) -> Result<T, PersistenceError> {
    serde_json::from_str(json)
        .map_err(|error| corrupt(arn, format!("{what} is unreadable: {error}")))
}

/// A count or id as an `INTEGER`.
pub fn to_int(arn: &str, what: &str, value: u64) -> Result<i64, PersistenceError> {
    i64::try_from(value).map_err(|_| invalid_delta(arn, format!("{what} {value} is too large")))
}

/// An `INTEGER` count or id read back.
pub fn from_int(arn: &str, what: &str, value: i64) -> Result<u64, PersistenceError> {
    u64::try_from(value).map_err(|_| corrupt(arn, format!("{what} is negative: {value}")))
}

/// A timestamp as milliseconds.
pub fn millis(timestamp: Timestamp) -> i64 {
    timestamp.as_millis()
}

/// An optional timestamp as milliseconds.
pub fn opt_millis(timestamp: Option<Timestamp>) -> Option<i64> {
    timestamp.map(Timestamp::as_millis)
}

/// A status by its wire spelling.
pub fn status_text(status: ExecutionStatus) -> &'static str {
    status.as_str()
}

/// A status read back from its wire spelling.
pub fn parse_status(arn: &str, text: &str) -> Result<ExecutionStatus, PersistenceError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| corrupt(arn, format!("the status {text:?} is unknown")))
}

/// The number a page marker carries (the last item of the previous page);
/// `None` for the first page.
pub fn parse_marker(marker: Option<&str>) -> Result<Option<i64>, PersistenceError> {
    marker
        .filter(|m| !m.is_empty())
        .map(|marker| {
            marker
                .parse::<u64>()
                .ok()
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| PersistenceError::InvalidMarker {
                    marker: marker.to_owned(),
                })
        })
        .transpose()
}

/// A page size as a SQL `LIMIT` that fetches one row more than the page,
/// to learn whether another page follows. A `limit` of 0 counts as 1.
pub fn page_limit(limit: usize) -> (usize, i64) {
    let limit = limit.clamp(1, 100_000);
    (limit, i64::try_from(limit + 1).unwrap_or(i64::MAX))
}

/// A delta encoded for a SQL database, before anything is written: every
/// value serialized first, so a failure writes nothing.
pub struct EncodedDelta {
    /// The execution header, as JSON.
    pub header: String,
    /// The execution status, as stored.
    pub status: &'static str,
    /// When the execution ended, in milliseconds.
    pub end_timestamp: Option<i64>,
    /// When the execution is next due, in milliseconds.
    pub due_at: Option<i64>,
    /// (position, id, JSON), by ascending position.
    pub operations: Vec<(i64, String, String)>,
    /// (event id, JSON).
    pub events: Vec<(i64, String)>,
    /// Distinct callback ids, sorted.
    pub callbacks: Vec<String>,
    /// How many events the history has once this is written.
    pub history_len: u64,
}

impl EncodedDelta {
    /// Serializes all of `delta`, so that a failure writes nothing.
    pub fn encode(arn: &str, delta: &Delta) -> Result<Self, PersistenceError> {
        let operations = delta
            .operations
            .iter()
            .map(|changed| {
                let position = to_int(arn, "operation position", changed.position)?;
                let json = to_json(arn, &changed.operation)?;
                Ok((position, changed.operation.id.clone(), json))
            })
            .collect::<Result<Vec<_>, PersistenceError>>()?;
        let events = delta
            .events
            .iter()
            .map(|event| {
                Ok((
                    to_int(arn, "event id", event.event_id)?,
                    to_json(arn, event)?,
                ))
            })
            .collect::<Result<Vec<_>, PersistenceError>>()?;
        Ok(Self {
            header: to_json(arn, &delta.header)?,
            status: status_text(delta.status),
            end_timestamp: opt_millis(delta.end_timestamp),
            due_at: opt_millis(delta.due_at),
            operations,
            events,
            callbacks: {
                let mut ids: Vec<String> = delta.callback_ids().map(str::to_owned).collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            },
            history_len: delta.header.history_len(),
        })
    }

    /// The number of new events, as stored.
    pub fn event_count(&self, arn: &str) -> Result<i64, PersistenceError> {
        to_int(arn, "event count", self.events.len() as u64)
    }

    /// Whether the events continue a history of `stored` events and the
    /// header counts them all.
    pub fn check_events(&self, arn: &str, stored: u64) -> Result<(), PersistenceError> {
        for (expected, (id, _)) in (stored + 1..).zip(&self.events) {
            if u64::try_from(*id).ok() != Some(expected) {
                return Err(invalid_delta(
                    arn,
                    format!("event id {id} does not continue the history (expected {expected})"),
                ));
            }
        }
        let total = stored + self.events.len() as u64;
        if self.history_len != total {
            return Err(invalid_delta(
                arn,
                format!(
                    "the header counts {} events, the history would have {total}",
                    self.history_len
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_statuses_round_trip_and_bad_ones_are_clear() {
        assert_eq!(parse_marker(None).unwrap(), None);
        assert_eq!(parse_marker(Some("")).unwrap(), None);
        assert_eq!(parse_marker(Some("42")).unwrap(), Some(42));
        assert!(matches!(
            parse_marker(Some("-1")),
            Err(PersistenceError::InvalidMarker { .. })
        ));
        for status in [ExecutionStatus::Running, ExecutionStatus::TimedOut] {
            assert_eq!(parse_status("a", status_text(status)).unwrap(), status);
        }
        let error = parse_status("a", "DONE?").unwrap_err().to_string();
        assert!(error.contains("the status \"DONE?\" is unknown"), "{error}");
        assert_eq!(page_limit(0), (1, 2));
    }
}
