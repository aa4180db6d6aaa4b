//! Edge cases of every operation, end to end on the local runner: the cases
//! a user hits first when a retry, a timer, a callback or a batch does not
//! go the happy way.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use durable_core::batch::{BatchItemStatus, CompletionConfig, CompletionReason};
use durable_core::context::Branch;
use durable_core::model::{
    ErrorObject, EventType, ExecutionStatus, OperationStatus, OperationSubType, OperationType,
};
use durable_core::service::{CALLBACK_HEARTBEAT_ERROR, CALLBACK_TIMEOUT_ERROR, ServiceError};
use durable_core::{
    DurableContext, DurableError, DurableFunction, Jitter, RetryDecision, RetryStrategy, Serdes,
    SerdesContext, WaitDecision, WaitStrategy,
};
use durable_testing::runner::FUNCTION_NOT_FOUND_ERROR;
use durable_testing::{ExecutionSnapshot, LocalRunner, RunnerError};
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// Things a workflow saw, one entry per invocation or per call.
#[derive(Clone, Default)]
struct Seen<T>(Arc<Mutex<Vec<T>>>);

impl<T: Clone> Seen<T> {
    fn push(&self, value: T) {
        self.0.lock().unwrap().push(value);
    }

    fn all(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }
}

async fn run(function: DurableFunction) -> ExecutionSnapshot {
    let runner = LocalRunner::new();
    runner.register("wf", function);
    runner
        .run("wf", None)
        .await
        .expect("the runner drives the execution")
}

/// Runs the execution as if nobody outside will ever act (timers and
/// callback deadlines fire).
async fn run_to_completion(function: DurableFunction) -> ExecutionSnapshot {
    let runner = LocalRunner::new();
    runner.register("wf", function);
    let arn = runner.start("wf", None).await.unwrap();
    runner
        .run_to_completion(&arn)
        .await
        .expect("the runner drives the execution")
}

/// The execution's result, which must have succeeded.
fn result(snapshot: &ExecutionSnapshot) -> Value {
    assert_eq!(
        snapshot.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        snapshot.error
    );
    serde_json::from_str(snapshot.result.as_deref().unwrap()).unwrap()
}

/// What the workflow code sees of an error.
fn describe(error: &DurableError) -> Value {
    json!({
        "kind": format!("{:?}", error.kind()),
        "type": error.error_type(),
        "message": error.message_text(),
    })
}

fn operations_of(snapshot: &ExecutionSnapshot, sub_type: &OperationSubType) -> usize {
    snapshot
        .operations
        .iter()
        .filter(|op| op.sub_type.as_ref() == Some(sub_type))
        .count()
}

/// The workflow expected an error and got a value.
fn expected_an_error() -> DurableError {
    DurableError::new("TestExpectation", "the operation should have failed")
}

/// A typed Rust error, converted into `DurableError` with `?` or `Into`.
#[derive(Debug)]
struct QuotaExceeded {
    limit: u32,
}

impl fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "quota of {} exceeded", self.limit)
    }
}

impl std::error::Error for QuotaExceeded {}

/// Another error type, to check that `is` tells them apart.
#[derive(Debug)]
struct Unrelated;

impl fmt::Display for Unrelated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unrelated")
    }
}

impl std::error::Error for Unrelated {}

// ---------------------------------------------------------------- step

