//! Callbacks: the runner stops while one is awaited; time and results are
//! then the caller's to provide.

use std::time::Duration;

use durable_core::model::{ErrorObject, EventType, ExecutionStatus, OperationStatus};
use durable_core::{DurableContext, DurableError, DurableFunction};

use super::super::*;

fn approval_runner() -> LocalRunner {
    let runner = LocalRunner::new();
    runner.register(
        "approve",
        DurableFunction::new(|_: Option<String>, ctx: DurableContext| async move {
            let callback = ctx
                .create_callback()
                .name("approval")
                .timeout(Duration::from_secs(300))
                .await?;
            ctx.wait(Duration::from_secs(10)).name("grace").await?;
            let answer: String = callback.await?;
            Ok::<_, DurableError>(answer)
        }),
    );
    runner
}

#[tokio::test]
async fn the_runner_stops_while_a_callback_is_awaited() {
    let runner = approval_runner();
    let snapshot = runner.run("approve", None).await.unwrap();
    assert_eq!(snapshot.status, ExecutionStatus::Running);
    assert_eq!(snapshot.invocations, 1);
    let grace = snapshot.operation_by_name("grace").unwrap();
    assert_eq!(
        grace.status,
        OperationStatus::Started,
        "the wait was not skipped past the callback"
    );
    let callback_id = snapshot.callback_id("approval").unwrap().to_owned();

    runner.advance(Duration::from_secs(1)).await.unwrap();
    runner
        .send_callback_success(&callback_id, "yes")
        .await
        .unwrap();
    let done = runner.run_until_idle(&snapshot.arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(done.result.as_deref(), Some("\"yes\""));
    let types: Vec<EventType> = done.history.iter().map(|e| e.event_type).collect();
    // The shape of conformance requirement 4.10: three invocations, the
    // callback result arriving during the wait.
    assert_eq!(
        types,
        [
            EventType::ExecutionStarted,
            EventType::CallbackStarted,
            EventType::WaitStarted,
            EventType::InvocationCompleted,
            EventType::CallbackSucceeded,
            EventType::InvocationCompleted,
            EventType::WaitSucceeded,
            EventType::InvocationCompleted,
            EventType::ExecutionSucceeded,
        ]
    );
    assert!(matches!(
        runner.send_callback_heartbeat(&callback_id).await,
        Err(RunnerError::Service(_))
    ));
}

#[tokio::test]
async fn run_to_completion_lets_callbacks_time_out() {
    let runner = approval_runner();
    let arn = runner.start("approve", None).await.unwrap();
    let snapshot = runner.run_to_completion(&arn).await.unwrap();
    assert_eq!(snapshot.status, ExecutionStatus::Failed, "{snapshot:#?}");
    let op = snapshot.operation_by_name("approval").unwrap();
    assert_eq!(op.status, OperationStatus::TimedOut);
    assert!(
        snapshot
            .history
            .iter()
            .any(|e| e.event_type == EventType::CallbackTimedOut)
    );
}

#[tokio::test]
async fn callback_failures_reach_the_handler() {
    let runner = approval_runner();
    let snapshot = runner.run("approve", None).await.unwrap();
    let callback_id = snapshot.callback_id("approval").unwrap().to_owned();
    runner
        .send_callback_failure(&callback_id, ErrorObject::new("Rejected", "no"))
        .await
        .unwrap();
    let done = runner.run_until_idle(&snapshot.arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed, "{done:#?}");
    assert!(
        done.history
            .iter()
            .any(|e| e.event_type == EventType::CallbackFailed)
    );
}
