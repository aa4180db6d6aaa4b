//! Workers over the memory backend with the real engine, in real time.

mod chained;
mod crash;
mod wake;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use durable_core::model::ExecutionStatus;
use durable_core::service::ServiceConfig;
use durable_core::{DurableContext, DurableError, DurableFunction};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::*;
use crate::driver::FUNCTION_NOT_FOUND_ERROR;
use crate::{ExecutionDescription, MemoryPersistence};

type TestService = Arc<Service<MemoryPersistence>>;

/// Side effects, counted per step, and invocations of one execution that
/// ran at the same time.
#[derive(Debug, Clone, Default)]
struct Counts(Arc<Mutex<HashMap<String, usize>>>);

/// Marks an invocation of execution `key` as running until dropped (the
/// handler's future is dropped when the invocation ends or suspends).
struct InFlight {
    counts: Counts,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *self
            .counts
            .0
            .lock()
            .unwrap()
            .entry(self.key.clone())
            .or_default() -= 1;
    }
}

impl Counts {
    /// Enters an invocation of `input`; counts an overlap if one was running.
    fn enter(&self, input: u32) -> InFlight {
        let key = format!("running-{input}");
        let mut counts = self.0.lock().unwrap();
        let running = counts.entry(key.clone()).or_default();
        *running += 1;
        if *running > 1 {
            *counts.entry("overlaps".into()).or_default() += 1;
        }
        InFlight {
            counts: self.clone(),
            key,
        }
    }

    /// The step counts (not the bookkeeping of [`enter`](Self::enter)).
    fn steps(&self) -> HashMap<String, usize> {
        let mut all = self.all();
        all.retain(|key, _| !key.starts_with("running-") && key != "overlaps");
        all
    }

    fn bump(&self, key: String) {
        *self.0.lock().unwrap().entry(key).or_default() += 1;
    }

    fn get(&self, key: &str) -> usize {
        self.0.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    fn all(&self) -> HashMap<String, usize> {
        self.0.lock().unwrap().clone()
    }
}

/// A service on the wall clock that retries failed invocations quickly.
fn service() -> TestService {
    let config = ServiceConfig {
        failed_invocation_backoff: Duration::from_millis(50),
        ..ServiceConfig::default()
    };
    Arc::new(Service::new(MemoryPersistence::new()).with_config(config))
}

/// A worker with short leases and polls.
fn worker(service: &TestService, id: &str) -> Worker<MemoryPersistence> {
    Worker::new(service.clone())
        .worker_id(id)
        .concurrency(4)
        .lease(Duration::from_millis(600))
        .poll_interval(Duration::from_millis(20))
        .reconcile_interval(Duration::from_millis(200))
}

/// A running worker and the switch that shuts it down.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    fn spawn(worker: Worker<MemoryPersistence>) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(worker.run_until(async {
            let _ = stopped.await;
        }));
        Self { stop, task }
    }

    async fn shutdown(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .unwrap()
            .unwrap();
    }
}

/// Step `a`, a wait, step `b`; counts each step's runs under `{input}-a` / `{input}-b`.
fn step_wait_step(counts: &Counts, wait: Duration) -> DurableFunction {
    let counts = counts.clone();
    DurableFunction::new(move |input: u32, ctx: DurableContext| {
        let counts = counts.clone();
        async move {
            let _running = counts.enter(input);
            let a_counts = counts.clone();
            let a = ctx
                .step(move |_| async move {
                    a_counts.bump(format!("{input}-a"));
                    Ok::<_, DurableError>(input + 1)
                })
                .name("a")
                .await?;
            ctx.wait(wait).await?;
            ctx.step(move |_| async move {
                counts.bump(format!("{input}-b"));
                Ok::<_, DurableError>(a * 10)
            })
            .name("b")
            .await
        }
    })
}

