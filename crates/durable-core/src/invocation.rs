//! One invocation of a durable handler: envelope in, outcome out.
//!
//! The driver polls the handler future itself. When the handler cannot make
//! progress without the service (it waits on a timer, a retry, a callback or
//! an invoke; no step body runs; no checkpoint is in flight; nothing has
//! woken it), the invocation flushes its queue and ends with PENDING, and the
//! handler future is dropped: user code cannot observe or catch suspension.

use std::collections::HashSet;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};

use crate::context::DurableContext;
use crate::engine::Execution;
use crate::engine::checkpoint::Checkpointer;
use crate::engine::execution::Termination;
use crate::error::{DurableError, ErrorKind, InvocationError};
use crate::function::DurableFunction;
use crate::model::{
    ErrorObject, InvocationInput, InvocationOutput, Operation, OperationAction, OperationType,
    OperationUpdate,
};
use crate::plugin::{InvocationEndInfo, InvocationStartInfo, OperationInfo};
use crate::store::CheckpointStore;

/// The largest result returned inline; larger ones are checkpointed (the
/// Lambda response limit minus the envelope, as in the reference SDKs).
pub const MAX_INLINE_RESULT: usize = 6 * 1024 * 1024 - 50;

/// Runs one invocation of `function` for the execution described by `input`.
///
/// Returns the output for the service: SUCCEEDED, FAILED, or PENDING when the
/// handler suspended. An `Err` means the invocation itself failed (its
/// checkpoint token went stale, the store was unreachable) and the service
/// should invoke again. A panic in the handler propagates: to the service it
/// is a crashed invocation.
pub async fn run(
    function: &DurableFunction,
    input: InvocationInput,
    store: Arc<dyn CheckpointStore>,
) -> Result<InvocationOutput, InvocationError> {
    run_with(function, input, store, &InvocationMeta::default()).await
}

/// What the runtime knows about an invocation beyond its envelope.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct InvocationMeta {
    /// The runtime's id for this invocation (Lambda's request id).
    pub request_id: Option<String>,
}

impl InvocationMeta {
    /// Meta data with a request id.
    pub fn with_request_id(request_id: impl Into<String>) -> Self {
        Self {
            request_id: Some(request_id.into()),
        }
    }
}

/// [`run`], with what the runtime knows about the invocation (for plugins).
pub async fn run_with(
    function: &DurableFunction,
    input: InvocationInput,
    store: Arc<dyn CheckpointStore>,
    meta: &InvocationMeta,
) -> Result<InvocationOutput, InvocationError> {
    if input.durable_execution_arn.is_empty() {
        return Err(InvocationError::InvalidEnvelope(
            "DurableExecutionArn is missing".into(),
        ));
    }
    if input.checkpoint_token.is_empty() {
        return Err(InvocationError::InvalidEnvelope(
            "CheckpointToken is missing".into(),
        ));
    }
    let arn = input.durable_execution_arn;
    let token = input.checkpoint_token;
    let mut operations = input.initial_execution_state.operations;
    let mut marker = input
        .initial_execution_state
        .next_marker
        .filter(|m| !m.is_empty());
    while let Some(page_marker) = marker {
        let page = store.state(&arn, &token, Some(&page_marker)).await?;
        operations.extend(page.operations);
        marker = page.next_marker.filter(|m| !m.is_empty());
    }
    let execution_op = find_execution_operation(&arn, &operations);
    let execution_id = execution_op.map(|op| op.id.clone());
    let payload = execution_op
        .and_then(|op| op.execution_details.as_ref())
        .and_then(|d| d.input_payload.clone())
        .filter(|p| !p.is_empty());

    let execution_start = execution_op.map(|op| op.start_timestamp);
    let is_first = !operations
        .iter()
        .any(|op| op.operation_type != OperationType::Execution);
    let updated_ids: HashSet<String> = input
        .updated_operation_ids
        .unwrap_or_default()
        .into_iter()
        .collect();
    let updated: Vec<OperationInfo> = operations
        .iter()
        .filter(|op| updated_ids.contains(&op.id))
        .map(|op| OperationInfo::from_operation(op, false))
        .collect();
    let operations_count = operations.len();

    let plugins = function.plugins().clone();
    let start = InvocationStartInfo {
        execution_arn: &arn,
        request_id: meta.request_id.as_deref(),
        is_first_invocation: is_first,
        operations_count,
        updated_operations: &updated,
        execution_start_timestamp: execution_start,
    };
    plugins.emit("invocation-start", |p| p.on_invocation_start(&start));

    let checkpointer = Checkpointer::new(store, arn.clone(), token);
    let exec = Execution::new(
        arn.clone(),
        checkpointer,
        operations,
        plugins.clone(),
        updated_ids,
    );
    let handler = function.call(payload, DurableContext::root(Arc::clone(&exec)));
    let outcome = drive(&exec, handler).await;
    let output = finish(&exec, execution_id, outcome).await;

    let (status, error) = match &output {
        Ok(output) => (Some(output.status), output.error.clone()),
        Err(error) => (
            None,
            Some(ErrorObject::new("InvocationError", error.to_string())),
        ),
    };
    let end = InvocationEndInfo {
        execution_arn: &arn,
        request_id: meta.request_id.as_deref(),
        is_first_invocation: is_first,
        operations_count: exec.operations_count(),
        execution_start_timestamp: execution_start,
        status,
        error,
    };
    plugins.emit("invocation-end", |p| p.on_invocation_end(&end));
    output
}

