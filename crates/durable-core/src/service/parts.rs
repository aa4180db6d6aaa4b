//! A record split into the parts a backend stores separately, and the
//! changes to write back after a rule ran.
//!
//! A backend that keeps one row per operation and per event does not have
//! to rewrite a whole execution on every checkpoint:
//!
//! - [`ExecutionIdentity`]: what never changes, written once at start;
//! - [`ExecutionHeader`]: the small mutable state (status, result, token,
//!   timers, pending chained invokes…), rewritten on every change — its size
//!   depends on what is active, not on how long the history is;
//! - operations, upserted by position when they change;
//! - history events, appended.
//!
//! [`ExecutionRecord::take_changes`] lists what changed since the record was
//! created, rebuilt or last asked, in O(changes);
//! [`ExecutionRecord::from_parts`] rebuilds a record from the identity, the
//! header and the operations, without the history.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::ids::execution_operation_id;
use super::oplog::OperationLog;
use super::record::{ActiveInvocation, ChainedInvokeRequest, Closing, ExecutionRecord};
use super::timers::Timer;
use crate::model::{ErrorObject, Event, ExecutionStatus, Operation, OperationType, Timestamp};

/// What never changes once an execution has started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionIdentity {
    /// The execution's ARN.
    pub arn: String,
    /// Its name (unique per function).
    pub name: String,
    /// The durable function that runs it.
    pub function_name: String,
    /// The input, as a JSON string.
    pub input: Option<String>,
    /// When it started.
    pub start_timestamp: Timestamp,
    /// Time after which it times out, in seconds.
    pub execution_timeout_seconds: Option<u64>,
}

/// The mutable state of an execution apart from its operations and history:
/// status, outcome, checkpoint token, running invocation, timers, pending
/// chained invokes and the bookkeeping of what the handler has seen.
///
/// Its size depends on what is active now, not on the length of the
/// history. Backends store it as an opaque document (its serde form); the
/// serde form is a storage format, so fields are only ever added, with
/// defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionHeader {
    pub(crate) status: ExecutionStatus,
    pub(crate) result: Option<String>,
    pub(crate) error: Option<ErrorObject>,
    pub(crate) end_timestamp: Option<Timestamp>,
    pub(crate) history_len: u64,
    pub(crate) token_sequence: u64,
    pub(crate) current_token: Option<String>,
    pub(crate) changed: BTreeSet<String>,
    pub(crate) updated_while_suspended: BTreeSet<String>,
    pub(crate) invocation: Option<ActiveInvocation>,
    pub(crate) invocation_count: u64,
    pub(crate) consecutive_failed_invocations: u32,
    pub(crate) wake: bool,
    pub(crate) retry_invocation_at: Option<Timestamp>,
    pub(crate) timers: BTreeMap<String, Timer>,
    pub(crate) chained_invokes: BTreeMap<String, ChainedInvokeRequest>,
    pub(crate) closing: Option<Closing>,
}

impl ExecutionHeader {
    /// The execution's status.
    pub fn status(&self) -> ExecutionStatus {
        self.status
    }

    /// When the execution ended.
    pub fn end_timestamp(&self) -> Option<Timestamp> {
        self.end_timestamp
    }

    /// How many events the history has.
    pub fn history_len(&self) -> u64 {
        self.history_len
    }
}

/// An operation that changed, with its place in first-start order.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedOperation {
    /// Position in first-start order, from 0. An operation keeps its
    /// position for good; new operations take the next free one.
    pub position: u64,
    /// The operation as it is now.
    pub operation: Operation,
}

/// What changed in a record since it was created, rebuilt or last asked.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordChanges {
    /// The header as it is now (always included; it replaces the stored one).
    pub header: ExecutionHeader,
    /// Operations that were added or changed, by ascending position. May
    /// list an operation a rule touched without changing it.
    pub operations: Vec<ChangedOperation>,
    /// Events appended, in event id order.
    pub events: Vec<Event>,
}

/// Stored parts that do not make up a consistent record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored execution {execution_arn} is inconsistent: {message}")]
pub struct InconsistentRecord {
    /// The execution.
    pub execution_arn: String,
    /// What is wrong.
    pub message: String,
}

impl ExecutionRecord {
    /// What never changes about this execution.
    pub fn identity(&self) -> ExecutionIdentity {
        ExecutionIdentity {
            arn: self.arn.clone(),
            name: self.name.clone(),
            function_name: self.function_name.clone(),
            input: self.input.clone(),
            start_timestamp: self.start_timestamp,
            execution_timeout_seconds: self.execution_timeout_seconds,
        }
    }

