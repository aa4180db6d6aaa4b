//! `wait_for_callback`: create a callback, hand its id to an external system
//! in a step, and wait for the result.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::{DurableContext, StepContext};
use crate::error::{DurableError, ErrorKind};
use crate::model::OperationSubType;
use crate::retry::{RetryPolicy, RetryStrategy};
use crate::serdes::{JsonSerdes, RawSerdes, Serdes};

/// A `wait_for_callback` being configured; `.await` it to run.
///
/// Created by [`DurableContext::wait_for_callback`].
#[must_use = "wait_for_callback does nothing until it is awaited"]
pub struct WaitForCallback<'a, T, F> {
    ctx: DurableContext,
    submitter: F,
    name: Option<String>,
    timeout: Option<Duration>,
    heartbeat_timeout: Option<Duration>,
    retry: Arc<dyn RetryPolicy>,
    serdes: Arc<dyn Serdes<T>>,
    _borrow: PhantomData<&'a ()>,
}

impl DurableContext {
    /// Creates a callback, runs `submitter` with its id in a step (retried by
    /// the step retry strategy) so an external system learns it, and waits
    /// for the external system to complete the callback. The payload is the
    /// raw string unless a serdes is set.
    ///
    /// It runs as a child context (subtype `WaitForCallback`) holding the
    /// callback and the submitter step. A failure — the callback failed or
    /// timed out, or the submitter failed for good — is a `Callback` error
    /// ([`ErrorKind::Callback`](crate::ErrorKind::Callback)) carrying the
    /// recorded error type and message.
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError};
    /// # use std::time::Duration;
    /// # async fn email_approver(_: &str) -> Result<(), std::io::Error> { Ok(()) }
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let approval: String = ctx
    ///     .wait_for_callback(|callback_id, _| async move { email_approver(&callback_id).await })
    ///     .name("approval")
    ///     .timeout(Duration::from_secs(3 * 24 * 3600))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn wait_for_callback<'a, F, Fut, E>(&self, submitter: F) -> WaitForCallback<'a, String, F>
    where
        F: FnOnce(String, StepContext) -> Fut + Send + 'a,
        Fut: Future<Output = Result<(), E>> + Send + 'a,
        E: Into<DurableError> + 'a,
    {
        WaitForCallback {
            ctx: self.clone(),
            submitter,
            name: None,
            timeout: None,
            heartbeat_timeout: None,
            retry: Arc::new(RetryStrategy::default()),
            serdes: Arc::new(RawSerdes),
            _borrow: PhantomData,
        }
    }
}

impl<'a, T: Send + Sync + 'static, F> WaitForCallback<'a, T, F> {
    /// Names the operation.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Fails with a timeout if the callback is not completed in time.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Fails if no heartbeat (or completion) arrives within this long.
    pub const fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = Some(timeout);
        self
    }

    /// Retry strategy of the submitter step.
    pub fn retry(mut self, policy: impl RetryPolicy + 'static) -> Self {
        self.retry = Arc::new(policy);
        self
    }

    /// Reads the payload with a custom serdes.
    pub fn serdes<U: Send + Sync + 'static>(
        self,
        serdes: impl Serdes<U> + 'static,
    ) -> WaitForCallback<'a, U, F> {
        WaitForCallback {
            ctx: self.ctx,
            submitter: self.submitter,
            name: self.name,
            timeout: self.timeout,
            heartbeat_timeout: self.heartbeat_timeout,
            retry: self.retry,
            serdes: Arc::new(serdes),
            _borrow: PhantomData,
        }
    }

    /// Reads the payload as JSON.
    pub fn json<U>(self) -> WaitForCallback<'a, U, F>
    where
        U: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        self.serdes(JsonSerdes::<U>::new())
    }
}

impl<'a, T, F, Fut, E> IntoFuture for WaitForCallback<'a, T, F>
where
    F: FnOnce(String, StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<(), E>> + Send + 'a,
    E: Into<DurableError> + 'a,
    T: Send + Sync + 'static,
{
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<'a, Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let Self {
            ctx,
            submitter,
            name,
            timeout,
            heartbeat_timeout,
            retry,
            serdes,
            ..
        } = self;
        let body_serdes = Arc::clone(&serdes);
        let body = move |child: DurableContext| async move {
            let mut create = child.create_callback().serdes(body_serdes);
            if let Some(timeout) = timeout {
                create = create.timeout(timeout);
            }
            if let Some(timeout) = heartbeat_timeout {
                create = create.heartbeat_timeout(timeout);
            }
            let callback = create.await?;
            let callback_id = callback.id().to_owned();
            child
                .step(move |step| async move { submitter(callback_id, step).await.map_err(Into::into) })
                .retry_shared(retry)
                .await?;
            callback.await
        };
        let mut child = ctx
            .child_context_with(body, serdes)
            .sub_type(OperationSubType::WaitForCallback);
        if let Some(name) = name {
            child = child.name(name);
        }
        let outcome = child.into_future();
        // The child context is how it is recorded, not what failed: report
        // a failure (callback failed or timed out, submitter failed) as a
        // callback error, on the first run and on replay alike.
        Box::pin(async move {
            outcome.await.map_err(|error| match error.kind() {
                ErrorKind::ChildContext => error.rebuilt_as(ErrorKind::Callback),
                _ => error,
            })
        })
    }
}

impl<T, F> fmt::Debug for WaitForCallback<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCallback")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("heartbeat_timeout", &self.heartbeat_timeout)
            .finish_non_exhaustive()
    }
}
