//! Workflows run by the real engine with the service as their checkpoint
//! store, driven by hand the way a worker will drive them.

use std::sync::atomic::{AtomicUsize, Ordering};

use durable_core::model::{ExecutionStatus, InvocationStatus, OperationStatus};
use durable_core::{DurableContext, DurableError, DurableFunction, RetryStrategy};

use super::*;

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
            ctx.wait(secs(3600)).name("pause").await?;
            ctx.step(move |_| async move { Ok::<_, DurableError>(greeting.to_uppercase()) })
                .name("shout")
                .await
        }
    })
}

#[tokio::test]
async fn a_step_and_wait_workflow_completes_across_invocations() {
    let (service, clock) = service();
    let runs = Arc::new(AtomicUsize::new(0));
    let function = greet_then_wait(runs.clone());
    let arn = service
        .start_execution("greeter", Some("world"), Some("\"World\"".into()))
        .await
        .unwrap()
        .arn;

    let output = invoke(&service, &function, &arn).await;
    assert_eq!(output.status, InvocationStatus::Pending);
    let described = service.describe(&arn).await.unwrap();
    assert_eq!(described.status, ExecutionStatus::Running);
    assert_eq!(described.next_wake_up, Some(T0.plus(secs(3600))));
    assert!(!described.invocation_running);
    let schedule = service.fire_due(&arn).await.unwrap();
    assert!(!schedule.needs_invocation, "the hour has not passed");
    assert!(
        service
            .persistence()
            .claim_due(T0, "w", T0.plus(secs(30)), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing is due before the wait ends"
    );

    clock.advance(secs(3600));
    let version = service.describe(&arn).await.unwrap().version;
    let schedule = service.fire_due(&arn).await.unwrap();
    assert!(schedule.needs_invocation);
    assert_eq!(service.describe(&arn).await.unwrap().version, version + 1);
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
    assert_eq!(
        event_types(&service, &arn).await,
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
    let later = T0.plus(secs(100_000));
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
async fn a_callback_completed_from_outside_resumes_the_workflow() {
    let (service, _clock) = service();
    let function = DurableFunction::new(|_: serde_json::Value, ctx: DurableContext| async move {
        let callback = ctx.create_callback().name("approval").await?;
        let approval: String = callback.await?;
        Ok::<_, DurableError>(format!("approved: {approval}"))
    });
    let arn = service
        .start_execution("approver", None, Some("{}".into()))
        .await
        .unwrap()
        .arn;
    assert_eq!(
        invoke(&service, &function, &arn).await.status,
        InvocationStatus::Pending
    );
    let described = service.describe(&arn).await.unwrap();
    let callback_id = described.callback_id("approval").unwrap().to_owned();
    assert!(!service.fire_due(&arn).await.unwrap().needs_invocation);

    service.callback_heartbeat(&callback_id).await.unwrap();
    service.callback_succeed(&callback_id, "yes").await.unwrap();
    let due = service
        .persistence()
        .claim_due(T0, "w", T0.plus(secs(30)), 10)
        .await
        .unwrap();
    assert_eq!(
        due,
        std::slice::from_ref(&arn),
        "a completed callback makes the execution due"
    );
    assert!(service.fire_due(&arn).await.unwrap().needs_invocation);
    assert_eq!(
        invoke(&service, &function, &arn).await.status,
        InvocationStatus::Succeeded
    );
    let done = service.describe(&arn).await.unwrap();
    assert_eq!(done.result.as_deref(), Some("\"approved: yes\""));
    let callback = done
        .operations
        .iter()
        .find(|op| op.name.as_deref() == Some("approval"));
    assert_eq!(callback.unwrap().status, OperationStatus::Succeeded);

    match service.callback_succeed(&callback_id, "again").await {
        Err(RuntimeError::Refused(error)) => {
            assert!(error.to_string().contains("is not active"), "{error}");
        }
        other => panic!("a completed callback cannot complete again: {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_attempt_is_retried_when_its_delay_is_due() {
    let (service, clock) = service();
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = attempts.clone();
    let function = DurableFunction::new(move |_: serde_json::Value, ctx: DurableContext| {
        let counter = counter.clone();
        async move {
            ctx.step(move |_| async move {
                if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err(DurableError::new("Flaky", "first attempt fails"));
                }
                Ok("ok".to_owned())
            })
            .name("flaky")
            .retry(RetryStrategy::exponential().max_attempts(3))
            .await
        }
    });
    let arn = service
        .start_execution("flaky", None, None)
        .await
        .unwrap()
        .arn;
    assert_eq!(
        invoke(&service, &function, &arn).await.status,
        InvocationStatus::Pending
    );
    let retry_at = service.describe(&arn).await.unwrap().next_wake_up.unwrap();
    assert!(retry_at > T0);
    clock.advance_to(retry_at);
    assert!(service.fire_due(&arn).await.unwrap().needs_invocation);
    assert_eq!(
        invoke(&service, &function, &arn).await.status,
        InvocationStatus::Succeeded
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(
        service.describe(&arn).await.unwrap().result.as_deref(),
        Some("\"ok\"")
    );
}
