//! [`CheckpointStore`] over the Lambda durable API (`aws-sdk-lambda`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_lambda::Client;
use durable_core::model::{ExecutionState, OperationType, OperationUpdate};
use durable_core::{CheckpointResponse, CheckpointStore, StoreError};

use crate::classify::Failure;
use crate::convert::{operations_from_aws, update_to_aws};

/// The largest payload of one operation update (other than the execution's
/// own result, which may reach the 6 MB response limit).
pub const MAX_OPERATION_PAYLOAD_BYTES: usize = 256 * 1024;

/// Page size for `GetDurableExecutionState` (the API's maximum).
const STATE_PAGE_SIZE: i32 = 1000;

/// How often a throttled call is tried before the invocation gives up.
const THROTTLE_ATTEMPTS: u32 = 4;

/// First pause after a throttled call; doubled on each further try.
const THROTTLE_BACKOFF: Duration = Duration::from_millis(100);

/// Checkpoints through `CheckpointDurableExecution` and
/// `GetDurableExecutionState`.
///
/// # Example
/// ```no_run
/// # async fn example() {
/// let config = aws_config::load_from_env().await;
/// let store = durable_lambda::LambdaStore::new(aws_sdk_lambda::Client::new(&config));
/// # let _ = store;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LambdaStore {
    client: Client,
    calls: Arc<CallCounter>,
}

/// Counts the API calls a [`LambdaStore`] made (shared by its clones).
#[derive(Debug, Default)]
pub struct CallCounter {
    checkpoints: AtomicU64,
    state_reads: AtomicU64,
}

impl CallCounter {
    /// `CheckpointDurableExecution` calls sent (retries of throttled calls included).
    pub fn checkpoints(&self) -> u64 {
        self.checkpoints.load(Ordering::SeqCst)
    }

    /// `GetDurableExecutionState` calls sent.
    pub fn state_reads(&self) -> u64 {
        self.state_reads.load(Ordering::SeqCst)
    }
}

impl LambdaStore {
    /// A store calling the API through `client`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            calls: Arc::default(),
        }
    }

    /// A store sharing `calls` with others (to count over many invocations).
    pub fn with_counter(client: Client, calls: Arc<CallCounter>) -> Self {
        Self { client, calls }
    }

    /// The calls this store (and its clones) made.
    pub fn calls(&self) -> &Arc<CallCounter> {
        &self.calls
    }
}

/// Rejects an update whose payload the service would refuse, before any
/// call: the whole batch would fail, and retrying cannot help.
fn check_payload_sizes(updates: &[OperationUpdate]) -> Result<(), StoreError> {
    for update in updates {
        if update.operation_type == OperationType::Execution {
            continue;
        }
        let size = update.payload.as_ref().map_or(0, String::len);
        if size > MAX_OPERATION_PAYLOAD_BYTES {
            return Err(StoreError::Rejected {
                message: format!(
                    "the payload of {} {} ({}) is {size} bytes, over the {MAX_OPERATION_PAYLOAD_BYTES}-byte \
                     limit of one operation; return a smaller value or store it elsewhere and return a reference",
                    update.operation_type,
                    update.id,
                    update.name.as_deref().unwrap_or("unnamed"),
                ),
            });
        }
    }
    Ok(())
}

#[async_trait]
impl CheckpointStore for LambdaStore {
    async fn checkpoint(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointResponse, StoreError> {
        check_payload_sizes(&updates)?;
        let updates = updates
            .iter()
            .map(update_to_aws)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Rejected {
                message: e.to_string(),
            })?;
        let mut backoff = THROTTLE_BACKOFF;
        for attempt in 1..=THROTTLE_ATTEMPTS {
            self.calls.checkpoints.fetch_add(1, Ordering::SeqCst);
            let sent = self
                .client
                .checkpoint_durable_execution()
                .durable_execution_arn(execution_arn)
                .checkpoint_token(checkpoint_token)
                .set_updates(Some(updates.clone()))
                .send()
                .await;
            let output = match sent {
                Ok(output) => output,
                Err(error) => {
                    let error = Failure::of(&error).into_store_error(execution_arn);
                    // A throttled call changed nothing: the token is still good.
                    if matches!(error, StoreError::Throttled) && attempt < THROTTLE_ATTEMPTS {
                        tracing::debug!(
                            execution_arn,
                            attempt,
                            "checkpoint throttled; backing off"
                        );
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                        continue;
                    }
                    return Err(error);
                }
            };
            let state = output.new_execution_state();
            let operations = operations_from_aws(state.map_or(&[], |s| s.operations()))
                .map_err(|e| backend_error(&e))?;
            return Ok(CheckpointResponse {
                checkpoint_token: output.checkpoint_token().map(str::to_owned),
                new_execution_state: ExecutionState {
                    operations,
                    next_marker: state.and_then(|s| s.next_marker()).map(str::to_owned),
                },
            });
        }
        Err(StoreError::Throttled)
    }

    async fn state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, StoreError> {
        self.calls.state_reads.fetch_add(1, Ordering::SeqCst);
        let output = self
            .client
            .get_durable_execution_state()
            .durable_execution_arn(execution_arn)
            .checkpoint_token(checkpoint_token)
            .set_marker(marker.map(str::to_owned))
            .max_items(STATE_PAGE_SIZE)
            .send()
            .await
            .map_err(|e| Failure::of(&e).into_store_error(execution_arn))?;
        Ok(ExecutionState {
            operations: operations_from_aws(output.operations()).map_err(|e| backend_error(&e))?,
            next_marker: output.next_marker().map(str::to_owned),
        })
    }
}

fn backend_error(error: &dyn std::error::Error) -> StoreError {
    StoreError::Backend {
        message: error.to_string(),
        retryable: false,
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use durable_core::model::OperationAction;

    use super::*;

    #[test]
    fn payloads_over_the_limit_are_rejected_except_the_execution_result() {
        let mut step = OperationUpdate::new("s1", OperationType::Step, OperationAction::Succeed);
        step.payload = Some("x".repeat(MAX_OPERATION_PAYLOAD_BYTES));
        assert!(check_payload_sizes(std::slice::from_ref(&step)).is_ok());
        step.payload = Some("x".repeat(MAX_OPERATION_PAYLOAD_BYTES + 1));
        let error = check_payload_sizes(&[step]).unwrap_err();
        assert!(!error.is_retryable());
        assert!(
            error.to_string().contains("limit of one operation"),
            "{error}"
        );

        let mut result =
            OperationUpdate::new("e", OperationType::Execution, OperationAction::Succeed);
        result.payload = Some("x".repeat(2 * MAX_OPERATION_PAYLOAD_BYTES));
        assert!(check_payload_sizes(&[result]).is_ok());
    }
}
