//! [`SqlitePersistence`]: opening the database and bringing its schema up
//! to date.

use std::str::FromStr;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::config::SqliteConfig;
use crate::error::OpenError;

/// The schema migrations, applied by every `open`.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Executions kept in a `SQLite` database file, with the whole
/// [`Persistence`](durable_runtime::Persistence) contract.
///
/// Cheap to clone: clones share one connection pool. Several stores (and
/// processes) may open the same file; the version fence keeps their
/// commits apart and a claim leases each execution to one of them.
#[derive(Debug, Clone)]
pub struct SqlitePersistence {
    pool: SqlitePool,
}

impl SqlitePersistence {
    /// Opens (creating it if needed) the database at `location` — a file
    /// path, or a `sqlite:` URL — in WAL mode with a busy timeout and
    /// foreign keys on, and applies the pending migrations.
    ///
    /// Use a file: each connection to `sqlite::memory:` would see a
    /// database of its own.
    pub async fn open(location: &str) -> Result<Self, OpenError> {
        Self::open_with(&SqliteConfig::new(location)).await
    }

    /// Opens the database `config` describes; see [`open`](Self::open).
    pub async fn open_with(config: &SqliteConfig) -> Result<Self, OpenError> {
        let location = config.location();
        let options = if location.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(location).map_err(|source| {
                OpenError::InvalidLocation {
                    location: location.to_owned(),
                    source,
                }
            })?
        } else {
            SqliteConnectOptions::new().filename(location)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(config.busy_timeout_value())
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections_value())
            .connect_with(options)
            .await
            .map_err(|source| OpenError::Connect {
                location: location.to_owned(),
                source,
            })?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| OpenError::Migrate {
                location: location.to_owned(),
                source,
            })?;
        tracing::debug!(location, "opened SQLite database");
        Ok(Self { pool })
    }

    /// Opens the embedded default, [`DEFAULT_PATH`](crate::DEFAULT_PATH)
    /// in the working directory.
    pub async fn open_default() -> Result<Self, OpenError> {
        Self::open_with(&SqliteConfig::default()).await
    }

    /// The connection pool, for administration and tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, waiting for the ones in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
