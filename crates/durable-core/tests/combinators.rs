//! `all`, `all_settled`, `any` and `race` over branches, on the local runner.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::time::Duration;

use durable_core::context::Branch;
use durable_core::model::ExecutionStatus;
use durable_core::{DurableContext, DurableError, DurableFunction, RetryStrategy};
use durable_testing::{ExecutionSnapshot, LocalRunner};

async fn run(function: DurableFunction) -> ExecutionSnapshot {
    let runner = LocalRunner::new();
    runner.register("wf", function);
    runner.run("wf", None).await.unwrap()
}

fn value(v: &'static str) -> Branch<'static, String> {
    Branch::new(move |c: DurableContext| async move {
        c.step(move |_| async move { Ok::<_, DurableError>(v.to_owned()) })
            .await
    })
}

fn failing(message: &'static str) -> Branch<'static, String> {
    Branch::new(move |c: DurableContext| async move {
        c.step(move |_| async move { Err::<String, _>(DurableError::new("Boom", message)) })
            .retry(RetryStrategy::none())
            .await
    })
}

fn after_an_hour(v: &'static str) -> Branch<'static, String> {
    Branch::new(move |c: DurableContext| async move {
        c.wait(Duration::from_secs(3600)).await?;
        Ok::<_, DurableError>(v.to_owned())
    })
}

#[tokio::test]
async fn all_returns_results_in_order_or_the_first_failure() {
    let ok = run(DurableFunction::new(
        |(): (), ctx: DurableContext| async move { ctx.all(vec![value("a"), value("b")]).await },
    ))
    .await;
    assert_eq!(ok.result.as_deref(), Some(r#"["a","b"]"#));

    let failed = run(DurableFunction::new(
        |(): (), ctx: DurableContext| async move {
            ctx.all(vec![value("a"), failing("second broke")]).await
        },
    ))
    .await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert!(
        failed
            .error
            .unwrap()
            .error_message
            .unwrap()
            .contains("second broke")
    );
}

#[tokio::test]
async fn all_settled_reports_every_outcome() {
    let snapshot = run(DurableFunction::new(
        |(): (), ctx: DurableContext| async move {
            let outcomes = ctx.all_settled(vec![failing("x"), value("b")]).await?;
            Ok::<_, DurableError>(outcomes.iter().map(Result::is_ok).collect::<Vec<_>>())
        },
    ))
    .await;
    assert_eq!(snapshot.result.as_deref(), Some("[false,true]"));
}

#[tokio::test]
async fn any_skips_failures_and_fails_only_when_all_fail() {
    let snapshot = run(DurableFunction::new(
        |(): (), ctx: DurableContext| async move { ctx.any(vec![failing("x"), value("b")]).await },
    ))
    .await;
    assert_eq!(snapshot.result.as_deref(), Some(r#""b""#));

    let all_failed = run(DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.any(vec![failing("x"), failing("y")]).await
    }))
    .await;
    assert_eq!(all_failed.status, ExecutionStatus::Failed);
    let message = all_failed.error.unwrap().error_message.unwrap();
    assert!(message.contains('x') && message.contains('y'), "{message}");
}

#[tokio::test]
async fn race_winner_is_recorded_and_kept_on_replay() {
    // The step wins at once; the hour-long wait loses. After a later wait
    // forces a replay, the (now finished) loser must not change the result.
    let snapshot = run(DurableFunction::new(
        |(): (), ctx: DurableContext| async move {
            let winner = ctx
                .race(vec![after_an_hour("slow"), value("fast")])
                .name("race")
                .await?;
            ctx.wait(Duration::from_secs(7200)).await?;
            Ok::<_, DurableError>(winner)
        },
    ))
    .await;
    assert_eq!(
        snapshot.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        snapshot.error
    );
    assert_eq!(snapshot.result.as_deref(), Some(r#""fast""#));
    assert!(snapshot.invocations >= 2);
}

#[tokio::test]
async fn started_operations_run_while_the_workflow_waits_and_join_later() {
    let snapshot = run(DurableFunction::new(
        |(): (), ctx: DurableContext| async move {
            let report = ctx.start(
                ctx.step(|_| async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, DurableError>("report".to_owned())
                })
                .name("report"),
            );
            let other: String = ctx
                .step(|_| async { Ok::<_, DurableError>("other".to_owned()) })
                .await?;
            ctx.wait(Duration::from_secs(3600)).await?;
            let report = report.await?;
            Ok::<_, DurableError>(format!("{report}+{other}"))
        },
    ))
    .await;
    assert_eq!(
        snapshot.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        snapshot.error
    );
    assert_eq!(snapshot.result.as_deref(), Some(r#""report+other""#));
    // The started step finished in the first invocation, before the wait
    // suspended it: it was recorded once and replayed after.
    let report = snapshot.operation_by_name("report").unwrap();
    assert_eq!(
        report.status,
        durable_core::model::OperationStatus::Succeeded
    );
    assert_eq!(
        snapshot
            .history
            .iter()
            .filter(|e| e.name.as_deref() == Some("report"))
            .count(),
        2
    );
}
