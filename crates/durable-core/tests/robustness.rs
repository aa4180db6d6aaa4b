//! Robustness: cancellation during checkpoint sends, swallowed errors,
//! serdes I/O, context misuse and extreme durations, over a store whose
//! calls take time like a real network call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly
#![allow(clippy::cast_possible_truncation, clippy::if_not_else)]
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use durable_core::model::InvocationStatus;
use durable_core::{DurableContext, DurableError, DurableFunction, StepSemantics};

mod common;

use common::Harness;

// 1. A non-determinism error swallowed by select is not reported when nothing is queued.
#[tokio::test]
async fn swallowed_nondeterminism() {
    let changed = Arc::new(AtomicBool::new(false));
    let c = changed.clone();
    let f = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let changed = c.load(Ordering::SeqCst);
        async move {
            if !changed {
                ctx.step(|_| async { Ok::<_, DurableError>(1) })
                    .name("a")
                    .await?;
            } else {
                let step = ctx.step(|_| async { Ok::<_, DurableError>(1) }).name("b");
                let _ = futures_util::future::select(
                    Box::pin(step.into_future()),
                    Box::pin(async { Ok::<u32, DurableError>(0) }),
                )
                .await;
            }
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, DurableError>(())
        }
    });
    let mut h = Harness::new(0);
    let out = h.invoke(&f).await.unwrap();
    assert_eq!(out.status, InvocationStatus::Pending);
    changed.store(true, Ordering::SeqCst);
    let out = h.invoke(&f).await.unwrap();
    assert_eq!(
        out.status,
        InvocationStatus::Failed,
        "non-determinism was swallowed"
    );
}

use std::future::IntoFuture;

// 2. Handler finishes while the background flusher is mid-send.
#[tokio::test]
async fn background_send_dropped_mid_flight() {
    let f = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let v: u32 = ctx
            .run_in_child_context(|_c| async { Ok::<_, DurableError>(7) })
            .await?;
        // some non-durable work outside a step (e.g. a metrics call)
        tokio::time::sleep(Duration::from_millis(30)).await;
        Ok::<_, DurableError>(v)
    });
    let mut h = Harness::new(50);
    let out = h.invoke(&f).await;
    assert!(out.is_ok(), "{out:?}");
}

// 3. A step cancelled by the user while its SUCCEED is in flight.
#[tokio::test]
async fn flush_through_cancelled_mid_send() {
    let f = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let _ = tokio::time::timeout(
            Duration::from_millis(10),
            ctx.step(|_| async { Ok::<_, DurableError>(1u32) })
                .into_future(),
        )
        .await;
        Ok::<_, DurableError>(0u32)
    });
    let mut h = Harness::new(50);
    let out = h.invoke(&f).await;
    assert!(out.is_ok(), "{out:?}");
}

// 4. Async serdes I/O is not counted as activity: the invocation suspends and loses the step result.
struct SlowSerdes;
#[async_trait]
impl durable_core::serdes::Serdes<u32> for SlowSerdes {
    async fn serialize(
        &self,
        v: &u32,
        _: durable_core::serdes::SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        tokio::time::sleep(Duration::from_millis(20)).await; // e.g. upload to S3
        Ok(Some(v.to_string()))
    }
    async fn deserialize(
        &self,
        d: Option<&str>,
        _: durable_core::serdes::SerdesContext<'_>,
    ) -> Result<u32, DurableError> {
        Ok(d.unwrap().parse().unwrap())
    }
}

#[tokio::test]
async fn serdes_io_suspends() {
    let runs = Arc::new(AtomicU32::new(0));
    let r = runs.clone();
    let f = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let runs = r.clone();
        async move {
            let waiter =
                ctx.run_in_child_context(|c| async move { c.wait(Duration::from_secs(60)).await });
            let worker = ctx
                .step(move |_| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, DurableError>(5u32)
                })
                .serdes(SlowSerdes)
                .semantics(StepSemantics::AtMostOncePerRetry);
            let (a, b) =
                futures_util::future::join(waiter.into_future(), worker.into_future()).await;
            a?;
            b?;
            Ok::<_, DurableError>(())
        }
    });
    let mut h = Harness::new(0);
    for _ in 0..4 {
        let out = h.invoke(&f).await.unwrap();
        if out.status != InvocationStatus::Pending {
            break;
        }
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "a successful at-most-once body ran again"
    );
}

