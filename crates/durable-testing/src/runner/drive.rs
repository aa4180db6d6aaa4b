//! The drive loop: invoke what is runnable, run chained invokes as child
//! executions, and move the virtual clock to the next timer.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use durable_core::model::{
    ErrorObject, ExecutionStatus, OperationStatus, OperationType, Timestamp,
};
use durable_core::service::{
    ChainedInvokeRequest, ChainedInvokeResult, ExecutionRecord, NewExecution,
};

use super::{ExecutionSnapshot, FUNCTION_NOT_FOUND_ERROR, LocalRunner, RunnerError, invoke};

/// When a drive loop stops.
#[derive(Debug, Clone, Copy)]
pub(super) enum Until {
    /// Terminal, or waiting for outside action, or nothing scheduled.
    Idle,
    /// Terminal, or nothing scheduled at all (deadlines included).
    Completion,
    /// The clock reached this time (and nothing is left to do then).
    Time(Timestamp),
}

impl LocalRunner {
    pub(super) async fn drive(
        &self,
        root: &str,
        until: Until,
    ) -> Result<ExecutionSnapshot, RunnerError> {
        let limit = self.inner.max_invocations.load(Ordering::Relaxed);
        let mut invocations = 0;
        loop {
            self.settle_chained_invokes(root)?;
            if self.store().read(root, ExecutionRecord::is_terminal)? {
                break;
            }
            let tree = self.tree(root)?;
            if let Some(arn) = self.first_needing_invocation(&tree)? {
                if invocations == limit {
                    return Err(RunnerError::TooManyInvocations {
                        execution_arn: root.to_owned(),
                        limit,
                    });
                }
                invocations += 1;
                let function_name = self.store().read(&arn, |r| r.function_name().to_owned())?;
                invoke::invoke_once(self.store(), self.function(&function_name)?, &arn).await?;
                continue;
            }
            match self.next_timer(&tree, until)? {
                Some(next) => {
                    self.clock().advance_to(next);
                    self.store().fire_due();
                }
                None => break,
            }
        }
        self.describe(root)
    }

    /// When the drive loop should move the clock to next, if at all.
    fn next_timer(&self, tree: &[String], until: Until) -> Result<Option<Timestamp>, RunnerError> {
        let mut next: Option<Timestamp> = None;
        let mut awaits_outside = false;
        for arn in tree {
            let (any, progress, callback) = self.store().read(arn, |r| {
                let callback = r.operations().iter().any(|op| {
                    op.operation_type == OperationType::Callback
                        && op.status == OperationStatus::Started
                        && r.is_visible(op)
                });
                (
                    r.next_wake_up(),
                    r.next_wake_up_excluding_deadlines(),
                    callback,
                )
            })?;
            awaits_outside |= callback;
            let candidate = match until {
                Until::Idle => progress,
                Until::Completion | Until::Time(_) => any,
            };
            next = match (next, candidate) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(match until {
            Until::Idle if awaits_outside => None,
            Until::Idle | Until::Completion => next,
            Until::Time(end) => {
                let now = self.clock().now();
                match next.filter(|&t| t <= end) {
                    Some(t) => Some(t),
                    None if now < end => Some(end),
                    None => None,
                }
            }
        })
    }

    /// The execution and the chained-invoke children it is waiting for,
    /// recursively.
    fn tree(&self, root: &str) -> Result<Vec<String>, RunnerError> {
        let mut tree = Vec::new();
        let mut queue = VecDeque::from([root.to_owned()]);
        while let Some(arn) = queue.pop_front() {
            if tree.contains(&arn) {
                continue;
            }
            let children = self.store().read(&arn, |r| {
                r.active_chained_invokes()
                    .map(|c| c.execution_arn.clone())
                    .collect::<Vec<_>>()
            });
            match children {
                Ok(children) => queue.extend(children),
                Err(_) if arn != root => continue,
                Err(error) => return Err(error.into()),
            }
            tree.push(arn);
        }
        Ok(tree)
    }

    fn first_needing_invocation(&self, tree: &[String]) -> Result<Option<String>, RunnerError> {
        for arn in tree {
            if self.store().needs_invocation(arn)? {
                return Ok(Some(arn.clone()));
            }
        }
        Ok(None)
    }

    /// Starts the child executions of new chained invokes and hands the
    /// results of finished ones back to their parents.
    fn settle_chained_invokes(&self, root: &str) -> Result<(), RunnerError> {
        for parent in self.tree(root)? {
            let requests: Vec<ChainedInvokeRequest> = self
                .store()
                .read(&parent, |r| r.active_chained_invokes().cloned().collect())?;
            for request in requests {
                self.settle_chained_invoke(&parent, request)?;
            }
        }
        Ok(())
    }

    fn settle_chained_invoke(
        &self,
        parent: &str,
        request: ChainedInvokeRequest,
    ) -> Result<(), RunnerError> {
        let child = self.store().read(&request.execution_arn, |r| {
            (
                r.status(),
                r.result().map(str::to_owned),
                r.error().cloned(),
            )
        });
        let result = match child {
            Err(_) => {
                if self.function(&request.function_name).is_ok() {
                    self.store().create_execution(NewExecution {
                        arn: request.execution_arn,
                        name: request.execution_name,
                        function_name: request.function_name,
                        input: request.payload,
                        execution_timeout_seconds: None,
                    });
                    return Ok(());
                }
                ChainedInvokeResult::Failed(ErrorObject::new(
                    FUNCTION_NOT_FOUND_ERROR,
                    format!(
                        "no durable function is registered as {:?}",
                        request.function_name
                    ),
                ))
            }
            Ok((ExecutionStatus::Running, _, _)) => return Ok(()),
            Ok((ExecutionStatus::Succeeded, result, _)) => ChainedInvokeResult::Succeeded(result),
            Ok((ExecutionStatus::TimedOut, _, error)) => {
                ChainedInvokeResult::TimedOut(error.unwrap_or_default())
            }
            Ok((ExecutionStatus::Stopped, _, error)) => {
                ChainedInvokeResult::Stopped(error.unwrap_or_default())
            }
            Ok((ExecutionStatus::Failed, _, error)) => {
                ChainedInvokeResult::Failed(error.unwrap_or_default())
            }
        };
        Ok(self
            .store()
            .complete_chained_invoke(parent, &request.operation_id, result)?)
    }
}
