//! The engine behind `map` and `parallel`: an outer context whose items run
//! as child contexts, started in index order up to a concurrency limit,
//! until the completion rules say the batch is done.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use serde::Deserialize;
use serde_json::json;

use super::DurableContext;
use super::child::MAX_STORED_RESULT;
use crate::batch::{BatchItem, BatchItemStatus, BatchResult, CompletionConfig, CompletionReason};
use crate::engine::execution::Claim;
use crate::engine::ids::OperationId;
use crate::error::{DurableError, ErrorKind};
use crate::model::{
    ContextOptions, Operation, OperationAction, OperationStatus, OperationSubType, OperationType,
};
use crate::serdes::{Serdes, SerdesContext};

/// `summary_type` of `map`.
pub(crate) const MAP_SUMMARY: &str = "MapResult";
/// `summary_type` of `parallel`.
pub(crate) const PARALLEL_SUMMARY: &str = "ParallelResult";

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
    /// from the recorded items, guided by the stored summary.
    Rebuild(Summary),
}

/// What is stored instead of a batch result too large to store.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    /// Items started (a prefix of the items: they start in index order).
    total_count: Option<usize>,
    success_count: Option<usize>,
    failure_count: Option<usize>,
    completion_reason: Option<CompletionReason>,
}

impl Summary {
    /// Reads the stored summary; an unreadable one guides nothing.
    fn parse(payload: Option<&str>) -> Self {
        payload
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default()
    }

    /// Whether the batch already has as many items ending in `status` as
    /// the summary counts.
    fn counted<O>(&self, status: OperationStatus, tally: &Tally<O>) -> bool {
        if status == OperationStatus::Succeeded {
            self.success_count.is_some_and(|n| tally.successes >= n)
        } else {
            self.failure_count.is_some_and(|n| tally.failures >= n)
        }
    }
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
    let recorded = parent
        .claim(
            &id,
            OperationType::Context,
            &options.sub_type,
            options.name.as_deref(),
        )
        .await;
    let serdes_ctx = SerdesContext {
        operation_id: &id.wire,
        execution_arn: &exec.arn,
    };
    let mode = match recorded.as_ref() {
        Some(op) if op.status == OperationStatus::Succeeded && !replays_children(op) => {
            exec.mark_cached_context(&id.wire);
            return match exec
                .deserialize(&*options.serdes, op.result(), serdes_ctx)
                .await
            {
                Ok(batch) => Ok(batch),
                Err(error) => exec.fail_fatally(error).await,
            };
        }
        Some(op) if op.status == OperationStatus::Succeeded => {
            Mode::Rebuild(Summary::parse(op.result()))
        }
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
    let batch = match mode {
        Mode::Run => run_items(&outer, &id, &options, items).await,
        Mode::Rebuild(summary) => return Ok(rebuild(&outer, &id, &options, items, &summary).await),
    };
    let payload = match exec.serialize(&*options.serdes, &batch, serdes_ctx).await {
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
        ended(&parent, &id, &options);
        return Ok(batch);
    }
    succeed.payload.clone_from(&payload);
    exec.checkpointer.enqueue(succeed);
    ended(&parent, &id, &options);
    match exec
        .deserialize(&*options.serdes, payload.as_deref(), serdes_ctx)
        .await
    {
        Ok(batch) => Ok(batch),
        Err(error) => exec.fail_fatally(error).await,
    }
}

fn ended<O>(parent: &DurableContext, id: &OperationId, options: &BatchOptions<O>) {
    let name = options.name.as_deref();
    parent.ended(
        id,
        OperationType::Context,
        &options.sub_type,
        name,
        OperationStatus::Succeeded,
        None,
    );
}

fn replays_children(op: &Operation) -> bool {
    op.context_details
        .as_ref()
        .and_then(|d| d.replay_children)
        .unwrap_or(false)
}

/// What is stored instead of a result too large to store.
fn summary<O>(batch: &BatchResult<O>, summary_type: &str) -> String {
    let mut summary = json!({
        "type": summary_type,
        "totalCount": batch.total_count(),
        "successCount": batch.success_count(),
        "failureCount": batch.failure_count(),
        "completionReason": batch.completion_reason(),
        "status": batch.status(),
    });
    // As in the reference SDKs, only parallel summaries count started items.
    if summary_type == PARALLEL_SUMMARY {
        summary["startedCount"] = json!(batch.started_count());
    }
    summary.to_string()
}

/// An item and the id it runs at.
type Entry<'a, O> = (OperationId, Item<'a, O>);

/// Each item's id and name.
type Names = Vec<(OperationId, Option<String>)>;

