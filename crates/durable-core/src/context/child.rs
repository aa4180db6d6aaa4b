//! `run_in_child_context`: a group of operations with its own id namespace,
//! recorded as one result.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DurableContext;
use crate::engine::ids::OperationId;
use crate::error::{DurableError, ErrorKind};
use crate::model::{
    ContextOptions, OperationAction, OperationStatus, OperationSubType, OperationType,
};
use crate::plugin::Outcome;
use crate::serdes::{JsonSerdes, Serdes, SerdesContext};

/// Results larger than this are not stored: the children are replayed to
/// rebuild them (`ReplayChildren`), as in the reference SDKs.
pub(crate) const MAX_STORED_RESULT: usize = 256 * 1024;

/// A child context being configured; `.await` it to run.
///
/// Created by [`DurableContext::run_in_child_context`].
#[must_use = "a child context does nothing until it is awaited"]
pub struct ChildContext<'a, T, F> {
    parent: DurableContext,
    id: OperationId,
    body: F,
    name: Option<String>,
    sub_type: OperationSubType,
    serdes: Arc<dyn Serdes<T>>,
    _borrow: PhantomData<&'a ()>,
}

impl DurableContext {
    /// Runs `body` in a child context: its operations get their own id
    /// namespace, and once it finishes its result is recorded as one
    /// operation, so replays skip the whole body.
    ///
    /// A result over 256 KB is not stored; replays then run the body again
    /// over its recorded children to rebuild it.
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError};
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let total: u32 = ctx
    ///     .run_in_child_context(|child| async move {
    ///         let a: u32 = child.step(|_| async { Ok::<_, DurableError>(1) }).await?;
    ///         let b: u32 = child.step(|_| async { Ok::<_, DurableError>(2) }).await?;
    ///         Ok::<_, DurableError>(a + b)
    ///     })
    ///     .name("sum")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn run_in_child_context<'a, T, F, Fut, E>(&self, body: F) -> ChildContext<'a, T, F>
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'a,
        Fut: Future<Output = Result<T, E>> + Send + 'a,
        E: Into<DurableError> + 'a,
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.child_context_with(body, Arc::new(JsonSerdes::<T>::new()))
    }

    /// A child context recording its result with `serdes`.
    pub(crate) fn child_context_with<'a, T, F>(
        &self,
        body: F,
        serdes: Arc<dyn Serdes<T>>,
    ) -> ChildContext<'a, T, F> {
        self.child_context_at(self.next_id(), body, serdes)
    }

    /// A child context at an id taken earlier.
    pub(crate) fn child_context_at<'a, T, F>(
        &self,
        id: OperationId,
        body: F,
        serdes: Arc<dyn Serdes<T>>,
    ) -> ChildContext<'a, T, F> {
        ChildContext {
            parent: self.clone(),
            id,
            body,
            name: None,
            sub_type: OperationSubType::RunInChildContext,
            serdes,
            _borrow: PhantomData,
        }
    }
}

impl<T: Send + Sync, F> ChildContext<'_, T, F> {
    /// Names the child context.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Records the result with a custom serdes instead of JSON.
    pub fn serdes(mut self, serdes: impl Serdes<T> + 'static) -> Self {
        self.serdes = Arc::new(serdes);
        self
    }

    /// Records the context under another subtype (map items, parallel branches, ...).
    pub(crate) fn sub_type(mut self, sub_type: OperationSubType) -> Self {
        self.sub_type = sub_type;
        self
    }
}

