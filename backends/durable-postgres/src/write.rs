//! Writing: creating an execution and committing a delta, each in one
//! transaction.

use durable_runtime::{Created, Creation, Delta, PersistenceError};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::codec::{invalid_delta, millis, opt_millis, status_text, to_int, to_json};
use crate::error::{backend, is_unique_violation};

/// A delta encoded for the database, before anything is written.
struct Parts {
    header: String,
    status: &'static str,
    end_timestamp: Option<i64>,
    due_at: Option<i64>,
    /// (position, id, JSON), by ascending position.
    operations: Vec<(i64, String, String)>,
    /// (event id, JSON).
    events: Vec<(i64, String)>,
    /// Distinct callback ids.
    callbacks: Vec<String>,
    history_len: u64,
}

impl Parts {
    /// Serializes all of `delta`, so that a failure writes nothing.
    fn encode(arn: &str, delta: &Delta) -> Result<Self, PersistenceError> {
        let operations = delta
            .operations
            .iter()
            .map(|changed| {
                let position = to_int(arn, "operation position", changed.position)?;
                let json = to_json(arn, &changed.operation)?;
                Ok((position, changed.operation.id.clone(), json))
            })
            .collect::<Result<Vec<_>, PersistenceError>>()?;
        let events = delta
            .events
            .iter()
            .map(|event| {
                Ok((
                    to_int(arn, "event id", event.event_id)?,
                    to_json(arn, event)?,
                ))
            })
            .collect::<Result<Vec<_>, PersistenceError>>()?;
        Ok(Self {
            header: to_json(arn, &delta.header)?,
            status: status_text(delta.status),
            end_timestamp: opt_millis(delta.end_timestamp),
            due_at: opt_millis(delta.due_at),
            operations,
            events,
            callbacks: {
                let mut ids: Vec<String> = delta.callback_ids().map(str::to_owned).collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            },
            history_len: delta.header.history_len(),
        })
    }

    /// The number of new events, as stored.
    fn event_count(&self, arn: &str) -> Result<i64, PersistenceError> {
        to_int(arn, "event count", self.events.len() as u64)
    }

    /// Whether the events continue a history of `stored` events and the
    /// header counts them all.
    fn check_events(&self, arn: &str, stored: u64) -> Result<(), PersistenceError> {
        for (expected, (id, _)) in (stored + 1..).zip(&self.events) {
            if u64::try_from(*id).ok() != Some(expected) {
                return Err(invalid_delta(
                    arn,
                    format!("event id {id} does not continue the history (expected {expected})"),
                ));
            }
        }
        let total = stored + self.events.len() as u64;
        if self.history_len != total {
            return Err(invalid_delta(
                arn,
                format!(
                    "the header counts {} events, the history would have {total}",
                    self.history_len
                ),
            ));
        }
        Ok(())
    }

    /// Upserts the operations, appends the events and indexes the callback
    /// ids, inside the caller's transaction: one batched statement each.
    async fn write(&self, conn: &mut PgConnection, arn: &str) -> Result<(), PersistenceError> {
        if !self.operations.is_empty() {
            upsert_operations(conn, arn, &self.operations).await?;
        }
        if !self.events.is_empty() {
            let (ids, bodies): (Vec<i64>, Vec<&str>) = self
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
        if !self.callbacks.is_empty() {
            sqlx::query(
                "INSERT INTO callbacks (callback_id, arn) \
                 SELECT id, $2 FROM UNNEST($1::text[]) AS t(id) \
                 ON CONFLICT (callback_id) DO UPDATE SET arn = excluded.arn",
            )
            .bind(&self.callbacks)
            .bind(arn)
            .execute(&mut *conn)
            .await
            .map_err(|error| backend(format!("indexing callbacks of execution {arn}"), error))?;
        }
        Ok(())
    }
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
    let parts = Parts::encode(arn, &creation.delta)?;
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
    parts.write(&mut tx, arn).await?;
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
    let parts = Parts::encode(arn, delta)?;
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
    parts.write(&mut tx, arn).await?;
    tx.commit().await.map_err(failed)?;
    Ok(expected_version + 1)
}
