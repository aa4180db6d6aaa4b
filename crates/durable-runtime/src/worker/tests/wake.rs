//! Wake-ups from a backend make an idle worker claim before its next poll.

use async_trait::async_trait;
use durable_core::model::{Event, Timestamp};
use tokio::sync::watch;

use super::*;
use crate::{
    Created, Creation, Delta, ExecutionSummary, ListFilter, Page, PersistenceError,
    StoredExecution, WakeUps,
};

/// The memory backend, sending a wake-up on every creation (as the
/// Postgres backend does with `NOTIFY`).
#[derive(Debug)]
struct Waking {
    inner: MemoryPersistence,
    wake: watch::Sender<()>,
}

#[async_trait]
impl Persistence for Waking {
    async fn create_execution(&self, creation: Creation) -> Result<Created, PersistenceError> {
        let created = self.inner.create_execution(creation).await?;
        self.wake.send_replace(());
        Ok(created)
    }

    async fn load(&self, arn: &str) -> Result<Option<StoredExecution>, PersistenceError> {
        self.inner.load(arn).await
    }

    async fn commit(&self, arn: &str, version: u64, delta: Delta) -> Result<u64, PersistenceError> {
        self.inner.commit(arn, version, delta).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>, PersistenceError> {
        self.inner.claim_due(now, owner, lease_until, limit).await
    }

    async fn renew_lease(
        &self,
        arn: &str,
        owner: &str,
        lease_until: Timestamp,
    ) -> Result<bool, PersistenceError> {
        self.inner.renew_lease(arn, owner, lease_until).await
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

    fn wake_ups(&self) -> Option<WakeUps> {
        Some(self.wake.subscribe())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_up_makes_an_idle_worker_claim_before_its_next_poll() {
    let (wake, _) = watch::channel(());
    let service = Arc::new(Service::new(Waking {
        inner: MemoryPersistence::new(),
        wake,
    }));
    let greet = DurableFunction::new(|name: String, ctx: DurableContext| async move {
        ctx.step(move |_| async move { Ok::<_, DurableError>(format!("hi {name}")) })
            .await
    });
    // Polls once at start, then not for an hour: only a wake-up can help.
    let worker = Worker::new(service.clone())
        .register("greet", greet)
        .poll_interval(Duration::from_secs(3600));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let arn = service
        .start_execution("greet", None, Some("\"ann\"".into()))
        .await
        .unwrap()
        .arn;
    let mut done = None;
    for _ in 0..200 {
        let described = service.describe(&arn).await.unwrap();
        if described.status != ExecutionStatus::Running {
            done = Some(described);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = stop.send(());
    task.await.unwrap();
    let done = done.expect("the wake-up got the execution claimed within 5 s");
    assert_eq!(done.result.as_deref(), Some("\"hi ann\""));
}
