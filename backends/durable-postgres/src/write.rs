//! Writing: creating an execution and committing a delta, each in one
//! transaction.

use durable_runtime::codec::EncodedDelta;
use durable_runtime::{Created, Creation, Delta, PersistenceError};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::codec::{invalid_delta, millis, to_json};
use crate::error::{backend, is_unique_violation};

/// Upserts the operations, appends the events and indexes the callback
/// ids, inside the caller's transaction: one batched statement each.
async fn write_parts(
    parts: &EncodedDelta,
    conn: &mut PgConnection,
    arn: &str,
) -> Result<(), PersistenceError> {
    if !parts.operations.is_empty() {
        upsert_operations(conn, arn, &parts.operations).await?;
    }
    if !parts.events.is_empty() {
        let (ids, bodies): (Vec<i64>, Vec<&str>) = parts
            .events
            .iter()
            .map(|(id, json)| (*id, json.as_str()))
            .unzip();
        sqlx::query(
            "INSERT INTO events (arn, event_id, body) \
             SELECT $1, * FROM UNNEST($2::bigint[], $3::text[])",
        )
        .bind(arn)
        .bind(&ids)
        .bind(&bodies)
        .execute(&mut *conn)
        .await
        .map_err(|error| {
            if is_unique_violation(&error) {
                invalid_delta(arn, format!("an event id of {ids:?} is taken"))
            } else {
                backend(format!("appending events of execution {arn}"), error)
            }
        })?;
    }
    if !parts.callbacks.is_empty() {
        sqlx::query(
            "INSERT INTO callbacks (callback_id, arn) \
             SELECT id, $2 FROM UNNEST($1::text[]) AS t(id) \
             ON CONFLICT (callback_id) DO UPDATE SET arn = excluded.arn",
        )
        .bind(&parts.callbacks)
        .bind(arn)
        .execute(&mut *conn)
        .await
        .map_err(|error| backend(format!("indexing callbacks of execution {arn}"), error))?;
    }
    Ok(())
}

/// Stores each operation (position, id, JSON) in one statement: inserts
/// it, or replaces it if it is stored at that same position.
async fn upsert_operations(
    conn: &mut PgConnection,
    arn: &str,
    operations: &[(i64, String, String)],
) -> Result<(), PersistenceError> {
    let mut positions = Vec::with_capacity(operations.len());
    let mut ids = Vec::with_capacity(operations.len());
    let mut bodies = Vec::with_capacity(operations.len());
    for (position, id, json) in operations {
        positions.push(*position);
        ids.push(id.as_str());
        bodies.push(json.as_str());
    }
    let written = sqlx::query(
        "INSERT INTO operations (arn, position, id, body) \
         SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::text[]) \
         ON CONFLICT (arn, id) DO UPDATE SET body = excluded.body \
         WHERE operations.position = excluded.position",
    )
    .bind(arn)
    .bind(&positions)
    .bind(&ids)
    .bind(&bodies)
    .execute(&mut *conn)
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            invalid_delta(arn, "the position of a new operation is taken")
        } else if is_cardinality_violation(&error) {
            invalid_delta(arn, "an operation id appears twice in one delta")
        } else {
            backend(format!("writing operations of execution {arn}"), error)
        }
    })?;
    if written.rows_affected() == operations.len() as u64 {
        return Ok(());
    }
    let stored: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, position FROM operations WHERE arn = $1 AND id = ANY($2::text[])",
    )
    .bind(arn)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(|error| backend(format!("reading operations of execution {arn}"), error))?;
    let moved = operations.iter().find_map(|(position, id, _)| {
        stored
            .iter()
            .find(|(stored_id, stored_at)| stored_id == id && stored_at != position)
            .map(|(_, stored_at)| (id, stored_at, position))
    });
    Err(invalid_delta(
        arn,
        moved.map_or_else(
            || "an operation does not fit its stored position".to_owned(),
            |(id, stored_at, position)| {
                format!("operation {id:?} is at position {stored_at}, not {position}")
            },
        ),
    ))
}

/// Whether `error` says one statement would change a row twice (SQLSTATE
/// 21000).
fn is_cardinality_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.code().as_deref() == Some("21000"))
}