#[tokio::test]
async fn step_retry_closure_gets_attempts_one_two_three_in_order() {
    let decided: Seen<u32> = Seen::default();
    let ran: Seen<u32> = Seen::default();
    let (decided_in, ran_in) = (decided.clone(), ran.clone());
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let (decided, ran) = (decided_in.clone(), ran_in.clone());
        async move {
            let outcome: Result<u32, DurableError> = ctx
                .step(move |step| async move {
                    ran.push(step.attempt());
                    Err::<u32, _>(DurableError::new(
                        "Flaky",
                        format!("attempt {}", step.attempt()),
                    ))
                })
                .retry(move |_: &DurableError, attempt: u32| {
                    decided.push(attempt);
                    if attempt < 3 {
                        RetryDecision::Retry {
                            delay: Duration::from_secs(1),
                        }
                    } else {
                        RetryDecision::Stop
                    }
                })
                .await;
            let error = outcome.err().ok_or_else(expected_an_error)?;
            Ok::<_, DurableError>(describe(&error))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(
        decided.all(),
        [1, 2, 3],
        "the policy sees each failed attempt once, in order"
    );
    assert_eq!(
        ran.all(),
        [1, 2, 3],
        "the body sees the same attempt numbers"
    );
    assert_eq!(
        result(&snapshot),
        json!({"kind": "Step", "type": "Flaky", "message": "attempt 3"}),
        "the step fails with the last attempt's error"
    );
    let step = snapshot.operation("1").unwrap();
    assert_eq!(step.status, OperationStatus::Failed);
    assert_eq!(step.step_details.as_ref().unwrap().attempt, 3);
}

#[tokio::test]
async fn retry_strategy_none_fails_after_exactly_one_run() {
    let runs = counter();
    let seen = Arc::clone(&runs);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let runs = Arc::clone(&seen);
        async move {
            let outcome: Result<u32, DurableError> = ctx
                .step(move |_| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Err::<u32, _>(DurableError::new("Permanent", "no point trying again"))
                })
                .retry(RetryStrategy::none())
                .await;
            let error = outcome.err().ok_or_else(expected_an_error)?;
            Ok::<_, DurableError>(describe(&error))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(
        snapshot.invocations, 1,
        "no retry timer, no second invocation"
    );
    assert_eq!(
        result(&snapshot),
        json!({"kind": "Step", "type": "Permanent", "message": "no point trying again"})
    );
    let step = snapshot.operation("1").unwrap();
    assert_eq!(step.status, OperationStatus::Failed);
    assert_eq!(step.step_details.as_ref().unwrap().attempt, 1);
}

#[tokio::test]
async fn converted_error_keeps_its_type_on_replay() {
    let runs = counter();
    let seen: Seen<Value> = Seen::default();
    let (runs_in, seen_in) = (Arc::clone(&runs), seen.clone());
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let (runs, seen) = (Arc::clone(&runs_in), seen_in.clone());
        async move {
            let outcome: Result<u32, DurableError> = ctx
                .step(move |_| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Err::<u32, _>(QuotaExceeded { limit: 10 })
                })
                .retry(RetryStrategy::none())
                .await;
            let error = outcome.err().ok_or_else(expected_an_error)?;
            seen.push(json!({
                "is_quota": error.is::<QuotaExceeded>(),
                "is_unrelated": error.is::<Unrelated>(),
                "kind": format!("{:?}", error.kind()),
                "type": error.error_type(),
                "message": error.message_text(),
            }));
            // A second invocation replays the step's recorded failure.
            ctx.wait(Duration::from_secs(1)).await
        }
    });
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    assert_eq!(snapshot.invocations, 2);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the step ran again on replay"
    );
    let expected = json!({
        "is_quota": true,
        "is_unrelated": false,
        "kind": "Step",
        "type": std::any::type_name::<QuotaExceeded>(),
        "message": "quota of 10 exceeded",
    });
    assert_eq!(
        seen.all(),
        [expected.clone(), expected],
        "live and replayed errors"
    );
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

/// Records a point as `x;y`, not as JSON.
struct PointSerdes;

#[async_trait]
impl Serdes<Point> for PointSerdes {
    async fn serialize(
        &self,
        value: &Point,
        _: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        Ok(Some(format!("{};{}", value.x, value.y)))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        _: SerdesContext<'_>,
    ) -> Result<Point, DurableError> {
        let bad = || DurableError::new("BadPoint", format!("not a point: {data:?}"));
        let (x, y) = data.and_then(|d| d.split_once(';')).ok_or_else(bad)?;
        Ok(Point {
            x: x.parse().map_err(|_| bad())?,
            y: y.parse().map_err(|_| bad())?,
        })
    }
}

#[tokio::test]
async fn step_with_custom_serdes_round_trips_live_and_on_replay() {
    let runs = counter();
    let seen: Seen<(i32, i32)> = Seen::default();
    let (runs_in, seen_in) = (Arc::clone(&runs), seen.clone());
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let (runs, seen) = (Arc::clone(&runs_in), seen_in.clone());
        async move {
            // JSON would record `{"x":3,"y":-4}`; the custom serdes records `3;-4`.
            let point = ctx
                .step(move |_| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, DurableError>(Point { x: 3, y: -4 })
                })
                .serdes(PointSerdes)
                .await?;
            seen.push((point.x, point.y));
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, DurableError>(point.x * 10 + point.y)
        }
    });
    let snapshot = run(function).await;
    assert_eq!(result(&snapshot), json!(26));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(seen.all(), [(3, -4), (3, -4)], "live and replayed values");
    let step = snapshot.operation("1").unwrap();
    assert_eq!(
        step.step_details.as_ref().unwrap().result.as_deref(),
        Some("3;-4"),
        "recorded through the custom serdes"
    );
}

// ---------------------------------------------------------------- wait

#[tokio::test]
async fn sub_second_wait_rounds_up_to_one_second() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.wait(Duration::from_millis(200)).await?;
        ctx.wait(Duration::ZERO).await?;
        ctx.wait(Duration::from_millis(1500)).await
    });
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    let scheduled = |id: &str| {
        let wait = snapshot.operation(id).unwrap();
        assert_eq!(wait.operation_type, OperationType::Wait);
        let end = wait
            .wait_details
            .as_ref()
            .and_then(|d| d.scheduled_end_timestamp)
            .unwrap();
        end.since(wait.start_timestamp)
    };
    assert_eq!(scheduled("1"), Duration::from_millis(1000), "200 ms");
    assert_eq!(scheduled("2"), Duration::from_millis(1000), "zero");
    assert_eq!(
        scheduled("3"),
        Duration::from_millis(2000),
        "1.5 s rounds up"
    );
}

