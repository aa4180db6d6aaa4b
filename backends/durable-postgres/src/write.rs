//! Writing: creating an execution and committing a delta, each in one
//! statement (one round trip, autocommit).
//!
//! A write is one SQL statement of data-modifying CTEs: a fence (the
//! version-checked `UPDATE executions … RETURNING`, or the idempotent
//! `INSERT … ON CONFLICT DO NOTHING RETURNING` of a creation) that the
//! operation upserts, the event inserts and the callback index depend on
//! through `WHERE EXISTS (SELECT 1 FROM fence)`. A statement is atomic, so
//! when the fence matches no row nothing is written, and when a part fails
//! (a taken position or event id) the whole statement is undone. Only a
//! failed write costs a second query, to say why it failed.

use durable_runtime::codec::EncodedDelta;
use durable_runtime::{Created, Creation, Delta, PersistenceError};
use sqlx::PgPool;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryScalar;

use crate::codec::{invalid_delta, millis, to_json};
use crate::error::{backend, is_unique_violation};
use crate::wake::wake_channel;

/// The parts of a write that depend on the fence, a CTE named `fence`
/// that returns one row (`arn`, `due_at`) when the write applies: `$1` is the ARN, `$6`..`$8`
/// the operation positions, ids and bodies, `$9`, `$10` the event ids and
/// bodies, `$11` the callback ids. (A macro, to be `concat!`ed into static
/// statements, which the connections prepare once.)
macro_rules! parts {
    () => {
        "ops AS (INSERT INTO operations (arn, position, id, body) \
            SELECT $1, * FROM UNNEST($6::bigint[], $7::text[], $8::text[]) \
            WHERE EXISTS (SELECT 1 FROM fence) \
            ON CONFLICT (arn, id) DO UPDATE SET body = excluded.body), \
        evs AS (INSERT INTO events (arn, event_id, body) \
            SELECT $1, * FROM UNNEST($9::bigint[], $10::text[]) \
            WHERE EXISTS (SELECT 1 FROM fence)), \
        cbs AS (INSERT INTO callbacks (callback_id, arn) \
            SELECT id, $1 FROM UNNEST($11::text[]) AS t(id) \
            WHERE EXISTS (SELECT 1 FROM fence) \
            ON CONFLICT (callback_id) DO UPDATE SET arn = excluded.arn) "
    };
}

/// Applies a delta (header `$2`, status `$3`, end `$4`, due time `$5`) if
/// the execution is at version `$12` with `$13` events stored and no
/// operation of the delta is stored at another position; `$14` is the
/// number of new events.
///
/// Wakes listening workers (`NOTIFY`) only when the execution becomes due
/// sooner than it was: a completed callback or a timeout moved forward.
/// Checkpoints of a running invocation keep its due time (the
/// invocation's start), timers a worker fires are due already, so hot
/// commits never notify.
const COMMIT: &str = concat!(
    "WITH prior AS (SELECT due_at FROM executions WHERE arn = $1), \
     fence AS (UPDATE executions e SET header = $2, status = $3, \
     end_timestamp = $4, due_at = $5, event_count = event_count + $14, version = version + 1 \
     WHERE e.arn = $1 AND e.version = $12 AND e.event_count = $13 \
     AND NOT EXISTS (SELECT 1 FROM operations o \
         JOIN UNNEST($7::text[], $6::bigint[]) AS d(id, position) ON o.id = d.id \
         WHERE o.arn = $1 AND o.position <> d.position) \
     RETURNING e.arn, e.due_at), ",
    parts!(),
    "SELECT fence.arn, CASE WHEN fence.due_at IS NOT NULL \
         AND (prior.due_at IS NULL OR fence.due_at < prior.due_at) \
         THEN pg_notify('",
    wake_channel!(),
    "', '') END \
     FROM fence LEFT JOIN prior ON true"
);

