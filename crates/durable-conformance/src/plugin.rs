//! Handlers for the `plugin` suite (10-x).
//!
//! The instrumentation plugins of the requirements log one JSON record per
//! hook event. Here a record is a `tracing` event: the harness captures
//! every event with an `execution_arn` field as a JSON object of its fields.
//! A plugin learns the execution ARN from the invocation-start hook and
//! stamps it on every record (`execution_arn` for the capture,
//! `durableExecutionArn` as the requirements name it).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use durable_core::context::Branch;
use durable_core::model::{
    ErrorObject, InvocationStatus, OperationStatus, OperationSubType, OperationType,
};
use durable_core::plugin::{
    AttemptInfo, FunctionInfo, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo,
    OperationInfo, Outcome, Plugin,
};
use durable_core::{DurableContext, DurableError, DurableFunction, Jitter, RetryStrategy};
use durable_testing::requirements::HandlerRegistry;
use serde_json::Value;

/// Logs one plugin record: the ARN fields, `plugin`, `hook`, then the
/// given fields (each followed by a comma).
macro_rules! record {
    ($plugin:expr, $hook:expr; $($fields:tt)*) => {{
        let arn = $plugin.arn.get();
        let hook: &str = $hook;
        tracing::info!(
            execution_arn = %arn,
            durableExecutionArn = %arn,
            plugin = $plugin.label,
            hook,
            $($fields)*
            "{} {}",
            $plugin.label,
            hook
        );
    }};
}

/// The execution ARN a plugin learnt at invocation start (like the
/// reference plugins, one execution at a time: each requirement has its own
/// plugin instances and runs once).
#[derive(Default)]
struct Arn(Mutex<String>);