#[tokio::test]
async fn named_wait_keeps_its_name_in_history() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.wait(Duration::from_secs(5)).name("cool-down").await
    });
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    assert_eq!(
        snapshot.operation("1").unwrap().name.as_deref(),
        Some("cool-down")
    );
    let events: Vec<(EventType, Option<&str>)> = snapshot
        .history
        .iter()
        .filter(|event| event.id.as_deref() == Some("1"))
        .map(|event| (event.event_type, event.name.as_deref()))
        .collect();
    assert_eq!(
        events,
        [
            (EventType::WaitStarted, Some("cool-down")),
            (EventType::WaitSucceeded, Some("cool-down")),
        ]
    );
}

// ---------------------------------------------------------------- callbacks

/// Creates a callback with `configure`, awaits it and returns the error the
/// workflow caught (or the payload it got).
fn awaiting_callback(
    configure: fn(
        durable_core::context::CreateCallback<String>,
    ) -> durable_core::context::CreateCallback<String>,
) -> DurableFunction {
    DurableFunction::new(move |(): (), ctx: DurableContext| async move {
        let callback = configure(ctx.create_callback().name("approval")).await?;
        match callback.await {
            Ok(payload) => Ok::<_, DurableError>(json!({"payload": payload})),
            Err(error) => Ok(describe(&error)),
        }
    })
}

#[tokio::test]
async fn callback_timeout_is_a_callback_error() {
    let function = awaiting_callback(|c| c.timeout(Duration::from_secs(60)));
    let snapshot = run_to_completion(function).await;
    let caught = result(&snapshot);
    assert_eq!(caught["kind"], "Callback");
    assert_eq!(caught["type"], CALLBACK_TIMEOUT_ERROR);
    assert_eq!(CALLBACK_TIMEOUT_ERROR, "Callback.Timeout");
    let callback = snapshot.operation("1").unwrap();
    assert_eq!(callback.status, OperationStatus::TimedOut);
    assert_eq!(
        callback
            .end_timestamp
            .unwrap()
            .since(callback.start_timestamp),
        Duration::from_secs(60)
    );
}

#[tokio::test]
async fn wait_for_callback_timeout_is_a_callback_error() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let outcome: Result<String, DurableError> = ctx
            .wait_for_callback(|_, _| async { Ok::<_, DurableError>(()) })
            .name("approval")
            .timeout(Duration::from_secs(60))
            .await;
        let error = outcome.err().ok_or_else(expected_an_error)?;
        Ok::<_, DurableError>(describe(&error))
    });
    let snapshot = run_to_completion(function).await;
    let caught = result(&snapshot);
    assert_eq!(caught["kind"], "Callback");
    assert_eq!(caught["type"], CALLBACK_TIMEOUT_ERROR);
    let callback = snapshot.operation("1-1").unwrap();
    assert_eq!(callback.operation_type, OperationType::Callback);
    assert_eq!(callback.status, OperationStatus::TimedOut);
    assert_eq!(
        snapshot.operation("1").unwrap().status,
        OperationStatus::Failed
    );
}

#[tokio::test]
async fn callback_heartbeat_timeout_is_a_callback_error_and_heartbeats_extend_it() {
    let runner = LocalRunner::new();
    runner.register(
        "wf",
        awaiting_callback(|c| {
            c.timeout(Duration::from_secs(3600))
                .heartbeat_timeout(Duration::from_secs(10))
        }),
    );
    let arn = runner.start("wf", None).await.unwrap();
    let idle = runner.run_until_idle(&arn).await.unwrap();
    assert_eq!(idle.status, ExecutionStatus::Running);
    let id = idle.callback_id("approval").unwrap().to_owned();
    // A heartbeat 8 s in moves the heartbeat deadline to 18 s.
    runner.advance(Duration::from_secs(8)).await.unwrap();
    runner.send_callback_heartbeat(&id).await.unwrap();
    runner.advance(Duration::from_secs(8)).await.unwrap();
    let alive = runner.describe(&arn).unwrap();
    assert_eq!(
        alive.operation("1").unwrap().status,
        OperationStatus::Started,
        "16 s in, 8 s after the heartbeat"
    );
    let snapshot = runner.run_to_completion(&arn).await.unwrap();
    let caught = result(&snapshot);
    assert_eq!(caught["kind"], "Callback");
    assert_eq!(caught["type"], CALLBACK_HEARTBEAT_ERROR);
    let callback = snapshot.operation("1").unwrap();
    assert_eq!(callback.status, OperationStatus::TimedOut);
    assert_eq!(
        callback
            .end_timestamp
            .unwrap()
            .since(callback.start_timestamp),
        Duration::from_secs(18),
        "timed out 10 s after the last heartbeat, long before the overall timeout"
    );
}

