//! `cargo xtask conformance`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use crate::backends::runtime::RuntimeBackend;
use durable_runtime::MemoryPersistence;
use durable_sqlite::SqlitePersistence;
use durable_testing::requirements::{
    HandlerRegistry, LogCapture, MemoryBackend, RequirementBackend, RequirementReport, RunOptions,
    load_dir, run_requirements,
};

use crate::workspace_root;

/// The backends `--backend` accepts.
const BACKENDS: [&str; 5] = ["memory", "runtime-memory", "sqlite", "postgres", "lambda"];

/// Options of `cargo xtask conformance`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The backend to run on.
    #[arg(long)]
    pub backend: String,
    /// Only these suites (comma-separated, e.g. `step,wait`).
    #[arg(long, value_delimiter = ',')]
    pub suite: Vec<String>,
    /// The requirements directory [default: <workspace>/../shared/conformance/requirements].
    #[arg(long)]
    pub requirements: Option<PathBuf>,
    /// How many requirements run at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Per-requirement time limit, in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout_secs: u64,
}

/// The backends CI runs the requirements on. The last one's summary line
/// ends the CI output.
pub const CI_BACKENDS: [&str; 5] = ["memory", "runtime-memory", "sqlite", "lambda", "postgres"];

/// The suites CI runs: every suite.
pub const CI_SUITES: [&str; 10] = [
    "step",
    "wait",
    "child",
    "callback",
    "invoke",
    "wait_for_condition",
    "wait_for_callback",
    "parallel",
    "map",
    "plugin",
];

impl Args {
    /// The arguments `cargo xtask ci` uses.
    pub fn for_ci(backend: &str) -> Self {
        Self {
            backend: backend.to_owned(),
            suite: CI_SUITES.iter().map(|s| (*s).to_owned()).collect(),
            requirements: None,
            concurrency: 4,
            timeout_secs: 60,
        }
    }
}

/// Runs the requirements; `Ok(false)` when any failed.
pub fn run(args: &Args) -> Result<bool, String> {
    let backend = backend(&args.backend)?;
    let dir = args
        .requirements
        .clone()
        .unwrap_or_else(|| workspace_root().join("../shared/conformance/requirements"));
    let mut requirements = load_dir(&dir).map_err(|e| e.to_string())?;
    if !args.suite.is_empty() {
        let mut known: Vec<&str> = requirements.iter().map(|r| r.suite.as_str()).collect();
        known.dedup();
        if let Some(unknown) = args.suite.iter().find(|s| !known.contains(&s.as_str())) {
            return Err(format!(
                "unknown suite '{unknown}' in {}; known suites: {}",
                dir.display(),
                known.join(", ")
            ));
        }
        requirements.retain(|r| args.suite.contains(&r.suite));
    }

    let registry: HandlerRegistry = durable_conformance::registry();
    LogCapture::install_global();
    quiet_simulated_crashes();
    let options = RunOptions {
        concurrency: args.concurrency,
        timeout: Duration::from_secs(args.timeout_secs),
        progress: Some(Arc::new(|r: &RequirementReport| println!("{}", r.line()))),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
    let report = runtime.block_on(run_requirements(
        &requirements,
        backend.as_ref(),
        &registry,
        &options,
    ));

    if args.backend == "postgres" {
        runtime.block_on(durable_postgres::testing::drop_own_databases());
    }
    let path = report
        .write_json(&target_dir().join("conformance"))
        .map_err(|e| e.to_string())?;
    println!("report: {}", path.display());
    println!("{}", report.summary());
    Ok(report.is_success())
}

fn backend(name: &str) -> Result<Box<dyn RequirementBackend>, String> {
    match name {
        "memory" => Ok(Box::new(MemoryBackend::new())),
        "runtime-memory" => Ok(Box::new(RuntimeBackend::new("runtime-memory", || async {
            Ok(MemoryPersistence::new())
        }))),
        "sqlite" => {
            // One database file per requirement, under target/.
            let dir = target_dir().join("conformance").join("sqlite");
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let next = Arc::new(AtomicUsize::new(0));
            let run = std::process::id();
            Ok(Box::new(RuntimeBackend::new("sqlite", move || {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let path = dir.join(format!("run-{run}-{n}.db"));
                async move {
                    let _ = std::fs::remove_file(&path);
                    SqlitePersistence::open(&path.to_string_lossy())
                        .await
                        .map_err(|e| e.to_string())
                }
            })))
        }
        // A fresh database per requirement on the test server (see
        // `durable_postgres::testing`): `DURABLE_TEST_POSTGRES_URL`, the
        // server on 127.0.0.1:5432, or a throwaway cluster.
        "postgres" => Ok(Box::new(RuntimeBackend::new("postgres", || async {
            durable_postgres::testing::fresh_store()
                .await
                .map_err(|e| e.to_string())
        }))),
        // End to end through dex-local-runner (installed under target/ on
        // first use); the invoke suite is unsupported by the emulator.
        "lambda" => Ok(Box::new(crate::backends::lambda::LambdaBackend::new())),
        other => Err(format!(
            "unknown backend '{other}'; known backends: {}",
            BACKENDS.join(", ")
        )),
    }
}

/// Handlers of the conformance suite simulate runtime crashes with panics
/// (`durable_conformance::crash`), and their faulty plugins throw with
/// panics the SDK contains; the runner recovers from the ones, the SDK from
/// the others, so their messages are noise. Other panics still print.
fn quiet_simulated_crashes() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            let simulated = |m: &str| {
                m.starts_with("simulated runtime crash") || m.starts_with("simulated plugin fault")
            };
            if !message.is_some_and(simulated) {
                default(info);
            }
        }));
    });
}

/// Where cargo builds: `CARGO_TARGET_DIR` or `<workspace>/target`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}
