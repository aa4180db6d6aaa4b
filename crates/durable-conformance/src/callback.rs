//! Handlers for the `callback` suite (4-x).

use std::time::Duration;

use async_trait::async_trait;
use durable_core::serdes::{Serdes, SerdesContext};
use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_testing::requirements::HandlerRegistry;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Creates a callback named `name` and awaits its raw payload.
async fn await_named(ctx: &DurableContext, name: String) -> Result<String, DurableError> {
    ctx.create_callback().name(name).await?.await
}

async fn basic(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    await_named(&ctx, name).await
}

async fn explicit_name(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    await_named(&ctx, "approval".to_owned()).await
}

async fn general_timeout(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.create_callback()
        .name(name)
        .timeout(Duration::from_secs(5))
        .await?
        .await
}

async fn heartbeat_timeout(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.create_callback()
        .name(name)
        .heartbeat_timeout(Duration::from_secs(5))
        .await?
        .await
}

async fn heartbeat_then_success(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.create_callback()
        .name(name)
        .heartbeat_timeout(Duration::from_secs(10))
        .await?
        .await
}

async fn step_then_result(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    let callback = ctx
        .create_callback()
        .name(name)
        .timeout(Duration::from_secs(5))
        .await?;
    let callback_id = callback.id().to_owned();
    ctx.step(move |_| async move { Ok::<_, DurableError>(format!("notified {callback_id}")) })
        .await?;
    callback.await
}

/// Creates a callback, waits `wait` and only then awaits the callback.
async fn wait_then_result(
    ctx: &DurableContext,
    name: String,
    timeout: Option<Duration>,
    wait: Duration,
) -> Result<String, DurableError> {
    let mut create = ctx.create_callback().name(name);
    if let Some(timeout) = timeout {
        create = create.timeout(timeout);
    }
    let callback = create.await?;
    ctx.wait(wait).await?;
    callback.await
}

async fn completed_during_wait(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    wait_then_result(&ctx, name, None, Duration::from_secs(5)).await
}

async fn timeout_during_wait(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    let timeout = Some(Duration::from_secs(3));
    wait_then_result(&ctx, name, timeout, Duration::from_secs(6)).await
}

async fn success_then_wait(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    let result = await_named(&ctx, name).await?;
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(result)
}

async fn failure_caught_then_wait(
    name: String,
    ctx: DurableContext,
) -> Result<String, DurableError> {
    let message = match await_named(&ctx, name).await {
        Ok(result) => format!("unexpected success: {result}"),
        Err(error) => format!("callback failed: {}", error.message_text()),
    };
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(message)
}

/// The payload of 4-15 as the external system sends it.
#[derive(Debug, Deserialize)]
struct Notification {
    id: String,
    message: String,
    timestamp: String,
}

/// The payload of 4-15 as the handler sees it: the timestamp in Unix seconds.
#[derive(Debug, Serialize)]
struct Received {
    id: String,
    message: String,
    timestamp: i64,
}

fn payload_error(what: &str, detail: impl std::fmt::Display) -> DurableError {
    DurableError::new("PayloadError", format!("cannot read the {what}: {detail}"))
}

/// Reads a JSON notification and converts its RFC 3339 timestamp to Unix
/// seconds. Only reads: callbacks never serialize their payload.
struct NotificationSerdes;

#[async_trait]
impl Serdes<Received> for NotificationSerdes {
    async fn serialize(
        &self,
        value: &Received,
        _: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        Ok(Some(serde_json::to_string(value)?))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        _: SerdesContext<'_>,
    ) -> Result<Received, DurableError> {
        let raw: Notification = serde_json::from_str(data.unwrap_or("null"))?;
        let timestamp = chrono::DateTime::parse_from_rfc3339(&raw.timestamp)
            .map_err(|e| payload_error("timestamp", e))?
            .timestamp();
        Ok(Received {
            id: raw.id,
            message: raw.message,
            timestamp,
        })
    }
}

async fn custom_serdes(name: String, ctx: DurableContext) -> Result<Value, DurableError> {
    let received = ctx
        .create_callback()
        .name(name)
        .serdes(NotificationSerdes)
        .await?
        .await?;
    Ok(json!({ "received": received }))
}

