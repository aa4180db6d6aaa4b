//! Wrappers that count writes: commits on a [`Persistence`], checkpoint
//! calls on a [`CheckpointStore`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use durable_core::model::{Event, ExecutionState, OperationUpdate, Timestamp};
use durable_core::{CheckpointResponse, CheckpointStore, StoreError};
use durable_runtime::{
    Created, Creation, Delta, ExecutionSummary, ListFilter, Page, Persistence, PersistenceError,
    StoredExecution,
};

/// Counts the write transactions a backend is asked for.
#[derive(Debug, Default)]
pub struct WriteCounter {
    commits: AtomicU64,
    lease_writes: AtomicU64,
}

impl WriteCounter {
    /// Fenced commits of a delta (one transaction each).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Claims, renewals and releases of leases (one transaction each).
    pub fn lease_writes(&self) -> u64 {
        self.lease_writes.load(Ordering::Relaxed)
    }

    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A [`Persistence`] that counts its writes in a shared [`WriteCounter`].
#[derive(Debug)]
pub struct CountingPersistence<P> {
    inner: P,
    counter: Arc<WriteCounter>,
}

impl<P> CountingPersistence<P> {
    /// `inner`, counted into `counter`.
    pub fn new(inner: P, counter: Arc<WriteCounter>) -> Self {
        Self { inner, counter }
    }
}

#[async_trait]
impl<P: Persistence> Persistence for CountingPersistence<P> {
    async fn create_execution(&self, creation: Creation) -> Result<Created, PersistenceError> {
        self.inner.create_execution(creation).await
    }

    async fn load(&self, arn: &str) -> Result<Option<StoredExecution>, PersistenceError> {
        self.inner.load(arn).await
    }

    async fn commit(
        &self,
        arn: &str,
        expected_version: u64,
        delta: Delta,
    ) -> Result<u64, PersistenceError> {
        WriteCounter::bump(&self.counter.commits);
        self.inner.commit(arn, expected_version, delta).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>, PersistenceError> {
        WriteCounter::bump(&self.counter.lease_writes);
        self.inner.claim_due(now, owner, lease_until, limit).await
    }

    async fn renew_lease(
        &self,
        arn: &str,
        owner: &str,
        lease_until: Timestamp,
    ) -> Result<bool, PersistenceError> {
        WriteCounter::bump(&self.counter.lease_writes);
        self.inner.renew_lease(arn, owner, lease_until).await
    }

    async fn release_lease(&self, arn: &str, owner: &str) -> Result<bool, PersistenceError> {
        WriteCounter::bump(&self.counter.lease_writes);
        self.inner.release_lease(arn, owner).await
    }

    async fn find_by_callback_id(
        &self,
        callback_id: &str,
    ) -> Result<Option<String>, PersistenceError> {
        self.inner.find_by_callback_id(callback_id).await
    }

    async fn list(
        &self,
        filter: &ListFilter,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<ExecutionSummary>, PersistenceError> {
        self.inner.list(filter, marker, limit).await
    }

    async fn history_page(
        &self,
        arn: &str,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<Event>, PersistenceError> {
        self.inner.history_page(arn, marker, limit).await
    }
}

/// A [`CheckpointStore`] that counts the checkpoint calls the engine makes:
/// on AWS Lambda each one is a `CheckpointDurableExecution` API call.
#[derive(Debug)]
pub struct CountingStore<S> {
    inner: S,
    checkpoints: AtomicU64,
}

impl<S> CountingStore<S> {
    /// `inner`, counted.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            checkpoints: AtomicU64::new(0),
        }
    }

    /// Checkpoint calls so far.
    pub fn checkpoints(&self) -> u64 {
        self.checkpoints.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl<S: CheckpointStore> CheckpointStore for CountingStore<S> {
    async fn checkpoint(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointResponse, StoreError> {
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
        self.inner
            .checkpoint(execution_arn, checkpoint_token, updates)
            .await
    }

    async fn state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, StoreError> {
        self.inner
            .state(execution_arn, checkpoint_token, marker)
            .await
    }
}
