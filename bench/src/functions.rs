//! The durable functions the workloads run.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use durable_core::{DurableContext, DurableError, DurableFunction};
use tokio::sync::Semaphore;

/// Where a handler notes the instant each step returned.
pub type StepClock = Arc<Mutex<Vec<Instant>>>;

/// `n` tiny steps (each returns its index), then the sum. With a clock,
/// notes the instant each step returned (and the start) there.
pub fn tiny_steps(clock: Option<StepClock>) -> DurableFunction {
    DurableFunction::new(move |n: u32, ctx: DurableContext| {
        let clock = clock.clone();
        async move {
            note(clock.as_ref());
            let mut sum = 0_u64;
            for i in 0..n {
                sum += ctx
                    .step(move |_| async move { Ok::<_, DurableError>(u64::from(i)) })
                    .await?;
                note(clock.as_ref());
            }
            Ok::<_, DurableError>(sum)
        }
    })
}

fn note(clock: Option<&StepClock>) {
    if let Some(clock) = clock {
        clock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Instant::now());
    }
}

/// `n` tiny steps, then a one-second wait: the first invocation records
/// the steps and suspends, the next replays all of them.
pub fn steps_then_wait() -> DurableFunction {
    DurableFunction::new(|n: u32, ctx: DurableContext| async move {
        let mut sum = 0_u64;
        for i in 0..n {
            sum += ctx
                .step(move |_| async move { Ok::<_, DurableError>(u64::from(i)) })
                .await?;
        }
        ctx.wait(Duration::from_secs(1)).await?;
        Ok::<_, DurableError>(sum)
    })
}

/// Registers a callback and waits for it: the execution suspends. Counts
/// the callbacks registered in `registered`.
pub fn await_callback(registered: Arc<std::sync::atomic::AtomicUsize>) -> DurableFunction {
    DurableFunction::new(move |(): (), ctx: DurableContext| {
        let registered = registered.clone();
        async move {
            let callback = ctx.create_callback().await?;
            registered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let result = callback.await?;
            Ok::<_, DurableError>(result)
        }
    })
}

/// One step that holds a permit of `gate` until it is closed: the
/// execution stays running (in memory, in a worker slot) meanwhile.
pub fn held_running(gate: Arc<Semaphore>, entered: Arc<Semaphore>) -> DurableFunction {
    DurableFunction::new(move |(): (), ctx: DurableContext| {
        let gate = gate.clone();
        let entered = entered.clone();
        async move {
            ctx.step(move |_| async move {
                entered.add_permits(1);
                // Closed at the end of the measurement: then every holder
                // returns at once.
                let _ = gate.acquire().await;
                Ok::<_, DurableError>(())
            })
            .await
        }
    })
}

/// `n` tiny steps; counts the handler runs that got through all of them
/// in `finished`.
pub fn counted_steps(finished: Arc<std::sync::atomic::AtomicUsize>) -> DurableFunction {
    DurableFunction::new(move |n: u32, ctx: DurableContext| {
        let finished = finished.clone();
        async move {
            let mut sum = 0_u64;
            for i in 0..n {
                sum += ctx
                    .step(move |_| async move { Ok::<_, DurableError>(u64::from(i)) })
                    .await?;
            }
            finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, DurableError>(sum)
        }
    })
}
