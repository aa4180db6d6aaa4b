//! [`PostgresPersistence`]: connecting to the database and bringing its
//! schema up to date.

use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::config::PostgresConfig;
use crate::error::ConnectError;

/// The schema migrations, applied by every `connect`.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Executions kept in a `PostgreSQL` database, with the whole
/// [`Persistence`](durable_runtime::Persistence) contract.
///
/// Cheap to clone: clones share one connection pool. Any number of stores,
/// in any number of processes, may use the same database: the version
/// fence keeps their commits apart and a claim leases each execution to
/// one of them.
#[derive(Debug, Clone)]
pub struct PostgresPersistence {
    pool: PgPool,
}

impl PostgresPersistence {
    /// Connects to the database at `url` with the default pool settings and
    /// applies the pending migrations.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(&PostgresConfig::new(url)?).await
    }

    /// Connects to the database `config` describes and applies the pending
    /// migrations (concurrent connects wait for each other on the
    /// migrator's advisory lock).
    pub async fn connect_with(config: &PostgresConfig) -> Result<Self, ConnectError> {
        let location = config.location();
        let pool = config
            .pool_options()
            .connect_with(config.options().clone())
            .await
            .map_err(|source| ConnectError::Connect {
                location: location.clone(),
                source,
            })?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| ConnectError::Migrate {
                location: location.clone(),
                source,
            })?;
        tracing::debug!(%location, "connected to PostgreSQL database");
        Ok(Self { pool })
    }

    /// A store on `pool`, whose database has the schema already (see
    /// [`MIGRATOR`]).
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The connection pool, for administration and tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection, waiting for the ones in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
