//! `step`: run a piece of work once and record its result.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DurableContext;
use crate::engine::ids::OperationId;
use crate::error::{DurableError, ErrorKind};
use crate::logger::Logger;
use crate::model::{
    ErrorObject, Operation, OperationAction, OperationStatus, OperationSubType, OperationType,
    StepOptions,
};
use crate::retry::{RetryDecision, RetryPolicy, RetryStrategy, StepSemantics};
use crate::serdes::{JsonSerdes, Serdes, SerdesContext};

tokio::task_local! {
    /// Set while a step body (or a condition check) runs.
    static IN_STEP_BODY: ();
}

/// Whether the code running now is a step body: durable operations are not
/// allowed there.
pub(crate) fn inside_step_body() -> bool {
    IN_STEP_BODY.try_with(|()| ()).is_ok()
}

/// Runs `body` marked as a step body.
pub(crate) async fn as_step_body<F: Future>(body: F) -> F::Output {
    IN_STEP_BODY.scope((), body).await
}

/// What a step's body gets: its attempt number and a logger.
#[derive(Debug, Clone)]
pub struct StepContext {
    attempt: u32,
    operation_id: String,
    logger: Logger,
}

impl StepContext {
    pub(crate) fn new(
        exec: &Arc<crate::engine::Execution>,
        operation_id: &str,
        attempt: u32,
    ) -> Self {
        Self {
            attempt,
            operation_id: operation_id.to_owned(),
            logger: Logger::new(
                Arc::clone(exec),
                None,
                Some(operation_id.to_owned()),
                Some(attempt),
            ),
        }
    }

    /// The attempt running now, counting from 1.
    pub const fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The step's operation id.
    pub fn operation_id(&self) -> &str {
        &self.operation_id
    }

    /// A logger for the step body (steps only run live, never in replay).
    pub const fn logger(&self) -> &Logger {
        &self.logger
    }
}

/// A step being configured; `.await` it to run.
///
/// Created by [`DurableContext::step`].
#[must_use = "a step does nothing until it is awaited"]
pub struct Step<'a, T, F> {
    ctx: DurableContext,
    id: OperationId,
    /// Taken when the body runs; an attempt runs at most once per invocation.
    body: Option<F>,
    name: Option<String>,
    retry: Option<Arc<dyn RetryPolicy>>,
    semantics: StepSemantics,
    serdes: Arc<dyn Serdes<T>>,
    _borrow: PhantomData<&'a ()>,
}

impl DurableContext {
    /// Runs `body` as a durable step: once its result is recorded it is
    /// never run again, and replays return the recorded result (or error).
    ///
    /// A failed attempt goes to the retry strategy (by default
    /// [`RetryStrategy::default`]: 6 attempts, exponential backoff, full
    /// jitter); a retry waits on a durable timer.
    ///
    /// # Example
    /// ```
    /// # use durable_core::{DurableContext, DurableError, retry::{RetryStrategy, StepSemantics}};
    /// # async fn charge(_: u32) -> Result<String, std::io::Error> { Ok("ok".into()) }
    /// # async fn f(ctx: DurableContext) -> Result<(), DurableError> {
    /// let receipt: String = ctx
    ///     .step(|step| async move {
    ///         step.logger().info(format!("attempt {}", step.attempt()));
    ///         charge(42).await
    ///     })
    ///     .name("charge")
    ///     .retry(RetryStrategy::exponential().max_attempts(3))
    ///     .semantics(StepSemantics::AtMostOncePerRetry)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn step<'a, T, F, Fut, E>(&self, body: F) -> Step<'a, T, F>
    where
        F: FnOnce(StepContext) -> Fut + Send + 'a,
        Fut: Future<Output = Result<T, E>> + Send + 'a,
        E: Into<DurableError> + 'a,
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        Step {
            ctx: self.clone(),
            id: self.next_id(),
            body: Some(body),
            name: None,
            retry: None,
            semantics: StepSemantics::default(),
            serdes: Arc::new(JsonSerdes::<T>::new()),
            _borrow: PhantomData,
        }
    }
}

