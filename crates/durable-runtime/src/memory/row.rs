//! One stored execution of [`MemoryPersistence`](super::MemoryPersistence):
//! the parts as JSON text, the index fields, the version and the lease.

use std::collections::{BTreeMap, HashMap};

use durable_core::model::{Event, Operation, Timestamp};
use durable_core::service::{ExecutionIdentity, ExecutionRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::delta::{Creation, Delta, ExecutionSummary, Page, StoredExecution};
use crate::error::PersistenceError;

/// Who runs an execution, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Lease {
    pub(super) owner: String,
    pub(super) until: Timestamp,
}

#[derive(Debug)]
pub(super) struct Row {
    /// Creation order.
    pub(super) seq: u64,
    pub(super) version: u64,
    identity: String,
    pub(super) header: String,
    /// Position -> operation JSON.
    pub(super) operations: BTreeMap<u64, String>,
    /// Operation id -> position.
    positions: HashMap<String, u64>,
    /// Event JSON; event id `n` at index `n - 1`.
    events: Vec<String>,
    pub(super) summary: ExecutionSummary,
    pub(super) due_at: Option<Timestamp>,
    pub(super) lease: Option<Lease>,
}

impl Row {
    /// The row of a new execution, at version 1.
    pub(super) fn create(seq: u64, creation: &Creation) -> Result<Self, PersistenceError> {
        let summary = creation.summary();
        let arn = creation.identity.arn.clone();
        let mut row = Self {
            seq,
            version: 0,
            identity: to_json(&arn, &creation.identity)?,
            header: String::new(),
            operations: BTreeMap::new(),
            positions: HashMap::new(),
            events: Vec::new(),
            summary,
            due_at: None,
            lease: None,
        };
        row.apply(&arn, &creation.delta)?;
        Ok(row)
    }

    /// Checks that `delta` fits, then applies all of it; the new version.
    pub(super) fn apply(&mut self, arn: &str, delta: &Delta) -> Result<u64, PersistenceError> {
        self.check(arn, delta)?;
        // Serialize everything before changing anything.
        let header = to_json(arn, &delta.header)?;
        let operations = delta
            .operations
            .iter()
            .map(|changed| {
                let json = to_json(arn, &changed.operation)?;
                Ok((changed.position, changed.operation.id.clone(), json))
            })
            .collect::<Result<Vec<_>, PersistenceError>>()?;
        let events = delta
            .events
            .iter()
            .map(|event| to_json(arn, event))
            .collect::<Result<Vec<_>, _>>()?;
        self.header = header;
        for (position, id, json) in operations {
            self.positions.insert(id, position);
            self.operations.insert(position, json);
        }
        self.events.extend(events);
        self.summary.status = delta.status;
        self.summary.end_timestamp = delta.end_timestamp;
        self.due_at = delta.due_at;
        self.version += 1;
        Ok(self.version)
    }

    /// Whether `delta` continues this row: events follow the stored ones,
    /// operations keep their positions.
    fn check(&self, arn: &str, delta: &Delta) -> Result<(), PersistenceError> {
        let invalid = |message: String| PersistenceError::InvalidDelta {
            arn: arn.to_owned(),
            message,
        };
        let stored = self.events.len() as u64;
        for (expected, event) in (stored + 1..).zip(&delta.events) {
            if event.event_id != expected {
                return Err(invalid(format!(
                    "event id {} does not continue the history (expected {expected})",
                    event.event_id
                )));
            }
        }
        let total = stored + delta.events.len() as u64;
        if delta.header.history_len() != total {
            return Err(invalid(format!(
                "the header counts {} events, the history would have {total}",
                delta.header.history_len()
            )));
        }
        let mut taken: HashMap<u64, &str> = HashMap::new();
        for changed in &delta.operations {
            let id = changed.operation.id.as_str();
            let position = changed.position;
            match self.positions.get(id) {
                Some(&stored) if stored != position => {
                    return Err(invalid(format!(
                        "operation {id:?} is at position {stored}, not {position}"
                    )));
                }
                None if self.operations.contains_key(&position) => {
                    return Err(invalid(format!(
                        "position {position} of new operation {id:?} is taken"
                    )));
                }
                _ => {}
            }
            if let Some(other) = taken.insert(position, id).filter(|other| *other != id) {
                return Err(invalid(format!(
                    "operations {other:?} and {id:?} both claim position {position}"
                )));
            }
        }
        Ok(())
    }

    /// Whether a claim at `now` may take this row.
    pub(super) fn is_claimable(&self, now: Timestamp) -> bool {
        self.due_at.is_some_and(|due| due <= now)
            && self.lease.as_ref().is_none_or(|lease| lease.until <= now)
    }

    /// The record and version, parsed back.
    pub(super) fn load(&self, arn: &str) -> Result<StoredExecution, PersistenceError> {
        let identity: ExecutionIdentity = from_json(arn, "the identity", &self.identity)?;
        if identity.arn != arn {
            return Err(corrupt(
                arn,
                format!("the identity names another execution, {}", identity.arn),
            ));
        }
        let header = from_json(arn, "the header", &self.header)?;
        let operations = self
            .operations
            .iter()
            .map(|(position, json)| {
                from_json::<Operation>(arn, &format!("the operation at position {position}"), json)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let record = ExecutionRecord::from_parts(identity, header, operations)
            .map_err(|error| corrupt(arn, error.message))?;
        Ok(StoredExecution {
            record,
            version: self.version,
        })
    }

    /// Up to `limit` events after event id `after`.
    pub(super) fn history_page(
        &self,
        arn: &str,
        after: u64,
        limit: usize,
    ) -> Result<Page<Event>, PersistenceError> {
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(self.events.len());
        let end = start.saturating_add(limit).min(self.events.len());
        let items = self.events[start..end]
            .iter()
            .zip(start + 1..)
            .map(|(json, id)| from_json(arn, &format!("event {id}"), json))
            .collect::<Result<Vec<Event>, _>>()?;
        let next_marker = (end < self.events.len()).then(|| end.to_string());
        Ok(Page { items, next_marker })
    }
}

fn corrupt(arn: &str, message: String) -> PersistenceError {
    PersistenceError::Corrupt {
        arn: arn.to_owned(),
        message,
    }
}

fn to_json<T: Serialize>(arn: &str, value: &T) -> Result<String, PersistenceError> {
    serde_json::to_string(value).map_err(|error| {
        PersistenceError::backend(format!("cannot serialize execution {arn}"), false, error)
    })
}

fn from_json<T: DeserializeOwned>(
    arn: &str,
    what: &str,
    json: &str,
) -> Result<T, PersistenceError> {
    serde_json::from_str(json)
        .map_err(|error| corrupt(arn, format!("{what} is unreadable: {error}")))
}
