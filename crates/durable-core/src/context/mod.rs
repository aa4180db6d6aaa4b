//! The durable context and its operations.
//!
//! Every operation is a builder: configure it with methods, then `.await` it.
//!
//! ```
//! # use durable_core::{DurableContext, DurableError};
//! # use std::time::Duration;
//! async fn workflow(name: String, ctx: DurableContext) -> Result<String, DurableError> {
//!     let greeting = ctx
//!         .step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {name}")) })
//!         .name("greet")
//!         .await?;
//!     ctx.wait(Duration::from_secs(60)).name("pause").await?;
//!     Ok(greeting)
//! }
//! ```

mod callback;
mod child;
mod combinators;
mod concurrent;
mod condition;
mod invoke;
mod map;
mod start;
mod step;
mod wait;
mod wait_for_callback;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use callback::{Callback, CreateCallback};
pub use child::ChildContext;
pub use combinators::{All, AllSettled, Any, Combinator, Combine, Race};
pub use concurrent::Nesting;
pub use condition::WaitForCondition;
pub use invoke::Invoke;
pub use map::{Branch, Map, Parallel};
pub use start::Started;
pub use step::{Step, StepContext};
pub use wait::Wait;
pub use wait_for_callback::WaitForCallback;

use crate::engine::Execution;
use crate::engine::execution::Claim;
use crate::engine::ids::OperationId;
use crate::error::{DurableError, ErrorKind};
use crate::logger::{Logger, LoggerConfig};
use crate::model::{
    ErrorObject, Operation, OperationAction, OperationStatus, OperationSubType, OperationType,
    OperationUpdate,
};
use crate::plugin::OperationInfo;

struct ContextInner {
    exec: Arc<Execution>,
    /// This context's position; `None` for the root.
    path: Option<String>,
    /// This context's operation id, the `ParentId` of its operations.
    operation_id: Option<String>,
    counter: AtomicU64,
    replaying: Arc<AtomicBool>,
}

/// The handle through which a workflow performs durable operations.
///
/// Cheap to clone. Operations get their ids from the order in which they are
/// created, so create them in a deterministic order; run concurrent work in
/// child contexts.
#[derive(Clone)]
pub struct DurableContext {
    inner: Arc<ContextInner>,
}

impl DurableContext {
    pub(crate) fn root(exec: Arc<Execution>) -> Self {
        let replaying = Arc::new(AtomicBool::new(exec.has_history()));
        Self {
            inner: Arc::new(ContextInner {
                exec,
                path: None,
                operation_id: None,
                counter: AtomicU64::new(0),
                replaying,
            }),
        }
    }

    fn child(&self, id: &OperationId, replaying: bool) -> Self {
        Self {
            inner: Arc::new(ContextInner {
                exec: Arc::clone(&self.inner.exec),
                path: Some(id.path.clone()),
                operation_id: Some(id.wire.clone()),
                counter: AtomicU64::new(0),
                replaying: Arc::new(AtomicBool::new(replaying)),
            }),
        }
    }

    /// A context with its own id namespace at `id` whose operations record
    /// this context as their parent: the per-item context of FLAT batches,
    /// which records nothing itself.
    fn virtual_child(&self, id: &OperationId) -> Self {
        Self {
            inner: Arc::new(ContextInner {
                exec: Arc::clone(&self.inner.exec),
                path: Some(id.path.clone()),
                operation_id: self.inner.operation_id.clone(),
                counter: AtomicU64::new(0),
                replaying: Arc::new(AtomicBool::new(self.is_replaying())),
            }),
        }
    }

    /// The ARN of the execution this context belongs to.
    pub fn execution_arn(&self) -> &str {
        &self.inner.exec.arn
    }

    /// A replay-aware logger: quiet while this context replays recorded
    /// operations (see [`configure_logger`](Self::configure_logger)).
    pub fn logger(&self) -> Logger {
        Logger::new(
            Arc::clone(&self.inner.exec),
            Some(Arc::clone(&self.inner.replaying)),
            self.inner.operation_id.clone(),
            None,
        )
    }

