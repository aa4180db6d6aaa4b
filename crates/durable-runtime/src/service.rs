//! [`Service`]: the service rules on top of a [`Persistence`], once for
//! every backend.

mod chained;
mod checkpoint;
mod manage;
mod types;

use std::fmt;
use std::sync::Arc;

use durable_core::model::Timestamp;
use durable_core::service::{ExecutionRecord, ServiceConfig, ServiceError};

use crate::clock::{Clock, SystemClock};
use crate::delta::{Delta, StoredExecution};
use crate::error::{PersistenceError, RuntimeError};
use crate::persistence::Persistence;

pub use manage::MAX_NAME_CHARS;
pub use types::{ExecutionDescription, Schedule, StartExecution};

/// How many times a rule is applied before a run of conflicts gives up.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// The self-hosted durable execution service over a backend.
///
/// It implements [`CheckpointStore`](durable_core::CheckpointStore), so a
/// handler run by [`durable_core::invocation::run`] checkpoints through it,
/// and the management API: [`start_execution`](Self::start_execution),
/// [`begin_invocation`](Self::begin_invocation) /
/// [`complete_invocation`](Self::complete_invocation), the callback calls,
/// [`stop`](Self::stop), [`describe`](Self::describe), [`list`](Self::list),
/// [`history`](Self::history) and [`fire_due`](Self::fire_due).
///
/// # How a call changes an execution
///
/// Every call that changes an execution does the same three things: load
/// it (operations, not history) with its version, apply one rule of
/// [`durable_core::service`] at the clock's `now`, and commit the
/// [`Delta`] of what the rule changed if the version is still the one
/// loaded. One call is one read and one fenced write, whatever the length
/// of the history; a rule that fails writes nothing.
///
/// # Conflicts
///
/// A commit conflicts when someone else changed the execution in between:
/// a callback arrived, a timer fired, a stop, or another invocation. The
/// service does not turn that into an error at once: it loads the new state
/// and applies the rule again, up to
/// [`max_attempts`](Self::with_max_attempts) times, because most conflicts
/// are harmless (a callback completing while the handler checkpoints). The
/// rules then decide: if another invocation has taken over meanwhile, the
/// token check fails and the call ends with [`RuntimeError::StaleToken`]
/// (to a handler, [`StoreError::StaleToken`](durable_core::StoreError) —
/// the invocation stops and the service invokes again). If every attempt
/// conflicts, the call fails with [`RuntimeError::Contention`], which
/// handlers see as a retryable backend error. Nothing is written by a
/// failed call.
pub struct Service<P> {
    persistence: P,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
    max_attempts: u32,
}

impl<P: fmt::Debug> fmt::Debug for Service<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("persistence", &self.persistence)
            .field("config", &self.config)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl<P: Persistence> Service<P> {
    /// The service over `persistence`, on the wall clock, with the default
    /// limits.
    pub fn new(persistence: P) -> Self {
        Self {
            persistence,
            clock: Arc::new(SystemClock),
            config: ServiceConfig::default(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// The same service reading the time from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The same service with other limits.
    #[must_use]
    pub fn with_config(mut self, config: ServiceConfig) -> Self {
        self.config = config;
        self
    }

    /// The same service, applying a rule at most `attempts` times (at least
    /// once) when commits conflict.
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backend.
    pub fn persistence(&self) -> &P {
        &self.persistence
    }

    /// The limits in force.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The time on the service's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Loads `arn`, or fails with [`RuntimeError::ExecutionNotFound`].
    pub(crate) async fn load(&self, arn: &str) -> Result<StoredExecution, RuntimeError> {
        self.persistence
            .load(arn)
            .await?
            .ok_or_else(|| RuntimeError::ExecutionNotFound {
                arn: arn.to_owned(),
            })
    }

    /// Loads `arn`, applies `rule` at the clock's time and commits what it
    /// changed, reloading and applying it again on a conflict (see the type's
    /// docs). `rule` returns its result and whether it changed the record;
    /// nothing is written when it did not, or when it fails.
    pub(crate) async fn update<R, F>(&self, arn: &str, mut rule: F) -> Result<R, RuntimeError>
    where
        F: FnMut(&mut ExecutionRecord, Timestamp) -> Result<(R, bool), ServiceError> + Send,
        R: Send,
    {
        for attempt in 1..=self.max_attempts {
            let StoredExecution {
                mut record,
                version,
            } = self.load(arn).await?;
            let now = self.clock.now();
            let (value, changed) = rule(&mut record, now)?;
            if !changed {
                return Ok(value);
            }
            let delta = Delta::capture(&mut record, now);
            let (operations, events) = (delta.operations.len(), delta.events.len());
            match self.persistence.commit(arn, version, delta).await {
                Ok(new_version) => {
                    tracing::debug!(
                        execution_arn = arn,
                        version = new_version,
                        operations,
                        events,
                        "committed"
                    );
                    return Ok(value);
                }
                Err(PersistenceError::Conflict { .. }) => {
                    tracing::debug!(
                        execution_arn = arn,
                        version,
                        attempt,
                        "commit conflicted; applying the rule again"
                    );
                }
                Err(error) => return Err(error.into()),
            }
        }
        tracing::warn!(
            execution_arn = arn,
            attempts = self.max_attempts,
            "every commit conflicted"
        );
        Err(RuntimeError::Contention {
            arn: arn.to_owned(),
            attempts: self.max_attempts,
        })
    }
}

#[cfg(test)]
mod tests;
