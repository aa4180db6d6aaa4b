//! Handlers for the `wait_for_callback` suite (7-x).

use std::time::Duration;

use durable_core::{DurableContext, DurableError, DurableFunction, ErrorKind, StepContext};
use durable_testing::requirements::HandlerRegistry;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A submitter that only tells the (simulated) external system the id.
async fn submit(callback_id: String, step: StepContext) -> Result<(), DurableError> {
    step.logger()
        .info(format!("submitting callback {callback_id}"));
    Ok(())
}

/// Waits for a callback named `name` and returns its raw payload.
async fn await_named(ctx: &DurableContext, name: String) -> Result<String, DurableError> {
    ctx.wait_for_callback(submit).name(name).await
}

async fn basic(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    await_named(&ctx, name).await
}

async fn static_name(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    await_named(&ctx, "approval".to_owned()).await
}

async fn anonymous(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.wait_for_callback(|_callback_id, _step| async { Ok::<(), DurableError>(()) })
        .await
}

async fn timeout(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.wait_for_callback(submit)
        .name(name)
        .timeout(Duration::from_secs(3))
        .await
}

async fn failure_caught(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    match await_named(&ctx, name).await {
        Err(error) if error.kind() == ErrorKind::Callback => Ok("recovered".to_owned()),
        other => other,
    }
}

async fn inside_child(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|child| async move { await_named(&child, name).await })
        .name("wrapper")
        .await
}

async fn sequential(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    await_named(&ctx, "first".to_owned()).await?;
    await_named(&ctx, "second".to_owned()).await
}

async fn after_wait_and_step(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.wait(Duration::from_secs(1)).await?;
    let _: String = ctx
        .step(|_| async { Ok::<_, DurableError>("fixed data".to_owned()) })
        .await?;
    await_named(&ctx, name).await
}

#[derive(Debug, Serialize, Deserialize)]
struct Approval {
    status: String,
}

async fn json_result(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    let approval: Approval = ctx
        .wait_for_callback(submit)
        .name(name)
        .json::<Approval>()
        .await?;
    Ok(approval.status)
}

async fn heartbeat_timeout(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.wait_for_callback(submit)
        .name(name)
        .heartbeat_timeout(Duration::from_secs(5))
        .await
}

async fn heartbeat_then_success(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.wait_for_callback(submit)
        .name(name)
        .heartbeat_timeout(Duration::from_secs(10))
        .await
}

/// Registers the handlers of the `wait_for_callback` suite.
pub fn register(registry: &mut HandlerRegistry) {
    registry.register("7-1", DurableFunction::new(basic));
    registry.register("7-2", DurableFunction::new(static_name));
    registry.register("7-3", DurableFunction::new(anonymous));
    registry.register("7-4", DurableFunction::new(basic));
    registry.register("7-5", DurableFunction::new(timeout));
    registry.register("7-6", DurableFunction::new(failure_caught));
    registry.register("7-8", DurableFunction::new(inside_child));
    registry.register("7-9", DurableFunction::new(sequential));
    registry.register("7-10", DurableFunction::new(after_wait_and_step));
    registry.register("7-11", DurableFunction::new(json_result));
    registry.register("7-12", DurableFunction::new(heartbeat_timeout));
    registry.register("7-13", DurableFunction::new(heartbeat_then_success));
    registry.register("7-15", DurableFunction::new(basic));
}
