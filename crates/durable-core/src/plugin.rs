//! Plugins: instrumentation hooks on invocations, operations and attempts.
//!
//! A plugin observes; it cannot change what the execution does. Every hook
//! has an empty default, and a hook that panics is caught and logged: a
//! faulty plugin never breaks the execution or the other plugins.
//!
//! # Example
//! ```
//! use durable_core::plugin::{OperationInfo, Plugin};
//! use durable_core::{DurableContext, DurableError, DurableFunction};
//!
//! struct Timing;
//!
//! impl Plugin for Timing {
//!     fn on_operation_end(&self, info: &OperationInfo) {
//!         tracing::info!(id = %info.id, status = ?info.status, "operation ended");
//!     }
//! }
//!
//! async fn workflow(_: (), ctx: DurableContext) -> Result<u32, DurableError> {
//!     ctx.step(|_| async { Ok::<_, DurableError>(1) }).await
//! }
//!
//! let function = DurableFunction::new(workflow).with_plugin(Timing);
//! # let _ = function;
//! ```

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::model::{
    ErrorObject, InvocationStatus, Operation, OperationStatus, OperationSubType, OperationType,
    Timestamp,
};

/// Instrumentation hooks. Implement the ones you need.
#[allow(unused_variables)] // the defaults ignore their arguments
pub trait Plugin: Send + Sync {
    /// An invocation begins, before any workflow code runs.
    fn on_invocation_start(&self, info: &InvocationStartInfo<'_>) {}
    /// An invocation ends, after its outcome is settled.
    fn on_invocation_end(&self, info: &InvocationEndInfo<'_>) {}
    /// An operation starts live (`is_replay` false), or a recorded operation
    /// that has not finished is met again in a replay (`is_replay` true).
    fn on_operation_start(&self, info: &OperationInfo) {}
    /// An operation reaches its final status: in this invocation, or while
    /// the execution was suspended (a timer fired, a callback completed).
    fn on_operation_end(&self, info: &OperationInfo) {}
    /// The service reported changed operations (after a checkpoint).
    fn on_operations_changed(&self, info: &OperationChangeInfo<'_>) {}
    /// A step attempt's function (or a `wait_for_condition` check) starts.
    fn on_attempt_start(&self, info: &AttemptInfo<'_>) {}
    /// A step attempt's function ends; `outcome` says how.
    fn on_attempt_end(&self, info: &AttemptInfo<'_>) {}
    /// The function of a context (child context, map item, parallel branch)
    /// starts.
    fn on_function_start(&self, info: &FunctionInfo<'_>) {}
    /// The function of a context ends; `outcome` says how.
    fn on_function_end(&self, info: &FunctionInfo<'_>) {}
}

/// What an operation looks like to a plugin.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OperationInfo {
    /// Operation id.
    pub id: String,
    /// User-given name.
    pub name: Option<String>,
    /// Kind of operation.
    pub operation_type: OperationType,
    /// SDK construct.
    pub sub_type: Option<OperationSubType>,
    /// Enclosing context.
    pub parent_id: Option<String>,
    /// Recorded status, once there is one.
    pub status: Option<OperationStatus>,
    /// When it started, once recorded.
    pub start_timestamp: Option<Timestamp>,
    /// When it ended, once recorded.
    pub end_timestamp: Option<Timestamp>,
    /// Its error, if it failed.
    pub error: Option<ErrorObject>,
    /// Attempts closed so far (steps).
    pub attempt: Option<u32>,
    /// Whether it was recorded by an earlier invocation.
    pub is_replay: bool,
}

impl OperationInfo {
    /// The info of a recorded operation.
    pub fn from_operation(op: &Operation, is_replay: bool) -> Self {
        Self {
            id: op.id.clone(),
            name: op.name.clone(),
            operation_type: op.operation_type,
            sub_type: op.sub_type.clone(),
            parent_id: op.parent_id.clone(),
            status: Some(op.status),
            start_timestamp: Some(op.start_timestamp),
            end_timestamp: op.end_timestamp,
            error: op.error().cloned(),
            attempt: op.step_details.as_ref().map(|d| d.attempt),
            is_replay,
        }
    }

    pub(crate) fn unrecorded(
        id: &str,
        name: Option<&str>,
        operation_type: OperationType,
        sub_type: &OperationSubType,
        parent_id: Option<&str>,
    ) -> Self {
        Self {
            id: id.to_owned(),
            name: name.map(str::to_owned),
            operation_type,
            sub_type: Some(sub_type.clone()),
            parent_id: parent_id.map(str::to_owned),
            status: None,
            start_timestamp: None,
            end_timestamp: None,
            error: None,
            attempt: None,
            is_replay: false,
        }
    }
}

/// The start of an invocation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvocationStartInfo<'a> {
    /// The execution.
    pub execution_arn: &'a str,
    /// The invocation's request id, when the runtime has one.
    pub request_id: Option<&'a str>,
    /// Whether nothing was recorded yet (the execution's first invocation).
    pub is_first_invocation: bool,
    /// Recorded operations, the execution's own included.
    pub operations_count: usize,
    /// Operations the service changed while the execution was suspended.
    pub updated_operations: &'a [OperationInfo],
    /// When the execution started.
    pub execution_start_timestamp: Option<Timestamp>,
}

/// The end of an invocation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvocationEndInfo<'a> {
    /// The execution.
    pub execution_arn: &'a str,
    /// The invocation's request id, when the runtime has one.
    pub request_id: Option<&'a str>,
    /// Whether this was the execution's first invocation.
    pub is_first_invocation: bool,
    /// Operations known at the end.
    pub operations_count: usize,
    /// When the execution started.
    pub execution_start_timestamp: Option<Timestamp>,
    /// How the invocation ended; `None` when it failed and will be retried.
    pub status: Option<InvocationStatus>,
    /// The execution's error when it failed, or the invocation's.
    pub error: Option<ErrorObject>,
}

/// Operations the service reported as changed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OperationChangeInfo<'a> {
    /// The execution.
    pub execution_arn: &'a str,
    /// The changed operations, as they are now.
    pub updated: &'a [OperationInfo],
    pub(crate) all: &'a HashMap<String, Operation>,
}

impl OperationChangeInfo<'_> {
    /// Every operation known now.
    pub fn operations_count(&self) -> usize {
        self.all.len()
    }

    /// One operation, as known now.
    pub fn operation(&self, id: &str) -> Option<OperationInfo> {
        self.all
            .get(id)
            .map(|op| OperationInfo::from_operation(op, false))
    }

    /// Whether `id` is among the known operations.
    pub fn contains(&self, id: &str) -> bool {
        self.all.contains_key(id)
    }
}

/// How an attempt or a context function ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It returned a value.
    Succeeded,
    /// It returned an error.
    Failed,
}

impl Outcome {
    pub(crate) const fn of<T, E>(result: &Result<T, E>) -> Self {
        if result.is_ok() {
            Self::Succeeded
        } else {
            Self::Failed
        }
    }

