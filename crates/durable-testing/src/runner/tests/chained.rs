//! Chained invokes run as child executions. The engine's `invoke` may not
//! exist yet, so the parent's `CHAINED_INVOKE` is checkpointed by hand.

use durable_core::model::{
    ChainedInvokeOptions, EventType, ExecutionStatus, InvocationOutput, OperationAction,
    OperationStatus, OperationType, OperationUpdate,
};
use durable_core::service::InvocationOutcome;
use durable_core::{CheckpointStore, DurableContext, DurableError, DurableFunction};

use super::super::*;

fn invoke_update(function_name: &str) -> OperationUpdate {
    OperationUpdate {
        payload: Some("21".into()),
        chained_invoke_options: Some(ChainedInvokeOptions {
            function_name: function_name.into(),
            tenant_id: None,
        }),
        ..OperationUpdate::new("ci", OperationType::ChainedInvoke, OperationAction::Start)
    }
}

/// Starts a parent execution and suspends it on a chained invoke of `target`.
async fn parent_waiting_on(runner: &LocalRunner, target: &str) -> String {
    let arn = runner.start("parent", None).await.unwrap();
    let store = runner.store();
    let envelope = store.begin_invocation(&arn, "by-hand").unwrap();
    store
        .checkpoint(
            &arn,
            &envelope.checkpoint_token,
            vec![invoke_update(target)],
        )
        .await
        .unwrap();
    store
        .complete_invocation(
            &arn,
            InvocationOutcome::Returned(InvocationOutput::pending()),
        )
        .unwrap();
    arn
}

fn runner() -> LocalRunner {
    let runner = LocalRunner::new();
    // The parent's handler is not run in these tests' first invocation; on
    // replay it simply returns.
    runner.register(
        "parent",
        DurableFunction::new(|_: Option<u32>, _ctx: DurableContext| async move {
            Ok::<_, DurableError>(0)
        }),
    );
    runner.register(
        "double",
        DurableFunction::new(|n: u32, ctx: DurableContext| async move {
            ctx.wait(std::time::Duration::from_secs(30)).await?;
            ctx.step(move |_| async move { Ok::<_, DurableError>(n * 2) })
                .await
        }),
    );
    runner
}

#[tokio::test]
async fn a_chained_invoke_runs_the_target_as_a_child_execution() {
    let runner = runner();
    let parent = parent_waiting_on(&runner, "double").await;
    let done = runner.run_until_idle(&parent).await.unwrap();
    assert!(done.is_terminal(), "{done:#?}");
    let op = done.operation("ci").unwrap();
    assert_eq!(op.status, OperationStatus::Succeeded);
    assert_eq!(op.result(), Some("42"));
    let started = done
        .history
        .iter()
        .find(|e| e.event_type == EventType::ChainedInvokeStarted)
        .unwrap();
    let child_arn = started.details.durable_execution_arn.clone().unwrap();
    let child = runner.describe(&child_arn).unwrap();
    assert_eq!(child.status, ExecutionStatus::Succeeded);
    assert_eq!(child.result.as_deref(), Some("42"));
    assert_eq!(child.invocations, 2);
    let succeeded = done
        .history
        .iter()
        .find(|e| e.event_type == EventType::ChainedInvokeSucceeded)
        .unwrap();
    assert_eq!(
        succeeded
            .details
            .result
            .as_ref()
            .unwrap()
            .payload
            .as_deref(),
        Some("42")
    );
}

#[tokio::test]
async fn a_chained_invoke_of_an_unknown_function_fails() {
    let runner = runner();
    let parent = parent_waiting_on(&runner, "missing").await;
    let done = runner.run_until_idle(&parent).await.unwrap();
    let op = done.operation("ci").unwrap();
    assert_eq!(op.status, OperationStatus::Failed);
    assert_eq!(
        op.error().unwrap().error_type.as_deref(),
        Some(FUNCTION_NOT_FOUND_ERROR)
    );
}
