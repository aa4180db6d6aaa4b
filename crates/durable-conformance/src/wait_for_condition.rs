//! Handlers for the `wait_for_condition` suite (6-x).

use std::time::Duration;

use async_trait::async_trait;
use durable_core::serdes::{Serdes, SerdesContext};
use durable_core::{
    DurableContext, DurableError, DurableFunction, Jitter, WaitDecision, WaitStrategy,
};
use durable_testing::requirements::HandlerRegistry;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Polls every second while the state is below `threshold`.
fn below(threshold: i64) -> WaitStrategy<i64> {
    every(Duration::from_secs(1), move |state: &i64| {
        *state < threshold
    })
}

/// Polls at a fixed `delay` (no backoff, no jitter) while `keep_polling` holds.
fn every<S>(
    delay: Duration,
    keep_polling: impl Fn(&S) -> bool + Send + Sync + 'static,
) -> WaitStrategy<S> {
    WaitStrategy::while_(keep_polling)
        .initial_delay(delay)
        .backoff_rate(1.0)
        .jitter(Jitter::None)
}

/// Counts up from `start` by one per check until `threshold`.
async fn count_up(ctx: &DurableContext, start: i64, threshold: i64) -> Result<i64, DurableError> {
    ctx.wait_for_condition(
        start,
        |state, _| async move { Ok::<_, DurableError>(state + 1) },
    )
    .wait_strategy(below(threshold))
    .await
}

async fn basic(threshold: i64, ctx: DurableContext) -> Result<i64, DurableError> {
    count_up(&ctx, 0, threshold).await
}

async fn already_met(threshold: i64, ctx: DurableContext) -> Result<i64, DurableError> {
    ctx.wait_for_condition(
        5,
        |state: i64, _| async move { Ok::<_, DurableError>(state) },
    )
    .wait_strategy(below(threshold))
    .await
}

async fn named(threshold: i64, ctx: DurableContext) -> Result<i64, DurableError> {
    ctx.wait_for_condition(0, |state: i64, _| async move {
        Ok::<_, DurableError>(state + 1)
    })
    .wait_strategy(below(threshold))
    .name("poll-status")
    .await
}

async fn custom_initial_state(threshold: i64, ctx: DurableContext) -> Result<i64, DurableError> {
    count_up(&ctx, 5, threshold).await
}

async fn fixed_delay(threshold: i64, ctx: DurableContext) -> Result<i64, DurableError> {
    ctx.wait_for_condition(0, |state: i64, _| async move {
        Ok::<_, DurableError>(state + 1)
    })
    .wait_strategy(every(Duration::from_secs(2), move |state: &i64| {
        *state < threshold
    }))
    .await
}

async fn max_attempts(_: Value, ctx: DurableContext) -> Result<i64, DurableError> {
    ctx.wait_for_condition(0, |state: i64, _| async move {
        Ok::<_, DurableError>(state + 1)
    })
    .wait_strategy(every(Duration::from_secs(1), |_: &i64| true).max_attempts(3))
    .await
}

async fn check_fails_caught(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    let outcome = ctx
        .wait_for_condition(0, |_: i64, _| async {
            Err::<i64, _>(DurableError::new(
                "CheckFailed",
                "the status service is down",
            ))
        })
        .wait_strategy(below(1))
        .await;
    Ok(match outcome {
        Ok(state) => format!("unexpected state {state}"),
        Err(_) => "recovered".to_owned(),
    })
}

/// The state of 6-9.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Job {
    status: String,
    attempts: u32,
}

async fn object_state(_: Value, ctx: DurableContext) -> Result<Job, DurableError> {
    let initial = Job {
        status: "PENDING".to_owned(),
        attempts: 0,
    };
    ctx.wait_for_condition(initial, |job: Job, _| async move {
        let attempts = job.attempts + 1;
        let status = if attempts >= 2 { "DONE" } else { "PENDING" };
        Ok::<_, DurableError>(Job {
            status: status.to_owned(),
            attempts,
        })
    })
    .wait_strategy(every(Duration::from_secs(1), |job: &Job| {
        job.status == "PENDING"
    }))
    .await
}

