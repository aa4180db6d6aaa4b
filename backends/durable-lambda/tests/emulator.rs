//! End to end against `dex-local-runner`: the emulator invokes our Invoke
//! endpoint, which runs the handler through `handle_event` with a
//! `LambdaStore` calling the emulator's durable API.

use std::time::Duration;

use durable_core::CheckpointStore;
use durable_core::model::ExecutionStatus;
use durable_core::{DurableContext, DurableError, DurableFunction, StoreError};
use durable_lambda::LambdaStore;
use durable_lambda::testing::{Emulator, EmulatorError, EmulatorOptions, client_for};

const END: Duration = Duration::from_secs(60);

/// The emulator; these tests fail (not skip) when it cannot be installed.
async fn emulator() -> Result<Emulator, EmulatorError> {
    Emulator::start(EmulatorOptions { skip_time: true }).await
}

async fn ten_steps_and_a_wait((): (), ctx: DurableContext) -> Result<u32, DurableError> {
    let mut total = 0;
    for i in 0..10_u32 {
        total += ctx
            .step(move |_| async move { Ok::<_, DurableError>(i) })
            .name(format!("step-{i}"))
            .await?;
    }
    ctx.wait(Duration::from_secs(5)).name("pause").await?;
    Ok(total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_steps_and_a_wait_take_at_most_eleven_checkpoint_calls() {
    let emulator = emulator().await.unwrap();
    emulator.register("ten-steps", DurableFunction::new(ten_steps_and_a_wait));
    let arn = emulator
        .start_execution("ten-steps", "ten-steps-1", None)
        .await
        .unwrap();
    let view = emulator.wait_for_end(&arn, END).await.unwrap();
    assert_eq!(view.status, ExecutionStatus::Succeeded, "{view:?}");
    assert_eq!(view.result.as_deref(), Some("45"));
    let calls = emulator.calls().checkpoints();
    println!("checkpoint calls for 10 steps and a wait: {calls}");
    // One call per step (START and SUCCEED travel together) and one for
    // the wait; sending updates one by one would take 21.
    assert!(calls <= 11, "{calls} checkpoint calls");
    assert!(calls >= 2, "{calls} checkpoint calls");
    assert_eq!(
        emulator.invocations(&arn).started,
        2,
        "the wait suspends once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_step_result_fails_the_execution_with_a_clear_error() {
    let emulator = emulator().await.unwrap();
    emulator.register(
        "oversized",
        DurableFunction::new(|(): (), ctx: DurableContext| async move {
            ctx.step(|_| async { Ok::<_, DurableError>("x".repeat(300 * 1024)) })
                .name("big")
                .await
        }),
    );
    let arn = emulator
        .start_execution("oversized", "oversized-1", None)
        .await
        .unwrap();
    let view = emulator.wait_for_end(&arn, END).await.unwrap();
    assert_eq!(view.status, ExecutionStatus::Failed, "{view:?}");
    let error = view.error.unwrap();
    let message = error.error_message.unwrap_or_default();
    assert!(message.contains("over the 262144-byte limit"), "{message}");
    assert!(message.contains("big"), "{message}");
    assert_eq!(
        emulator.invocations(&arn).started,
        1,
        "not retried: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_checkpoint_token_is_reported_as_stale() {
    let emulator = emulator().await.unwrap();
    let log = emulator.invocation_log();
    let url = emulator.url().to_owned();
    emulator.register(
        "stale",
        DurableFunction::new(move |(): (), ctx: DurableContext| {
            let log = log.clone();
            let url = url.clone();
            async move {
                // The first step's checkpoint uses up the envelope's token.
                ctx.step(|_| async { Ok::<_, DurableError>(1) }).await?;
                let arn = ctx.execution_arn().to_owned();
                ctx.step(move |_| async move {
                    let used = log.get(&arn).first_token.unwrap_or_default();
                    let store = LambdaStore::new(client_for(&url));
                    let error = store.checkpoint(&arn, &used, Vec::new()).await.err();
                    Ok::<_, DurableError>(match error {
                        Some(error @ StoreError::StaleToken { .. }) => {
                            format!("stale: {error}; retryable: {}", error.is_retryable())
                        }
                        other => format!("unexpected: {other:?}"),
                    })
                })
                .await
            }
        }),
    );
    let arn = emulator
        .start_execution("stale", "stale-1", None)
        .await
        .unwrap();
    let view = emulator.wait_for_end(&arn, END).await.unwrap();
    assert_eq!(view.status, ExecutionStatus::Succeeded, "{view:?}");
    let result: String = serde_json::from_str(view.result.as_deref().unwrap()).unwrap();
    assert!(
        result.starts_with("stale: stale checkpoint token"),
        "{result}"
    );
    assert!(result.ends_with("retryable: true"), "{result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_and_failures_round_trip() {
    let emulator = emulator().await.unwrap();
    emulator.register(
        "approve",
        DurableFunction::new(|(): (), ctx: DurableContext| async move {
            let approved: String = ctx
                .wait_for_callback(|_id, _| async { Ok::<_, DurableError>(()) })
                .name("approval")
                .await?;
            if approved == "no" {
                return Err(DurableError::new("Rejected", "not approved"));
            }
            Ok(approved)
        }),
    );
    for (answer, expected) in [
        ("yes", ExecutionStatus::Succeeded),
        ("no", ExecutionStatus::Failed),
    ] {
        let arn = emulator
            .start_execution("approve", &format!("approve-{expected:?}"), None)
            .await
            .unwrap();
        let callback_id = loop {
            let history = emulator.history(&arn).await.unwrap();
            if let Some(id) = history.iter().find_map(|e| e.details.callback_id.clone()) {
                break id;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        emulator
            .callback_success(&callback_id, answer)
            .await
            .unwrap();
        let view = emulator.wait_for_end(&arn, END).await.unwrap();
        assert_eq!(view.status, expected, "{view:?}");
        if expected == ExecutionStatus::Failed {
            assert_eq!(view.error.unwrap().error_type.as_deref(), Some("Rejected"));
        } else {
            assert_eq!(view.result.as_deref(), Some("\"yes\""));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_beyond_the_first_page_are_read_through_get_durable_execution_state() {
    let emulator = emulator().await.unwrap();
    // 24 results of 250 KB: more than the emulator's 5 MB envelope page.
    emulator.register(
        "paged",
        DurableFunction::new(|(): (), ctx: DurableContext| async move {
            let mut total = 0;
            for i in 0..24_u8 {
                let block: String = ctx
                    .step(move |_| async move {
                        Ok::<_, DurableError>(
                            char::from(b'a' + i % 26).to_string().repeat(250 * 1024),
                        )
                    })
                    .await?;
                total += block.len();
            }
            ctx.wait(Duration::from_secs(1)).await?;
            Ok(total)
        }),
    );
    let arn = emulator
        .start_execution("paged", "paged-1", None)
        .await
        .unwrap();
    let view = emulator.wait_for_end(&arn, END).await.unwrap();
    assert_eq!(view.status, ExecutionStatus::Succeeded, "{:?}", view.error);
    assert_eq!(view.result.as_deref(), Some("6144000"));
    assert!(
        emulator.calls().state_reads() >= 1,
        "the second invocation read more pages"
    );
    assert_eq!(emulator.invocations(&arn).started, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_over_the_response_limit_is_checkpointed() {
    let emulator = emulator().await.unwrap();
    emulator.register(
        "huge",
        DurableFunction::new(|(): (), _ctx: DurableContext| async move {
            Ok::<_, DurableError>("r".repeat(durable_core::invocation::MAX_INLINE_RESULT + 10))
        }),
    );
    let arn = emulator
        .start_execution("huge", "huge-1", None)
        .await
        .unwrap();
    let view = emulator.wait_for_end(&arn, END).await.unwrap();
    assert_eq!(view.status, ExecutionStatus::Succeeded, "{:?}", view.error);
    let result: String = serde_json::from_str(view.result.as_deref().unwrap()).unwrap();
    assert_eq!(
        result.len(),
        durable_core::invocation::MAX_INLINE_RESULT + 10
    );
    // Sent as an EXECUTION SUCCEED checkpoint, not in the Invoke response.
    assert_eq!(emulator.calls().checkpoints(), 1);
}
