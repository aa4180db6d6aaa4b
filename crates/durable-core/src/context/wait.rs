//! `wait`: a durable timer.

use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::DurableContext;
use super::step::whole_seconds;
use crate::engine::ids::OperationId;
use crate::error::DurableError;
use crate::model::{
    OperationAction, OperationStatus, OperationSubType, OperationType, WaitOptions,
};

/// A wait being configured; `.await` it to wait.
///
/// Created by [`DurableContext::wait`].
#[must_use = "a wait does nothing until it is awaited"]
pub struct Wait {
    ctx: DurableContext,
    id: OperationId,
    duration: Duration,
    name: Option<String>,
}

impl DurableContext {
    /// Waits for `duration` on a durable timer. The invocation suspends (no
    /// compute is used) and the execution resumes when the timer fires.
    /// Durations are whole seconds: anything shorter is rounded up to one.
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError};
    /// # use std::time::Duration;
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// ctx.wait(Duration::from_secs(3600)).name("cool-down").await?;
    /// # Ok(()) }
    /// ```
    pub fn wait(&self, duration: Duration) -> Wait {
        Wait {
            ctx: self.clone(),
            id: self.next_id(),
            duration,
            name: None,
        }
    }
}

impl Wait {
    /// Names the wait.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    async fn execute(self) -> Result<(), DurableError> {
        let exec = Arc::clone(self.ctx.exec());
        let recorded = self
            .ctx
            .claim(
                &self.id,
                OperationType::Wait,
                &OperationSubType::Wait,
                self.name.as_deref(),
            )
            .await;
        if recorded.as_ref().is_some_and(|op| op.status.is_terminal()) {
            return Ok(());
        }
        if recorded.is_none() {
            let mut update = self.ctx.update(
                &self.id,
                OperationType::Wait,
                &OperationSubType::Wait,
                self.name.as_deref(),
                OperationAction::Start,
            );
            update.wait_options = Some(WaitOptions {
                wait_seconds: whole_seconds(self.duration),
            });
            let seq = exec.checkpointer.enqueue(update);
            if exec.checkpointer.flush_through(&exec, seq).await.is_err() {
                return std::future::pending().await;
            }
        }
        let op = exec
            .wait_for(&self.id.wire, OperationStatus::is_terminal)
            .await;
        let name = self.name.as_deref();
        self.ctx.ended(
            &self.id,
            OperationType::Wait,
            &OperationSubType::Wait,
            name,
            op.status,
            op.error(),
        );
        Ok(())
    }
}

impl IntoFuture for Wait {
    type Output = Result<(), DurableError>;
    type IntoFuture = BoxFuture<'static, Result<(), DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

impl fmt::Debug for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("id", &self.id.wire)
            .field("duration", &self.duration)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
