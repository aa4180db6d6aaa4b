//! The state one invocation shares between all its contexts: what was
//! recorded, what the code has claimed, activity counters for suspension,
//! and how the invocation must end if it cannot go on.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use futures_util::future::BoxFuture;
use tokio::sync::watch;

use super::checkpoint::Checkpointer;
use crate::error::{DurableError, ErrorKind, InvocationError};
use crate::logger::LoggerConfig;
use crate::model::ErrorObject;
use crate::model::{Operation, OperationStatus, OperationSubType, OperationType};
use crate::plugin::{
    AttemptInfo, FunctionInfo, OperationChangeInfo, OperationInfo, Outcome, Plugins,
};
use crate::serdes::{Serdes, SerdesContext};

/// Why the invocation has to stop before the handler finishes.
#[derive(Debug)]
pub(crate) enum Termination {
    /// The execution cannot go on: it fails with this error.
    Fatal(DurableError),
    /// This invocation cannot go on; another one may.
    Invocation(InvocationError),
}

/// What an operation claims to be, checked against what was recorded.
pub(crate) struct Claim<'a> {
    pub wire_id: &'a str,
    pub operation_type: OperationType,
    pub sub_type: &'a OperationSubType,
    pub name: Option<&'a str>,
}

/// Recorded operations in the order the service listed them (the order
/// they were recorded, which is the order a replay claims them), indexed by
/// id. Kept in a `Vec` rather than a map of whole operations: the envelope's
/// list is taken over as it is instead of being moved entry by entry into a
/// table of large entries, and a replay reads it front to back; the index
/// holds only ids and positions.
#[derive(Default)]
struct Operations {
    list: Vec<Operation>,
    index: HashMap<String, usize>,
}

impl Operations {
    fn new(list: Vec<Operation>) -> Self {
        let mut operations = Self {
            index: HashMap::with_capacity(list.len()),
            list: Vec::with_capacity(list.len()),
        };
        for op in list {
            operations.upsert(op);
        }
        operations
    }

    fn get(&self, id: &str) -> Option<&Operation> {
        self.index.get(id).and_then(|&at| self.list.get(at))
    }

    /// Replaces the operation with the same id in place, or appends it.
    fn upsert(&mut self, op: Operation) {
        if let Some(slot) = self.index.get(&op.id).and_then(|&at| self.list.get_mut(at)) {
            *slot = op;
        } else {
            self.index.insert(op.id.clone(), self.list.len());
            self.list.push(op);
        }
    }

    fn iter(&self) -> std::slice::Iter<'_, Operation> {
        self.list.iter()
    }

    fn len(&self) -> usize {
        self.list.len()
    }
}

#[derive(Default)]
struct Recorded {
    operations: Operations,
    claimed: HashSet<String>,
    /// Contexts answered from their cached result: their children are not replayed.
    cached_contexts: HashSet<String>,
}

pub(crate) struct Execution {
    pub arn: String,
    pub plugins: Plugins,
    /// Operations the service changed while the execution was suspended.
    updated: HashSet<String>,
    pub checkpointer: Checkpointer,
    pub logger: RwLock<LoggerConfig>,
    recorded: Mutex<Recorded>,
    changes: watch::Sender<u64>,
    termination: Mutex<Option<Termination>>,
    executing: AtomicUsize,
    blocked: AtomicUsize,
    /// Operations started early, waiting for the driver to pick them up.
    spawned: Mutex<Vec<BoxFuture<'static, ()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere; the data is still whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Execution {
    pub(crate) fn new(
        arn: String,
        checkpointer: Checkpointer,
        operations: Vec<Operation>,
        plugins: Plugins,
        updated: HashSet<String>,
    ) -> Arc<Self> {
        let operations = Operations::new(operations);
        Arc::new(Self {
            arn,
            plugins,
            updated,
            checkpointer,
            logger: RwLock::new(LoggerConfig::default()),
            recorded: Mutex::new(Recorded {
                operations,
                ..Recorded::default()
            }),
            changes: watch::channel(0).0,
            termination: Mutex::new(None),
            executing: AtomicUsize::new(0),
            blocked: AtomicUsize::new(0),
            spawned: Mutex::new(Vec::new()),
        })
    }

    /// Whether anything besides the EXECUTION operation was recorded.
    pub(crate) fn has_history(&self) -> bool {
        lock(&self.recorded)
            .operations
            .iter()
            .any(|op| op.operation_type != OperationType::Execution)
    }

