//! Workload 4: the peers, run as separate programs on this machine and
//! read back as JSON. A peer that cannot run is reported as such, with
//! the reason; no figure is ever filled in for it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::database::bench_dir;

/// What one peer reported, or why it did not run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PeerRun {
    /// The peer's JSON output.
    Ran {
        /// The peer's own report.
        report: Value,
    },
    /// It could not run.
    NotRun {
        /// Why.
        reason: String,
    },
}

impl PeerRun {
    /// A number at `pointer` in the report (`None` when not run or absent).
    pub fn number(&self, pointer: &str) -> Option<f64> {
        match self {
            Self::Ran { report } => report.pointer(pointer).and_then(Value::as_f64),
            Self::NotRun { .. } => None,
        }
    }

    /// The reason it did not run, or the error the peer reported at
    /// `pointer`.
    pub fn problem(&self, pointer: &str) -> Option<String> {
        match self {
            Self::Ran { report } => report
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned),
            Self::NotRun { reason } => Some(reason.clone()),
        }
    }
}

/// Where `cargo xtask bench` builds the AWS Rust preview peer.
pub fn aws_peer_binary() -> PathBuf {
    bench_dir().join("peer-aws/release/durable-bench-peer-aws")
}

/// The Python of the DBOS virtual environment.
pub fn dbos_python() -> PathBuf {
    bench_dir().join("venv/bin/python")
}

/// Runs `program` with `args`, waiting at most `timeout`, and parses the
/// last line of its standard output as JSON.
async fn run_json(program: &Path, args: &[String], timeout: Duration) -> PeerRun {
    if !program.exists() {
        return PeerRun::NotRun {
            reason: format!(
                "{} is missing (built by `cargo xtask bench`)",
                program.display()
            ),
        };
    }
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(timeout, child).await {
        Err(_) => {
            return PeerRun::NotRun {
                reason: format!("timed out after {} s", timeout.as_secs()),
            };
        }
        Ok(Err(error)) => {
            return PeerRun::NotRun {
                reason: format!("cannot run {}: {error}", program.display()),
            };
        }
        Ok(Ok(output)) => output,
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'));
    if let (true, Some(Ok(report))) = (
        output.status.success(),
        last.map(serde_json::from_str::<Value>),
    ) {
        return PeerRun::Ran { report };
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    PeerRun::NotRun {
        reason: format!(
            "exited {} without a report: {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ),
    }
}

/// The AWS Rust preview SDK's `LocalRunner`: `steps` sequential steps and
/// replays of `replay_sizes` recorded steps.
pub async fn aws(steps: usize, replay_sizes: &[usize], budget: Duration) -> PeerRun {
    let sizes: Vec<String> = replay_sizes.iter().map(ToString::to_string).collect();
    let args = vec![
        steps.to_string(),
        sizes.join(","),
        budget.as_secs().to_string(),
    ];
    run_json(
        &aws_peer_binary(),
        &args,
        budget * 4 + Duration::from_secs(120),
    )
    .await
}

/// DBOS Transact on the Postgres database at `url`.
pub async fn dbos(url: &str, steps: usize, replay_steps: usize) -> PeerRun {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/dbos_bench.py");
    let args = vec![
        script.to_string_lossy().into_owned(),
        "--url".into(),
        url.to_owned(),
        "--steps".into(),
        steps.to_string(),
        "--replay".into(),
        replay_steps.to_string(),
    ];
    run_json(&dbos_python(), &args, Duration::from_secs(900)).await
}
