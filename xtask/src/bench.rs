//! `cargo xtask bench [--backend sqlite|postgres] [--quick] [--no-peers]`:
//! builds the benchmark binary (`bench/`, package `durable-bench`) in
//! release mode, prepares the peers (the AWS Rust preview SDK, a crate of
//! its own under bench/peers/aws-rust built into target/bench/peer-aws;
//! DBOS Transact, pinned in a virtual environment at target/bench/venv)
//! and runs it. Results go to target/bench/ (results.json, results.md,
//! chart.svg). A peer that cannot be prepared is reported as not run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this backend for the database workloads (repeatable): sqlite or postgres.
    #[arg(long)]
    backend: Vec<String>,
    /// Smaller sizes, for a smoke run.
    #[arg(long)]
    quick: bool,
    /// Skip the peers (no AWS SDK build, no DBOS install).
    #[arg(long)]
    no_peers: bool,
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn run(what: &str, command: &mut Command) -> Result<bool, String> {
    println!("==> {what}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    Ok(status.success())
}

/// Builds what the benchmarks need and runs them.
pub fn run_bench(args: &Args) -> Result<bool, String> {
    let root = workspace_root();
    let target = target_dir(&root);
    let bench_dir = target.join("bench");
    std::fs::create_dir_all(&bench_dir)
        .map_err(|e| format!("creating {}: {e}", bench_dir.display()))?;

    if !run(
        "cargo build --release -p durable-bench",
        Command::new(cargo())
            .args(["build", "--release", "-p", "durable-bench"])
            .current_dir(&root),
    )? {
        return Ok(false);
    }
    if !args.no_peers {
        prepare_peers(&root, &bench_dir)?;
    }

    let mut command = Command::new(target.join("release/durable-bench"));
    command
        .current_dir(&root)
        .env("DURABLE_BENCH_DIR", &bench_dir);
    if args.quick {
        command.arg("--quick");
    }
    if args.no_peers {
        command.arg("--no-peers");
    }
    for backend in &args.backend {
        command.args(["--backend", backend]);
    }
    run("durable-bench", &mut command)
}

/// Builds the AWS peer and installs DBOS; failures are warnings (the
/// report then says the peer did not run, and why).
fn prepare_peers(root: &Path, bench_dir: &Path) -> Result<(), String> {
    let manifest = root.join("bench/peers/aws-rust/Cargo.toml");
    let built = run(
        "cargo build --release (AWS Rust preview peer, bench/peers/aws-rust)",
        Command::new(cargo())
            .arg("build")
            .arg("--release")
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(bench_dir.join("peer-aws"))
            .env_remove("CARGO_TARGET_DIR")
            .current_dir(root),
    )?;
    if !built {
        println!(
            "warning: the AWS Rust preview peer did not build; it will be reported as not run"
        );
    }

    let venv = bench_dir.join("venv");
    let python = venv.join("bin/python");
    let requirements = root.join("bench/peers/requirements-dbos.txt");
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import dbos"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        let created = run(
            "python3 -m venv target/bench/venv",
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
        )?;
        let installed = created
            && run(
                "pip install -r bench/peers/requirements-dbos.txt",
                Command::new(&python)
                    .args(["-m", "pip", "install", "-q", "-r"])
                    .arg(&requirements),
            )?;
        if !installed {
            println!("warning: DBOS could not be installed; it will be reported as not run");
        }
    }
    Ok(())
}
