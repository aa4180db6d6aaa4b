//! Shared test support: an in-memory store behind a checkpoint store that
//! counts calls and can take time like a network call, and a harness that
//! drives an execution invocation by invocation.

#![allow(dead_code)] // each test crate uses part of it

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use durable_core::model::{ExecutionState, InvocationOutput, OperationUpdate};
use durable_core::service::InvocationOutcome;
use durable_core::{CheckpointResponse, CheckpointStore, DurableFunction, StoreError, invocation};
use durable_testing::{MemoryStore, VirtualClock};

/// Counts checkpoint calls (and their batch sizes), optionally slowed down.
pub struct Slow {
    pub inner: Arc<MemoryStore>,
    pub delay_ms: u64,
    pub calls: AtomicUsize,
    pub log: std::sync::Mutex<Vec<usize>>,
}

#[async_trait]
impl CheckpointStore for Slow {
    async fn checkpoint(
        &self,
        arn: &str,
        token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointResponse, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.log.lock().unwrap().push(updates.len());
        tokio::time::sleep(Duration::from_millis(self.delay_ms)).await; // request in flight
        self.inner.checkpoint(arn, token, updates).await
    }
    async fn state(
        &self,
        arn: &str,
        token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, StoreError> {
        self.inner.state(arn, token, marker).await
    }
}

/// Drives one execution by hand, firing timers between invocations.
pub struct Harness {
    pub memory: Arc<MemoryStore>,
    pub store: Arc<Slow>,
    pub clock: Arc<VirtualClock>,
    pub arn: String,
    pub n: usize,
}
impl Harness {
    pub fn new(delay_ms: u64) -> Self {
        let clock = Arc::new(VirtualClock::starting_now());
        let memory = Arc::new(MemoryStore::with_clock(clock.clone()));
        let store = Arc::new(Slow {
            inner: memory.clone(),
            delay_ms,
            calls: AtomicUsize::new(0),
            log: std::sync::Mutex::default(),
        });
        let arn = memory.start_execution("f", None, None);
        Self {
            memory,
            store,
            clock,
            arn,
            n: 0,
        }
    }
    pub async fn invoke(&mut self, f: &DurableFunction) -> Result<InvocationOutput, String> {
        let env = self
            .memory
            .begin_invocation(&self.arn, &format!("r{}", self.n))
            .unwrap();
        self.n += 1;
        let out = tokio::time::timeout(
            Duration::from_secs(3),
            invocation::run(f, env, self.store.clone()),
        )
        .await
        .map_err(|_| {
            format!(
                "invocation hung; checkpoint calls so far: {}",
                self.store.calls.load(Ordering::SeqCst)
            )
        })?
        .map_err(|e| format!("invocation error: {e}"))?;
        self.memory
            .complete_invocation(&self.arn, InvocationOutcome::Returned(out.clone()))
            .unwrap();
        if let Some(w) = self.memory.next_wake_up(&self.arn).unwrap() {
            self.clock.advance_to(w);
        }
        self.memory.fire_due();
        Ok(out)
    }
}
