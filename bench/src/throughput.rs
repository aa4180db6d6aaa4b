//! Workload 2: many workflows of a few steps with many in flight, run by a
//! [`Worker`]; steps per second against raw `INSERT` + `COMMIT`
//! transactions at the same concurrency on the same database.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use durable_core::model::ExecutionStatus;
use durable_runtime::{ListFilter, Persistence, Service, Worker};
use serde::{Deserialize, Serialize};

use crate::BenchError;
use crate::counting::{CountingPersistence, WriteCounter};
use crate::database::{Backend, RawPool};
use crate::functions::counted_steps;
use crate::progress::Progress;
use crate::stats::{count_f64, per_second, ratio};

/// Rows a step's commit writes (the operation and its history events),
/// and so the rows of each raw baseline transaction.
pub const ROWS_PER_STEP_COMMIT: usize = 3;

/// The shape of the workload.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Shape {
    /// Workflows started.
    pub workflows: usize,
    /// Steps in each.
    pub steps: usize,
    /// Executions (and raw transactions) in flight at once.
    pub in_flight: usize,
}

/// What the throughput workload measured on one backend.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThroughputResult {
    /// The backend.
    pub backend: Backend,
    /// The shape.
    pub shape: Shape,
    /// Seconds to start every execution (not part of the rate).
    pub start_secs: f64,
    /// Seconds from the worker's start until every execution ended.
    pub run_secs: f64,
    /// Durable steps per second.
    pub steps_per_sec: f64,
    /// Raw transactions per second (`ROWS_PER_STEP_COMMIT` rows each) at the
    /// same concurrency.
    pub raw_commits_per_sec: f64,
    /// Steps per second over raw commits per second: the headline.
    pub ratio: Option<f64>,
    /// Fenced commits per step while running (including beginning and
    /// completing each invocation).
    pub commits_per_step: f64,
    /// Lease writes (claims, renewals, releases) per step.
    pub lease_writes_per_step: f64,
}

/// Runs the workload on `persistence`, then the raw baseline on `raw`.
pub async fn run<P: Persistence + 'static>(
    backend: Backend,
    persistence: P,
    raw: &RawPool,
    shape: Shape,
    progress: &Progress,
) -> Result<ThroughputResult, BenchError> {
    let counter = Arc::new(WriteCounter::default());
    let service = Arc::new(Service::new(CountingPersistence::new(
        persistence,
        counter.clone(),
    )));
    let steps =
        u32::try_from(shape.steps).map_err(|_| BenchError::Setup("too many steps".into()))?;

    let started = Instant::now();
    for _ in 0..shape.workflows {
        service
            .start_execution("throughput", None, Some(steps.to_string()))
            .await
            .map_err(|e| BenchError::Run(e.to_string()))?;
    }
    let start_secs = started.elapsed().as_secs_f64();
    progress.inc(1);

    let finished = Arc::new(AtomicUsize::new(0));
    let worker = Worker::new(service.clone())
        .register("throughput", counted_steps(finished.clone()))
        .concurrency(shape.in_flight)
        .poll_interval(Duration::from_millis(5));
    let (commits_before, leases_before) = (counter.commits(), counter.lease_writes());
    let workflows = shape.workflows;
    let all_finished = {
        let finished = finished.clone();
        async move {
            while finished.load(Ordering::SeqCst) < workflows {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    };
    let started = Instant::now();
    // Graceful shutdown once every handler returned: the turns in flight
    // finish (record their results) before `run_until` returns.
    worker.run_until(all_finished).await;
    let run_time = started.elapsed();
    let commits = counter.commits() - commits_before;
    let lease_writes = counter.lease_writes() - leases_before;
    progress.inc(1);

    let succeeded = count_succeeded(&service).await?;
    if succeeded != shape.workflows {
        return Err(BenchError::Run(format!(
            "{succeeded} of {} workflows succeeded",
            shape.workflows
        )));
    }

    let total_steps = shape.workflows * shape.steps;
    let raw_time = raw
        .concurrent_commits(total_steps, shape.in_flight, ROWS_PER_STEP_COMMIT)
        .await?;
    progress.inc(1);
    let steps_per_sec = per_second(total_steps, run_time);
    let raw_commits_per_sec = per_second(total_steps, raw_time);
    #[allow(clippy::cast_precision_loss)]
    let (commits, lease_writes) = (commits as f64, lease_writes as f64);
    Ok(ThroughputResult {
        backend,
        shape,
        start_secs,
        run_secs: run_time.as_secs_f64(),
        steps_per_sec,
        raw_commits_per_sec,
        ratio: ratio(steps_per_sec, raw_commits_per_sec),
        commits_per_step: commits / count_f64(total_steps),
        lease_writes_per_step: lease_writes / count_f64(total_steps),
    })
}

async fn count_succeeded<P: Persistence>(service: &Service<P>) -> Result<usize, BenchError> {
    let filter = ListFilter {
        status: Some(ExecutionStatus::Succeeded),
        ..ListFilter::default()
    };
    let mut count = 0;
    let mut marker: Option<String> = None;
    loop {
        let page = service
            .list(&filter, marker.as_deref(), 1000)
            .await
            .map_err(|e| BenchError::Run(e.to_string()))?;
        count += page.items.len();
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return Ok(count),
        }
    }
}
