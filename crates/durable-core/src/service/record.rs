//! The service's record of one execution.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::events;
use super::ids::{self, execution_operation_id};
use super::oplog::OperationLog;
use super::parts::{NewEvents, is_zero};
use super::timers::Timer;
use crate::model::{
    ErrorObject, Event, EventDetails, EventType, ExecutionDetails, ExecutionStatus, Operation,
    OperationStatus, OperationType, Timestamp,
};

/// What a new execution is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExecution {
    /// The execution's ARN; its last `/` segment becomes the EXECUTION operation id.
    pub arn: String,
    /// The execution's name (unique per function).
    pub name: String,
    /// The durable function that runs it.
    pub function_name: String,
    /// The input, as a JSON string.
    pub input: Option<String>,
    /// Time after which the execution times out, in seconds.
    pub execution_timeout_seconds: Option<u64>,
}

/// The invocation currently running an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveInvocation {
    /// The id the runtime gave the invocation.
    pub request_id: String,
    /// When it began.
    pub start_timestamp: Timestamp,
}

/// How an execution ends, when decided before the invocation returns (an
/// EXECUTION update in a checkpoint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Closing {
    Succeeded(Option<String>),
    Failed(ErrorObject),
}

impl From<Closing> for Ending {
    fn from(closing: Closing) -> Self {
        match closing {
            Closing::Succeeded(result) => Self::Succeeded(result),
            Closing::Failed(error) => Self::Failed(error),
        }
    }
}

/// How an execution ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    Succeeded(Option<String>),
    Failed(ErrorObject),
    Stopped(Option<ErrorObject>),
    TimedOut(ErrorObject),
}

/// A chained invoke the service has to run: the `CHAINED_INVOKE` operation's
/// target and input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedInvokeRequest {
    /// The `CHAINED_INVOKE` operation's id.
    pub operation_id: String,
    /// The durable function to run.
    pub function_name: String,
    /// Tenant to run it for.
    pub tenant_id: Option<String>,
    /// Its input, as a JSON string.
    pub payload: Option<String>,
    /// The name the child execution gets (unique per parent operation).
    pub execution_name: String,
    /// The ARN the child execution gets.
    pub execution_arn: String,
}

/// Everything the service knows about one execution.
///
/// All changes go through the rules in this module: [`checkpoint`],
/// [`begin_invocation`], [`complete_invocation`], [`fire_due`], the callback
/// calls and [`stop`]. Each either applies completely or returns an error and
/// changes nothing. The record serializes with serde, so a backend can store
/// it as a document.
///
/// [`checkpoint`]: Self::checkpoint
/// [`begin_invocation`]: Self::begin_invocation
/// [`complete_invocation`]: Self::complete_invocation
/// [`fire_due`]: Self::fire_due
/// [`stop`]: Self::stop
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub(crate) arn: String,
    pub(crate) name: String,
    pub(crate) function_name: String,
    pub(crate) status: ExecutionStatus,
    pub(crate) input: Option<String>,
    pub(crate) result: Option<String>,
    pub(crate) error: Option<ErrorObject>,
    pub(crate) start_timestamp: Timestamp,
    pub(crate) end_timestamp: Option<Timestamp>,
    pub(crate) execution_timeout_seconds: Option<u64>,
    pub(crate) operations: OperationLog,
    /// The events held in memory: all of them, or for a record rebuilt with
    /// [`from_parts`](Self::from_parts) the ones appended since.
    pub(crate) history: Vec<Event>,
    /// Events that come before `history[0]` and are not held in memory.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) history_base: u64,
    /// How many events at the end of `history` were appended since the
    /// changes were last taken.
    #[serde(skip)]
    pub(crate) new_events: NewEvents,
    /// Number of checkpoint tokens issued so far.
    pub(crate) token_sequence: u64,
    /// The token the running invocation must use next.
    pub(crate) current_token: Option<String>,
    /// Operations changed since the running invocation last saw the state.
    pub(crate) changed: BTreeSet<String>,
    /// Operations changed by the service while no invocation was running.
    pub(crate) updated_while_suspended: BTreeSet<String>,
    pub(crate) invocation: Option<ActiveInvocation>,
    pub(crate) invocation_count: u64,
    pub(crate) consecutive_failed_invocations: u32,
    /// Something happened that the handler has to see.
    pub(crate) wake: bool,
    /// A failed invocation is tried again at this time.
    pub(crate) retry_invocation_at: Option<Timestamp>,
    /// Active timers by operation id.
    pub(crate) timers: BTreeMap<String, Timer>,
    /// Started chained invokes by operation id.
    pub(crate) chained_invokes: BTreeMap<String, ChainedInvokeRequest>,
    /// The outcome recorded by an EXECUTION update, applied when the invocation ends.
    pub(crate) closing: Option<Closing>,
}

