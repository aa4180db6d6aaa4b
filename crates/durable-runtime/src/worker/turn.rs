//! One claimed execution in a worker: its turn, lease renewal and release.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use crate::driver::{ChainedInvokes, Functions, run_turn};
use crate::persistence::Persistence;
use crate::service::Service;

/// What a worker's tasks share.
#[derive(Debug)]
pub(super) struct Shared<P> {
    pub service: Arc<Service<P>>,
    pub functions: Functions,
    pub chained: ChainedInvokes,
    pub owner: String,
    pub lease: Duration,
}

impl<P: Persistence + 'static> Shared<P> {
    /// Claims up to `limit` due executions.
    pub async fn claim(&self, limit: usize) -> Vec<String> {
        let now = self.service.now();
        let until = now.plus(self.lease);
        match self
            .service
            .persistence()
            .claim_due(now, &self.owner, until, limit)
            .await
        {
            Ok(arns) => {
                if !arns.is_empty() {
                    tracing::debug!(claimed = arns.len(), "claimed due executions");
                }
                arns
            }
            Err(error) => {
                tracing::warn!(%error, "could not claim due executions");
                Vec::new()
            }
        }
    }

    /// Settles the chained invokes of every running execution.
    pub async fn reconcile(&self) {
        match self.chained.reconcile(&self.service, &self.functions).await {
            Ok(0) => {}
            Ok(completed) => tracing::info!(completed, "reconciled chained invokes"),
            Err(error) => tracing::warn!(%error, "could not reconcile chained invokes"),
        }
    }

    /// Renews the lease of `arn` every third of its length, forever.
    async fn keep_lease(&self, arn: &str) -> Infallible {
        loop {
            tokio::time::sleep(self.lease / 3).await;
            let until = self.service.now().plus(self.lease);
            match self
                .service
                .persistence()
                .renew_lease(arn, &self.owner, until)
                .await
            {
                Ok(true) => tracing::trace!("lease renewed"),
                Ok(false) => tracing::warn!("lease lost: another worker took the execution over"),
                Err(error) => tracing::warn!(%error, "could not renew the lease"),
            }
        }
    }
}

/// Runs one turn of `arn`, renewing its lease meanwhile, then releases it
/// (or, if the turn failed, lets it expire).
pub(super) async fn run<P: Persistence + 'static>(shared: Arc<Shared<P>>, arn: String) {
    let span = tracing::info_span!("execution", execution_arn = arn);
    async {
        let turn = run_turn(&shared.service, &shared.functions, &shared.chained, &arn);
        let result = tokio::select! {
            result = turn => result,
            never = shared.keep_lease(&arn) => match never {},
        };
        match result {
            Ok(turn) => tracing::info!(
                took_over = turn.took_over,
                invoked = turn.invoked,
                status = turn.status.as_str(),
                "turn done"
            ),
            Err(error) => {
                // Keep the lease: nobody claims the execution again before
                // it expires, which spaces out retries of a turn that fails
                // (a backend outage, a corrupt record) instead of looping.
                tracing::warn!(
                    %error,
                    retry_in_ms = u64::try_from(shared.lease.as_millis()).unwrap_or(u64::MAX),
                    "turn failed; the execution is tried again when its lease expires"
                );
                return;
            }
        }
        match shared
            .service
            .persistence()
            .release_lease(&arn, &shared.owner)
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::debug!("lease was no longer held"),
            Err(error) => tracing::warn!(%error, "could not release the lease"),
        }
    }
    .instrument(span)
    .await;
}
