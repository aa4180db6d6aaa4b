//! Project automation.
//!
//! - `cargo xtask conformance --backend memory [--suite step,wait] [--requirements DIR]`
//!   runs the conformance requirements against the Rust handlers.
//! - `cargo xtask ci` runs formatting, lints, tests and the core conformance
//!   suites, stopping at the first failure.
//! - `cargo xtask bench [--backend sqlite|postgres] [--quick]` builds and runs
//!   the benchmarks (docs/performance.md).

mod backends;
mod bench;
mod ci;
mod conformance;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project automation: `cargo xtask <command>`.
#[derive(Debug, Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the conformance requirements on a backend.
    Conformance(conformance::Args),
    /// Runs fmt, clippy, tests and the step, wait and child conformance suites, failing fast.
    Ci,
    /// Builds (release) and runs the benchmarks; results in target/bench/.
    Bench(bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Conformance(args) => conformance::run(&args),
        Command::Ci => ci::run(),
        Command::Bench(args) => bench::run_bench(&args),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The workspace root: the parent of this crate.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
