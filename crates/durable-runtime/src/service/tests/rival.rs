//! Conflicts: another writer commits between the service's load and its
//! commit.

use std::sync::Mutex;

use async_trait::async_trait;
use durable_core::model::{
    Event, ExecutionStatus, OperationAction, OperationType, OperationUpdate,
};
use durable_core::service::ServiceError;
use durable_core::{StoreError, model::OperationSubType};

use super::*;
use crate::delta::{Created, Creation, ExecutionSummary, ListFilter, Page};

/// What the rival does just before the service's next commits.
#[derive(Debug, Clone, Copy)]
enum Move {
    /// Commits an empty change (someone else's harmless write).
    Touch,
    /// Stops the execution.
    Stop,
}

/// A memory backend where a rival writer commits first.
#[derive(Debug, Default)]
struct Rival {
    inner: MemoryPersistence,
    moves: Mutex<Vec<Move>>,
}

impl Rival {
    fn plan(&self, moves: &[Move]) {
        *self.moves.lock().unwrap() = moves.to_vec();
    }
}

#[async_trait]
impl Persistence for Rival {
    async fn create_execution(&self, creation: Creation) -> Result<Created, PersistenceError> {
        self.inner.create_execution(creation).await
    }

    async fn load(&self, arn: &str) -> Result<Option<StoredExecution>, PersistenceError> {
        self.inner.load(arn).await
    }

    async fn commit(
        &self,
        arn: &str,
        expected: u64,
        delta: Delta,
    ) -> Result<u64, PersistenceError> {
        let next = self.moves.lock().unwrap().pop();
        if let Some(rival_move) = next {
            let mut stored = self.inner.load(arn).await?.unwrap();
            if let Move::Stop = rival_move {
                stored.record.stop(None, T0).unwrap();
            }
            let rival_delta = Delta::capture(&mut stored.record, T0);
            self.inner.commit(arn, stored.version, rival_delta).await?;
        }
        self.inner.commit(arn, expected, delta).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        owner: &str,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>, PersistenceError> {
        self.inner.claim_due(now, owner, until, limit).await
    }

    async fn renew_lease(
        &self,
        arn: &str,
        owner: &str,
        until: Timestamp,
    ) -> Result<bool, PersistenceError> {
        self.inner.renew_lease(arn, owner, until).await
    }

    async fn release_lease(&self, arn: &str, owner: &str) -> Result<bool, PersistenceError> {
        self.inner.release_lease(arn, owner).await
    }

    async fn find_by_callback_id(&self, id: &str) -> Result<Option<String>, PersistenceError> {
        self.inner.find_by_callback_id(id).await
    }

    async fn list(
        &self,
        filter: &ListFilter,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<ExecutionSummary>, PersistenceError> {
        self.inner.list(filter, marker, limit).await
    }

    async fn history_page(
        &self,
        arn: &str,
        marker: Option<&str>,
        limit: usize,
    ) -> Result<Page<Event>, PersistenceError> {
        self.inner.history_page(arn, marker, limit).await
    }
}

fn step_start(id: &str) -> OperationUpdate {
    OperationUpdate {
        sub_type: Some(OperationSubType::Step),
        ..OperationUpdate::new(id, OperationType::Step, OperationAction::Start)
    }
}

#[tokio::test]
async fn a_harmless_conflict_is_retried_on_the_new_state() {
    let (service, _clock) = service_over(Rival::default());
    let arn = service.start_execution("fn", None, None).await.unwrap().arn;
    let envelope = service.begin_invocation(&arn, "r1").await.unwrap();
    let version = service.describe(&arn).await.unwrap().version;

    service.persistence().plan(&[Move::Touch, Move::Touch]);
    let response = service
        .checkpoint(&arn, &envelope.checkpoint_token, vec![step_start("s1")])
        .await
        .unwrap();
    assert!(response.checkpoint_token.is_some());
    let described = service.describe(&arn).await.unwrap();
    assert_eq!(
        described.version,
        version + 3,
        "two rival writes, then ours"
    );
    assert_eq!(described.operations.len(), 2);
    assert_eq!(described.history_len, 2, "the batch was recorded once");
}

#[tokio::test]
async fn a_stop_that_lands_first_wins() {
    let (service, _clock) = service_over(Rival::default());
    let arn = service.start_execution("fn", None, None).await.unwrap().arn;
    let envelope = service.begin_invocation(&arn, "r1").await.unwrap();
    service.persistence().plan(&[Move::Stop]);
    let error = service
        .checkpoint(&arn, &envelope.checkpoint_token, vec![step_start("s1")])
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::ExecutionEnded { .. }),
        "{error:?}"
    );
    let described = service.describe(&arn).await.unwrap();
    assert_eq!(described.status, ExecutionStatus::Stopped);
    assert_eq!(
        described.operations.len(),
        1,
        "nothing of the batch was written"
    );
    assert!(matches!(
        service.stop(&arn, None).await,
        Err(RuntimeError::Refused(ServiceError::ExecutionEnded { .. }))
    ));
}

#[tokio::test]
async fn endless_conflicts_give_up_with_contention() {
    let (service, _clock) = service_over(Rival::default());
    let service = Arc::new(Arc::into_inner(service).unwrap().with_max_attempts(3));
    let arn = service.start_execution("fn", None, None).await.unwrap().arn;
    let version = service.describe(&arn).await.unwrap().version;
    service.persistence().plan(&[Move::Touch; 3]);
    let error = service.begin_invocation(&arn, "r1").await.unwrap_err();
    assert!(
        matches!(error, RuntimeError::Contention { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("gave up after 3 conflicting commits")
    );
    let described = service.describe(&arn).await.unwrap();
    assert_eq!(described.version, version + 3, "only the rival's writes");
    assert!(!described.invocation_running);
    let store_error = StoreError::from(error);
    assert!(store_error.is_retryable());
}
