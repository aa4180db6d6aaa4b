//! Checkpoints and state reads of the running invocation.

use super::config::ServiceConfig;
use super::error::ServiceError;
use super::record::ExecutionRecord;
use super::validate;
use crate::model::{ExecutionState, Operation, OperationUpdate, Timestamp};
use crate::store::CheckpointResponse;

impl ExecutionRecord {
    /// Records a batch of updates from the running invocation at `now`.
    ///
    /// Timers due at `now` fire first. Then the whole batch is validated and
    /// applied atomically: on error nothing of the batch is recorded. On
    /// success the token is used up and the response carries the next one
    /// (none once an EXECUTION update has recorded the outcome) and the
    /// visible operations changed since the caller's previous call: the ones
    /// in the batch and those the service changed meanwhile.
    pub fn checkpoint(
        &mut self,
        config: &ServiceConfig,
        checkpoint_token: &str,
        updates: Vec<OperationUpdate>,
        now: Timestamp,
    ) -> Result<CheckpointResponse, ServiceError> {
        self.check_token(checkpoint_token)?;
        self.fire_due(now);
        self.check_token(checkpoint_token)?;
        validate::check_batch(self, config, &updates)?;
        for update in updates {
            self.apply(update, now);
        }
        let checkpoint_token = if self.closing.is_some() {
            self.current_token = None;
            None
        } else {
            Some(self.issue_token())
        };
        let operations = self.take_delta();
        // The delta carried every visible change: the handler has seen them.
        self.wake = false;
        Ok(CheckpointResponse {
            checkpoint_token,
            new_execution_state: ExecutionState {
                operations,
                next_marker: None,
            },
        })
    }

    /// One page of the visible operations for the running invocation, from
    /// `marker`. The token stays valid.
    pub fn state(
        &self,
        config: &ServiceConfig,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, ServiceError> {
        self.check_token(checkpoint_token)?;
        self.page(marker, config.page_size)
    }

    /// Fails unless `token` is the running invocation's current token.
    fn check_token(&self, token: &str) -> Result<(), ServiceError> {
        if self.is_terminal() || self.closing.is_some() {
            return Err(ServiceError::ExecutionEnded {
                execution_arn: self.arn.clone(),
            });
        }
        if self.current_token.as_deref() != Some(token) {
            return Err(ServiceError::StaleToken {
                execution_arn: self.arn.clone(),
            });
        }
        Ok(())
    }

    /// The visible operations changed since the last token was issued, in
    /// first-start order; forgets them.
    fn take_delta(&mut self) -> Vec<Operation> {
        let changed = std::mem::take(&mut self.changed);
        let mut positions: Vec<usize> = changed
            .iter()
            .filter_map(|id| self.operations.position(id))
            .collect();
        positions.sort_unstable();
        positions
            .into_iter()
            .filter_map(|position| self.operations.at(position))
            .filter(|operation| self.is_visible(operation))
            .cloned()
            .collect()
    }
}
