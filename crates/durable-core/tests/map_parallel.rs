//! `map` and `parallel` end to end on the local runner: early completion,
//! items left running, and large results rebuilt on replay.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use durable_core::batch::{BatchResult, CompletionConfig};
use durable_core::context::{Branch, Nesting};
use durable_core::model::{ExecutionStatus, OperationStatus, OperationSubType, OperationType};
use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_testing::{ExecutionSnapshot, LocalRunner};
use serde_json::{Value, json};

async fn run(function: DurableFunction) -> ExecutionSnapshot {
    let runner = LocalRunner::new();
    runner.register("wf", function);
    runner
        .run("wf", None)
        .await
        .expect("the runner drives the execution")
}

fn counts<T>(batch: &BatchResult<T>) -> Value {
    json!({
        "reason": batch.completion_reason(),
        "succeeded": batch.success_count(),
        "failed": batch.failure_count(),
        "started": batch.started_count(),
        "total": batch.total_count(),
    })
}

fn result(snapshot: &ExecutionSnapshot) -> Value {
    assert_eq!(
        snapshot.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        snapshot.error
    );
    serde_json::from_str(snapshot.result.as_deref().unwrap()).unwrap()
}

fn contexts(snapshot: &ExecutionSnapshot, sub_type: &OperationSubType) -> usize {
    snapshot
        .operations
        .iter()
        .filter(|op| op.operation_type == OperationType::Context)
        .filter(|op| op.sub_type.as_ref() == Some(sub_type))
        .count()
}

/// A branch that waits an hour, then returns `value`.
fn slow(value: &'static str) -> Branch<'static, String> {
    Branch::new(move |c: DurableContext| async move {
        c.wait(Duration::from_secs(3600)).await?;
        Ok::<_, DurableError>(value.to_owned())
    })
}

/// A branch that returns `value` at once.
fn quick(value: String) -> Branch<'static, String> {
    Branch::new(move |_| async move { Ok::<_, DurableError>(value) })
}

#[tokio::test]
async fn every_item_started_together_is_recorded_as_started() {
    // Unlimited concurrency: all three branches start before any completion
    // is looked at, as in the reference SDKs.
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .parallel(vec![quick("a".to_owned()), slow("b"), slow("c")])
            .completion(CompletionConfig::first_successful())
            .await?;
        Ok::<_, DurableError>(counts(&batch))
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({"reason": "MIN_SUCCESSFUL_REACHED", "succeeded": 1, "failed": 0, "started": 2, "total": 3})
    );
    assert_eq!(contexts(&snapshot, &OperationSubType::ParallelBranch), 3);
}

#[tokio::test]
async fn items_left_running_do_not_break_a_later_replay() {
    // Invocation 1: both branches wait. Invocation 2: the short wait is
    // over, branch 0 completes the batch while branch 1 still waits; the
    // recorded operations of branch 1 are orphans, not a change of code.
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .parallel(vec![
                Branch::new(|c: DurableContext| async move {
                    c.wait(Duration::from_secs(10)).await?;
                    Ok::<_, DurableError>("first".to_owned())
                }),
                slow("second"),
            ])
            .completion(CompletionConfig::first_successful())
            .await?;
        Ok::<_, DurableError>(counts(&batch))
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({"reason": "MIN_SUCCESSFUL_REACHED", "succeeded": 1, "failed": 0, "started": 1, "total": 2})
    );
    assert_eq!(snapshot.invocations, 2);
}

#[tokio::test]
async fn a_large_result_is_rebuilt_from_the_items_on_replay() {
    let runs = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&runs);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let runs = Arc::clone(&seen);
        async move {
            let batch = ctx
                .map(vec![0_u32, 1, 2, 3], move |item_ctx, item, _| {
                    let runs = Arc::clone(&runs);
                    async move {
                        item_ctx
                            .step(move |_| async move {
                                runs.fetch_add(1, Ordering::SeqCst);
                                Ok::<_, DurableError>(item.to_string().repeat(70 * 1024))
                            })
                            .await
                    }
                })
                .max_concurrency(2)
                .await?;
            ctx.wait(Duration::from_secs(1)).await?;
            let lengths: Vec<usize> = batch.results().iter().map(|r| r.len()).collect();
            Ok::<_, DurableError>(json!({"counts": counts(&batch), "lengths": lengths}))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({
            "counts": {"reason": "ALL_COMPLETED", "succeeded": 4, "failed": 0, "started": 0, "total": 4},
            "lengths": [71680, 71680, 71680, 71680],
        })
    );
    assert_eq!(snapshot.invocations, 2);
    assert_eq!(runs.load(Ordering::SeqCst), 4, "item steps ran again");
}

#[tokio::test]
async fn a_large_result_with_items_left_running_is_rebuilt_as_it_was() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .parallel(vec![
                slow("never"),
                quick("x".repeat(300 * 1024)),
                slow("never either"),
                quick("y".to_owned()),
            ])
            .max_concurrency(3)
            .completion(CompletionConfig::first_successful())
            .await?;
        let first = counts(&batch);
        ctx.wait(Duration::from_secs(1)).await?;
        Ok::<_, DurableError>(json!({"first": first, "replayed": counts(&batch)}))
    });
    let snapshot = run(function).await;
    let expected = json!({"reason": "MIN_SUCCESSFUL_REACHED", "succeeded": 1, "failed": 0, "started": 2, "total": 3});
    assert_eq!(
        result(&snapshot),
        json!({"first": expected, "replayed": expected})
    );
    assert_eq!(snapshot.invocations, 2);
    let outer = snapshot.operation("1").unwrap();
    assert_eq!(outer.status, OperationStatus::Succeeded);
    assert_eq!(
        outer
            .context_details
            .as_ref()
            .and_then(|d| d.replay_children),
        Some(true)
    );
}