async fn null_result(_: Value, ctx: DurableContext) -> Result<Option<i64>, DurableError> {
    ctx.wait_for_condition(Some(0), |_: Option<i64>, _| async {
        Ok::<_, DurableError>(None)
    })
    .wait_strategy(|_: &Option<i64>, _: u32| WaitDecision::Stop)
    .await
}

/// Records a string state as `len:text`, not as JSON, and checks the length
/// when reading it back.
struct LengthPrefixed;

#[async_trait]
impl Serdes<String> for LengthPrefixed {
    async fn serialize(
        &self,
        value: &String,
        _: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        Ok(Some(format!("{}:{value}", value.len())))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        _: SerdesContext<'_>,
    ) -> Result<String, DurableError> {
        let data = data.unwrap_or("0:");
        let decoded = data
            .split_once(':')
            .filter(|(len, text)| len.parse() == Ok(text.len()));
        match decoded {
            Some((_, text)) => Ok(text.to_owned()),
            None => Err(DurableError::new(
                "StateDecodingError",
                format!("not a length-prefixed state: {data}"),
            )),
        }
    }
}

async fn custom_serdes(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.wait_for_condition(String::new(), |state: String, _| async move {
        Ok::<_, DurableError>(format!("{state}x"))
    })
    .wait_strategy(every(Duration::from_secs(1), |state: &String| {
        state.len() < 2
    }))
    .serdes(LengthPrefixed)
    .await
}

async fn then_step(threshold: i64, ctx: DurableContext) -> Result<i64, DurableError> {
    let reached = count_up(&ctx, 0, threshold).await?;
    ctx.step(move |_| async move { Ok::<_, DurableError>(reached * 10) })
        .await
}

async fn sequential(_: Value, ctx: DurableContext) -> Result<i64, DurableError> {
    let first = count_up(&ctx, 0, 2).await?;
    count_up(&ctx, first, 4).await
}

/// Registers the handlers of the `wait_for_condition` suite.
pub fn register(registry: &mut HandlerRegistry) {
    registry.register("6-1", DurableFunction::new(basic));
    registry.register("6-2", DurableFunction::new(already_met));
    registry.register("6-3", DurableFunction::new(named));
    registry.register("6-4", DurableFunction::new(custom_initial_state));
    registry.register("6-5", DurableFunction::new(fixed_delay));
    registry.register("6-6", DurableFunction::new(max_attempts));
    registry.register("6-8", DurableFunction::new(check_fails_caught));
    registry.register("6-9", DurableFunction::new(object_state));
    registry.register("6-10", DurableFunction::new(null_result));
    registry.register("6-11", DurableFunction::new(custom_serdes));
    registry.register("6-12", DurableFunction::new(then_step));
    registry.register("6-13", DurableFunction::new(sequential));
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: SerdesContext<'static> = SerdesContext {
        operation_id: "1",
        execution_arn: "arn",
    };

    #[tokio::test]
    async fn length_prefixed_states_round_trip() {
        for state in ["", "x", "xx", "a:b"] {
            let encoded = LengthPrefixed
                .serialize(&state.to_owned(), CTX)
                .await
                .unwrap();
            let decoded = LengthPrefixed
                .deserialize(encoded.as_deref(), CTX)
                .await
                .unwrap();
            assert_eq!(decoded, state);
        }
        assert_eq!(LengthPrefixed.deserialize(None, CTX).await.unwrap(), "");
        for corrupt in ["\"xx\"", "3:xx", "x:xx"] {
            assert!(
                LengthPrefixed
                    .deserialize(Some(corrupt), CTX)
                    .await
                    .is_err()
            );
        }
    }

    #[test]
    fn fixed_delay_strategies_poll_at_a_constant_pace() {
        use durable_core::WaitPolicy;
        let strategy = below(3);
        let every_second = WaitDecision::Continue {
            delay: Duration::from_secs(1),
        };
        assert_eq!(strategy.decide(&1, 1).unwrap(), every_second);
        assert_eq!(strategy.decide(&2, 5).unwrap(), every_second);
        assert_eq!(strategy.decide(&3, 6).unwrap(), WaitDecision::Stop);
    }
}
