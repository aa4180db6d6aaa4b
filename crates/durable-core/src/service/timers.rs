//! Service-side timers: waits ending, retries becoming due, callbacks timing
//! out, failed invocations being tried again, executions timing out.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::events;
use super::record::{Ending, ExecutionRecord};
use crate::model::{
    ErrorObject, EventDetails, EventType, ExecutionStatus, OperationStatus, OperationType,
    Timestamp,
};

/// `ErrorType` of a callback that ran past its timeout.
pub const CALLBACK_TIMEOUT_ERROR: &str = "Callback.Timeout";
/// `ErrorType` of a callback whose heartbeat stopped.
pub const CALLBACK_HEARTBEAT_ERROR: &str = "Callback.Heartbeat";
/// `ErrorType` of an execution that ran past its timeout.
pub const EXECUTION_TIMEOUT_ERROR: &str = "Execution.Timeout";

/// An active timer of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Timer {
    /// A STARTED wait ends.
    Wait { at: Timestamp },
    /// A PENDING step becomes READY.
    StepRetry { at: Timestamp },
    /// A STARTED callback times out, overall or for lack of heartbeats.
    Callback {
        timeout_at: Option<Timestamp>,
        heartbeat_seconds: Option<u64>,
        heartbeat_at: Option<Timestamp>,
    },
}

impl Timer {
    /// The earliest time this timer fires, and why.
    fn next(&self) -> Option<(Timestamp, TimerKind)> {
        match *self {
            Self::Wait { at } => Some((at, TimerKind::Wait)),
            Self::StepRetry { at } => Some((at, TimerKind::StepRetry)),
            Self::Callback {
                timeout_at,
                heartbeat_at,
                ..
            } => {
                let timeout = timeout_at.map(|at| (at, TimerKind::CallbackTimeout));
                let heartbeat = heartbeat_at.map(|at| (at, TimerKind::CallbackHeartbeat));
                match (timeout, heartbeat) {
                    (Some(t), Some(h)) => Some(if h.0 < t.0 { h } else { t }),
                    (t, h) => t.or(h),
                }
            }
        }
    }
}

/// Why a timer exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TimerKind {
    /// A wait ends.
    Wait,
    /// A step's retry delay ends.
    StepRetry,
    /// A callback's overall timeout.
    CallbackTimeout,
    /// A callback's heartbeat timeout.
    CallbackHeartbeat,
    /// A failed invocation is tried again.
    InvocationRetry,
    /// The execution's timeout.
    ExecutionTimeout,
}

impl TimerKind {
    /// Whether the timer is a deadline that only matters if nothing from
    /// outside (a callback result, a stop) happens first. Such timers
    /// should not be skipped to by a runner that is waiting for outside
    /// action.
    pub const fn is_deadline(self) -> bool {
        matches!(
            self,
            Self::CallbackTimeout | Self::CallbackHeartbeat | Self::ExecutionTimeout
        )
    }
}

/// One scheduled timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledTimer<'a> {
    /// The operation it belongs to, if any.
    pub operation_id: Option<&'a str>,
    /// Why it exists.
    pub kind: TimerKind,
    /// When it fires.
    pub at: Timestamp,
}