#[tokio::test]
async fn external_failure_is_a_callback_error_with_the_senders_error() {
    let runner = LocalRunner::new();
    runner.register("wf", awaiting_callback(|c| c));
    let arn = runner.start("wf", None).await.unwrap();
    let idle = runner.run_until_idle(&arn).await.unwrap();
    let id = idle.callback_id("approval").unwrap().to_owned();
    runner
        .send_callback_failure(&id, ErrorObject::new("Rejected", "legal said no"))
        .await
        .unwrap();
    let snapshot = runner.run_until_idle(&arn).await.unwrap();
    assert_eq!(
        result(&snapshot),
        json!({"kind": "Callback", "type": "Rejected", "message": "legal said no"})
    );
    assert_eq!(
        snapshot.operation("1").unwrap().status,
        OperationStatus::Failed
    );
}

#[tokio::test]
async fn failing_submitter_exhausts_its_retry_and_fails_wait_for_callback() {
    let runs = counter();
    let seen = Arc::clone(&runs);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let runs = Arc::clone(&seen);
        async move {
            let outcome: Result<String, DurableError> = ctx
                .wait_for_callback(move |_callback_id, _| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Err::<(), _>(DurableError::new("MailDown", "smtp unreachable"))
                })
                .name("approval")
                .retry(
                    RetryStrategy::exponential()
                        .max_attempts(3)
                        .initial_delay(Duration::from_secs(1))
                        .jitter(Jitter::None),
                )
                .await;
            let error = outcome.err().ok_or_else(expected_an_error)?;
            Ok::<_, DurableError>(describe(&error))
        }
    });
    let snapshot = run_to_completion(function).await;
    assert_eq!(runs.load(Ordering::SeqCst), 3, "one run per attempt");
    assert_eq!(
        result(&snapshot),
        json!({"kind": "Callback", "type": "MailDown", "message": "smtp unreachable"})
    );
    let outer = snapshot.operation("1").unwrap();
    assert_eq!(outer.sub_type, Some(OperationSubType::WaitForCallback));
    assert_eq!(outer.status, OperationStatus::Failed);
    let submitter = snapshot.operation("1-2").unwrap();
    assert_eq!(submitter.status, OperationStatus::Failed);
    assert_eq!(submitter.step_details.as_ref().unwrap().attempt, 3);
}

#[tokio::test]
async fn unreadable_callback_payload_is_a_catchable_callback_error() {
    let seen: Seen<Value> = Seen::default();
    let seen_in = seen.clone();
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let seen = seen_in.clone();
        async move {
            let callback = ctx.create_callback().name("approval").json::<u32>().await?;
            let error = callback.await.err().ok_or_else(expected_an_error)?;
            seen.push(json!({
                "kind": format!("{:?}", error.kind()),
                "unreadable": error.message_text().contains("cannot read"),
            }));
            // The workflow goes on; a later invocation replays the callback.
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, DurableError>("recovered")
        }
    });
    let runner = LocalRunner::new();
    runner.register("wf", function);
    let arn = runner.start("wf", None).await.unwrap();
    let idle = runner.run_until_idle(&arn).await.unwrap();
    let id = idle.callback_id("approval").unwrap().to_owned();
    runner
        .send_callback_success(&id, "not a number")
        .await
        .unwrap();
    let snapshot = runner.run_until_idle(&arn).await.unwrap();
    assert_eq!(result(&snapshot), json!("recovered"));
    let expected = json!({"kind": "Callback", "unreadable": true});
    assert_eq!(
        seen.all(),
        [expected.clone(), expected],
        "live and replayed"
    );
}

#[tokio::test]
async fn unreadable_wait_for_callback_payload_is_a_catchable_callback_error() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let outcome: Result<u32, DurableError> = ctx
            .wait_for_callback(|_, _| async { Ok::<_, DurableError>(()) })
            .name("approval")
            .json::<u32>()
            .await;
        let error = outcome.err().ok_or_else(expected_an_error)?;
        let after: u32 = ctx
            .step(|_| async { Ok::<_, DurableError>(1) })
            .name("after")
            .await?;
        Ok::<_, DurableError>(json!({
            "kind": format!("{:?}", error.kind()),
            "unreadable": error.message_text().contains("cannot read"),
            "after": after,
        }))
    });
    let runner = LocalRunner::new();
    runner.register("wf", function);
    let arn = runner.start("wf", None).await.unwrap();
    let idle = runner.run_until_idle(&arn).await.unwrap();
    // The callback inside `wait_for_callback` is unnamed: find it by type.
    let id = idle
        .operations
        .iter()
        .find(|op| op.operation_type == OperationType::Callback)
        .and_then(|op| op.callback_details.as_ref()?.callback_id.clone())
        .unwrap();
    runner.send_callback_success(&id, "{oops").await.unwrap();
    let snapshot = runner.run_until_idle(&arn).await.unwrap();
    assert_eq!(
        result(&snapshot),
        json!({"kind": "Callback", "unreadable": true, "after": 1})
    );
}