    /// The mutable state apart from operations and history.
    pub fn header(&self) -> ExecutionHeader {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            arn: _,
            name: _,
            function_name: _,
            input: _,
            start_timestamp: _,
            execution_timeout_seconds: _,
            operations: _,
            history: _,
            history_base: _,
            new_events: _,
            status,
            result,
            error,
            end_timestamp,
            token_sequence,
            current_token,
            changed,
            updated_while_suspended,
            invocation,
            invocation_count,
            consecutive_failed_invocations,
            wake,
            retry_invocation_at,
            timers,
            chained_invokes,
            closing,
        } = self;
        ExecutionHeader {
            status: *status,
            result: result.clone(),
            error: error.clone(),
            end_timestamp: *end_timestamp,
            history_len: self.history_len(),
            token_sequence: *token_sequence,
            current_token: current_token.clone(),
            changed: changed.clone(),
            updated_while_suspended: updated_while_suspended.clone(),
            invocation: invocation.clone(),
            invocation_count: *invocation_count,
            consecutive_failed_invocations: *consecutive_failed_invocations,
            wake: *wake,
            retry_invocation_at: *retry_invocation_at,
            timers: timers.clone(),
            chained_invokes: chained_invokes.clone(),
            closing: closing.clone(),
        }
    }

    /// What changed since the record was created (everything), rebuilt with
    /// [`from_parts`](Self::from_parts) (nothing) or last asked; forgets it.
    ///
    /// Costs O(changes + header), whatever the length of the history. A
    /// rule that fails changes nothing, so its changes are never listed.
    pub fn take_changes(&mut self) -> RecordChanges {
        let operations = self
            .operations
            .take_changed()
            .into_iter()
            .filter_map(|position| {
                self.operations
                    .at(position)
                    .map(|operation| ChangedOperation {
                        position: position as u64,
                        operation: operation.clone(),
                    })
            })
            .collect();
        let new = std::mem::take(&mut self.new_events.0).min(self.history.len());
        let events = self.history[self.history.len() - new..].to_vec();
        RecordChanges {
            header: self.header(),
            operations,
            events,
        }
    }

    /// Rebuilds a record from its stored parts: `operations` in position
    /// order, without the history (the header knows how many events there
    /// are, so new events get the right ids). Nothing counts as changed.
    pub fn from_parts(
        identity: ExecutionIdentity,
        header: ExecutionHeader,
        operations: Vec<Operation>,
    ) -> Result<Self, InconsistentRecord> {
        let inconsistent = |message: String| InconsistentRecord {
            execution_arn: identity.arn.clone(),
            message,
        };
        let count = operations.len();
        let operations = OperationLog::from(operations);
        if operations.len() != count {
            return Err(inconsistent(format!(
                "{} operations share an id with another",
                count - operations.len()
            )));
        }
        let execution_id = execution_operation_id(&identity.arn);
        match operations.get(execution_id) {
            Some(op) if op.operation_type == OperationType::Execution => {}
            Some(op) => {
                return Err(inconsistent(format!(
                    "operation {execution_id:?} should be the EXECUTION operation, but is a {}",
                    op.operation_type
                )));
            }
            None => {
                return Err(inconsistent(format!(
                    "the EXECUTION operation {execution_id:?} is missing"
                )));
            }
        }
        if header.history_len == 0 {
            return Err(inconsistent(
                "the history is empty (it always starts with ExecutionStarted)".into(),
            ));
        }
        let ExecutionIdentity {
            arn,
            name,
            function_name,
            input,
            start_timestamp,
            execution_timeout_seconds,
        } = identity;
        let ExecutionHeader {
            status,
            result,
            error,
            end_timestamp,
            history_len,
            token_sequence,
            current_token,
            changed,
            updated_while_suspended,
            invocation,
            invocation_count,
            consecutive_failed_invocations,
            wake,
            retry_invocation_at,
            timers,
            chained_invokes,
            closing,
        } = header;
        Ok(Self {
            arn,
            name,
            function_name,
            status,
            input,
            result,
            error,
            start_timestamp,
            end_timestamp,
            execution_timeout_seconds,
            operations,
            history: Vec::new(),
            history_base: history_len,
            new_events: NewEvents::default(),
            token_sequence,
            current_token,
            changed,
            updated_while_suspended,
            invocation,
            invocation_count,
            consecutive_failed_invocations,
            wake,
            retry_invocation_at,
            timers,
            chained_invokes,
            closing,
        })
    }
}

/// How many events were appended since the changes were last taken.
///
/// Bookkeeping, not part of the record's value: all counts compare equal.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NewEvents(pub(crate) usize);

impl PartialEq for NewEvents {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // the signature serde's skip_serializing_if wants
pub(crate) fn is_zero(value: &u64) -> bool {
    *value == 0
}
