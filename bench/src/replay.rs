//! Workload 3, and the in-memory half of workloads 4 and 5: a history of
//! recorded steps replayed, on the in-memory store of `durable-testing`
//! driven through the same invocation path a Lambda function takes
//! (`durable_core::invocation::run` against a `CheckpointStore`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use durable_core::model::ExecutionStatus;
use durable_core::service::InvocationOutcome;
use durable_core::{CheckpointStore, DurableFunction};
use durable_testing::{MemoryStore, VirtualClock};
use serde::{Deserialize, Serialize};

use crate::BenchError;
use crate::counting::CountingStore;
use crate::functions::{steps_then_wait, tiny_steps};
use crate::stats::count_f64;

/// One replayed history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplayResult {
    /// Recorded steps.
    pub steps: usize,
    /// Milliseconds of the first invocation, which recorded them.
    pub record_ms: f64,
    /// Milliseconds of the second invocation, which replayed every step
    /// (begin: envelope with the state; handler; completion).
    pub replay_ms: f64,
    /// Replay microseconds per step.
    pub replay_per_step_us: f64,
    /// Checkpoint calls the recording invocation made, per step.
    pub checkpoints_per_step: f64,
    /// Checkpoint calls the replaying invocation made (the wait's end and
    /// the result only).
    pub replay_checkpoints: u64,
}

/// An in-memory run of `steps` tiny steps in one invocation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InMemoryRun {
    /// Steps.
    pub steps: usize,
    /// Milliseconds for the whole invocation.
    pub total_ms: f64,
    /// Microseconds per step.
    pub per_step_us: f64,
    /// Checkpoint calls per step (on Lambda: `CheckpointDurableExecution`
    /// API calls).
    pub checkpoints_per_step: f64,
}

struct Invocation {
    elapsed: Duration,
    checkpoints: u64,
}

/// One invocation of `arn` on `store`, timed from its beginning to its
/// completion, with its checkpoint calls counted.
async fn invoke(
    store: &Arc<MemoryStore>,
    function: &DurableFunction,
    arn: &str,
    request_id: &str,
) -> Result<Invocation, BenchError> {
    let started = Instant::now();
    let input = store
        .begin_invocation(arn, request_id)
        .map_err(|e| BenchError::Run(e.to_string()))?;
    let counting = Arc::new(CountingStore::new(store.clone()));
    let as_store: Arc<dyn CheckpointStore> = counting.clone();
    let output = durable_core::invocation::run(function, input, as_store)
        .await
        .map_err(|e| BenchError::Run(e.to_string()))?;
    store
        .complete_invocation(arn, InvocationOutcome::Returned(output))
        .map_err(|e| BenchError::Run(e.to_string()))?;
    Ok(Invocation {
        elapsed: started.elapsed(),
        checkpoints: counting.checkpoints(),
    })
}

fn status(store: &MemoryStore, arn: &str) -> Result<ExecutionStatus, BenchError> {
    Ok(store
        .describe(arn)
        .map_err(|e| BenchError::Run(e.to_string()))?
        .status)
}

fn input(steps: usize) -> Result<String, BenchError> {
    u32::try_from(steps)
        .map(|n| n.to_string())
        .map_err(|_| BenchError::Setup("too many steps".into()))
}

/// Records `steps` steps, moves the clock past the wait that follows and
/// times the invocation that replays them.
pub async fn replay(steps: usize) -> Result<ReplayResult, BenchError> {
    let clock = Arc::new(VirtualClock::starting_now());
    let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    let function = steps_then_wait();
    let arn = store.start_execution("replay", None, Some(input(steps)?));
    let record = invoke(&store, &function, &arn, "record").await?;
    if status(&store, &arn)? != ExecutionStatus::Running {
        return Err(BenchError::Run(
            "the replay workflow did not suspend".into(),
        ));
    }
    clock.advance(Duration::from_secs(2));
    store.fire_due();
    let replayed = invoke(&store, &function, &arn, "replay").await?;
    if status(&store, &arn)? != ExecutionStatus::Succeeded {
        return Err(BenchError::Run(
            "the replay workflow did not succeed".into(),
        ));
    }
    let replay_ms = replayed.elapsed.as_secs_f64() * 1e3;
    #[allow(clippy::cast_precision_loss)]
    let checkpoints = record.checkpoints as f64;
    Ok(ReplayResult {
        steps,
        record_ms: record.elapsed.as_secs_f64() * 1e3,
        replay_ms,
        replay_per_step_us: replay_ms * 1e3 / count_f64(steps.max(1)),
        checkpoints_per_step: checkpoints / count_f64(steps.max(1)),
        replay_checkpoints: replayed.checkpoints,
    })
}

/// Runs `steps` tiny steps in one in-memory invocation.
pub async fn in_memory_sequential(steps: usize) -> Result<InMemoryRun, BenchError> {
    let store = Arc::new(MemoryStore::new());
    let function = tiny_steps(None);
    // Warm up the allocator and the code paths.
    let warm = store.start_execution("sequential", None, Some("10".into()));
    invoke(&store, &function, &warm, "warm").await?;
    let arn = store.start_execution("sequential", None, Some(input(steps)?));
    let run = invoke(&store, &function, &arn, "run").await?;
    if status(&store, &arn)? != ExecutionStatus::Succeeded {
        return Err(BenchError::Run(
            "the in-memory workflow did not succeed".into(),
        ));
    }
    let total_ms = run.elapsed.as_secs_f64() * 1e3;
    #[allow(clippy::cast_precision_loss)]
    let checkpoints = run.checkpoints as f64;
    Ok(InMemoryRun {
        steps,
        total_ms,
        per_step_us: total_ms * 1e3 / count_f64(steps.max(1)),
        checkpoints_per_step: checkpoints / count_f64(steps.max(1)),
    })
}