#[tokio::test]
async fn unknown_callback_id_is_a_clear_error() {
    let runner = LocalRunner::new();
    runner.register("wf", awaiting_callback(|c| c));
    let error = runner
        .send_callback_success("no-such-callback", "x")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            RunnerError::Service(ServiceError::CallbackNotFound { callback_id })
                if callback_id == "no-such-callback"
        ),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "callback \"no-such-callback\" not found");

    // A well-formed id of another store's execution is unknown here too.
    let elsewhere = LocalRunner::new();
    elsewhere.register("wf", awaiting_callback(|c| c));
    let idle = elsewhere.run("wf", None).await.unwrap();
    let foreign = idle.callback_id("approval").unwrap();
    let error = runner
        .send_callback_success(foreign, "x")
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RunnerError::Service(ServiceError::CallbackNotFound { .. })
        ),
        "{error:?}"
    );

    // A callback that already completed is not active any more.
    elsewhere
        .send_callback_success(foreign, "yes")
        .await
        .unwrap();
    let error = elsewhere
        .send_callback_success(foreign, "again")
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RunnerError::Service(ServiceError::CallbackNotActive {
                status: OperationStatus::Succeeded,
                ..
            })
        ),
        "{error:?}"
    );
}

// ---------------------------------------------------------------- wait_for_condition

#[tokio::test]
async fn wait_for_condition_without_a_strategy_is_invalid_config() {
    let checks = counter();
    let seen = Arc::clone(&checks);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let checks = Arc::clone(&seen);
        async move {
            let outcome: Result<u32, DurableError> = ctx
                .wait_for_condition(0_u32, move |n, _| async move {
                    checks.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, DurableError>(n + 1)
                })
                .name("poll")
                .await;
            let error = outcome.err().ok_or_else(expected_an_error)?;
            Ok::<_, DurableError>(format!("{:?}", error.kind()))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(result(&snapshot), json!("InvalidConfig"));
    assert_eq!(
        checks.load(Ordering::SeqCst),
        0,
        "no check without a strategy"
    );
    assert_eq!(
        operations_of(&snapshot, &OperationSubType::WaitForCondition),
        0,
        "nothing recorded"
    );
}

#[tokio::test]
async fn exhausted_wait_strategy_fails_with_max_attempts_exceeded() {
    let checks = counter();
    let seen = Arc::clone(&checks);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let checks = Arc::clone(&seen);
        async move {
            let outcome: Result<u32, DurableError> = ctx
                .wait_for_condition(0_u32, move |n, _| async move {
                    checks.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, DurableError>(n + 1)
                })
                .wait_strategy(
                    WaitStrategy::while_(|_: &u32| true)
                        .max_attempts(3)
                        .initial_delay(Duration::from_secs(1))
                        .jitter(Jitter::None),
                )
                .await;
            let error = outcome.err().ok_or_else(expected_an_error)?;
            Ok::<_, DurableError>(describe(&error))
        }
    });
    let snapshot = run(function).await;
    let caught = result(&snapshot);
    assert_eq!(caught["kind"], "WaitForCondition");
    assert_eq!(caught["type"], "WaitForConditionMaxAttemptsExceeded");
    assert_eq!(checks.load(Ordering::SeqCst), 3);
    let op = snapshot.operation("1").unwrap();
    assert_eq!(op.status, OperationStatus::Failed);
    assert_eq!(op.sub_type, Some(OperationSubType::WaitForCondition));
}

#[tokio::test]
async fn wait_for_condition_check_failing_on_the_first_call_fails_the_operation() {
    let checks = counter();
    let decisions = counter();
    let (checks_in, decisions_in) = (Arc::clone(&checks), Arc::clone(&decisions));
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let (checks, decisions) = (Arc::clone(&checks_in), Arc::clone(&decisions_in));
        async move {
            let outcome: Result<u32, DurableError> = ctx
                .wait_for_condition(0_u32, move |_, _| async move {
                    checks.fetch_add(1, Ordering::SeqCst);
                    Err::<u32, _>(DurableError::new("ProbeFailed", "status endpoint down"))
                })
                .wait_strategy(move |_: &u32, _: u32| {
                    decisions.fetch_add(1, Ordering::SeqCst);
                    WaitDecision::Continue {
                        delay: Duration::from_secs(1),
                    }
                })
                .await;
            let error = outcome.err().ok_or_else(expected_an_error)?;
            Ok::<_, DurableError>(describe(&error))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({"kind": "WaitForCondition", "type": "ProbeFailed", "message": "status endpoint down"})
    );
    assert_eq!(
        checks.load(Ordering::SeqCst),
        1,
        "a failing check is not retried"
    );
    assert_eq!(decisions.load(Ordering::SeqCst), 0, "nothing to decide on");
    assert_eq!(snapshot.invocations, 1);
    assert_eq!(
        snapshot.operation("1").unwrap().status,
        OperationStatus::Failed
    );
}