/// The items of a batch as they complete.
struct Tally<O> {
    /// One slot per item; `None` until the item starts.
    slots: Vec<Option<BatchItem<O>>>,
    completed: usize,
    successes: usize,
    failures: usize,
}

impl<O> Tally<O> {
    fn new(total: usize) -> Self {
        Self {
            slots: (0..total).map(|_| None).collect(),
            completed: 0,
            successes: 0,
            failures: 0,
        }
    }

    fn start(&mut self, index: usize) {
        self.slots[index] = Some(BatchItem {
            index,
            status: BatchItemStatus::Started,
            result: None,
            error: None,
        });
    }

    fn finish(&mut self, index: usize, outcome: Result<O, DurableError>) {
        self.completed += 1;
        self.slots[index] = Some(match outcome {
            Ok(result) => {
                self.successes += 1;
                BatchItem {
                    index,
                    status: BatchItemStatus::Succeeded,
                    result: Some(result),
                    error: None,
                }
            }
            Err(error) => {
                self.failures += 1;
                BatchItem {
                    index,
                    status: BatchItemStatus::Failed,
                    result: None,
                    error: Some(error),
                }
            }
        });
    }

    /// Items that started and did not finish.
    fn unfinished(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .flatten()
            .filter(|item| item.status == BatchItemStatus::Started)
            .map(|item| item.index)
    }

    fn into_result(self, reason: CompletionReason) -> BatchResult<O> {
        BatchResult::new(self.slots.into_iter().flatten().collect(), reason)
    }
}

/// Takes the items' ids up front, in index order, whatever order they run in.
fn entries<'a, O>(outer: &DurableContext, items: Vec<Item<'a, O>>) -> (Vec<Entry<'a, O>>, Names) {
    let entries: Vec<_> = items
        .into_iter()
        .map(|item| (outer.next_id(), item))
        .collect();
    let names = entries
        .iter()
        .map(|(id, item)| (id.clone(), item.name.clone()))
        .collect();
    (entries, names)
}

async fn run_items<O: Send + Sync + 'static>(
    outer: &DurableContext,
    batch_id: &OperationId,
    options: &BatchOptions<O>,
    items: Vec<Item<'_, O>>,
) -> BatchResult<O> {
    let total = items.len();
    let completion = options.completion;
    let (entries, names) = entries(outer, items);
    let tally = drive(
        outer,
        options,
        entries,
        total,
        |t| completion.tolerates(t.failures, total),
        |t| {
            completion.is_complete(t.completed, t.successes, total)
                || !completion.tolerates(t.failures, total)
        },
    )
    .await;
    release_unfinished(outer, batch_id, options, &tally, &names).await;
    let reason = completion.reason(tally.successes, tally.failures, tally.completed, total);
    tally.into_result(reason)
}

/// Starts items in index order, up to the concurrency limit and while
/// `may_start` allows, until `done` says the batch is complete or every
/// started item finished. Items still running then are dropped.
async fn drive<O: Send + Sync + 'static>(
    outer: &DurableContext,
    options: &BatchOptions<O>,
    entries: Vec<Entry<'_, O>>,
    total: usize,
    may_start: impl Fn(&Tally<O>) -> bool,
    done: impl Fn(&Tally<O>) -> bool,
) -> Tally<O> {
    let max_concurrency = options.max_concurrency.unwrap_or(usize::MAX);
    let mut tally = Tally::new(total);
    let mut queue = entries.into_iter().enumerate();
    let mut running = FuturesUnordered::new();
    // Items that finished when they started, not yet counted.
    let mut finished = VecDeque::new();
    loop {
        // Every item of a wave starts (and records its START) before any
        // completion is counted, as in the reference SDKs.
        while running.len() + finished.len() < max_concurrency && may_start(&tally) {
            let Some((index, (id, item))) = queue.next() else {
                break;
            };
            tally.start(index);
            let mut future = start_item(outer, options, id, item);
            match poll_once(&mut future).await {
                Poll::Ready(outcome) => finished.push_back((index, outcome)),
                Poll::Pending => running.push(async move { (index, future.await) }),
            }
        }
        let next = match finished.pop_front() {
            Some(next) => Some(next),
            None => running.next().await,
        };
        let Some((index, outcome)) = next else {
            break;
        };
        tally.finish(index, outcome);
        if done(&tally) {
            break;
        }
    }
    tally
}

