//! [`MemoryPersistence`]: the reference backend, kept in memory.

mod row;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use durable_core::model::{Event, Timestamp};

use crate::delta::{Created, Creation, Delta, ExecutionSummary, ListFilter, Page, StoredExecution};
use crate::error::PersistenceError;
use crate::persistence::{Persistence, WakeUps};
use row::{Lease, Row};

/// Executions kept in memory, with the whole [`Persistence`] contract.
///
/// It stores what a database would: the identity, header, operations and
/// events as JSON text, index fields beside them, a version, a lease and a
/// callback index. Loading parses them back, so serialization bugs and
/// corrupt data show up here as they would on `SQLite`. All calls take one
/// lock, which makes every call atomic.
///
/// It wakes workers ([`wake_ups`](Persistence::wake_ups)) by the rule the
/// Postgres backend follows: when an execution is created due, or a commit
/// makes it due sooner than it was (a completed callback, a timeout moved
/// forward); checkpoints of a running invocation never wake anyone.
#[derive(Debug, Default)]
pub struct MemoryPersistence {
    state: Mutex<State>,
    wake: tokio::sync::watch::Sender<()>,
}

#[derive(Debug, Default)]
struct State {
    rows: HashMap<String, Row>,
    /// (function name, execution name) -> ARN.
    by_name: HashMap<(String, String), String>,
    /// Callback id -> ARN.
    callbacks: HashMap<String, String>,
    /// Creation sequence number -> ARN, for listing in creation order.
    order: BTreeMap<u64, String>,
    next_seq: u64,
}

impl MemoryPersistence {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many executions are stored.
    pub fn len(&self) -> usize {
        self.lock().rows.len()
    }

    /// Whether no execution is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the stored header document of `arn` with `raw`, as a broken
    /// disk or a bad migration would. For tests of corrupt data; `false` if
    /// there is no such execution.
    #[cfg(any(test, feature = "kit"))]
    pub fn overwrite_header(&self, arn: &str, raw: &str) -> bool {
        let mut state = self.lock();
        state.rows.get_mut(arn).is_some_and(|row| {
            raw.clone_into(&mut row.header);
            true
        })
    }