    /// Changes how the whole execution logs: a custom sink, or logging
    /// during replay too.
    ///
    /// ```
    /// # use durable_core::{DurableContext, logger::LoggerConfig};
    /// # fn f(ctx: &DurableContext) {
    /// ctx.configure_logger(LoggerConfig::default().mode_aware(false));
    /// # }
    /// ```
    pub fn configure_logger(&self, config: LoggerConfig) {
        match self.inner.exec.logger.write() {
            Ok(mut slot) => *slot = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
    }

    /// Whether this context is replaying recorded operations.
    pub fn is_replaying(&self) -> bool {
        self.inner.replaying.load(Ordering::SeqCst)
    }

    fn next_id(&self) -> OperationId {
        let position = self.inner.counter.fetch_add(1, Ordering::SeqCst) + 1;
        OperationId::child(self.inner.path.as_deref(), position)
    }

    fn exec(&self) -> &Arc<Execution> {
        &self.inner.exec
    }

    /// Claims `id` for an operation of this context and returns what was
    /// recorded for it; tells the plugins. A non-deterministic replay ends
    /// the invocation here (this never returns then).
    async fn claim(
        &self,
        id: &OperationId,
        operation_type: OperationType,
        sub_type: &OperationSubType,
        name: Option<&str>,
    ) -> Option<Operation> {
        let exec = self.exec();
        if step::inside_step_body() {
            let error = DurableError::with_kind(
                ErrorKind::InvalidConfig,
                "ContextValidationError",
                format!(
                    "operation {} ({operation_type}) was started inside a step body; durable \
                     operations cannot run inside a step (use a child context instead)",
                    id.wire
                ),
            );
            return exec.fail_fatally(error).await;
        }
        let claim = Claim {
            wire_id: &id.wire,
            operation_type,
            sub_type,
            name,
        };
        let recorded = match exec.claim(&claim) {
            Ok(recorded) => recorded,
            Err(error) => return exec.fail_fatally(error).await,
        };
        self.observe(id, recorded.as_ref());
        exec.announce(
            &claim,
            self.inner.operation_id.as_deref(),
            recorded.as_ref(),
        );
        recorded
    }

    /// What plugins see of operation `id` of this context right now.
    fn info(
        &self,
        id: &OperationId,
        operation_type: OperationType,
        sub_type: &OperationSubType,
        name: Option<&str>,
    ) -> OperationInfo {
        let parent = self.inner.operation_id.as_deref();
        self.exec().operation(&id.wire).map_or_else(
            || OperationInfo::unrecorded(&id.wire, name, operation_type, sub_type, parent),
            |op| OperationInfo::from_operation(&op, false),
        )
    }

    /// Tells the plugins that operation `id` of this context has ended with
    /// `status` (and `error`, when it failed). Until its final update is
    /// recorded, they see what was recorded so far (its START) with that
    /// outcome.
    fn ended(
        &self,
        id: &OperationId,
        operation_type: OperationType,
        sub_type: &OperationSubType,
        name: Option<&str>,
        status: OperationStatus,
        error: Option<&ErrorObject>,
    ) {
        self.exec().ended(&id.wire, || {
            let mut info = self.info(id, operation_type, sub_type, name);
            info.status = Some(status);
            info.error = error.cloned();
            info
        });
    }

    /// Replay ends at the first operation that is new or not finished, or
    /// after the last one recorded: code after it runs live.
    fn observe(&self, id: &OperationId, recorded: Option<&Operation>) {
        let replayed = recorded.is_some_and(|op| op.status.is_terminal());
        if !replayed || !self.exec().is_recorded(&id.next().wire) {
            self.inner.replaying.store(false, Ordering::SeqCst);
        }
    }

    fn update(
        &self,
        id: &OperationId,
        operation_type: OperationType,
        sub_type: &OperationSubType,
        name: Option<&str>,
        action: OperationAction,
    ) -> OperationUpdate {
        let mut update = OperationUpdate::new(id.wire.clone(), operation_type, action);
        update.parent_id.clone_from(&self.inner.operation_id);
        update.name = name.map(str::to_owned);
        update.sub_type = Some(sub_type.clone());
        update
    }
}

impl fmt::Debug for DurableContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableContext")
            .field("execution_arn", &self.inner.exec.arn)
            .field("operation_id", &self.inner.operation_id)
            .finish_non_exhaustive()
    }
}
