//! Reading: loading an execution, the callback index, listings and
//! history pages.

use durable_core::model::{Event, Operation, Timestamp};
use durable_core::service::{ExecutionIdentity, ExecutionRecord};
use durable_runtime::{ExecutionSummary, ListFilter, Page, PersistenceError, StoredExecution};
use sqlx::{PgConnection, PgPool, Row};

use crate::codec::{
    corrupt, from_int, from_json, page_limit, parse_marker, parse_status, status_text,
};
use crate::error::backend;

/// The execution with its operations, read in one statement (one
/// snapshot, one round trip).
pub(crate) async fn load(
    pool: &PgPool,
    arn: &str,
) -> Result<Option<StoredExecution>, PersistenceError> {
    let failed = |error| backend(format!("loading execution {arn}"), error);
    let row = sqlx::query(
        "SELECT e.identity, e.header, e.version, \
         ARRAY(SELECT o.position FROM operations o WHERE o.arn = e.arn ORDER BY o.position), \
         ARRAY(SELECT o.body FROM operations o WHERE o.arn = e.arn ORDER BY o.position) \
         FROM executions e WHERE e.arn = $1",
    )
    .bind(arn)
    .fetch_optional(pool)
    .await
    .map_err(failed)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let positions: Vec<i64> = row.try_get(3).map_err(failed)?;
    let bodies: Vec<String> = row.try_get(4).map_err(failed)?;

    let identity: ExecutionIdentity = from_json(arn, "the identity", &text_at(&row, arn, 0)?)?;
    if identity.arn != arn {
        return Err(corrupt(
            arn,
            format!("the identity names another execution, {}", identity.arn),
        ));
    }
    let header = from_json(arn, "the header", &text_at(&row, arn, 1)?)?;
    let version = from_int(arn, "the version", int(&row, arn, 2)?)?;
    let operations = positions
        .iter()
        .zip(&bodies)
        .map(|(position, json)| {
            from_json::<Operation>(arn, &format!("the operation at position {position}"), json)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let record = ExecutionRecord::from_parts(identity, header, operations)
        .map_err(|error| corrupt(arn, error.message))?;
    Ok(Some(StoredExecution { record, version }))
}

/// The ARN of the execution with callback `callback_id`.
pub(crate) async fn find_by_callback_id(
    pool: &PgPool,
    callback_id: &str,
) -> Result<Option<String>, PersistenceError> {
    sqlx::query_scalar("SELECT arn FROM callbacks WHERE callback_id = $1")
        .bind(callback_id)
        .fetch_optional(pool)
        .await
        .map_err(|error| backend(format!("finding callback {callback_id:?}"), error))
}

/// A page of executions passing `filter`, in creation order; the marker is
/// the creation sequence number of the last one listed.
pub(crate) async fn list(
    pool: &PgPool,
    filter: &ListFilter,
    marker: Option<&str>,
    limit: usize,
) -> Result<Page<ExecutionSummary>, PersistenceError> {
    let after = parse_marker(marker)?.unwrap_or(0);
    let (limit, fetch) = page_limit(limit);
    let rows = sqlx::query(
        "SELECT seq, arn, name, function_name, status, start_timestamp, end_timestamp \
         FROM executions WHERE seq > $1 \
         AND ($2::text IS NULL OR function_name = $2) \
         AND ($3::text IS NULL OR name = $3) \
         AND ($4::text IS NULL OR status = $4) \
         ORDER BY seq LIMIT $5",
    )
    .bind(after)
    .bind(filter.function_name.as_deref())
    .bind(filter.name.as_deref())
    .bind(filter.status.map(status_text))
    .bind(fetch)
    .fetch_all(pool)
    .await
    .map_err(|error| backend("listing executions", error))?;
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(limit);
    let mut last_seq = None;
    for row in rows.iter().take(limit) {
        let arn: String = row
            .try_get(1)
            .map_err(|error| backend("listing executions", error))?;
        let seq = int(row, &arn, 0)?;
        let status: String = text_at(row, &arn, 4)?;
        let end: Option<i64> = row
            .try_get(6)
            .map_err(|error| corrupt(&arn, format!("the end timestamp is unreadable: {error}")))?;
        items.push(ExecutionSummary {
            name: text_at(row, &arn, 2)?,
            function_name: text_at(row, &arn, 3)?,
            status: parse_status(&arn, &status)?,
            start_timestamp: Timestamp::from_millis(int(row, &arn, 5)?),
            end_timestamp: end.map(Timestamp::from_millis),
            arn,
        });
        last_seq = Some(seq);
    }
    let next_marker = more.then(|| last_seq.map(|seq| seq.to_string())).flatten();
    Ok(Page { items, next_marker })
}

/// A page of `arn`'s history after the event id in `marker`.
pub(crate) async fn history_page(
    pool: &PgPool,
    arn: &str,
    marker: Option<&str>,
    limit: usize,
) -> Result<Page<Event>, PersistenceError> {
    let after = parse_marker(marker)?.unwrap_or(0);
    let (limit, fetch) = page_limit(limit);
    let failed = |error| backend(format!("reading the history of execution {arn}"), error);
    let mut conn = pool.acquire().await.map_err(failed)?;
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT event_id, body FROM events WHERE arn = $1 AND event_id > $2 \
         ORDER BY event_id LIMIT $3",
    )
    .bind(arn)
    .bind(after)
    .bind(fetch)
    .fetch_all(&mut *conn)
    .await
    .map_err(failed)?;
    if rows.is_empty() {
        ensure_exists(&mut conn, arn).await?;
    }
    let more = rows.len() > limit;
    let items = rows
        .iter()
        .take(limit)
        .map(|(id, json)| from_json::<Event>(arn, &format!("event {id}"), json))
        .collect::<Result<Vec<_>, _>>()?;
    let next_marker = more
        .then(|| items.last().map(|event| event.event_id.to_string()))
        .flatten();
    Ok(Page { items, next_marker })
}

/// [`PersistenceError::NotFound`] unless `arn` is stored.
async fn ensure_exists(conn: &mut PgConnection, arn: &str) -> Result<(), PersistenceError> {
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM executions WHERE arn = $1")
        .bind(arn)
        .fetch_optional(conn)
        .await
        .map_err(|error| backend(format!("looking up execution {arn}"), error))?;
    exists
        .map(|_| ())
        .ok_or_else(|| PersistenceError::NotFound {
            arn: arn.to_owned(),
        })
}

/// Column `index` of `row` as text, or a clear `Corrupt` error.
fn text_at(
    row: &sqlx::postgres::PgRow,
    arn: &str,
    index: usize,
) -> Result<String, PersistenceError> {
    row.try_get(index)
        .map_err(|error| corrupt(arn, format!("column {index} is not text: {error}")))
}

/// Column `index` of `row` as an integer, or a clear `Corrupt` error.
fn int(row: &sqlx::postgres::PgRow, arn: &str, index: usize) -> Result<i64, PersistenceError> {
    row.try_get(index)
        .map_err(|error| corrupt(arn, format!("column {index} is not an integer: {error}")))
}
