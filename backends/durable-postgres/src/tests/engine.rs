//! A workflow run by the real engine over `PostgreSQL`, driven by hand the
//! way a worker drives it, with the pool closed and a new one connected
//! between its two invocations.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use durable_core::model::{
    EventType, ExecutionStatus, InvocationOutput, InvocationStatus, Timestamp,
};
use durable_core::service::InvocationOutcome;
use durable_core::{CheckpointStore, DurableContext, DurableError, DurableFunction};
use durable_runtime::{Persistence, Service};
use durable_testing::VirtualClock;

use sqlx::postgres::PgConnectOptions;

use super::{connect, fresh_options};
use crate::PostgresPersistence;

const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);
const HOUR: Duration = Duration::from_secs(3600);
const LEASE: Duration = Duration::from_secs(30);

/// `greet` (counted), a one-hour wait, then `shout`.
fn greet_then_wait(runs: Arc<AtomicUsize>) -> DurableFunction {
    DurableFunction::new(move |name: String, ctx: DurableContext| {
        let runs = runs.clone();
        async move {
            let greeting: String = ctx
                .step(move |_| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, DurableError>(format!("Hello, {name}"))
                })
                .name("greet")
                .await?;
            ctx.wait(HOUR).name("pause").await?;
            ctx.step(move |_| async move { Ok::<_, DurableError>(greeting.to_uppercase()) })
                .name("shout")
                .await
        }
    })
}

/// A service over the database `options` name, on `clock`.
async fn service_at(
    options: &PgConnectOptions,
    clock: &Arc<VirtualClock>,
) -> Arc<Service<PostgresPersistence>> {
    let store = connect(options).await;
    let now = clock.clone();
    Arc::new(Service::new(store).with_clock(move || now.now()))
}

/// Claims `arn` as a worker would, runs one invocation, releases the lease.
async fn invoke(
    service: &Arc<Service<PostgresPersistence>>,
    function: &DurableFunction,
    arn: &str,
) -> InvocationOutput {
    let now = service.now();
    let claimed = service
        .persistence()
        .claim_due(now, "worker-1", now.plus(LEASE), 10)
        .await
        .unwrap();
    assert_eq!(claimed, [arn], "the execution is due");
    let envelope = service.begin_invocation(arn, "request-1").await.unwrap();
    let store: Arc<dyn CheckpointStore> = service.clone();
    let output = durable_core::invocation::run(function, envelope, store)
        .await
        .unwrap();
    service
        .complete_invocation(arn, InvocationOutcome::Returned(output.clone()))
        .await
        .unwrap();
    assert!(
        service
            .persistence()
            .release_lease(arn, "worker-1")
            .await
            .unwrap()
    );
    output
}

#[tokio::test]
async fn a_step_wait_step_workflow_survives_a_reconnect_between_invocations() {
    let options = fresh_options().await;
    let clock = Arc::new(VirtualClock::new(T0));
    let runs = Arc::new(AtomicUsize::new(0));
    let function = greet_then_wait(runs.clone());

    let service = service_at(&options, &clock).await;
    let arn = service
        .start_execution("greeter", Some("world"), Some("\"World\"".into()))
        .await
        .unwrap()
        .arn;
    let output = invoke(&service, &function, &arn).await;
    assert_eq!(output.status, InvocationStatus::Pending);
    let described = service.describe(&arn).await.unwrap();
    assert_eq!(described.status, ExecutionStatus::Running);
    assert_eq!(described.next_wake_up, Some(T0.plus(HOUR)));
    assert!(
        service
            .persistence()
            .claim_due(T0, "w", T0.plus(LEASE), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing is due before the wait ends"
    );
    service.persistence().close().await;
    drop(service);

    // A new process, an hour later.
    clock.advance(HOUR);
    let service = service_at(&options, &clock).await;
    let again = service
        .start_execution("greeter", Some("world"), Some("\"World\"".into()))
        .await
        .unwrap();
    assert_eq!(again.arn, arn, "starting by name again finds it");
    assert!(!again.created);
    assert!(service.fire_due(&arn).await.unwrap().needs_invocation);
    let output = invoke(&service, &function, &arn).await;
    assert_eq!(output.status, InvocationStatus::Succeeded);

    let done = service.describe(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.result.as_deref(), Some("\"HELLO, WORLD\""));
    assert_eq!(done.invocation_count, 2);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the first step was replayed"
    );
    let mut types = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = service.history(&arn, marker.as_deref(), 3).await.unwrap();
        types.extend(page.items.iter().map(|e| e.event_type));
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    assert_eq!(
        types,
        [
            EventType::ExecutionStarted,
            EventType::StepStarted,
            EventType::StepSucceeded,
            EventType::WaitStarted,
            EventType::InvocationCompleted,
            EventType::WaitSucceeded,
            EventType::StepStarted,
            EventType::StepSucceeded,
            EventType::InvocationCompleted,
            EventType::ExecutionSucceeded,
        ]
    );
    let later = T0.plus(Duration::from_secs(100_000));
    assert!(
        service
            .persistence()
            .claim_due(later, "w", later, 10)
            .await
            .unwrap()
            .is_empty(),
        "an ended execution is never due"
    );
}

#[tokio::test]
async fn a_callback_completed_after_a_reconnect_resumes_the_workflow() {
    let options = fresh_options().await;
    let clock = Arc::new(VirtualClock::new(T0));
    let function = DurableFunction::new(|_: serde_json::Value, ctx: DurableContext| async move {
        let callback = ctx.create_callback().name("approval").await?;
        let approval: String = callback.await?;
        Ok::<_, DurableError>(format!("approved: {approval}"))
    });

    let service = service_at(&options, &clock).await;
    let arn = service
        .start_execution("approver", None, Some("{}".into()))
        .await
        .unwrap()
        .arn;
    let output = invoke(&service, &function, &arn).await;
    assert_eq!(output.status, InvocationStatus::Pending);
    let described = service.describe(&arn).await.unwrap();
    let callback_id = described.callback_id("approval").unwrap().to_owned();
    service.persistence().close().await;
    drop(service);

    let service = service_at(&options, &clock).await;
    service.callback_heartbeat(&callback_id).await.unwrap();
    service.callback_succeed(&callback_id, "yes").await.unwrap();
    assert!(service.fire_due(&arn).await.unwrap().needs_invocation);
    let output = invoke(&service, &function, &arn).await;
    assert_eq!(output.status, InvocationStatus::Succeeded);
    let done = service.describe(&arn).await.unwrap();
    assert_eq!(done.result.as_deref(), Some("\"approved: yes\""));
    assert!(
        service
            .callback_succeed(&callback_id, "again")
            .await
            .is_err(),
        "a completed callback cannot complete again"
    );
}
