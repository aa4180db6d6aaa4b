//! The engine behind `map` and `parallel`: an outer context whose items run
//! as child contexts, started in index order up to a concurrency limit,
//! until the completion rules say the batch is done.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use serde_json::json;

use super::DurableContext;
use super::child::MAX_STORED_RESULT;
use crate::batch::{BatchItem, BatchItemStatus, BatchResult, CompletionConfig};
use crate::engine::execution::Claim;
use crate::engine::ids::OperationId;
use crate::error::{DurableError, ErrorKind};
use crate::model::{
    ContextOptions, Operation, OperationAction, OperationStatus, OperationSubType, OperationType,
};
use crate::serdes::{Serdes, SerdesContext};

/// How items of a batch are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nesting {
    /// Each item is a child context of its own (`MapIteration`, `ParallelBranch`).
    #[default]
    Nested,
    /// Items run in virtual contexts: their operations are recorded directly
    /// under the batch, with no per-item context checkpoints (cheaper).
    Flat,
}

/// The work of one item, given its context.
pub(crate) type ItemBody<'a, O> =
    Box<dyn FnOnce(DurableContext) -> BoxFuture<'a, Result<O, DurableError>> + Send + 'a>;

/// One item: its name and its work.
pub(crate) struct Item<'a, O> {
    pub name: Option<String>,
    pub body: ItemBody<'a, O>,
}

/// How a batch runs and is recorded.
pub(crate) struct BatchOptions<O> {
    pub name: Option<String>,
    pub sub_type: OperationSubType,
    pub item_sub_type: OperationSubType,
    /// `MapResult` or `ParallelResult`, for the summary of large results.
    pub summary_type: &'static str,
    pub max_concurrency: Option<usize>,
    pub completion: CompletionConfig,
    pub nesting: Nesting,
    pub item_serdes: Arc<dyn Serdes<O>>,
    pub serdes: Arc<dyn Serdes<BatchResult<O>>>,
}

enum Mode {
    /// Run items live (replaying those already recorded).
    Run,
    /// The batch succeeded with a result too large to store: rebuild it
    /// from the recorded items without recording anything.
    Rebuild,
}

pub(crate) async fn run<O: Send + Sync + 'static>(
    parent: DurableContext,
    id: OperationId,
    options: BatchOptions<O>,
    items: Vec<Item<'_, O>>,
) -> Result<BatchResult<O>, DurableError> {
    if options.max_concurrency == Some(0) {
        return Err(DurableError::with_kind(
            ErrorKind::InvalidConfig,
            "InvalidConfigError",
            format!("max_concurrency of {} must be at least 1", id.wire),
        ));
    }
    let exec = Arc::clone(parent.exec());
    let claim = Claim {
        wire_id: &id.wire,
        operation_type: OperationType::Context,
        sub_type: &options.sub_type,
        name: options.name.as_deref(),
    };
    let recorded = match exec.claim(&claim) {
        Ok(recorded) => recorded,
        Err(error) => return exec.fail_fatally(error).await,
    };
    parent.observe(recorded.as_ref());
    let serdes_ctx = SerdesContext {
        operation_id: &id.wire,
        execution_arn: &exec.arn,
    };
    let mode = match recorded.as_ref() {
        Some(op) if op.status == OperationStatus::Succeeded && !replays_children(op) => {
            exec.mark_cached_context(&id.wire);
            return match options.serdes.deserialize(op.result(), serdes_ctx).await {
                Ok(batch) => Ok(batch),
                Err(error) => exec.fail_fatally(error).await,
            };
        }
        Some(op) if op.status == OperationStatus::Succeeded => Mode::Rebuild,
        Some(op) if op.status.is_terminal() => {
            exec.mark_cached_context(&id.wire);
            let error = op.error().cloned().unwrap_or_default();
            return Err(DurableError::from_error_object(
                ErrorKind::ChildContext,
                &error,
            ));
        }
        Some(_) => Mode::Run,
        None => {
            exec.checkpointer.enqueue(parent.update(
                &id,
                OperationType::Context,
                &options.sub_type,
                options.name.as_deref(),
                OperationAction::Start,
            ));
            Mode::Run
        }
    };
    let outer = parent.child(&id, recorded.is_some());
    let batch = run_items(&outer, &options, items, &mode).await;
    if matches!(mode, Mode::Rebuild) {
        return Ok(batch);
    }
    let payload = match options.serdes.serialize(&batch, serdes_ctx).await {
        Ok(payload) => payload,
        Err(error) => return exec.fail_fatally(error).await,
    };
    let mut succeed = parent.update(
        &id,
        OperationType::Context,
        &options.sub_type,
        options.name.as_deref(),
        OperationAction::Succeed,
    );
    if payload
        .as_ref()
        .is_some_and(|p| p.len() > MAX_STORED_RESULT)
    {
        succeed.payload = Some(summary(&batch, options.summary_type));
        succeed.context_options = Some(ContextOptions {
            replay_children: true,
        });
        exec.checkpointer.enqueue(succeed);
        return Ok(batch);
    }
    succeed.payload.clone_from(&payload);
    exec.checkpointer.enqueue(succeed);
    match options
        .serdes
        .deserialize(payload.as_deref(), serdes_ctx)
        .await
    {
        Ok(batch) => Ok(batch),
        Err(error) => exec.fail_fatally(error).await,
    }
}