    /// Replaces the stored operation at `position` of `arn` with `raw`. For
    /// tests of corrupt data; `false` if there is no such operation.
    #[cfg(any(test, feature = "kit"))]
    pub fn overwrite_operation(&self, arn: &str, position: u64, raw: &str) -> bool {
        let mut state = self.lock();
        let Some(row) = state.rows.get_mut(arn) else {
            return false;
        };
        row.operations.get_mut(&position).is_some_and(|stored| {
            raw.clone_into(stored);
            true
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn not_found(arn: &str) -> PersistenceError {
    PersistenceError::NotFound {
        arn: arn.to_owned(),
    }
}

/// The number a page marker carries: the sequence number or event id of
/// the last item of the previous page. `None` for the first page.
fn parse_marker(marker: Option<&str>) -> Result<Option<u64>, PersistenceError> {
    marker
        .filter(|m| !m.is_empty())
        .map(|marker| {
            marker.parse().map_err(|_| PersistenceError::InvalidMarker {
                marker: marker.to_owned(),
            })
        })
        .transpose()
}

#[async_trait]
impl Persistence for MemoryPersistence {
    async fn create_execution(&self, creation: Creation) -> Result<Created, PersistenceError> {
        let key = (
            creation.identity.function_name.clone(),
            creation.identity.name.clone(),
        );
        let mut state = self.lock();
        if let Some(arn) = state.by_name.get(&key) {
            return Ok(Created {
                arn: arn.clone(),
                created: false,
            });
        }
        let arn = creation.identity.arn.clone();
        if state.rows.contains_key(&arn) {
            return Err(PersistenceError::Conflict { arn, expected: 0 });
        }
        let seq = state.next_seq;
        let callbacks: Vec<String> = creation.delta.callback_ids().map(str::to_owned).collect();
        let row = Row::create(seq, &creation)?;
        state.next_seq += 1;
        state.order.insert(seq, arn.clone());
        state.by_name.insert(key, arn.clone());
        for callback_id in callbacks {
            state.callbacks.insert(callback_id, arn.clone());
        }
        let due = row.due_at.is_some();
        state.rows.insert(arn.clone(), row);
        if due {
            self.wake.send_replace(());
        }
        Ok(Created { arn, created: true })
    }

    async fn load(&self, arn: &str) -> Result<Option<StoredExecution>, PersistenceError> {
        self.lock()
            .rows
            .get(arn)
            .map(|row| row.load(arn))
            .transpose()
    }

    async fn commit(
        &self,
        arn: &str,
        expected_version: u64,
        delta: Delta,
    ) -> Result<u64, PersistenceError> {
        let mut state = self.lock();
        let row = state.rows.get_mut(arn).ok_or_else(|| not_found(arn))?;
        if row.version != expected_version {
            return Err(PersistenceError::Conflict {
                arn: arn.to_owned(),
                expected: expected_version,
            });
        }
        let callbacks: Vec<String> = delta.callback_ids().map(str::to_owned).collect();
        let due_before = row.due_at;
        let version = row.apply(arn, &delta)?;
        if row
            .due_at
            .is_some_and(|due| due_before.is_none_or(|before| due < before))
        {
            self.wake.send_replace(());
        }
        for callback_id in callbacks {
            state.callbacks.insert(callback_id, arn.to_owned());
        }
        Ok(version)
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>, PersistenceError> {
        let mut state = self.lock();
        let mut due: Vec<(Timestamp, u64, String)> = state
            .rows
            .iter()
            .filter(|(_, row)| row.is_claimable(now))
            .filter_map(|(arn, row)| Some((row.due_at?, row.seq, arn.clone())))
            .collect();
        due.sort();
        due.truncate(limit.max(1));
        let mut claimed = Vec::with_capacity(due.len());
        for (_, _, arn) in due {
            if let Some(row) = state.rows.get_mut(&arn) {
                row.lease = Some(Lease {
                    owner: owner.to_owned(),
                    until: lease_until,
                });
                claimed.push(arn);
            }
        }
        Ok(claimed)
    }

    async fn renew_lease(
        &self,
        arn: &str,
        owner: &str,
        lease_until: Timestamp,
    ) -> Result<bool, PersistenceError> {
        let mut state = self.lock();
        let row = state.rows.get_mut(arn).ok_or_else(|| not_found(arn))?;
        match &mut row.lease {
            Some(lease) if lease.owner == owner => {
                lease.until = lease_until;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_lease(&self, arn: &str, owner: &str) -> Result<bool, PersistenceError> {
        let mut state = self.lock();
        let row = state.rows.get_mut(arn).ok_or_else(|| not_found(arn))?;
        if row.lease.as_ref().is_some_and(|lease| lease.owner == owner) {
            row.lease = None;
            return Ok(true);
        }
        Ok(false)
    }

    async fn find_by_callback_id(
        &self,
        callback_id: &str,
    ) -> Result<Option<String>, PersistenceError> {
        Ok(self.lock().callbacks.get(callback_id).cloned())
    }

    async fn list(
        &self,
        filter: &ListFilter,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<ExecutionSummary>, PersistenceError> {
        let start = parse_marker(marker)?.map_or(0, |last| last + 1);
        let limit = limit.max(1);
        let state = self.lock();
        let mut items = Vec::new();
        let mut last_seq = None;
        let mut next_marker = None;
        for (&seq, arn) in state.order.range(start..) {
            let Some(row) = state.rows.get(arn) else {
                continue;
            };
            if !filter.matches(&row.summary) {
                continue;
            }
            if items.len() == limit {
                next_marker = last_seq.map(|last: u64| last.to_string());
                break;
            }
            items.push(row.summary.clone());
            last_seq = Some(seq);
        }
        Ok(Page { items, next_marker })
    }

    async fn history_page(
        &self,
        arn: &str,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<Event>, PersistenceError> {
        let after = parse_marker(marker)?.unwrap_or(0);
        let state = self.lock();
        let row = state.rows.get(arn).ok_or_else(|| not_found(arn))?;
        row.history_page(arn, after, limit.max(1))
    }

    fn wake_ups(&self) -> Option<WakeUps> {
        Some(self.wake.subscribe())
    }
}

#[cfg(test)]
mod tests;
