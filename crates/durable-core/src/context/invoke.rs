//! `invoke`: run another durable function and wait for its result.

use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DurableContext;
use crate::engine::ids::OperationId;
use crate::error::{DurableError, ErrorKind};
use crate::model::{
    ChainedInvokeOptions, Operation, OperationAction, OperationStatus, OperationSubType,
    OperationType,
};
use crate::plugin::OperationInfo;
use crate::serdes::{JsonSerdes, Serdes, SerdesContext};

/// A chained invoke being configured; `.await` it to run the target.
///
/// Created by [`DurableContext::invoke`].
#[must_use = "an invoke does nothing until it is awaited"]
pub struct Invoke<I, O> {
    ctx: DurableContext,
    id: OperationId,
    function_name: String,
    input: I,
    name: Option<String>,
    tenant_id: Option<String>,
    payload_serdes: Arc<dyn Serdes<I>>,
    result_serdes: Arc<dyn Serdes<O>>,
}

impl DurableContext {
    /// Starts a new execution of the durable function `function_name` with
    /// `input` and waits (suspended, at no cost) for its result. The target
    /// runs as its own execution; its failure surfaces as an `Invoke` error.
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError};
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let receipt: String = ctx.invoke("charge-card", 42_u32).name("charge").await?;
    /// # Ok(()) }
    /// ```
    pub fn invoke<I, O>(&self, function_name: impl Into<String>, input: I) -> Invoke<I, O>
    where
        I: Serialize + DeserializeOwned + Send + Sync + 'static,
        O: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        Invoke {
            ctx: self.clone(),
            id: self.next_id(),
            function_name: function_name.into(),
            input,
            name: None,
            tenant_id: None,
            payload_serdes: Arc::new(JsonSerdes::<I>::new()),
            result_serdes: Arc::new(JsonSerdes::<O>::new()),
        }
    }
}

impl<I: Send + Sync + 'static, O: Send + Sync + 'static> Invoke<I, O> {
    /// Names the operation.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Runs the target for this tenant.
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Serializes the input with a custom serdes instead of JSON.
    pub fn payload_serdes(mut self, serdes: impl Serdes<I> + 'static) -> Self {
        self.payload_serdes = Arc::new(serdes);
        self
    }

    /// Reads the result with a custom serdes instead of JSON.
    pub fn result_serdes(mut self, serdes: impl Serdes<O> + 'static) -> Self {
        self.result_serdes = Arc::new(serdes);
        self
    }

    async fn execute(self) -> Result<O, DurableError> {
        let exec = Arc::clone(self.ctx.exec());
        let recorded = self
            .ctx
            .claim(
                &self.id,
                OperationType::ChainedInvoke,
                &OperationSubType::ChainedInvoke,
                self.name.as_deref(),
            )
            .await;
        let serdes_ctx = SerdesContext {
            operation_id: &self.id.wire,
            execution_arn: &exec.arn,
        };
        let live = !recorded.as_ref().is_some_and(|op| op.status.is_terminal());
        if recorded.is_none() {
            let payload = match exec
                .serialize(&*self.payload_serdes, &self.input, serdes_ctx)
                .await
            {
                Ok(payload) => payload,
                Err(error) => return exec.fail_fatally(error).await,
            };
            let mut update = self.ctx.update(
                &self.id,
                OperationType::ChainedInvoke,
                &OperationSubType::ChainedInvoke,
                self.name.as_deref(),
                OperationAction::Start,
            );
            update.payload = payload;
            update.chained_invoke_options = Some(ChainedInvokeOptions {
                function_name: self.function_name.clone(),
                tenant_id: self.tenant_id.clone(),
            });
            let seq = exec.checkpointer.enqueue(update);
            if exec.checkpointer.flush_through(&exec, seq).await.is_err() {
                return std::future::pending().await;
            }
        }
        let op = exec
            .wait_for(&self.id.wire, OperationStatus::is_terminal)
            .await;
        if live {
            exec.ended(&self.id.wire, || OperationInfo::from_operation(&op, false));
        }
        if op.status != OperationStatus::Succeeded {
            return Err(invoke_failure(&op, &self.function_name));
        }
        match exec
            .deserialize(&*self.result_serdes, op.result(), serdes_ctx)
            .await
        {
            Ok(value) => Ok(value),
            Err(error) => exec.fail_fatally(error).await,
        }
    }
}

fn invoke_failure(op: &Operation, function_name: &str) -> DurableError {
    match op.error() {
        Some(error) => DurableError::from_error_object(ErrorKind::Invoke, error),
        None => DurableError::with_kind(
            ErrorKind::Invoke,
            "InvokeError",
            format!("the invoke of {function_name} ended {}", op.status),
        ),
    }
}

impl<I: Send + Sync + 'static, O: Send + Sync + 'static> IntoFuture for Invoke<I, O> {
    type Output = Result<O, DurableError>;
    type IntoFuture = BoxFuture<'static, Result<O, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

impl<I, O> fmt::Debug for Invoke<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invoke")
            .field("id", &self.id.wire)
            .field("function_name", &self.function_name)
            .field("name", &self.name)
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}
