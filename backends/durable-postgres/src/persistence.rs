//! [`Persistence`] for [`PostgresPersistence`].

use async_trait::async_trait;
use durable_core::model::{Event, Timestamp};
use durable_runtime::{
    Created, Creation, Delta, ExecutionSummary, ListFilter, Page, Persistence, PersistenceError,
    StoredExecution, WakeUps,
};

use crate::store::PostgresPersistence;
use crate::{lease, read, wake, write};

#[async_trait]
impl Persistence for PostgresPersistence {
    async fn create_execution(&self, creation: Creation) -> Result<Created, PersistenceError> {
        write::create(self.pool(), &creation).await
    }

    async fn load(&self, arn: &str) -> Result<Option<StoredExecution>, PersistenceError> {
        read::load(self.pool(), arn).await
    }

    async fn commit(
        &self,
        arn: &str,
        expected_version: u64,
        delta: Delta,
    ) -> Result<u64, PersistenceError> {
        write::commit(self.pool(), arn, expected_version, &delta).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>, PersistenceError> {
        lease::claim_due(self.pool(), now, owner, lease_until, limit).await
    }

    async fn renew_lease(
        &self,
        arn: &str,
        owner: &str,
        lease_until: Timestamp,
    ) -> Result<bool, PersistenceError> {
        lease::renew(self.pool(), arn, owner, lease_until).await
    }

    async fn release_lease(&self, arn: &str, owner: &str) -> Result<bool, PersistenceError> {
        lease::release(self.pool(), arn, owner).await
    }

    async fn find_by_callback_id(
        &self,
        callback_id: &str,
    ) -> Result<Option<String>, PersistenceError> {
        read::find_by_callback_id(self.pool(), callback_id).await
    }

    async fn list(
        &self,
        filter: &ListFilter,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<ExecutionSummary>, PersistenceError> {
        read::list(self.pool(), filter, marker, limit).await
    }

    async fn history_page(
        &self,
        arn: &str,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<Event>, PersistenceError> {
        read::history_page(self.pool(), arn, marker, limit).await
    }

    fn wake_ups(&self) -> Option<WakeUps> {
        Some(wake::subscribe(self.pool()))
    }
}
