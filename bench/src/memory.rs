//! Workload 6: the peak resident memory of a worker process holding many
//! suspended executions (awaiting callbacks) and some running ones (inside
//! a step). The measurement runs in a child process of its own
//! (`durable-bench memory-worker`), so that nothing else the benchmark did
//! counts; the parent reads its JSON.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use durable_runtime::{Persistence, Service, Worker};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::BenchError;
use crate::database::{Backend, drop_postgres_databases, fresh_postgres, fresh_sqlite};
use crate::functions::{await_callback, held_running};

/// What the worker process reported.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryResult {
    /// The backend the executions were stored on.
    pub backend: String,
    /// Suspended executions (each awaiting a callback).
    pub suspended: usize,
    /// Executions running a step when measured.
    pub running: usize,
    /// Peak RSS before any execution (runtime and pools only), KiB.
    pub idle_hwm_kib: u64,
    /// Peak RSS with every execution in place (`VmHWM`), KiB.
    pub peak_hwm_kib: u64,
    /// RSS at that moment (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// Seconds to start and suspend the suspended executions.
    pub setup_secs: f64,
}

/// Runs the child process and reads its result.
pub async fn measure(
    backend: Backend,
    suspended: usize,
    running: usize,
    concurrency: usize,
) -> Result<MemoryResult, BenchError> {
    let exe = std::env::current_exe()
        .map_err(|e| BenchError::Setup(format!("finding the benchmark binary: {e}")))?;
    let output = tokio::process::Command::new(exe)
        .args([
            "memory-worker",
            "--backend",
            match backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            },
            "--concurrency",
            &concurrency.to_string(),
            "--suspended",
            &suspended.to_string(),
            "--running",
            &running.to_string(),
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await
        .map_err(|e| BenchError::Run(format!("running the memory worker: {e}")))?;
    if !output.status.success() {
        return Err(BenchError::Run(format!(
            "the memory worker failed: {}",
            output.status
        )));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| BenchError::Run(format!("reading the memory worker's output: {e}")))
}

/// `VmHWM` and `VmRSS` of this process, KiB.
fn own_memory() -> Result<(u64, u64), BenchError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| BenchError::Run(format!("reading /proc/self/status: {e}")))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .ok_or_else(|| BenchError::Run(format!("no {name} in /proc/self/status")))
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// The child: a worker on a fresh database holding `suspended` suspended
/// and `running` running executions, running at most `concurrency` turns
/// at once besides the running ones; prints a [`MemoryResult`].
pub async fn worker_process(
    backend: Backend,
    suspended: usize,
    running: usize,
    concurrency: usize,
) -> Result<(), BenchError> {
    let result = match backend {
        Backend::Sqlite => {
            let db = fresh_sqlite(8).await?;
            let result = hold(db.persistence.clone(), suspended, running, concurrency).await;
            db.remove().await;
            result
        }
        Backend::Postgres => {
            let db = fresh_postgres(20).await?;
            let result = hold(db.persistence.clone(), suspended, running, concurrency).await;
            db.close().await;
            drop_postgres_databases().await;
            result
        }
    };
    let mut result = result?;
    result.backend = backend.label().into();
    println!(
        "{}",
        serde_json::to_string(&result).map_err(|e| BenchError::Run(e.to_string()))?
    );
    Ok(())
}

async fn hold<P: Persistence + 'static>(
    persistence: P,
    suspended: usize,
    running: usize,
    concurrency: usize,
) -> Result<MemoryResult, BenchError> {
    let service = Arc::new(Service::new(persistence));
    let (idle_hwm_kib, _) = own_memory()?;
    let registered = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let entered = Arc::new(Semaphore::new(0));
    let worker = Worker::new(service.clone())
        .register("suspend", await_callback(registered.clone()))
        .register("hold", held_running(gate.clone(), entered.clone()))
        .concurrency(running + concurrency)
        .poll_interval(Duration::from_millis(5));

    // Started before the worker runs, so that setup measures the worker
    // and not the contention of starts with its turns.
    let started = Instant::now();
    for _ in 0..suspended {
        service
            .start_execution("suspend", None, None)
            .await
            .map_err(|e| BenchError::Run(e.to_string()))?;
    }
    let driver = {
        let service = service.clone();
        let gate = gate.clone();
        async move {
            while registered.load(Ordering::SeqCst) < suspended {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // Let the last invocations record their suspension.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let setup_secs = started.elapsed().as_secs_f64();
            let held = async {
                for _ in 0..running {
                    service.start_execution("hold", None, None).await?;
                }
                let all_in = u32::try_from(running).unwrap_or(u32::MAX);
                let permits = entered.acquire_many(all_in).await;
                drop(permits);
                Ok::<_, durable_runtime::RuntimeError>(own_memory())
            }
            .await;
            // Release the holders even if a start failed: the worker
            // finishes the turns in flight before it returns.
            gate.close();
            held.map(|measured| (setup_secs, measured))
        }
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let shutdown = async move {
        let outcome = driver.await;
        let _ = tx.send(outcome);
    };
    worker.run_until(shutdown).await;
    let (setup_secs, measured) = rx
        .await
        .map_err(|_| BenchError::Run("the memory driver stopped".into()))?
        .map_err(|e| BenchError::Run(e.to_string()))?;
    let (peak_hwm_kib, rss_kib) = measured?;
    Ok(MemoryResult {
        backend: String::new(),
        suspended,
        running,
        idle_hwm_kib,
        peak_hwm_kib,
        rss_kib,
        setup_secs,
    })
}