impl Arn {
    fn set(&self, arn: &str) {
        arn.clone_into(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn get(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A hook a [`Conf`] plugin logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hook {
    InvocationStart,
    InvocationEnd,
    /// One record per filtered operation of the invocation-start info's
    /// updated operations.
    UpdatedOnInvoke,
    OperationStart,
    OperationEnd,
    /// One record per filtered item of the change's updated operations.
    OperationChange,
    AttemptStart,
    AttemptEnd,
    FunctionStart,
    FunctionEnd,
}

/// How a [`Conf`] plugin writes its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The short records of most requirements (`first`, `op`, `status`,
    /// `replay`, `n`, `outcome`, ...).
    Brief,
    /// A canonical camelCase dump of the hook's info, unset fields left out.
    Canonical,
}

/// The instrumentation plugin of the requirements: logs the `hooks` it is
/// given, operation and attempt hooks only for operations `only` accepts.
struct Conf {
    label: &'static str,
    hooks: &'static [Hook],
    only: fn(&OperationInfo) -> bool,
    shape: Shape,
    arn: Arn,
}

impl Conf {
    fn new(label: &'static str, hooks: &'static [Hook], only: fn(&OperationInfo) -> bool) -> Self {
        Self {
            label,
            hooks,
            only,
            shape: Shape::Brief,
            arn: Arn::default(),
        }
    }

    fn canonical(mut self) -> Self {
        self.shape = Shape::Canonical;
        self
    }

    fn logs(&self, hook: Hook) -> bool {
        self.hooks.contains(&hook)
    }

    /// Whether an operation hook is to be logged for `op`.
    fn wants(&self, hook: Hook, op: &OperationInfo) -> bool {
        self.logs(hook) && (self.only)(op)
    }

    fn operation(&self, hook: &str, info: &OperationInfo) {
        match self.shape {
            Shape::Brief => record!(self, hook;
                op = %info.id,
                "type" = %info.operation_type,
                name = info.name.as_deref(),
                parent = parent(info),
                replay = info.is_replay,
                pending = pending(info),
                status = info.status.map(OperationStatus::as_str),
            ),
            Shape::Canonical => record!(self, hook;
                id = %info.id,
                name = info.name.as_deref(),
                "type" = %info.operation_type,
                subType = info.sub_type.as_ref().map(OperationSubType::as_str),
                parentId = info.parent_id.as_deref(),
                status = info.status.map(OperationStatus::as_str),
                startTimestamp = info.start_timestamp.map(tracing::field::display),
                endTimestamp = info.end_timestamp.map(tracing::field::display),
                error = info.error.as_ref().map(message),
                attempt = info.attempt,
                isReplay = info.is_replay,
            ),
        }
    }
}

impl Plugin for Conf {
    fn on_invocation_start(&self, info: &InvocationStartInfo<'_>) {
        self.arn.set(info.execution_arn);
        if self.logs(Hook::InvocationStart) {
            match self.shape {
                Shape::Brief => record!(self, "invocation-start";
                    first = info.is_first_invocation,
                ),
                Shape::Canonical => record!(self, "invocation-start";
                    isFirstInvocation = info.is_first_invocation,
                    requestId = info.request_id,
                    operationsCount = info.operations_count,
                    updatedOperationsCount = info.updated_operations.len(),
                    executionStartTimestamp = info.execution_start_timestamp.map(tracing::field::display),
                ),
            }
        }
        if self.logs(Hook::UpdatedOnInvoke) {
            for op in info.updated_operations.iter().filter(|op| (self.only)(op)) {
                record!(self, "updated-on-invoke";
                    op = %op.id,
                    status = op.status.map(OperationStatus::as_str),
                    first = info.is_first_invocation,
                );
            }
        }
    }

    fn on_invocation_end(&self, info: &InvocationEndInfo<'_>) {
        if !self.logs(Hook::InvocationEnd) {
            return;
        }
        let status = info.status.map(InvocationStatus::as_str);
        let terminal = matches!(status, Some("SUCCEEDED" | "FAILED"));
        match self.shape {
            Shape::Brief => record!(self, "invocation-end";
                first = info.is_first_invocation,
                terminal,
                status,
            ),
            Shape::Canonical => record!(self, "invocation-end";
                isFirstInvocation = info.is_first_invocation,
                requestId = info.request_id,
                operationsCount = info.operations_count,
                executionStartTimestamp = info.execution_start_timestamp.map(tracing::field::display),
                status,
                terminal,
                executionError = info.error.as_ref().map(message),
            ),
        }
    }

    fn on_operation_start(&self, info: &OperationInfo) {
        if self.wants(Hook::OperationStart, info) {
            self.operation("operation-start", info);
        }
    }

    fn on_operation_end(&self, info: &OperationInfo) {
        if self.wants(Hook::OperationEnd, info) {
            self.operation("operation-end", info);
        }
    }

    fn on_operations_changed(&self, info: &OperationChangeInfo<'_>) {
        if !self.logs(Hook::OperationChange) {
            return;
        }
        for item in info.updated.iter().filter(|op| (self.only)(op)) {
            let in_full_map = info.contains(&item.id);
            match self.shape {
                Shape::Brief => record!(self, "operation-change";
                    op = %item.id,
                    status = item.status.map(OperationStatus::as_str),
                    in_full_map,
                ),
                Shape::Canonical => record!(self, "operation-change";
                    executionArn = info.execution_arn,
                    updatedOperationsCount = info.updated.len(),
                    operationsCount = info.operations_count(),
                    inFullMap = in_full_map,
                    id = %item.id,
                    name = item.name.as_deref(),
                    "type" = %item.operation_type,
                    subType = item.sub_type.as_ref().map(OperationSubType::as_str),
                    parentId = item.parent_id.as_deref(),
                    status = item.status.map(OperationStatus::as_str),
                    startTimestamp = item.start_timestamp.map(tracing::field::display),
                    endTimestamp = item.end_timestamp.map(tracing::field::display),
                    error = item.error.as_ref().map(message),
                    attempt = item.attempt,
                    isReplay = item.is_replay,
                ),
            }
        }
    }

    fn on_attempt_start(&self, info: &AttemptInfo<'_>) {
        if self.wants(Hook::AttemptStart, info.operation) {
            record!(self, "attempt-start"; n = info.attempt, op = %info.operation.id,);
        }
    }

    fn on_attempt_end(&self, info: &AttemptInfo<'_>) {
        if self.wants(Hook::AttemptEnd, info.operation) {
            record!(self, "attempt-end";
                n = info.attempt,
                outcome = info.outcome.map(Outcome::as_str),
                op = %info.operation.id,
            );
        }
    }

    fn on_function_start(&self, info: &FunctionInfo<'_>) {
        if self.wants(Hook::FunctionStart, info.operation) {
            self.function("fn-start", info);
        }
    }

    fn on_function_end(&self, info: &FunctionInfo<'_>) {
        if self.wants(Hook::FunctionEnd, info.operation) {
            self.function("fn-end", info);
        }
    }
}

impl Conf {
    fn function(&self, hook: &str, info: &FunctionInfo<'_>) {
        let op = info.operation;
        let outcome = info.outcome.map(Outcome::as_str);
        match self.shape {
            Shape::Brief => record!(self, hook;
                op = %op.id,
                parent = parent(op),
                outcome,
            ),
            Shape::Canonical => record!(self, hook;
                id = %op.id,
                name = op.name.as_deref(),
                "type" = %op.operation_type,
                subType = op.sub_type.as_ref().map(OperationSubType::as_str),
                parentId = op.parent_id.as_deref(),
                isReplayingChildren = info.is_replaying_children,
                outcome,
            ),
        }
    }
}

/// A plugin whose every hook logs `{plugin, hook}` and then panics (how a
/// Rust plugin "throws"); operation and attempt hooks only for steps.
struct Faulty {
    label: &'static str,
    arn: Arn,
}

impl Faulty {
    fn new() -> Self {
        Self {
            label: "CONFPLUGIN-FAULTY",
            arn: Arn::default(),
        }
    }

    fn throw(&self, hook: &str) {
        record!(self, hook;);
        fault(hook);
    }
}

#[allow(clippy::panic)] // the faulty plugin of 10-4 and 10-17 throws on purpose
fn fault(hook: &str) {
    panic!("simulated plugin fault in {hook}");
}

impl Plugin for Faulty {
    fn on_invocation_start(&self, info: &InvocationStartInfo<'_>) {
        self.arn.set(info.execution_arn);
        self.throw("invocation-start");
    }

    fn on_invocation_end(&self, _: &InvocationEndInfo<'_>) {
        self.throw("invocation-end");
    }

    fn on_operation_start(&self, info: &OperationInfo) {
        if steps(info) {
            self.throw("operation-start");
        }
    }

    fn on_operation_end(&self, info: &OperationInfo) {
        if steps(info) {
            self.throw("operation-end");
        }
    }

    fn on_attempt_start(&self, info: &AttemptInfo<'_>) {
        if steps(info.operation) {
            self.throw("attempt-start");
        }
    }

    fn on_attempt_end(&self, info: &AttemptInfo<'_>) {
        if steps(info.operation) {
            self.throw("attempt-end");
        }
    }
}

/// The parent id, or `NONE`.
fn parent(info: &OperationInfo) -> &str {
    info.parent_id.as_deref().unwrap_or("NONE")
}

/// Whether the operation has not reached a final status by its own info.
fn pending(info: &OperationInfo) -> bool {
    info.status.is_none_or(|s| !s.is_terminal())
}

/// An error as its message.
fn message(error: &ErrorObject) -> &str {
    error
        .error_message
        .as_deref()
        .or(error.error_type.as_deref())
        .unwrap_or_default()
}

fn any(_: &OperationInfo) -> bool {
    true
}

fn steps(info: &OperationInfo) -> bool {
    info.operation_type == OperationType::Step
}

fn waits(info: &OperationInfo) -> bool {
    info.operation_type == OperationType::Wait
}

fn contexts(info: &OperationInfo) -> bool {
    info.operation_type == OperationType::Context
}

fn branches(info: &OperationInfo) -> bool {
    info.sub_type == Some(OperationSubType::ParallelBranch)
}

const INVOCATION: &[Hook] = &[Hook::InvocationStart, Hook::InvocationEnd];
const OPERATION: &[Hook] = &[Hook::OperationStart, Hook::OperationEnd];
const ATTEMPT: &[Hook] = &[Hook::AttemptStart, Hook::AttemptEnd];
const ATTEMPT_AND_END: &[Hook] = &[Hook::AttemptStart, Hook::AttemptEnd, Hook::OperationEnd];
const FUNCTION: &[Hook] = &[Hook::FunctionStart, Hook::FunctionEnd];
const EVERYTHING: &[Hook] = &[
    Hook::InvocationStart,
    Hook::InvocationEnd,
    Hook::OperationStart,
    Hook::OperationEnd,
    Hook::AttemptStart,
    Hook::AttemptEnd,
];

fn conf(hooks: &'static [Hook], only: fn(&OperationInfo) -> bool) -> Conf {
    Conf::new("CONFPLUGIN", hooks, only)
}

/// Retries once a second, `attempts` attempts in all.
fn every_second(attempts: u32) -> RetryStrategy {
    RetryStrategy::exponential()
        .max_attempts(attempts)
        .initial_delay(Duration::from_secs(1))
        .backoff_rate(1.0)
        .jitter(Jitter::None)
}

async fn greet(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {name}!")) })
        .await
}

async fn greet_logged(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(move |step| async move {
        step.logger()
            .info(format!("Greeting step running for: {name}"));
        Ok::<_, DurableError>(format!("Hello, {name}!"))
    })
    .await
}

async fn fails_once(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(|step| async move {
        if step.attempt() == 1 {
            return Err(DurableError::new("Unreliable", "first attempt fails"));
        }
        Ok("Operation succeeded".to_owned())
    })
    .retry(every_second(3))
    .await
}

async fn always_fails(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(|_| async {
        Err::<String, _>(DurableError::new("AlwaysFails", "every attempt fails"))
    })
    .retry(every_second(2))
    .await
}

async fn two_steps(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(|_| async { Ok::<_, DurableError>("step A".to_owned()) })
        .await?;
    fails_once(Value::Null, ctx).await
}

async fn wait_two_seconds(_: Value, ctx: DurableContext) -> Result<(), DurableError> {
    ctx.wait(Duration::from_secs(2)).await
}

async fn wait_then_done(input: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(format!("done-{input}"))
}

async fn child_greet(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.run_in_child_context(|child| greet(name, child)).await
}

async fn parallel_constants(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let constant = |value: &'static str| {
        Branch::new(move |_| async move { Ok::<_, DurableError>(value.to_owned()) })
    };
    let batch = ctx
        .parallel(vec![constant("task-1"), constant("task-2")])
        .name("parallel")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

async fn parallel_waits(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let wait = |name: &'static str, seconds: u64, result: &'static str| {
        Branch::new(move |branch: DurableContext| async move {
            branch.wait(Duration::from_secs(seconds)).name(name).await?;
            Ok::<_, DurableError>(result.to_owned())
        })
    };
    let batch = ctx
        .parallel(vec![
            wait("short", 2, "short-done"),
            wait("long", 8, "long-done"),
        ])
        .name("waits")
        .max_concurrency(2)
        .await?;
    Ok(batch.into_results())
}

async fn named_step(_: Value, ctx: DurableContext) -> Result<String, DurableError> {
    ctx.step(|_| async { Ok::<_, DurableError>("task-a".to_owned()) })
        .name("greet")
        .await
}

async fn named_branches(_: Value, ctx: DurableContext) -> Result<Vec<String>, DurableError> {
    let a = Branch::named("branch-a", |branch: DurableContext| async move {
        branch
            .step(|_| async { Ok::<_, DurableError>("x".to_owned()) })
            .name("inner")
            .await?;
        branch.wait(Duration::from_secs(2)).await?;
        Ok::<_, DurableError>("a-done".to_owned())
    });
    let b = Branch::named("branch-b", |_| async {
        Ok::<_, DurableError>("b-done".to_owned())
    });
    let batch = ctx
        .parallel(vec![a, b])
        .name("ctx")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results())
}

/// Registers the handlers of the plugin suite.
pub fn register(registry: &mut HandlerRegistry) {
    let r = registry;
    r.register(
        "10-1",
        DurableFunction::new(greet_logged).with_plugin(conf(INVOCATION, any)),
    );
    r.register(
        "10-2",
        DurableFunction::new(greet).with_plugin(conf(OPERATION, steps)),
    );
    r.register(
        "10-3",
        DurableFunction::new(fails_once).with_plugin(conf(ATTEMPT, steps)),
    );
    r.register(
        "10-4",
        DurableFunction::new(greet).with_plugin(Faulty::new()),
    );
    r.register(
        "10-5",
        DurableFunction::new(greet)
            .with_plugin(Conf::new("CONFPLUGIN-A", INVOCATION, any))
            .with_plugin(Conf::new("CONFPLUGIN-B", INVOCATION, any)),
    );
    r.register(
        "10-6",
        DurableFunction::new(wait_two_seconds).with_plugin(conf(INVOCATION, any)),
    );
    r.register(
        "10-8",
        DurableFunction::new(greet).with_plugin(conf(&[Hook::OperationChange], steps)),
    );
    r.register(
        "10-9",
        DurableFunction::new(wait_two_seconds).with_plugin(conf(&[Hook::UpdatedOnInvoke], waits)),
    );
    r.register(
        "10-10",
        DurableFunction::new(wait_two_seconds).with_plugin(conf(OPERATION, waits)),
    );
    r.register(
        "10-11",
        DurableFunction::new(child_greet).with_plugin(conf(&[Hook::OperationEnd], any)),
    );
    r.register(
        "10-12",
        DurableFunction::new(parallel_constants).with_plugin(conf(FUNCTION, branches)),
    );
    r.register(
        "10-13",
        DurableFunction::new(two_steps).with_plugin(conf(OPERATION, steps)),
    );
    r.register(
        "10-15",
        DurableFunction::new(always_fails).with_plugin(conf(ATTEMPT_AND_END, steps)),
    );
    r.register(
        "10-16",
        DurableFunction::new(wait_two_seconds).with_plugin(conf(INVOCATION, any)),
    );
    r.register(
        "10-17",
        DurableFunction::new(greet)
            .with_plugin(Faulty::new())
            .with_plugin(Conf::new("CONFPLUGIN-HEALTHY", EVERYTHING, steps)),
    );
    r.register(
        "10-18",
        DurableFunction::new(parallel_waits).with_plugin(conf(OPERATION, waits)),
    );
    r.register(
        "10-19",
        DurableFunction::new(wait_then_done).with_plugin(conf(INVOCATION, any).canonical()),
    );
    r.register(
        "10-20",
        DurableFunction::new(named_step).with_plugin(conf(OPERATION, steps).canonical()),
    );
    r.register(
        "10-22",
        DurableFunction::new(named_step)
            .with_plugin(conf(&[Hook::OperationChange], steps).canonical()),
    );
    r.register(
        "10-23",
        DurableFunction::new(named_branches)
            .with_plugin(conf(&[Hook::OperationStart, Hook::FunctionStart], contexts).canonical()),
    );
}
