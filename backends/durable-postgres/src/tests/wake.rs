//! `LISTEN`/`NOTIFY` wake-ups: a start and a completed callback wake
//! workers at once; checkpoints and timers never notify.

use std::sync::Arc;
use std::time::Duration;

use durable_core::model::ExecutionStatus;
use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_runtime::{Service, Worker};
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

use super::{connect, fresh_options};
use crate::WAKE_CHANNEL;

/// Step `a`, a callback whose id goes to `ids`, then step `b`.
fn step_callback_step(ids: mpsc::UnboundedSender<String>) -> DurableFunction {
    DurableFunction::new(move |(): (), ctx: DurableContext| {
        let ids = ids.clone();
        async move {
            ctx.step(|_| async { Ok::<_, DurableError>(1) })
                .name("a")
                .await?;
            let approval: String = ctx
                .wait_for_callback(move |id, _| async move {
                    ids.send(id)
                        .map_err(|_| DurableError::message("nobody listens"))
                })
                .name("approval")
                .await?;
            ctx.step(move |_| async move { Ok::<_, DurableError>(format!("b after {approval}")) })
                .name("b")
                .await
        }
    })
}

/// How many notifications arrive on `listener` within `within`.
async fn drain(listener: &mut PgListener, within: Duration) -> usize {
    let mut count = 0;
    while let Ok(Ok(_)) = tokio::time::timeout(within, listener.recv()).await {
        count += 1;
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_and_callbacks_wake_a_worker_that_would_poll_in_an_hour() {
    let options = fresh_options().await;
    let store = connect(&options).await;
    let mut listener = PgListener::connect_with(store.pool()).await.unwrap();
    listener.listen(WAKE_CHANNEL).await.unwrap();
    let service = Arc::new(Service::new(store));
    let (ids, mut callback_ids) = mpsc::unbounded_channel();
    // One poll when it starts, the next in an hour: only wake-ups help.
    let worker = Worker::new(service.clone())
        .register("flow", step_callback_step(ids))
        .poll_interval(Duration::from_secs(3600));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let arn = service
        .start_execution("flow", Some("w1"), None)
        .await
        .unwrap()
        .arn;
    let callback_id = tokio::time::timeout(Duration::from_secs(10), callback_ids.recv())
        .await
        .expect("the start woke the worker")
        .unwrap();
    // The start notified once; step `a`, the callback's creation and the
    // suspension did not.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(drain(&mut listener, Duration::from_millis(300)).await, 1);

    service.callback_succeed(&callback_id, "ok").await.unwrap();
    let mut done = None;
    for _ in 0..200 {
        let described = service.describe(&arn).await.unwrap();
        if described.status != ExecutionStatus::Running {
            done = Some(described);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = stop.send(());
    running.await.unwrap();
    let done = done.expect("the callback woke the worker");
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(done.result.as_deref(), Some("\"b after ok\""));
    // The callback notified once; the second invocation's checkpoints and
    // its end did not.
    assert_eq!(drain(&mut listener, Duration::from_millis(300)).await, 1);
}
