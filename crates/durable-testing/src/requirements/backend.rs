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

    /// Requirements this backend's environment is known to fail for a
    /// reason outside the SDK (an emulator that leaves a field out of the
    /// history, say). They still run; one that fails only with the gap's
    /// symptom is reported as a gap, counted apart; any other failure is a
    /// failure.
    fn known_gaps(&self) -> &[KnownGap] {
        &[]
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

/// A requirement a backend's environment cannot pass, and why.
#[derive(Debug, Clone, Copy)]
pub struct KnownGap {
    /// The requirement id, such as `1-11`.
    pub requirement: &'static str,
    /// Why, for the report.
    pub reason: &'static str,
    /// Text every failure reason must contain for the failure to count as
    /// this gap; `None` when the gap shifts the whole history (a missing
    /// event renumbers the rest), so any history mismatch is expected — but
    /// the status, result and logs must still match.
    pub symptom: Option<&'static str>,
}

impl KnownGap {
    /// Whether `reasons` (non-empty) are all explained by this gap.
    pub fn explains(&self, reasons: &[String]) -> bool {
        !reasons.is_empty()
            && reasons.iter().all(|reason| match self.symptom {
                Some(symptom) => reason.contains(symptom),
                None => reason.starts_with("event "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::KnownGap;

    fn reasons(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn a_gap_with_a_symptom_explains_only_failures_that_all_show_it() {
        let gap = KnownGap {
            requirement: "1-11",
            reason: "the emulator leaves RetryDetails out",
            symptom: Some("RetryDetails"),
        };
        let ok = reasons(&["event 3 (StepSucceeded) StepSucceededDetails.RetryDetails: missing"]);
        assert!(gap.explains(&ok));
        let more = reasons(&[
            "event 3 (StepSucceeded) StepSucceededDetails.RetryDetails: missing",
            "result: expected 1, got 2",
        ]);
        assert!(!gap.explains(&more));
        assert!(!gap.explains(&[]), "a pass is not a gap");
    }

    #[test]
    fn a_gap_without_a_symptom_explains_history_mismatches_only() {
        let gap = KnownGap {
            requirement: "1-17",
            reason: "no InvocationCompleted for a crashed invocation",
            symptom: None,
        };
        assert!(gap.explains(&reasons(&["event 4 (InvocationCompleted) missing (…)"])));
        assert!(!gap.explains(&reasons(&["status: expected SUCCEEDED, got FAILED"])));
        assert!(!gap.explains(&reasons(&["harness: the emulator went away"])));
    }
}
