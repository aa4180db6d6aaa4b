//! Handlers for the `wait` suite (2-x).

use std::time::Duration;

use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_testing::requirements::HandlerRegistry;
use serde_json::{Value, json};

async fn basic(_: Value, ctx: DurableContext) -> Result<(), DurableError> {
    ctx.wait(Duration::from_secs(2)).await
}

async fn named(_: Value, ctx: DurableContext) -> Result<(), DurableError> {
    ctx.wait(Duration::from_secs(2))
        .name("custom_wait_name")
        .await
}

async fn sequential(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    ctx.wait(Duration::from_secs(2)).name("wait-1").await?;
    ctx.wait(Duration::from_secs(2)).name("wait-2").await?;
    Ok(json!({"completedWaits": 2}))
}

async fn one_minute(_: Value, ctx: DurableContext) -> Result<(), DurableError> {
    ctx.wait(Duration::from_secs(60)).await
}

async fn one_hour(_: Value, ctx: DurableContext) -> Result<(), DurableError> {
    ctx.wait(Duration::from_secs(60 * 60)).await
}

/// Registers the handlers of the wait suite.
pub fn register(registry: &mut HandlerRegistry) {
    registry.register("2-1", DurableFunction::new(basic));
    registry.register("2-2", DurableFunction::new(named));
    registry.register("2-3", DurableFunction::new(sequential));
    registry.register("2-4", DurableFunction::new(one_minute));
    registry.register("2-5", DurableFunction::new(one_hour));
}
