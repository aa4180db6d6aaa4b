//! A [`Service`] over the backend under test, on a clock the kit moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use durable_core::CheckpointStore;
use durable_core::model::{InvocationOutput, OperationUpdate, Timestamp};
use durable_core::service::InvocationOutcome;

use super::T0;
use crate::persistence::Persistence;
use crate::service::{ExecutionDescription, Service};

/// The service over a backend, reading the time from a shared cell.
pub(super) struct Clocked<P> {
    pub(super) service: Arc<Service<P>>,
    now: Arc<AtomicI64>,
}

impl<P: Persistence + 'static> Clocked<P> {
    /// The service over `persistence`, its clock showing [`T0`].
    pub(super) fn new(persistence: P) -> Self {
        let now = Arc::new(AtomicI64::new(T0.as_millis()));
        let cell = now.clone();
        let service = Service::new(persistence)
            .with_clock(move || Timestamp::from_millis(cell.load(Ordering::SeqCst)));
        Self {
            service: Arc::new(service),
            now,
        }
    }

    /// Moves the clock to `at`.
    pub(super) fn set(&self, at: Timestamp) {
        self.now.store(at.as_millis(), Ordering::SeqCst);
    }

    /// The service as a handler's checkpoint store.
    pub(super) fn store(&self) -> Arc<dyn CheckpointStore> {
        self.service.clone()
    }

    /// Starts `function` named `name`; returns its ARN.
    pub(super) async fn start(&self, function: &str, name: &str) -> String {
        let created = self
            .service
            .start_execution(function, Some(name), None)
            .await
            .unwrap();
        assert!(created.created);
        created.arn
    }

    /// Begins an invocation of `arn`, checkpoints `updates` with its token
    /// and ends it as PENDING.
    pub(super) async fn run_pending(&self, arn: &str, updates: Vec<OperationUpdate>) {
        let envelope = self.service.begin_invocation(arn, "kit").await.unwrap();
        self.service
            .checkpoint(arn, &envelope.checkpoint_token, updates)
            .await
            .unwrap();
        let outcome = InvocationOutcome::Returned(InvocationOutput::pending());
        self.service
            .complete_invocation(arn, outcome)
            .await
            .unwrap();
    }

    /// What the service shows of `arn`.
    pub(super) async fn describe(&self, arn: &str) -> ExecutionDescription {
        self.service.describe(arn).await.unwrap()
    }
}
