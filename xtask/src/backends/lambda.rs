//! Runs requirements on the Lambda backend end to end: `dex-local-runner`
//! (AWS's durable API emulator, in real time) invokes our Invoke endpoint,
//! which runs each handler through `durable_lambda::handle_event` with a
//! `LambdaStore` calling the emulator.
//!
//! Time is real (`--skip-time` reorders events, see [`skip_time`]), so
//! `advance` sleeps. The
//! emulator has no chained invoke: the invoke suite is reported as
//! unsupported.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use durable_core::DurableFunction;
use durable_core::model::ErrorObject;
use durable_lambda::testing::{Emulator, EmulatorOptions, LastOutcome};
use durable_testing::ExecutionSnapshot;
use durable_testing::requirements::{HarnessError, KnownGap, RequirementBackend, RunningExecution};
use tokio::sync::OnceCell;

/// Quiet time after which an execution with no invocation running counts
/// as settled, when the last invocation returned an output.
const QUIET_AFTER_OUTPUT: Duration = Duration::from_millis(400);

/// The same after a failed invocation: the emulator invokes again after its
/// 5 s backoff.
const QUIET_AFTER_ERROR: Duration = Duration::from_secs(7);

/// Where dex-local-runner 1.4.0's history differs from the service's, with
/// the SDK's updates right (the same requirements pass on every other
/// backend): its history builder (`executor.py`) passes the operation
/// update to the event only for RETRY, FAIL and chained-invoke START, so
/// `StepSucceeded` lacks `RetryDetails` and `CallbackStarted` its timeouts;
/// it keeps no `Result` on a RETRY carrying state; it records no
/// `InvocationCompleted` for a crashed invocation (which renumbers the
/// events after it); and its execution ids are `<uuid>/<uuid>`, not ARNs.
const EMULATOR_GAPS: [KnownGap; 23] = {
    const RETRY_DETAILS: &str = "dex-local-runner leaves RetryDetails out of StepSucceeded events";
    const CALLBACK_TIMEOUTS: &str =
        "dex-local-runner leaves the timeouts out of CallbackStarted events";
    const RETRY_PAYLOAD: &str = "dex-local-runner keeps no Result for a RETRY that carries state";
    const CRASH: &str = "dex-local-runner records no InvocationCompleted for a crashed invocation";
    const fn gap(
        requirement: &'static str,
        reason: &'static str,
        symptom: &'static str,
    ) -> KnownGap {
        KnownGap {
            requirement,
            reason,
            symptom: Some(symptom),
        }
    }
    const fn shifted(requirement: &'static str) -> KnownGap {
        KnownGap {
            requirement,
            reason: CRASH,
            symptom: None,
        }
    }
    [
        gap(
            "1-11",
            RETRY_DETAILS,
            "StepSucceededDetails.RetryDetails: missing",
        ),
        gap(
            "1-13",
            RETRY_DETAILS,
            "StepSucceededDetails.RetryDetails: missing",
        ),
        gap(
            "1-15",
            RETRY_DETAILS,
            "StepSucceededDetails.RetryDetails: missing",
        ),
        gap(
            "10-3",
            RETRY_DETAILS,
            "StepSucceededDetails.RetryDetails: missing",
        ),
        gap(
            "10-13",
            RETRY_DETAILS,
            "StepSucceededDetails.RetryDetails: missing",
        ),
        gap(
            "4-3",
            CALLBACK_TIMEOUTS,
            "CallbackStartedDetails.Timeout: missing",
        ),
        gap(
            "4-4",
            CALLBACK_TIMEOUTS,
            "CallbackStartedDetails.HeartbeatTimeout: missing",
        ),
        gap(
            "4-5",
            CALLBACK_TIMEOUTS,
            "CallbackStartedDetails.HeartbeatTimeout: missing",
        ),
        gap(
            "4-8",
            CALLBACK_TIMEOUTS,
            "CallbackStartedDetails.Timeout: missing",
        ),
        gap(
            "4-11",
            CALLBACK_TIMEOUTS,
            "CallbackStartedDetails.Timeout: missing",
        ),
        gap(
            "7-5",
            CALLBACK_TIMEOUTS,
            "CallbackStartedDetails.Timeout: missing",
        ),
        gap(
            "7-12",
            CALLBACK_TIMEOUTS,
            "CallbackStartedDetails.HeartbeatTimeout: missing",
        ),
        gap(
            "7-13",
            CALLBACK_TIMEOUTS,
            "CallbackStartedDetails.HeartbeatTimeout: missing",
        ),
        gap(
            "6-1",
            RETRY_PAYLOAD,
            "StepSucceededDetails.Result.Payload: missing",
        ),
        gap(
            "6-3",
            RETRY_PAYLOAD,
            "StepSucceededDetails.Result.Payload: missing",
        ),
        gap(
            "6-4",
            RETRY_PAYLOAD,
            "StepSucceededDetails.Result.Payload: missing",
        ),
        gap(
            "6-5",
            RETRY_PAYLOAD,
            "StepSucceededDetails.Result.Payload: missing",
        ),
        gap(
            "6-12",
            RETRY_PAYLOAD,
            "StepSucceededDetails.Result.Payload: missing",
        ),
        gap(
            "6-13",
            RETRY_PAYLOAD,
            "StepSucceededDetails.Result.Payload: missing",
        ),
        shifted("1-17"),
        shifted("1-18"),
        shifted("3-12"),
        gap(
            "10-22",
            "dex-local-runner names executions <uuid>/<uuid>, not arn:…, and the plugin logs the name",
            r#"executionArn="/^arn:/""#,
        ),
    ]
};

