//! Changes from outside the handler: callback results and heartbeats,
//! chained invokes ending, and stopping an execution.

use std::time::Duration;

use super::config::ServiceConfig;
use super::error::ServiceError;
use super::events;
use super::ids;
use super::record::{Ending, ExecutionRecord};
use super::timers::Timer;
use crate::model::{
    ErrorObject, EventType, Operation, OperationStatus as Status, OperationType as Type, Timestamp,
};

/// How a chained invoke's execution ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainedInvokeResult {
    /// It succeeded with this result.
    Succeeded(Option<String>),
    /// It failed.
    Failed(ErrorObject),
    /// It timed out.
    TimedOut(ErrorObject),
    /// It was stopped.
    Stopped(ErrorObject),
}

impl ExecutionRecord {
    /// Completes the callback `callback_id` with `result` (the raw body an
    /// external system sent) at `now`. An empty body is no result: the
    /// callback succeeds without a payload.
    pub fn callback_succeeded(
        &mut self,
        config: &ServiceConfig,
        callback_id: &str,
        result: String,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        if result.len() > config.max_operation_payload_bytes {
            return Err(ServiceError::PayloadTooLarge {
                size: result.len(),
                limit: config.max_operation_payload_bytes,
            });
        }
        let id = self.active_callback(callback_id, now)?;
        let result = Some(result).filter(|r| !r.is_empty());
        self.end_callback(&id, Status::Succeeded, result, None, now);
        Ok(())
    }

    /// Fails the callback `callback_id` with `error` at `now`.
    pub fn callback_failed(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let id = self.active_callback(callback_id, now)?;
        self.end_callback(&id, Status::Failed, None, Some(error), now);
        Ok(())
    }

    /// Records a heartbeat of the callback `callback_id` at `now`: its
    /// heartbeat timeout starts again.
    pub fn callback_heartbeat(
        &mut self,
        callback_id: &str,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let id = self.active_callback(callback_id, now)?;
        if let Some(Timer::Callback {
            heartbeat_seconds: Some(seconds),
            heartbeat_at,
            ..
        }) = self.timers.get_mut(&id)
        {
            *heartbeat_at = Some(now.plus(Duration::from_secs(*seconds)));
        }
        Ok(())
    }

    /// Ends the chained invoke `operation_id` with the outcome of the
    /// execution it started.
    pub fn complete_chained_invoke(
        &mut self,
        config: &ServiceConfig,
        operation_id: &str,
        result: ChainedInvokeResult,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        if let ChainedInvokeResult::Succeeded(Some(payload)) = &result
            && payload.len() > config.max_operation_payload_bytes
        {
            return Err(ServiceError::PayloadTooLarge {
                size: payload.len(),
                limit: config.max_operation_payload_bytes,
            });
        }
        if self.is_terminal() {
            return Err(ServiceError::ExecutionEnded {
                execution_arn: self.arn.clone(),
            });
        }
        let operation = self.operation_of_type(operation_id, Type::ChainedInvoke)?;
        if operation.status != Status::Started {
            return Err(ServiceError::OperationNotActive {
                operation_id: operation_id.to_owned(),
                status: operation.status,
            });
        }
        let (status, event_type, payload, error) = match result {
            ChainedInvokeResult::Succeeded(payload) => (
                Status::Succeeded,
                EventType::ChainedInvokeSucceeded,
                payload,
                None,
            ),
            ChainedInvokeResult::Failed(error) => (
                Status::Failed,
                EventType::ChainedInvokeFailed,
                None,
                Some(error),
            ),
            ChainedInvokeResult::TimedOut(error) => (
                Status::TimedOut,
                EventType::ChainedInvokeTimedOut,
                None,
                Some(error),
            ),
            ChainedInvokeResult::Stopped(error) => (
                Status::Stopped,
                EventType::ChainedInvokeStopped,
                None,
                Some(error),
            ),
        };
        self.chained_invokes.remove(operation_id);
        let Some(operation) = self.operations.get_mut(operation_id) else {
            return Ok(());
        };
        operation.status = status;
        operation.end_timestamp = Some(now);
        let details = operation
            .chained_invoke_details
            .get_or_insert_with(Default::default);
        details.result.clone_from(&payload);
        details.error.clone_from(&error);
        let details = match error {
            Some(error) => events::with_error(Some(error)),
            None => events::with_result(payload),
        };
        let event = events::for_operation(operation, event_type, details, now);
        self.push_event(event);
        self.note_service_change(operation_id);
        Ok(())
    }

    /// Stops the execution at `now`, with an optional error. The running
    /// invocation, if any, can no longer checkpoint.
    pub fn stop(&mut self, error: Option<ErrorObject>, now: Timestamp) -> Result<(), ServiceError> {
        if self.is_terminal() {
            return Err(ServiceError::ExecutionEnded {
                execution_arn: self.arn.clone(),
            });
        }
        self.chained_invokes.clear();
        self.finish(Ending::Stopped(error), now);
        Ok(())
    }

    /// The id of the STARTED callback operation behind `callback_id`, after
    /// firing the timers due at `now` (so an expired callback is not active).
    fn active_callback(
        &mut self,
        callback_id: &str,
        now: Timestamp,
    ) -> Result<String, ServiceError> {
        let not_found = || ServiceError::CallbackNotFound {
            callback_id: callback_id.to_owned(),
        };
        let reference = ids::parse_callback_id(callback_id).ok_or_else(not_found)?;
        if reference.execution_arn != self.arn {
            return Err(not_found());
        }
        self.fire_due(now);
        let operation = self
            .operations
            .get(&reference.operation_id)
            .ok_or_else(not_found)?;
        let recorded = operation
            .callback_details
            .as_ref()
            .and_then(|d| d.callback_id.as_deref());
        if operation.operation_type != Type::Callback || recorded != Some(callback_id) {
            return Err(not_found());
        }
        if operation.status != Status::Started || self.is_terminal() {
            return Err(ServiceError::CallbackNotActive {
                callback_id: callback_id.to_owned(),
                status: operation.status,
            });
        }
        Ok(reference.operation_id)
    }

    fn end_callback(
        &mut self,
        id: &str,
        status: Status,
        result: Option<String>,
        error: Option<ErrorObject>,
        now: Timestamp,
    ) {
        self.timers.remove(id);
        let Some(operation) = self.operations.get_mut(id) else {
            return;
        };
        operation.status = status;
        operation.end_timestamp = Some(now);
        let details = operation
            .callback_details
            .get_or_insert_with(Default::default);
        details.result.clone_from(&result);
        details.error.clone_from(&error);
        let (event_type, details) = match error {
            Some(error) => (EventType::CallbackFailed, events::with_error(Some(error))),
            None => (EventType::CallbackSucceeded, events::with_result(result)),
        };
        let event = events::for_operation(operation, event_type, details, now);
        self.push_event(event);
        self.note_service_change(id);
    }

    fn operation_of_type(
        &self,
        id: &str,
        operation_type: Type,
    ) -> Result<&Operation, ServiceError> {
        self.operations
            .get(id)
            .filter(|op| op.operation_type == operation_type)
            .ok_or_else(|| ServiceError::OperationNotFound {
                execution_arn: self.arn.clone(),
                operation_id: id.to_owned(),
            })
    }
}
