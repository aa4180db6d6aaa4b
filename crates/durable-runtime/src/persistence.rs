//! The seam every self-hosted backend implements.

use std::sync::Arc;

use async_trait::async_trait;
use durable_core::model::{Event, Timestamp};

use crate::delta::{Created, Creation, Delta, ExecutionSummary, ListFilter, Page, StoredExecution};
use crate::error::PersistenceError;

/// Wake-ups from a backend (see [`Persistence::wake_ups`]): each
/// [`changed`](tokio::sync::watch::Receiver::changed) says that executions
/// may have become due from outside, so an idle worker claims at once
/// instead of at its next poll. The backend sends with
/// [`send_replace`](tokio::sync::watch::Sender::send_replace)`(())`; when it
/// drops its sender, the worker goes back to polling only.
pub type WakeUps = tokio::sync::watch::Receiver<()>;

/// Where a self-hosted deployment keeps its executions.
///
/// Small and dumb on purpose: it stores what [`Service`](crate::Service)
/// hands it and knows no semantics. An execution is stored in four parts,
/// each of which a backend may keep as it likes (columns, rows, items):
/// the identity (written once), the header (a small opaque document,
/// replaced on each commit) with its index fields (`status`,
/// `end_timestamp`, `due_at`), the operations (one per id, at a fixed
/// position) and the history events (appended). Beside them it keeps a
/// version, a lease (owner, expiry) and an index from callback id to
/// execution.
///
/// # Contract
///
/// - **Atomicity.** [`create_execution`](Self::create_execution) and
///   [`commit`](Self::commit) write all of their header, index fields,
///   operations, events and callback ids, or nothing. No reader ever sees
///   part of a delta. One commit is one write (one transaction, one
///   conditional batch), whatever the length of the history.
/// - **Fencing by version.** Every execution has a version: 1 once created,
///   one more after each successful commit. `commit` applies only if the
///   stored version is `expected_version` and returns the new one.
/// - **Conflict.** [`PersistenceError::Conflict`] means someone else
///   committed since the caller loaded; nothing was written. The caller
///   loads again and re-applies its rule to the new state — it never
///   resends the same delta, which was computed from a state that is gone.
/// - **Deltas.** The header and the index fields replace the stored ones.
///   Each operation is upserted by id at its position: an operation keeps
///   the position it was first stored at, and a new one takes the next
///   free position. Events are appended with the ids they carry, which
///   continue the stored history (1, 2, 3… without gaps); a backend may
///   refuse a delta that does not fit with
///   [`PersistenceError::InvalidDelta`]. Every callback id in an upserted
///   operation's `CallbackDetails` ([`Delta::callback_ids`]) becomes
///   findable in the same commit.
/// - **Ordering.** [`load`](Self::load) returns operations by position
///   (first-start order); [`history_page`](Self::history_page) returns
///   events by id; [`list`](Self::list) returns executions in creation
///   order; [`claim_due`](Self::claim_due) returns the earliest due first.
/// - **Idempotency.** `create_execution` is idempotent by (function name,
///   execution name): creating a pair that exists returns the existing ARN
///   with `created: false` and writes nothing, whatever the input. A new
///   pair whose ARN is taken is a `Conflict` with `expected: 0`.
///   Renewing or releasing a lease one holds can be repeated.
/// - **Leases.** A lease says which worker should run an execution; it is
///   scheduling, not safety. Writes are fenced by the version (and, for a
///   handler, by its single-use checkpoint token), so a worker that lost its
///   lease cannot corrupt anything. Commits never change leases; leases
///   never change versions.
/// - **Missing executions.** `load` returns `Ok(None)`; `commit`,
///   `renew_lease`, `release_lease` and `history_page` fail with
///   [`PersistenceError::NotFound`].
/// - **Stored data.** Data that cannot be read back (bad JSON, parts that
///   do not fit together) is [`PersistenceError::Corrupt`], never a panic.
/// - **Markers** are opaque strings the backend issued; any other is
///   [`PersistenceError::InvalidMarker`]. A `limit` of 0 counts as 1.
///
/// The functions of [`kit`](crate::kit) (feature `kit`) check this contract;
/// every backend runs them against itself.
#[async_trait]
pub trait Persistence: Send + Sync {
    /// Stores a new execution at version 1, idempotently by (function
    /// name, execution name). It is due at `creation.delta.due_at` and
    /// not leased.
    async fn create_execution(&self, creation: Creation) -> Result<Created, PersistenceError>;

