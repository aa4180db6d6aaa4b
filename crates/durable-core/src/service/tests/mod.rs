//! Tests of the service rules. Shared fixtures live here; each file covers
//! one area.

mod batch;
mod callbacks;
mod changes;
mod context;
mod invocation;
mod step;
mod wait;

use std::time::Duration;

use super::*;
use crate::model::{
    ErrorObject, EventType, InvocationInput, Operation, OperationAction, OperationSubType,
    OperationType, OperationUpdate, StepOptions, Timestamp, WaitOptions,
};
use crate::store::CheckpointResponse;

/// The time every test starts at.
const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// `T0` plus `seconds`.
fn at(seconds: u64) -> Timestamp {
    T0.plus(Duration::from_secs(seconds))
}

/// An execution with a running invocation.
struct Harness {
    record: ExecutionRecord,
    config: ServiceConfig,
    token: String,
    envelope: InvocationInput,
}

impl Harness {
    fn new() -> Self {
        Self::with_config(ServiceConfig::default())
    }

    fn with_config(config: ServiceConfig) -> Self {
        let arn = execution_arn("fn", "exec", "exec-id");
        let mut record = ExecutionRecord::start(arn, "exec", "fn", Some("\"in\"".into()), T0);
        let envelope = record.begin_invocation(&config, "req-1", T0).unwrap();
        Self {
            token: envelope.checkpoint_token.clone(),
            record,
            config,
            envelope,
        }
    }

    /// Checkpoints with the current token; keeps the next one.
    fn checkpoint(
        &mut self,
        updates: Vec<OperationUpdate>,
        now: Timestamp,
    ) -> Result<CheckpointResponse, ServiceError> {
        let response = self
            .record
            .checkpoint(&self.config, &self.token, updates, now)?;
        if let Some(token) = &response.checkpoint_token {
            self.token.clone_from(token);
        }
        Ok(response)
    }

    fn ok(&mut self, updates: Vec<OperationUpdate>, now: Timestamp) -> CheckpointResponse {
        self.checkpoint(updates, now).unwrap()
    }

    /// The error message of a rejected batch.
    fn rejected(&mut self, updates: Vec<OperationUpdate>) -> String {
        match self.checkpoint(updates, T0) {
            Err(error @ ServiceError::InvalidUpdate { .. }) => error.to_string(),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    fn complete(&mut self, outcome: InvocationOutcome, now: Timestamp) {
        self.record
            .complete_invocation(&self.config, outcome, now)
            .unwrap();
    }

    fn begin(&mut self, now: Timestamp) -> InvocationInput {
        let envelope = self
            .record
            .begin_invocation(&self.config, "req-n", now)
            .unwrap();
        self.token.clone_from(&envelope.checkpoint_token);
        envelope
    }

    fn op(&self, id: &str) -> &Operation {
        self.record.operation(id).unwrap()
    }

    /// Event types after `ExecutionStarted`.
    fn event_types(&self) -> Vec<EventType> {
        self.record
            .history()
            .iter()
            .skip(1)
            .map(|e| e.event_type)
            .collect()
    }

    fn last_event(&self) -> &crate::model::Event {
        self.record.history().last().unwrap()
    }
}

fn update(id: &str, operation_type: OperationType, action: OperationAction) -> OperationUpdate {
    let mut update = OperationUpdate::new(id, operation_type, action);
    update.sub_type = Some(match operation_type {
        OperationType::Step => OperationSubType::Step,
        OperationType::Wait => OperationSubType::Wait,
        OperationType::Callback => OperationSubType::Callback,
        OperationType::ChainedInvoke => OperationSubType::ChainedInvoke,
        OperationType::Context => OperationSubType::RunInChildContext,
        OperationType::Execution => return update,
    });
    update
}

fn step(id: &str, action: OperationAction) -> OperationUpdate {
    update(id, OperationType::Step, action)
}

fn step_succeed(id: &str, payload: &str) -> OperationUpdate {
    OperationUpdate {
        payload: Some(payload.into()),
        ..step(id, OperationAction::Succeed)
    }
}

fn step_retry(id: &str, delay: u64, error: Option<ErrorObject>) -> OperationUpdate {
    OperationUpdate {
        error,
        step_options: Some(StepOptions {
            next_attempt_delay_seconds: Some(delay),
        }),
        ..step(id, OperationAction::Retry)
    }
}

fn wait_start(id: &str, seconds: u64) -> OperationUpdate {
    OperationUpdate {
        wait_options: Some(WaitOptions {
            wait_seconds: seconds,
        }),
        ..update(id, OperationType::Wait, OperationAction::Start)
    }
}

fn context(id: &str, action: OperationAction) -> OperationUpdate {
    update(id, OperationType::Context, action)
}

fn child(mut update: OperationUpdate, parent: &str) -> OperationUpdate {
    update.parent_id = Some(parent.into());
    update
}

fn boom() -> ErrorObject {
    ErrorObject::new("Boom", "it broke")
}

fn ids(response: &CheckpointResponse) -> Vec<&str> {
    response
        .new_execution_state
        .operations
        .iter()
        .map(|op| op.id.as_str())
        .collect()
}