/// Creates an execution (`$12` is the identity, `$13` the function name,
/// `$14` the name, `$15` the start timestamp) unless its (function, name)
/// pair exists. A new execution that is due wakes listening workers.
const CREATE: &str = concat!(
    "WITH fence AS (INSERT INTO executions (arn, header, status, end_timestamp, due_at, \
     identity, function_name, name, start_timestamp, event_count, version) \
     VALUES ($1, $2, $3, $4, $5, $12, $13, $14, $15, cardinality($9::bigint[]), 1) \
     ON CONFLICT (function_name, name) DO NOTHING RETURNING arn, due_at), ",
    parts!(),
    "SELECT arn, CASE WHEN due_at IS NOT NULL THEN pg_notify('",
    wake_channel!(),
    "', '') END FROM fence"
);

/// `sql` with the delta's parameters (`$1`..`$11`) bound.
fn bind_parts<'q>(
    sql: &'static str,
    arn: &'q str,
    parts: &'q EncodedDelta,
) -> QueryScalar<'q, sqlx::Postgres, String, PgArguments> {
    let positions: Vec<i64> = parts.operations.iter().map(|(p, _, _)| *p).collect();
    let ids: Vec<&str> = parts
        .operations
        .iter()
        .map(|(_, id, _)| id.as_str())
        .collect();
    let bodies: Vec<&str> = parts
        .operations
        .iter()
        .map(|(_, _, b)| b.as_str())
        .collect();
    let event_ids: Vec<i64> = parts.events.iter().map(|(id, _)| *id).collect();
    let event_bodies: Vec<&str> = parts.events.iter().map(|(_, b)| b.as_str()).collect();
    sqlx::query_scalar(sql)
        .bind(arn)
        .bind(&parts.header)
        .bind(parts.status)
        .bind(parts.end_timestamp)
        .bind(parts.due_at)
        .bind(positions)
        .bind(ids)
        .bind(bodies)
        .bind(event_ids)
        .bind(event_bodies)
        .bind(&parts.callbacks)
}

/// A failed write's error: a part that does not fit is `InvalidDelta`.
fn write_error(arn: &str, what: &str, error: sqlx::Error) -> PersistenceError {
    if is_unique_violation(&error) {
        invalid_delta(arn, "a new operation's position or an event id is taken")
    } else if is_cardinality_violation(&error) {
        invalid_delta(arn, "an operation id appears twice in one delta")
    } else {
        backend(format!("{what} execution {arn}"), error)
    }
}

/// Whether `error` says one statement would change a row twice (SQLSTATE
/// 21000).
fn is_cardinality_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.code().as_deref() == Some("21000"))
}

/// Creates the execution of `creation`, idempotently by (function, name),
/// in one statement.
pub(crate) async fn create(
    pool: &PgPool,
    creation: &Creation,
) -> Result<Created, PersistenceError> {
    let identity = &creation.identity;
    let arn = identity.arn.as_str();
    let identity_json = to_json(arn, identity)?;
    let parts = EncodedDelta::encode(arn, &creation.delta)?;
    parts.check_events(arn, 0)?;
    let inserted = bind_parts(CREATE, arn, &parts)
        .bind(&identity_json)
        .bind(&identity.function_name)
        .bind(&identity.name)
        .bind(millis(identity.start_timestamp))
        .fetch_optional(pool)
        .await;
    match inserted {
        Ok(Some(_)) => Ok(Created {
            arn: arn.to_owned(),
            created: true,
        }),
        Err(error) if is_unique_violation(&error) => {
            // Either the ARN is taken or the delta does not fit: tell them
            // apart (only on this failure path).
            let taken: Option<i32> = sqlx::query_scalar("SELECT 1 FROM executions WHERE arn = $1")
                .bind(arn)
                .fetch_optional(pool)
                .await
                .map_err(|error| backend(format!("creating execution {arn}"), error))?;
            match taken {
                Some(_) => Err(PersistenceError::Conflict {
                    arn: arn.to_owned(),
                    expected: 0,
                }),
                None => Err(write_error(arn, "creating", error)),
            }
        }
        Err(error) => Err(write_error(arn, "creating", error)),
        Ok(None) => {
            // The (function, name) pair exists: nothing was written.
            let existing: String = sqlx::query_scalar(
                "SELECT arn FROM executions WHERE function_name = $1 AND name = $2",
            )
            .bind(&identity.function_name)
            .bind(&identity.name)
            .fetch_one(pool)
            .await
            .map_err(|error| backend(format!("creating execution {arn}"), error))?;
            Ok(Created {
                arn: existing,
                created: false,
            })
        }
    }
}