/// Begins a read-committed transaction: the fenced `UPDATE` re-checks the
/// version of a row a concurrent commit changed, so two commits at one
/// version never both apply.
async fn begin_write(
    pool: &PgPool,
    arn: &str,
) -> Result<Transaction<'static, Postgres>, PersistenceError> {
    pool.begin()
        .await
        .map_err(|error| backend(format!("beginning a write to execution {arn}"), error))
}

/// Creates the execution of `creation`, idempotently by (function, name).
pub(crate) async fn create(
    pool: &PgPool,
    creation: &Creation,
) -> Result<Created, PersistenceError> {
    let identity = &creation.identity;
    let arn = identity.arn.as_str();
    let identity_json = to_json(arn, identity)?;
    let parts = EncodedDelta::encode(arn, &creation.delta)?;
    parts.check_events(arn, 0)?;
    let event_count = parts.event_count(arn)?;
    let failed = |error| backend(format!("creating execution {arn}"), error);

    let mut tx = begin_write(pool, arn).await?;
    let inserted: Result<Option<String>, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO executions (arn, function_name, name, identity, header, status, \
         start_timestamp, end_timestamp, due_at, event_count, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) \
         ON CONFLICT (function_name, name) DO NOTHING RETURNING arn",
    )
    .bind(arn)
    .bind(&identity.function_name)
    .bind(&identity.name)
    .bind(&identity_json)
    .bind(&parts.header)
    .bind(parts.status)
    .bind(millis(identity.start_timestamp))
    .bind(parts.end_timestamp)
    .bind(parts.due_at)
    .bind(event_count)
    .fetch_optional(&mut *tx)
    .await;
    match inserted {
        Err(error) if is_unique_violation(&error) => {
            return Err(PersistenceError::Conflict {
                arn: arn.to_owned(),
                expected: 0,
            });
        }
        Err(error) => return Err(failed(error)),
        Ok(Some(_)) => {}
        Ok(None) => {
            // The (function, name) pair exists: nothing is written.
            let existing: String = sqlx::query_scalar(
                "SELECT arn FROM executions WHERE function_name = $1 AND name = $2",
            )
            .bind(&identity.function_name)
            .bind(&identity.name)
            .fetch_one(&mut *tx)
            .await
            .map_err(failed)?;
            return Ok(Created {
                arn: existing,
                created: false,
            });
        }
    }
    write_parts(&parts, &mut tx, arn).await?;
    tx.commit().await.map_err(failed)?;
    Ok(Created {
        arn: arn.to_owned(),
        created: true,
    })
}

/// Applies `delta` to `arn` if it is at `expected_version`, in one
/// transaction; the new version.
pub(crate) async fn commit(
    pool: &PgPool,
    arn: &str,
    expected_version: u64,
    delta: &Delta,
) -> Result<u64, PersistenceError> {
    let parts = EncodedDelta::encode(arn, delta)?;
    let new_events = parts.event_count(arn)?;
    let failed = |error| backend(format!("committing to execution {arn}"), error);
    // A version that cannot be stored matches no row: a conflict.
    let expected = i64::try_from(expected_version).unwrap_or(-1);

    let mut tx = begin_write(pool, arn).await?;
    let event_count: Option<i64> = sqlx::query_scalar(
        "UPDATE executions SET header = $1, status = $2, end_timestamp = $3, due_at = $4, \
         event_count = event_count + $5, version = version + 1 \
         WHERE arn = $6 AND version = $7 RETURNING event_count",
    )
    .bind(&parts.header)
    .bind(parts.status)
    .bind(parts.end_timestamp)
    .bind(parts.due_at)
    .bind(new_events)
    .bind(arn)
    .bind(expected)
    .fetch_optional(&mut *tx)
    .await
    .map_err(failed)?;
    let Some(event_count) = event_count else {
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM executions WHERE arn = $1")
            .bind(arn)
            .fetch_optional(&mut *tx)
            .await
            .map_err(failed)?;
        return Err(match exists {
            Some(_) => PersistenceError::Conflict {
                arn: arn.to_owned(),
                expected: expected_version,
            },
            None => PersistenceError::NotFound {
                arn: arn.to_owned(),
            },
        });
    };
    let stored = u64::try_from(event_count - new_events).unwrap_or(0);
    parts.check_events(arn, stored)?;
    write_parts(&parts, &mut tx, arn).await?;
    tx.commit().await.map_err(failed)?;
    Ok(expected_version + 1)
}
