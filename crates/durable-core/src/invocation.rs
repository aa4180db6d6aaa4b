//! One invocation of a durable handler: envelope in, outcome out.

use std::sync::Arc;

use crate::error::InvocationError;
use crate::function::DurableFunction;
use crate::model::{InvocationInput, InvocationOutput};
use crate::store::CheckpointStore;

/// Runs one invocation of `function` for the execution described by `input`.
///
/// Returns the output for the service: SUCCEEDED, FAILED, or PENDING when the
/// handler suspended. An `Err` means the invocation itself failed (for
/// example, its checkpoint token went stale) and should be retried.
pub async fn run(
    function: &DurableFunction,
    input: InvocationInput,
    store: Arc<dyn CheckpointStore>,
) -> Result<InvocationOutput, InvocationError> {
    let _ = (function, input, store);
    Err(InvocationError::InvalidEnvelope("not implemented yet".into()))
}
