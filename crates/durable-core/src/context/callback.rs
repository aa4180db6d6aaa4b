//! `create_callback`: a result that an external system sends in later.

use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::DurableContext;
use super::step::whole_seconds;
use crate::engine::Execution;
use crate::engine::ids::OperationId;
use crate::error::{DurableError, ErrorKind};
use crate::model::{
    CallbackOptions, Operation, OperationAction, OperationStatus, OperationSubType, OperationType,
};
use crate::plugin::OperationInfo;
use crate::serdes::{JsonSerdes, RawSerdes, Serdes, SerdesContext};

/// A callback being configured; `.await` it to register the callback and get
/// its id.
///
/// Created by [`DurableContext::create_callback`].
#[must_use = "a callback does nothing until it is awaited"]
pub struct CreateCallback<T> {
    ctx: DurableContext,
    id: OperationId,
    name: Option<String>,
    timeout: Option<Duration>,
    heartbeat_timeout: Option<Duration>,
    serdes: Arc<dyn Serdes<T>>,
}

/// A registered callback: hand [`id`](Self::id) to the external system, then
/// `.await` the callback for its result.
#[must_use = "await the callback to get its result"]
pub struct Callback<T> {
    exec: Arc<Execution>,
    wire_id: String,
    /// Not finished when claimed: its end is news for plugins.
    live: bool,
    external_id: String,
    serdes: Arc<dyn Serdes<T>>,
}

impl DurableContext {
    /// Registers a callback that an external system completes with the
    /// callback id (succeed with a payload, fail with an error, or send
    /// heartbeats). The payload is passed through as the raw string unless a
    /// serdes is set.
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError};
    /// # use std::time::Duration;
    /// # async fn notify_approver(_: &str) {}
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let callback = ctx
    ///     .create_callback()
    ///     .name("approval")
    ///     .timeout(Duration::from_secs(24 * 3600))
    ///     .await?;
    /// let callback_id = callback.id().to_owned();
    /// ctx.step(move |_| async move {
    ///     notify_approver(&callback_id).await;
    ///     Ok::<_, DurableError>(())
    /// })
    /// .await?;
    /// let answer: String = callback.await?;
    /// # Ok(()) }
    /// ```
    pub fn create_callback(&self) -> CreateCallback<String> {
        CreateCallback {
            ctx: self.clone(),
            id: self.next_id(),
            name: None,
            timeout: None,
            heartbeat_timeout: None,
            serdes: Arc::new(RawSerdes),
        }
    }
}

impl<T: Send + Sync + 'static> CreateCallback<T> {
    /// Names the callback.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Fails the callback with a timeout if it is not completed in time.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Fails the callback if no heartbeat (or completion) arrives within this long.
    pub const fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = Some(timeout);
        self
    }

    /// Reads the payload with a custom serdes.
    pub fn serdes<U: Send + Sync + 'static>(
        self,
        serdes: impl Serdes<U> + 'static,
    ) -> CreateCallback<U> {
        CreateCallback {
            ctx: self.ctx,
            id: self.id,
            name: self.name,
            timeout: self.timeout,
            heartbeat_timeout: self.heartbeat_timeout,
            serdes: Arc::new(serdes),
        }
    }

    /// Reads the payload as JSON.
    pub fn json<U>(self) -> CreateCallback<U>
    where
        U: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        self.serdes(JsonSerdes::<U>::new())
    }

    async fn execute(self) -> Result<Callback<T>, DurableError> {
        let exec = Arc::clone(self.ctx.exec());
        let recorded = self
            .ctx
            .claim(
                &self.id,
                OperationType::Callback,
                &OperationSubType::Callback,
                self.name.as_deref(),
            )
            .await;
        let op = if let Some(op) = recorded {
            op
        } else {
            let mut update = self.ctx.update(
                &self.id,
                OperationType::Callback,
                &OperationSubType::Callback,
                self.name.as_deref(),
                OperationAction::Start,
            );
            update.callback_options = Some(CallbackOptions {
                timeout_seconds: self.timeout.map(whole_seconds),
                heartbeat_timeout_seconds: self.heartbeat_timeout.map(whole_seconds),
            });
            let seq = exec.checkpointer.enqueue(update);
            if exec.checkpointer.flush_through(&exec, seq).await.is_err() {
                return std::future::pending().await;
            }
            match exec.operation(&self.id.wire) {
                Some(op) => op,
                None => return exec.fail_fatally(missing_id(&self.id.wire)).await,
            }
        };
        let Some(callback_id) = op
            .callback_details
            .as_ref()
            .and_then(|d| d.callback_id.clone())
        else {
            return exec.fail_fatally(missing_id(&self.id.wire)).await;
        };
        Ok(Callback {
            live: !op.status.is_terminal(),
            exec,
            wire_id: self.id.wire,
            external_id: callback_id,
            serdes: self.serdes,
        })
    }
}

fn missing_id(wire_id: &str) -> DurableError {
    DurableError::with_kind(
        ErrorKind::Callback,
        "CallbackError",
        format!("the service assigned no callback id to callback {wire_id}"),
    )
}

impl<T: Send + Sync + 'static> IntoFuture for CreateCallback<T> {
    type Output = Result<Callback<T>, DurableError>;
    type IntoFuture = BoxFuture<'static, Result<Callback<T>, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

impl<T: Send + Sync + 'static> Callback<T> {
    /// The id the external system completes the callback with.
    pub fn id(&self) -> &str {
        &self.external_id
    }

    async fn result(self) -> Result<T, DurableError> {
        let op = self
            .exec
            .wait_for(&self.wire_id, OperationStatus::is_terminal)
            .await;
        if self.live {
            self.exec
                .ended(&self.wire_id, || OperationInfo::from_operation(&op, false));
        }
        if op.status != OperationStatus::Succeeded {
            return Err(callback_failure(&op));
        }
        let ctx = SerdesContext {
            operation_id: &self.wire_id,
            execution_arn: &self.exec.arn,
        };
        match self.exec.deserialize(&*self.serdes, op.result(), ctx).await {
            Ok(value) => Ok(value),
            Err(error) => Err(DurableError::with_kind(
                ErrorKind::Callback,
                "CallbackError",
                format!(
                    "cannot read the result of callback {}: {}",
                    self.external_id,
                    error.message_text()
                ),
            )),
        }
    }
}

fn callback_failure(op: &Operation) -> DurableError {
    match op.error() {
        Some(error) => DurableError::from_error_object(ErrorKind::Callback, error),
        None => DurableError::with_kind(
            ErrorKind::Callback,
            "CallbackError",
            format!("callback {} ended {}", op.id, op.status),
        ),
    }
}

impl<T: Send + Sync + 'static> IntoFuture for Callback<T> {
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<'static, Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.result())
    }
}

impl<T> fmt::Debug for CreateCallback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateCallback")
            .field("id", &self.id.wire)
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("heartbeat_timeout", &self.heartbeat_timeout)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Callback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("operation_id", &self.wire_id)
            .field("callback_id", &self.external_id)
            .finish_non_exhaustive()
    }
}
