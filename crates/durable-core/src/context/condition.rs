//! `wait_for_condition`: poll with carried state until a condition holds.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DurableContext;
use super::step::{StepContext, whole_seconds};
use crate::condition::{WaitDecision, WaitPolicy};
use crate::engine::Execution;
use crate::engine::ids::OperationId;
use crate::error::{DurableError, ErrorKind};
use crate::model::{
    OperationAction, OperationStatus, OperationSubType, OperationType, OperationUpdate, StepOptions,
};
use crate::serdes::{JsonSerdes, Serdes, SerdesContext};

/// A `wait_for_condition` being configured; `.await` it to poll.
///
/// Created by [`DurableContext::wait_for_condition`].
#[must_use = "wait_for_condition does nothing until it is awaited"]
pub struct WaitForCondition<'a, S, F> {
    ctx: DurableContext,
    id: OperationId,
    initial_state: S,
    check: F,
    name: Option<String>,
    strategy: Option<Arc<dyn WaitPolicy<S>>>,
    serdes: Arc<dyn Serdes<S>>,
    _borrow: PhantomData<&'a ()>,
}

impl DurableContext {
    /// Polls with `check` until the wait strategy stops: each check gets the
    /// state the previous one returned (`initial_state` first), and between
    /// checks the execution waits on a durable timer. Returns the final state.
    ///
    /// It is one STEP operation (subtype `WaitForCondition`); the state is
    /// recorded after every check. A failing check fails the operation.
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError};
    /// # use durable_core::condition::WaitStrategy;
    /// # async fn job_status(_: &str) -> Result<String, std::io::Error> { Ok("DONE".into()) }
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let status: String = ctx
    ///     .wait_for_condition("PENDING".to_owned(), |_, _| async { job_status("job-1").await })
    ///     .wait_strategy(WaitStrategy::while_(|status: &String| status != "DONE"))
    ///     .name("job-done")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn wait_for_condition<'a, S, F, Fut, E>(
        &self,
        initial_state: S,
        check: F,
    ) -> WaitForCondition<'a, S, F>
    where
        F: FnOnce(S, StepContext) -> Fut + Send + 'a,
        Fut: Future<Output = Result<S, E>> + Send + 'a,
        E: Into<DurableError> + 'a,
        S: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        WaitForCondition {
            ctx: self.clone(),
            id: self.next_id(),
            initial_state,
            check,
            name: None,
            strategy: None,
            serdes: Arc::new(JsonSerdes::<S>::new()),
            _borrow: PhantomData,
        }
    }
}

impl<S: Send + Sync, F> WaitForCondition<'_, S, F> {
    /// Names the operation.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Decides after each check whether to poll again (required): a
    /// [`WaitStrategy`](crate::condition::WaitStrategy) or any
    /// `Fn(&S, u32) -> WaitDecision`.
    pub fn wait_strategy(mut self, strategy: impl WaitPolicy<S> + 'static) -> Self {
        self.strategy = Some(Arc::new(strategy));
        self
    }

    /// Records the state with a custom serdes instead of JSON.
    pub fn serdes(mut self, serdes: impl Serdes<S> + 'static) -> Self {
        self.serdes = Arc::new(serdes);
        self
    }
}

