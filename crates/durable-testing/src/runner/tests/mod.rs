use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use durable_core::model::EventType::{self, *};
use durable_core::model::{ExecutionStatus, InvocationOutput, OperationStatus};
use durable_core::service::InvocationOutcome;
use durable_core::{DurableContext, DurableError, DurableFunction, RetryStrategy};

use super::*;

fn event_types(snapshot: &ExecutionSnapshot) -> Vec<EventType> {
    snapshot.history.iter().map(|e| e.event_type).collect()
}

fn step_wait_step() -> DurableFunction {
    DurableFunction::new(|name: String, ctx: DurableContext| async move {
        let greeting: String = ctx
            .step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {name}!")) })
            .name("greet")
            .await?;
        ctx.wait(Duration::from_secs(3600)).name("an-hour").await?;
        ctx.step(move |_| async move { Ok::<_, DurableError>(format!("{greeting} Bye.")) })
            .name("bye")
            .await
    })
}

#[tokio::test]
async fn an_hour_long_wait_takes_no_real_time() {
    let runner = LocalRunner::new();
    runner.register("hello", step_wait_step());
    let started = Instant::now();
    let clock_before = runner.clock().now();
    let done = runner.run("hello", Some("\"World\"".into())).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(runner.clock().now().since(clock_before) >= Duration::from_secs(3600));

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(done.result.as_deref(), Some("\"Hello, World! Bye.\""));
    assert_eq!(done.invocations, 2);
    assert_eq!(
        event_types(&done),
        [
            ExecutionStarted,
            StepStarted,
            StepSucceeded,
            WaitStarted,
            InvocationCompleted,
            WaitSucceeded,
            StepStarted,
            StepSucceeded,
            InvocationCompleted,
            ExecutionSucceeded
        ]
    );
    let wait = done.operation_by_name("an-hour").unwrap();
    assert_eq!(wait.status, OperationStatus::Succeeded);
    let json = serde_json::to_value(&done.history[5]).unwrap();
    assert_eq!(json["WaitSucceededDetails"]["Duration"], 3600);
    assert_eq!(runner.describe(&done.arn).unwrap(), done);
}

#[tokio::test]
async fn a_failing_step_is_retried_after_its_delay() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = attempts.clone();
    let runner = LocalRunner::new();
    runner.register(
        "flaky",
        DurableFunction::new(move |_: Option<String>, ctx: DurableContext| {
            let counter = counter.clone();
            async move {
                ctx.step(move |_| async move {
                    if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                        Err(DurableError::new("Flaky", "first attempt fails"))
                    } else {
                        Ok("Operation succeeded".to_owned())
                    }
                })
                .retry(
                    RetryStrategy::exponential()
                        .max_attempts(3)
                        .initial_delay(Duration::from_secs(7)),
                )
                .await
            }
        }),
    );
    let done = runner.run("flaky", None).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(
        event_types(&done),
        [
            ExecutionStarted,
            StepStarted,
            StepFailed,
            InvocationCompleted,
            StepStarted,
            StepSucceeded,
            InvocationCompleted,
            ExecutionSucceeded
        ]
    );
    let failed = &done.history[2].details;
    assert_eq!(failed.retry_details.unwrap().current_attempt, 1);
    assert!(
        failed
            .retry_details
            .unwrap()
            .next_attempt_delay_seconds
            .is_some()
    );
    assert_eq!(
        done.history[5]
            .details
            .retry_details
            .unwrap()
            .current_attempt,
        2
    );
}

