//! Chained invokes: a parent's `CHAINED_INVOKE` runs as a child execution,
//! and the child's outcome completes the parent's operation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use durable_core::model::{ErrorObject, ExecutionStatus};
use durable_core::service::{ChainedInvokeRequest, ChainedInvokeResult, ExecutionRecord};

use super::{FUNCTION_NOT_FOUND_ERROR, Functions};
use crate::delta::ListFilter;
use crate::error::RuntimeError;
use crate::persistence::Persistence;
use crate::service::Service;

/// Page size of the reconciliation sweep.
const SWEEP_PAGE: usize = 100;

/// Links chained invokes to their child executions.
///
/// The durable link is the parent's record: it lists its active chained
/// invokes ([`ExecutionRecord::active_chained_invokes`]), each with the ARN
/// its child gets, so nothing is written twice and a crash between two
/// writes strands nothing. Starting a child is idempotent by that ARN;
/// completing the parent's operation happens at most once (the service
/// refuses a second completion). This type only remembers, in memory, which
/// parent a child it has seen belongs to, so that the end of a child wakes
/// its parent at once; [`reconcile`](Self::reconcile) sweeps running
/// executions for the rest (a child started or ended by a worker that
/// stopped before it woke the parent).
#[derive(Debug, Default)]
pub struct ChainedInvokes {
    /// Child ARN -> (parent ARN, operation id).
    parents: Mutex<HashMap<String, (String, String)>>,
}

impl ChainedInvokes {
    /// Knows no links yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the children `parent` asked for that do not exist yet and
    /// completes the chained invokes whose children have ended. Returns how
    /// many chained invokes it completed.
    pub async fn settle<P: Persistence>(
        &self,
        service: &Arc<Service<P>>,
        functions: &Functions,
        parent: &str,
    ) -> Result<usize, RuntimeError> {
        let record = service.load_execution(parent).await?.record;
        let requests: Vec<ChainedInvokeRequest> =
            record.active_chained_invokes().cloned().collect();
        let mut completed = 0;
        for request in requests {
            if self.settle_one(service, functions, parent, request).await? {
                completed += 1;
            }
        }
        Ok(completed)
    }

    /// `child` has ended: completes its parent's chained invoke, if this
    /// worker knows the parent. `true` if it did.
    pub async fn child_ended<P: Persistence>(
        &self,
        service: &Arc<Service<P>>,
        functions: &Functions,
        child: &str,
    ) -> Result<bool, RuntimeError> {
        let parent = self.lock().get(child).map(|(parent, _)| parent.clone());
        match parent {
            Some(parent) => Ok(self.settle(service, functions, &parent).await? > 0),
            None => Ok(false),
        }
    }

    /// Sweeps every running execution and settles its chained invokes;
    /// returns how many it completed. A worker runs it when it starts and
    /// then now and then, so a parent whose child ended while no worker
    /// knew the link is woken anyway.
    pub async fn reconcile<P: Persistence>(
        &self,
        service: &Arc<Service<P>>,
        functions: &Functions,
    ) -> Result<usize, RuntimeError> {
        let filter = ListFilter {
            status: Some(ExecutionStatus::Running),
            ..ListFilter::default()
        };
        let mut marker: Option<String> = None;
        let mut completed = 0;
        loop {
            let page = service.list(&filter, marker.as_deref(), SWEEP_PAGE).await?;
            for summary in &page.items {
                match self.settle(service, functions, &summary.arn).await {
                    Ok(n) => completed += n,
                    Err(error) => tracing::warn!(
                        execution_arn = summary.arn,
                        %error,
                        "could not settle chained invokes"
                    ),
                }
            }
            match page.next_marker {
                Some(next) => marker = Some(next),
                None => break,
            }
        }
        Ok(completed)
    }

    /// Settles one chained invoke; `true` if it completed it.
    async fn settle_one<P: Persistence>(
        &self,
        service: &Arc<Service<P>>,
        functions: &Functions,
        parent: &str,
        request: ChainedInvokeRequest,
    ) -> Result<bool, RuntimeError> {
        let child = service.persistence().load(&request.execution_arn).await?;
        let result = match child {
            None if functions.contains(&request.function_name) => {
                // Linked first: once started, the child may be claimed (on a
                // wake-up, at once) and end before this call returns.
                self.link(parent, &request);
                if let Err(error) = service.start_chained(&request).await {
                    self.lock().remove(&request.execution_arn);
                    return Err(error);
                }
                return Ok(false);
            }
            None => ChainedInvokeResult::Failed(ErrorObject::new(
                FUNCTION_NOT_FOUND_ERROR,
                format!(
                    "no durable function is registered as {:?}",
                    request.function_name
                ),
            )),
            Some(child) if !child.record.is_terminal() => {
                self.link(parent, &request);
                return Ok(false);
            }
            Some(child) => result_of(&child.record),
        };
        self.lock().remove(&request.execution_arn);
        match service
            .complete_chained_invoke(parent, &request.operation_id, result)
            .await
        {
            Ok(()) => {
                tracing::info!(
                    execution_arn = parent,
                    operation_id = request.operation_id,
                    child_arn = request.execution_arn,
                    "chained invoke completed"
                );
                Ok(true)
            }
            // Someone else completed it (or the parent ended) meanwhile.
            Err(RuntimeError::Refused(error)) => {
                tracing::debug!(execution_arn = parent, %error, "chained invoke already settled");
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    fn link(&self, parent: &str, request: &ChainedInvokeRequest) {
        self.lock().insert(
            request.execution_arn.clone(),
            (parent.to_owned(), request.operation_id.clone()),
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, String)>> {
        self.parents.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The outcome of the ended child `record`, for its parent.
fn result_of(record: &ExecutionRecord) -> ChainedInvokeResult {
    let error = || record.error().cloned().unwrap_or_default();
    match record.status() {
        ExecutionStatus::Succeeded => {
            ChainedInvokeResult::Succeeded(record.result().map(str::to_owned))
        }
        ExecutionStatus::TimedOut => ChainedInvokeResult::TimedOut(error()),
        ExecutionStatus::Stopped => ChainedInvokeResult::Stopped(error()),
        ExecutionStatus::Failed | ExecutionStatus::Running => ChainedInvokeResult::Failed(error()),
    }
}
