//! What a worker needs beyond the management API: child executions of
//! chained invokes and invocations fenced by their request id.

use durable_core::model::{ErrorObject, ExecutionStatus};
use durable_core::service::{
    ChainedInvokeRequest, ExecutionRecord, InvocationOutcome, NewExecution, ServiceError,
};

use super::Service;
use crate::delta::{Created, Creation, StoredExecution};
use crate::error::RuntimeError;
use crate::persistence::Persistence;

impl<P: Persistence> Service<P> {
    /// Creates the child execution a chained invoke asked for, with the ARN
    /// and name the parent's record gave it. Idempotent: creating it again
    /// returns the existing one with `created: false`.
    pub async fn start_chained(
        &self,
        request: &ChainedInvokeRequest,
    ) -> Result<Created, RuntimeError> {
        let now = self.clock.now();
        let mut record = ExecutionRecord::create(
            NewExecution {
                arn: request.execution_arn.clone(),
                name: request.execution_name.clone(),
                function_name: request.function_name.clone(),
                input: request.payload.clone(),
                execution_timeout_seconds: None,
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
            operation_id = request.operation_id,
            "child execution of a chained invoke started"
        );
        Ok(created)
    }

    /// Like [`complete_invocation`](Self::complete_invocation), but only if
    /// the running invocation is the one begun with `request_id`: a worker
    /// that lost its execution to another cannot end the other's
    /// invocation ([`RuntimeError::StaleToken`]).
    pub async fn complete_invocation_of(
        &self,
        arn: &str,
        request_id: &str,
        outcome: InvocationOutcome,
    ) -> Result<ExecutionStatus, RuntimeError> {
        self.update(arn, |record, now| {
            let ours = record
                .active_invocation()
                .is_some_and(|invocation| invocation.request_id == request_id);
            if !ours {
                return Err(ServiceError::StaleToken {
                    execution_arn: arn.to_owned(),
                });
            }
            record.complete_invocation(&self.config, outcome.clone(), now)?;
            Ok((record.status(), true))
        })
        .await
    }

    /// Ends the running invocation `request_id` of `arn`, which nobody runs
    /// any more, as a crash (`error`). `false` if it is no longer running.
    pub async fn abandon_invocation(
        &self,
        arn: &str,
        request_id: &str,
        error: ErrorObject,
    ) -> Result<bool, RuntimeError> {
        match self
            .complete_invocation_of(arn, request_id, InvocationOutcome::Failed(error))
            .await
        {
            Ok(_) => Ok(true),
            Err(RuntimeError::StaleToken { .. } | RuntimeError::Refused(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The stored execution `arn`, or [`RuntimeError::ExecutionNotFound`].
    pub async fn load_execution(&self, arn: &str) -> Result<StoredExecution, RuntimeError> {
        self.load(arn).await
    }
}