// 5. Logs after the last recorded operation are dropped in every invocation.
#[derive(Default)]
struct Capture(std::sync::Mutex<Vec<String>>);
impl durable_core::logger::DurableLogger for Capture {
    fn log(&self, r: &durable_core::logger::LogRecord<'_>) {
        self.0.lock().unwrap().push(r.message.to_owned());
    }
}
struct Shared(Arc<Capture>);
impl durable_core::logger::DurableLogger for Shared {
    fn log(&self, r: &durable_core::logger::LogRecord<'_>) {
        self.0.log(r);
    }
}

#[tokio::test]
async fn final_log_lost() {
    let cap = Arc::new(Capture::default());
    let c = cap.clone();
    let f = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let c = c.clone();
        async move {
            ctx.configure_logger(durable_core::logger::LoggerConfig::default().custom(Shared(c)));
            ctx.wait(Duration::from_secs(1)).await?;
            ctx.logger().info("finished");
            Ok::<_, DurableError>(())
        }
    });
    let mut h = Harness::new(0);
    loop {
        let out = h.invoke(&f).await.unwrap();
        if out.status != InvocationStatus::Pending {
            break;
        }
    }
    assert!(
        cap.0.lock().unwrap().contains(&"finished".to_owned()),
        "the final log line was never emitted"
    );
}

// 3b. A cancelled in-flight batch is silently lost; the next batch (old token) is accepted without it.
#[tokio::test]
async fn lost_batch_then_rejected() {
    let f = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let v: u32 = ctx
            .run_in_child_context(|c| async move {
                let _ = tokio::time::timeout(
                    Duration::from_millis(10),
                    c.step(|_| async { Ok::<_, DurableError>(1u32) })
                        .into_future(),
                )
                .await;
                c.step(|_| async { Ok::<_, DurableError>(2u32) }).await
            })
            .await?;
        Ok::<_, DurableError>(v)
    });
    let mut h = Harness::new(50);
    let out = h.invoke(&f).await;
    assert!(
        matches!(out, Ok(ref o) if o.status == InvocationStatus::Succeeded),
        "{out:?}"
    );
}

// 7. Durable op on the outer context inside a step body: never suspends.
#[tokio::test]
async fn wait_inside_step_body_hangs() {
    let f = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let outer = ctx.clone();
        let v: u32 = ctx
            .step(move |_| async move {
                outer.wait(Duration::from_secs(5)).await?;
                Ok::<_, DurableError>(1u32)
            })
            .await?;
        Ok::<_, DurableError>(v)
    });
    let mut h = Harness::new(0);
    let out = h.invoke(&f).await;
    let out = out.unwrap();
    assert_eq!(out.status, InvocationStatus::Failed);
    assert_eq!(
        out.error.unwrap().error_type.as_deref(),
        Some("ContextValidationError")
    );
}

#[tokio::test]
async fn wait_duration_max() {
    let f = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.wait(Duration::MAX).await?;
        Ok::<_, DurableError>(())
    });
    let mut h = Harness::new(0);
    let out = h.invoke(&f).await.unwrap();
    assert_eq!(out.status, InvocationStatus::Pending);
    let wait = h
        .memory
        .describe(&h.arn)
        .unwrap()
        .operations
        .into_iter()
        .find(|op| op.id == "1")
        .unwrap();
    let scheduled = wait.wait_details.unwrap().scheduled_end_timestamp.unwrap();
    assert_eq!(
        scheduled.since(wait.start_timestamp),
        Duration::from_secs(31_622_400)
    );
}

// 3c. parallel with early completion drops a branch whose step SUCCEED is in flight.
#[tokio::test]
async fn parallel_early_completion_drops_in_flight_flush() {
    use durable_core::batch::CompletionConfig;
    use durable_core::context::Branch;
    let f = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let b1: Branch<'static, u32> = Branch::new(|c: DurableContext| async move {
            c.step(|_| async { Ok::<_, DurableError>(1u32) }).await
        });
        let b2: Branch<'static, u32> = Branch::new(|_c: DurableContext| async move {
            tokio::time::sleep(Duration::from_millis(10)).await; // non-durable work, no flush
            Ok::<_, DurableError>(2u32)
        });
        let batch = ctx
            .parallel(vec![b1, b2])
            .completion(CompletionConfig::first_successful())
            .await?;
        Ok::<_, DurableError>(batch.success_count() as u32)
    });
    let mut h = Harness::new(50);
    let out = h.invoke(&f).await;
    assert!(
        matches!(out, Ok(ref o) if o.status == InvocationStatus::Succeeded),
        "{out:?}"
    );
}
