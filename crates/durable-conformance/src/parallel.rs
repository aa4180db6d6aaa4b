//! Handlers for the `parallel` suite (8-x).

use async_trait::async_trait;
use durable_core::batch::{BatchResult, CompletionConfig};
use durable_core::context::{Branch, Nesting};
use durable_core::serdes::{Serdes, SerdesContext};
use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_testing::requirements::HandlerRegistry;
use serde_json::{Value, json};

/// A branch that returns `value` without an inner operation.
fn returns(value: &'static str) -> Branch<'static, String> {
    Branch::new(move |_| async move { Ok::<_, DurableError>(value.to_owned()) })
}

/// A branch that runs one step returning `value`.
fn step_returns(value: &'static str) -> Branch<'static, String> {
    Branch::new(move |branch: DurableContext| async move {
        branch
            .step(move |_| async move { Ok::<_, DurableError>(value.to_owned()) })
            .await
    })
}

/// A branch that fails.
fn fails(index: usize) -> Branch<'static, String> {
    Branch::new(move |_| async move {
        Err::<String, _>(DurableError::new(
            "BranchFailure",
            format!("branch {index} fails"),
        ))
    })
}

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

async fn basic(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .parallel(vec![step_returns("task-1"), step_returns("task-2")])
        .name("parallel")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

async fn unnamed(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .parallel(vec![returns("alpha"), returns("beta")])
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

async fn named_branches(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .parallel(vec![
            Branch::named("first", |_| async {
                Ok::<_, DurableError>("one".to_owned())
            }),
            Branch::named("second", |_| async {
                Ok::<_, DurableError>("two".to_owned())
            }),
        ])
        .name("named")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

async fn heterogeneous(_: Value, ctx: DurableContext) -> Result<Vec<Value>, DurableError> {
    let batch = ctx
        .parallel(vec![
            Branch::new(|_| async { Ok::<_, DurableError>(json!("hello")) }),
            Branch::new(|_| async { Ok::<_, DurableError>(json!(42)) }),
            Branch::new(|_| async { Ok::<_, DurableError>(json!({"k": "v"})) }),
        ])
        .name("hetero")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

async fn empty(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx.parallel(Vec::new()).name("empty").await?;
    Ok(batch.into_results())
}

async fn fail_fast(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![returns("ok"), fails(1), returns("never")])
        .name("failfast")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(0))
        .await?;
    Ok(projection(&batch))
}

async fn min_successful(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![
            returns("b0"),
            returns("b1"),
            returns("b2"),
            returns("b3"),
        ])
        .name("min-successful")
        .max_concurrency(1)
        .completion(CompletionConfig::default().min_successful(2))
        .await?;
    Ok(json!({
        "completionReason": batch.completion_reason(),
        "successCount": batch.success_count(),
        "totalCount": batch.total_count(),
    }))
}

async fn tolerated(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![returns("b0"), fails(1), returns("b2")])
        .name("tolerated")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(1))
        .await?;
    Ok(projection(&batch))
}

async fn tolerated_exceeded(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![fails(0), fails(1), returns("b2")])
        .name("tolerated-exceeded")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(1))
        .await?;
    Ok(counts(&batch))
}

async fn concurrent(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .parallel(vec![returns("r0"), returns("r1"), returns("r2")])
        .name("concurrent")
        .max_concurrency(2)
        .await?;
    Ok(batch.into_results())
}

async fn flat(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .parallel(vec![step_returns("fa"), step_returns("fb")])
        .name("flat")
        .max_concurrency(1)
        .nesting(Nesting::Flat)
        .await?;
    Ok(batch.into_results())
}

async fn tolerated_percentage_exceeded(
    _: Value,
    ctx: DurableContext,
) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![fails(0), fails(1), returns("b2"), returns("b3")])
        .name("tolerated-pct")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_percentage(25.0))
        .await?;
    Ok(counts(&batch))
}