/// Polls a future once, in the current task.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// Rebuilds a batch whose result was too large to store: the items the
/// summary counts as started are replayed from their records, and nothing
/// new is recorded.
async fn rebuild<O: Send + Sync + 'static>(
    outer: &DurableContext,
    batch_id: &OperationId,
    options: &BatchOptions<O>,
    items: Vec<Item<'_, O>>,
    summary: &Summary,
) -> BatchResult<O> {
    let total = items.len();
    let completion = options.completion;
    let (mut entries, names) = entries(outer, items);
    // Items start in index order, so the started ones are a prefix.
    entries.truncate(summary.total_count.unwrap_or(total));
    let started = entries.len();
    let tally = match options.nesting {
        // Each item's own record says how it ended.
        Nesting::Nested => {
            let mut tally = Tally::new(total);
            for (index, (id, item)) in entries.into_iter().enumerate() {
                let status = outer.exec().operation(&id.wire).map(|op| op.status);
                match status {
                    Some(status) if status.is_terminal() && !summary.counted(status, &tally) => {
                        tally.start(index);
                        let outcome = start_item(outer, options, id, item).await;
                        tally.finish(index, outcome);
                    }
                    // Still running when the batch completed, or finished
                    // only after that (when items finished together).
                    Some(_) => tally.start(index),
                    // Not recorded: it never started (only possible
                    // when the summary does not say how many did).
                    None => {}
                }
            }
            tally
        }
        // Items have no record of their own: replay them as they ran,
        // until as many finished as the summary counts.
        Nesting::Flat => {
            let finished = summary
                .success_count
                .zip(summary.failure_count)
                .map(|(s, f)| s + f);
            drive(
                outer,
                options,
                entries,
                total,
                |_| true,
                |t| finished.is_some_and(|f| t.completed >= f) || t.completed == started,
            )
            .await
        }
    };
    release_unfinished(outer, batch_id, options, &tally, &names).await;
    let reason = summary.completion_reason.unwrap_or_else(|| {
        completion.reason(tally.successes, tally.failures, tally.completed, total)
    });
    tally.into_result(reason)
}

/// Items still running when the batch completed are abandoned: what they
/// recorded (in this or an earlier invocation) is orphaned, not code the
/// replay failed to reach.
async fn release_unfinished<O>(
    outer: &DurableContext,
    batch_id: &OperationId,
    options: &BatchOptions<O>,
    tally: &Tally<O>,
    names: &Names,
) {
    let exec = outer.exec();
    match options.nesting {
        Nesting::Nested => {
            for index in tally.unfinished() {
                let (id, name) = &names[index];
                let claim = Claim {
                    wire_id: &id.wire,
                    operation_type: OperationType::Context,
                    sub_type: &options.item_sub_type,
                    name: name.as_deref(),
                };
                if let Err(error) = exec.claim(&claim) {
                    return exec.fail_fatally(error).await;
                }
                exec.mark_cached_context(&id.wire);
            }
        }
        // Their operations are recorded under the batch itself.
        Nesting::Flat => {
            if tally.unfinished().next().is_some() {
                exec.mark_cached_context(&batch_id.wire);
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn batch() -> BatchResult<u32> {
        let item = |index, status, result| BatchItem {
            index,
            status,
            result,
            error: None,
        };
        BatchResult::new(
            vec![
                item(0, BatchItemStatus::Succeeded, Some(1)),
                item(1, BatchItemStatus::Started, None),
            ],
            CompletionReason::MinSuccessfulReached,
        )
    }

    #[test]
    fn only_parallel_summaries_count_started_items() {
        let map: Value = serde_json::from_str(&summary(&batch(), MAP_SUMMARY)).unwrap();
        assert_eq!(
            map,
            json!({
                "type": "MapResult",
                "totalCount": 2,
                "successCount": 1,
                "failureCount": 0,
                "completionReason": "MIN_SUCCESSFUL_REACHED",
                "status": "SUCCEEDED",
            })
        );
        let parallel: Value = serde_json::from_str(&summary(&batch(), PARALLEL_SUMMARY)).unwrap();
        assert_eq!(parallel["type"], "ParallelResult");
        assert_eq!(parallel["startedCount"], 1);
    }

    #[test]
    fn summaries_guide_the_rebuild() {
        let stored = summary(&batch(), PARALLEL_SUMMARY);
        let parsed = Summary::parse(Some(&stored));
        assert_eq!(
            parsed,
            Summary {
                total_count: Some(2),
                success_count: Some(1),
                failure_count: Some(0),
                completion_reason: Some(CompletionReason::MinSuccessfulReached),
            }
        );
        let mut tally = Tally::<u32>::new(2);
        assert!(!parsed.counted(OperationStatus::Succeeded, &tally));
        assert!(parsed.counted(OperationStatus::Failed, &tally));
        tally.start(0);
        tally.finish(0, Ok(1));
        assert!(parsed.counted(OperationStatus::Succeeded, &tally));
        assert_eq!(Summary::parse(Some("not json")), Summary::default());
        assert_eq!(Summary::parse(None), Summary::default());
    }
}
