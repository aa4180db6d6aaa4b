//! Applying one validated update: the new operation state, its timers and
//! its history event.
//!
//! Everything here assumes [`validate`](super::validate) accepted the batch,
//! so it cannot fail.

use std::time::Duration;

use super::events;
use super::ids;
use super::record::{ChainedInvokeRequest, Closing, ExecutionRecord};
use super::timers::{Timer, wait_seconds};
use crate::model::{
    CallbackDetails, ChainedInvokeDetails, ContextDetails, ErrorObject, EventDetails, EventType,
    Operation, OperationAction as Action, OperationStatus as Status, OperationType as Type,
    OperationUpdate, RetryDetails, StepDetails, Timestamp, WaitDetails,
};

impl ExecutionRecord {
    /// Applies one update that the batch validation accepted.
    pub(crate) fn apply(&mut self, update: OperationUpdate, now: Timestamp) {
        if update.operation_type == Type::Execution {
            self.closing = Some(match update.action {
                Action::Fail => Closing::Failed(update.error.unwrap_or_default()),
                _ => Closing::Succeeded(update.payload),
            });
            return;
        }
        let id = update.id.clone();
        let event = match update.operation_type {
            Type::Step => Some(self.apply_step(update, now)),
            Type::Context => Some(self.apply_context(update, now)),
            Type::Wait => self.apply_wait(update, now),
            Type::Callback => Some(self.apply_callback(&update, now)),
            Type::ChainedInvoke => self.apply_chained_invoke(update, now),
            Type::Execution => None,
        };
        if let Some((event_type, details)) = event
            && let Some(operation) = self.operations.get(&id)
        {
            let event = events::for_operation(operation, event_type, details, now);
            self.push_event(event);
        }
        self.changed.insert(id);
    }

    /// The existing operation, or a new STARTED one made from the update.
    fn started(&mut self, update: &OperationUpdate, now: Timestamp) -> &mut Operation {
        self.operations.get_or_insert_with(&update.id, || {
            let mut operation = Operation::new(
                update.id.clone(),
                update.operation_type,
                Status::Started,
                now,
            );
            operation.parent_id.clone_from(&update.parent_id);
            operation.name.clone_from(&update.name);
            operation.sub_type.clone_from(&update.sub_type);
            operation
        })
    }

    fn apply_step(&mut self, update: OperationUpdate, now: Timestamp) -> (EventType, EventDetails) {
        let id = update.id.clone();
        let operation = self.started(&update, now);
        let details = operation
            .step_details
            .get_or_insert_with(StepDetails::default);
        let event = match update.action {
            Action::Start => {
                operation.status = Status::Started;
                details.next_attempt_timestamp = None;
                (EventType::StepStarted, EventDetails::default())
            }
            Action::Succeed => {
                details.attempt = details.attempt.saturating_add(1);
                details.next_attempt_timestamp = None;
                details.result.clone_from(&update.payload);
                details.error = None;
                let retry = RetryDetails {
                    current_attempt: details.attempt,
                    next_attempt_delay_seconds: None,
                };
                operation.status = Status::Succeeded;
                operation.end_timestamp = Some(now);
                let details = EventDetails {
                    retry_details: Some(retry),
                    ..events::with_result(update.payload)
                };
                (EventType::StepSucceeded, details)
            }
            Action::Fail => {
                details.attempt = details.attempt.saturating_add(1);
                details.next_attempt_timestamp = None;
                details.result = None;
                let error = update.error.unwrap_or_default();
                details.error = Some(error.clone());
                let retry = RetryDetails {
                    current_attempt: details.attempt,
                    next_attempt_delay_seconds: None,
                };
                operation.status = Status::Failed;
                operation.end_timestamp = Some(now);
                let details = EventDetails {
                    retry_details: Some(retry),
                    ..events::with_error(Some(error))
                };
                (EventType::StepFailed, details)
            }
            Action::Retry | Action::Cancel => {
                let delay = update
                    .step_options
                    .and_then(|o| o.next_attempt_delay_seconds)
                    .unwrap_or(1);
                let at = now.plus(Duration::from_secs(delay));
                details.attempt = details.attempt.saturating_add(1);
                details.next_attempt_timestamp = Some(at);
                details.result.clone_from(&update.payload);
                details.error.clone_from(&update.error);
                let retry = RetryDetails {
                    current_attempt: details.attempt,
                    next_attempt_delay_seconds: Some(delay),
                };
                operation.status = Status::Pending;
                self.timers.insert(id.clone(), Timer::StepRetry { at });
                // A retry with an error is a failed attempt; one carrying
                // state (wait_for_condition) is a successful check.
                match update.error {
                    Some(error) => (
                        EventType::StepFailed,
                        EventDetails {
                            retry_details: Some(retry),
                            ..events::with_error(Some(error))
                        },
                    ),
                    None => (
                        EventType::StepSucceeded,
                        EventDetails {
                            retry_details: Some(retry),
                            ..events::with_result(update.payload)
                        },
                    ),
                }
            }
        };
        if update.action != Action::Retry {
            self.timers.remove(&id);
        }
        event
    }

    fn apply_context(
        &mut self,
        update: OperationUpdate,
        now: Timestamp,
    ) -> (EventType, EventDetails) {
        let operation = self.started(&update, now);
        let details = operation
            .context_details
            .get_or_insert_with(ContextDetails::default);
        match update.action {
            Action::Succeed => {
                details.result.clone_from(&update.payload);
                details.replay_children = update.context_options.map(|o| o.replay_children);
                operation.status = Status::Succeeded;
                operation.end_timestamp = Some(now);
                let details = match update.payload {
                    Some(payload) => events::with_result(Some(payload)),
                    None => EventDetails::default(),
                };
                (EventType::ContextSucceeded, details)
            }
            Action::Fail => {
                let error = update.error.unwrap_or_default();
                details.error = Some(error.clone());
                operation.status = Status::Failed;
                operation.end_timestamp = Some(now);
                (EventType::ContextFailed, events::with_error(Some(error)))
            }
            _ => (EventType::ContextStarted, EventDetails::default()),
        }
    }