fn replays_children(op: &Operation) -> bool {
    op.context_details
        .as_ref()
        .and_then(|d| d.replay_children)
        .unwrap_or(false)
}

/// What is stored instead of a result too large to store.
fn summary<O>(batch: &BatchResult<O>, summary_type: &str) -> String {
    json!({
        "type": summary_type,
        "totalCount": batch.total_count(),
        "successCount": batch.success_count(),
        "failureCount": batch.failure_count(),
        "startedCount": batch.started_count(),
        "completionReason": batch.completion_reason(),
        "status": batch.status(),
    })
    .to_string()
}

async fn run_items<O: Send + Sync + 'static>(
    outer: &DurableContext,
    options: &BatchOptions<O>,
    items: Vec<Item<'_, O>>,
    mode: &Mode,
) -> BatchResult<O> {
    let total = items.len();
    let completion = options.completion;
    let max_concurrency = options.max_concurrency.unwrap_or(usize::MAX);
    // Ids are taken up front, in index order, whatever order items run in.
    let mut queue: Vec<_> = items
        .into_iter()
        .map(|item| (outer.next_id(), item))
        .collect();
    queue.reverse();
    let mut slots: Vec<Option<BatchItem<O>>> = (0..total).map(|_| None).collect();
    let mut running = FuturesUnordered::new();
    let (mut next, mut completed, mut successes, mut failures) = (0, 0, 0, 0);
    loop {
        while running.len() < max_concurrency && completion.tolerates(failures, total) {
            let Some((id, item)) = queue.pop() else { break };
            let index = next;
            next += 1;
            slots[index] = Some(BatchItem {
                index,
                status: BatchItemStatus::Started,
                result: None,
                error: None,
            });
            if matches!(mode, Mode::Rebuild) && !was_completed(outer, options, &id) {
                continue;
            }
            let future = start_item(outer, options, id, item);
            running.push(async move { (index, future.await) });
        }
        let Some((index, outcome)) = running.next().await else {
            break;
        };
        completed += 1;
        slots[index] = Some(match outcome {
            Ok(result) => {
                successes += 1;
                BatchItem {
                    index,
                    status: BatchItemStatus::Succeeded,
                    result: Some(result),
                    error: None,
                }
            }
            Err(error) => {
                failures += 1;
                BatchItem {
                    index,
                    status: BatchItemStatus::Failed,
                    result: None,
                    error: Some(error),
                }
            }
        });
        if completion.is_complete(completed, successes, total)
            || !completion.tolerates(failures, total)
        {
            break;
        }
    }
    // Items still running are abandoned: the batch is complete without them.
    drop(running);
    let reason = completion.reason(successes, failures, completed, total);
    BatchResult::new(slots.into_iter().flatten().collect(), reason)
}

/// Whether a nested item's context was recorded as finished (FLAT items
/// have no record of their own and are always replayed).
fn was_completed<O>(outer: &DurableContext, options: &BatchOptions<O>, id: &OperationId) -> bool {
    options.nesting == Nesting::Flat
        || outer
            .exec()
            .operation(&id.wire)
            .is_some_and(|op| op.status.is_terminal())
}

fn start_item<'a, O: Send + Sync + 'static>(
    outer: &DurableContext,
    options: &BatchOptions<O>,
    id: OperationId,
    item: Item<'a, O>,
) -> BoxFuture<'a, Result<O, DurableError>> {
    match options.nesting {
        Nesting::Flat => {
            let ctx = outer.virtual_child(&id);
            Box::pin(async move {
                (item.body)(ctx)
                    .await
                    .map_err(|error| error.rebuilt_as(ErrorKind::ChildContext))
            })
        }
        Nesting::Nested => {
            let mut child = outer
                .child_context_at(id, item.body, Arc::clone(&options.item_serdes))
                .sub_type(options.item_sub_type.clone());
            if let Some(name) = item.name {
                child = child.name(name);
            }
            std::future::IntoFuture::into_future(child)
        }
    }
}
