//! Runs durable executions in process on a [`MemoryStore`] with a virtual
//! clock that jumps to the next timer, so a workflow with an hour-long wait
//! finishes its test in milliseconds.

mod drive;
mod error;
mod invoke;
mod snapshot;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use durable_core::DurableFunction;
use durable_core::model::ErrorObject;
use durable_core::service::ServiceConfig;

pub use error::RunnerError;
pub use invoke::{INVOCATION_ERROR_TYPE, PANIC_ERROR_TYPE};
pub use snapshot::ExecutionSnapshot;

use crate::memory::{MemoryStore, VirtualClock};
use drive::Until;

/// `ErrorType` of a chained invoke whose target function is not registered.
pub const FUNCTION_NOT_FOUND_ERROR: &str = "ResourceNotFoundException";

/// Invocations one run call makes at most before giving up.
pub const DEFAULT_MAX_INVOCATIONS: usize = 1000;

/// Runs durable executions in process.
///
/// Every invocation goes through [`durable_core::invocation::run`] in its
/// own tokio task, against the runner's [`MemoryStore`], exactly as a
/// deployed function would run. A panic or an invocation error is recorded
/// as a failed invocation and the execution is invoked again (up to the
/// service's limit of failures in a row). Chained invokes of registered
/// functions run as child executions on the same store and clock.
///
/// Cloning is cheap; clones share the store, the clock and the functions.
///
/// ```no_run
/// # async fn demo() -> Result<(), durable_testing::RunnerError> {
/// use durable_core::{DurableContext, DurableError, DurableFunction};
/// use durable_testing::LocalRunner;
///
/// let runner = LocalRunner::new();
/// runner.register("greet", DurableFunction::new(|name: String, ctx: DurableContext| async move {
///     ctx.wait(std::time::Duration::from_secs(3600)).await?;
///     Ok::<_, DurableError>(format!("Hello, {name}!"))
/// }));
/// let done = runner.run("greet", Some("\"World\"".into())).await?;
/// assert_eq!(done.result.as_deref(), Some("\"Hello, World!\""));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LocalRunner {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    store: Arc<MemoryStore>,
    clock: Arc<VirtualClock>,
    functions: RwLock<HashMap<String, DurableFunction>>,
    max_invocations: AtomicUsize,
}

impl Default for LocalRunner {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalRunner {
    /// A runner with an empty store and a virtual clock showing the current time.
    pub fn new() -> Self {
        Self::with_config(ServiceConfig::default())
    }

    /// Like [`new`](Self::new), with other service limits.
    pub fn with_config(config: ServiceConfig) -> Self {
        let clock = Arc::new(VirtualClock::starting_now());
        let store = Arc::new(MemoryStore::with_clock(clock.clone()).with_config(config));
        Self {
            inner: Arc::new(Shared {
                store,
                clock,
                functions: RwLock::default(),
                max_invocations: AtomicUsize::new(DEFAULT_MAX_INVOCATIONS),
            }),
        }
    }

    /// Makes `function` invocable as `function_name` (replacing any before).
    pub fn register(&self, function_name: impl Into<String>, function: DurableFunction) {
        let mut functions = self
            .inner
            .functions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        functions.insert(function_name.into(), function);
    }

    /// The store holding the executions.
    pub fn store(&self) -> &Arc<MemoryStore> {
        &self.inner.store
    }

    /// The virtual clock.
    pub fn clock(&self) -> &Arc<VirtualClock> {
        &self.inner.clock
    }

    /// Sets how many invocations one run call may make (default 1000).
    pub fn set_max_invocations(&self, limit: usize) {
        self.inner.max_invocations.store(limit, Ordering::Relaxed);
    }

    /// Records a new execution of `function_name` without invoking it.
    #[allow(clippy::unused_async)] // async like the calls of backends that do I/O
    pub async fn start(
        &self,
        function_name: &str,
        input: Option<String>,
    ) -> Result<String, RunnerError> {
        self.function(function_name)?;
        Ok(self.store().start_execution(function_name, None, input))
    }