    fn apply_wait(
        &mut self,
        update: OperationUpdate,
        now: Timestamp,
    ) -> Option<(EventType, EventDetails)> {
        let id = update.id.clone();
        if update.action == Action::Cancel {
            self.timers.remove(&id);
            let operation = self.operations.get_mut(&id)?;
            operation.status = Status::Cancelled;
            operation.end_timestamp = Some(now);
            return Some((EventType::WaitCancelled, events::with_error(update.error)));
        }
        let seconds = update.wait_options.map_or(1, |o| o.wait_seconds);
        let at = now.plus(Duration::from_secs(seconds));
        let operation = self.started(&update, now);
        operation.wait_details = Some(WaitDetails {
            scheduled_end_timestamp: Some(at),
        });
        let duration = wait_seconds(operation.start_timestamp, Some(at));
        self.timers.insert(id, Timer::Wait { at });
        let details = EventDetails {
            duration,
            scheduled_end_timestamp: Some(at),
            ..EventDetails::default()
        };
        Some((EventType::WaitStarted, details))
    }

    fn apply_callback(
        &mut self,
        update: &OperationUpdate,
        now: Timestamp,
    ) -> (EventType, EventDetails) {
        let callback_id = ids::new_callback_id(&self.arn, &update.id);
        let options = update.callback_options.unwrap_or_default();
        let timeout = options.timeout_seconds.filter(|&s| s > 0);
        let heartbeat = options.heartbeat_timeout_seconds.filter(|&s| s > 0);
        if timeout.is_some() || heartbeat.is_some() {
            let timer = Timer::Callback {
                timeout_at: timeout.map(|s| now.plus(Duration::from_secs(s))),
                heartbeat_seconds: heartbeat,
                heartbeat_at: heartbeat.map(|s| now.plus(Duration::from_secs(s))),
            };
            self.timers.insert(update.id.clone(), timer);
        }
        let operation = self.started(update, now);
        operation.callback_details = Some(CallbackDetails {
            callback_id: Some(callback_id.clone()),
            result: None,
            error: None,
        });
        let details = EventDetails {
            callback_id: Some(callback_id),
            timeout,
            heartbeat_timeout: heartbeat,
            ..EventDetails::default()
        };
        (EventType::CallbackStarted, details)
    }

    fn apply_chained_invoke(
        &mut self,
        update: OperationUpdate,
        now: Timestamp,
    ) -> Option<(EventType, EventDetails)> {
        let id = update.id.clone();
        if update.action == Action::Cancel {
            self.chained_invokes.remove(&id);
            let operation = self.operations.get_mut(&id)?;
            operation.status = Status::Stopped;
            operation.end_timestamp = Some(now);
            let error = update.error.unwrap_or_else(|| {
                ErrorObject::new(
                    "ChainedInvoke.Cancelled",
                    "the chained invoke was cancelled",
                )
            });
            let details = operation
                .chained_invoke_details
                .get_or_insert_with(ChainedInvokeDetails::default);
            details.error = Some(error.clone());
            return Some((
                EventType::ChainedInvokeStopped,
                events::with_error(Some(error)),
            ));
        }
        let options = update.chained_invoke_options.clone().unwrap_or_default();
        let execution_name = format!("{}-{id}", self.execution_operation_id());
        let execution_arn = ids::execution_arn(
            &options.function_name,
            &execution_name,
            &ids::new_execution_id(),
        );
        let operation = self.started(&update, now);
        operation.chained_invoke_details = Some(ChainedInvokeDetails::default());
        let details = EventDetails {
            function_name: Some(options.function_name.clone()),
            input: Some(events::payload(update.payload.clone())),
            durable_execution_arn: Some(execution_arn.clone()),
            executed_version: Some(executed_version(&options.function_name).to_owned()),
            tenant_id: options.tenant_id.clone(),
            ..EventDetails::default()
        };
        self.chained_invokes.insert(
            id.clone(),
            ChainedInvokeRequest {
                operation_id: id,
                function_name: options.function_name,
                tenant_id: options.tenant_id,
                payload: update.payload,
                execution_name,
                execution_arn,
            },
        );
        Some((EventType::ChainedInvokeStarted, details))
    }
}

/// The version a chained invoke runs: the qualifier of `name:qualifier`
/// (or of a qualified function ARN), `$LATEST` otherwise.
fn executed_version(function_name: &str) -> &str {
    let parts: Vec<&str> = function_name.split(':').collect();
    let qualifier = match parts.as_slice() {
        [_, qualifier] | ["arn", _, "lambda", _, _, "function", _, qualifier] => Some(*qualifier),
        _ => None,
    };
    qualifier.filter(|q| !q.is_empty()).unwrap_or("$LATEST")
}

#[cfg(test)]
mod version_tests {
    use super::executed_version;

    #[test]
    fn qualifiers_name_the_version() {
        assert_eq!(executed_version("echo"), "$LATEST");
        assert_eq!(executed_version("echo:7"), "7");
        assert_eq!(
            executed_version("arn:aws:lambda:us-east-1:1:function:echo"),
            "$LATEST"
        );
        assert_eq!(
            executed_version("arn:aws:lambda:us-east-1:1:function:echo:prod"),
            "prod"
        );
    }
}
