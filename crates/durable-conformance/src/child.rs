//! Handlers for the `child` suite (3-x).

use std::time::Duration;

use durable_core::{DurableContext, DurableError, DurableFunction, LoggerConfig, RetryStrategy};
use durable_testing::requirements::HandlerRegistry;
use serde::Deserialize;
use serde_json::Value;

use crate::crash_once;

/// A step that returns `value`.
async fn echo(ctx: &DurableContext, value: String) -> Result<String, DurableError> {
    ctx.step(move |_| async move { Ok::<_, DurableError>(value) })
        .await
}

async fn basic(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|child| async move { echo(&child, input).await })
        .await
}

#[derive(Debug, Deserialize)]
struct NamedInput {
    name: String,
    value: String,
}

async fn named(input: NamedInput, ctx: DurableContext) -> Result<String, DurableError> {
    let NamedInput { name, value } = input;
    ctx.run_in_child_context(|child| async move { echo(&child, value).await })
        .name(name)
        .await
}

async fn sequential_steps(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|child| async move {
        let first = echo(&child, input).await?;
        echo(&child, first).await
    })
    .name("two-steps")
    .await
}

async fn step_fails(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|child| async move {
        child
            .step(|_| async {
                Err::<String, _>(DurableError::new("StepFailure", "inner step fails"))
            })
            .retry(RetryStrategy::none())
            .await
    })
    .name("failing-child")
    .await
}

async fn failure_caught(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    let outcome: Result<String, DurableError> = ctx
        .run_in_child_context(|child| async move {
            child
                .step(|_| async {
                    Err::<String, _>(DurableError::new("StepFailure", "inner step fails"))
                })
                .retry(RetryStrategy::none())
                .await
        })
        .await;
    match outcome {
        Ok(value) => Ok(value),
        Err(_) => echo(&ctx, input).await,
    }
}

async fn nested(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|outer| async move {
        let value = echo(&outer, input).await?;
        outer
            .run_in_child_context(|inner| async move { echo(&inner, value).await })
            .name("inner")
            .await
    })
    .name("outer")
    .await
}

async fn retries_exhausted(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|child| async move {
        child
            .step(|_| async { Err::<String, _>(DurableError::new("StepFailure", "always fails")) })
            .retry(
                RetryStrategy::exponential()
                    .max_attempts(2)
                    .initial_delay(Duration::from_secs(1)),
            )
            .await
    })
    .name("retrying-child")
    .await
}

async fn cached_then_wait(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    let value = ctx
        .run_in_child_context(|child| async move { echo(&child, input).await })
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(value)
}

async fn step_and_wait_inside(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|child| async move {
        let value = echo(&child, input).await?;
        child.wait(Duration::from_secs(1)).await?;
        Ok::<_, DurableError>(value)
    })
    .name("step-and-wait")
    .await
}

async fn large_result(input: String, ctx: DurableContext) -> Result<usize, DurableError> {
    ctx.configure_logger(LoggerConfig::default().mode_aware(false));
    let large: String = ctx
        .run_in_child_context(|child| async move {
            child
                .logger()
                .info(format!("building a large result for {input}"));
            let seed = echo(&child, input).await?;
            Ok::<_, DurableError>(seed.repeat(300 * 1024 / seed.len().max(1) + 1))
        })
        .name("large")
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(large.len())
}

async fn interrupted(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|child| async move {
        let arn = child.execution_arn().to_owned();
        child
            .step(move |step| async move {
                // Long enough for the START to be recorded, then the runtime dies.
                tokio::time::sleep(Duration::from_millis(200)).await;
                crash_once(&arn, step.operation_id());
                Ok::<_, DurableError>(input)
            })
            .await
    })
    .await
}

async fn wait_inside(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    let value = ctx
        .run_in_child_context(|child| async move {
            child.wait(Duration::from_secs(1)).await?;
            Ok::<_, DurableError>(input)
        })
        .name("waiting-child")
        .await?;
    echo(&ctx, value).await
}

async fn error_without_step(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|_| async {
        Err::<String, _>(DurableError::new("ChildFailure", "thrown in the body"))
    })
    .name("throwing-child")
    .await
}

async fn returns_null(_: Value, ctx: DurableContext) -> Result<Option<String>, DurableError> {
    ctx.run_in_child_context(|_| async { Ok::<Option<String>, DurableError>(None) })
        .name("null-child")
        .await
}

async fn logger_only(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.configure_logger(LoggerConfig::default().mode_aware(false));
    let value = ctx
        .run_in_child_context(|child| async move {
            child.logger().info(format!("child body runs with {input}"));
            Ok::<_, DurableError>(input)
        })
        .name("logging-child")
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(value)
}

async fn mixed(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    let value = ctx
        .run_in_child_context(|child| async move {
            let value = echo(&child, input).await?;
            child.wait(Duration::from_secs(1)).await?;
            Ok::<_, DurableError>(value)
        })
        .name("mixed-child")
        .await?;
    let value = echo(&ctx, value).await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(value)
}

/// Registers the handlers of the child suite.
pub fn register(registry: &mut HandlerRegistry) {
    registry.register("3-1", DurableFunction::new(basic));
    registry.register("3-2", DurableFunction::new(named));
    registry.register("3-3", DurableFunction::new(sequential_steps));
    registry.register("3-4", DurableFunction::new(step_fails));
    registry.register("3-5", DurableFunction::new(failure_caught));
    registry.register("3-6", DurableFunction::new(nested));
    registry.register("3-8", DurableFunction::new(retries_exhausted));
    registry.register("3-9", DurableFunction::new(cached_then_wait));
    registry.register("3-10", DurableFunction::new(step_and_wait_inside));
    registry.register("3-11", DurableFunction::new(large_result));
    registry.register("3-12", DurableFunction::new(interrupted));
    registry.register("3-13", DurableFunction::new(wait_inside));
    registry.register("3-15", DurableFunction::new(error_without_step));
    registry.register("3-16", DurableFunction::new(returns_null));
    registry.register("3-17", DurableFunction::new(logger_only));
    registry.register("3-18", DurableFunction::new(mixed));
}
