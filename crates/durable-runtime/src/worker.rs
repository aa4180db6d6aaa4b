//! [`Worker`]: claims due executions and runs them.

mod turn;

use std::future::{Future, pending};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use durable_core::DurableFunction;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;

use crate::driver::{ChainedInvokes, Functions, new_request_id};
use crate::persistence::{Persistence, WakeUps};
use crate::service::Service;

/// Completes on Ctrl-C or SIGTERM; never if neither can be listened for.
async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = pending::<()>();
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            pending::<()>().await;
        }
    };
    tokio::select! {
        () = terminate => tracing::info!("SIGTERM: shutting down"),
        () = interrupt => tracing::info!("Ctrl-C: shutting down"),
    }
}

/// How long a claim lasts before another worker may take over, by default.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// How often an idle worker looks for due executions, by default.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How often a worker sweeps running executions for chained invokes to
/// settle, by default.
pub const DEFAULT_RECONCILE_INTERVAL: Duration = Duration::from_secs(30);
/// How many executions a worker runs at once, by default.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Runs durable executions on a [`Service`]: the part of the platform that
/// decides when to invoke a handler, for self-hosted deployments.
///
/// It loops: claim up to as many due executions as it has free slots
/// ([`Persistence::claim_due`], leased to its id), and run one turn of each
/// in its own task ([`run_turn`](crate::driver::run_turn): take over a lost
/// invocation, fire due timers, invoke the handler if needed, settle
/// chained invokes), renewing the lease every third of its length, and
/// releasing it when the turn ends. When idle it claims again after its
/// poll interval, or at once on a wake-up from a backend that sends them
/// ([`Persistence::wake_ups`]). Many workers can share one persistence:
/// a live lease keeps others away, and a worker that lost its lease anyway
/// cannot write (single-use checkpoint tokens and invocations fenced by
/// request id). When a worker dies, its executions are claimed again once
/// their leases expire and their lost invocations end as crashes
/// (`Runtime.ExitError`) before being invoked again.
///
/// Every worker on a persistence should register the same functions: an
/// execution of a function the claiming worker does not know fails with
/// `ResourceNotFoundException`.
///
/// # Example
///
/// ```
/// # async fn demo() {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use durable_core::{DurableContext, DurableError, DurableFunction};
/// use durable_runtime::{MemoryPersistence, Service, Worker};
///
/// let service = Arc::new(Service::new(MemoryPersistence::new()));
/// let greet = DurableFunction::new(|name: String, ctx: DurableContext| async move {
///     ctx.step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {name}!")) })
///         .await
/// });
/// let worker = Worker::new(service.clone())
///     .register("greet", greet)
///     .concurrency(4)
///     .lease(Duration::from_secs(10))
///     .poll_interval(Duration::from_millis(20));
/// let arn = service
///     .start_execution("greet", None, Some("\"World\"".into()))
///     .await
///     .unwrap()
///     .arn;
/// // Runs until the shutdown future completes, then finishes what it runs.
/// worker.run_until(tokio::time::sleep(Duration::from_millis(500))).await;
/// let done = service.describe(&arn).await.unwrap();
/// assert_eq!(done.result.as_deref(), Some("\"Hello, World!\""));
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo());
/// ```
#[derive(Debug)]
pub struct Worker<P> {
    service: Arc<Service<P>>,
    functions: Functions,
    id: String,
    concurrency: usize,
    lease: Duration,
    poll_interval: Duration,
    reconcile_interval: Duration,
}