    /// Claims an operation id for the code running now and returns what was
    /// recorded for it. A recorded operation of another type, subtype or
    /// name is a non-deterministic replay: the execution fails.
    pub(crate) fn claim(&self, claim: &Claim<'_>) -> Result<Option<Operation>, DurableError> {
        let mut recorded = lock(&self.recorded);
        recorded.claimed.insert(claim.wire_id.to_owned());
        let Some(op) = recorded.operations.get(claim.wire_id) else {
            return Ok(None);
        };
        let same = op.operation_type == claim.operation_type
            && op.sub_type.as_ref().is_none_or(|s| s == claim.sub_type)
            && op.name.as_deref() == claim.name;
        if same {
            return Ok(Some(op.clone()));
        }
        let error = DurableError::with_kind(
            ErrorKind::NonDeterministic,
            "NonDeterministicExecutionError",
            format!(
                "operation {} was recorded as {} {} named {:?} but the code now runs {} {} named {:?}; \
                 the workflow code changed in a way that breaks replay",
                claim.wire_id,
                op.operation_type,
                op.sub_type.as_ref().map_or("-", OperationSubType::as_str),
                op.name.as_deref().unwrap_or(""),
                claim.operation_type,
                claim.sub_type,
                claim.name.unwrap_or(""),
            ),
        );
        drop(recorded);
        self.terminate(Termination::Fatal(error.clone()));
        Err(error)
    }

    pub(crate) fn mark_cached_context(&self, wire_id: &str) {
        lock(&self.recorded)
            .cached_contexts
            .insert(wire_id.to_owned());
    }

    /// Hands an early-started operation to the driver.
    pub(crate) fn spawn(&self, task: BoxFuture<'static, ()>) {
        lock(&self.spawned).push(task);
    }

