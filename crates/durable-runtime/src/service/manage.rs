//! The management API: starting executions, running invocations, callbacks,
//! stopping, reading.

use durable_core::model::{ErrorObject, Event, ExecutionStatus, InvocationInput, Timestamp};
use durable_core::service::{
    self, ChainedInvokeResult, ExecutionRecord, InvocationOutcome, NewExecution,
};
use serde::de::IgnoredAny;

use super::{ExecutionDescription, Schedule, Service, StartExecution};
use crate::delta::{Created, Creation, ExecutionSummary, ListFilter, Page};
use crate::error::RuntimeError;
use crate::persistence::Persistence;

/// Longest function or execution name accepted.
pub const MAX_NAME_CHARS: usize = 256;

impl<P: Persistence> Service<P> {
    /// Starts an execution of `function_name`, idempotently by `name`:
    /// starting a name that exists for the function returns its ARN with
    /// `created: false` and changes nothing. Without a name, a random one
    /// is used. The input, if any, must be JSON.
    pub async fn start_execution(
        &self,
        function_name: &str,
        name: Option<&str>,
        input: Option<String>,
    ) -> Result<Created, RuntimeError> {
        self.start(StartExecution {
            function_name: function_name.to_owned(),
            name: name.map(str::to_owned),
            input,
            execution_timeout_seconds: None,
        })
        .await
    }

    /// Like [`start_execution`](Self::start_execution), with every option.
    pub async fn start(&self, request: StartExecution) -> Result<Created, RuntimeError> {
        check_name("function name", &request.function_name)?;
        if let Some(name) = &request.name {
            check_name("execution name", name)?;
        }
        if let Some(input) = &request.input {
            self.check_input(input)?;
        }
        let id = service::new_execution_id();
        let name = request.name.unwrap_or_else(|| id.clone());
        let arn = service::execution_arn(&request.function_name, &name, &id);
        let now = self.clock.now();
        let mut record = ExecutionRecord::create(
            NewExecution {
                arn,
                name,
                function_name: request.function_name,
                input: request.input,
                execution_timeout_seconds: request.execution_timeout_seconds,
            },
            now,
        );
        let created = self
            .persistence
            .create_execution(Creation::capture(&mut record, now))
            .await?;
        tracing::info!(
            execution_arn = created.arn,
            created = created.created,
            "execution started"
        );
        Ok(created)
    }

    /// Begins an invocation of `arn`: fires due timers, issues a fresh
    /// checkpoint token and returns the envelope for the handler.
    pub async fn begin_invocation(
        &self,
        arn: &str,
        request_id: &str,
    ) -> Result<InvocationInput, RuntimeError> {
        self.update(arn, |record, now| {
            let envelope = record.begin_invocation(&self.config, request_id, now)?;
            Ok((envelope, true))
        })
        .await
    }

    /// Records how the running invocation of `arn` ended; returns the
    /// execution's status afterwards.
    pub async fn complete_invocation(
        &self,
        arn: &str,
        outcome: InvocationOutcome,
    ) -> Result<ExecutionStatus, RuntimeError> {
        self.update(arn, |record, now| {
            record.complete_invocation(&self.config, outcome.clone(), now)?;
            Ok((record.status(), true))
        })
        .await
    }

    /// Completes the callback `callback_id` with `result` (the raw body an
    /// external system sent).
    pub async fn callback_succeed(
        &self,
        callback_id: &str,
        result: impl Into<String>,
    ) -> Result<(), RuntimeError> {
        let result = result.into();
        self.update_callback(callback_id, |record, now| {
            record.callback_succeeded(&self.config, callback_id, result.clone(), now)
        })
        .await
    }

    /// Fails the callback `callback_id` with `error`.
    pub async fn callback_fail(
        &self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), RuntimeError> {
        self.update_callback(callback_id, |record, now| {
            record.callback_failed(callback_id, error.clone(), now)
        })
        .await
    }

    /// Records a heartbeat of the callback `callback_id`.
    pub async fn callback_heartbeat(&self, callback_id: &str) -> Result<(), RuntimeError> {
        self.update_callback(callback_id, |record, now| {
            record.callback_heartbeat(callback_id, now)
        })
        .await
    }

