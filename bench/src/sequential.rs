//! Workload 1: one workflow of tiny steps, run to completion by one
//! invocation on a backend; the latency of each step against a raw
//! single-row `INSERT` + `COMMIT` on the same database.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use durable_core::model::ExecutionStatus;
use durable_runtime::driver::{Functions, invoke_once, new_request_id};
use durable_runtime::{Persistence, Service};
use serde::{Deserialize, Serialize};

use crate::BenchError;
use crate::counting::{CountingPersistence, WriteCounter};
use crate::database::{Backend, RawPool};
use crate::functions::{StepClock, tiny_steps};
use crate::progress::Progress;
use crate::stats::{Summary, ratio};

/// What the sequential workload measured on one backend.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequentialResult {
    /// The backend.
    pub backend: Backend,
    /// Steps in the workflow.
    pub steps: usize,
    /// Per-step latency: from one step's return to the next one's.
    pub step: Summary,
    /// The raw single-row `INSERT` + `COMMIT`, as many as there are steps.
    pub raw_commit: Summary,
    /// Median step over median raw commit: the headline.
    pub ratio_median: Option<f64>,
    /// p99 step over p99 raw commit.
    pub ratio_p99: Option<f64>,
    /// Commits (fenced transactions) the backend made during the run,
    /// including beginning and completing the invocation.
    pub commits: u64,
    /// Commits per step.
    pub commits_per_step: f64,
}

/// Runs `steps` tiny steps on `persistence`, then as many raw commits on
/// `raw`, alternating halves so that both see the same disk weather.
pub async fn run<P: Persistence + 'static>(
    backend: Backend,
    persistence: P,
    raw: &RawPool,
    steps: usize,
    progress: &Progress,
) -> Result<SequentialResult, BenchError> {
    let counter = Arc::new(WriteCounter::default());
    let service = Arc::new(Service::new(CountingPersistence::new(
        persistence,
        counter.clone(),
    )));
    let clock: StepClock = Arc::new(Mutex::new(Vec::with_capacity(steps + 1)));
    let mut functions = Functions::new();
    functions.insert("sequential", tiny_steps(Some(clock.clone())));

    // Warm up the pools and the page cache.
    raw.sequential_commits(10).await?;
    let half = steps / 2;
    let mut raw_samples = raw.sequential_commits(half).await?;
    progress.inc(1);

    let n = u32::try_from(steps).map_err(|_| BenchError::Setup("too many steps".into()))?;
    let arn = service
        .start_execution("sequential", None, Some(n.to_string()))
        .await
        .map_err(|e| BenchError::Run(e.to_string()))?
        .arn;
    let before = counter.commits();
    let status = invoke_once(&service, &functions, &arn, &new_request_id())
        .await
        .map_err(|e| BenchError::Run(e.to_string()))?;
    let commits = counter.commits() - before;
    if status != ExecutionStatus::Succeeded {
        return Err(BenchError::Run(format!(
            "the sequential workflow ended {}",
            status.as_str()
        )));
    }
    progress.inc(1);
    raw_samples.extend(raw.sequential_commits(steps - half).await?);
    progress.inc(1);

    let instants = clock.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let step_samples: Vec<Duration> = instants.windows(2).map(|w| w[1] - w[0]).collect();
    let step = Summary::of(&step_samples);
    let raw_commit = Summary::of(&raw_samples);
    #[allow(clippy::cast_precision_loss)]
    let commits_per_step = commits as f64 / crate::stats::count_f64(steps.max(1));
    Ok(SequentialResult {
        backend,
        steps,
        ratio_median: ratio(step.median_us, raw_commit.median_us),
        ratio_p99: ratio(step.p99_us, raw_commit.p99_us),
        step,
        raw_commit,
        commits,
        commits_per_step,
    })
}