// ---------------------------------------------------------------- invoke

#[tokio::test]
async fn invoke_of_an_unregistered_function_is_an_invoke_error() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let outcome: Result<String, DurableError> = ctx.invoke("nobody-home", 7_u32).await;
        let error = outcome.err().ok_or_else(expected_an_error)?;
        Ok::<_, DurableError>(describe(&error))
    });
    let snapshot = run(function).await;
    let caught = result(&snapshot);
    assert_eq!(caught["kind"], "Invoke");
    assert_eq!(caught["type"], FUNCTION_NOT_FOUND_ERROR);
    assert!(
        caught["message"].as_str().unwrap().contains("nobody-home"),
        "{caught}"
    );
    assert_eq!(
        snapshot.operation("1").unwrap().status,
        OperationStatus::Failed
    );
}

#[tokio::test]
async fn invoke_target_failure_is_an_invoke_error_with_the_targets_message() {
    let runner = LocalRunner::new();
    runner.register(
        "charge",
        DurableFunction::new(|card: String, ctx: DurableContext| async move {
            ctx.step(move |_| async move {
                Err::<String, _>(DurableError::new(
                    "CardDeclined",
                    format!("card {card} declined"),
                ))
            })
            .retry(RetryStrategy::none())
            .await
        }),
    );
    runner.register(
        "wf",
        DurableFunction::new(|(): (), ctx: DurableContext| async move {
            let outcome: Result<String, DurableError> =
                ctx.invoke("charge", "4242".to_owned()).await;
            let error = outcome.err().ok_or_else(expected_an_error)?;
            Ok::<_, DurableError>(describe(&error))
        }),
    );
    let snapshot = runner.run("wf", None).await.unwrap();
    assert_eq!(
        result(&snapshot),
        json!({"kind": "Invoke", "type": "CardDeclined", "message": "card 4242 declined"})
    );
}

// ---------------------------------------------------------------- map and parallel

#[tokio::test]
async fn map_and_parallel_of_zero_items_complete_at_once() {
    let calls = counter();
    let seen = Arc::clone(&calls);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let calls = Arc::clone(&seen);
        async move {
            let mapped = ctx
                .map(Vec::<u32>::new(), move |_, item, _| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move { Ok::<_, DurableError>(item) }
                })
                .await?;
            let branches: Vec<Branch<'static, u32>> = Vec::new();
            let parallel = ctx.parallel(branches).await?;
            Ok::<_, DurableError>(json!({
                "map": [mapped.completion_reason(), mapped.total_count(), mapped.status()],
                "parallel": [parallel.completion_reason(), parallel.total_count(), parallel.status()],
            }))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({
            "map": ["ALL_COMPLETED", 0, "SUCCEEDED"],
            "parallel": ["ALL_COMPLETED", 0, "SUCCEEDED"],
        })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(snapshot.invocations, 1);
}

#[tokio::test]
async fn max_concurrency_zero_is_invalid_config_and_records_nothing() {
    let calls = counter();
    let seen = Arc::clone(&calls);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let calls = Arc::clone(&seen);
        async move {
            let mapped = ctx
                .map(vec![1_u32, 2], move |_, item, _| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move { Ok::<_, DurableError>(item) }
                })
                .max_concurrency(0)
                .await;
            let parallel = ctx
                .parallel(vec![Branch::new(|_| async {
                    Ok::<_, DurableError>(1_u32)
                })])
                .max_concurrency(0)
                .await;
            let kind = |outcome: Result<_, DurableError>| {
                outcome.map_or_else(|e| format!("{:?}", e.kind()), |()| "Ok".to_owned())
            };
            Ok::<_, DurableError>(json!([kind(mapped.map(drop)), kind(parallel.map(drop))]))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(result(&snapshot), json!(["InvalidConfig", "InvalidConfig"]));
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no item ran");
    assert!(
        snapshot
            .operations
            .iter()
            .all(|op| op.operation_type == OperationType::Execution),
        "nothing recorded for the batches: {:?}",
        snapshot.operations
    );
}

