//! The whole run: every workload in turn, then the report, the JSON and
//! the chart.

use std::future::Future;
use std::time::Duration;

use crate::BenchError;
use crate::database::{
    Backend, bench_dir, drop_postgres_databases, fresh_postgres, fresh_sqlite, url_of,
};
use crate::progress::Progress;
use crate::results::{Environment, PeersResult, Results, WritesRow};
use crate::stats::ratio;
use crate::throughput::Shape;
use crate::{chart, memory, peers, replay, report, sequential, throughput};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Smaller sizes.
    pub quick: bool,
    /// The backends of workloads 1 and 2.
    pub backends: Vec<Backend>,
    /// Whether to run the peers.
    pub peers: bool,
}

/// The sizes of the workloads.
#[derive(Debug, Clone)]
struct Sizes {
    sequential_steps: usize,
    throughput: Shape,
    replay: Vec<usize>,
    peer_budget: Duration,
    dbos_replay: usize,
    suspended: usize,
    running: usize,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                sequential_steps: 100,
                throughput: Shape {
                    workflows: 100,
                    steps: 10,
                    in_flight: 64,
                },
                replay: vec![1_000, 10_000],
                peer_budget: Duration::from_secs(20),
                dbos_replay: 100,
                suspended: 500,
                running: 20,
            }
        } else {
            Self {
                sequential_steps: 500,
                throughput: Shape {
                    workflows: 1_000,
                    steps: 10,
                    in_flight: 64,
                },
                replay: vec![1_000, 10_000, 100_000],
                peer_budget: Duration::from_secs(30),
                dbos_replay: 1_000,
                suspended: 10_000,
                running: 100,
            }
        }
    }
}

/// Connections per pool for the throughput workload on Postgres (the
/// backend's pool and the raw one each; the server allows 100 in all).
const POSTGRES_POOL: u32 = 20;
/// Turns the memory workload's worker runs at once besides the running
/// executions.
const MEMORY_TURNS: usize = 16;
/// Connections per pool on `SQLite` (the backend's default).
const SQLITE_POOL: u32 = 8;

fn environment(quick: bool) -> Environment {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    Environment {
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        cpu,
        cores: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        quick,
    }
}

/// Runs `workload`; a failure is noted and the run goes on.
async fn attempt<T>(
    failures: &mut Vec<String>,
    progress: &Progress,
    name: &str,
    workload: impl Future<Output = Result<T, BenchError>>,
) -> Option<T> {
    progress.phase(name.to_owned());
    match workload.await {
        Ok(value) => Some(value),
        Err(error) => {
            progress.note(format!("{name} failed: {error}"));
            failures.push(format!("{name}: {error}"));
            None
        }
    }
}

