//! Running requirements on a backend and judging the outcome.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;

use super::backend::RequirementBackend;
use super::drive::{Trace, drive};
use super::logs::check_logs;
use super::matcher::match_history;
use super::model::Requirement;
use super::registry::HandlerRegistry;
use super::report::{Report, RequirementReport, Verdict};
use super::result::check_result;
use super::variables::Bindings;

/// Called with each requirement's report, in requirement order, as soon as it is known.
pub type Progress = Arc<dyn Fn(&RequirementReport) + Send + Sync>;

/// How to run requirements.
#[derive(Clone)]
pub struct RunOptions {
    /// How many requirements run at once (at least 1).
    pub concurrency: usize,
    /// Wall-clock limit per requirement.
    pub timeout: Duration,
    /// Called with each report, in order.
    pub progress: Option<Progress>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            timeout: Duration::from_secs(60),
            progress: None,
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Runs every requirement on `backend` with the handlers of `registry`,
/// several at a time, and reports on each in the given order. A
/// requirement without a handler fails; one of a suite the backend does not
/// support is reported as unsupported.
pub async fn run_requirements(
    requirements: &[Requirement],
    backend: &dyn RequirementBackend,
    registry: &HandlerRegistry,
    options: &RunOptions,
) -> Report {
    let functions: Vec<_> = registry
        .functions()
        .map(|(name, f)| (name.to_owned(), f.clone()))
        .collect();
    let setup_error = backend
        .install_functions(&functions)
        .err()
        .map(|e| e.to_string());
    let setup_error = setup_error.as_deref();

    let mut stream = futures_util::stream::iter(requirements)
        .map(|requirement| run_one(requirement, backend, registry, options.timeout, setup_error))
        .buffered(options.concurrency.max(1));
    let mut reports = Vec::with_capacity(requirements.len());
    while let Some(report) = stream.next().await {
        if let Some(progress) = &options.progress {
            progress(&report);
        }
        reports.push(report);
    }
    Report {
        backend: backend.name().to_owned(),
        requirements: reports,
    }
}

/// Runs one requirement and judges it.
async fn run_one(
    requirement: &Requirement,
    backend: &dyn RequirementBackend,
    registry: &HandlerRegistry,
    timeout: Duration,
    setup_error: Option<&str>,
) -> RequirementReport {
    let started = Instant::now();
    let mut report = RequirementReport::new(requirement);
    if backend
        .unsupported_suites()
        .contains(&requirement.suite.as_str())
    {
        report.status = Verdict::Unsupported;
        report
            .reasons
            .push(backend.unsupported_reason(&requirement.suite));
        return report;
    }
    if let Some(error) = setup_error {
        report
            .reasons
            .push(format!("backend setup failed: {error}"));
        return report;
    }
    let Some(function) = registry.get(&requirement.id) else {
        report.reasons.push("no handler registered".to_owned());
        return report;
    };

    let mut bindings = Bindings::generate(&requirement.variables);
    let requirement = requirement.instantiate(&bindings);
    let mut trace = Trace::default();
    let outcome = tokio::time::timeout(
        timeout,
        drive(
            &requirement,
            backend,
            function.clone(),
            &bindings,
            &mut trace,
        ),
    )
    .await;
    let problem = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("harness: {e}")),
        Err(_) => Some(format!(
            "timed out after {}s (last status {})",
            timeout.as_secs(),
            trace
                .snapshot
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), |s| s.status.to_string())
        )),
    };
    report.reasons = judge(&requirement, &mut trace, problem, &mut bindings);
    report.status = if report.reasons.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed
    };
    if let Some(gap) = backend
        .known_gaps()
        .iter()
        .find(|gap| gap.requirement == requirement.id)
    {
        if gap.explains(&report.reasons) {
            report.status = Verdict::Gap;
            report
                .reasons
                .insert(0, format!("known gap: {}", gap.reason));
        } else if report.status == Verdict::Failed {
            report
                .reasons
                .insert(0, format!("fails beyond its known gap ({})", gap.reason));
        }
    }
    report.execution_arn = trace.arn;
    if let Some(snapshot) = trace.snapshot {
        report.actual_status = Some(snapshot.status);
        report.actual_result = snapshot.result;
        report.actual_error = snapshot.error;
        report.invocations = Some(snapshot.invocations);
    }
    report.history = trace.history;
    report.logs = trace.logs;
    report.placeholders = bindings
        .iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect();
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report
}

/// Every reason the requirement fails: action problems, how driving ended
/// (`problem`), status and result, history, logs. Empty when it passes.
fn judge(
    requirement: &Requirement,
    trace: &mut Trace,
    problem: Option<String>,
    bindings: &mut Bindings,
) -> Vec<String> {
    let mut reasons = std::mem::take(&mut trace.action_errors);
    let finished = problem.is_none();
    reasons.extend(problem);
    let Some(snapshot) = &trace.snapshot else {
        if reasons.is_empty() {
            reasons.push("the execution never settled".to_owned());
        }
        return reasons;
    };
    // History first: it binds the placeholders the result and logs may use.
    let history_errors = match_history(&requirement.expected_history, &trace.history, bindings);
    if let Some(expected) = &requirement.expected_result
        && let Err(reason) = check_result(
            expected,
            snapshot.status,
            snapshot.result.as_deref(),
            snapshot.error.as_ref(),
            bindings,
        )
    {
        reasons.push(reason);
    }
    reasons.extend(history_errors);
    if finished {
        reasons.extend(check_logs(
            &requirement.expected_logs,
            &trace.logs,
            bindings,
        ));
    }
    reasons
}
