//! The invocation path shared by the [`Worker`](crate::Worker) and tests:
//! one turn of a claimed execution, and one invocation of its handler, the
//! way a Lambda runtime would run it.

mod chained;

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use durable_core::invocation::InvocationMeta;
use durable_core::model::{ErrorObject, ExecutionStatus, InvocationOutput};
use durable_core::service::{self, InvocationOutcome};
use durable_core::{CheckpointStore, DurableFunction};
use tokio::task::{JoinError, JoinHandle};
use tracing::Instrument;

use crate::error::RuntimeError;
use crate::persistence::Persistence;
use crate::service::Service;

pub use chained::ChainedInvokes;

/// `ErrorType` recorded when the handler panicked or the worker running it
/// stopped (the process would have died).
pub const PANIC_ERROR_TYPE: &str = "Runtime.ExitError";
/// `ErrorType` recorded when the invocation returned an error.
pub const INVOCATION_ERROR_TYPE: &str = "Runtime.InvocationError";
/// `ErrorType` of an execution (or chained invoke) whose function is not registered.
pub const FUNCTION_NOT_FOUND_ERROR: &str = "ResourceNotFoundException";
/// The message recorded on an invocation taken over after its worker's lease expired.
pub const LOST_INVOCATION_MESSAGE: &str = "the worker running it stopped";

/// The durable functions a worker can run, by function name.
#[derive(Debug, Clone, Default)]
pub struct Functions {
    functions: HashMap<String, DurableFunction>,
}

impl Functions {
    /// No functions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `function` runnable as `function_name` (replacing any before).
    pub fn insert(&mut self, function_name: impl Into<String>, function: DurableFunction) {
        self.functions.insert(function_name.into(), function);
    }

    /// The function registered as `function_name`.
    pub fn get(&self, function_name: &str) -> Option<&DurableFunction> {
        self.functions.get(function_name)
    }

    /// Whether `function_name` is registered.
    pub fn contains(&self, function_name: &str) -> bool {
        self.functions.contains_key(function_name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.functions.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

/// What one [`run_turn`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turn {
    /// Whether a lost invocation was ended as a crash first.
    pub took_over: bool,
    /// Whether the handler was invoked.
    pub invoked: bool,
    /// The execution's status afterwards.
    pub status: ExecutionStatus,
}

/// One turn of an execution the caller has claimed: end a lost invocation
/// (one still marked running although whoever ran it lost its lease) as a
/// crash, fire due timers, invoke the handler if it has something to do,
/// then settle chained invokes — start the children the execution asked
/// for, hand finished children's results back, and, if the execution
/// itself has ended and is a known child, wake its parent.
pub async fn run_turn<P: Persistence + 'static>(
    service: &Arc<Service<P>>,
    functions: &Functions,
    chained: &ChainedInvokes,
    arn: &str,
) -> Result<Turn, RuntimeError> {
    let stored = service.load_execution(arn).await?;
    let mut took_over = false;
    if let Some(lost) = stored.record.active_invocation() {
        tracing::warn!(
            request_id = lost.request_id,
            "taking over an invocation whose worker stopped"
        );
        took_over = service
            .abandon_invocation(
                arn,
                &lost.request_id,
                ErrorObject::new(PANIC_ERROR_TYPE, LOST_INVOCATION_MESSAGE),
            )
            .await?;
    }
    let schedule = service.fire_due(arn).await?;
    let invoked = schedule.needs_invocation;
    if invoked {
        invoke_once(service, functions, arn, &new_request_id()).await?;
    }
    chained.settle(service, functions, arn).await?;
    let record = service.load_execution(arn).await?.record;
    if record.is_terminal() {
        chained.child_ended(service, functions, arn).await?;
    }
    Ok(Turn {
        took_over,
        invoked,
        status: record.status(),
    })
}

/// Runs one invocation of `arn` with `request_id`: begins it, runs the
/// registered function through [`durable_core::invocation::run_with`] in its
/// own task and records how it ended; returns the execution's status.
///
/// A panic is a crashed invocation ([`PANIC_ERROR_TYPE`]), an invocation
/// error a failed one ([`INVOCATION_ERROR_TYPE`]); the service invokes
/// again. A function that is not registered fails the execution with
/// [`FUNCTION_NOT_FOUND_ERROR`]. Dropping the returned future aborts the
/// handler, as the end of the process would.
pub async fn invoke_once<P: Persistence + 'static>(
    service: &Arc<Service<P>>,
    functions: &Functions,
    arn: &str,
    request_id: &str,
) -> Result<ExecutionStatus, RuntimeError> {
    let function_name = service
        .load_execution(arn)
        .await?
        .record
        .function_name()
        .to_owned();
    let span = tracing::info_span!("invocation", request_id, function_name);
    async {
        let envelope = service.begin_invocation(arn, request_id).await?;
        tracing::debug!("invocation begun");
        let outcome = match functions.get(&function_name) {
            None => {
                tracing::error!("no durable function is registered under this name");
                InvocationOutcome::Returned(InvocationOutput::failed(Some(ErrorObject::new(
                    FUNCTION_NOT_FOUND_ERROR,
                    format!(
                        "no durable function is registered as {function_name:?} on this worker"
                    ),
                ))))
            }
            Some(function) => {
                let function = function.clone();
                let store: Arc<dyn CheckpointStore> = service.clone();
                let meta = InvocationMeta::with_request_id(request_id);
                let handler = tokio::spawn(
                    async move {
                        durable_core::invocation::run_with(&function, envelope, store, &meta).await
                    }
                    .in_current_span(),
                );
                let mut handler = AbortOnDrop(handler);
                match (&mut handler.0).await {
                    Ok(Ok(output)) => InvocationOutcome::Returned(output),
                    Ok(Err(error)) => InvocationOutcome::Failed(ErrorObject::new(
                        INVOCATION_ERROR_TYPE,
                        error.to_string(),
                    )),
                    Err(error) => InvocationOutcome::Failed(ErrorObject::new(
                        PANIC_ERROR_TYPE,
                        join_message(error),
                    )),
                }
            }
        };
        log_outcome(&outcome);
        let status = service
            .complete_invocation_of(arn, request_id, outcome)
            .await?;
        tracing::info!(status = status.as_str(), "invocation completed");
        Ok(status)
    }
    .instrument(span)
    .await
}

/// A fresh request id for an invocation.
pub fn new_request_id() -> String {
    service::new_execution_id()
}

fn log_outcome(outcome: &InvocationOutcome) {
    match outcome {
        InvocationOutcome::Returned(output) => {
            tracing::debug!(status = ?output.status, "handler returned");
        }
        InvocationOutcome::Failed(error) => tracing::warn!(
            error_type = error.error_type.as_deref().unwrap_or_default(),
            error_message = error.error_message.as_deref().unwrap_or_default(),
            "invocation failed"
        ),
    }
}

/// Aborts the handler's task when the invocation is dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn join_message(error: JoinError) -> String {
    if error.is_panic() {
        format!(
            "the handler panicked: {}",
            panic_message(&*error.into_panic())
        )
    } else {
        "the invocation was cancelled".to_owned()
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}