    /// `SUCCEEDED` or `FAILED`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }
}

/// One attempt of a step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AttemptInfo<'a> {
    /// The step.
    pub operation: &'a OperationInfo,
    /// The attempt, counting from 1.
    pub attempt: u32,
    /// How it ended (only on `on_attempt_end`).
    pub outcome: Option<Outcome>,
    /// Its error, when it failed.
    pub error: Option<&'a ErrorObject>,
}

/// One run of a context's function.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FunctionInfo<'a> {
    /// The context.
    pub operation: &'a OperationInfo,
    /// Whether the function re-runs over recorded children to rebuild a
    /// result too large to store.
    pub is_replaying_children: bool,
    /// How it ended (only on `on_function_end`).
    pub outcome: Option<Outcome>,
}

/// The plugins of one function, called in registration order.
#[derive(Clone, Default)]
pub(crate) struct Plugins(Arc<Vec<Arc<dyn Plugin>>>);

impl Plugins {
    pub(crate) fn with(&self, plugin: Arc<dyn Plugin>) -> Self {
        let mut all: Vec<_> = self.0.iter().cloned().collect();
        all.push(plugin);
        Self(Arc::new(all))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Calls `hook` on every plugin; a panicking plugin is logged and skipped.
    pub(crate) fn emit(&self, hook: &str, call: impl Fn(&dyn Plugin)) {
        for plugin in self.0.iter() {
            if catch_unwind(AssertUnwindSafe(|| call(plugin.as_ref()))).is_err() {
                tracing::warn!(
                    hook,
                    "a plugin hook panicked; the execution and the other plugins go on"
                );
            }
        }
    }
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plugins({})", self.0.len())
    }
}
