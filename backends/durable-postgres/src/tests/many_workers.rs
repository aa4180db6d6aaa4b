//! Three worker processes on one database run 500 workflows of ten steps;
//! one of them is killed (SIGKILL) midway. Every workflow completes, no step
//! whose success was recorded runs again, every duplicate run is one that
//! was in flight on the killed worker, no at-most-once step runs twice in
//! one attempt, and the killed worker's executions are taken over within
//! its lease.
//!
//! The workers are this test binary run again with only the ignored
//! [`worker_process`] test, which works when `DURABLE_PG_MANY_URL` names a
//! database. Every run of a step body is recorded in a side table,
//! `step_runs` (execution, step, worker, attempt, time).

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use durable_core::model::{ExecutionStatus, Operation, OperationStatus, OperationType};
use durable_core::service::ServiceConfig;
use durable_core::{
    DurableContext, DurableError, DurableFunction, Jitter, RetryStrategy, StepSemantics,
};
use durable_runtime::{Service, Worker};
use sqlx::PgPool;

use super::{connect, fresh_options};
use crate::{PostgresConfig, PostgresPersistence};

const URL_VAR: &str = "DURABLE_PG_MANY_URL";
const WORKER_VAR: &str = "DURABLE_PG_MANY_WORKER";
const WORKFLOWS: usize = 500;
const STEPS: u32 = 10;
const LEASE: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(50);
const DOOMED: &str = "w1";

/// Whether step `step` is at-most-once (the others are at-least-once).
fn at_most_once(step: u32) -> bool {
    step % 3 == 2
}

/// Ten steps; each run of a body is recorded in `step_runs` first.
fn ten_steps(pool: PgPool, worker: String) -> DurableFunction {
    DurableFunction::new(move |input: u64, ctx: DurableContext| {
        let (pool, worker) = (pool.clone(), worker.clone());
        async move {
            let arn = ctx.execution_arn().to_owned();
            let mut total = input;
            for step in 0..STEPS {
                let (pool, worker, arn) = (pool.clone(), worker.clone(), arn.clone());
                let body = move |run: durable_core::StepContext| async move {
                    sqlx::query(
                        "INSERT INTO step_runs (execution, step, worker, attempt) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&arn)
                    .bind(i32::try_from(step).unwrap_or(-1))
                    .bind(&worker)
                    .bind(i32::try_from(run.attempt()).unwrap_or(-1))
                    .execute(&pool)
                    .await
                    .map_err(|e| DurableError::message(format!("recording the run: {e}")))?;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    Ok::<_, DurableError>(total + u64::from(step))
                };
                let retry = RetryStrategy::exponential()
                    .max_attempts(5)
                    .initial_delay(Duration::from_millis(100))
                    .jitter(Jitter::None);
                let semantics = if at_most_once(step) {
                    StepSemantics::AtMostOncePerRetry
                } else {
                    StepSemantics::default()
                };
                total = ctx
                    .step(body)
                    .name(format!("s{step}"))
                    .retry(retry)
                    .semantics(semantics)
                    .await?;
            }
            Ok::<_, DurableError>(total)
        }
    })
}

/// The worker process: runs until killed. Does nothing in a normal run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by three_worker_processes_one_killed_run_500_workflows"]
async fn worker_process() {
    let (Ok(url), Ok(id)) = (std::env::var(URL_VAR), std::env::var(WORKER_VAR)) else {
        return;
    };
    let config = PostgresConfig::new(&url).unwrap().max_connections(8);
    let store = PostgresPersistence::connect_with(&config).await.unwrap();
    let pool = store.pool().clone();
    // A crashed invocation is invoked again soon, not after 5 s.
    let service = Arc::new(Service::new(store).with_config(ServiceConfig {
        failed_invocation_backoff: Duration::from_millis(100),
        ..ServiceConfig::default()
    }));
    Worker::new(service)
        .register("many", ten_steps(pool, id.clone()))
        .worker_id(id)
        .concurrency(16)
        .lease(LEASE)
        .poll_interval(POLL)
        .run()
        .await;
}

/// Kills the child when dropped, so a failing test leaves no process.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Milliseconds since the epoch, on the clock the database uses too.
fn wall_millis() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// One recorded run of a step body.
#[derive(Debug, sqlx::FromRow)]
struct Run {
    execution: String,
    step: i32,
    worker: String,
    attempt: i32,
    at_ms: i64,
}

/// The (execution, step) pairs whose success is recorded.
async fn recorded_successes(pool: &PgPool) -> HashSet<(String, i32)> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT arn, body FROM operations")
        .fetch_all(pool)
        .await
        .unwrap();
    rows.into_iter()
        .filter_map(|(arn, body)| {
            let op: Operation = serde_json::from_str(&body).unwrap();
            let step = op.name.as_deref()?.strip_prefix('s')?.parse().ok()?;
            (op.operation_type == OperationType::Step && op.status == OperationStatus::Succeeded)
                .then_some((arn, step))
        })
        .collect()
}