#[tokio::test]
async fn a_flat_batch_with_a_large_result_is_rebuilt_on_replay() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .map(vec![0_u32, 1, 2, 3], |item_ctx, item, _| async move {
                item_ctx
                    .step(move |_| async move {
                        Ok::<_, DurableError>(item.to_string().repeat(70 * 1024))
                    })
                    .await
            })
            .nesting(Nesting::Flat)
            .max_concurrency(1)
            .await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok::<_, DurableError>(counts(&batch))
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({"reason": "ALL_COMPLETED", "succeeded": 4, "failed": 0, "started": 0, "total": 4})
    );
}

#[tokio::test]
async fn items_suspend_and_resume_concurrently() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .map(vec![3_u64, 1, 2], |item_ctx, seconds, index| async move {
                item_ctx.wait(Duration::from_secs(seconds)).await?;
                item_ctx
                    .step(move |_| async move { Ok::<_, DurableError>(index * 10) })
                    .await
            })
            .max_concurrency(2)
            .await?;
        Ok::<_, DurableError>(batch.into_results())
    });
    let snapshot = run(function).await;
    assert_eq!(result(&snapshot), json!([0, 10, 20]));
}

#[tokio::test]
async fn a_map_inside_a_parallel_branch_replays() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .parallel(vec![
                Branch::new(|c: DurableContext| async move {
                    let inner = c
                        .map(vec![1_u32, 2], |item_ctx, item, _| async move {
                            item_ctx.wait(Duration::from_secs(1)).await?;
                            Ok::<_, DurableError>(item * 2)
                        })
                        .await?;
                    Ok::<_, DurableError>(inner.into_results().iter().sum::<u32>())
                }),
                Branch::new(|_| async { Ok::<_, DurableError>(100) }),
            ])
            .await?;
        Ok::<_, DurableError>(batch.into_results())
    });
    let snapshot = run(function).await;
    assert_eq!(result(&snapshot), json!([6, 100]));
}

#[tokio::test]
async fn flat_items_left_running_do_not_break_a_later_replay() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .parallel(vec![
                slow("never"),
                Branch::new(|c: DurableContext| async move {
                    c.wait(Duration::from_secs(10)).await?;
                    Ok::<_, DurableError>("x".repeat(300 * 1024))
                }),
            ])
            .nesting(Nesting::Flat)
            .completion(CompletionConfig::first_successful())
            .await?;
        let first = counts(&batch);
        ctx.wait(Duration::from_secs(1)).await?;
        Ok::<_, DurableError>(json!({"first": first, "replayed": counts(&batch)}))
    });
    let snapshot = run(function).await;
    let expected = json!({"reason": "MIN_SUCCESSFUL_REACHED", "succeeded": 1, "failed": 0, "started": 1, "total": 2});
    assert_eq!(
        result(&snapshot),
        json!({"first": expected, "replayed": expected})
    );
    assert_eq!(snapshot.invocations, 3);
    let outer = snapshot.operation("1").unwrap();
    assert_eq!(
        outer
            .context_details
            .as_ref()
            .and_then(|d| d.replay_children),
        Some(true)
    );
}

#[tokio::test]
async fn a_failure_stops_a_fail_fast_batch_with_items_still_running() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .parallel(vec![
                slow("never"),
                Branch::new(|_| async {
                    Err::<String, _>(DurableError::new("Boom", "branch fails"))
                }),
                quick("not started".to_owned()),
            ])
            .max_concurrency(2)
            .await?;
        let error = batch.throw_if_error().unwrap_err();
        Ok::<_, DurableError>(json!({"counts": counts(&batch), "error": error.error_type()}))
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({
            "counts": {"reason": "FAILURE_TOLERANCE_EXCEEDED", "succeeded": 0, "failed": 1, "started": 1, "total": 2},
            "error": "Boom",
        })
    );
}

#[tokio::test]
async fn items_finishing_together_after_completion_stay_started_on_rebuild() {
    // Both branches finish as they start; the first completes the batch, so
    // the second is reported as started, then and when rebuilt.
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .parallel(vec![quick("x".repeat(300 * 1024)), quick("y".to_owned())])
            .completion(CompletionConfig::first_successful())
            .await?;
        let first = counts(&batch);
        ctx.wait(Duration::from_secs(1)).await?;
        Ok::<_, DurableError>(json!({"first": first, "replayed": counts(&batch)}))
    });
    let snapshot = run(function).await;
    let expected = json!({"reason": "MIN_SUCCESSFUL_REACHED", "succeeded": 1, "failed": 0, "started": 1, "total": 2});
    assert_eq!(
        result(&snapshot),
        json!({"first": expected, "replayed": expected})
    );
}
