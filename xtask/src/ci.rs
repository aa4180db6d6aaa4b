//! `cargo xtask ci`: every check, in order, stopping at the first failure.

use std::process::Command;

use crate::conformance;
use crate::workspace_root;

/// The cargo invocations, before the conformance run.
const STAGES: [(&str, &[&str]); 3] = [
    ("fmt", &["fmt", "--all", "--", "--check"]),
    (
        "clippy",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ),
    ("test", &["test", "--workspace"]),
];

/// Runs the stages; `Ok(false)` at the first that fails.
pub fn run() -> Result<bool, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let total = STAGES.len() + 1;
    for (i, (name, args)) in STAGES.iter().enumerate() {
        println!("==> [{}/{total}] {name}: cargo {}", i + 1, args.join(" "));
        let status = Command::new(&cargo)
            .args(*args)
            .current_dir(workspace_root())
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            println!("==> {name} failed");
            return Ok(false);
        }
    }
    let mut passed = true;
    for backend in conformance::CI_BACKENDS {
        println!(
            "==> [{total}/{total}] conformance: cargo xtask conformance --backend {backend} --suite {}",
            conformance::CI_SUITES.join(",")
        );
        if !conformance::run(&conformance::Args::for_ci(backend))? {
            println!("==> conformance on {backend} failed");
            passed = false;
        }
    }
    Ok(passed)
}