/// Reads the payload as an integer, with or without JSON quotes around it.
struct CountSerdes;

#[async_trait]
impl Serdes<i64> for CountSerdes {
    async fn serialize(
        &self,
        value: &i64,
        _: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        Ok(Some(value.to_string()))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        _: SerdesContext<'_>,
    ) -> Result<i64, DurableError> {
        let text = data.unwrap_or_default().trim().trim_matches('"');
        text.parse().map_err(|e| payload_error("count", e))
    }
}

async fn numeric_serdes(name: String, ctx: DurableContext) -> Result<Value, DurableError> {
    let count = ctx
        .create_callback()
        .name(name)
        .serdes(CountSerdes)
        .await?
        .await?;
    Ok(json!({ "count": count, "doubled": count * 2 }))
}

async fn sequential(names: [String; 2], ctx: DurableContext) -> Result<Value, DurableError> {
    let [a, b] = names;
    let a = await_named(&ctx, a).await?;
    let b = await_named(&ctx, b).await?;
    Ok(json!({ "a": a, "b": b }))
}

async fn both_in_order(names: [String; 2], ctx: DurableContext) -> Result<Value, DurableError> {
    let [a, b] = names;
    let a = ctx.create_callback().name(a).await?;
    let b = ctx.create_callback().name(b).await?;
    let a = a.await?;
    let b = b.await?;
    Ok(json!({ "a": a, "b": b }))
}

async fn both_reversed(names: [String; 2], ctx: DurableContext) -> Result<Value, DurableError> {
    let [a, b] = names;
    let a = ctx.create_callback().name(a).await?;
    let b = ctx.create_callback().name(b).await?;
    let b = b.await?;
    let a = a.await?;
    Ok(json!({ "a": a, "b": b }))
}

/// Registers the handlers of the callback suite.
pub fn register(registry: &mut HandlerRegistry) {
    registry.register("4-1", DurableFunction::new(basic));
    registry.register("4-2", DurableFunction::new(explicit_name));
    registry.register("4-3", DurableFunction::new(general_timeout));
    registry.register("4-4", DurableFunction::new(heartbeat_timeout));
    registry.register("4-5", DurableFunction::new(heartbeat_then_success));
    registry.register("4-6", DurableFunction::new(basic));
    registry.register("4-8", DurableFunction::new(step_then_result));
    registry.register("4-9", DurableFunction::new(completed_during_wait));
    registry.register("4-10", DurableFunction::new(completed_during_wait));
    registry.register("4-11", DurableFunction::new(timeout_during_wait));
    registry.register("4-12", DurableFunction::new(success_then_wait));
    registry.register("4-13", DurableFunction::new(failure_caught_then_wait));
    registry.register("4-15", DurableFunction::new(custom_serdes));
    registry.register("4-16", DurableFunction::new(numeric_serdes));
    registry.register("4-17", DurableFunction::new(sequential));
    registry.register("4-18", DurableFunction::new(both_in_order));
    registry.register("4-19", DurableFunction::new(both_reversed));
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: SerdesContext<'static> = SerdesContext {
        operation_id: "1",
        execution_arn: "arn",
    };

    #[tokio::test]
    async fn notifications_get_unix_timestamps() {
        let payload = r#"{"id":"a1","message":"hello","timestamp":"2026-01-01T00:00:00.000Z"}"#;
        let received = NotificationSerdes
            .deserialize(Some(payload), CTX)
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&received).unwrap(),
            json!({"id": "a1", "message": "hello", "timestamp": 1_767_225_600})
        );
        let bad = r#"{"id":"a1","message":"hello","timestamp":"yesterday"}"#;
        assert!(
            NotificationSerdes
                .deserialize(Some(bad), CTX)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn counts_are_read_with_or_without_quotes() {
        for payload in ["42", "\"42\"", " 42\n"] {
            assert_eq!(
                CountSerdes.deserialize(Some(payload), CTX).await.unwrap(),
                42
            );
        }
        assert!(CountSerdes.deserialize(Some("many"), CTX).await.is_err());
        assert!(CountSerdes.deserialize(None, CTX).await.is_err());
    }
}