    /// Early-started operations not yet picked up by the driver.
    pub(crate) fn take_spawned(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *lock(&self.spawned))
    }

    /// Whether anything is recorded under `wire_id`.
    pub(crate) fn is_recorded(&self, wire_id: &str) -> bool {
        lock(&self.recorded).operations.index.contains_key(wire_id)
    }

    /// The recorded state of one operation.
    pub(crate) fn operation(&self, wire_id: &str) -> Option<Operation> {
        lock(&self.recorded).operations.get(wire_id).cloned()
    }

    /// Takes in operations the service reports as changed.
    pub(crate) fn merge(&self, operations: Vec<Operation>) {
        if operations.is_empty() {
            return;
        }
        let updated: Vec<OperationInfo> = if self.plugins.is_empty() {
            Vec::new()
        } else {
            operations
                .iter()
                .map(|op| OperationInfo::from_operation(op, false))
                .collect()
        };
        let mut recorded = lock(&self.recorded);
        for op in operations {
            recorded.operations.upsert(op);
        }
        // Plugins run outside the lock: a slow plugin must not stall claims.
        let all: Option<HashMap<String, Operation>> = (!updated.is_empty()).then(|| {
            recorded
                .operations
                .iter()
                .map(|op| (op.id.clone(), op.clone()))
                .collect()
        });
        drop(recorded);
        if let Some(all) = all {
            let info = OperationChangeInfo {
                execution_arn: &self.arn,
                updated: &updated,
                all: &all,
            };
            self.plugins
                .emit("operations-changed", |p| p.on_operations_changed(&info));
        }
        self.changes.send_modify(|version| *version += 1);
    }

    /// Recorded operations, the execution's own included.
    pub(crate) fn operations_count(&self) -> usize {
        lock(&self.recorded).operations.len()
    }

    /// Tells the plugins what a claim found: a new operation starts, a
    /// recorded unfinished one is met again, or one that finished while the
    /// execution was suspended has ended.
    pub(crate) fn announce(
        &self,
        claim: &Claim<'_>,
        parent_id: Option<&str>,
        recorded: Option<&Operation>,
    ) {
        if self.plugins.is_empty() {
            return;
        }
        match recorded {
            None => {
                let info = OperationInfo::unrecorded(
                    claim.wire_id,
                    claim.name,
                    claim.operation_type,
                    claim.sub_type,
                    parent_id,
                );
                self.plugins
                    .emit("operation-start", |p| p.on_operation_start(&info));
            }
            Some(op) if !op.status.is_terminal() => {
                let info = OperationInfo::from_operation(op, true);
                self.plugins
                    .emit("operation-start", |p| p.on_operation_start(&info));
            }
            Some(op) if self.updated.contains(&op.id) => {
                let info = OperationInfo::from_operation(op, false);
                self.plugins
                    .emit("operation-end", |p| p.on_operation_end(&info));
            }
            Some(_) => {}
        }
    }

    /// Tells the plugins a step attempt (or condition check) starts.
    pub(crate) fn attempt_started(&self, operation: &OperationInfo, attempt: u32) {
        if !self.plugins.is_empty() {
            let info = AttemptInfo {
                operation,
                attempt,
                outcome: None,
                error: None,
            };
            self.plugins
                .emit("attempt-start", |p| p.on_attempt_start(&info));
        }
    }

    /// Tells the plugins a step attempt ended, failed with `error` if any.
    pub(crate) fn attempt_ended(
        &self,
        operation: &OperationInfo,
        attempt: u32,
        error: Option<&ErrorObject>,
    ) {
        if !self.plugins.is_empty() {
            let outcome = Some(if error.is_some() {
                Outcome::Failed
            } else {
                Outcome::Succeeded
            });
            let info = AttemptInfo {
                operation,
                attempt,
                outcome,
                error,
            };
            self.plugins
                .emit("attempt-end", |p| p.on_attempt_end(&info));
        }
    }

    /// Tells the plugins a context's function starts (`outcome` `None`) or
    /// ended.
    pub(crate) fn function_hook(
        &self,
        operation: &OperationInfo,
        replaying_children: bool,
        outcome: Option<Outcome>,
    ) {
        if self.plugins.is_empty() {
            return;
        }
        let info = FunctionInfo {
            operation,
            is_replaying_children: replaying_children,
            outcome,
        };
        match outcome {
            None => self
                .plugins
                .emit("fn-start", |p| p.on_function_start(&info)),
            Some(_) => self.plugins.emit("fn-end", |p| p.on_function_end(&info)),
        }
    }

    /// Tells the plugins that an operation ended in this invocation, as
    /// recorded if the record is final, else as `fallback` describes it.
    pub(crate) fn ended(&self, wire_id: &str, fallback: impl FnOnce() -> OperationInfo) {
        if self.plugins.is_empty() {
            return;
        }
        let info = self
            .operation(wire_id)
            .filter(|op| op.status.is_terminal())
            .map_or_else(fallback, |op| OperationInfo::from_operation(&op, false));
        self.plugins
            .emit("operation-end", |p| p.on_operation_end(&info));
    }

    /// Recorded operations the code never claimed, leaving out the EXECUTION
    /// operation and the children of contexts answered from cache.
    pub(crate) fn unclaimed(&self) -> Vec<Operation> {
        let recorded = lock(&self.recorded);
        let under_cached = |op: &Operation| {
            let mut parent = op.parent_id.as_deref();
            while let Some(id) = parent {
                if recorded.cached_contexts.contains(id) {
                    return true;
                }
                parent = recorded
                    .operations
                    .get(id)
                    .and_then(|p| p.parent_id.as_deref());
            }
            false
        };
        let mut unclaimed: Vec<Operation> = recorded
            .operations
            .iter()
            .filter(|op| op.operation_type != OperationType::Execution)
            .filter(|op| !recorded.claimed.contains(&op.id) && !under_cached(op))
            .cloned()
            .collect();
        unclaimed.sort_by_cached_key(|op| (op.start_timestamp, position(&op.id)));
        unclaimed
    }

    /// Waits until the recorded status of `wire_id` satisfies `done`.
    /// While waiting, the operation counts as blocked on the service.
    pub(crate) async fn wait_for(
        &self,
        wire_id: &str,
        done: impl Fn(OperationStatus) -> bool,
    ) -> Operation {
        let mut changes = self.changes.subscribe();
        let _blocked = ActivityGuard::enter(&self.blocked);
        loop {
            if let Some(op) = self.operation(wire_id).filter(|op| done(op.status)) {
                return op;
            }
            if changes.changed().await.is_err() {
                // The sender lives as long as `self`; this cannot happen.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Serializes through `serdes`, counted as running work: serdes may do
    /// I/O, and the invocation must not suspend in the middle of it.
    pub(crate) async fn serialize<T: Send + Sync>(
        &self,
        serdes: &dyn Serdes<T>,
        value: &T,
        ctx: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        let _executing = self.executing();
        serdes.serialize(value, ctx).await
    }

    /// Deserializes through `serdes`, counted as running work.
    pub(crate) async fn deserialize<T: Send + Sync>(
        &self,
        serdes: &dyn Serdes<T>,
        data: Option<&str>,
        ctx: SerdesContext<'_>,
    ) -> Result<T, DurableError> {
        let _executing = self.executing();
        serdes.deserialize(data, ctx).await
    }

    /// Counts a running step body until the guard drops.
    pub(crate) fn executing(&self) -> ActivityGuard<'_> {
        ActivityGuard::enter(&self.executing)
    }

    /// Whether nothing can progress without the service: no step body runs,
    /// no checkpoint is in flight, and some operation waits on the service.
    pub(crate) fn is_stuck(&self) -> bool {
        self.executing.load(Ordering::SeqCst) == 0
            && self.blocked.load(Ordering::SeqCst) > 0
            && !self.checkpointer.is_sending()
    }

    /// Records why the invocation must stop. The first reason wins.
    pub(crate) fn terminate(&self, termination: Termination) {
        let mut slot = lock(&self.termination);
        if slot.is_none() {
            *slot = Some(termination);
        }
    }

    pub(crate) fn take_termination(&self) -> Option<Termination> {
        lock(&self.termination).take()
    }

    pub(crate) fn is_terminating(&self) -> bool {
        lock(&self.termination).is_some()
    }

    /// Records a fatal error and never returns: the driver ends the
    /// invocation, and user code must not see or swallow the error.
    pub(crate) async fn fail_fatally<T>(&self, error: DurableError) -> T {
        self.terminate(Termination::Fatal(error));
        std::future::pending().await
    }
}

/// Sort key of a positional id (`3-12` sorts after `3-2`); hashed ids last.
fn position(id: &str) -> Vec<u64> {
    id.split('-')
        .map(|part| part.parse().unwrap_or(u64::MAX))
        .collect()
}

/// Increments a counter while alive.
pub(crate) struct ActivityGuard<'a>(&'a AtomicUsize);

