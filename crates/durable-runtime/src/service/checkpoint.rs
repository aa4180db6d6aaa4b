//! The [`CheckpointStore`] a handler writes through.

use async_trait::async_trait;
use durable_core::model::{ExecutionState, OperationUpdate};
use durable_core::{CheckpointResponse, CheckpointStore, StoreError};

use super::Service;
use crate::persistence::Persistence;

/// Checkpoints load the execution, apply the batch with
/// [`ExecutionRecord::checkpoint`](durable_core::service::ExecutionRecord::checkpoint)
/// and commit the delta, fenced by version; a conflict is retried as
/// described on [`Service`]. A stale token is
/// [`StoreError::StaleToken`]; corrupt stored data is a non-retryable
/// [`StoreError::Backend`], contention a retryable one.
#[async_trait]
impl<P: Persistence> CheckpointStore for Service<P> {
    async fn checkpoint(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointResponse, StoreError> {
        self.update(execution_arn, |record, now| {
            let response =
                record.checkpoint(&self.config, checkpoint_token, updates.clone(), now)?;
            Ok((response, true))
        })
        .await
        .map_err(StoreError::from)
    }

    async fn state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, StoreError> {
        let stored = self.load(execution_arn).await?;
        Ok(stored
            .record
            .state(&self.config, checkpoint_token, marker)?)
    }
}