/// How often `settle` looks.
const POLL: Duration = Duration::from_millis(25);

/// The Lambda backend over one shared emulator.
pub struct LambdaBackend {
    emulator: OnceCell<Arc<Emulator>>,
    next: AtomicUsize,
}

impl LambdaBackend {
    /// A backend; the emulator starts with the first requirement.
    pub fn new() -> Self {
        Self {
            emulator: OnceCell::new(),
            next: AtomicUsize::new(0),
        }
    }

    async fn emulator(&self) -> Result<Arc<Emulator>, HarnessError> {
        self.emulator
            .get_or_try_init(|| async {
                Emulator::start(EmulatorOptions {
                    skip_time: skip_time(),
                })
                .await
                .map(Arc::new)
            })
            .await
            .cloned()
            .map_err(|e| HarnessError::backend("starting dex-local-runner", e))
    }
}

/// Real time by default: with `--skip-time` the emulator fires a timer
/// while the invocation that set it still runs, so `WaitSucceeded` lands
/// before that invocation's `InvocationCompleted`, unlike on the service.
/// `DURABLE_LAMBDA_SKIP_TIME=1` trades that for speed.
fn skip_time() -> bool {
    std::env::var("DURABLE_LAMBDA_SKIP_TIME").is_ok_and(|v| v == "1")
}

#[async_trait]
impl RequirementBackend for LambdaBackend {
    fn name(&self) -> &'static str {
        "lambda"
    }

    /// The emulator has no chained invoke (no `CHAINED_INVOKE` processor).
    fn unsupported_suites(&self) -> &[&str] {
        &["invoke"]
    }

    fn unsupported_reason(&self, suite: &str) -> String {
        format!(
            "unsupported by the emulator: dex-local-runner has no chained invoke, so the {suite} \
             suite cannot run on it"
        )
    }

    fn known_gaps(&self) -> &[KnownGap] {
        &EMULATOR_GAPS
    }

    async fn start(
        &self,
        function_name: &str,
        function: DurableFunction,
        input: Option<String>,
    ) -> Result<Box<dyn RunningExecution>, HarnessError> {
        let emulator = self.emulator().await?;
        emulator.register(function_name, function);
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let arn = emulator
            .start_execution(
                function_name,
                &format!("{function_name}-{n}"),
                input.as_deref(),
            )
            .await
            .map_err(|e| HarnessError::backend("starting the execution", e))?;
        Ok(Box::new(LambdaExecution { emulator, arn }))
    }
}

struct LambdaExecution {
    emulator: Arc<Emulator>,
    arn: String,
}

fn backend_error(context: &str, error: durable_lambda::testing::EmulatorError) -> HarnessError {
    HarnessError::backend(context, error)
}

#[async_trait]
impl RunningExecution for LambdaExecution {
    fn arn(&self) -> &str {
        &self.arn
    }

    /// Waits until the execution ends, or no invocation runs and nothing
    /// changed for a quiet period (long enough for the emulator's next
    /// invocation after a suspension or a failed invocation).
    async fn settle(&mut self) -> Result<ExecutionSnapshot, HarnessError> {
        let mut last_events = usize::MAX;
        let mut last_started = usize::MAX;
        let mut quiet_since = Instant::now();
        loop {
            let view = self
                .emulator
                .execution(&self.arn)
                .await
                .map_err(|e| backend_error("reading the execution", e))?;
            let stats = self.emulator.invocations(&self.arn);
            if view.status.is_terminal() && stats.in_flight == 0 {
                return Ok(snapshot(&self.arn, view, stats.started));
            }
            if view.history.len() != last_events
                || stats.started != last_started
                || stats.in_flight > 0
            {
                last_events = view.history.len();
                last_started = stats.started;
                quiet_since = Instant::now();
            } else {
                // Not invoked yet counts as after an error: wait long.
                let quiet = match stats.last {
                    Some(LastOutcome::Output(_)) => QUIET_AFTER_OUTPUT,
                    Some(LastOutcome::Error(_)) | None => QUIET_AFTER_ERROR,
                };
                if quiet_since.elapsed() >= quiet {
                    return Ok(snapshot(&self.arn, view, stats.started));
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Callback timeouts run in real time on the emulator (waits and
    /// retries are skipped), so time passes for real.
    async fn advance(&mut self, by: Duration) -> Result<(), HarnessError> {
        tokio::time::sleep(by).await;
        Ok(())
    }

    async fn callback_success(
        &mut self,
        callback_id: &str,
        payload: &str,
    ) -> Result<(), HarnessError> {
        self.emulator
            .callback_success(callback_id, payload)
            .await
            .map_err(|e| backend_error("completing a callback", e))
    }

    async fn callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), HarnessError> {
        self.emulator
            .callback_failure(callback_id, &error)
            .await
            .map_err(|e| backend_error("failing a callback", e))
    }

    async fn callback_heartbeat(&mut self, callback_id: &str) -> Result<(), HarnessError> {
        self.emulator
            .callback_heartbeat(callback_id)
            .await
            .map_err(|e| backend_error("sending a heartbeat", e))
    }
}

/// The emulator's view as a snapshot. Operations are not listed: the
/// emulator serves them only to the running invocation (by token); the
/// requirements check the history.
fn snapshot(
    arn: &str,
    view: durable_lambda::testing::ExecutionView,
    invocations: usize,
) -> ExecutionSnapshot {
    ExecutionSnapshot {
        arn: arn.to_owned(),
        status: view.status,
        result: view.result,
        error: view.error,
        operations: Vec::new(),
        history: view.history,
        invocations,
    }
}
