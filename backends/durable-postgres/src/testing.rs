//! Throwaway databases for tests (feature `testing`): every call of
//! [`fresh_store`] creates a new database, so tests run in parallel
//! without seeing each other's executions.
//!
//! The server is the one at `DURABLE_TEST_POSTGRES_URL`, by default
//! [`DEFAULT_SERVER_URL`]. When no server answers there, a throwaway
//! cluster is started once per process from the installed `initdb` and
//! `pg_ctl` (as the `postgres` user when running as root), on a free port
//! in a temporary directory; it stops and is removed when the process
//! ends. When neither works, every call fails with a message saying why —
//! a missing server is a failure, never a skip.
//!
//! Databases are named `durable_test_<pid>_<n>`; the ones of processes
//! that have ended are dropped, in the background, the first time a
//! process asks for a server.

mod cluster;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::sync::OnceCell;

use crate::{PostgresConfig, PostgresPersistence};

/// The server tests use when `DURABLE_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The variable naming the server tests use.
pub const SERVER_URL_VAR: &str = "DURABLE_TEST_POSTGRES_URL";

/// Why no test database could be had.
#[derive(Debug, thiserror::Error)]
#[error("no PostgreSQL server for tests: {0}")]
pub struct TestingError(String);

static SERVER: OnceCell<Result<PgConnectOptions, String>> = OnceCell::const_new();
static NEXT: AtomicU64 = AtomicU64::new(0);

/// The connection options of the test server's maintenance database,
/// found or started the first time.
pub async fn server() -> Result<PgConnectOptions, TestingError> {
    SERVER
        .get_or_init(find_or_start)
        .await
        .clone()
        .map_err(TestingError)
}

/// The options of a new, empty database on the test server.
pub async fn fresh_options() -> Result<PgConnectOptions, TestingError> {
    let server = server().await?;
    let name = format!(
        "durable_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = server
        .connect()
        .await
        .map_err(|e| TestingError(format!("connecting to the test server: {e}")))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .map_err(|e| TestingError(format!("creating database {name}: {e}")))?;
    let _ = admin.close().await;
    Ok(server.database(&name))
}

/// A store on a new, empty, migrated database on the test server.
pub async fn fresh_store() -> Result<PostgresPersistence, TestingError> {
    let options = fresh_options().await?;
    let config = PostgresConfig::from_options(options).max_connections(5);
    PostgresPersistence::connect_with(&config)
        .await
        .map_err(|e| TestingError(e.to_string()))
}

/// A `PostgreSQL` cluster of one's own, for tests that stop and start the
/// server (a restart in the middle of a run) without disturbing anyone
/// else: created from the installed `initdb` and `pg_ctl` in a temporary
/// directory, on a free port. Dropping it stops it and removes the
/// directory (as does the end of the process, if it is leaked).
#[derive(Debug)]
pub struct Cluster {
    inner: cluster::Cluster,
}

impl Cluster {
    /// Creates and starts a cluster.
    pub async fn start() -> Result<Self, TestingError> {
        let inner = blocking(cluster::Cluster::init).await?;
        let cluster = Self { inner };
        cluster.start_again().await?;
        Ok(cluster)
    }

    /// The options of its maintenance database, `postgres`, as user
    /// `postgres`.
    pub fn options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.inner.port)
            .username("postgres")
            .database("postgres")
    }

    /// Its URL for database `database`.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            self.inner.port
        )
    }

    /// Stops the server (`pg_ctl -m fast`: clients are disconnected).
    pub async fn stop(&self) -> Result<(), TestingError> {
        let port = self.inner.port;
        let dir = self.inner.clone();
        blocking(move || dir.stop())
            .await
            .map_err(|e| TestingError(format!("stopping the cluster on port {port}: {}", e.0)))
    }

    /// Starts the server again after [`stop`](Self::stop).
    pub async fn start_again(&self) -> Result<(), TestingError> {
        let dir = self.inner.clone();
        blocking(move || dir.start()).await?;
        probe(&self.options()).await.map_err(TestingError)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.inner.destroy();
    }
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, TestingError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| TestingError(e.to_string()))
        .and_then(|done| done.map_err(TestingError))
}

/// The server at the configured URL if it answers, else a throwaway
/// cluster.
async fn find_or_start() -> Result<PgConnectOptions, String> {
    let url = std::env::var(SERVER_URL_VAR).unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned());
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e| format!("{SERVER_URL_VAR}={url:?} is not a PostgreSQL URL: {e}"))?;
    let first = match probe(&options).await {
        Ok(()) => {
            clean_up_in_background(options.clone());
            return Ok(options);
        }
        Err(error) => error,
    };
    tracing::info!(%first, "no PostgreSQL server answers; starting a throwaway cluster");
    let port = tokio::task::spawn_blocking(cluster::start)
        .await
        .map_err(|e| e.to_string())
        .and_then(|started| started)
        .map_err(|e| {
            format!(
                "no server answers at {url} ({first}) and no throwaway cluster could be \
                 started: {e}"
            )
        })?;
    let options = PgConnectOptions::new()
        .host("127.0.0.1")
        .port(port)
        .username("postgres")
        .database("postgres");
    probe(&options)
        .await
        .map_err(|e| format!("the throwaway cluster on port {port} does not answer: {e}"))?;
    Ok(options)
}

/// Whether a connection can be opened, within a few seconds.
async fn probe(options: &PgConnectOptions) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs(5), options.connect()).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("timed out connecting".to_owned()),
    }
}

/// Drops the test databases of ended processes on a thread of its own, so
/// that no test waits for it; what this process does not finish, the next
/// one does.
fn clean_up_in_background(options: PgConnectOptions) {
    let spawned = std::thread::Builder::new()
        .name("durable-test-cleanup".to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(drop_stale_databases(&options)),
                Err(error) => tracing::debug!(%error, "no runtime to drop stale test databases"),
            }
        });
    if let Err(error) = spawned {
        tracing::debug!(%error, "cannot drop stale test databases");
    }
}

/// Drops the test databases this process created; best effort, for the
/// end of a run (connections still open to them are closed).
pub async fn drop_own_databases() {
    if let Some(Ok(options)) = SERVER.get() {
        let own = std::process::id();
        drop_databases(options, |pid| pid == own).await;
    }
}

/// Drops the test databases of processes that have ended; best effort.
async fn drop_stale_databases(options: &PgConnectOptions) {
    let own = std::process::id();
    drop_databases(options, |pid| {
        pid != own && !std::path::Path::new(&format!("/proc/{pid}")).exists()
    })
    .await;
}

/// Drops the test databases whose process id passes `doomed`, four at a
/// time; best effort.
async fn drop_databases(options: &PgConnectOptions, doomed: impl Fn(u32) -> bool) {
    let Ok(mut admin) = options.connect().await else {
        return;
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'durable\\_test\\_%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap_or_default();
    let _ = admin.close().await;
    let names: Vec<String> = names
        .into_iter()
        .filter(|name| {
            let safe = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let pid = name
                .split('_')
                .nth(2)
                .and_then(|pid| pid.parse::<u32>().ok());
            safe && pid.is_some_and(&doomed)
        })
        .collect();
    let chunk = names.len().div_ceil(4).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for part in names.chunks(chunk) {
        let part = part.to_vec();
        let options = options.clone();
        tasks.spawn(async move {
            let Ok(mut admin) = options.connect().await else {
                return;
            };
            for name in part {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await
                {
                    tracing::debug!(%name, %error, "cannot drop a test database");
                }
            }
            let _ = admin.close().await;
        });
    }
    while tasks.join_next().await.is_some() {}
}