impl ExecutionRecord {
    /// Records a new execution at `now`: the EXECUTION operation (STARTED,
    /// with the input) and the `ExecutionStarted` event. The execution needs
    /// its first invocation.
    pub fn start(
        arn: impl Into<String>,
        name: impl Into<String>,
        function_name: impl Into<String>,
        input: Option<String>,
        now: Timestamp,
    ) -> Self {
        Self::create(
            NewExecution {
                arn: arn.into(),
                name: name.into(),
                function_name: function_name.into(),
                input,
                execution_timeout_seconds: None,
            },
            now,
        )
    }

    /// Like [`start`](Self::start), with every option.
    pub fn create(new: NewExecution, now: Timestamp) -> Self {
        let execution_id = execution_operation_id(&new.arn).to_owned();
        let mut operation = Operation::new(
            execution_id,
            OperationType::Execution,
            OperationStatus::Started,
            now,
        );
        operation.execution_details = Some(ExecutionDetails {
            input_payload: new.input.clone(),
        });
        let mut record = Self {
            arn: new.arn,
            name: new.name,
            function_name: new.function_name,
            status: ExecutionStatus::Running,
            input: new.input,
            result: None,
            error: None,
            start_timestamp: now,
            end_timestamp: None,
            execution_timeout_seconds: new.execution_timeout_seconds.filter(|&s| s > 0),
            operations: OperationLog::default(),
            history: Vec::new(),
            history_base: 0,
            new_events: NewEvents::default(),
            token_sequence: 0,
            current_token: None,
            changed: BTreeSet::new(),
            updated_while_suspended: BTreeSet::new(),
            invocation: None,
            invocation_count: 0,
            consecutive_failed_invocations: 0,
            wake: true,
            retry_invocation_at: None,
            timers: BTreeMap::new(),
            chained_invokes: BTreeMap::new(),
            closing: None,
        };
        let details = EventDetails {
            input: Some(events::payload(record.input.clone())),
            execution_timeout: record.execution_timeout_seconds,
            ..EventDetails::default()
        };
        let event = events::for_operation(&operation, EventType::ExecutionStarted, details, now);
        record.operations.insert(operation);
        record.push_event(event);
        record
    }

    /// The execution's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The execution's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The durable function that runs it.
    pub fn function_name(&self) -> &str {
        &self.function_name
    }

    /// The execution's status.
    pub fn status(&self) -> ExecutionStatus {
        self.status
    }

    /// The input, as a JSON string.
    pub fn input(&self) -> Option<&str> {
        self.input.as_deref()
    }

    /// The result, once succeeded.
    pub fn result(&self) -> Option<&str> {
        self.result.as_deref()
    }

    /// The error, once failed, stopped or timed out.
    pub fn error(&self) -> Option<&ErrorObject> {
        self.error.as_ref()
    }

    /// When the execution started.
    pub fn start_timestamp(&self) -> Timestamp {
        self.start_timestamp
    }

    /// When it ended.
    pub fn end_timestamp(&self) -> Option<Timestamp> {
        self.end_timestamp
    }

    /// The EXECUTION operation's id.
    pub fn execution_operation_id(&self) -> &str {
        execution_operation_id(&self.arn)
    }