/// Runs everything `options` asks for and writes the results.
pub async fn all(options: &Options) -> Result<(), BenchError> {
    let sizes = Sizes::new(options.quick);
    let environment = environment(options.quick);
    let backends = options.backends.len() as u64;
    let phases = 2 + sizes.replay.len() as u64 + backends * 6 + 2 + 1;
    let progress = Progress::new(phases);
    let mut failures = Vec::new();

    // 3. Replay, and ours in memory for the peers.
    let mut replays = Vec::new();
    for &steps in &sizes.replay {
        let name = format!("replay {steps} steps");
        if let Some(r) = attempt(&mut failures, &progress, &name, replay::replay(steps)).await {
            replays.push(r);
        }
        progress.inc(1);
    }
    let in_memory = attempt(
        &mut failures,
        &progress,
        "in-memory sequential",
        replay::in_memory_sequential(sizes.sequential_steps),
    )
    .await;
    progress.inc(1);

    // 1 and 2 on each backend, each on a fresh database.
    let (sequentials, throughputs) =
        database_workloads(options, &sizes, &progress, &mut failures).await;

    // 4. Peers.
    let peers = run_peers(options, &sizes, &progress, in_memory.as_ref(), &sequentials).await;
    progress.inc(2);

    // 6. Memory, in a process of its own.
    progress.phase(format!(
        "memory: worker with {} suspended, {} running",
        sizes.suspended, sizes.running
    ));
    // Postgres when selected (SQLite's single writer makes starting 10,000
    // executions slow); SQLite otherwise.
    let memory_backend = if options.backends.contains(&Backend::Postgres) {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let memory = memory::measure(memory_backend, sizes.suspended, sizes.running, MEMORY_TURNS)
        .await
        .map_err(|e| e.to_string());
    progress.inc(1);
    progress.finish();

    let results = Results {
        environment,
        writes: writes_rows(&sequentials, &throughputs, in_memory.as_ref()),
        sequential: sequentials,
        throughput: throughputs,
        replay: replays,
        peers,
        memory,
        failures,
    };
    write(&results)
}

/// Workloads 1 and 2 on each backend, each on a fresh database.
async fn database_workloads(
    options: &Options,
    sizes: &Sizes,
    progress: &Progress,
    failures: &mut Vec<String>,
) -> (
    Vec<sequential::SequentialResult>,
    Vec<throughput::ThroughputResult>,
) {
    let mut sequentials = Vec::new();
    let mut throughputs = Vec::new();
    for &backend in &options.backends {
        let name = format!("sequential on {}", backend.label());
        let run = async {
            match backend {
                Backend::Sqlite => {
                    let db = fresh_sqlite(SQLITE_POOL).await?;
                    let result = sequential::run(
                        backend,
                        db.persistence.clone(),
                        &db.raw,
                        sizes.sequential_steps,
                        progress,
                    )
                    .await;
                    db.remove().await;
                    result
                }
                Backend::Postgres => {
                    let db = fresh_postgres(5).await?;
                    let result = sequential::run(
                        backend,
                        db.persistence.clone(),
                        &db.raw,
                        sizes.sequential_steps,
                        progress,
                    )
                    .await;
                    db.close().await;
                    result
                }
            }
        };
        if let Some(r) = attempt(failures, progress, &name, run).await {
            sequentials.push(r);
        }
        let name = format!("throughput on {}", backend.label());
        let run = async {
            match backend {
                Backend::Sqlite => {
                    let db = fresh_sqlite(SQLITE_POOL).await?;
                    let result = throughput::run(
                        backend,
                        db.persistence.clone(),
                        &db.raw,
                        sizes.throughput,
                        progress,
                    )
                    .await;
                    db.remove().await;
                    result
                }
                Backend::Postgres => {
                    let db = fresh_postgres(POSTGRES_POOL).await?;
                    let result = throughput::run(
                        backend,
                        db.persistence.clone(),
                        &db.raw,
                        sizes.throughput,
                        progress,
                    )
                    .await;
                    db.close().await;
                    result
                }
            }
        };
        if let Some(r) = attempt(failures, progress, &name, run).await {
            throughputs.push(r);
        }
        drop_postgres_databases().await;
    }

    (sequentials, throughputs)
}

async fn run_peers(
    options: &Options,
    sizes: &Sizes,
    progress: &Progress,
    in_memory: Option<&replay::InMemoryRun>,
    sequentials: &[sequential::SequentialResult],
) -> PeersResult {
    let not_asked = || peers::PeerRun::NotRun {
        reason: "peers skipped (--no-peers)".into(),
    };
    let aws_rust = if options.peers {
        progress.phase("peer: AWS Rust preview LocalRunner");
        peers::aws(sizes.sequential_steps, &sizes.replay, sizes.peer_budget).await
    } else {
        not_asked()
    };
    let dbos = if !options.peers {
        not_asked()
    } else if options.backends.contains(&Backend::Postgres) {
        progress.phase("peer: DBOS Transact on Postgres");
        match durable_postgres::testing::fresh_options().await {
            Ok(db) => peers::dbos(&url_of(&db), sizes.sequential_steps, sizes.dbos_replay).await,
            Err(error) => peers::PeerRun::NotRun {
                reason: error.to_string(),
            },
        }
    } else {
        peers::PeerRun::NotRun {
            reason: "Postgres not selected (--backend)".into(),
        }
    };
    drop_postgres_databases().await;
    let aws_ratio = aws_rust
        .number("/sequential/per_step_us")
        .and_then(|peer| ratio(peer, in_memory?.per_step_us));
    let dbos_step = dbos.number("/sequential/step/median_us");
    let ours_pg = sequentials
        .iter()
        .find(|r| r.backend == Backend::Postgres)
        .map(|r| r.step.median_us);
    PeersResult {
        aws_rust,
        ours_in_memory: in_memory.cloned(),
        aws_ratio,
        dbos_ratio_median: dbos.number("/sequential/ratio_median"),
        dbos_vs_ours: dbos_step.and_then(|d| ratio(d, ours_pg?)),
        dbos,
    }
}

fn writes_rows(
    sequentials: &[sequential::SequentialResult],
    throughputs: &[throughput::ThroughputResult],
    in_memory: Option<&replay::InMemoryRun>,
) -> Vec<WritesRow> {
    let mut rows = Vec::new();
    for r in sequentials {
        rows.push(WritesRow {
            path: format!("{} (self-hosted runtime)", r.backend.label()),
            per_step: r.commits_per_step,
            unit: "transactions (fenced commits)".into(),
            counted_in: format!("sequential, {} steps", r.steps),
        });
    }
    for r in throughputs {
        rows.push(WritesRow {
            path: format!("{} (self-hosted runtime, worker)", r.backend.label()),
            per_step: r.commits_per_step + r.lease_writes_per_step,
            unit: "transactions (commits + lease writes)".into(),
            counted_in: format!(
                "throughput, {} × {} steps",
                r.shape.workflows, r.shape.steps
            ),
        });
    }
    if let Some(r) = in_memory {
        rows.push(WritesRow {
            path: "Lambda (checkpoint API calls = engine checkpoint calls)".into(),
            per_step: r.checkpoints_per_step,
            unit: "CheckpointStore::checkpoint calls".into(),
            counted_in: format!("in-memory sequential, {} steps", r.steps),
        });
    }
    rows
}

/// Reads `path` (a `results.json`), prints its tables and writes
/// `results.md` and `chart.svg` beside it.
pub fn report_from(path: &std::path::Path) -> Result<(), BenchError> {
    let json = std::fs::read_to_string(path)
        .map_err(|e| BenchError::Report(format!("reading {}: {e}", path.display())))?;
    let results: Results = serde_json::from_str(&json)
        .map_err(|e| BenchError::Report(format!("reading {}: {e}", path.display())))?;
    let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    let table = report::markdown(&results);
    std::fs::write(dir.join("results.md"), &table)
        .map_err(|e| BenchError::Report(format!("writing results.md: {e}")))?;
    chart::write(&results, &dir.join("chart.svg"))?;
    println!("{table}");
    Ok(())
}

fn write(results: &Results) -> Result<(), BenchError> {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| BenchError::Report(format!("creating {}: {e}", dir.display())))?;
    let json =
        serde_json::to_string_pretty(results).map_err(|e| BenchError::Report(e.to_string()))?;
    let write_file = |name: &str, contents: &str| {
        let path = dir.join(name);
        std::fs::write(&path, contents)
            .map_err(|e| BenchError::Report(format!("writing {}: {e}", path.display())))
    };
    write_file("results.json", &json)?;
    let table = report::markdown(results);
    write_file("results.md", &table)?;
    chart::write(results, &dir.join("chart.svg"))?;
    println!("{table}");
    println!(
        "Wrote {0}/results.json, {0}/results.md and {0}/chart.svg",
        dir.display()
    );
    Ok(())
}
