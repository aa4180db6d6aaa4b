//! The persistence conformance kit, each test on a fresh database.

use std::sync::Arc;

use durable_runtime::kit;

use super::fresh;

macro_rules! kit_tests {
    ($($name:ident),+ $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            kit::$name(&fresh().await).await;
        }
    )+};
}

kit_tests!(
    creation_is_idempotent_by_name,
    commits_are_fenced_by_version,
    commits_round_trip_operations_and_events,
    deltas_that_do_not_fit_are_refused,
    claims_take_due_executions_with_a_lease,
    expired_leases_are_taken_over,
    leases_and_versions_are_independent,
    callbacks_are_found_by_id,
    history_is_paged_in_order,
    executions_are_listed_in_creation_order,
    unknown_executions_are_reported,
);

/// The kit functions that take the backend by value (they race tasks over
/// it or run a service on it).
macro_rules! owned_kit_tests {
    ($($name:ident),+ $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            kit::$name(fresh().await).await;
        }
    )+};
}

owned_kit_tests!(
    racing_runners_cannot_both_checkpoint,
    concurrent_commits_at_one_version_have_one_winner,
    racing_claims_never_share_an_execution,
    stale_tokens_are_rejected_by_the_service,
    unknown_callback_ids_change_nothing,
    callbacks_time_out_and_heartbeats_push_the_deadline,
    timers_fire_in_due_order,
    large_payloads_round_trip_up_to_the_limit,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_whole_kit_runs_through_arc() {
    kit::run_all(async || Arc::new(fresh().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_whole_kit_runs_through_a_trait_object() {
    kit::run_all(async || {
        let store: Arc<dyn durable_runtime::Persistence> = Arc::new(fresh().await);
        store
    })
    .await;
}