    /// Every operation, hidden ones included, in first-start order.
    pub fn operations(&self) -> &[Operation] {
        self.operations.as_slice()
    }

    /// The operation with this id, in O(1).
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.get(id)
    }

    /// The history held in memory, with consecutive event ids.
    ///
    /// A record made by [`start`](Self::start) or [`create`](Self::create)
    /// (or deserialized whole) holds every event, from id 1. A record
    /// rebuilt with [`from_parts`](Self::from_parts) holds only the events
    /// appended since; [`history_len`](Self::history_len) counts them all.
    pub fn history(&self) -> &[Event] {
        &self.history
    }

    /// How many events the execution's history has, held in memory or not.
    pub fn history_len(&self) -> u64 {
        self.history_base + self.history.len() as u64
    }

    /// The running invocation, if any.
    pub fn active_invocation(&self) -> Option<&ActiveInvocation> {
        self.invocation.as_ref()
    }

    /// How many invocations have begun.
    pub fn invocation_count(&self) -> u64 {
        self.invocation_count
    }

    /// Whether the execution has ended.
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// Chained invokes that were started and have not ended yet.
    pub fn active_chained_invokes(&self) -> impl Iterator<Item = &ChainedInvokeRequest> {
        self.chained_invokes.values()
    }

    /// Appends `event`, giving it the next event id.
    pub(crate) fn push_event(&mut self, mut event: Event) {
        event.event_id = self.history_len() + 1;
        self.history.push(event);
        self.new_events.0 += 1;
    }

    /// Notes a change the service made on its own (timer, callback, invoke).
    pub(crate) fn note_service_change(&mut self, operation_id: &str) {
        self.changed.insert(operation_id.to_owned());
        if self.invocation.is_none() {
            self.updated_while_suspended.insert(operation_id.to_owned());
        }
        // A change the handler cannot see (inside a completed context) needs no invocation.
        if self.is_visible_id(operation_id) {
            self.wake = true;
        }
    }

    /// Ends the execution at `now` and appends the matching event.
    pub(crate) fn finish(&mut self, ending: Ending, now: Timestamp) {
        let (status, operation_status, event_type, result, error) = match ending {
            Ending::Succeeded(result) => (
                ExecutionStatus::Succeeded,
                OperationStatus::Succeeded,
                EventType::ExecutionSucceeded,
                result,
                None,
            ),
            Ending::Failed(error) => (
                ExecutionStatus::Failed,
                OperationStatus::Failed,
                EventType::ExecutionFailed,
                None,
                Some(error),
            ),
            Ending::Stopped(error) => (
                ExecutionStatus::Stopped,
                OperationStatus::Stopped,
                EventType::ExecutionStopped,
                None,
                error,
            ),
            Ending::TimedOut(error) => (
                ExecutionStatus::TimedOut,
                OperationStatus::TimedOut,
                EventType::ExecutionTimedOut,
                None,
                Some(error),
            ),
        };
        let details = if status == ExecutionStatus::Succeeded {
            EventDetails {
                result: Some(events::payload(result.clone())),
                ..EventDetails::default()
            }
        } else {
            EventDetails {
                error: error.clone().map(events::error),
                ..EventDetails::default()
            }
        };
        let execution_id = self.execution_operation_id().to_owned();
        let event = match self.operations.get_mut(&execution_id) {
            Some(operation) => {
                operation.status = operation_status;
                operation.end_timestamp = Some(now);
                events::for_operation(operation, event_type, details, now)
            }
            None => events::bare(event_type, details, now),
        };
        self.status = status;
        self.result = result;
        self.error = error;
        self.end_timestamp = Some(now);
        self.current_token = None;
        self.timers.clear();
        self.retry_invocation_at = None;
        self.closing = None;
        self.wake = false;
        self.push_event(event);
    }

    /// Issues the next single-use checkpoint token.
    pub(crate) fn issue_token(&mut self) -> String {
        self.token_sequence += 1;
        let token = ids::new_checkpoint_token(&self.arn, self.token_sequence);
        self.current_token = Some(token.clone());
        token
    }
}
