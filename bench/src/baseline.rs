//! The physical floor, measured on the same database in the same run as
//! the workload it is compared with: raw single-row `INSERT` + `COMMIT`
//! transactions, one at a time or many in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::BenchError;
use crate::database::RawPool;

/// A tiny row, about the size of a tiny step's result.
const PAYLOAD: &str = r#"{"step":1,"result":"42"}"#;

fn sql_error(what: &str, error: &sqlx::Error) -> BenchError {
    BenchError::Run(format!("raw baseline, {what}: {error}"))
}

impl RawPool {
    /// Creates the baseline's table (idempotent).
    pub async fn prepare(&self) -> Result<(), BenchError> {
        match self {
            Self::Sqlite(pool) => sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL)",
            )
            .execute(pool)
            .await
            .map(drop),
            Self::Postgres(pool) => sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS bench_raw (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)",
            )
            .execute(pool)
            .await
            .map(drop),
        }
        .map_err(|e| sql_error("creating the table", &e))
    }

    /// One transaction: `BEGIN`, an `INSERT` of `rows` rows in one
    /// statement, `COMMIT`.
    pub async fn insert_commit(&self, rows: usize) -> Result<(), BenchError> {
        let rows = rows.max(1);
        match self {
            Self::Sqlite(pool) => {
                let mut tx = pool.begin().await.map_err(|e| sql_error("begin", &e))?;
                let values = vec!["(?)"; rows].join(",");
                let sql = format!("INSERT INTO bench_raw (payload) VALUES {values}");
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for _ in 0..rows {
                    query = query.bind(PAYLOAD);
                }
                query
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| sql_error("insert", &e))?;
                tx.commit().await.map_err(|e| sql_error("commit", &e))
            }
            Self::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(|e| sql_error("begin", &e))?;
                sqlx::query("INSERT INTO bench_raw (payload) SELECT unnest($1::text[])")
                    .bind(vec![PAYLOAD; rows])
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| sql_error("insert", &e))?;
                tx.commit().await.map_err(|e| sql_error("commit", &e))
            }
        }
    }

    /// The latency of `count` single-row `INSERT` + `COMMIT` transactions
    /// run one after the other.
    pub async fn sequential_commits(&self, count: usize) -> Result<Vec<Duration>, BenchError> {
        self.prepare().await?;
        let mut samples = Vec::with_capacity(count);
        for _ in 0..count {
            let started = Instant::now();
            self.insert_commit(1).await?;
            samples.push(started.elapsed());
        }
        Ok(samples)
    }

    /// Runs `total` transactions of `rows` rows each with `in_flight` of
    /// them at once; returns the wall time.
    pub async fn concurrent_commits(
        &self,
        total: usize,
        in_flight: usize,
        rows: usize,
    ) -> Result<Duration, BenchError> {
        self.prepare().await?;
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..in_flight.max(1) {
            let pool = self.clone();
            let next = next.clone();
            tasks.spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    pool.insert_commit(rows).await?;
                }
                Ok::<_, BenchError>(())
            });
        }
        while let Some(joined) = tasks.join_next().await {
            joined.map_err(|e| BenchError::Run(format!("raw baseline task: {e}")))??;
        }
        Ok(started.elapsed())
    }
}
