//! The persistence conformance kit: one set of tests of the
//! [`Persistence`] contract that every backend runs against itself.
//!
//! Each test is a public async function taking a fresh, empty backend (by
//! reference, or by value when it runs a [`Service`](crate::Service) or
//! races tasks over it); it panics (like `assert!`) on the first broken
//! promise. A backend crate
//! enables the `kit` feature in its dev-dependencies and calls them from its
//! own tests, one `#[tokio::test]` each, or all at once with [`run_all`]:
//!
//! ```ignore
//! #[tokio::test]
//! async fn commits_are_fenced() {
//!     durable_runtime::kit::commits_are_fenced_by_version(&fresh_sqlite().await).await;
//! }
//! ```
//!
//! The tests drive executions through the real service rules
//! ([`ExecutionRecord`]) and write what they change with [`Delta::capture`],
//! exactly as [`Service`](crate::Service) does, at fixed times from [`T0`];
//! or run the service itself over the backend, on a clock they move, with
//! handlers run by [`durable_core::invocation::run`] where one is needed.

// The kit is test code: a broken promise must fail the calling test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::missing_panics_doc
)]

mod callbacks;
mod clocked;
mod leases;
mod payloads;
mod races;
mod reads;
mod timers;
mod writes;

use std::time::Duration;

use durable_core::CheckpointResponse;
use durable_core::model::{
    CallbackOptions, InvocationOutput, OperationAction, OperationSubType, OperationType,
    OperationUpdate, Timestamp, WaitOptions,
};
use durable_core::service::{
    self, ExecutionRecord, InvocationOutcome, NewExecution, ServiceConfig,
};

pub use callbacks::{
    callbacks_time_out_and_heartbeats_push_the_deadline, stale_tokens_are_rejected_by_the_service,
    unknown_callback_ids_change_nothing,
};
pub use leases::{
    claims_take_due_executions_with_a_lease, expired_leases_are_taken_over,
    leases_and_versions_are_independent,
};
pub use payloads::large_payloads_round_trip_up_to_the_limit;
pub use races::{
    concurrent_commits_at_one_version_have_one_winner, racing_claims_never_share_an_execution,
    racing_runners_cannot_both_checkpoint,
};
pub use reads::{
    callbacks_are_found_by_id, executions_are_listed_in_creation_order, history_is_paged_in_order,
    unknown_executions_are_reported,
};
pub use timers::timers_fire_in_due_order;
pub use writes::{
    commits_are_fenced_by_version, commits_round_trip_operations_and_events,
    creation_is_idempotent_by_name, deltas_that_do_not_fit_are_refused,
};

use crate::delta::{Creation, Delta};
use crate::persistence::Persistence;

/// The time the kit's executions start at.
pub const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// `T0` plus `seconds`.
pub fn at(seconds: u64) -> Timestamp {
    T0.plus(Duration::from_secs(seconds))
}

/// Runs every test of the kit, each on a backend made by `fresh`.
pub async fn run_all<P: Persistence + 'static>(mut fresh: impl AsyncFnMut() -> P) {
    creation_is_idempotent_by_name(&fresh().await).await;
    commits_are_fenced_by_version(&fresh().await).await;
    commits_round_trip_operations_and_events(&fresh().await).await;
    deltas_that_do_not_fit_are_refused(&fresh().await).await;
    claims_take_due_executions_with_a_lease(&fresh().await).await;
    expired_leases_are_taken_over(&fresh().await).await;
    leases_and_versions_are_independent(&fresh().await).await;
    callbacks_are_found_by_id(&fresh().await).await;
    history_is_paged_in_order(&fresh().await).await;
    executions_are_listed_in_creation_order(&fresh().await).await;
    unknown_executions_are_reported(&fresh().await).await;
    racing_runners_cannot_both_checkpoint(fresh().await).await;
    concurrent_commits_at_one_version_have_one_winner(fresh().await).await;
    racing_claims_never_share_an_execution(fresh().await).await;
    stale_tokens_are_rejected_by_the_service(fresh().await).await;
    unknown_callback_ids_change_nothing(fresh().await).await;
    callbacks_time_out_and_heartbeats_push_the_deadline(fresh().await).await;
    timers_fire_in_due_order(fresh().await).await;
    large_payloads_round_trip_up_to_the_limit(fresh().await).await;
}

/// An execution driven by hand through the service rules, its changes
/// committed to a backend the way [`Service`](crate::Service) commits them.
#[derive(Debug)]
pub struct Tracked {
    /// The execution as the rules see it.
    pub record: ExecutionRecord,
    /// The stored version it is at.
    pub version: u64,
    token: Option<String>,
    config: ServiceConfig,
}