#[tokio::test]
async fn a_panicking_invocation_is_recorded_and_invoked_again() {
    let invocations = Arc::new(AtomicUsize::new(0));
    let counter = invocations.clone();
    let runner = LocalRunner::new();
    runner.register(
        "crashy",
        DurableFunction::new(move |_: Option<String>, ctx: DurableContext| {
            let counter = counter.clone();
            async move {
                let value: u32 = ctx.step(|_| async { Ok::<_, DurableError>(7) }).await?;
                assert!(
                    counter.fetch_add(1, Ordering::SeqCst) > 0,
                    "simulated crash"
                );
                Ok::<_, DurableError>(value)
            }
        }),
    );
    let done = runner.run("crashy", None).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(done.result.as_deref(), Some("7"));
    assert_eq!(done.invocations, 2);
    let crashed = done
        .history
        .iter()
        .find(|e| e.event_type == EventType::InvocationCompleted)
        .unwrap();
    let error = &crashed.details.error.as_ref().unwrap().payload;
    assert_eq!(error.error_type.as_deref(), Some(PANIC_ERROR_TYPE));
    assert!(
        error
            .error_message
            .as_deref()
            .unwrap()
            .contains("simulated crash"),
        "{error:?}"
    );
    let steps = done
        .history
        .iter()
        .filter(|e| e.event_type == EventType::StepStarted)
        .count();
    assert_eq!(steps, 1, "the step ran once and was replayed");
}

#[tokio::test]
async fn an_execution_that_always_crashes_fails_after_five_invocations() {
    let runner = LocalRunner::new();
    runner.register(
        "doomed",
        DurableFunction::new(|_: Option<String>, _ctx: DurableContext| async move {
            assert!(!std::hint::black_box(true), "always");
            Ok::<_, DurableError>(())
        }),
    );
    let done = runner.run("doomed", None).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.invocations, 5);
    assert_eq!(
        done.error.as_ref().unwrap().error_type.as_deref(),
        Some(PANIC_ERROR_TYPE)
    );
}

#[tokio::test]
async fn limits_and_unknown_functions_are_clear_errors() {
    let runner = LocalRunner::new();
    assert!(matches!(
        runner.run("nope", None).await,
        Err(RunnerError::UnknownFunction { .. })
    ));
    runner.register("hello", step_wait_step());
    runner.set_max_invocations(1);
    let arn = runner.start("hello", Some("\"x\"".into())).await.unwrap();
    let error = runner.run_until_idle(&arn).await.unwrap_err();
    assert!(
        matches!(error, RunnerError::TooManyInvocations { limit: 1, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("after 1 invocations"));
    runner.set_max_invocations(10);
    let done = runner.run_until_idle(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert!(matches!(
        runner.run_until_idle("missing").await,
        Err(RunnerError::Service(_))
    ));
}

#[tokio::test]
async fn run_for_and_advance_move_time_in_steps() {
    let runner = LocalRunner::new();
    runner.register("hello", step_wait_step());
    let arn = runner.start("hello", Some("\"x\"".into())).await.unwrap();
    let start = runner.clock().now();
    let snapshot = runner.run_for(&arn, Duration::from_secs(60)).await.unwrap();
    assert_eq!(snapshot.status, ExecutionStatus::Running);
    assert_eq!(runner.clock().now(), start.plus(Duration::from_secs(60)));
    runner.advance(Duration::from_secs(3600)).await.unwrap();
    // The wait fired at its own time, not at the end of the advance.
    let fired = runner.store().history(&arn).unwrap();
    let succeeded = fired
        .iter()
        .find(|e| e.event_type == EventType::WaitSucceeded)
        .unwrap();
    assert_eq!(
        succeeded.event_timestamp,
        start.plus(Duration::from_secs(3600))
    );
    let done = runner.run_until_idle(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.invocations, 2);
}

#[tokio::test]
async fn the_store_can_be_driven_by_hand() {
    let runner = LocalRunner::new();
    runner.register("hello", step_wait_step());
    let arn = runner
        .start_named("hello", "by-hand", Some("\"x\"".into()))
        .await
        .unwrap();
    assert_eq!(
        runner.start_named("hello", "by-hand", None).await.unwrap(),
        arn
    );
    let store = runner.store();
    let envelope = store.begin_invocation(&arn, "manual").unwrap();
    assert_eq!(envelope.initial_execution_state.operations.len(), 1);
    store
        .complete_invocation(
            &arn,
            InvocationOutcome::Returned(InvocationOutput::failed(None)),
        )
        .unwrap();
    let snapshot = runner.describe(&arn).unwrap();
    assert_eq!(snapshot.status, ExecutionStatus::Failed);
    runner.stop(&arn, None).await.unwrap_err();
}

mod callbacks;
mod chained;
