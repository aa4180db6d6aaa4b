//! A worker whose shutdown future itself writes to the database while many
//! executions are held inside a step: the memory benchmark's workload,
//! which used to stall on `SQLite`.

use std::sync::Arc;
use std::time::Duration;

use durable_core::model::ExecutionStatus;
use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_runtime::{ListFilter, Service, Worker};
use tokio::sync::Semaphore;

use super::TestDir;
use crate::SqlitePersistence;

/// How many executions are held inside their step at once.
const HELD: usize = 100;

/// One step that notes it entered, then waits for `gate` to close.
fn held_step(gate: Arc<Semaphore>, entered: Arc<Semaphore>) -> DurableFunction {
    DurableFunction::new(move |(): (), ctx: DurableContext| {
        let gate = gate.clone();
        let entered = entered.clone();
        async move {
            ctx.step(move |_| async move {
                entered.add_permits(1);
                let _ = gate.acquire().await;
                Ok::<_, DurableError>(())
            })
            .await
        }
    })
}

/// The shutdown future starts the executions (each start is a write
/// transaction) and waits for all of them to be inside their step. The
/// worker must keep polling it while it claims: a start frozen between
/// `BEGIN IMMEDIATE` and `COMMIT` holds `SQLite`'s one write lock, and the
/// claim then waits for that lock — and so does every turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_future_that_writes_does_not_stall_the_worker() {
    let dir = TestDir::new("held");
    let store = SqlitePersistence::open(&dir.file("durable.db"))
        .await
        .unwrap();
    let service = Arc::new(Service::new(store));
    let gate = Arc::new(Semaphore::new(0));
    let entered = Arc::new(Semaphore::new(0));
    let worker = Worker::new(service.clone())
        .register("hold", held_step(gate.clone(), entered.clone()))
        .concurrency(HELD + 16)
        .poll_interval(Duration::from_millis(5));

    // Far beyond what 100 starts and 100 first steps take (well under a
    // second); a single stall costs the busy timeout, 5 s.
    let bound = Duration::from_secs(20);
    let driver = {
        let service = service.clone();
        let (gate, entered) = (gate.clone(), entered.clone());
        async move {
            let held = tokio::time::timeout(bound, async {
                for _ in 0..HELD {
                    service.start_execution("hold", None, None).await?;
                }
                drop(entered.acquire_many(u32::try_from(HELD).unwrap()).await);
                Ok::<_, durable_runtime::RuntimeError>(())
            })
            .await;
            // Release the holders whatever happened, so the worker can stop.
            gate.close();
            held
        }
    };
    let (report, outcome) = tokio::sync::oneshot::channel();
    worker
        .run_until(async move {
            let _ = report.send(driver.await);
        })
        .await;
    let inside = entered.available_permits();
    match outcome.await.unwrap() {
        Ok(Ok(())) => {}
        Ok(Err(error)) => panic!("a start failed ({inside} of {HELD} inside): {error}"),
        Err(elapsed) => {
            panic!("only {inside} of {HELD} executions got inside their step: {elapsed}")
        }
    }

    // The worker finished the turns in flight before returning.
    let succeeded = ListFilter {
        status: Some(ExecutionStatus::Succeeded),
        ..ListFilter::default()
    };
    let done = service
        .list(&succeeded, None, 1000)
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(done, HELD, "every held execution finished once released");
}
