//! Runs requirements through the self-hosted runtime: `durable_runtime::Service`
//! over a `Persistence`, driven turn by turn with the same invocation path
//! the `Worker` uses, on a virtual clock.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use durable_core::DurableFunction;
use durable_core::model::{ErrorObject, OperationStatus, OperationType, Timestamp};
use durable_runtime::driver::{ChainedInvokes, Functions, run_turn};
use durable_runtime::{Persistence, Service};
use durable_testing::requirements::{HarnessError, RequirementBackend, RunningExecution};
use durable_testing::{ExecutionSnapshot, VirtualClock};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

/// Most turns one `settle` may take before giving up.
const MAX_TURNS: usize = 1000;

type Fresh<P> = Box<dyn Fn() -> BoxFuture<'static, Result<P, String>> + Send + Sync>;

/// A backend over `Service<P>`, with a fresh persistence per requirement.
pub struct RuntimeBackend<P> {
    name: String,
    fresh: Fresh<P>,
    installed: Mutex<Vec<(String, DurableFunction)>>,
}

impl<P: Persistence + 'static> RuntimeBackend<P> {
    /// A backend named `name` making a fresh persistence with `fresh` for
    /// every requirement.
    pub fn new<F, Fut>(name: impl Into<String>, fresh: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<P, String>> + Send + 'static,
    {
        Self {
            name: name.into(),
            fresh: Box::new(move || fresh().boxed()),
            installed: Mutex::new(Vec::new()),
        }
    }
}

fn backend_error(
    context: &str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> HarnessError {
    HarnessError::backend(context, error)
}

#[async_trait]
impl<P: Persistence + 'static> RequirementBackend for RuntimeBackend<P> {
    fn name(&self) -> &str {
        &self.name
    }

    fn install_functions(
        &self,
        functions: &[(String, DurableFunction)],
    ) -> Result<(), HarnessError> {
        self.installed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(functions.iter().cloned());
        Ok(())
    }

    async fn start(
        &self,
        function_name: &str,
        function: DurableFunction,
        input: Option<String>,
    ) -> Result<Box<dyn RunningExecution>, HarnessError> {
        let clock = Arc::new(VirtualClock::starting_now());
        let now = Arc::clone(&clock);
        let persistence = (self.fresh)().await.map_err(|message| {
            HarnessError::backend("opening the persistence", std::io::Error::other(message))
        })?;
        let service = Arc::new(Service::new(persistence).with_clock(move || now.now()));
        let mut functions = Functions::new();
        for (name, installed) in self
            .installed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            functions.insert(name.clone(), installed.clone());
        }
        functions.insert(function_name, function);
        let created = service
            .start_execution(function_name, None, input)
            .await
            .map_err(|e| backend_error("starting the execution", e))?;
        Ok(Box::new(RuntimeExecution {
            service,
            functions,
            chained: ChainedInvokes::new(),
            clock,
            arn: created.arn,
        }))
    }
}

struct RuntimeExecution<P> {
    service: Arc<Service<P>>,
    functions: Functions,
    chained: ChainedInvokes,
    clock: Arc<VirtualClock>,
    arn: String,
}

impl<P: Persistence + 'static> RuntimeExecution<P> {
    /// The execution and the chained-invoke children it waits for.
    async fn tree(&self) -> Result<Vec<String>, HarnessError> {
        let mut tree = vec![self.arn.clone()];
        let mut next = 0;
        while let Some(arn) = tree.get(next).cloned() {
            next += 1;
            let Ok(stored) = self.service.load_execution(&arn).await else {
                continue;
            };
            for child in stored.record.active_chained_invokes() {
                if !tree.contains(&child.execution_arn) {
                    tree.push(child.execution_arn.clone());
                }
            }
        }
        Ok(tree)
    }

    /// The next timer that moves the tree on, unless it waits for a callback.
    async fn next_timer(&self, tree: &[String]) -> Result<Option<Timestamp>, HarnessError> {
        let mut next: Option<Timestamp> = None;
        for arn in tree {
            let Ok(stored) = self.service.load_execution(arn).await else {
                continue;
            };
            let record = &stored.record;
            let awaits_callback = record.operations().iter().any(|op| {
                op.operation_type == OperationType::Callback
                    && op.status == OperationStatus::Started
                    && record.is_visible(op)
            });
            if awaits_callback {
                return Ok(None);
            }
            if let Some(at) = record.next_wake_up_excluding_deadlines() {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        Ok(next)
    }

    async fn snapshot(&self) -> Result<ExecutionSnapshot, HarnessError> {
        let description = self
            .service
            .describe(&self.arn)
            .await
            .map_err(|e| backend_error("describing the execution", e))?;
        let mut history = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .service
                .history(&self.arn, marker.as_deref(), 1000)
                .await
                .map_err(|e| backend_error("reading the history", e))?;
            history.extend(page.items);
            marker = page.next_marker;
            if marker.is_none() {
                break;
            }
        }
        Ok(ExecutionSnapshot {
            arn: description.arn,
            status: description.status,
            result: description.result,
            error: description.error,
            operations: description.operations,
            history,
            invocations: usize::try_from(description.invocation_count).unwrap_or(usize::MAX),
        })
    }
}

#[async_trait]
impl<P: Persistence + 'static> RunningExecution for RuntimeExecution<P> {
    fn arn(&self) -> &str {
        &self.arn
    }

    async fn settle(&mut self) -> Result<ExecutionSnapshot, HarnessError> {
        for _ in 0..MAX_TURNS {
            let mut progressed = false;
            for arn in self.tree().await? {
                let turn = run_turn(&self.service, &self.functions, &self.chained, &arn)
                    .await
                    .map_err(|e| backend_error("running a turn", e))?;
                progressed |= turn.invoked || turn.took_over;
            }
            let root = self
                .service
                .load_execution(&self.arn)
                .await
                .map_err(|e| backend_error("loading", e))?;
            if root.record.is_terminal() {
                break;
            }
            if progressed {
                continue;
            }
            let tree = self.tree().await?;
            match self.next_timer(&tree).await? {
                Some(at) => self.clock.advance_to(at),
                None => break,
            }
        }
        self.snapshot().await
    }

    async fn advance(&mut self, by: Duration) -> Result<(), HarnessError> {
        self.clock.advance(by);
        Ok(())
    }

    async fn callback_success(
        &mut self,
        callback_id: &str,
        payload: &str,
    ) -> Result<(), HarnessError> {
        self.service
            .callback_succeed(callback_id, payload)
            .await
            .map_err(|e| backend_error("completing a callback", e))
    }

    async fn callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), HarnessError> {
        self.service
            .callback_fail(callback_id, error)
            .await
            .map_err(|e| backend_error("failing a callback", e))
    }

    async fn callback_heartbeat(&mut self, callback_id: &str) -> Result<(), HarnessError> {
        self.service
            .callback_heartbeat(callback_id)
            .await
            .map_err(|e| backend_error("sending a heartbeat", e))
    }
}
