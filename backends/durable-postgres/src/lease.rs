//! Claiming due executions and holding their leases.

use durable_core::model::Timestamp;
use durable_runtime::PersistenceError;
use sqlx::PgPool;

use crate::codec::millis;
use crate::error::backend;

/// Leases the due, unleased executions (`$3` is now) to `$1` until `$2`,
/// at most `$4` of them: first the ones whose lease expired (lost turns of
/// a worker that died or stalled, by the small `lease_until` index), so
/// that a backlog of new work never holds up a takeover; then the earliest
/// due of the unleased, by the `due_at` index. Rows a concurrent claim has
/// locked are skipped, not waited for; a row another claim leased meanwhile is
/// re-checked under its lock and left out.
pub(crate) const CLAIM_DUE: &str = "WITH lost AS (SELECT seq, 0 AS lost_first, due_at \
         FROM executions WHERE lease_until IS NOT NULL AND lease_until <= $3 \
         AND due_at IS NOT NULL AND due_at <= $3 \
         ORDER BY lease_until LIMIT $4 FOR UPDATE SKIP LOCKED), \
     unleased AS (SELECT seq, 1 AS lost_first, due_at \
         FROM executions WHERE due_at IS NOT NULL AND due_at <= $3 AND lease_until IS NULL \
         ORDER BY due_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED) \
     UPDATE executions SET lease_owner = $1, lease_until = $2 \
     WHERE seq IN (SELECT seq FROM (SELECT * FROM lost UNION ALL SELECT * FROM unleased) AS c \
         ORDER BY lost_first, due_at, seq LIMIT $4) \
     RETURNING due_at, seq, arn";

/// Leases up to `limit` due, unleased executions to `owner` in one
/// statement (so two claims never share one), lost turns first; returns
/// them the earliest due first.
pub(crate) async fn claim_due(
    pool: &PgPool,
    now: Timestamp,
    owner: &str,
    lease_until: Timestamp,
    limit: usize,
) -> Result<Vec<String>, PersistenceError> {
    let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
    let mut claimed: Vec<(i64, i64, String)> = sqlx::query_as(CLAIM_DUE)
        .bind(owner)
        .bind(millis(lease_until))
        .bind(millis(now))
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(|error| backend("claiming due executions", error))?;
    // RETURNING comes in no particular order.
    claimed.sort_unstable();
    Ok(claimed.into_iter().map(|(_, _, arn)| arn).collect())
}

/// Extends `owner`'s lease of `arn`; `false` if `owner` does not hold it.
pub(crate) async fn renew(
    pool: &PgPool,
    arn: &str,
    owner: &str,
    lease_until: Timestamp,
) -> Result<bool, PersistenceError> {
    let failed = |error| backend(format!("renewing the lease of execution {arn}"), error);
    let renewed =
        sqlx::query("UPDATE executions SET lease_until = $1 WHERE arn = $2 AND lease_owner = $3")
            .bind(millis(lease_until))
            .bind(arn)
            .bind(owner)
            .execute(pool)
            .await
            .map_err(failed)?;
    held_or_missing(pool, arn, renewed.rows_affected()).await
}

/// Drops `owner`'s lease of `arn`; `false` if `owner` does not hold it.
pub(crate) async fn release(
    pool: &PgPool,
    arn: &str,
    owner: &str,
) -> Result<bool, PersistenceError> {
    let failed = |error| backend(format!("releasing the lease of execution {arn}"), error);
    let released = sqlx::query(
        "UPDATE executions SET lease_owner = NULL, lease_until = NULL \
         WHERE arn = $1 AND lease_owner = $2",
    )
    .bind(arn)
    .bind(owner)
    .execute(pool)
    .await
    .map_err(failed)?;
    held_or_missing(pool, arn, released.rows_affected()).await
}

/// `true` if a lease update changed a row; otherwise `false` if the
/// execution exists and [`PersistenceError::NotFound`] if not.
async fn held_or_missing(pool: &PgPool, arn: &str, changed: u64) -> Result<bool, PersistenceError> {
    if changed > 0 {
        return Ok(true);
    }
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM executions WHERE arn = $1")
        .bind(arn)
        .fetch_optional(pool)
        .await
        .map_err(|error| backend(format!("looking up execution {arn}"), error))?;
    match exists {
        Some(_) => Ok(false),
        None => Err(PersistenceError::NotFound {
            arn: arn.to_owned(),
        }),
    }
}
