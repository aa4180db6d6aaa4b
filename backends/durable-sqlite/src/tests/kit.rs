//! The persistence conformance kit, each test on a fresh database file.

use std::sync::Arc;

use durable_runtime::kit;

use super::TestDir;

macro_rules! kit_tests {
    ($($name:ident),+ $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let dir = TestDir::new(stringify!($name));
            kit::$name(&dir.fresh().await).await;
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

#[tokio::test]
async fn the_whole_kit_runs_through_arc() {
    let dir = TestDir::new("run-all");
    kit::run_all(async || Arc::new(dir.fresh().await)).await;
}

#[tokio::test]
async fn the_whole_kit_runs_through_a_trait_object() {
    let dir = TestDir::new("run-all-dyn");
    kit::run_all(async || {
        let store: Arc<dyn durable_runtime::Persistence> = Arc::new(dir.fresh().await);
        store
    })
    .await;
}