impl Tracked {
    /// A new execution of `function` named `name`, created at `now`.
    pub async fn create(
        persistence: &impl Persistence,
        function: &str,
        name: &str,
        now: Timestamp,
    ) -> Self {
        let mut record = new_record(function, name, now);
        let created = persistence
            .create_execution(Creation::capture(&mut record, now))
            .await
            .unwrap();
        assert!(created.created, "a new name creates an execution");
        assert_eq!(created.arn, record.arn());
        Self {
            record,
            version: 1,
            token: None,
            config: ServiceConfig::default(),
        }
    }

    /// The execution's ARN.
    pub fn arn(&self) -> &str {
        self.record.arn()
    }

    /// Begins an invocation at `now` and commits it.
    pub async fn begin(&mut self, persistence: &impl Persistence, now: Timestamp) {
        let envelope = self
            .record
            .begin_invocation(&self.config, "kit-request", now)
            .unwrap();
        self.token = Some(envelope.checkpoint_token);
        self.commit(persistence, now).await;
    }

    /// Checkpoints `updates` at `now` with the current token and commits them.
    pub async fn checkpoint(
        &mut self,
        persistence: &impl Persistence,
        updates: Vec<OperationUpdate>,
        now: Timestamp,
    ) -> CheckpointResponse {
        let token = self.token.clone().expect("an invocation is running");
        let response = self
            .record
            .checkpoint(&self.config, &token, updates, now)
            .unwrap();
        self.token.clone_from(&response.checkpoint_token);
        self.commit(persistence, now).await;
        response
    }

    /// Ends the running invocation as PENDING at `now` and commits it.
    pub async fn suspend(&mut self, persistence: &impl Persistence, now: Timestamp) {
        let outcome = InvocationOutcome::Returned(InvocationOutput::pending());
        self.record
            .complete_invocation(&self.config, outcome, now)
            .unwrap();
        self.token = None;
        self.commit(persistence, now).await;
    }

    /// Ends the running invocation as SUCCEEDED with `result` and commits it.
    pub async fn succeed(&mut self, persistence: &impl Persistence, result: &str, now: Timestamp) {
        let outcome =
            InvocationOutcome::Returned(InvocationOutput::succeeded(Some(result.to_owned())));
        self.record
            .complete_invocation(&self.config, outcome, now)
            .unwrap();
        self.token = None;
        self.commit(persistence, now).await;
    }

    /// Commits what changed since the last commit, expecting success.
    pub async fn commit(&mut self, persistence: &impl Persistence, now: Timestamp) {
        let delta = Delta::capture(&mut self.record, now);
        let version = persistence
            .commit(self.record.arn(), self.version, delta)
            .await
            .unwrap();
        assert_eq!(
            version,
            self.version + 1,
            "each commit adds one to the version"
        );
        self.version = version;
    }
}

/// A new record of `function` named `name`, started at `now`.
pub fn new_record(function: &str, name: &str, now: Timestamp) -> ExecutionRecord {
    let id = service::new_execution_id();
    ExecutionRecord::create(
        NewExecution {
            arn: service::execution_arn(function, name, &id),
            name: name.to_owned(),
            function_name: function.to_owned(),
            input: Some("{\"order\":1}".to_owned()),
            execution_timeout_seconds: None,
        },
        now,
    )
}

/// START of step `id`.
pub fn step_start(id: &str) -> OperationUpdate {
    OperationUpdate {
        sub_type: Some(OperationSubType::Step),
        ..OperationUpdate::new(id, OperationType::Step, OperationAction::Start)
    }
}

/// SUCCEED of step `id` with `payload`.
pub fn step_succeed(id: &str, payload: &str) -> OperationUpdate {
    OperationUpdate {
        sub_type: Some(OperationSubType::Step),
        payload: Some(payload.to_owned()),
        ..OperationUpdate::new(id, OperationType::Step, OperationAction::Succeed)
    }
}

/// START of a wait `id` of `seconds`.
pub fn wait_start(id: &str, seconds: u64) -> OperationUpdate {
    OperationUpdate {
        sub_type: Some(OperationSubType::Wait),
        wait_options: Some(WaitOptions {
            wait_seconds: seconds,
        }),
        ..OperationUpdate::new(id, OperationType::Wait, OperationAction::Start)
    }
}

/// START of a callback `id` without timeouts.
pub fn callback_start(id: &str) -> OperationUpdate {
    OperationUpdate {
        sub_type: Some(OperationSubType::Callback),
        callback_options: Some(CallbackOptions::default()),
        ..OperationUpdate::new(id, OperationType::Callback, OperationAction::Start)
    }
}