/// The EXECUTION operation: its id is the last segment of the ARN.
fn find_execution_operation<'a>(arn: &str, operations: &'a [Operation]) -> Option<&'a Operation> {
    let id = arn.rsplit('/').next().unwrap_or(arn);
    operations
        .iter()
        .find(|op| op.operation_type == OperationType::Execution && op.id == id)
        .or_else(|| {
            operations
                .iter()
                .find(|op| op.operation_type == OperationType::Execution)
        })
}

enum Outcome {
    Done(Result<Option<String>, DurableError>),
    Terminated(Termination),
    Suspended,
}

async fn drive(
    exec: &Arc<Execution>,
    handler: impl Future<Output = Result<Option<String>, DurableError>>,
) -> Outcome {
    let handler = WithStarted {
        handler,
        tasks: FuturesUnordered::new(),
        exec: Arc::clone(exec),
    };
    let mut handler = std::pin::pin!(WakeTracked::new(handler));
    let mut background = std::pin::pin!(exec.checkpointer.run_background(exec).fuse());
    let mut done = None;
    loop {
        let step = poll_fn(|cx| {
            if done.is_none()
                && let Poll::Ready(result) = handler.as_mut().poll(cx)
            {
                done = Some(result);
            }
            let _ = background.as_mut().poll(cx);
            // A termination wins over the handler's own result: user code
            // must not be able to swallow a non-determinism error.
            if let Some(termination) = exec.take_termination() {
                return Poll::Ready(Outcome::Terminated(termination));
            }
            if let Some(result) = done.take() {
                // Let a background send finish rather than cut it off.
                if exec.checkpointer.is_sending() {
                    done = Some(result);
                    return Poll::Pending;
                }
                return Poll::Ready(Outcome::Done(result));
            }
            if exec.is_stuck() && !handler.woken() {
                return Poll::Ready(Outcome::Suspended);
            }
            Poll::Pending
        })
        .await;
        match step {
            Outcome::Suspended => {
                // Record everything queued; the answer may unblock something.
                if exec.checkpointer.flush_all(exec).await.is_err() {
                    continue;
                }
                if exec.is_stuck() && !handler.woken() {
                    return Outcome::Suspended;
                }
            }
            done => return done,
        }
    }
}

async fn finish(
    exec: &Arc<Execution>,
    execution_id: Option<String>,
    outcome: Outcome,
) -> Result<InvocationOutput, InvocationError> {
    let result = match outcome {
        Outcome::Suspended => return Ok(InvocationOutput::pending()),
        Outcome::Terminated(termination) => return terminated(termination),
        Outcome::Done(result) => result,
    };
    if exec.checkpointer.flush_all(exec).await.is_err() {
        return exec
            .take_termination()
            .map_or_else(|| Ok(InvocationOutput::pending()), terminated);
    }
    match result {
        Ok(result) => {
            let unclaimed = exec.unclaimed();
            if !unclaimed.is_empty() {
                let listed: Vec<String> = unclaimed.iter().take(3).map(describe).collect();
                let more = unclaimed.len().saturating_sub(3);
                let error = DurableError::with_kind(
                    ErrorKind::NonDeterministic,
                    "NonDeterministicExecutionError",
                    format!(
                        "the execution recorded operations that the code no longer performs: {}{}; \
                         the workflow code changed in a way that breaks replay",
                        listed.join(", "),
                        if more > 0 {
                            format!(" and {more} more")
                        } else {
                            String::new()
                        },
                    ),
                );
                return Ok(InvocationOutput::failed(Some(error.to_error_object())));
            }
            succeed(exec, execution_id, result).await
        }
        Err(error) => Ok(InvocationOutput::failed(Some(error.to_error_object()))),
    }
}

