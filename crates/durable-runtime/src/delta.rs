//! What the service hands a backend and what it gets back.

use durable_core::model::{Event, ExecutionStatus, Timestamp};
use durable_core::service::{
    ChangedOperation, ExecutionHeader, ExecutionIdentity, ExecutionRecord,
};

/// Everything one transition of an execution changed: one fenced write.
///
/// Made by [`Delta::capture`] after a rule ran, in O(changes): the header
/// replaces the stored one, the index fields (`status`, `end_timestamp`,
/// `due_at`) replace the stored columns, operations are upserted, events
/// appended. Lease fields are not part of a delta: commits never touch them.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    /// The execution's mutable state apart from operations and history; an
    /// opaque document for the backend (store its serde form).
    pub header: ExecutionHeader,
    /// The execution's status, for listing.
    pub status: ExecutionStatus,
    /// When the execution ended, for listing.
    pub end_timestamp: Option<Timestamp>,
    /// When a worker should next look at the execution (see [`due_at`]);
    /// `None` when only something from outside can move it on.
    pub due_at: Option<Timestamp>,
    /// Operations added or changed, by ascending position; upsert each by
    /// id at its position.
    pub operations: Vec<ChangedOperation>,
    /// Events to append, with the ids they carry; they continue the stored
    /// history.
    pub events: Vec<Event>,
}

impl Delta {
    /// The changes `record` went through since it was loaded (or created,
    /// or last captured), at `now`. Forgets them on the record.
    pub fn capture(record: &mut ExecutionRecord, now: Timestamp) -> Self {
        let changes = record.take_changes();
        Self {
            status: record.status(),
            end_timestamp: record.end_timestamp(),
            due_at: due_at(record, now),
            header: changes.header,
            operations: changes.operations,
            events: changes.events,
        }
    }

    /// The callback ids of the upserted operations: after the commit,
    /// [`find_by_callback_id`](crate::Persistence::find_by_callback_id)
    /// finds the execution by each of them.
    pub fn callback_ids(&self) -> impl Iterator<Item = &str> {
        self.operations.iter().filter_map(|changed| {
            changed
                .operation
                .callback_details
                .as_ref()?
                .callback_id
                .as_deref()
        })
    }
}

/// When a worker should next look at `record`, seen at `now`.
///
/// - ended: never (`None`);
/// - an invocation is running: since it began — whoever runs it holds a
///   lease, so it is claimed again only once that lease has expired, which
///   means the invocation was lost;
/// - the handler has something new to see (its start, a fired timer, a
///   completed callback, a failed invocation to try again): `now`;
/// - otherwise its earliest timer (a wait, a retry, a callback or execution
///   timeout), or `None` if it waits only for outside action.
pub fn due_at(record: &ExecutionRecord, now: Timestamp) -> Option<Timestamp> {
    if record.is_terminal() {
        return None;
    }
    if let Some(invocation) = record.active_invocation() {
        return Some(invocation.start_timestamp);
    }
    if record.needs_invocation() {
        return Some(now);
    }
    record.next_wake_up()
}

/// A new execution: what never changes, and its first delta (its
/// EXECUTION operation and `ExecutionStarted` event).
#[derive(Debug, Clone, PartialEq)]
pub struct Creation {
    /// The execution's ARN, name, function, input and start.
    pub identity: ExecutionIdentity,
    /// Its initial state.
    pub delta: Delta,
}

impl Creation {
    /// The creation of the freshly made `record`, at `now`.
    pub fn capture(record: &mut ExecutionRecord, now: Timestamp) -> Self {
        Self {
            identity: record.identity(),
            delta: Delta::capture(record, now),
        }
    }

    /// The summary the execution is listed with.
    pub fn summary(&self) -> ExecutionSummary {
        ExecutionSummary {
            arn: self.identity.arn.clone(),
            name: self.identity.name.clone(),
            function_name: self.identity.function_name.clone(),
            status: self.delta.status,
            start_timestamp: self.identity.start_timestamp,
            end_timestamp: self.delta.end_timestamp,
        }
    }
}

/// What [`create_execution`](crate::Persistence::create_execution) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The ARN of the execution with that function and name: the new one,
    /// or the one that already existed.
    pub arn: String,
    /// Whether it was created now.
    pub created: bool,
}

/// An execution as loaded: its record (operations, no history) and version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExecution {
    /// The record, rebuilt with [`ExecutionRecord::from_parts`].
    pub record: ExecutionRecord,
    /// The version to pass to [`commit`](crate::Persistence::commit).
    pub version: u64,
}

/// One execution in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionSummary {
    /// The execution's ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The durable function that runs it.
    pub function_name: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_timestamp: Timestamp,
    /// When it ended.
    pub end_timestamp: Option<Timestamp>,
}

/// Which executions a listing includes. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only executions of this function.
    pub function_name: Option<String>,
    /// Only executions with this name.
    pub name: Option<String>,
    /// Only executions with this status.
    pub status: Option<ExecutionStatus>,
}

impl ListFilter {
    /// Whether `summary` passes the filter.
    pub fn matches(&self, summary: &ExecutionSummary) -> bool {
        self.function_name
            .as_ref()
            .is_none_or(|f| *f == summary.function_name)
            && self.name.as_ref().is_none_or(|n| *n == summary.name)
            && self.status.is_none_or(|s| s == summary.status)
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_marker: Option<String>,
}