impl<'a, T, F, Fut, E> IntoFuture for ChildContext<'a, T, F>
where
    F: FnOnce(DurableContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
    E: Into<DurableError> + 'a,
    T: Send + Sync + 'static,
{
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<'a, Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

impl<'a, T, F, Fut, E> ChildContext<'a, T, F>
where
    F: FnOnce(DurableContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
    E: Into<DurableError> + 'a,
    T: Send + Sync + 'static,
{
    async fn execute(self) -> Result<T, DurableError> {
        let Self {
            parent,
            id,
            body,
            name,
            sub_type,
            serdes,
            ..
        } = self;
        let exec = Arc::clone(parent.exec());
        let update = |action| {
            parent.update(
                &id,
                OperationType::Context,
                &sub_type,
                name.as_deref(),
                action,
            )
        };
        let recorded = parent
            .claim(&id, OperationType::Context, &sub_type, name.as_deref())
            .await;
        let serdes_ctx = SerdesContext {
            operation_id: &id.wire,
            execution_arn: &exec.arn,
        };
        let replay_children = recorded
            .as_ref()
            .and_then(|op| op.context_details.as_ref())
            .and_then(|d| d.replay_children)
            .unwrap_or(false);
        match recorded.as_ref().map(|op| (op.status, op)) {
            Some((OperationStatus::Succeeded, op)) if !replay_children => {
                exec.mark_cached_context(&id.wire);
                return match exec.deserialize(&*serdes, op.result(), serdes_ctx).await {
                    Ok(value) => Ok(value),
                    Err(error) => exec.fail_fatally(error).await,
                };
            }
            // Too large to store: rebuild it from the recorded children.
            Some((OperationStatus::Succeeded, _)) => {
                let info = parent.info(&id, OperationType::Context, &sub_type, name.as_deref());
                let body = body(parent.child(&id, true));
                return rebuild(&exec, &info, body, &serdes, serdes_ctx).await;
            }
            Some((status, op)) if status.is_terminal() => {
                exec.mark_cached_context(&id.wire);
                let error = op.error().cloned().unwrap_or_default();
                return Err(DurableError::from_error_object(
                    ErrorKind::ChildContext,
                    &error,
                ));
            }
            Some(_) => {}
            None => {
                exec.checkpointer.enqueue(update(OperationAction::Start));
            }
        }
        let info = parent.info(&id, OperationType::Context, &sub_type, name.as_deref());
        exec.function_hook(&info, false, None);
        let outcome: Result<T, DurableError> = body(parent.child(&id, recorded.is_some()))
            .await
            .map_err(Into::into);
        exec.function_hook(&info, false, Some(Outcome::of(&outcome)));
        let ended = |status, error| {
            parent.ended(
                &id,
                OperationType::Context,
                &sub_type,
                name.as_deref(),
                status,
                error,
            );
        };
        match outcome {
            Ok(value) => {
                let result = record_success(&exec, &update, &serdes, serdes_ctx, &value).await;
                ended(OperationStatus::Succeeded, None);
                result
            }
            Err(error) => {
                let mut fail = update(OperationAction::Fail);
                let error_object = error.to_error_object();
                fail.error = Some(error_object.clone());
                exec.checkpointer.enqueue(fail);
                ended(OperationStatus::Failed, Some(&error_object));
                Err(error.rebuilt_as(ErrorKind::ChildContext))
            }
        }
    }
}

/// Runs the body of a context whose result was too large to store, over
/// its recorded children, and gives back what the first run gave: the value
/// through the serdes, or the error as a child-context error.
async fn rebuild<T: Send + Sync, E: Into<DurableError>>(
    exec: &crate::engine::Execution,
    info: &crate::plugin::OperationInfo,
    body: impl Future<Output = Result<T, E>>,
    serdes: &Arc<dyn Serdes<T>>,
    serdes_ctx: SerdesContext<'_>,
) -> Result<T, DurableError> {
    exec.function_hook(info, true, None);
    let outcome: Result<T, DurableError> = body.await.map_err(Into::into);
    exec.function_hook(info, true, Some(Outcome::of(&outcome)));
    let value = outcome.map_err(|error| error.rebuilt_as(ErrorKind::ChildContext))?;
    let payload = match exec.serialize(&**serdes, &value, serdes_ctx).await {
        Ok(payload) => payload,
        Err(error) => return exec.fail_fatally(error).await,
    };
    match exec
        .deserialize(&**serdes, payload.as_deref(), serdes_ctx)
        .await
    {
        Ok(value) => Ok(value),
        Err(error) => exec.fail_fatally(error).await,
    }
}

/// Records a child context's result: stored, or too large and rebuilt by
/// replaying the children. Returns the value as a replay would see it.
async fn record_success<T: Send + Sync>(
    exec: &crate::engine::Execution,
    update: &(dyn Fn(OperationAction) -> crate::model::OperationUpdate + Sync),
    serdes: &Arc<dyn Serdes<T>>,
    serdes_ctx: SerdesContext<'_>,
    value: &T,
) -> Result<T, DurableError> {
    let payload = match exec.serialize(&**serdes, value, serdes_ctx).await {
        Ok(payload) => payload,
        Err(error) => return exec.fail_fatally(error).await,
    };
    let mut succeed = update(OperationAction::Succeed);
    if payload
        .as_ref()
        .is_some_and(|p| p.len() > MAX_STORED_RESULT)
    {
        succeed.payload = Some(String::new());
        succeed.context_options = Some(ContextOptions {
            replay_children: true,
        });
    } else {
        succeed.payload.clone_from(&payload);
    }
    // No need to wait: if this is lost, a replay runs the body
    // again over its recorded children and gets the same result.
    exec.checkpointer.enqueue(succeed);
    match exec
        .deserialize(&**serdes, payload.as_deref(), serdes_ctx)
        .await
    {
        Ok(value) => Ok(value),
        Err(error) => exec.fail_fatally(error).await,
    }
}

impl<T, F> fmt::Debug for ChildContext<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildContext")
            .field("id", &self.id.wire)
            .field("name", &self.name)
            .field("sub_type", &self.sub_type)
            .finish_non_exhaustive()
    }
}