impl<P: Persistence + 'static> Worker<P> {
    /// A worker for `service` with no functions, a random id and the
    /// default settings.
    pub fn new(service: Arc<Service<P>>) -> Self {
        let random = new_request_id();
        Self {
            service,
            functions: Functions::new(),
            id: format!("worker-{}", random.get(..12).unwrap_or(&random)),
            concurrency: DEFAULT_CONCURRENCY,
            lease: DEFAULT_LEASE,
            poll_interval: DEFAULT_POLL_INTERVAL,
            reconcile_interval: DEFAULT_RECONCILE_INTERVAL,
        }
    }

    /// Runs `function` for executions of `function_name`.
    #[must_use]
    pub fn register(mut self, function_name: impl Into<String>, function: DurableFunction) -> Self {
        self.functions.insert(function_name, function);
        self
    }

    /// Runs at most `n` executions at once (at least 1).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Claims executions for `lease` (at least 3 ms); renewed every third of it.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(3));
        self
    }

    /// Looks for due executions every `interval` when idle.
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sweeps running executions for chained invokes to settle every `interval`.
    #[must_use]
    pub fn reconcile_interval(mut self, interval: Duration) -> Self {
        self.reconcile_interval = interval;
        self
    }

    /// Holds leases under `id` (unique per worker).
    #[must_use]
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The id leases are held under.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs until the process is asked to stop (Ctrl-C, or SIGTERM as a
    /// container runtime sends it), then shuts down gracefully like
    /// [`run_until`](Self::run_until).
    pub async fn run(self) {
        self.run_until(shutdown_signal()).await;
    }

    /// Runs until `shutdown` completes, then shuts down gracefully: claims
    /// nothing more, lets the turns in flight finish and releases their
    /// leases. `shutdown` is polled throughout, claims included, so it may
    /// do work of its own (start executions, say). Dropping the future
    /// instead aborts everything at once, like a crash: the leases then
    /// expire and other workers take over.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let span = tracing::info_span!("worker", worker_id = self.id);
        self.run_loop(shutdown).instrument(span).await;
    }

    async fn run_loop(self, shutdown: impl Future<Output = ()>) {
        let shared = Arc::new(turn::Shared {
            service: self.service,
            functions: self.functions,
            chained: ChainedInvokes::new(),
            owner: self.id,
            lease: self.lease,
        });
        tracing::info!(
            functions = ?shared.functions.names(),
            concurrency = self.concurrency,
            "worker started"
        );
        let mut wake_ups = shared.service.persistence().wake_ups();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tasks: JoinSet<()> = JoinSet::new();
        let mut next_sweep = Instant::now();
        let mut stopping = false;
        loop {
            if Instant::now() >= next_sweep {
                watching(&mut shutdown, &mut stopping, shared.reconcile()).await;
                next_sweep = Instant::now() + self.reconcile_interval;
            }
            let free = self.concurrency.saturating_sub(tasks.len());
            let mut claimed = 0;
            if free > 0 {
                let arns = watching(&mut shutdown, &mut stopping, shared.claim(free)).await;
                claimed = arns.len();
                // Claimed executions run even when stopping: their turns
                // end and release the leases like any other in flight.
                for arn in arns {
                    tasks.spawn(turn::run(shared.clone(), arn));
                }
            }
            if stopping {
                break;
            }
            // Everything asked for was due: there may be more, claim again
            // as soon as a slot frees.
            let more = claimed > 0 && claimed == free;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => log_join(joined),
                () = tokio::time::sleep(self.poll_interval), if !more => {}
                () = woken(&mut wake_ups), if !more => tracing::trace!("woken up"),
            }
        }
        tracing::info!(in_flight = tasks.len(), "worker shutting down");
        while let Some(joined) = tasks.join_next().await {
            log_join(joined);
        }
        tracing::info!("worker stopped");
    }
}

/// Runs `work` while still polling `shutdown`, noting in `stopping` that
/// it completed. A shutdown future may do work of its own (hold a write
/// transaction, say): left unpolled while the worker claims, it would keep
/// what it holds, and on a backend with one write lock (`SQLite`) the claim
/// would wait for it until the busy timeout, and every turn with it. The
/// work itself is not cancelled: a claim cut short would leave executions
/// leased to a worker that never runs them.
async fn watching<T>(
    shutdown: &mut Pin<&mut impl Future<Output = ()>>,
    stopping: &mut bool,
    work: impl Future<Output = T>,
) -> T {
    // Boxed: kept inline, the claim's future would swell every future that
    // runs a worker.
    let mut work = Box::pin(work);
    loop {
        tokio::select! {
            biased;
            output = &mut work => return output,
            () = shutdown.as_mut(), if !*stopping => *stopping = true,
        }
    }
}

/// Completes on the next wake-up; never if there are none (any more).
async fn woken(wake_ups: &mut Option<WakeUps>) {
    let Some(receiver) = wake_ups.as_mut() else {
        return pending().await;
    };
    if receiver.changed().await.is_err() {
        tracing::debug!("wake-ups ended; polling only");
        *wake_ups = None;
        pending::<()>().await;
    }
}

fn log_join(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined {
        tracing::error!(%error, "a turn's task ended abnormally");
    }
}

#[cfg(test)]
mod tests;