/// `SELECT count(*) …` with `bind` bound to its one parameter, if any.
async fn count(pool: &PgPool, sql: &'static str, bind: Option<&str>) -> usize {
    let query = sqlx::query_scalar::<_, i64>(sql);
    let query = match bind {
        Some(value) => query.bind(value.to_owned()),
        None => query,
    };
    usize::try_from(query.fetch_one(pool).await.unwrap()).unwrap()
}

/// The URL of the database `options` name.
fn url_of(options: &sqlx::postgres::PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap()
    )
}

/// Starts worker process `id` on the database at `url`.
fn spawn_worker(url: &str, id: &str) -> Killed {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "tests::many_workers::worker_process",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(URL_VAR, url)
        .env(WORKER_VAR, id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Killed(child)
}

/// How long after `killed` another worker first claims one of `orphans`:
/// once claimed, an orphan's lease owner is never the killed worker's again.
async fn takeover_of(pool: &PgPool, orphans: &[String], killed: Instant) -> Duration {
    loop {
        let taken: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM executions WHERE arn = ANY($1) \
             AND lease_owner IS DISTINCT FROM $2",
        )
        .bind(orphans)
        .bind(DOOMED)
        .fetch_one(pool)
        .await
        .unwrap();
        if taken > 0 {
            return killed.elapsed();
        }
        assert!(killed.elapsed() < Duration::from_secs(30), "no takeover");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until every workflow has succeeded.
async fn wait_all_succeeded(pool: &PgPool, began: Instant) {
    let succeeded = ExecutionStatus::Succeeded.as_str();
    loop {
        let sql = "SELECT count(*) FROM executions WHERE status = $1";
        let done = count(pool, sql, Some(succeeded)).await;
        if done == WORKFLOWS {
            return;
        }
        let stuck: Vec<(String, String)> =
            sqlx::query_as("SELECT name, status FROM executions WHERE status <> $1 LIMIT 5")
                .bind(succeeded)
                .fetch_all(pool)
                .await
                .unwrap();
        assert!(
            began.elapsed() < Duration::from_secs(180),
            "{done} of {WORKFLOWS} completed; for example {stuck:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks every recorded run against what the kill explains; the number
/// of duplicate runs.
fn check_runs(
    runs: &[Run],
    recorded: &HashSet<(String, i32)>,
    orphans: &HashSet<&String>,
    dead_ms: i64,
) -> usize {
    let mut by_step: BTreeMap<(String, i32), Vec<&Run>> = BTreeMap::new();
    for run in runs {
        by_step
            .entry((run.execution.clone(), run.step))
            .or_default()
            .push(run);
    }
    assert_eq!(
        by_step.len(),
        WORKFLOWS * STEPS as usize,
        "every step of every workflow ran"
    );
    let mut duplicates = 0;
    for (key, runs) in &by_step {
        assert!(
            !recorded.contains(key) || runs.len() == 1,
            "step {key:?} ran again after its success was recorded: {runs:?}"
        );
        if runs.len() > 1 {
            duplicates += runs.len() - 1;
            // All but the last run were in flight on the killed worker.
            let (last, earlier) = runs.split_last().unwrap();
            assert!(
                orphans.contains(&key.0)
                    && last.worker != DOOMED
                    && earlier
                        .iter()
                        .all(|run| run.worker == DOOMED && run.at_ms <= dead_ms),
                "step {key:?} ran more than once, not because of the kill: {runs:?}"
            );
        }
        if at_most_once(u32::try_from(key.1).unwrap()) {
            let attempts: HashSet<i32> = runs.iter().map(|run| run.attempt).collect();
            assert_eq!(
                attempts.len(),
                runs.len(),
                "at-most-once step {key:?} ran twice in one attempt: {runs:?}"
            );
        }
    }
    assert!(
        runs.iter()
            .filter(|run| run.worker == DOOMED)
            .all(|run| run.at_ms <= dead_ms),
        "the killed worker ran nothing after its death"
    );
    duplicates
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_worker_processes_one_killed_run_500_workflows() {
    let began = Instant::now();
    let options = fresh_options().await;
    let url = url_of(&options);
    let store = connect(&options).await;
    let pool = store.pool().clone();
    sqlx::raw_sql(
        "CREATE TABLE step_runs (id BIGSERIAL PRIMARY KEY, execution TEXT NOT NULL, \
         step INT NOT NULL, worker TEXT NOT NULL, attempt INT NOT NULL, \
         at_ms BIGINT NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let service = Service::new(store);
    for n in 0..WORKFLOWS {
        service
            .start_execution("many", Some(&format!("m{n}")), Some(n.to_string()))
            .await
            .unwrap();
    }
    let mut workers: BTreeMap<&str, Killed> = ["w0", DOOMED, "w2"]
        .into_iter()
        .map(|id| (id, spawn_worker(&url, id)))
        .collect();

    // Midway: half of the step runs are recorded.
    let total = WORKFLOWS * STEPS as usize;
    while count(&pool, "SELECT count(*) FROM step_runs", None).await < total / 2 {
        assert!(began.elapsed() < Duration::from_secs(120), "too slow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let doomed = workers.get_mut(DOOMED).unwrap();
    let kill_ms = wall_millis();
    let killed = Instant::now();
    doomed.0.kill().unwrap(); // SIGKILL
    let status = doomed.0.wait().unwrap();
    assert!(!status.success(), "the worker was killed: {status:?}");
    let dead_ms = wall_millis();

    // What the killed worker left: its live leases and the recorded steps.
    let orphans: Vec<String> =
        sqlx::query_scalar("SELECT arn FROM executions WHERE lease_owner = $1")
            .bind(DOOMED)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(!orphans.is_empty(), "the killed worker held executions");
    let recorded = recorded_successes(&pool).await;
    let takeover = takeover_of(&pool, &orphans, killed).await;

    wait_all_succeeded(&pool, began).await;
    let elapsed = began.elapsed();
    drop(workers);

    let runs: Vec<Run> =
        sqlx::query_as("SELECT execution, step, worker, attempt, at_ms FROM step_runs ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let orphans: HashSet<&String> = orphans.iter().collect();
    let duplicates = check_runs(&runs, &recorded, &orphans, dead_ms);
    let bound = LEASE + POLL + Duration::from_secs(2);
    eprintln!(
        "many workers: {WORKFLOWS} workflows x {STEPS} steps, {} step runs, \
         {duplicates} duplicate runs (in flight on the killed worker), {} executions \
         orphaned at the kill (at {} of {total} runs), takeover {takeover:?} (bound \
         {bound:?}), total {elapsed:?}",
        runs.len(),
        orphans.len(),
        runs.iter().filter(|run| run.at_ms <= kill_ms).count(),
    );
    assert!(
        takeover <= bound,
        "takeover took {takeover:?}, more than lease + poll + 2 s"
    );
}