/// Returns the result inline, or checkpoints it first when it is too large.
async fn succeed(
    exec: &Arc<Execution>,
    execution_id: Option<String>,
    result: Option<String>,
) -> Result<InvocationOutput, InvocationError> {
    let Some(large) = result.as_ref().filter(|r| r.len() > MAX_INLINE_RESULT) else {
        return Ok(InvocationOutput::succeeded(result));
    };
    let id = execution_id.unwrap_or_else(|| {
        format!(
            "execution-result-{}",
            crate::model::Timestamp::now().as_millis()
        )
    });
    let mut update = OperationUpdate::new(id, OperationType::Execution, OperationAction::Succeed);
    update.payload = Some(large.clone());
    let seq = exec.checkpointer.enqueue(update);
    if exec.checkpointer.flush_through(exec, seq).await.is_err() {
        return exec
            .take_termination()
            .map_or_else(|| Ok(InvocationOutput::pending()), terminated);
    }
    Ok(InvocationOutput::succeeded(Some(String::new())))
}

fn describe(op: &Operation) -> String {
    format!(
        "{} {} {:?} (id {})",
        op.operation_type,
        op.sub_type.as_ref().map_or("-", |s| s.as_str()),
        op.name.as_deref().unwrap_or(""),
        op.id
    )
}

fn terminated(termination: Termination) -> Result<InvocationOutput, InvocationError> {
    match termination {
        Termination::Fatal(error) => Ok(InvocationOutput::failed(Some(error.to_error_object()))),
        Termination::Invocation(error) => Err(error),
    }
}

pin_project_lite::pin_project! {
    /// The handler together with the operations it started early: polling
    /// one polls all, so they share the handler's wake tracking and are
    /// dropped with it when the invocation ends.
    struct WithStarted<H> {
        #[pin]
        handler: H,
        tasks: FuturesUnordered<BoxFuture<'static, ()>>,
        exec: Arc<Execution>,
    }
}

impl<H: Future> Future for WithStarted<H> {
    type Output = H::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<H::Output> {
        let this = self.project();
        let output = this.handler.poll(cx);
        // Started operations may start more; run until none are new.
        loop {
            let new = this.exec.take_spawned();
            if new.is_empty() {
                break;
            }
            this.tasks.extend(new);
            while let Poll::Ready(Some(())) = this.tasks.poll_next_unpin(cx) {}
        }
        while let Poll::Ready(Some(())) = this.tasks.poll_next_unpin(cx) {}
        output
    }
}

/// Remembers whether the wrapped future was woken since it was last polled.
struct WakeFlag {
    woken: AtomicBool,
    outer: Mutex<Option<Waker>>,
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if let Some(waker) = self
            .outer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            waker.wake_by_ref();
        }
    }
}

pin_project_lite::pin_project! {
    struct WakeTracked<F> {
        #[pin]
        inner: F,
        flag: Arc<WakeFlag>,
        waker: Waker,
    }
}

impl<F: Future> WakeTracked<F> {
    fn new(inner: F) -> Self {
        let flag = Arc::new(WakeFlag {
            woken: AtomicBool::new(false),
            outer: Mutex::new(None),
        });
        let waker = Waker::from(Arc::clone(&flag));
        Self { inner, flag, waker }
    }

    fn woken(&self) -> bool {
        self.flag.woken.load(Ordering::SeqCst)
    }
}

impl<F: Future> Future for WakeTracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        {
            let mut outer = this
                .flag
                .outer
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !outer.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *outer = Some(cx.waker().clone());
            }
        }
        this.flag.woken.store(false, Ordering::SeqCst);
        this.inner.poll(&mut Context::from_waker(this.waker))
    }
}
