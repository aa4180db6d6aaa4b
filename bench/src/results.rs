//! Everything one run measured: written as `results.json`, printed as
//! tables and drawn as the chart.

use serde::{Deserialize, Serialize};

use crate::memory::MemoryResult;
use crate::peers::PeerRun;
use crate::replay::{InMemoryRun, ReplayResult};
use crate::sequential::SequentialResult;
use crate::throughput::ThroughputResult;

/// The machine and the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Environment {
    /// UTC time the run started (RFC 3339).
    pub started_at: String,
    /// CPU model.
    pub cpu: String,
    /// Logical cores available.
    pub cores: usize,
    /// Whether this was a `--quick` smoke run.
    pub quick: bool,
}

/// What the peers measured, beside ours on the same shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeersResult {
    /// The AWS Rust preview SDK's `LocalRunner` (in memory).
    pub aws_rust: PeerRun,
    /// Ours in memory, same shape as the AWS peer's sequential run.
    pub ours_in_memory: Option<InMemoryRun>,
    /// AWS per step over ours per step, in memory.
    pub aws_ratio: Option<f64>,
    /// DBOS Transact on Postgres.
    pub dbos: PeerRun,
    /// DBOS's median step over the raw commit measured in its run.
    pub dbos_ratio_median: Option<f64>,
    /// DBOS's median step over our Postgres median step.
    pub dbos_vs_ours: Option<f64>,
}

/// Checkpoint writes per workflow step on one path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WritesRow {
    /// The path (backend).
    pub path: String,
    /// Writes per step.
    pub per_step: f64,
    /// What a write is there.
    pub unit: String,
    /// Which workload it was counted in.
    pub counted_in: String,
}

/// One run's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// The machine and the run.
    pub environment: Environment,
    /// Workload 1.
    pub sequential: Vec<SequentialResult>,
    /// Workload 2.
    pub throughput: Vec<ThroughputResult>,
    /// Workload 3.
    pub replay: Vec<ReplayResult>,
    /// Workload 4.
    pub peers: PeersResult,
    /// Workload 5.
    pub writes: Vec<WritesRow>,
    /// Workload 6, or why it did not run.
    pub memory: Result<MemoryResult, String>,
    /// Workloads that failed, with the error.
    pub failures: Vec<String>,
}