impl ExecutionRecord {
    /// Every scheduled timer, in no particular order.
    pub fn timers(&self) -> Vec<ScheduledTimer<'_>> {
        if self.is_terminal() {
            return Vec::new();
        }
        let mut timers: Vec<ScheduledTimer<'_>> = self
            .timers
            .iter()
            .filter_map(|(id, timer)| {
                timer.next().map(|(at, kind)| ScheduledTimer {
                    operation_id: Some(id),
                    kind,
                    at,
                })
            })
            .collect();
        if let Some(at) = self.retry_invocation_at {
            timers.push(ScheduledTimer {
                operation_id: None,
                kind: TimerKind::InvocationRetry,
                at,
            });
        }
        if let Some(at) = self.execution_deadline() {
            timers.push(ScheduledTimer {
                operation_id: None,
                kind: TimerKind::ExecutionTimeout,
                at,
            });
        }
        timers
    }

    /// The earliest time at which [`fire_due`](Self::fire_due) will change something.
    pub fn next_wake_up(&self) -> Option<Timestamp> {
        self.timers().into_iter().map(|t| t.at).min()
    }

    /// Like [`next_wake_up`](Self::next_wake_up), leaving out deadlines
    /// (see [`TimerKind::is_deadline`]).
    pub fn next_wake_up_excluding_deadlines(&self) -> Option<Timestamp> {
        self.timers()
            .into_iter()
            .filter(|t| !t.kind.is_deadline())
            .map(|t| t.at)
            .min()
    }

    /// Whether the execution should be invoked now: it is running, no
    /// invocation is, and something happened that the handler has to see
    /// (its start, a timer, a callback, a failed invocation to try again).
    pub fn needs_invocation(&self) -> bool {
        self.status == ExecutionStatus::Running
            && self.invocation.is_none()
            && self.closing.is_none()
            && self.retry_invocation_at.is_none()
            && self.wake
    }

    /// Fires every timer due at `now`, in time order. Returns whether anything changed.
    pub fn fire_due(&mut self, now: Timestamp) -> bool {
        if self.is_terminal() {
            return false;
        }
        if let Some(deadline) = self.execution_deadline().filter(|&d| d <= now) {
            let seconds = deadline.since(self.start_timestamp).as_secs();
            let error = ErrorObject::new(
                EXECUTION_TIMEOUT_ERROR,
                format!("the execution ran longer than its timeout of {seconds} seconds"),
            );
            self.finish(Ending::TimedOut(error), now);
            return true;
        }
        let mut changed = false;
        if self.retry_invocation_at.is_some_and(|at| at <= now) {
            self.retry_invocation_at = None;
            self.wake = true;
            changed = true;
        }
        let mut due: Vec<(Timestamp, usize, String, TimerKind)> = self
            .timers
            .iter()
            .filter_map(|(id, timer)| {
                let (at, kind) = timer.next()?;
                (at <= now).then(|| {
                    (
                        at,
                        self.operations.position(id).unwrap_or(usize::MAX),
                        id.clone(),
                        kind,
                    )
                })
            })
            .collect();
        due.sort();
        for (_, _, id, kind) in due {
            self.timers.remove(&id);
            changed |= self.fire(&id, kind, now);
        }
        changed
    }

    fn fire(&mut self, id: &str, kind: TimerKind, now: Timestamp) -> bool {
        let Some(operation) = self.operations.get_mut(id) else {
            return false;
        };
        let event = match (operation.operation_type, operation.status, kind) {
            (OperationType::Wait, OperationStatus::Started, TimerKind::Wait) => {
                operation.status = OperationStatus::Succeeded;
                operation.end_timestamp = Some(now);
                let duration = wait_seconds(
                    operation.start_timestamp,
                    operation
                        .wait_details
                        .as_ref()
                        .and_then(|d| d.scheduled_end_timestamp),
                );
                let details = EventDetails {
                    duration,
                    ..EventDetails::default()
                };
                Some(events::for_operation(
                    operation,
                    EventType::WaitSucceeded,
                    details,
                    now,
                ))
            }
            (OperationType::Step, OperationStatus::Pending, TimerKind::StepRetry) => {
                operation.status = OperationStatus::Ready;
                None
            }
            (
                OperationType::Callback,
                OperationStatus::Started,
                TimerKind::CallbackTimeout | TimerKind::CallbackHeartbeat,
            ) => {
                let error = if kind == TimerKind::CallbackTimeout {
                    ErrorObject::new(CALLBACK_TIMEOUT_ERROR, "the callback timed out")
                } else {
                    ErrorObject::new(
                        CALLBACK_HEARTBEAT_ERROR,
                        "the callback missed its heartbeat",
                    )
                };
                operation.status = OperationStatus::TimedOut;
                operation.end_timestamp = Some(now);
                let details = operation
                    .callback_details
                    .get_or_insert_with(Default::default);
                details.error = Some(error.clone());
                Some(events::for_operation(
                    operation,
                    EventType::CallbackTimedOut,
                    events::with_error(Some(error)),
                    now,
                ))
            }
            _ => return false,
        };
        if let Some(event) = event {
            self.push_event(event);
        }
        self.note_service_change(id);
        true
    }

    fn execution_deadline(&self) -> Option<Timestamp> {
        self.execution_timeout_seconds
            .map(|seconds| self.start_timestamp.plus(Duration::from_secs(seconds)))
    }
}

/// The length of a wait in whole seconds, from its start and scheduled end.
pub(crate) fn wait_seconds(start: Timestamp, end: Option<Timestamp>) -> Option<u64> {
    let millis = end?.since(start).as_millis();
    u64::try_from((millis + 500) / 1000).ok()
}
