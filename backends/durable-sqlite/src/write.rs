//! Writing: creating an execution and committing a delta, each in one
//! transaction.

use durable_runtime::codec::EncodedDelta;
use durable_runtime::{Created, Creation, Delta, PersistenceError};
use sqlx::{SqliteConnection, SqlitePool, SqliteTransaction};

use crate::codec::{invalid_delta, millis, to_json};
use crate::error::{backend, is_unique_violation};

/// Upserts the operations, appends the events and indexes the callback
/// ids, inside the caller's transaction.
async fn write_parts(
    parts: &EncodedDelta,
    conn: &mut SqliteConnection,
    arn: &str,
) -> Result<(), PersistenceError> {
    for (position, id, json) in &parts.operations {
        upsert_operation(conn, arn, *position, id, json).await?;
    }
    for (event_id, json) in &parts.events {
        sqlx::query("INSERT INTO events (arn, event_id, body) VALUES (?, ?, ?)")
            .bind(arn)
            .bind(event_id)
            .bind(json)
            .execute(&mut *conn)
            .await
            .map_err(|error| {
                if is_unique_violation(&error) {
                    invalid_delta(arn, format!("event id {event_id} is taken"))
                } else {
                    backend(format!("appending events of execution {arn}"), error)
                }
            })?;
    }
    for callback_id in &parts.callbacks {
        sqlx::query(
            "INSERT INTO callbacks (callback_id, arn) VALUES (?, ?) \
             ON CONFLICT (callback_id) DO UPDATE SET arn = excluded.arn",
        )
        .bind(callback_id)
        .bind(arn)
        .execute(&mut *conn)
        .await
        .map_err(|error| backend(format!("indexing callbacks of execution {arn}"), error))?;
    }
    Ok(())
}

/// Stores operation `id` at `position`: inserts it, or replaces it if it is
/// stored at that same position.
async fn upsert_operation(
    conn: &mut SqliteConnection,
    arn: &str,
    position: i64,
    id: &str,
    json: &str,
) -> Result<(), PersistenceError> {
    let written = sqlx::query(
        "INSERT INTO operations (arn, id, position, body) VALUES (?, ?, ?, ?) \
         ON CONFLICT (arn, id) DO UPDATE SET body = excluded.body \
         WHERE operations.position = excluded.position",
    )
    .bind(arn)
    .bind(id)
    .bind(position)
    .bind(json)
    .execute(&mut *conn)
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            invalid_delta(
                arn,
                format!("position {position} of new operation {id:?} is taken"),
            )
        } else {
            backend(format!("writing operations of execution {arn}"), error)
        }
    })?;
    if written.rows_affected() == 1 {
        return Ok(());
    }
    let stored: Option<i64> =
        sqlx::query_scalar("SELECT position FROM operations WHERE arn = ? AND id = ?")
            .bind(arn)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|error| backend(format!("reading operations of execution {arn}"), error))?;
    let stored = stored.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
    Err(invalid_delta(
        arn,
        format!("operation {id:?} is at position {stored}, not {position}"),
    ))
}

/// Begins a transaction that takes the write lock at once, so that its
/// reads and writes see one state.
async fn begin_write(
    pool: &SqlitePool,
    arn: &str,
) -> Result<SqliteTransaction<'static>, PersistenceError> {
    pool.begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|error| backend(format!("beginning a write to execution {arn}"), error))
}

/// Creates the execution of `creation`, idempotently by (function, name).
pub(crate) async fn create(
    pool: &SqlitePool,
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
    let existing: Option<String> =
        sqlx::query_scalar("SELECT arn FROM executions WHERE function_name = ? AND name = ?")
            .bind(&identity.function_name)
            .bind(&identity.name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(failed)?;
    if let Some(existing) = existing {
        return Ok(Created {
            arn: existing,
            created: false,
        });
    }
    let inserted = sqlx::query(
        "INSERT INTO executions (arn, function_name, name, identity, header, status, \
         start_timestamp, end_timestamp, due_at, event_count, version) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
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
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(error) if is_unique_violation(&error) => {
            return Err(PersistenceError::Conflict {
                arn: arn.to_owned(),
                expected: 0,
            });
        }
        Err(error) => return Err(failed(error)),
        Ok(_) => {}
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
    pool: &SqlitePool,
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
        "UPDATE executions SET header = ?, status = ?, end_timestamp = ?, due_at = ?, \
         event_count = event_count + ?, version = version + 1 \
         WHERE arn = ? AND version = ? RETURNING event_count",
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
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM executions WHERE arn = ?")
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
