//! Starting durable operations early and joining them later.

use std::fmt;
use std::future::IntoFuture;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::oneshot;

use super::DurableContext;

/// An operation running in the background of the invocation; `.await` it
/// for its output.
///
/// Created by [`DurableContext::start`].
pub struct Started<T> {
    output: oneshot::Receiver<T>,
}

impl DurableContext {
    /// Starts `operation` now and lets it run while the workflow does other
    /// things; await the returned handle to join it. Like every operation,
    /// it takes its id here, in program order.
    ///
    /// Started operations run inside the invocation: when the execution
    /// suspends they stop with it and resume on replay, and a workflow that
    /// finishes without joining them abandons them.
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError};
    /// # use std::time::Duration;
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let report = ctx.start(ctx.step(|_| async { Ok::<_, DurableError>("report".to_owned()) }));
    /// ctx.wait(Duration::from_secs(60)).await?;
    /// let report: String = report.await?;
    /// # Ok(()) }
    /// ```
    pub fn start<F>(&self, operation: F) -> Started<F::Output>
    where
        F: IntoFuture,
        F::IntoFuture: Send + 'static,
        F::Output: Send + 'static,
    {
        let (sender, output) = oneshot::channel();
        let task = operation.into_future().map(move |value| {
            // The handle may have been dropped: nobody wants the value then.
            let _ = sender.send(value);
        });
        self.exec().spawn(task.boxed());
        Started { output }
    }
}

impl<T: Send + 'static> IntoFuture for Started<T> {
    type Output = T;
    type IntoFuture = BoxFuture<'static, T>;

    fn into_future(self) -> Self::IntoFuture {
        async move {
            match self.output.await {
                Ok(value) => value,
                // The task was dropped with the invocation: never resolves.
                Err(_) => std::future::pending().await,
            }
        }
        .boxed()
    }
}

impl<T> fmt::Debug for Started<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Started").finish_non_exhaustive()
    }
}
