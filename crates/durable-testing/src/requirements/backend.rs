//! The seam between the harness and the system under test, so the same
//! requirements run in memory, on databases and on Lambda.

use std::time::Duration;

use async_trait::async_trait;
use durable_core::DurableFunction;
use durable_core::model::ErrorObject;

use super::capture::LogCapture;
use super::error::HarnessError;
use super::logs::LogRecord;
use crate::runner::ExecutionSnapshot;

/// Where requirements run.
#[async_trait]
pub trait RequirementBackend: Send + Sync {
    /// Short name, used in reports (`target/conformance/<name>.json`).
    fn name(&self) -> &str;

    /// Suites this backend cannot run; their requirements are reported as
    /// unsupported instead of failed.
    fn unsupported_suites(&self) -> &[&str] {
        &[]
    }

    /// Why `suite` (one of [`unsupported_suites`](Self::unsupported_suites))
    /// cannot run here, for the report; by default a generic sentence.
    fn unsupported_reason(&self, suite: &str) -> String {
        format!(
            "the {} backend does not support the {suite} suite",
            self.name()
        )
    }

    /// Makes `functions` invocable by name (chained invoke targets) from the
    /// executions this backend starts. Called before the first
    /// [`start`](Self::start) of a run.
    fn install_functions(
        &self,
        functions: &[(String, DurableFunction)],
    ) -> Result<(), HarnessError> {
        let _ = functions;
        Ok(())
    }

    /// Starts an execution of `function` (registered under `function_name`)
    /// with `input` (a JSON string or None).
    async fn start(
        &self,
        function_name: &str,
        function: DurableFunction,
        input: Option<String>,
    ) -> Result<Box<dyn RunningExecution>, HarnessError>;
}

/// One execution started by a [`RequirementBackend`].
#[async_trait]
pub trait RunningExecution: Send {
    /// The execution ARN.
    fn arn(&self) -> &str;

    /// Drives the execution until it ends or cannot progress without outside
    /// action (e.g. a pending callback); returns its state.
    async fn settle(&mut self) -> Result<ExecutionSnapshot, HarnessError>;

    /// Moves (virtual or real) time forward.
    async fn advance(&mut self, by: Duration) -> Result<(), HarnessError>;

    /// Completes a callback with a result (JSON text, or empty for none).
    async fn callback_success(
        &mut self,
        callback_id: &str,
        payload: &str,
    ) -> Result<(), HarnessError>;

    /// Fails a callback.
    async fn callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), HarnessError>;

    /// Sends a heartbeat for a callback.
    async fn callback_heartbeat(&mut self, callback_id: &str) -> Result<(), HarnessError>;

    /// The log records of the execution over all its invocations, in order.
    /// By default, those the global [`LogCapture`] collected for its ARN.
    async fn logs(&mut self) -> Result<Vec<LogRecord>, HarnessError> {
        Ok(LogCapture::global()
            .map(|capture| capture.take(self.arn()))
            .unwrap_or_default())
    }
}