#[tokio::test]
async fn all_items_failing_with_all_completed_gives_a_failed_batch() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .map(vec![0_u32, 1, 2, 3], |_, item, _| async move {
                Err::<u32, _>(DurableError::new("ItemFailed", format!("item {item}")))
            })
            .completion(CompletionConfig::all_completed())
            .await?;
        let messages: Vec<&str> = batch.errors().iter().map(|e| e.message_text()).collect();
        Ok::<_, DurableError>(json!({
            "status": batch.status(),
            "reason": batch.completion_reason(),
            "failed": batch.failure_count(),
            "succeeded": batch.success_count(),
            "total": batch.total_count(),
            "messages": messages,
        }))
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({
            "status": "FAILED",
            "reason": "ALL_COMPLETED",
            "failed": 4,
            "succeeded": 0,
            "total": 4,
            "messages": ["item 0", "item 1", "item 2", "item 3"],
        })
    );
    assert_eq!(operations_of(&snapshot, &OperationSubType::MapIteration), 4);
}

#[tokio::test]
async fn fail_fast_by_default_starts_no_item_after_the_first_failure() {
    let runs = counter();
    let seen = Arc::clone(&runs);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let runs = Arc::clone(&seen);
        async move {
            let batch = ctx
                .map(vec![0_u32, 1, 2, 3, 4, 5], move |_, item, _| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if item == 1 {
                            return Err(DurableError::new("ItemFailed", "item 1"));
                        }
                        Ok(item)
                    }
                })
                .max_concurrency(1)
                .await?;
            Ok::<_, DurableError>(json!({
                "reason": batch.completion_reason(),
                "succeeded": batch.success_count(),
                "failed": batch.failure_count(),
                "total": batch.total_count(),
            }))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({"reason": "FAILURE_TOLERANCE_EXCEEDED", "succeeded": 1, "failed": 1, "total": 2})
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "items after the failure ran"
    );
    assert_eq!(operations_of(&snapshot, &OperationSubType::MapIteration), 2);
}

#[tokio::test]
async fn min_successful_stops_early() {
    let runs = counter();
    let seen = Arc::clone(&runs);
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let runs = Arc::clone(&seen);
        async move {
            let batch = ctx
                .map(vec![10_u32, 20, 30, 40, 50], move |_, item, _| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    async move { Ok::<_, DurableError>(item) }
                })
                .max_concurrency(1)
                .completion(CompletionConfig::default().min_successful(2))
                .await?;
            Ok::<_, DurableError>(json!({
                "reason": batch.completion_reason(),
                "results": batch.results(),
                "total": batch.total_count(),
            }))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({"reason": "MIN_SUCCESSFUL_REACHED", "results": [10, 20], "total": 2})
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(
        CompletionReason::MinSuccessfulReached,
        serde_json::from_value(json!("MIN_SUCCESSFUL_REACHED")).unwrap()
    );
}

#[tokio::test]
async fn results_stay_in_index_order_when_later_items_finish_first() {
    let finished: Seen<usize> = Seen::default();
    let finished_in = finished.clone();
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let finished = finished_in.clone();
        async move {
            let batch = ctx
                .map(
                    vec![400_u64, 300, 200, 100],
                    move |item_ctx, millis, index| {
                        let finished = finished.clone();
                        async move {
                            item_ctx
                                .step(move |_| async move {
                                    tokio::time::sleep(Duration::from_millis(millis)).await;
                                    finished.push(index);
                                    Ok::<_, DurableError>(format!("item {index}"))
                                })
                                .await
                        }
                    },
                )
                .await?;
            let indices: Vec<usize> = batch.all().iter().map(|item| item.index).collect();
            Ok::<_, DurableError>(json!({"results": batch.results(), "indices": indices}))
        }
    });
    let snapshot = run(function).await;
    assert_eq!(
        finished.all(),
        [3, 2, 1, 0],
        "the items ran concurrently, the last finishing first"
    );
    assert_eq!(
        result(&snapshot),
        json!({
            "results": ["item 0", "item 1", "item 2", "item 3"],
            "indices": [0, 1, 2, 3],
        })
    );
}

#[tokio::test]
async fn throw_if_error_returns_the_first_failed_item_in_index_order() {
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let batch = ctx
            .parallel(vec![
                Branch::new(|_| async { Ok::<_, DurableError>(0_u32) }),
                // Fails last in time, first in index order.
                Branch::new(|c: DurableContext| async move {
                    c.wait(Duration::from_secs(5)).await?;
                    Err::<u32, _>(DurableError::new("SlowFailure", "branch 1"))
                }),
                Branch::new(|_| async {
                    Err::<u32, _>(DurableError::new("FastFailure", "branch 2"))
                }),
            ])
            .completion(CompletionConfig::all_completed())
            .await?;
        let error = batch.throw_if_error().err().ok_or_else(expected_an_error)?;
        let clean = ctx
            .parallel(vec![Branch::new(|_| async {
                Ok::<_, DurableError>(1_u32)
            })])
            .await?;
        Ok::<_, DurableError>(json!({
            "error": describe(&error),
            "clean": clean.throw_if_error().is_ok(),
            "statuses": batch.all().iter().map(|i| i.status).collect::<Vec<BatchItemStatus>>(),
        }))
    });
    let snapshot = run(function).await;
    assert_eq!(
        result(&snapshot),
        json!({
            "error": {"kind": "ChildContext", "type": "SlowFailure", "message": "branch 1"},
            "clean": true,
            "statuses": ["SUCCEEDED", "FAILED", "FAILED"],
        })
    );
}

