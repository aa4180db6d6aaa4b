//! Replay, at-most-once and non-determinism, end to end on the local runner.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use durable_core::model::ExecutionStatus;
use durable_core::{DurableContext, DurableError, DurableFunction, RetryStrategy, StepSemantics};
use durable_testing::LocalRunner;

fn counter() -> Arc<AtomicU32> {
    Arc::new(AtomicU32::new(0))
}

async fn run(function: DurableFunction) -> durable_testing::ExecutionSnapshot {
    let runner = LocalRunner::new();
    runner.register("wf", function);
    runner
        .run("wf", None)
        .await
        .expect("the runner drives the execution")
}

fn error_text(snapshot: &durable_testing::ExecutionSnapshot) -> String {
    let error = snapshot.error.clone().unwrap_or_default();
    format!(
        "{}: {}",
        error.error_type.unwrap_or_default(),
        error.error_message.unwrap_or_default()
    )
}

#[tokio::test]
async fn completed_steps_are_not_run_again_on_replay() {
    let runs = counter();
    let seen = Arc::clone(&runs);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let runs = Arc::clone(&seen);
        async move {
            let first: u32 =
                ctx.step(|_| async move {
                    Ok::<_, DurableError>(runs.fetch_add(1, Ordering::SeqCst) + 1)
                })
                .await?;
            ctx.wait(Duration::from_secs(3600)).await?;
            let second: u32 = ctx
                .step(move |_| async move { Ok::<_, DurableError>(first * 10) })
                .await?;
            Ok::<_, DurableError>(second)
        }
    });
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    assert_eq!(
        snapshot.invocations, 2,
        "the wait splits the execution in two invocations"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the first step ran again on replay"
    );
    assert_eq!(snapshot.result.as_deref(), Some("10"));
}

fn crashing_step(
    runs: Arc<AtomicU32>,
    semantics: StepSemantics,
    retry: RetryStrategy,
) -> DurableFunction {
    DurableFunction::new(move |(): (), ctx: DurableContext| {
        let runs = Arc::clone(&runs);
        let retry = retry.clone();
        async move {
            ctx.step(move |_| async move {
                // The runtime dies in the middle of the first run.
                assert!(runs.fetch_add(1, Ordering::SeqCst) != 0, "simulated crash");
                Ok::<_, DurableError>("done".to_owned())
            })
            .semantics(semantics)
            .retry(retry)
            .await
        }
    })
}

#[tokio::test]
async fn interrupted_at_most_once_step_does_not_run_again_in_the_same_attempt() {
    let runs = counter();
    let function = crashing_step(
        Arc::clone(&runs),
        StepSemantics::AtMostOncePerRetry,
        RetryStrategy::none(),
    );
    let snapshot = run(function).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the interrupted attempt ran again"
    );
    assert_eq!(snapshot.status, ExecutionStatus::Failed);
    assert!(
        error_text(&snapshot).contains("StepInterruptedError"),
        "{}",
        error_text(&snapshot)
    );
}

#[tokio::test]
async fn interrupted_at_most_once_step_runs_again_as_a_new_attempt_when_retried() {
    let runs = counter();
    let retry = RetryStrategy::exponential()
        .max_attempts(2)
        .initial_delay(Duration::from_secs(1));
    let function = crashing_step(Arc::clone(&runs), StepSemantics::AtMostOncePerRetry, retry);
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "one run per attempt");
}

#[tokio::test]
async fn interrupted_at_least_once_step_runs_again() {
    let runs = counter();
    let function = crashing_step(
        Arc::clone(&runs),
        StepSemantics::AtLeastOncePerRetry,
        RetryStrategy::none(),
    );
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// A workflow whose code changes after its first invocation, as after a deploy.
fn deployed_twice<V1, V2, F1, F2>(v1: V1, v2: V2) -> DurableFunction
where
    V1: Fn(DurableContext) -> F1 + Send + Sync + 'static,
    V2: Fn(DurableContext) -> F2 + Send + Sync + 'static,
    F1: Future<Output = Result<(), DurableError>> + Send + 'static,
    F2: Future<Output = Result<(), DurableError>> + Send + 'static,
{
    let invocations = counter();
    let v1 = Arc::new(v1);
    let v2 = Arc::new(v2);
    DurableFunction::new(move |(): (), ctx: DurableContext| {
        let first = invocations.fetch_add(1, Ordering::SeqCst) == 0;
        let (v1, v2) = (Arc::clone(&v1), Arc::clone(&v2));
        async move { if first { v1(ctx).await } else { v2(ctx).await } }
    })
}

async fn named_step(ctx: &DurableContext, name: &str) -> Result<String, DurableError> {
    ctx.step(|_| async { Ok::<_, DurableError>("x".to_owned()) })
        .name(name)
        .await
}

async fn hour(ctx: &DurableContext) -> Result<(), DurableError> {
    ctx.wait(Duration::from_secs(3600)).await
}

#[tokio::test]
async fn unchanged_code_replays_fine() {
    let v = |ctx: DurableContext| async move {
        named_step(&ctx, "a").await?;
        hour(&ctx).await
    };
    let snapshot = run(deployed_twice(v, v)).await;
    assert_eq!(
        snapshot.status,
        ExecutionStatus::Succeeded,
        "{}",
        error_text(&snapshot)
    );
}

#[tokio::test]
async fn renamed_operation_fails_the_execution_naming_both_sides() {
    let v1 = |ctx: DurableContext| async move {
        named_step(&ctx, "charge").await?;
        hour(&ctx).await
    };
    let v2 = |ctx: DurableContext| async move {
        // Swallowing the error must not help: the execution still fails.
        let _ = named_step(&ctx, "charge-card").await;
        hour(&ctx).await
    };
    let snapshot = run(deployed_twice(v1, v2)).await;
    assert_eq!(snapshot.status, ExecutionStatus::Failed);
    let text = error_text(&snapshot);
    assert!(text.contains("NonDeterministicExecutionError"), "{text}");
    assert!(
        text.contains("\"charge\"") && text.contains("\"charge-card\""),
        "{text}"
    );
}

#[tokio::test]
async fn reordered_operations_fail_the_execution() {
    let v1 = |ctx: DurableContext| async move {
        named_step(&ctx, "a").await?;
        hour(&ctx).await
    };
    let v2 = |ctx: DurableContext| async move {
        hour(&ctx).await?;
        named_step(&ctx, "a").await.map(drop)
    };
    let snapshot = run(deployed_twice(v1, v2)).await;
    assert_eq!(snapshot.status, ExecutionStatus::Failed);
    let text = error_text(&snapshot);
    assert!(
        text.contains("NonDeterministicExecutionError")
            && text.contains("STEP")
            && text.contains("WAIT"),
        "{text}"
    );
}

#[tokio::test]
async fn removed_operations_fail_the_execution() {
    let v1 = |ctx: DurableContext| async move {
        named_step(&ctx, "a").await?;
        named_step(&ctx, "b").await?;
        hour(&ctx).await
    };
    let v2 = |ctx: DurableContext| async move { named_step(&ctx, "a").await.map(drop) };
    let snapshot = run(deployed_twice(v1, v2)).await;
    assert_eq!(snapshot.status, ExecutionStatus::Failed);
    let text = error_text(&snapshot);
    assert!(
        text.contains("no longer performs") && text.contains("\"b\""),
        "{text}"
    );
}