    /// Ends the chained invoke `operation_id` of `arn` with the outcome of
    /// the execution it started.
    pub async fn complete_chained_invoke(
        &self,
        arn: &str,
        operation_id: &str,
        result: ChainedInvokeResult,
    ) -> Result<(), RuntimeError> {
        self.update(arn, |record, now| {
            record.complete_chained_invoke(&self.config, operation_id, result.clone(), now)?;
            Ok(((), true))
        })
        .await
    }

    /// Stops `arn`, with an optional error. A running invocation can no
    /// longer checkpoint.
    pub async fn stop(&self, arn: &str, error: Option<ErrorObject>) -> Result<(), RuntimeError> {
        self.update(arn, |record, now| {
            record.stop(error.clone(), now)?;
            Ok(((), true))
        })
        .await?;
        tracing::info!(execution_arn = arn, "execution stopped");
        Ok(())
    }

    /// Fires the timers of `arn` that are due now (writing only if one
    /// fired) and says whether it should be invoked.
    pub async fn fire_due(&self, arn: &str) -> Result<Schedule, RuntimeError> {
        self.update(arn, |record, now| {
            let changed = record.fire_due(now);
            Ok((Schedule::of(record), changed))
        })
        .await
    }

    /// The state of `arn`: status, outcome and operations (the history is
    /// read with [`history`](Self::history)).
    pub async fn describe(&self, arn: &str) -> Result<ExecutionDescription, RuntimeError> {
        let stored = self.load(arn).await?;
        Ok(ExecutionDescription::from_record(
            &stored.record,
            stored.version,
        ))
    }

    /// A page of executions passing `filter`, in creation order.
    pub async fn list(
        &self,
        filter: &ListFilter,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<ExecutionSummary>, RuntimeError> {
        Ok(self.persistence.list(filter, marker, limit).await?)
    }

    /// A page of the history of `arn`, in event order.
    pub async fn history(
        &self,
        arn: &str,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<Event>, RuntimeError> {
        Ok(self.persistence.history_page(arn, marker, limit).await?)
    }

    /// Applies a callback rule to the execution the callback belongs to.
    async fn update_callback<F>(&self, callback_id: &str, mut rule: F) -> Result<(), RuntimeError>
    where
        F: FnMut(&mut ExecutionRecord, Timestamp) -> Result<(), service::ServiceError> + Send,
    {
        let unknown = || RuntimeError::UnknownCallback {
            callback_id: callback_id.to_owned(),
        };
        let arn = self
            .persistence
            .find_by_callback_id(callback_id)
            .await?
            .ok_or_else(unknown)?;
        let result = self
            .update(&arn, |record, now| rule(record, now).map(|()| ((), true)))
            .await;
        match result {
            Err(RuntimeError::ExecutionNotFound { .. }) => Err(unknown()),
            other => other,
        }
    }

    fn check_input(&self, input: &str) -> Result<(), RuntimeError> {
        let limit = self.config.max_execution_payload_bytes;
        if input.len() > limit {
            return Err(RuntimeError::InvalidRequest {
                message: format!(
                    "the input has {} bytes, more than the limit of {limit} bytes",
                    input.len()
                ),
            });
        }
        serde_json::from_str::<IgnoredAny>(input).map_err(|error| {
            RuntimeError::InvalidRequest {
                message: format!("the input is not JSON: {error}"),
            }
        })?;
        Ok(())
    }
}

/// Names go into ARNs: no `/`, no spaces or control characters.
fn check_name(what: &str, name: &str) -> Result<(), RuntimeError> {
    let length = name.chars().count();
    let bad = name
        .chars()
        .find(|c| *c == '/' || c.is_whitespace() || c.is_control());
    if length == 0 || length > MAX_NAME_CHARS || bad.is_some() {
        return Err(RuntimeError::InvalidRequest {
            message: format!(
                "{what} {name:?} must have 1 to {MAX_NAME_CHARS} characters, none of them '/', a space or a control character"
            ),
        });
    }
    Ok(())
}
