//! Handlers for the `map` suite (9-x).

use std::time::Duration;

use async_trait::async_trait;
use durable_core::batch::{BatchResult, CompletionConfig};
use durable_core::context::Nesting;
use durable_core::serdes::{Serdes, SerdesContext};
use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_testing::requirements::HandlerRegistry;
use serde_json::{Value, json};

/// `{completionReason, successCount, failureCount, totalCount}`.
fn counts<T>(batch: &BatchResult<T>) -> Value {
    json!({
        "completionReason": batch.completion_reason(),
        "successCount": batch.success_count(),
        "failureCount": batch.failure_count(),
        "totalCount": batch.total_count(),
    })
}

/// [`counts`] and `status`.
fn projection<T>(batch: &BatchResult<T>) -> Value {
    let mut projection = counts(batch);
    projection["status"] = json!(batch.status());
    projection
}

/// Items `"ok"` succeed (returning themselves), others fail.
async fn ok_or_fail(
    _: DurableContext,
    item: &'static str,
    index: usize,
) -> Result<String, DurableError> {
    if item == "ok" {
        Ok(item.to_owned())
    } else {
        Err(DurableError::new(
            "ItemFailure",
            format!("item {index} ({item}) fails"),
        ))
    }
}

async fn basic(items: Vec<String>, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .map(items, |item_ctx, item: String, _| async move {
            item_ctx
                .step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {item}!")) })
                .await
        })
        .name("map")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

async fn unnamed(items: Vec<i64>, ctx: DurableContext) -> Result<Vec<i64>, DurableError> {
    let batch = ctx
        .map(items, |_, item: i64, _| async move {
            Ok::<_, DurableError>(item * 2)
        })
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

async fn indexed(items: Vec<i64>, ctx: DurableContext) -> Result<Vec<i64>, DurableError> {
    let batch = ctx
        .map(items, |_, item: i64, index| async move {
            let index =
                i64::try_from(index).map_err(|e| DurableError::new("Overflow", e.to_string()))?;
            Ok::<_, DurableError>(item + index)
        })
        .name("indexed")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

async fn empty(items: Vec<Value>, ctx: DurableContext) -> Result<Vec<Value>, DurableError> {
    let batch = ctx
        .map(items, |_, item: Value, _| async move {
            Ok::<_, DurableError>(item)
        })
        .name("empty")
        .await?;
    Ok(batch.into_results())
}

async fn fail_fast(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .map(vec!["ok", "fail", "ok"], ok_or_fail)
        .name("failfast")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(0))
        .await?;
    Ok(projection(&batch))
}

async fn throw_if_error(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .map(vec!["fail", "ok"], ok_or_fail)
        .name("throwing")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(0))
        .await?;
    batch.throw_if_error()?;
    Ok(projection(&batch))
}

async fn tolerated(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .map(vec!["ok", "fail", "ok"], ok_or_fail)
        .name("tolerated")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(1))
        .await?;
    Ok(projection(&batch))
}

async fn tolerated_exceeded(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .map(vec!["fail", "fail", "ok"], ok_or_fail)
        .name("tolerated-exceeded")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(1))
        .await?;
    Ok(counts(&batch))
}

async fn tolerated_percentage_exceeded(
    _: Value,
    ctx: DurableContext,
) -> Result<Value, DurableError> {
    let batch = ctx
        .map(vec!["fail", "fail", "ok", "ok"], ok_or_fail)
        .name("tolerated-pct")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_percentage(25.0))
        .await?;
    Ok(counts(&batch))
}

async fn concurrent(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .map(vec!["r0", "r1", "r2"], |_, item: &str, _| async move {
            Ok::<_, DurableError>(item.to_owned())
        })
        .name("concurrent")
        .max_concurrency(2)
        .await?;
    Ok(batch.into_results())
}

async fn flat(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .map(vec!["fa", "fb"], |item_ctx, item: &str, _| async move {
            item_ctx
                .step(move |_| async move { Ok::<_, DurableError>(item.to_owned()) })
                .await
        })
        .name("flat")
        .max_concurrency(1)
        .nesting(Nesting::Flat)
        .await?;
    Ok(batch.into_results())
}

async fn item_namer(items: Vec<i64>, ctx: DurableContext) -> Result<Vec<i64>, DurableError> {
    let batch = ctx
        .map(items, |_, item: i64, _| async move {
            Ok::<_, DurableError>(item * 10)
        })
        .name("named-items")
        .max_concurrency(1)
        .item_namer(|item, _| format!("item-{item}"))
        .await?;
    Ok(batch.into_results())
}

