//! A worker process killed (SIGKILL) in the middle of a workflow: a new
//! worker finishes it, and no step whose success was recorded runs again.
//!
//! The killed worker is this test binary run again with only the ignored
//! [`worker_process`] test, which works when `DURABLE_SQLITE_KILL_DB` names
//! a database.

use std::fs::OpenOptions;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use durable_core::model::{ExecutionStatus, OperationStatus};
use durable_core::service::ServiceConfig;
use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_runtime::{Service, Worker};

use super::TestDir;
use crate::SqlitePersistence;

const DB_VAR: &str = "DURABLE_SQLITE_KILL_DB";
const EFFECTS_VAR: &str = "DURABLE_SQLITE_KILL_EFFECTS";
const LEASE: Duration = Duration::from_secs(2);

/// Appends `line` to the side-effect file.
fn record(effects: &str, line: &str) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(effects)
        .unwrap();
    writeln!(file, "{line}").unwrap();
}

/// `charge`, then `pack` (slow the first time, so the worker can be killed
/// during it), then `ship`; each step appends to the side-effect file.
fn order(effects: String) -> DurableFunction {
    DurableFunction::new(move |(): (), ctx: DurableContext| {
        let effects = effects.clone();
        async move {
            for name in ["charge", "pack", "ship"] {
                let effects = effects.clone();
                ctx.step(move |_| async move {
                    let before = std::fs::read_to_string(&effects).unwrap_or_default();
                    record(&effects, name);
                    if name == "pack" && !before.contains("pack") {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                    }
                    Ok::<_, DurableError>(name.to_owned())
                })
                .name(name)
                .await?;
            }
            Ok::<_, DurableError>("shipped".to_owned())
        }
    })
}

async fn worker_on(
    db: &str,
    effects: &str,
    id: &str,
) -> (Arc<Service<SqlitePersistence>>, Worker<SqlitePersistence>) {
    // A crashed invocation is invoked again soon, not after 5 s.
    let config = ServiceConfig {
        failed_invocation_backoff: Duration::from_millis(100),
        ..ServiceConfig::default()
    };
    let store = SqlitePersistence::open(db).await.unwrap();
    let service = Arc::new(Service::new(store).with_config(config));
    let worker = Worker::new(service.clone())
        .register("orders", order(effects.to_owned()))
        .worker_id(id)
        .lease(LEASE)
        .poll_interval(Duration::from_millis(20));
    (service, worker)
}

/// The worker process: runs until killed. Does nothing in a normal run.
#[tokio::test]
#[ignore = "run by a_killed_worker_process_loses_no_recorded_step"]
async fn worker_process() {
    let (Ok(db), Ok(effects)) = (std::env::var(DB_VAR), std::env::var(EFFECTS_VAR)) else {
        return;
    };
    let (_service, worker) = worker_on(&db, &effects, "doomed").await;
    worker.run().await;
}

/// Kills the child when dropped, so a failing test leaves no process.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_process_loses_no_recorded_step() {
    let dir = TestDir::new("kill");
    let db = dir.file("durable.db");
    let effects = dir.file("effects.txt");
    let (service, worker) = worker_on(&db, &effects, "rescuer").await;
    let arn = service
        .start_execution("orders", Some("o1"), None)
        .await
        .unwrap()
        .arn;

    let mut child = Killed(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "tests::kill::worker_process",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(DB_VAR, &db)
            .env(EFFECTS_VAR, &effects)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait until `charge` is recorded and `pack` is running in the child.
    let mut ready = false;
    for _ in 0..600 {
        let described = service.describe(&arn).await.unwrap();
        let charged = described.operations.iter().any(|op| {
            op.name.as_deref() == Some("charge") && op.status == OperationStatus::Succeeded
        });
        let packing = std::fs::read_to_string(&effects)
            .unwrap_or_default()
            .contains("pack");
        if charged && packing {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the child worker never reached `pack`");
    child.0.kill().unwrap(); // SIGKILL
    let status = child.0.wait().unwrap();
    assert!(!status.success(), "the child was killed: {status:?}");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until(async move {
        let _ = stopped.await;
    }));
    let mut done = None;
    for _ in 0..400 {
        let described = service.describe(&arn).await.unwrap();
        if described.status != ExecutionStatus::Running {
            done = Some(described);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    running.await.unwrap();
    let done = done.expect("the rescuing worker finished the execution");
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(done.result.as_deref(), Some("\"shipped\""));
    let lines = std::fs::read_to_string(&effects).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(
        lines,
        ["charge", "pack", "pack", "ship"],
        "`charge` was recorded before the kill and never ran again; \
         `pack` was not recorded and ran again"
    );
}