impl<T: Send + Sync, F> Step<'_, T, F> {
    /// Names the step (recorded, and checked on replay).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the retry strategy: a [`RetryStrategy`] or any
    /// `Fn(&DurableError, u32) -> RetryDecision`.
    pub fn retry(mut self, policy: impl RetryPolicy + 'static) -> Self {
        self.retry = Some(Arc::new(policy));
        self
    }

    pub(crate) fn retry_shared(mut self, policy: Arc<dyn RetryPolicy>) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Sets at-least-once (default) or at-most-once execution per attempt.
    pub const fn semantics(mut self, semantics: StepSemantics) -> Self {
        self.semantics = semantics;
        self
    }

    /// Records the result with a custom serdes instead of JSON.
    pub fn serdes(mut self, serdes: impl Serdes<T> + 'static) -> Self {
        self.serdes = Arc::new(serdes);
        self
    }
}

impl<'a, T, F, Fut, E> IntoFuture for Step<'a, T, F>
where
    F: FnOnce(StepContext) -> Fut + Send + 'a,
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

enum Start {
    Send,
    AlreadyStarted,
}

impl<'a, T, F, Fut, E> Step<'a, T, F>
where
    F: FnOnce(StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
    E: Into<DurableError> + 'a,
    T: Send + Sync + 'static,
{
    async fn execute(self) -> Result<T, DurableError> {
        let exec = Arc::clone(self.ctx.exec());
        let recorded = self
            .ctx
            .claim(
                &self.id,
                OperationType::Step,
                &OperationSubType::Step,
                self.name.as_deref(),
            )
            .await;
        let Some(mut op) = recorded else {
            return self.attempt(1, Start::Send).await;
        };
        loop {
            let attempt = op.step_details.as_ref().map_or(0, |d| d.attempt) + 1;
            match op.status {
                OperationStatus::Succeeded => return self.deserialize(op.result()).await,
                OperationStatus::Pending => {
                    op = exec
                        .wait_for(&self.id.wire, |s| s != OperationStatus::Pending)
                        .await;
                }
                OperationStatus::Ready => return self.attempt(attempt, Start::Send).await,
                OperationStatus::Started => {
                    if self.semantics == StepSemantics::AtMostOncePerRetry {
                        return self.interrupted(attempt).await;
                    }
                    return self.attempt(attempt, Start::AlreadyStarted).await;
                }
                OperationStatus::Failed
                | OperationStatus::Cancelled
                | OperationStatus::TimedOut
                | OperationStatus::Stopped => return Err(recorded_failure(&op)),
            }
        }
    }

    async fn attempt(mut self, attempt: u32, start: Start) -> Result<T, DurableError> {
        let exec = Arc::clone(self.ctx.exec());
        let Some(body) = self.body.take() else {
            return Err(DurableError::with_kind(
                ErrorKind::InvalidConfig,
                "StepError",
                format!("step {} has no body left to run", self.id.wire),
            ));
        };
        if matches!(start, Start::Send) {
            let update = self.update(OperationAction::Start);
            let seq = exec.checkpointer.enqueue(update);
            if self.semantics == StepSemantics::AtMostOncePerRetry
                && exec.checkpointer.flush_through(&exec, seq).await.is_err()
            {
                return std::future::pending().await;
            }
        }
        let step_ctx = StepContext {
            attempt,
            operation_id: self.id.wire.clone(),
            logger: Logger::new(
                Arc::clone(&exec),
                None,
                Some(self.id.wire.clone()),
                Some(attempt),
            ),
        };
        let info = self.ctx.info(
            &self.id,
            OperationType::Step,
            &OperationSubType::Step,
            self.name.as_deref(),
        );
        exec.attempt_started(&info, attempt);
        let outcome: Result<T, DurableError> = {
            let _executing = exec.executing();
            as_step_body(body(step_ctx)).await.map_err(Into::into)
        };
        let error = outcome.as_ref().err().map(DurableError::to_error_object);
        exec.attempt_ended(&info, attempt, error.as_ref());
        let serdes = Arc::clone(&self.serdes);
        let serdes_ctx = SerdesContext {
            operation_id: &self.id.wire,
            execution_arn: &exec.arn,
        };
        match outcome {
            Ok(value) => {
                let payload = match exec.serialize(&*serdes, &value, serdes_ctx).await {
                    Ok(payload) => payload,
                    Err(error) => return exec.fail_fatally(error).await,
                };
                let mut update = self.update(OperationAction::Succeed);
                update.payload.clone_from(&payload);
                let seq = exec.checkpointer.enqueue(update);
                if exec.checkpointer.flush_through(&exec, seq).await.is_err() {
                    return std::future::pending().await;
                }
                self.ended(OperationStatus::Succeeded, None);
                self.deserialize(payload.as_deref()).await
            }
            Err(error) => self.failed(attempt, &error).await,
        }
    }

    /// An at-most-once attempt was cut off after its START: it is not run
    /// again; the retry strategy decides as if it had failed.
    async fn interrupted(self, attempt: u32) -> Result<T, DurableError> {
        let error = DurableError::with_kind(
            ErrorKind::StepInterrupted,
            "StepInterruptedError",
            format!(
                "step {} was interrupted before it recorded an outcome; at-most-once \
                 semantics forbid running the attempt again",
                self.id.wire
            ),
        );
        self.failed(attempt, &error).await
    }

    async fn failed(self, attempt: u32, error: &DurableError) -> Result<T, DurableError> {
        let exec = Arc::clone(self.ctx.exec());
        let decision = match &self.retry {
            Some(policy) => policy.decide(error, attempt),
            None => RetryStrategy::default().decide(error, attempt),
        };
        let mut update;
        match decision {
            RetryDecision::Retry { delay } => {
                update = self.update(OperationAction::Retry);
                update.step_options = Some(StepOptions {
                    next_attempt_delay_seconds: Some(whole_seconds(delay)),
                });
            }
            RetryDecision::Stop => update = self.update(OperationAction::Fail),
        }
        let error_object = error.to_error_object();
        update.error = Some(error_object.clone());
        let seq = exec.checkpointer.enqueue(update);
        if exec.checkpointer.flush_through(&exec, seq).await.is_err() {
            return std::future::pending().await;
        }
        match decision {
            // The next attempt runs in a later invocation, once the timer fires.
            RetryDecision::Retry { .. } => {
                exec.wait_for(&self.id.wire, |_| false).await;
                std::future::pending().await
            }
            RetryDecision::Stop => {
                self.ended(OperationStatus::Failed, Some(&error_object));
                Err(error.rebuilt_as(ErrorKind::Step))
            }
        }
    }

    fn ended(&self, status: OperationStatus, error: Option<&ErrorObject>) {
        self.ctx.ended(
            &self.id,
            OperationType::Step,
            &OperationSubType::Step,
            self.name.as_deref(),
            status,
            error,
        );
    }

    fn deserialize(
        &self,
        payload: Option<&str>,
    ) -> impl Future<Output = Result<T, DurableError>> + Send + use<'a, T, F, Fut, E> {
        let exec = Arc::clone(self.ctx.exec());
        let serdes = Arc::clone(&self.serdes);
        let id = self.id.wire.clone();
        let payload = payload.map(str::to_owned);
        async move {
            let ctx = SerdesContext {
                operation_id: &id,
                execution_arn: &exec.arn,
            };
            match exec.deserialize(&*serdes, payload.as_deref(), ctx).await {
                Ok(value) => Ok(value),
                Err(error) => exec.fail_fatally(error).await,
            }
        }
    }

    fn update(&self, action: OperationAction) -> crate::model::OperationUpdate {
        self.ctx.update(
            &self.id,
            OperationType::Step,
            &OperationSubType::Step,
            self.name.as_deref(),
            action,
        )
    }
}

/// Whole seconds, rounded up, at least one (the service's granularity).
pub(crate) fn whole_seconds(duration: Duration) -> u64 {
    let secs = duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0));
    secs.clamp(1, MAX_SECONDS)
}

/// The longest wait, retry delay or timeout the service accepts (366 days).
pub(crate) const MAX_SECONDS: u64 = 31_622_400;

fn recorded_failure(op: &Operation) -> DurableError {
    let kind = if op.sub_type == Some(OperationSubType::WaitForCondition) {
        ErrorKind::WaitForCondition
    } else {
        ErrorKind::Step
    };
    match op.error() {
        Some(error) => DurableError::from_error_object(kind, error),
        None => DurableError::with_kind(
            kind,
            "StepError",
            format!("step {} ended {}", op.id, op.status),
        ),
    }
}

impl<T, F> fmt::Debug for Step<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("id", &self.id.wire)
            .field("name", &self.name)
            .field("semantics", &self.semantics)
            .finish_non_exhaustive()
    }
}
