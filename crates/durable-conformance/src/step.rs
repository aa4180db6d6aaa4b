//! Handlers for the `step` suite (1-x).

use std::time::Duration;

use async_trait::async_trait;
use durable_core::serdes::{Serdes, SerdesContext};
use durable_core::{
    DurableContext, DurableError, DurableFunction, Jitter, RetryDecision, RetryStrategy,
    StepSemantics,
};
use durable_testing::requirements::HandlerRegistry;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::crash;

/// An error the retry strategies of 1-15 and 1-16 single out.
#[derive(Debug, thiserror::Error)]
#[error("transient failure: {0}")]
pub struct TransientError(String);

fn fail(message: &str) -> Result<Value, DurableError> {
    Err(DurableError::new("StepFailure", message))
}

/// Retries once a second, `attempts` attempts in all.
fn every_second(attempts: u32) -> RetryStrategy {
    RetryStrategy::exponential()
        .max_attempts(attempts)
        .initial_delay(Duration::from_secs(1))
        .backoff_rate(1.0)
        .jitter(Jitter::None)
}

async fn greet(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {name}!")) })
        .await
}

async fn named_greet(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {name}!")) })
        .name("custom_step_name")
        .await
}

async fn sequential(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let first: String = ctx
        .step(|_| async { Ok::<_, DurableError>("first".to_owned()) })
        .await?;
    ctx.step(move |_| async move { Ok::<_, DurableError>(format!("{first}_second")) })
        .await
}

#[derive(Debug, Serialize, Deserialize)]
struct Profile {
    name: String,
    tags: Vec<String>,
}

async fn complex(input: Profile, ctx: DurableContext) -> Result<Value, DurableError> {
    ctx.step(move |_| async move {
        let count = input.tags.len();
        Ok::<_, DurableError>(
            json!({"user": {"name": input.name, "tags": input.tags}, "count": count}),
        )
    })
    .await
}

async fn null_result(_: Value, ctx: DurableContext) -> Result<Option<String>, DurableError> {
    ctx.step(|_| async { Ok::<Option<String>, DurableError>(None) })
        .await
}

/// Stores every string upper-cased.
struct Uppercase;

#[async_trait]
impl Serdes<String> for Uppercase {
    async fn serialize(
        &self,
        value: &String,
        _: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        Ok(Some(serde_json::to_string(&value.to_uppercase())?))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        _: SerdesContext<'_>,
    ) -> Result<String, DurableError> {
        Ok(serde_json::from_str(data.unwrap_or("null"))?)
    }
}

async fn custom_serdes(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(move |_| async move { Ok::<_, DurableError>(input) })
        .serdes(Uppercase)
        .await
}

async fn step_then_wait(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let value: String = ctx
        .step(|_| async { Ok::<_, DurableError>("computed".to_owned()) })
        .await?;
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(value)
}

async fn replay_skips_step(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let value: String = ctx
        .step(|step| async move {
            step.logger().info("step executed");
            Ok::<_, DurableError>("cached_value".to_owned())
        })
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(value)
}

async fn replay_rethrows(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let outcome = ctx
        .step(|step| async move {
            step.logger().info("step executed");
            fail("permanent failure")
        })
        .retry(RetryStrategy::none())
        .await;
    let caught = outcome.err().map(|e| e.to_string()).unwrap_or_default();
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(caught)
}

async fn fails_then_succeeds(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(|step| async move {
        if step.attempt() == 1 {
            return Err(DurableError::new("Unreliable", "first attempt fails"));
        }
        Ok("Operation succeeded".to_owned())
    })
    .retry(every_second(3))
    .await
}

async fn retry_exhaustion(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    ctx.step(|_| async { fail("always fails") })
        .retry(every_second(4))
        .await
}

async fn default_retry(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(|step| async move {
        if step.attempt() < 3 {
            return Err(DurableError::new(
                "Unreliable",
                format!("attempt {} fails", step.attempt()),
            ));
        }
        Ok("succeeded on the third attempt".to_owned())
    })
    .await
}

async fn retry_transient(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(|step| async move {
        if step.attempt() == 1 {
            return Err(TransientError("first attempt".into()).into());
        }
        Ok::<_, DurableError>("recovered".to_owned())
    })
    .retry(|error: &DurableError, attempt: u32| {
        if error.is::<TransientError>() && attempt < 3 {
            RetryDecision::Retry {
                delay: Duration::from_secs(1),
            }
        } else {
            RetryDecision::Stop
        }
    })
    .await
}

async fn no_retry_on_transient(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(|_| async { Err::<String, _>(TransientError("not retried".into())) })
        .retry(RetryStrategy::default().retry_if(|error| !error.is::<TransientError>()))
        .await
}

async fn at_most_once_no_retry(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(move |step| async move {
        step.logger().info(format!("running with {input}"));
        crash::<Result<String, DurableError>>("the runtime dies in the middle of the step")
    })
    .name("at_most_once_flaky_step")
    .semantics(StepSemantics::AtMostOncePerRetry)
    .retry(RetryStrategy::none())
    .await
}

async fn at_most_once_with_retry(
    input: String,
    ctx: DurableContext,
) -> Result<String, DurableError> {
    ctx.step(move |step| async move {
        step.logger().info(format!("running with {input}"));
        if step.attempt() == 1 {
            return crash("the runtime dies in the middle of the first attempt");
        }
        Ok::<_, DurableError>("succeeded on second attempt".to_owned())
    })
    .semantics(StepSemantics::AtMostOncePerRetry)
    .retry(every_second(2))
    .await
}

async fn fails_permanently(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    ctx.step(|_| async { fail("permanent failure") })
        .retry(RetryStrategy::none())
        .await
}

async fn caught_and_handled(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let fallback = match ctx
        .step(|_| async { fail("boom") })
        .retry(RetryStrategy::none())
        .await
    {
        Ok(_) => "unexpected".to_owned(),
        Err(_) => "fallback_result".to_owned(),
    };
    ctx.step(move |_| async move { Ok::<_, DurableError>(fallback) })
        .await
}

/// Registers the handlers of the step suite.
pub fn register(registry: &mut HandlerRegistry) {
    registry.register("1-1", DurableFunction::new(greet));
    registry.register("1-2", DurableFunction::new(named_greet));
    registry.register("1-3", DurableFunction::new(sequential));
    registry.register("1-4", DurableFunction::new(complex));
    registry.register("1-5", DurableFunction::new(null_result));
    registry.register("1-6", DurableFunction::new(custom_serdes));
    registry.register("1-8", DurableFunction::new(step_then_wait));
    registry.register("1-9", DurableFunction::new(replay_skips_step));
    registry.register("1-10", DurableFunction::new(replay_rethrows));
    registry.register("1-11", DurableFunction::new(fails_then_succeeds));
    registry.register("1-12", DurableFunction::new(retry_exhaustion));
    registry.register("1-13", DurableFunction::new(default_retry));
    registry.register("1-15", DurableFunction::new(retry_transient));
    registry.register("1-16", DurableFunction::new(no_retry_on_transient));
    registry.register("1-17", DurableFunction::new(at_most_once_no_retry));
    registry.register("1-18", DurableFunction::new(at_most_once_with_retry));
    registry.register("1-19", DurableFunction::new(fails_permanently));
    registry.register("1-20", DurableFunction::new(caught_and_handled));
}
