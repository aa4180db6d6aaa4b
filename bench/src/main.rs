//! `durable-bench`: the cost of a durable step against the physical floor
//! (raw commits on the same database, measured in the same run) and
//! against peers. Run it through `cargo xtask bench [--backend ..] [--quick]`,
//! which builds it (and the AWS peer) in release mode; docs/performance.md
//! explains the workloads.

mod baseline;
mod chart;
mod counting;
mod database;
mod functions;
mod memory;
mod peers;
mod progress;
mod replay;
mod report;
mod results;
mod run;
mod sequential;
mod stats;
mod throughput;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::database::Backend;

/// Why a workload or the run failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A database or process could not be set up.
    #[error("setup: {0}")]
    Setup(String),
    /// A workload failed while running.
    #[error("run: {0}")]
    Run(String),
    /// Results could not be written.
    #[error("report: {0}")]
    Report(String),
}

/// Benchmarks of the durable execution SDK.
#[derive(Debug, Parser)]
#[command(name = "durable-bench")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Smaller sizes, for a smoke run.
    #[arg(long)]
    quick: bool,
    /// Only these backends (repeatable); all by default.
    #[arg(long, value_enum)]
    backend: Vec<Backend>,
    /// Skip the peers (AWS Rust preview, DBOS).
    #[arg(long)]
    no_peers: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prints the tables and redraws the chart from a `results.json`.
    Report {
        /// The results file.
        results: std::path::PathBuf,
    },
    /// Only workload 3: records and replays `steps` steps in memory, once
    /// per size, and prints the per-step figures (for profiling).
    Replay {
        /// History sizes (steps).
        #[arg(required = true)]
        steps: Vec<usize>,
    },
    /// Internal: the worker process of the memory workload.
    MemoryWorker {
        /// The database the executions are stored on.
        #[arg(long, value_enum)]
        backend: Backend,
        /// Turns at once besides the running executions.
        #[arg(long)]
        concurrency: usize,
        /// Suspended executions to hold.
        #[arg(long)]
        suspended: usize,
        /// Running executions to hold.
        #[arg(long)]
        running: usize,
    },
}

async fn replay_only(sizes: &[usize]) -> Result<(), BenchError> {
    for &steps in sizes {
        let r = replay::replay(steps).await?;
        println!(
            "replay {steps} steps: record {:.1} ms, replay {:.1} ms, {:.2} us/step",
            r.record_ms, r.replay_ms, r.replay_per_step_us
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Report { results }) => run::report_from(&results),
        Some(Command::Replay { steps }) => replay_only(&steps).await,
        Some(Command::MemoryWorker {
            backend,
            concurrency,
            suspended,
            running,
        }) => memory::worker_process(backend, suspended, running, concurrency).await,
        None => {
            let backends = if cli.backend.is_empty() {
                vec![Backend::Sqlite, Backend::Postgres]
            } else {
                cli.backend
            };
            run::all(&run::Options {
                quick: cli.quick,
                backends,
                peers: !cli.no_peers,
            })
            .await
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
