//! # durable-worker: a worker for containers, on Postgres
//!
//! The entrypoint of a worker container: connects to the database in
//! `DATABASE_URL` (retrying while it starts), applies the migrations,
//! registers the functions of [`workflows`] and runs a [`Worker`] until
//! SIGTERM (what `docker stop` sends) or Ctrl-C, then finishes the turns in
//! flight and releases their leases. Any number of these, in any number of
//! containers, share one database. Every setting comes from a flag or its
//! environment variable (`durable-worker --help`); the subcommands start,
//! describe and complete callbacks of executions on the same database.
//!
//! ```sh
//! export DATABASE_URL=postgres://postgres@127.0.0.1:5432/durable
//! cargo run -p containers --bin durable-worker &
//! cargo run -p containers --bin durable-worker -- start process-order \
//!     --input '{"id":"o-1","sku":"widget","quantity":2,"amount_cents":4200}'
//! cargo run -p containers --bin durable-worker -- describe <arn>
//! ```
//!
//! See `examples/containers/` for the Dockerfile and a compose file with
//! Postgres and two workers, and `docs/containers.md`.

mod workflows;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};
use durable_postgres::{ConnectError, PostgresConfig, PostgresPersistence};
use durable_runtime::{Service, Worker};
use serde_json::json;

/// A durable execution worker on Postgres.
#[derive(Debug, Parser)]
#[command(name = "durable-worker", version, about)]
struct Cli {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    worker: WorkerArgs,
    /// What to do; `run` when none is given.
    #[command(subcommand)]
    command: Option<Command>,
}

/// Where the database is and how to connect to it.
#[derive(Debug, Args)]
struct DatabaseArgs {
    /// The database: `postgres://user:password@host:port/database`; pool
    /// settings may also go in its query (`?max_connections=20`).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
    /// The most connections this process keeps open [default: 10].
    #[arg(long, env = "DURABLE_MAX_CONNECTIONS", global = true)]
    max_connections: Option<u32>,
    /// How long a statement waits for a free connection, in seconds
    /// [default: 10].
    #[arg(long, env = "DURABLE_ACQUIRE_TIMEOUT_SECS", global = true)]
    acquire_timeout_secs: Option<u64>,
    /// How long to keep trying to reach the database at startup, in
    /// seconds (it may be starting too).
    #[arg(
        long,
        env = "DURABLE_CONNECT_TIMEOUT_SECS",
        default_value_t = 60,
        global = true
    )]
    connect_timeout_secs: u64,
}

/// How the worker runs.
#[derive(Debug, Args)]
struct WorkerArgs {
    /// The id leases are held under, unique per worker [default: random].
    #[arg(long, env = "DURABLE_WORKER_ID", global = true)]
    worker_id: Option<String>,
    /// How many executions run at once.
    #[arg(long, env = "DURABLE_CONCURRENCY", default_value_t = 16, global = true)]
    concurrency: usize,
    /// How long a claim lasts, in seconds: when a worker dies, others take
    /// its executions over after at most this long.
    #[arg(long, env = "DURABLE_LEASE_SECS", default_value_t = 30, global = true)]
    lease_secs: u64,
    /// How often an idle worker looks for due executions, in milliseconds
    /// (wake-ups over LISTEN/NOTIFY usually come sooner).
    #[arg(
        long,
        env = "DURABLE_POLL_INTERVAL_MS",
        default_value_t = 500,
        global = true
    )]
    poll_interval_ms: u64,
    /// How logs are written.
    #[arg(
        long,
        env = "DURABLE_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    log_format: LogFormat,
}

/// How logs are written (the level comes from `RUST_LOG`, `info` by
/// default).
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a worker until SIGTERM or Ctrl-C (the default).
    Run,
    /// Starts an execution and prints its ARN.
    Start {
        /// The function, e.g. `process-order`.
        function: String,
        /// The execution's name, unique per function [default: generated].
        #[arg(long)]
        name: Option<String>,
        /// The input, as JSON.
        #[arg(long)]
        input: Option<String>,
    },
    /// Prints an execution's status, result and error as JSON.
    Describe {
        /// The execution's ARN.
        arn: String,
    },
    /// Completes a callback successfully, as an outside system would.
    CallbackSucceed {
        /// The callback's id.
        callback_id: String,
        /// The result, as JSON.
        #[arg(long, default_value = "{}")]
        result: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.worker.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("durable-worker: {error}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(cli: Cli) -> Result<(), BoxError> {
    let store = connect(&cli.database).await?;
    let service = Arc::new(Service::new(store));
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let args = cli.worker;
            let mut worker = workflows::register(Worker::new(service.clone()))
                .concurrency(args.concurrency)
                .lease(Duration::from_secs(args.lease_secs))
                .poll_interval(Duration::from_millis(args.poll_interval_ms));
            if let Some(id) = args.worker_id {
                worker = worker.worker_id(id);
            }
            tracing::info!(
                worker_id = worker.id(),
                concurrency = args.concurrency,
                lease_secs = args.lease_secs,
                poll_interval_ms = args.poll_interval_ms,
                "durable-worker starting"
            );
            worker.run().await;
        }
        Command::Start {
            function,
            name,
            input,
        } => {
            let started = service
                .start_execution(&function, name.as_deref(), input)
                .await?;
            println!("{}", started.arn);
        }
        Command::Describe { arn } => {
            let description = service.describe(&arn).await?;
            let result = description
                .result
                .as_deref()
                .map(serde_json::from_str::<serde_json::Value>)
                .transpose()?;
            let described = json!({
                "arn": description.arn,
                "status": description.status.as_str(),
                "result": result,
                "error": description.error,
                "invocations": description.invocation_count,
            });
            println!("{described}");
        }
        Command::CallbackSucceed {
            callback_id,
            result,
        } => service.callback_succeed(&callback_id, result).await?,
    }
    service.persistence().close().await;
    Ok(())
}

/// Connects and migrates, trying again every second while the server
/// cannot be reached, for up to the connect timeout.
async fn connect(args: &DatabaseArgs) -> Result<PostgresPersistence, BoxError> {
    let url = args
        .database_url
        .as_deref()
        .ok_or("no database: set DATABASE_URL or pass --database-url")?;
    let mut config = PostgresConfig::new(url)?;
    if let Some(connections) = args.max_connections {
        config = config.max_connections(connections);
    }
    if let Some(seconds) = args.acquire_timeout_secs {
        config = config.acquire_timeout(Duration::from_secs(seconds));
    }
    let deadline = Instant::now() + Duration::from_secs(args.connect_timeout_secs);
    loop {
        match PostgresPersistence::connect_with(&config).await {
            Ok(store) => return Ok(store),
            Err(error @ ConnectError::Connect { .. }) if Instant::now() < deadline => {
                tracing::warn!(%error, "database not reachable yet; trying again in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}
