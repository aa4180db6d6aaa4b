//! Type-erased durable handlers.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::DurableContext;
use crate::error::{DurableError, ErrorKind};
use crate::plugin::{Plugin, Plugins};

type ErasedHandler = dyn Fn(Option<String>, DurableContext) -> BoxFuture<'static, Result<Option<String>, DurableError>>
    + Send
    + Sync;

/// A durable handler with its input and output types erased to JSON, ready
/// to be registered with a runner or a worker.
///
/// # Example
/// ```
/// use durable_core::{DurableContext, DurableError, DurableFunction};
///
/// async fn greet(name: String, ctx: DurableContext) -> Result<String, DurableError> {
///     ctx.step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {name}!")) }).await
/// }
///
/// let function = DurableFunction::new(greet);
/// # let _ = function;
/// ```
#[derive(Clone)]
pub struct DurableFunction {
    handler: Arc<ErasedHandler>,
    plugins: Plugins,
}

impl DurableFunction {
    /// Wraps `async fn(input, ctx) -> Result<output, DurableError>`.
    ///
    /// A missing or `null` input deserializes as JSON `null`, so `Option<T>`
    /// and `()` inputs work for executions started without one.
    pub fn new<F, Fut, I, O>(handler: F) -> Self
    where
        F: Fn(I, DurableContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, DurableError>> + Send + 'static,
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
    {
        let handler = Arc::new(handler);
        Self {
            plugins: Plugins::default(),
            handler: Arc::new(move |input: Option<String>, ctx: DurableContext| {
                let handler = Arc::clone(&handler);
                Box::pin(async move {
                    let input: I = serde_json::from_str(input.as_deref().unwrap_or("null"))
                        .map_err(|e| {
                            DurableError::with_kind(
                                ErrorKind::Serdes,
                                "InputDeserializationError",
                                format!("cannot read the execution input: {e}"),
                            )
                        })?;
                    let output = handler(input, ctx).await?;
                    let json = serde_json::to_string(&output).map_err(|e| {
                        DurableError::with_kind(
                            ErrorKind::Serdes,
                            "ResultSerializationError",
                            format!("cannot serialize the execution result: {e}"),
                        )
                    })?;
                    Ok(Some(json))
                })
            }),
        }
    }

    /// Adds a plugin; plugins are called in the order they were added.
    #[must_use]
    pub fn with_plugin(self, plugin: impl Plugin + 'static) -> Self {
        Self {
            plugins: self.plugins.with(Arc::new(plugin)),
            ..self
        }
    }

    pub(crate) fn plugins(&self) -> &Plugins {
        &self.plugins
    }

    /// Runs the handler once on a JSON input.
    pub(crate) fn call(
        &self,
        input: Option<String>,
        ctx: DurableContext,
    ) -> BoxFuture<'static, Result<Option<String>, DurableError>> {
        (self.handler)(input, ctx)
    }
}

impl fmt::Debug for DurableFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DurableFunction")
    }
}
