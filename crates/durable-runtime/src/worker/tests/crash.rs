//! Workers that die, handlers that panic.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

use super::*;
use crate::driver::{LOST_INVOCATION_MESSAGE, PANIC_ERROR_TYPE};

/// Step `a`, then step `b`, whose first run never ends (until its worker dies).
fn hangs_in_b_once(counts: &Counts, b_started: &Arc<Notify>) -> DurableFunction {
    let (counts, b_started) = (counts.clone(), b_started.clone());
    let b_runs = Arc::new(AtomicUsize::new(0));
    DurableFunction::new(move |(): (), ctx: DurableContext| {
        let (counts, b_started, b_runs) = (counts.clone(), b_started.clone(), b_runs.clone());
        async move {
            let a_counts = counts.clone();
            ctx.step(move |_| async move {
                a_counts.bump("a".into());
                Ok::<_, DurableError>(1)
            })
            .name("a")
            .await?;
            ctx.step(move |_| async move {
                counts.bump("b".into());
                if b_runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    b_started.notify_one();
                    std::future::pending::<()>().await;
                }
                Ok::<_, DurableError>(2)
            })
            .name("b")
            .await
        }
    })
}

async fn history_text(service: &TestService, arn: &str) -> String {
    let page = service.history(arn, None, 1000).await.unwrap();
    serde_json::to_string(&page.items).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_worker_takes_over_after_the_first_dies_mid_step() {
    let service = service();
    let counts = Counts::default();
    let b_started = Arc::new(Notify::new());
    let flow = hangs_in_b_once(&counts, &b_started);
    let first = Running::spawn(worker(&service, "w1").register("flow", flow.clone()));
    let arn = service
        .start_execution("flow", None, None)
        .await
        .unwrap()
        .arn;
    tokio::time::timeout(Duration::from_secs(5), b_started.notified())
        .await
        .unwrap();
    // The first worker dies: no graceful shutdown, its lease is left to expire.
    first.task.abort();
    assert!(first.task.await.unwrap_err().is_cancelled());
    let running = service.describe(&arn).await.unwrap();
    assert!(running.invocation_running, "{running:#?}");

    let second = Running::spawn(worker(&service, "w2").register("flow", flow));
    let done = wait_ended(
        &service,
        std::slice::from_ref(&arn),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(done[0].status, ExecutionStatus::Succeeded, "{:#?}", done[0]);
    assert_eq!(done[0].result.as_deref(), Some("2"));
    assert_eq!(counts.get("a"), 1, "a recorded step ran again");
    assert_eq!(counts.get("b"), 2, "b never finished on the first worker");
    let history = history_text(&service, &arn).await;
    assert!(history.contains(PANIC_ERROR_TYPE), "{history}");
    assert!(history.contains(LOST_INVOCATION_MESSAGE), "{history}");
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_a_crashed_invocation_and_runs_again() {
    let service = service();
    let invocations = Arc::new(AtomicUsize::new(0));
    let seen = invocations.clone();
    let flaky = DurableFunction::new(move |(): (), _ctx: DurableContext| {
        let seen = seen.clone();
        async move {
            assert!(
                seen.fetch_add(1, Ordering::SeqCst) > 0,
                "first invocation blows up"
            );
            Ok::<_, DurableError>("fine")
        }
    });
    let running = Running::spawn(worker(&service, "w1").register("flaky", flaky));
    let arn = service
        .start_execution("flaky", None, None)
        .await
        .unwrap()
        .arn;
    let done = wait_ended(&service, std::slice::from_ref(&arn), Duration::from_secs(5)).await;
    assert_eq!(done[0].status, ExecutionStatus::Succeeded, "{:#?}", done[0]);
    assert_eq!(invocations.load(Ordering::SeqCst), 2);
    let history = history_text(&service, &arn).await;
    assert!(history.contains(PANIC_ERROR_TYPE), "{history}");
    assert!(history.contains("first invocation blows up"), "{history}");
    running.shutdown().await;
}

/// A worker that lost its execution cannot end the invocation that
/// replaced its own: invocations are fenced by request id.
#[tokio::test]
async fn a_stale_worker_cannot_complete_another_invocation() {
    use durable_core::model::InvocationOutput;
    use durable_core::service::InvocationOutcome;

    use crate::RuntimeError;

    let service = service();
    let arn = service
        .start_execution("flow", None, None)
        .await
        .unwrap()
        .arn;
    service.begin_invocation(&arn, "old").await.unwrap();
    let lost = durable_core::model::ErrorObject::new(PANIC_ERROR_TYPE, LOST_INVOCATION_MESSAGE);
    assert!(
        service
            .abandon_invocation(&arn, "old", lost.clone())
            .await
            .unwrap()
    );
    assert!(!service.abandon_invocation(&arn, "old", lost).await.unwrap());
    tokio::time::sleep(Duration::from_millis(60)).await; // the retry backoff
    assert!(service.fire_due(&arn).await.unwrap().needs_invocation);
    service.begin_invocation(&arn, "new").await.unwrap();
    let pending = InvocationOutcome::Returned(InvocationOutput::pending());
    let error = service
        .complete_invocation_of(&arn, "old", pending.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RuntimeError::StaleToken { .. }),
        "{error:?}"
    );
    assert!(service.describe(&arn).await.unwrap().invocation_running);
    service
        .complete_invocation_of(&arn, "new", pending)
        .await
        .unwrap();
}
