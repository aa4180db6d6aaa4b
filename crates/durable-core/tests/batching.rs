//! Checkpoint batching: how many durable writes an execution costs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use durable_core::model::{ExecutionState, InvocationStatus, OperationUpdate};
use durable_core::service::InvocationOutcome;
use durable_core::{
    CheckpointResponse, CheckpointStore, DurableContext, DurableError, DurableFunction,
    StepSemantics, StoreError, invocation,
};
use durable_testing::{MemoryStore, VirtualClock};

/// Counts checkpoint calls on their way to a real in-memory store.
struct Counting {
    inner: Arc<MemoryStore>,
    calls: AtomicUsize,
}

#[async_trait]
impl CheckpointStore for Counting {
    async fn checkpoint(
        &self,
        arn: &str,
        token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointResponse, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.checkpoint(arn, token, updates).await
    }

    async fn state(
        &self,
        arn: &str,
        token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, StoreError> {
        self.inner.state(arn, token, marker).await
    }
}

/// Runs `function` invocation by invocation, firing timers in between, and
/// returns the checkpoint calls made by each invocation.
async fn calls_per_invocation(function: DurableFunction) -> Vec<usize> {
    let clock = Arc::new(VirtualClock::starting_now());
    let memory = Arc::new(MemoryStore::with_clock(clock.clone()));
    let store = Arc::new(Counting {
        inner: Arc::clone(&memory),
        calls: AtomicUsize::new(0),
    });
    let arn = memory.start_execution("f", None, None);
    let mut calls = Vec::new();
    for invocation_number in 0..10 {
        let envelope = memory
            .begin_invocation(&arn, &format!("req-{invocation_number}"))
            .unwrap();
        let before = store.calls.load(Ordering::SeqCst);
        let output = invocation::run(&function, envelope, store.clone())
            .await
            .unwrap();
        calls.push(store.calls.load(Ordering::SeqCst) - before);
        let status = output.status;
        memory
            .complete_invocation(&arn, InvocationOutcome::Returned(output))
            .unwrap();
        if status != InvocationStatus::Pending {
            return calls;
        }
        if let Some(wake) = memory.next_wake_up(&arn).unwrap() {
            clock.advance_to(wake);
        }
        memory.fire_due();
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
