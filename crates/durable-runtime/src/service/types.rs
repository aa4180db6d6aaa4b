//! What the management API takes and returns.

use durable_core::model::{ErrorObject, ExecutionStatus, Operation, Timestamp};
use durable_core::service::ExecutionRecord;

/// A request to start an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartExecution {
    /// The durable function to run.
    pub function_name: String,
    /// The execution's name, unique per function; a random one if `None`.
    pub name: Option<String>,
    /// The input, as JSON text.
    pub input: Option<String>,
    /// Time after which the execution times out, in seconds.
    pub execution_timeout_seconds: Option<u64>,
}

impl StartExecution {
    /// Starts `function_name` without a name, input or timeout.
    pub fn new(function_name: impl Into<String>) -> Self {
        Self {
            function_name: function_name.into(),
            name: None,
            input: None,
            execution_timeout_seconds: None,
        }
    }

    /// With this name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With this input (JSON text).
    #[must_use]
    pub fn input(mut self, input: impl Into<String>) -> Self {
        self.input = Some(input.into());
        self
    }

    /// With this execution timeout, in seconds.
    #[must_use]
    pub fn timeout_seconds(mut self, seconds: u64) -> Self {
        self.execution_timeout_seconds = Some(seconds);
        self
    }
}

/// An execution as [`Service::describe`](crate::Service::describe) shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionDescription {
    /// The execution's ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The durable function that runs it.
    pub function_name: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// Its input (JSON text).
    pub input: Option<String>,
    /// Its result (JSON text), once succeeded.
    pub result: Option<String>,
    /// Its error, once failed, stopped or timed out.
    pub error: Option<ErrorObject>,
    /// When it started.
    pub start_timestamp: Timestamp,
    /// When it ended.
    pub end_timestamp: Option<Timestamp>,
    /// Every operation, in first-start order.
    pub operations: Vec<Operation>,
    /// How many invocations have begun.
    pub invocation_count: u64,
    /// Whether an invocation is running.
    pub invocation_running: bool,
    /// How many history events there are.
    pub history_len: u64,
    /// Its earliest timer.
    pub next_wake_up: Option<Timestamp>,
    /// The stored version.
    pub version: u64,
}

impl ExecutionDescription {
    /// The description of `record` at `version`.
    pub fn from_record(record: &ExecutionRecord, version: u64) -> Self {
        Self {
            arn: record.arn().to_owned(),
            name: record.name().to_owned(),
            function_name: record.function_name().to_owned(),
            status: record.status(),
            input: record.input().map(str::to_owned),
            result: record.result().map(str::to_owned),
            error: record.error().cloned(),
            start_timestamp: record.start_timestamp(),
            end_timestamp: record.end_timestamp(),
            operations: record.operations().to_vec(),
            invocation_count: record.invocation_count(),
            invocation_running: record.active_invocation().is_some(),
            history_len: record.history_len(),
            next_wake_up: record.next_wake_up(),
            version,
        }
    }

    /// The callback id of the first callback operation named `name`.
    pub fn callback_id(&self, name: &str) -> Option<&str> {
        self.operations
            .iter()
            .filter(|op| op.name.as_deref() == Some(name))
            .find_map(|op| op.callback_details.as_ref()?.callback_id.as_deref())
    }
}

/// Where an execution stands after [`Service::fire_due`](crate::Service::fire_due).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Its status.
    pub status: ExecutionStatus,
    /// Whether it should be invoked now.
    pub needs_invocation: bool,
    /// Its earliest timer still to fire.
    pub next_wake_up: Option<Timestamp>,
}

impl Schedule {
    /// Where `record` stands.
    pub fn of(record: &ExecutionRecord) -> Self {
        Self {
            status: record.status(),
            needs_invocation: record.needs_invocation(),
            next_wake_up: record.next_wake_up(),
        }
    }
}
