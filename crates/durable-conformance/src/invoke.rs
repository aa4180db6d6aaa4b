//! Handlers for the `invoke` suite (5-x).

use std::time::Duration;

use async_trait::async_trait;
use durable_core::serdes::{Serdes, SerdesContext};
use durable_core::{DurableContext, DurableError, DurableFunction, ErrorKind};
use durable_testing::requirements::HandlerRegistry;
use serde::Deserialize;
use serde_json::Value;

/// The invoke target that returns its input.
const ECHO: &str = "invoke-echo";
/// The invoke target that always fails.
const FAILING: &str = "invoke-failing";

async fn echo_target(input: Value, _ctx: DurableContext) -> Result<Value, DurableError> {
    Ok(input)
}

async fn failing_target(_: Value, _ctx: DurableContext) -> Result<Value, DurableError> {
    Err(DurableError::new(
        "TargetFailure",
        "the invoked function fails",
    ))
}

/// Invokes the echo target with `input`.
async fn echo<T>(ctx: &DurableContext, input: T) -> Result<T, DurableError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    ctx.invoke(ECHO, input).await
}

/// Invokes the failing target.
async fn fail(ctx: &DurableContext) -> Result<Value, DurableError> {
    ctx.invoke(FAILING, Value::Null).await
}

async fn basic(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    echo(&ctx, input).await
}

#[derive(Debug, Deserialize)]
struct NamedInput {
    name: String,
    payload: String,
}

async fn named(input: NamedInput, ctx: DurableContext) -> Result<String, DurableError> {
    let NamedInput { name, payload } = input;
    ctx.invoke(ECHO, payload).name(name).await
}

async fn complex(input: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    echo(&ctx, input).await
}

async fn null_result(_: Value, ctx: DurableContext) -> Result<Option<String>, DurableError> {
    echo(&ctx, None::<String>).await
}

async fn target_fails(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    fail(&ctx).await
}

async fn target_fails_caught(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    match fail(&ctx).await {
        Err(error) if error.kind() == ErrorKind::Invoke => Ok("fallback".to_owned()),
        other => other.map(|value| value.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantInput {
    tenant_id: String,
    payload: String,
}

async fn tenant(input: TenantInput, ctx: DurableContext) -> Result<String, DurableError> {
    let TenantInput { tenant_id, payload } = input;
    ctx.invoke(ECHO, payload).tenant_id(tenant_id).await
}

async fn cached_then_wait(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let value = echo(&ctx, "cached".to_owned()).await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(value)
}

async fn failure_cached_then_wait(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let outcome = fail(&ctx).await;
    ctx.wait(Duration::from_secs(1)).await?;
    match outcome {
        Err(error) if error.kind() == ErrorKind::Invoke => Ok("caught".to_owned()),
        other => other.map(|value| value.to_string()),
    }
}

async fn step_then_invoke(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let value: String = ctx
        .step(|_| async { Ok::<_, DurableError>("from-step".to_owned()) })
        .await?;
    echo(&ctx, value).await
}

async fn invoke_then_step(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let value = echo(&ctx, "from-invoke".to_owned()).await?;
    ctx.step(move |_| async move { Ok::<_, DurableError>(format!("processed {value}")) })
        .await
}

async fn inside_child(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|child| async move { echo(&child, "from-child".to_owned()).await })
        .await
}

/// Writes strings upper-cased, reads them as they are.
struct UpperOnWrite;

#[async_trait]
impl Serdes<String> for UpperOnWrite {
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

/// Passes the payload through as the raw string and reads it upper-cased
/// (quotes included: a JSON string stays a JSON string).
struct UpperOnRead;

#[async_trait]
impl Serdes<String> for UpperOnRead {
    async fn serialize(
        &self,
        value: &String,
        _: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        Ok(Some(value.clone()))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        _: SerdesContext<'_>,
    ) -> Result<String, DurableError> {
        Ok(data.unwrap_or_default().to_uppercase())
    }
}

#[derive(Debug, Deserialize)]
struct DataInput {
    data: String,
}

async fn custom_payload_serdes(
    input: DataInput,
    ctx: DurableContext,
) -> Result<String, DurableError> {
    ctx.invoke(ECHO, input.data)
        .payload_serdes(UpperOnWrite)
        .await
}

async fn custom_result_serdes(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.invoke(ECHO, input).result_serdes(UpperOnRead).await
}

/// Registers the handlers of the invoke suite and their invoke targets.
pub fn register(registry: &mut HandlerRegistry) {
    registry.register_function(ECHO, DurableFunction::new(echo_target));
    registry.register_function(FAILING, DurableFunction::new(failing_target));
    registry.register("5-1", DurableFunction::new(basic));
    registry.register("5-2", DurableFunction::new(named));
    registry.register("5-3", DurableFunction::new(complex));
    registry.register("5-4", DurableFunction::new(null_result));
    registry.register("5-5", DurableFunction::new(target_fails));
    registry.register("5-6", DurableFunction::new(target_fails_caught));
    registry.register("5-8", DurableFunction::new(tenant));
    registry.register("5-9", DurableFunction::new(cached_then_wait));
    registry.register("5-10", DurableFunction::new(failure_cached_then_wait));
    registry.register("5-11", DurableFunction::new(step_then_invoke));
    registry.register("5-12", DurableFunction::new(invoke_then_step));
    registry.register("5-13", DurableFunction::new(inside_child));
    registry.register("5-15", DurableFunction::new(custom_payload_serdes));
    registry.register("5-16", DurableFunction::new(custom_result_serdes));
}