/// Waits until every execution in `arns` has ended.
async fn wait_ended(
    service: &TestService,
    arns: &[String],
    within: Duration,
) -> Vec<ExecutionDescription> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut done = Vec::new();
        for arn in arns {
            let description = service.describe(arn).await.unwrap();
            if description.status != ExecutionStatus::Running {
                done.push(description);
            }
        }
        if done.len() == arns.len() {
            return done;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {} executions ended in time",
            done.len(),
            arns.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start(service: &TestService, function: &str, input: &str) -> String {
    service
        .start_execution(function, None, Some(input.to_owned()))
        .await
        .unwrap()
        .arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_runs_a_step_a_wait_and_a_step_in_real_time() {
    let service = service();
    let counts = Counts::default();
    let running = Running::spawn(
        worker(&service, "w1").register("flow", step_wait_step(&counts, Duration::from_secs(2))),
    );
    let began = std::time::Instant::now();
    let arn = start(&service, "flow", "4").await;
    let done = wait_ended(
        &service,
        std::slice::from_ref(&arn),
        Duration::from_secs(10),
    )
    .await;
    assert!(
        began.elapsed() >= Duration::from_secs(2),
        "the wait was skipped"
    );
    assert_eq!(done[0].status, ExecutionStatus::Succeeded, "{:#?}", done[0]);
    assert_eq!(done[0].result.as_deref(), Some("50"));
    assert_eq!((counts.get("4-a"), counts.get("4-b")), (1, 1));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_run_twenty_workflows_each_step_once() {
    let service = service();
    let counts = Counts::default();
    let flow = step_wait_step(&counts, Duration::from_secs(1));
    let first = Running::spawn(worker(&service, "w1").register("flow", flow.clone()));
    let second = Running::spawn(worker(&service, "w2").register("flow", flow));
    let mut arns = Vec::new();
    for i in 0..20 {
        arns.push(start(&service, "flow", &i.to_string()).await);
    }
    let done = wait_ended(&service, &arns, Duration::from_secs(20)).await;
    for description in &done {
        assert_eq!(
            description.status,
            ExecutionStatus::Succeeded,
            "{description:#?}"
        );
    }
    assert_eq!(
        counts.get("overlaps"),
        0,
        "two invocations of one execution overlapped"
    );
    let all = counts.steps();
    assert_eq!(all.len(), 40, "{all:?}");
    assert!(all.values().all(|&n| n == 1), "a step ran twice: {all:?}");
    first.shutdown().await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_work_and_releases_leases() {
    let service = service();
    let counts = Counts::default();
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let started_tx = Arc::new(Mutex::new(Some(started_tx)));
    let steps = counts.clone();
    let slow = DurableFunction::new(move |(): (), ctx: DurableContext| {
        let (steps, started_tx) = (steps.clone(), started_tx.clone());
        async move {
            ctx.step(move |_| async move {
                if let Some(tx) = started_tx.lock().unwrap().take() {
                    let _ = tx.send(());
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                steps.bump("slow".into());
                Ok::<_, DurableError>(1)
            })
            .await?;
            ctx.wait(Duration::from_secs(3600)).await?;
            Ok::<_, DurableError>(())
        }
    });
    let running = Running::spawn(worker(&service, "w1").register("slow", slow));
    let arn = service
        .start_execution("slow", None, None)
        .await
        .unwrap()
        .arn;
    started_rx.await.unwrap();
    running.shutdown().await;
    assert_eq!(counts.get("slow"), 1, "the in-flight step was cut off");
    let description = service.describe(&arn).await.unwrap();
    assert!(!description.invocation_running, "{description:#?}");
    assert_eq!(
        description
            .operations
            .iter()
            .filter(|op| op.step_details.is_some())
            .count(),
        1
    );
    let far = service.now().plus(Duration::from_secs(60));
    let held = service
        .persistence()
        .renew_lease(&arn, "w1", far)
        .await
        .unwrap();
    assert!(
        !held,
        "the worker still holds the lease after shutting down"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_function_fails_the_execution_with_a_clear_error() {
    let service = service();
    let counts = Counts::default();
    let running = Running::spawn(
        worker(&service, "w1").register("flow", step_wait_step(&counts, Duration::from_secs(1))),
    );
    let arn = start(&service, "nobody-registered-this", "1").await;
    let done = wait_ended(&service, std::slice::from_ref(&arn), Duration::from_secs(5)).await;
    assert_eq!(done[0].status, ExecutionStatus::Failed);
    let error = done[0].error.clone().unwrap();
    assert_eq!(error.error_type.as_deref(), Some(FUNCTION_NOT_FOUND_ERROR));
    assert!(
        error
            .error_message
            .unwrap()
            .contains("nobody-registered-this"),
        "the error does not name the function"
    );
    assert_eq!(
        done[0].invocation_count, 1,
        "it was invoked again and again"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_execution_is_left_alone_until_its_lease_expires() {
    let service = service();
    let counts = Counts::default();
    let flow = step_wait_step(&counts, Duration::from_secs(1));
    let broken = start(&service, "flow", "1").await;
    assert!(service.persistence().overwrite_header(&broken, "{not json"));
    let running = Running::spawn(
        worker(&service, "w1")
            .lease(Duration::from_secs(10))
            .register("flow", flow),
    );
    let healthy = start(&service, "flow", "2").await;
    let done = wait_ended(
        &service,
        std::slice::from_ref(&healthy),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(done[0].status, ExecutionStatus::Succeeded, "{:#?}", done[0]);
    running.shutdown().await;
    let error = service.describe(&broken).await.unwrap_err();
    assert!(error.to_string().contains("corrupt"), "{error}");
    assert_eq!(counts.get("1-a"), 0);
    // The failed turn kept its lease, so it is not claimed in a tight loop.
    let now = service.now();
    let claimed = service
        .persistence()
        .claim_due(now, "probe", now.plus(Duration::from_millis(1)), 10)
        .await
        .unwrap();
    assert!(claimed.is_empty(), "{claimed:?}");
}