impl<'a, S, F, Fut, E> IntoFuture for WaitForCondition<'a, S, F>
where
    F: FnOnce(S, StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<S, E>> + Send + 'a,
    E: Into<DurableError> + 'a,
    S: Send + Sync + 'static,
{
    type Output = Result<S, DurableError>;
    type IntoFuture = BoxFuture<'a, Result<S, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

impl<'a, S, F, Fut, E> WaitForCondition<'a, S, F>
where
    F: FnOnce(S, StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<S, E>> + Send + 'a,
    E: Into<DurableError> + 'a,
    S: Send + Sync + 'static,
{
    async fn execute(self) -> Result<S, DurableError> {
        let Self {
            ctx,
            id,
            initial_state,
            check,
            name,
            strategy,
            serdes,
            ..
        } = self;
        let exec = Arc::clone(ctx.exec());
        let Some(strategy) = strategy else {
            return Err(DurableError::with_kind(
                ErrorKind::InvalidConfig,
                "InvalidConfigError",
                format!("wait_for_condition {} needs a wait strategy", id.wire),
            ));
        };
        let sub_type = OperationSubType::WaitForCondition;
        let mut recorded = ctx
            .claim(&id, OperationType::Step, &sub_type, name.as_deref())
            .await;
        let update =
            |action| ctx.update(&id, OperationType::Step, &sub_type, name.as_deref(), action);
        let serdes_ctx = SerdesContext {
            operation_id: &id.wire,
            execution_arn: &exec.arn,
        };
        if recorded
            .as_ref()
            .is_some_and(|op| op.status == OperationStatus::Pending)
        {
            let ready = exec
                .wait_for(&id.wire, |s| s != OperationStatus::Pending)
                .await;
            recorded = Some(ready);
        }
        let (state, attempt, send_start) = match recorded {
            None => (initial_state, 1, true),
            Some(op) if op.status == OperationStatus::Succeeded => {
                return deserialize(&exec, &serdes, op.result(), serdes_ctx).await;
            }
            Some(op) if op.status.is_terminal() => {
                let error = op.error().cloned().unwrap_or_default();
                return Err(DurableError::from_error_object(
                    ErrorKind::WaitForCondition,
                    &error,
                ));
            }
            Some(op) => {
                let attempt = op.step_details.as_ref().map_or(0, |d| d.attempt) + 1;
                let state = match op.result() {
                    Some(_) => deserialize(&exec, &serdes, op.result(), serdes_ctx).await?,
                    None => initial_state,
                };
                (state, attempt, op.status == OperationStatus::Ready)
            }
        };
        if send_start {
            exec.checkpointer.enqueue(update(OperationAction::Start));
        }
        let step_ctx = StepContext::new(&exec, &id.wire, attempt);
        let info = ctx.info(&id, OperationType::Step, &sub_type, name.as_deref());
        exec.attempt_started(&info, attempt);
        let checked: Result<S, DurableError> = {
            let _executing = exec.executing();
            super::step::as_step_body(check(state, step_ctx))
                .await
                .map_err(Into::into)
        };
        let error = checked.as_ref().err().map(DurableError::to_error_object);
        exec.attempt_ended(&info, attempt, error.as_ref());
        let decided = checked.and_then(|state| Ok((strategy.decide(&state, attempt)?, state)));
        let outcome = record(&exec, &update, &serdes, serdes_ctx, decided).await;
        let (status, error) = match &outcome {
            Ok(_) => (OperationStatus::Succeeded, None),
            Err(error) => (OperationStatus::Failed, Some(error.to_error_object())),
        };
        ctx.ended(
            &id,
            OperationType::Step,
            &sub_type,
            name.as_deref(),
            status,
            error.as_ref(),
        );
        outcome
    }
}

/// Records the outcome of one check: poll again later, finish, or fail.
async fn record<S: Send + Sync>(
    exec: &Execution,
    update: &(dyn Fn(OperationAction) -> OperationUpdate + Sync),
    serdes: &Arc<dyn Serdes<S>>,
    serdes_ctx: SerdesContext<'_>,
    decided: Result<(WaitDecision, S), DurableError>,
) -> Result<S, DurableError> {
    let (decision, state) = match decided {
        Ok(decided) => decided,
        Err(error) => {
            let mut fail = update(OperationAction::Fail);
            fail.error = Some(error.to_error_object());
            flush(exec, fail).await;
            return Err(error.rebuilt_as(ErrorKind::WaitForCondition));
        }
    };
    let payload = match exec.serialize(&**serdes, &state, serdes_ctx).await {
        Ok(payload) => payload,
        Err(error) => return exec.fail_fatally(error).await,
    };
    match decision {
        WaitDecision::Continue { delay } => {
            let mut retry = update(OperationAction::Retry);
            retry.payload = payload;
            retry.step_options = Some(StepOptions {
                next_attempt_delay_seconds: Some(whole_seconds(delay)),
            });
            flush(exec, retry).await;
            // The next check runs in a later invocation, once the timer fires.
            exec.wait_for(serdes_ctx.operation_id, |_| false).await;
            std::future::pending().await
        }
        WaitDecision::Stop => {
            let mut succeed = update(OperationAction::Succeed);
            succeed.payload.clone_from(&payload);
            flush(exec, succeed).await;
            deserialize(exec, serdes, payload.as_deref(), serdes_ctx).await
        }
    }
}

/// Records `update` and returns once it is durable; on failure the
/// invocation is ending and this never returns.
async fn flush(exec: &Execution, update: OperationUpdate) {
    let seq = exec.checkpointer.enqueue(update);
    if exec.checkpointer.flush_through(exec, seq).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn deserialize<S: Send + Sync>(
    exec: &Execution,
    serdes: &Arc<dyn Serdes<S>>,
    payload: Option<&str>,
    ctx: SerdesContext<'_>,
) -> Result<S, DurableError> {
    match exec.deserialize(&**serdes, payload, ctx).await {
        Ok(value) => Ok(value),
        Err(error) => exec.fail_fatally(error).await,
    }
}

impl<S, F> fmt::Debug for WaitForCondition<'_, S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCondition")
            .field("id", &self.id.wire)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