// ---------------------------------------------------------------- run_in_child_context

#[tokio::test]
async fn failing_child_context_is_a_child_context_error_with_the_recorded_message() {
    let seen: Seen<Value> = Seen::default();
    let body_runs = counter();
    let (seen_in, body_runs_in) = (seen.clone(), Arc::clone(&body_runs));
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let (seen, body_runs) = (seen_in.clone(), Arc::clone(&body_runs_in));
        async move {
            let outcome: Result<u32, DurableError> = ctx
                .run_in_child_context(move |child| async move {
                    body_runs.fetch_add(1, Ordering::SeqCst);
                    child
                        .step(|_| async { Ok::<_, DurableError>(1_u32) })
                        .await?;
                    Err::<u32, _>(DurableError::new("Validation", "order 7 has no lines"))
                })
                .name("validate")
                .await;
            let error = outcome.err().ok_or_else(expected_an_error)?;
            seen.push(describe(&error));
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, DurableError>(())
        }
    });
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    let expected =
        json!({"kind": "ChildContext", "type": "Validation", "message": "order 7 has no lines"});
    assert_eq!(
        seen.all(),
        [expected.clone(), expected],
        "live and replayed errors"
    );
    assert_eq!(
        body_runs.load(Ordering::SeqCst),
        1,
        "the replay returns the recorded failure without running the body"
    );
    let context = snapshot.operation_by_name("validate").unwrap();
    assert_eq!(context.status, OperationStatus::Failed);
    assert_eq!(
        context
            .context_details
            .as_ref()
            .and_then(|d| d.error.as_ref())
            .and_then(|e| e.error_message.as_deref()),
        Some("order 7 has no lines")
    );
}

#[tokio::test]
async fn child_result_over_256_kb_replays_from_its_children_after_a_wait() {
    let step_runs = counter();
    let body_runs = counter();
    let seen: Seen<(usize, bool)> = Seen::default();
    let (step_runs_in, body_runs_in, seen_in) =
        (Arc::clone(&step_runs), Arc::clone(&body_runs), seen.clone());
    let function = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let (step_runs, body_runs, seen) = (
            Arc::clone(&step_runs_in),
            Arc::clone(&body_runs_in),
            seen_in.clone(),
        );
        async move {
            let large: String = ctx
                .run_in_child_context(move |child| async move {
                    body_runs.fetch_add(1, Ordering::SeqCst);
                    let mut parts = Vec::new();
                    // Each step stays under the 256 KB payload limit; together
                    // they are over it.
                    for letter in ['a', 'b'] {
                        let runs = Arc::clone(&step_runs);
                        let part: String = child
                            .step(move |_| async move {
                                runs.fetch_add(1, Ordering::SeqCst);
                                Ok::<_, DurableError>(letter.to_string().repeat(150 * 1024))
                            })
                            .await?;
                        parts.push(part);
                    }
                    Ok::<_, DurableError>(parts.concat())
                })
                .name("large")
                .await?;
            let intact = large.len() == 300 * 1024
                && large.starts_with('a')
                && large.ends_with('b')
                && large[150 * 1024..].chars().all(|c| c == 'b');
            seen.push((large.len(), intact));
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, DurableError>(large.len())
        }
    });
    let snapshot = run(function).await;
    assert_eq!(result(&snapshot), json!(300 * 1024));
    assert_eq!(snapshot.invocations, 2);
    assert_eq!(
        seen.all(),
        [(300 * 1024, true), (300 * 1024, true)],
        "live and rebuilt results"
    );
    assert_eq!(
        step_runs.load(Ordering::SeqCst),
        2,
        "a child step ran again"
    );
    assert_eq!(
        body_runs.load(Ordering::SeqCst),
        2,
        "the body runs again on replay to rebuild the result"
    );
    let context = snapshot.operation_by_name("large").unwrap();
    assert_eq!(context.status, OperationStatus::Succeeded);
    assert_eq!(
        context
            .context_details
            .as_ref()
            .and_then(|d| d.replay_children),
        Some(true)
    );
    assert!(
        context
            .context_details
            .as_ref()
            .and_then(|d| d.result.as_deref())
            .is_none_or(str::is_empty),
        "the large result is not stored"
    );
}
