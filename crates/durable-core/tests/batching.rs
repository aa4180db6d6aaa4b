//! Checkpoint batching: how many durable writes an execution costs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::sync::atomic::Ordering;
use std::time::Duration;

use durable_core::model::InvocationStatus;
use durable_core::{DurableContext, DurableError, DurableFunction, StepSemantics};

mod common;

use common::Harness;

/// Runs `function` invocation by invocation, firing timers in between, and
/// returns the checkpoint calls made by each invocation.
async fn calls_per_invocation(function: DurableFunction) -> Vec<usize> {
    let mut harness = Harness::new(0);
    let mut calls = Vec::new();
    for _ in 0..10 {
        let before = harness.store.calls.load(Ordering::SeqCst);
        let output = harness.invoke(&function).await.unwrap();
        calls.push(harness.store.calls.load(Ordering::SeqCst) - before);
        if output.status != InvocationStatus::Pending {
            return calls;
        }
    }
    panic!("did not finish in 10 invocations: {calls:?}");
}

async fn tiny(ctx: &DurableContext, i: u32) -> Result<u32, DurableError> {
    ctx.step(move |_| async move { Ok::<_, DurableError>(i) })
        .await
}

#[tokio::test]
async fn ten_at_least_once_steps_and_a_wait_cost_eleven_writes() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let mut sum = 0;
        for i in 0..10 {
            sum += tiny(&ctx, i).await?;
        }
        ctx.wait(Duration::from_secs(60)).await?;
        Ok::<_, DurableError>(sum)
    });
    // One write per step (START and SUCCEED together) and one for the wait;
    // the replay after the wait writes nothing.
    assert_eq!(calls_per_invocation(function).await, [11, 0]);
}

#[tokio::test]
async fn at_most_once_steps_record_their_start_first() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.step(|_| async { Ok::<_, DurableError>(1) })
            .semantics(StepSemantics::AtMostOncePerRetry)
            .await
    });
    assert_eq!(calls_per_invocation(function).await, [2]);
}

#[tokio::test]
async fn child_context_updates_ride_along_with_the_next_write() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let inner: u32 = ctx
            .run_in_child_context(|child| async move { tiny(&child, 1).await })
            .await?;
        tiny(&ctx, inner + 1).await
    });
    // Context START + step + context SUCCEED + step: two writes in all.
    assert_eq!(calls_per_invocation(function).await, [2]);
}
