//! Invocations: handing the execution to a handler and recording how it ended.

use super::config::ServiceConfig;
use super::error::ServiceError;
use super::events;
use super::record::{ActiveInvocation, Ending, ExecutionRecord};
use crate::model::{
    ErrorObject, EventDetails, EventType, InvocationInput, InvocationOutput, InvocationStatus,
    OperationStatus as Status, OperationType as Type, Timestamp,
};

/// `ErrorType` of an execution whose handler returned PENDING with nothing pending.
pub const NOTHING_PENDING_ERROR: &str = "Runtime.NothingPending";
/// `ErrorType` of an execution whose result is larger than the limit.
pub const RESULT_TOO_LARGE_ERROR: &str = "Runtime.ResultTooLarge";
/// `ErrorType` of an execution whose handler returned FAILED without an error.
pub const UNKNOWN_FAILURE_ERROR: &str = "Runtime.UnknownError";

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationOutcome {
    /// The handler returned an output (SUCCEEDED, FAILED or PENDING).
    Returned(InvocationOutput),
    /// The invocation failed without an output: the process crashed, the
    /// handler panicked or returned an invocation error. The error is
    /// recorded on `InvocationCompleted` (for example with `ErrorType`
    /// `Runtime.ExitError`) and the execution is invoked again.
    Failed(ErrorObject),
}

impl ExecutionRecord {
    /// Begins an invocation at `now`: fires due timers, issues a fresh
    /// checkpoint token and returns the envelope for the handler (the first
    /// page of visible operations).
    pub fn begin_invocation(
        &mut self,
        config: &ServiceConfig,
        request_id: impl Into<String>,
        now: Timestamp,
    ) -> Result<InvocationInput, ServiceError> {
        if self.invocation.is_some() {
            return Err(ServiceError::InvocationInProgress {
                execution_arn: self.arn.clone(),
            });
        }
        self.fire_due(now);
        if self.is_terminal() {
            return Err(ServiceError::ExecutionEnded {
                execution_arn: self.arn.clone(),
            });
        }
        let initial_execution_state = self.page(None, config.page_size)?;
        self.invocation = Some(ActiveInvocation {
            request_id: request_id.into(),
            start_timestamp: now,
        });
        self.invocation_count += 1;
        self.wake = false;
        self.retry_invocation_at = None;
        self.changed.clear();
        let updated: Vec<String> = std::mem::take(&mut self.updated_while_suspended)
            .into_iter()
            .filter(|id| self.is_visible_id(id))
            .collect();
        let checkpoint_token = self.issue_token();
        Ok(InvocationInput {
            durable_execution_arn: self.arn.clone(),
            checkpoint_token,
            initial_execution_state,
            updated_operation_ids: Some(updated),
        })
    }

    /// Records the end of the running invocation at `now`.
    ///
    /// Appends `InvocationCompleted`, then ends the execution if the outcome
    /// (or an EXECUTION update checkpointed during the invocation) says so.
    /// PENDING with nothing pending fails the execution. A failed invocation
    /// is tried again after [`ServiceConfig::failed_invocation_backoff`],
    /// until [`ServiceConfig::max_consecutive_failed_invocations`] fail in a
    /// row. The invocation's token stops working.
    pub fn complete_invocation(
        &mut self,
        config: &ServiceConfig,
        outcome: InvocationOutcome,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let Some(invocation) = self.invocation.take() else {
            return Err(ServiceError::NoActiveInvocation {
                execution_arn: self.arn.clone(),
            });
        };
        self.current_token = None;
        self.changed.clear();
        let failure = match &outcome {
            InvocationOutcome::Failed(error) => Some(error.clone()),
            InvocationOutcome::Returned(_) => None,
        };
        let details = EventDetails {
            start_timestamp: Some(invocation.start_timestamp),
            end_timestamp: Some(now),
            request_id: Some(invocation.request_id),
            error: failure.map(events::error),
            ..EventDetails::default()
        };
        self.push_event(events::bare(EventType::InvocationCompleted, details, now));
        if self.is_terminal() {
            return Ok(());
        }
        if let Some(closing) = self.closing.take() {
            self.finish(closing.into(), now);
            return Ok(());
        }
        match outcome {
            InvocationOutcome::Failed(error) => self.invocation_failed(config, error, now),
            InvocationOutcome::Returned(output) => self.invocation_returned(config, output, now),
        }
        Ok(())
    }

    fn invocation_failed(&mut self, config: &ServiceConfig, error: ErrorObject, now: Timestamp) {
        self.consecutive_failed_invocations = self.consecutive_failed_invocations.saturating_add(1);
        if self.consecutive_failed_invocations >= config.max_consecutive_failed_invocations {
            let message = format!(
                "{} invocations failed in a row; the last one: {}",
                self.consecutive_failed_invocations,
                error.error_message.as_deref().unwrap_or("(no message)")
            );
            let error = ErrorObject {
                error_message: Some(message),
                ..error
            };
            self.finish(Ending::Failed(error), now);
            return;
        }
        self.wake = true;
        if !config.failed_invocation_backoff.is_zero() {
            self.retry_invocation_at = Some(now.plus(config.failed_invocation_backoff));
        }
    }

    fn invocation_returned(
        &mut self,
        config: &ServiceConfig,
        output: InvocationOutput,
        now: Timestamp,
    ) {
        self.consecutive_failed_invocations = 0;
        match output.status {
            InvocationStatus::Succeeded => {
                let size = output.result.as_ref().map_or(0, String::len);
                if size > config.max_execution_payload_bytes {
                    let error = ErrorObject::new(
                        RESULT_TOO_LARGE_ERROR,
                        format!(
                            "the result has {size} bytes, more than the limit of {} bytes",
                            config.max_execution_payload_bytes
                        ),
                    );
                    self.finish(Ending::Failed(error), now);
                } else {
                    self.finish(Ending::Succeeded(output.result), now);
                }
            }
            InvocationStatus::Failed => {
                let error = output.error.unwrap_or_else(|| {
                    ErrorObject::new(UNKNOWN_FAILURE_ERROR, "the handler failed without an error")
                });
                self.finish(Ending::Failed(error), now);
            }
            InvocationStatus::Pending => {
                let (runnable, pending) = self.pending_work();
                if runnable {
                    self.wake = true;
                }
                if !self.wake && !pending {
                    let error = ErrorObject::new(
                        NOTHING_PENDING_ERROR,
                        "the handler returned PENDING, but no wait, retry, callback or chained invoke is pending",
                    );
                    self.finish(Ending::Failed(error), now);
                }
            }
        }
    }

    /// Whether a visible step is READY (runnable now), and whether anything
    /// visible is pending (a wait, a retry, a callback, a chained invoke).
    fn pending_work(&self) -> (bool, bool) {
        let mut runnable = false;
        let mut pending = false;
        for operation in self.operations() {
            let (is_runnable, is_pending) = match (operation.operation_type, operation.status) {
                (Type::Step, Status::Ready) => (true, true),
                (Type::Step, Status::Pending)
                | (Type::Wait | Type::Callback | Type::ChainedInvoke, Status::Started) => {
                    (false, true)
                }
                _ => (false, false),
            };
            if (is_runnable || is_pending) && self.is_visible(operation) {
                runnable |= is_runnable;
                pending |= is_pending;
            }
        }
        (runnable, pending)
    }
}