    /// Like [`start`](Self::start) with an execution name; starting a name
    /// again returns the existing execution.
    #[allow(clippy::unused_async)] // async like the calls of backends that do I/O
    pub async fn start_named(
        &self,
        function_name: &str,
        name: &str,
        input: Option<String>,
    ) -> Result<String, RunnerError> {
        self.function(function_name)?;
        Ok(self
            .store()
            .start_execution(function_name, Some(name), input))
    }

    /// Starts an execution and runs it until it is idle.
    pub async fn run(
        &self,
        function_name: &str,
        input: Option<String>,
    ) -> Result<ExecutionSnapshot, RunnerError> {
        let arn = self.start(function_name, input).await?;
        self.run_until_idle(&arn).await
    }

    /// Runs the execution until it ends or waits for outside action.
    ///
    /// Invokes it whenever something is runnable. When nothing is, and no
    /// callback is awaited, moves the clock to the next wait or retry and
    /// fires what is due. Stops when the execution has ended, when it awaits
    /// a callback (time is then the caller's to move with
    /// [`advance`](Self::advance), so a callback result can arrive before a
    /// later timer), or when nothing is scheduled. Fails after the
    /// invocation limit.
    pub async fn run_until_idle(&self, arn: &str) -> Result<ExecutionSnapshot, RunnerError> {
        self.drive(arn, Until::Idle).await
    }

    /// Runs the execution as if nobody outside will ever act: like
    /// [`run_until_idle`](Self::run_until_idle), but also moves the clock
    /// past awaited callbacks to any timer, deadlines included (callback and
    /// execution timeouts). Stops when it ends or nothing is scheduled.
    pub async fn run_to_completion(&self, arn: &str) -> Result<ExecutionSnapshot, RunnerError> {
        self.drive(arn, Until::Completion).await
    }

    /// Runs the execution for `by` of virtual time: invokes it when needed
    /// and fires every timer up to the end of that time, in order, callback
    /// deadlines included. Returns early if the execution ends.
    pub async fn run_for(&self, arn: &str, by: Duration) -> Result<ExecutionSnapshot, RunnerError> {
        let until = self.clock().now().plus(by);
        self.drive(arn, Until::Time(until)).await
    }

    /// Moves the clock forward by `by`, firing the timers of every execution
    /// in time order on the way. Invokes nothing.
    #[allow(clippy::unused_async)] // async like the calls of backends that do I/O
    pub async fn advance(&self, by: Duration) -> Result<(), RunnerError> {
        let until = self.clock().now().plus(by);
        while let Some(next) = self.store().next_wake_up_any().filter(|&t| t <= until) {
            self.clock().advance_to(next);
            self.store().fire_due();
        }
        self.clock().advance_to(until);
        self.store().fire_due();
        Ok(())
    }

    /// Completes a callback with a result.
    #[allow(clippy::unused_async)] // async like the calls of backends that do I/O
    pub async fn send_callback_success(
        &self,
        callback_id: &str,
        result: &str,
    ) -> Result<(), RunnerError> {
        Ok(self.store().send_callback_success(callback_id, result)?)
    }

    /// Fails a callback.
    #[allow(clippy::unused_async)] // async like the calls of backends that do I/O
    pub async fn send_callback_failure(
        &self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), RunnerError> {
        Ok(self.store().send_callback_failure(callback_id, error)?)
    }

    /// Records a heartbeat of a callback.
    #[allow(clippy::unused_async)] // async like the calls of backends that do I/O
    pub async fn send_callback_heartbeat(&self, callback_id: &str) -> Result<(), RunnerError> {
        Ok(self.store().send_callback_heartbeat(callback_id)?)
    }

    /// Stops an execution.
    #[allow(clippy::unused_async)] // async like the calls of backends that do I/O
    pub async fn stop(&self, arn: &str, error: Option<ErrorObject>) -> Result<(), RunnerError> {
        Ok(self.store().stop_execution(arn, error)?)
    }

    /// The state of an execution.
    pub fn describe(&self, arn: &str) -> Result<ExecutionSnapshot, RunnerError> {
        Ok(self.store().describe(arn)?)
    }

    fn function(&self, function_name: &str) -> Result<DurableFunction, RunnerError> {
        let functions = self
            .inner
            .functions
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        functions
            .get(function_name)
            .cloned()
            .ok_or_else(|| RunnerError::UnknownFunction {
                function_name: function_name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests;