async fn suspend_inside(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .map(vec!["r0", "r1"], |item_ctx, item: &str, index| async move {
            if index == 1 {
                item_ctx.wait(Duration::from_secs(1)).await?;
            }
            item_ctx
                .step(move |_| async move { Ok::<_, DurableError>(item.to_owned()) })
                .await
        })
        .name("suspend")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

async fn large_result(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .map(vec![0_usize, 1, 2, 3], |_, item: usize, _| async move {
            Ok::<_, DurableError>(item.to_string().repeat(70 * 1024))
        })
        .name("large")
        .max_concurrency(1)
        .await?;
    Ok(json!({
        "successCount": batch.success_count(),
        "totalCount": batch.total_count(),
    }))
}

async fn uppercase(
    _: DurableContext,
    item: &'static str,
    _: usize,
) -> Result<String, DurableError> {
    Ok(item.to_uppercase())
}

async fn wait_after(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .map(vec!["a", "b"], uppercase)
        .name("then-wait")
        .max_concurrency(1)
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(batch.into_results())
}

async fn failure_then_wait(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .map(vec!["ok", "fail"], ok_or_fail)
        .name("fail-then-wait")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(1))
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(projection(&batch))
}

/// Stores a batch of strings as `OPSERDE:` and the comma-joined results of
/// its succeeded items; reads it back as a batch of those items.
struct OpSerdes;

const OPSERDE_PREFIX: &str = "OPSERDE:";

#[async_trait]
impl Serdes<BatchResult<String>> for OpSerdes {
    async fn serialize(
        &self,
        value: &BatchResult<String>,
        _: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        let joined: Vec<&str> = value.results().into_iter().map(String::as_str).collect();
        Ok(Some(format!("{OPSERDE_PREFIX}{}", joined.join(","))))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        _: SerdesContext<'_>,
    ) -> Result<BatchResult<String>, DurableError> {
        let data = data.unwrap_or_default();
        let joined = data.strip_prefix(OPSERDE_PREFIX).ok_or_else(|| {
            DurableError::new("SerdesError", format!("not an OPSERDE payload: {data}"))
        })?;
        let all: Vec<Value> = joined
            .split(',')
            .filter(|result| !result.is_empty())
            .enumerate()
            .map(|(index, result)| json!({"index": index, "status": "SUCCEEDED", "result": result}))
            .collect();
        Ok(serde_json::from_value(
            json!({"all": all, "completionReason": "ALL_COMPLETED"}),
        )?)
    }
}

async fn operation_serdes(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .map(vec!["x", "y"], uppercase)
        .name("op-serde")
        .max_concurrency(1)
        .serdes(OpSerdes)
        .await?;
    Ok(batch.into_results())
}

async fn operation_serdes_replay(
    _: Value,
    ctx: DurableContext,
) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .map(vec!["x", "y"], uppercase)
        .name("op-serde-replay")
        .max_concurrency(1)
        .serdes(OpSerdes)
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(batch.into_results())
}

/// Registers the handlers of the `map` suite.
pub fn register(registry: &mut HandlerRegistry) {
    registry.register("9-1", DurableFunction::new(basic));
    registry.register("9-2", DurableFunction::new(unnamed));
    registry.register("9-3", DurableFunction::new(indexed));
    registry.register("9-4", DurableFunction::new(empty));
    registry.register("9-5", DurableFunction::new(fail_fast));
    registry.register("9-6", DurableFunction::new(throw_if_error));
    registry.register("9-8", DurableFunction::new(tolerated));
    registry.register("9-9", DurableFunction::new(tolerated_exceeded));
    registry.register("9-10", DurableFunction::new(tolerated_percentage_exceeded));
    registry.register("9-11", DurableFunction::new(concurrent));
    registry.register("9-12", DurableFunction::new(flat));
    registry.register("9-13", DurableFunction::new(item_namer));
    registry.register("9-15", DurableFunction::new(suspend_inside));
    registry.register("9-16", DurableFunction::new(large_result));
    registry.register("9-17", DurableFunction::new(wait_after));
    registry.register("9-18", DurableFunction::new(failure_then_wait));
    registry.register("9-19", DurableFunction::new(operation_serdes));
    registry.register("9-20", DurableFunction::new(operation_serdes_replay));
}
