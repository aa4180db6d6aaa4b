//! An in-memory [`CheckpointStore`] built on the service rules of
//! [`durable_core::service`], with the management calls a runtime needs.

mod clock;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use durable_core::model::{
    ErrorObject, Event, ExecutionState, InvocationInput, OperationUpdate, Timestamp,
};
use durable_core::service::{
    self, ChainedInvokeResult, ExecutionRecord, InvocationOutcome, NewExecution, ServiceConfig,
    ServiceError,
};
use durable_core::{CheckpointResponse, CheckpointStore, StoreError};

pub use clock::{Clock, SystemClock, VirtualClock};

use crate::runner::ExecutionSnapshot;

/// Executions kept in memory, with the semantics every backend shares.
///
/// Calls read the time from its [`Clock`]; checkpoint calls first fire the
/// timers due at that time, so deltas include elapsed waits and retries that
/// became ready.
#[derive(Debug)]
pub struct MemoryStore {
    executions: Mutex<Executions>,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
}

#[derive(Debug, Default)]
struct Executions {
    by_arn: HashMap<String, ExecutionRecord>,
    /// (function name, execution name) -> ARN, for idempotent starts.
    by_name: HashMap<(String, String), String>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store on the wall clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store on `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            executions: Mutex::default(),
            clock,
            config: ServiceConfig::default(),
        }
    }

    /// The same store with other service limits.
    #[must_use]
    pub fn with_config(mut self, config: ServiceConfig) -> Self {
        self.config = config;
        self
    }

    /// The service limits in force.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The store's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Starts an execution of `function_name` and returns its ARN.
    ///
    /// Idempotent by name: starting `name` again for the same function
    /// returns the existing execution's ARN and changes nothing. Without a
    /// name, a random one is used.
    pub fn start_execution(
        &self,
        function_name: &str,
        name: Option<&str>,
        input: Option<String>,
    ) -> String {
        let id = service::new_execution_id();
        let name = name.map_or_else(|| id.clone(), str::to_owned);
        let arn = service::execution_arn(function_name, &name, &id);
        self.create_execution(NewExecution {
            arn,
            name,
            function_name: function_name.to_owned(),
            input,
            execution_timeout_seconds: None,
        })
    }

    /// Records `new` (with its own ARN) and returns the ARN; idempotent by
    /// (function name, execution name) like [`start_execution`](Self::start_execution).
    pub fn create_execution(&self, new: NewExecution) -> String {
        let now = self.clock.now();
        let mut executions = self.lock();
        let key = (new.function_name.clone(), new.name.clone());
        if let Some(arn) = executions.by_name.get(&key) {
            return arn.clone();
        }
        let arn = new.arn.clone();
        if !executions.by_arn.contains_key(&arn) {
            executions
                .by_arn
                .insert(arn.clone(), ExecutionRecord::create(new, now));
        }
        executions.by_name.insert(key, arn.clone());
        arn
    }

    /// The ARNs of every execution, in no particular order.
    pub fn executions(&self) -> Vec<String> {
        self.lock().by_arn.keys().cloned().collect()
    }

    /// Begins an invocation of `arn` and returns its envelope.
    pub fn begin_invocation(
        &self,
        arn: &str,
        request_id: &str,
    ) -> Result<InvocationInput, ServiceError> {
        let now = self.clock.now();
        self.update(arn, |record| {
            record.begin_invocation(&self.config, request_id, now)
        })
    }

    /// Records how the running invocation of `arn` ended.
    pub fn complete_invocation(
        &self,
        arn: &str,
        outcome: InvocationOutcome,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.update(arn, |record| {
            record.complete_invocation(&self.config, outcome, now)
        })
    }

    /// Fires the timers of every execution that are due now. Returns whether
    /// anything changed.
    pub fn fire_due(&self) -> bool {
        let now = self.clock.now();
        let mut changed = false;
        for record in self.lock().by_arn.values_mut() {
            changed |= record.fire_due(now);
        }
        changed
    }

    /// The earliest timer of any execution.
    pub fn next_wake_up_any(&self) -> Option<Timestamp> {
        self.lock()
            .by_arn
            .values()
            .filter_map(ExecutionRecord::next_wake_up)
            .min()
    }

    /// The earliest timer of `arn`.
    pub fn next_wake_up(&self, arn: &str) -> Result<Option<Timestamp>, ServiceError> {
        self.read(arn, ExecutionRecord::next_wake_up)
    }

    /// Whether `arn` should be invoked now.
    pub fn needs_invocation(&self, arn: &str) -> Result<bool, ServiceError> {
        self.read(arn, ExecutionRecord::needs_invocation)
    }

    /// The history of `arn`.
    pub fn history(&self, arn: &str) -> Result<Vec<Event>, ServiceError> {
        self.read(arn, |record| record.history().to_vec())
    }

    /// The state of `arn`.
    pub fn describe(&self, arn: &str) -> Result<ExecutionSnapshot, ServiceError> {
        self.read(arn, ExecutionSnapshot::from_record)
    }

    /// Runs `read` on the record of `arn`.
    pub fn read<R>(
        &self,
        arn: &str,
        read: impl FnOnce(&ExecutionRecord) -> R,
    ) -> Result<R, ServiceError> {
        let executions = self.lock();
        let record = executions.by_arn.get(arn).ok_or_else(|| not_found(arn))?;
        Ok(read(record))
    }

    /// Completes a callback with a result (the raw body an external system sent).
    pub fn send_callback_success(
        &self,
        callback_id: &str,
        result: &str,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.update_callback(callback_id, |record| {
            record.callback_succeeded(&self.config, callback_id, result.to_owned(), now)
        })
    }

    /// Fails a callback.
    pub fn send_callback_failure(
        &self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.update_callback(callback_id, |record| {
            record.callback_failed(callback_id, error, now)
        })
    }

    /// Records a heartbeat of a callback.
    pub fn send_callback_heartbeat(&self, callback_id: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.update_callback(callback_id, |record| {
            record.callback_heartbeat(callback_id, now)
        })
    }

    /// Ends the chained invoke `operation_id` of `arn`.
    pub fn complete_chained_invoke(
        &self,
        arn: &str,
        operation_id: &str,
        result: ChainedInvokeResult,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.update(arn, |record| {
            record.complete_chained_invoke(&self.config, operation_id, result, now)
        })
    }

    /// Stops `arn`.
    pub fn stop_execution(
        &self,
        arn: &str,
        error: Option<ErrorObject>,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        self.update(arn, |record| record.stop(error, now))
    }

    fn lock(&self) -> MutexGuard<'_, Executions> {
        self.executions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn update<R>(
        &self,
        arn: &str,
        change: impl FnOnce(&mut ExecutionRecord) -> Result<R, ServiceError>,
    ) -> Result<R, ServiceError> {
        let mut executions = self.lock();
        let record = executions
            .by_arn
            .get_mut(arn)
            .ok_or_else(|| not_found(arn))?;
        change(record)
    }

    fn update_callback(
        &self,
        callback_id: &str,
        change: impl FnOnce(&mut ExecutionRecord) -> Result<(), ServiceError>,
    ) -> Result<(), ServiceError> {
        let not_found = || ServiceError::CallbackNotFound {
            callback_id: callback_id.to_owned(),
        };
        let reference = service::parse_callback_id(callback_id).ok_or_else(not_found)?;
        let mut executions = self.lock();
        let record = executions
            .by_arn
            .get_mut(&reference.execution_arn)
            .ok_or_else(not_found)?;
        change(record)
    }
}

fn not_found(arn: &str) -> ServiceError {
    ServiceError::ExecutionNotFound {
        execution_arn: arn.to_owned(),
    }
}

#[async_trait]
impl CheckpointStore for MemoryStore {
    async fn checkpoint(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointResponse, StoreError> {
        let now = self.clock.now();
        self.update(execution_arn, |record| {
            record.checkpoint(&self.config, checkpoint_token, updates, now)
        })
        .map_err(StoreError::from)
    }

    async fn state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, StoreError> {
        self.read(execution_arn, |record| {
            record.state(&self.config, checkpoint_token, marker)
        })
        .and_then(|page| page)
        .map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests;
