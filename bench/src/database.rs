//! Fresh databases for one run: a `SQLite` file under `target/bench/tmp`
//! or a new database on the local Postgres server, each with the durable
//! schema for the backend and a raw pool on the same database for the
//! baselines. Both are removed afterwards.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use durable_postgres::{PostgresConfig, PostgresPersistence};
use durable_sqlite::{SqliteConfig, SqlitePersistence};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

use crate::BenchError;

/// Which database a workload runs on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// An embedded `SQLite` file (WAL, synchronous FULL: fsync per commit).
    Sqlite,
    /// The Postgres server at 127.0.0.1:5432 (or `DURABLE_TEST_POSTGRES_URL`).
    Postgres,
}

impl Backend {
    /// The display name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "Postgres",
        }
    }
}

/// A raw connection pool on the same database as a backend, for baselines.
#[derive(Debug, Clone)]
pub enum RawPool {
    /// `SQLite`, opened with the backend's settings.
    Sqlite(SqlitePool),
    /// Postgres.
    Postgres(PgPool),
}

/// A fresh `SQLite` database: the durable backend and a raw pool on it.
#[derive(Debug)]
pub struct FreshSqlite {
    /// The durable backend.
    pub persistence: SqlitePersistence,
    /// A raw pool on the same file, same journal mode and synchronous level.
    pub raw: RawPool,
    path: PathBuf,
}

/// A fresh Postgres database: the durable backend and a raw pool on it.
#[derive(Debug)]
pub struct FreshPostgres {
    /// The durable backend.
    pub persistence: PostgresPersistence,
    /// A raw pool on the same database.
    pub raw: RawPool,
}

static NEXT_FILE: AtomicU32 = AtomicU32::new(0);

/// The directory results and scratch files go to.
pub fn bench_dir() -> PathBuf {
    std::env::var_os("DURABLE_BENCH_DIR")
        .map_or_else(|| PathBuf::from("target/bench"), PathBuf::from)
}

/// Opens a new `SQLite` file with `connections` pooled connections each.
pub async fn fresh_sqlite(connections: u32) -> Result<FreshSqlite, BenchError> {
    let dir = bench_dir().join("tmp");
    std::fs::create_dir_all(&dir)
        .map_err(|e| BenchError::Setup(format!("creating {}: {e}", dir.display())))?;
    let path = dir.join(format!(
        "bench-{}-{}.db",
        std::process::id(),
        NEXT_FILE.fetch_add(1, Ordering::SeqCst)
    ));
    let location = path.to_string_lossy().into_owned();
    let persistence = SqlitePersistence::open_with(
        &SqliteConfig::new(location.clone()).max_connections(connections),
    )
    .await
    .map_err(|e| BenchError::Setup(e.to_string()))?;
    // The backend's settings: WAL, and sqlx's default synchronous = FULL.
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(connections)
        .connect_with(options)
        .await
        .map_err(|e| BenchError::Setup(format!("opening {location}: {e}")))?;
    Ok(FreshSqlite {
        persistence,
        raw: RawPool::Sqlite(pool),
        path,
    })
}

impl FreshSqlite {
    /// Closes the pools and deletes the files.
    pub async fn remove(self) {
        self.persistence.close().await;
        if let RawPool::Sqlite(pool) = &self.raw {
            pool.close().await;
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.path.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

/// Creates a new database on the Postgres server with `connections`
/// pooled connections for each of the backend and the raw pool.
pub async fn fresh_postgres(connections: u32) -> Result<FreshPostgres, BenchError> {
    let options = durable_postgres::testing::fresh_options()
        .await
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let persistence = PostgresPersistence::connect_with(
        &PostgresConfig::from_options(options.clone()).max_connections(connections),
    )
    .await
    .map_err(|e| BenchError::Setup(e.to_string()))?;
    let pool = PgPoolOptions::new()
        .max_connections(connections)
        .connect_with(options)
        .await
        .map_err(|e| BenchError::Setup(format!("connecting to the fresh database: {e}")))?;
    Ok(FreshPostgres {
        persistence,
        raw: RawPool::Postgres(pool),
    })
}

impl FreshPostgres {
    /// Closes the pools; the database is dropped by [`drop_postgres_databases`].
    pub async fn close(self) {
        self.persistence.close().await;
        if let RawPool::Postgres(pool) = &self.raw {
            pool.close().await;
        }
    }
}

/// A `postgresql://` URL for `options` (trust authentication: no password).
pub fn url_of(options: &sqlx::postgres::PgConnectOptions) -> String {
    format!(
        "postgresql://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("postgres")
    )
}

/// Drops the databases this process created on the Postgres server.
pub async fn drop_postgres_databases() {
    durable_postgres::testing::drop_own_databases().await;
}
