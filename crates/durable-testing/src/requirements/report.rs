//! Outcomes of a run: one line per requirement, a summary, a JSON report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use durable_core::model::{ErrorObject, ExecutionStatus};
use serde::Serialize;
use serde_json::Value;

use super::error::HarnessError;
use super::logs::LogRecord;
use super::model::Requirement;

/// How many reasons a report line shows; the JSON report has them all.
const REASONS_PER_LINE: usize = 3;

/// The outcome of one requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Everything matched.
    Passed,
    /// Something did not match, or the run broke.
    Failed,
    /// The backend does not support the requirement's suite.
    Unsupported,
    /// Failed only where the backend's environment is known to differ from
    /// the service (a [`KnownGap`](super::KnownGap)): counted apart, never
    /// as passed.
    Gap,
}

/// What happened to one requirement.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementReport {
    /// The requirement id, such as `1-11`.
    pub id: String,
    /// Its suite, such as `step`.
    pub suite: String,
    /// Its description.
    pub description: String,
    /// The outcome.
    pub status: Verdict,
    /// Why it failed or is unsupported; one entry per problem.
    pub reasons: Vec<String>,
    /// The execution, once started.
    pub execution_arn: Option<String>,
    /// The execution's last known status.
    pub actual_status: Option<ExecutionStatus>,
    /// The execution's result string, if it succeeded with one.
    pub actual_result: Option<String>,
    /// The execution's error, if it failed.
    pub actual_error: Option<ErrorObject>,
    /// How many times the handler was invoked.
    pub invocations: Option<usize>,
    /// Placeholder values: the generated variables and what matching bound.
    pub placeholders: BTreeMap<String, Value>,
    /// The full actual history, as `GetDurableExecutionHistory` events.
    pub history: Vec<Value>,
    /// The log records captured for the execution.
    pub logs: Vec<LogRecord>,
    /// Wall-clock time spent on the requirement.
    pub duration_ms: u64,
}

impl RequirementReport {
    /// A failed report with no execution, to fill in.
    pub fn new(requirement: &Requirement) -> Self {
        Self {
            id: requirement.id.clone(),
            suite: requirement.suite.clone(),
            description: requirement.description.clone(),
            status: Verdict::Failed,
            reasons: Vec::new(),
            execution_arn: None,
            actual_status: None,
            actual_result: None,
            actual_error: None,
            invocations: None,
            placeholders: BTreeMap::new(),
            history: Vec::new(),
            logs: Vec::new(),
            duration_ms: 0,
        }
    }

    /// `suite/id`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.suite, self.id)
    }

    /// The reasons as one string.
    pub fn reason(&self) -> String {
        self.reasons.join("; ")
    }

    /// `PASS step/1-1 <description>`, `FAIL step/1-11 <reason>`,
    /// `GAP step/1-11 <reason>` or `UNSUPPORTED invoke/5-1 <reason>`.
    pub fn line(&self) -> String {
        match self.status {
            Verdict::Passed => format!("PASS {} {}", self.key(), self.description),
            Verdict::Failed | Verdict::Unsupported | Verdict::Gap => {
                let tag = match self.status {
                    Verdict::Failed => "FAIL",
                    Verdict::Gap => "GAP",
                    _ => "UNSUPPORTED",
                };
                let mut reason = self
                    .reasons
                    .iter()
                    .take(REASONS_PER_LINE)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ");
                if self.reasons.len() > REASONS_PER_LINE {
                    let _ = write!(
                        reason,
                        " (and {} more)",
                        self.reasons.len() - REASONS_PER_LINE
                    );
                }
                format!("{tag} {} {reason}", self.key())
            }
        }
    }
}

/// The outcome of a run on one backend.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The backend's name.
    pub backend: String,
    /// One entry per requirement, in the order they were given.
    pub requirements: Vec<RequirementReport>,
}

impl Report {
    /// How many passed.
    pub fn passed(&self) -> usize {
        self.count(Verdict::Passed)
    }

    /// How many failed.
    pub fn failed(&self) -> usize {
        self.count(Verdict::Failed)
    }

    /// How many the backend does not support.
    pub fn unsupported(&self) -> usize {
        self.count(Verdict::Unsupported)
    }

    /// How many failed only where the environment is known to differ.
    pub fn gaps(&self) -> usize {
        self.count(Verdict::Gap)
    }

    /// Whether nothing failed.
    pub fn is_success(&self) -> bool {
        self.failed() == 0
    }

    /// One [`line`](RequirementReport::line) per requirement.
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.requirements.iter().map(RequirementReport::line)
    }

    /// `N passed, N failed`, then `, N known gaps` and `, N unsupported`
    /// when there are any.
    pub fn summary(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed(), self.failed());
        if self.gaps() > 0 {
            let _ = write!(line, ", {} known gaps", self.gaps());
        }
        if self.unsupported() > 0 {
            let _ = write!(line, ", {} unsupported", self.unsupported());
        }
        line
    }

    /// Writes the report as pretty JSON to `<dir>/<backend>.json`, creating
    /// `dir` if needed; returns the file's path.
    pub fn write_json(&self, dir: &Path) -> Result<PathBuf, HarnessError> {
        fs::create_dir_all(dir).map_err(|source| HarnessError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(format!("{}.json", self.backend));
        let json = serde_json::to_string_pretty(self)?;
        fs::write(&path, json).map_err(|source| HarnessError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    fn count(&self, verdict: Verdict) -> usize {
        self.requirements
            .iter()
            .filter(|r| r.status == verdict)
            .count()
    }
}
