//! Checkpoint batching.
//!
//! Operations queue their updates and say how durable they need them:
//! `enqueue` returns a sequence number, `flush_through(seq)` returns once
//! everything up to it is recorded. One send carries everything queued so
//! far (up to the batch limit), so an at-least-once step's START and SUCCEED
//! travel together, and concurrent branches share writes. Updates nobody
//! waits for are sent by the background flusher after a short window.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use super::execution::{Execution, Termination};
use crate::error::{DurableError, ErrorKind, InvocationError};
use crate::model::OperationUpdate;
use crate::store::{CheckpointStore, StoreError};

/// Largest batch sent in one call (the Lambda SDKs use 750 KB).
pub(crate) const MAX_BATCH_BYTES: usize = 750 * 1024;

/// How long an update nobody waits for may sit in the queue.
const FLUSH_WINDOW: Duration = Duration::from_millis(10);

struct Queue {
    pending: Vec<(u64, OperationUpdate)>,
    next_seq: u64,
}

pub(crate) struct Checkpointer {
    store: Arc<dyn CheckpointStore>,
    arn: String,
    queue: Mutex<Queue>,
    durable_seq: AtomicU64,
    /// Held while a batch is in flight; holds the current token.
    sender: tokio::sync::Mutex<Option<String>>,
    queued: Notify,
}

impl Checkpointer {
    pub(crate) fn new(store: Arc<dyn CheckpointStore>, arn: String, token: String) -> Self {
        Self {
            store,
            arn,
            queue: Mutex::new(Queue {
                pending: Vec::new(),
                next_seq: 1,
            }),
            durable_seq: AtomicU64::new(0),
            sender: tokio::sync::Mutex::new(Some(token)),
            queued: Notify::new(),
        }
    }

    /// Queues an update without waiting; returns its sequence number.
    pub(crate) fn enqueue(&self, update: OperationUpdate) -> u64 {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let seq = queue.next_seq;
        queue.next_seq += 1;
        queue.pending.push((seq, update));
        drop(queue);
        self.queued.notify_one();
        seq
    }

    /// The sequence number of the last queued update.
    pub(crate) fn last_seq(&self) -> u64 {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_seq
            - 1
    }

    pub(crate) fn is_sending(&self) -> bool {
        self.sender.try_lock().is_err()
    }

    /// Returns once every update up to `seq` is recorded. On failure the
    /// invocation is terminated and the error returned.
    pub(crate) async fn flush_through(&self, exec: &Execution, seq: u64) -> Result<(), ()> {
        while self.durable_seq.load(Ordering::SeqCst) < seq {
            let mut token = self.sender.lock().await;
            if self.durable_seq.load(Ordering::SeqCst) >= seq {
                break;
            }
            if exec.is_terminating() {
                return Err(());
            }
            // The batch stays queued until the store accepts it: if this
            // future is dropped mid-send, the next flush sends it again (and
            // a stale token then tells whether the first send got through).
            let (last, count, updates) = self.peek_batch();
            if count == 0 {
                break;
            }
            let Some(current) = token.clone() else {
                let error = StoreError::ExecutionEnded {
                    execution_arn: self.arn.clone(),
                };
                exec.terminate(Termination::Invocation(InvocationError::Checkpoint(error)));
                return Err(());
            };

            match self.send(&current, updates).await {
                Ok((next, operations)) => {
                    *token = next;
                    self.queue
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .pending
                        .drain(..count);
                    self.durable_seq.fetch_max(last, Ordering::SeqCst);
                    exec.merge(operations);
                }
                Err(error) => {
                    tracing::warn!(execution_arn = %self.arn, %error, "checkpoint failed");
                    exec.terminate(termination_for(error));
                    return Err(());
                }
            }
        }
        Ok(())
    }

    /// Sends everything queued so far.
    pub(crate) async fn flush_all(&self, exec: &Execution) -> Result<(), ()> {
        self.flush_through(exec, self.last_seq()).await
    }

    /// Sends updates nobody waits for, a short while after they are queued.
    pub(crate) async fn run_background(&self, exec: &Execution) {
        loop {
            self.queued.notified().await;
            tokio::time::sleep(FLUSH_WINDOW).await;
            if self.flush_all(exec).await.is_err() {
                return;
            }
        }
    }

    /// The next batch to send (its last sequence number, its length, a copy
    /// of its updates), left in the queue.
    fn peek_batch(&self) -> (u64, usize, Vec<OperationUpdate>) {
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let mut size = 0;
        let mut count = 0;
        for (_, update) in &queue.pending {
            size += update.wire_size();
            if count > 0 && size > MAX_BATCH_BYTES {
                break;
            }
            count += 1;
        }
        let batch = &queue.pending[..count];
        let last = batch.last().map_or(0, |(seq, _)| *seq);
        (
            last,
            count,
            batch.iter().map(|(_, update)| update.clone()).collect(),
        )
    }

    async fn send(
        &self,
        token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<(Option<String>, Vec<crate::model::Operation>), StoreError> {
        let response = self.store.checkpoint(&self.arn, token, updates).await?;
        let mut operations = response.new_execution_state.operations;
        let mut marker = response
            .new_execution_state
            .next_marker
            .filter(|m| !m.is_empty());
        if let Some(next_token) = response.checkpoint_token.as_deref() {
            while let Some(page_marker) = marker {
                let page = self
                    .store
                    .state(&self.arn, next_token, Some(&page_marker))
                    .await?;
                operations.extend(page.operations);
                marker = page.next_marker.filter(|m| !m.is_empty());
            }
        }
        Ok((response.checkpoint_token, operations))
    }
}

/// A rejected batch will be rejected again: the execution fails. Anything
/// else ends this invocation and leaves the next one to try.
fn termination_for(error: StoreError) -> Termination {
    match error {
        StoreError::Rejected { message } => Termination::Fatal(DurableError::with_kind(
            ErrorKind::CheckpointRejected,
            "CheckpointRejectedError",
            format!("the service rejected a checkpoint: {message}"),
        )),
        other => Termination::Invocation(InvocationError::Checkpoint(other)),
    }
}