/// Applies `delta` to `arn` if it is at `expected_version`, in one
/// statement (one round trip); the new version.
pub(crate) async fn commit(
    pool: &PgPool,
    arn: &str,
    expected_version: u64,
    delta: &Delta,
) -> Result<u64, PersistenceError> {
    let parts = EncodedDelta::encode(arn, delta)?;
    let new_events = parts.event_count(arn)?;
    // The events must continue the stored history; the fence checks that
    // `stored` events are stored.
    let stored = parts
        .history_len
        .checked_sub(parts.events.len() as u64)
        .ok_or_else(|| {
            invalid_delta(
                arn,
                format!(
                    "the header counts {} events, fewer than the {} appended",
                    parts.history_len,
                    parts.events.len()
                ),
            )
        })?;
    parts.check_events(arn, stored)?;
    // A version or count that cannot be stored matches no row.
    let expected = i64::try_from(expected_version).unwrap_or(-1);
    let stored_count = i64::try_from(stored).unwrap_or(-1);

    let applied = bind_parts(COMMIT, arn, &parts)
        .bind(expected)
        .bind(stored_count)
        .bind(new_events)
        .fetch_optional(pool)
        .await
        .map_err(|error| write_error(arn, "committing to", error))?;
    if applied.is_some() {
        return Ok(expected_version + 1);
    }
    Err(why_not_applied(pool, arn, expected, stored_count, &parts).await)
}

/// Why a commit's fence matched no row: the execution is missing, was
/// changed since (a conflict), or the delta does not fit it.
async fn why_not_applied(
    pool: &PgPool,
    arn: &str,
    expected: i64,
    stored: i64,
    parts: &EncodedDelta,
) -> PersistenceError {
    let failed = |error| backend(format!("committing to execution {arn}"), error);
    let row: Result<Option<(i64, i64)>, _> =
        sqlx::query_as("SELECT version, event_count FROM executions WHERE arn = $1")
            .bind(arn)
            .fetch_optional(pool)
            .await;
    let (version, event_count) = match row {
        Err(error) => return failed(error),
        Ok(None) => {
            return PersistenceError::NotFound {
                arn: arn.to_owned(),
            };
        }
        Ok(Some(row)) => row,
    };
    if version != expected {
        return PersistenceError::Conflict {
            arn: arn.to_owned(),
            expected: u64::try_from(expected).unwrap_or(u64::MAX),
        };
    }
    if event_count != stored {
        let next = event_count + 1;
        let first = parts.events.first().map_or(stored + 1, |(id, _)| *id);
        return invalid_delta(
            arn,
            format!("event id {first} does not continue the history (expected {next})"),
        );
    }
    let ids: Vec<&str> = parts
        .operations
        .iter()
        .map(|(_, id, _)| id.as_str())
        .collect();
    let stored_at: Result<Vec<(String, i64)>, _> = sqlx::query_as(
        "SELECT id, position FROM operations WHERE arn = $1 AND id = ANY($2::text[])",
    )
    .bind(arn)
    .bind(&ids)
    .fetch_all(pool)
    .await;
    let stored_at = match stored_at {
        Ok(rows) => rows,
        Err(error) => return failed(error),
    };
    let moved = parts.operations.iter().find_map(|(position, id, _)| {
        stored_at
            .iter()
            .find(|(stored_id, at)| stored_id == id && at != position)
            .map(|(_, at)| format!("operation {id:?} is at position {at}, not {position}"))
    });
    match moved {
        Some(message) => invalid_delta(arn, message),
        // Changed and changed back meanwhile: the caller loads again.
        None => PersistenceError::Conflict {
            arn: arn.to_owned(),
            expected: u64::try_from(expected).unwrap_or(u64::MAX),
        },
    }
}
