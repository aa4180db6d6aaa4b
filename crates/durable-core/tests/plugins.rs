//! Plugin hooks end to end on the local runner: what each hook reports, and
//! when, across replays.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::sync::{Arc, Mutex};
use std::time::Duration;

use durable_core::model::ExecutionStatus;
use durable_core::plugin::{
    AttemptInfo, FunctionInfo, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo,
    OperationInfo, Plugin,
};
use durable_core::{DurableContext, DurableError, DurableFunction, RetryStrategy};
use durable_testing::{ExecutionSnapshot, LocalRunner};

/// Writes every hook call as one line.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// The lines that start with `prefix`.
    fn only(&self, prefix: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with(prefix))
            .collect()
    }
}

fn describe(info: &OperationInfo) -> String {
    let error = info
        .error
        .as_ref()
        .map(|e| format!(" error={}", e.error_message.as_deref().unwrap_or("")))
        .unwrap_or_default();
    format!(
        "{} {} replay={} status={}{error}",
        info.id,
        info.operation_type,
        info.is_replay,
        info.status.map_or("-", |s| s.as_str()),
    )
}

impl Plugin for Recorder {
    fn on_invocation_start(&self, info: &InvocationStartInfo<'_>) {
        let updated: Vec<&str> = info
            .updated_operations
            .iter()
            .map(|op| op.id.as_str())
            .collect();
        self.push(format!(
            "inv-start first={} updated={updated:?}",
            info.is_first_invocation
        ));
    }

    fn on_invocation_end(&self, info: &InvocationEndInfo<'_>) {
        self.push(format!(
            "inv-end first={} status={}",
            info.is_first_invocation,
            info.status.map_or("-", |s| s.as_str())
        ));
    }

    fn on_operation_start(&self, info: &OperationInfo) {
        self.push(format!("op-start {}", describe(info)));
    }

    fn on_operation_end(&self, info: &OperationInfo) {
        self.push(format!("op-end {}", describe(info)));
    }

    fn on_operations_changed(&self, info: &OperationChangeInfo<'_>) {
        for op in info.updated {
            self.push(format!(
                "changed {} in_full_map={}",
                describe(op),
                info.contains(&op.id)
            ));
        }
    }

    fn on_attempt_start(&self, info: &AttemptInfo<'_>) {
        self.push(format!(
            "attempt-start {} {}",
            info.operation.id, info.attempt
        ));
    }

    fn on_attempt_end(&self, info: &AttemptInfo<'_>) {
        self.push(format!(
            "attempt-end {} {} {}",
            info.operation.id,
            info.attempt,
            info.outcome.map_or("-", |o| o.as_str())
        ));
    }

    fn on_function_start(&self, info: &FunctionInfo<'_>) {
        self.push(format!("fn-start {}", info.operation.id));
    }

    fn on_function_end(&self, info: &FunctionInfo<'_>) {
        self.push(format!(
            "fn-end {} {}",
            info.operation.id,
            info.outcome.map_or("-", |o| o.as_str())
        ));
    }
}

/// A plugin that panics in every hook.
struct Faulty;

impl Plugin for Faulty {
    fn on_invocation_start(&self, _: &InvocationStartInfo<'_>) {
        panic!("faulty invocation-start");
    }

    fn on_invocation_end(&self, _: &InvocationEndInfo<'_>) {
        panic!("faulty invocation-end");
    }

    fn on_operation_start(&self, _: &OperationInfo) {
        panic!("faulty operation-start");
    }

    fn on_operation_end(&self, _: &OperationInfo) {
        panic!("faulty operation-end");
    }

    fn on_operations_changed(&self, _: &OperationChangeInfo<'_>) {
        panic!("faulty operations-changed");
    }

    fn on_attempt_start(&self, _: &AttemptInfo<'_>) {
        panic!("faulty attempt-start");
    }

    fn on_attempt_end(&self, _: &AttemptInfo<'_>) {
        panic!("faulty attempt-end");
    }
}

/// Keeps the infos of `on_operation_end`.
struct Ends(Arc<Mutex<Vec<OperationInfo>>>);

impl Plugin for Ends {
    fn on_operation_end(&self, info: &OperationInfo) {
        self.0.lock().unwrap().push(info.clone());
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

#[tokio::test]
async fn a_step_starts_attempts_and_ends_once() {
    let recorder = Recorder::default();
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.step(|_| async { Ok::<_, DurableError>(1) }).await
    })
    .with_plugin(recorder.clone());
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    assert_eq!(
        recorder.lines(),
        [
            "inv-start first=true updated=[]",
            "op-start 1 STEP replay=false status=-",
            "attempt-start 1 1",
            "attempt-end 1 1 SUCCEEDED",
            "changed 1 STEP replay=false status=SUCCEEDED in_full_map=true",
            "op-end 1 STEP replay=false status=SUCCEEDED",
            "inv-end first=true status=SUCCEEDED",
        ]
    );
}