/// Stores a value `v` as `{"wrapped": v}`.
struct Wrapped;

#[async_trait]
impl Serdes<String> for Wrapped {
    async fn serialize(
        &self,
        value: &String,
        _: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        Ok(Some(json!({ "wrapped": value }).to_string()))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        _: SerdesContext<'_>,
    ) -> Result<String, DurableError> {
        let envelope: Value = serde_json::from_str(data.unwrap_or("null"))?;
        match envelope.get("wrapped") {
            Some(Value::String(value)) => Ok(value.clone()),
            _ => Err(DurableError::new(
                "SerdesError",
                format!("not a wrapped string: {envelope}"),
            )),
        }
    }
}

async fn item_serdes(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .parallel(vec![returns("x"), returns("y")])
        .name("serde")
        .max_concurrency(1)
        .item_serdes(Wrapped)
        .await?;
    Ok(batch.into_results())
}

async fn all_fail(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![fails(0), fails(1), fails(2)])
        .name("all-fail")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(3))
        .await?;
    Ok(projection(&batch))
}

async fn min_not_reached(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![returns("b0"), fails(1), returns("b2")])
        .name("min-not-reached")
        .max_concurrency(1)
        .completion(CompletionConfig::default().min_successful(3))
        .await?;
    Ok(projection(&batch))
}

async fn combined(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![fails(0), fails(1), returns("b2"), returns("b3")])
        .name("combined")
        .max_concurrency(1)
        .completion(
            CompletionConfig::default()
                .min_successful(3)
                .tolerated_failure_count(1),
        )
        .await?;
    Ok(counts(&batch))
}

async fn invalid_concurrency(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let batch = ctx
        .parallel(vec![returns("b0"), returns("b1")])
        .name("bad-concurrency")
        .max_concurrency(0)
        .await?;
    Ok(batch.into_results())
}

async fn accessors(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![returns("b0"), fails(1), returns("b2")])
        .name("accessors")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_count(1))
        .await?;
    Ok(json!({
        "hasFailure": batch.has_failure(),
        "successCount": batch.succeeded().count(),
        "failureCount": batch.failed().count(),
        "errorCount": batch.errors().len(),
    }))
}

async fn percentage_boundary(_: Value, ctx: DurableContext) -> Result<Value, DurableError> {
    let batch = ctx
        .parallel(vec![fails(0), returns("b1"), returns("b2"), returns("b3")])
        .name("pct-boundary")
        .max_concurrency(1)
        .completion(CompletionConfig::default().tolerated_failure_percentage(25.0))
        .await?;
    Ok(projection(&batch))
}

/// Registers the handlers of the `parallel` suite.
pub fn register(registry: &mut HandlerRegistry) {
    registry.register("8-1", DurableFunction::new(basic));
    registry.register("8-2", DurableFunction::new(unnamed));
    registry.register("8-3", DurableFunction::new(named_branches));
    registry.register("8-4", DurableFunction::new(heterogeneous));
    registry.register("8-5", DurableFunction::new(empty));
    registry.register("8-6", DurableFunction::new(fail_fast));
    registry.register("8-8", DurableFunction::new(min_successful));
    registry.register("8-9", DurableFunction::new(tolerated));
    registry.register("8-10", DurableFunction::new(tolerated_exceeded));
    registry.register("8-11", DurableFunction::new(concurrent));
    registry.register("8-12", DurableFunction::new(flat));
    registry.register("8-13", DurableFunction::new(tolerated_percentage_exceeded));
    registry.register("8-15", DurableFunction::new(item_serdes));
    registry.register("8-16", DurableFunction::new(all_fail));
    registry.register("8-17", DurableFunction::new(min_not_reached));
    registry.register("8-18", DurableFunction::new(combined));
    registry.register("8-19", DurableFunction::new(invalid_concurrency));
    registry.register("8-20", DurableFunction::new(accessors));
    registry.register("8-22", DurableFunction::new(percentage_boundary));
}