impl<'a> ActivityGuard<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for ActivityGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    fn step(id: &str, status: OperationStatus) -> Operation {
        Operation {
            id: id.into(),
            parent_id: None,
            name: None,
            operation_type: OperationType::Step,
            sub_type: Some(OperationSubType::Step),
            start_timestamp: Timestamp::default(),
            end_timestamp: None,
            status,
            execution_details: None,
            context_details: None,
            step_details: None,
            wait_details: None,
            callback_details: None,
            chained_invoke_details: None,
        }
    }

    fn ids(operations: &Operations) -> Vec<&str> {
        operations.iter().map(|op| op.id.as_str()).collect()
    }

    #[test]
    fn operations_keep_the_recorded_order_for_a_front_to_back_replay() {
        let recorded: Vec<Operation> = (1..=1000)
            .map(|i| step(&i.to_string(), OperationStatus::Succeeded))
            .collect();
        let operations = Operations::new(recorded);
        let expected: Vec<String> = (1..=1000).map(|i: u32| i.to_string()).collect();
        assert_eq!(ids(&operations), expected);
        // Each id finds its own entry, at its position in the list.
        for (at, id) in expected.iter().enumerate() {
            assert_eq!(operations.index.get(id.as_str()), Some(&at));
            assert_eq!(
                operations.get(id).map(|op| op.id.as_str()),
                Some(id.as_str())
            );
        }
        assert!(operations.get("1001").is_none());
    }

    #[test]
    fn an_update_replaces_in_place_and_a_new_operation_is_appended() {
        let mut operations = Operations::new(vec![
            step("1", OperationStatus::Succeeded),
            step("2", OperationStatus::Started),
            step("2", OperationStatus::Pending),
        ]);
        assert_eq!(ids(&operations), ["1", "2"]);
        assert_eq!(
            operations.get("2").map(|op| op.status),
            Some(OperationStatus::Pending)
        );
        operations.upsert(step("2", OperationStatus::Succeeded));
        operations.upsert(step("3", OperationStatus::Started));
        assert_eq!(ids(&operations), ["1", "2", "3"]);
        assert_eq!(operations.len(), 3);
        assert_eq!(
            operations.get("2").map(|op| op.status),
            Some(OperationStatus::Succeeded)
        );
        assert_eq!(
            operations.get("3").map(|op| op.status),
            Some(OperationStatus::Started)
        );
    }
}