#[tokio::test]
async fn a_retried_step_is_met_again_in_replay_and_ends_once() {
    let recorder = Recorder::default();
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.step(|step| async move {
            if step.attempt() == 1 {
                return Err(DurableError::new("Flaky", "first attempt fails"));
            }
            Ok(2)
        })
        .retry(RetryStrategy::exponential().max_attempts(2))
        .await
    })
    .with_plugin(recorder.clone());
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    assert_eq!(
        recorder.only("op-"),
        [
            "op-start 1 STEP replay=false status=-",
            "op-start 1 STEP replay=true status=READY error=first attempt fails",
            "op-end 1 STEP replay=false status=SUCCEEDED",
        ],
        "the retryable failure is not an end"
    );
    assert_eq!(
        recorder.only("attempt-"),
        [
            "attempt-start 1 1",
            "attempt-end 1 1 FAILED",
            "attempt-start 1 2",
            "attempt-end 1 2 SUCCEEDED",
        ]
    );
    assert_eq!(
        recorder.only("inv-"),
        [
            "inv-start first=true updated=[]",
            "inv-end first=true status=PENDING",
            "inv-start first=false updated=[\"1\"]",
            "inv-end first=false status=SUCCEEDED",
        ]
    );
}

#[tokio::test]
async fn a_wait_that_fired_while_suspended_ends_in_the_next_invocation() {
    let recorder = Recorder::default();
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.wait(Duration::from_secs(2)).await?;
        ctx.wait(Duration::from_secs(2)).await
    })
    .with_plugin(recorder.clone());
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    assert_eq!(
        recorder
            .lines()
            .into_iter()
            .filter(|l| !l.starts_with("changed"))
            .collect::<Vec<_>>(),
        [
            "inv-start first=true updated=[]",
            "op-start 1 WAIT replay=false status=-",
            "inv-end first=true status=PENDING",
            "inv-start first=false updated=[\"1\"]",
            "op-end 1 WAIT replay=false status=SUCCEEDED",
            "op-start 2 WAIT replay=false status=-",
            "inv-end first=false status=PENDING",
            "inv-start first=false updated=[\"2\"]",
            "op-end 2 WAIT replay=false status=SUCCEEDED",
            "inv-end first=false status=SUCCEEDED",
        ],
        "a finished operation is not reported again in later replays"
    );
}

#[tokio::test]
async fn a_failed_child_context_ends_with_its_error() {
    let recorder = Recorder::default();
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.run_in_child_context(|_| async {
            Err::<u32, _>(DurableError::new("ChildFailure", "the child gives up"))
        })
        .name("child")
        .await
    })
    .with_plugin(recorder.clone());
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Failed);
    assert_eq!(recorder.only("fn-"), ["fn-start 1", "fn-end 1 FAILED"]);
    assert_eq!(
        recorder.only("op-end"),
        ["op-end 1 CONTEXT replay=false status=FAILED error=the child gives up"]
    );
}

#[tokio::test]
async fn a_child_context_ends_with_its_recorded_start() {
    let ends: Arc<Mutex<Vec<OperationInfo>>> = Arc::default();
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        ctx.run_in_child_context(|child| async move {
            child.wait(Duration::from_secs(1)).await?;
            Ok::<_, DurableError>(3)
        })
        .await
    })
    .with_plugin(Ends(Arc::clone(&ends)));
    let snapshot = run(function).await;
    assert_eq!(snapshot.status, ExecutionStatus::Succeeded);
    let ends = ends.lock().unwrap();
    let context = ends.iter().find(|info| info.id == "1").unwrap();
    assert_eq!(
        context.start_timestamp,
        Some(snapshot.operation("1").unwrap().start_timestamp),
        "the context's START was recorded before it ended"
    );
    assert_eq!(context.parent_id, None);
    let wait = ends.iter().find(|info| info.id == "1-1").unwrap();
    assert_eq!(wait.parent_id.as_deref(), Some("1"));
}

#[tokio::test]
async fn a_callback_completed_while_suspended_ends_once() {
    let recorder = Recorder::default();
    let function = DurableFunction::new(|(): (), ctx: DurableContext| async move {
        let callback = ctx.create_callback().name("approval").await?;
        callback.await
    })
    .with_plugin(recorder.clone());
    let runner = LocalRunner::new();
    runner.register("wf", function);
    let arn = runner.start("wf", None).await.unwrap();
    let idle = runner.run_until_idle(&arn).await.unwrap();
    let id = idle.callback_id("approval").unwrap().to_owned();
    runner.send_callback_success(&id, "\"yes\"").await.unwrap();
    let done = runner.run_until_idle(&arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        recorder.only("op-"),
        [
            "op-start 1 CALLBACK replay=false status=-",
            "op-end 1 CALLBACK replay=false status=SUCCEEDED",
        ]
    );
}

#[tokio::test]
async fn a_panicking_plugin_changes_nothing() {
    let recorder = Recorder::default();
    let alone = Recorder::default();
    let workflow = |(): (), ctx: DurableContext| async move {
        ctx.step(|_| async { Ok::<_, DurableError>(5) }).await
    };
    let with_faulty = run(DurableFunction::new(workflow)
        .with_plugin(Faulty)
        .with_plugin(recorder.clone()))
    .await;
    let without = run(DurableFunction::new(workflow).with_plugin(alone.clone())).await;
    assert_eq!(with_faulty.status, ExecutionStatus::Succeeded);
    assert_eq!(with_faulty.result, without.result);
    assert_eq!(
        recorder.lines(),
        alone.lines(),
        "the healthy plugin sees every hook"
    );
}