    /// The execution with its operations (not its history) and version.
    async fn load(&self, arn: &str) -> Result<Option<StoredExecution>, PersistenceError>;

    /// Applies `delta` if the execution is at `expected_version`; returns
    /// the new version.
    async fn commit(
        &self,
        arn: &str,
        expected_version: u64,
        delta: Delta,
    ) -> Result<u64, PersistenceError>;

    /// Leases up to `limit` executions that are due at `now` (`due_at <=
    /// now`) and not leased (no lease, or one that expired at or before
    /// `now`) to `owner` until `lease_until`, atomically per execution, and
    /// returns their ARNs, the earliest due first. Two claims never both
    /// get an execution whose lease is live.
    async fn claim_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>, PersistenceError>;

    /// Extends `owner`'s lease to `lease_until`. `false` if `owner` does not
    /// hold it (another worker took it over, or it was released); an
    /// expired lease nobody took over is still `owner`'s.
    async fn renew_lease(
        &self,
        arn: &str,
        owner: &str,
        lease_until: Timestamp,
    ) -> Result<bool, PersistenceError>;

    /// Drops `owner`'s lease. `false` if `owner` does not hold it.
    async fn release_lease(&self, arn: &str, owner: &str) -> Result<bool, PersistenceError>;

    /// The ARN of the execution that has a callback with this id.
    async fn find_by_callback_id(
        &self,
        callback_id: &str,
    ) -> Result<Option<String>, PersistenceError>;

    /// A page of at most `limit` executions passing `filter`, in creation
    /// order, from `marker`.
    async fn list(
        &self,
        filter: &ListFilter,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<ExecutionSummary>, PersistenceError>;

    /// A page of at most `limit` events of the execution's history, by
    /// event id, from `marker`.
    async fn history_page(
        &self,
        arn: &str,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<Event>, PersistenceError>;

    /// Optional: a new subscription to wake-ups, sent when an execution
    /// becomes due from outside (started, a callback completed) — never on
    /// every commit. A [`Worker`](crate::Worker) subscribes once when it
    /// starts and claims as soon as one arrives; polling stays the fallback,
    /// so a lost wake-up only delays a claim to the next poll. Called
    /// inside a Tokio runtime (a backend may spawn a listener). `None`, the
    /// default, means workers only poll.
    fn wake_ups(&self) -> Option<WakeUps> {
        None
    }
}

#[async_trait]
impl<P: Persistence + ?Sized> Persistence for Arc<P> {
    async fn create_execution(&self, creation: Creation) -> Result<Created, PersistenceError> {
        (**self).create_execution(creation).await
    }

    async fn load(&self, arn: &str) -> Result<Option<StoredExecution>, PersistenceError> {
        (**self).load(arn).await
    }

    async fn commit(
        &self,
        arn: &str,
        expected_version: u64,
        delta: Delta,
    ) -> Result<u64, PersistenceError> {
        (**self).commit(arn, expected_version, delta).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>, PersistenceError> {
        (**self).claim_due(now, owner, lease_until, limit).await
    }

    async fn renew_lease(
        &self,
        arn: &str,
        owner: &str,
        lease_until: Timestamp,
    ) -> Result<bool, PersistenceError> {
        (**self).renew_lease(arn, owner, lease_until).await
    }

    async fn release_lease(&self, arn: &str, owner: &str) -> Result<bool, PersistenceError> {
        (**self).release_lease(arn, owner).await
    }

    async fn find_by_callback_id(
        &self,
        callback_id: &str,
    ) -> Result<Option<String>, PersistenceError> {
        (**self).find_by_callback_id(callback_id).await
    }

    async fn list(
        &self,
        filter: &ListFilter,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<ExecutionSummary>, PersistenceError> {
        (**self).list(filter, marker, limit).await
    }

    async fn history_page(
        &self,
        arn: &str,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<Event>, PersistenceError> {
        (**self).history_page(arn, marker, limit).await
    }

    fn wake_ups(&self) -> Option<WakeUps> {
        (**self).wake_ups()
    }
}
