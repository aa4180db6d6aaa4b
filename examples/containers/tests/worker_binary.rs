//! The `durable-worker` binary against a real Postgres database: configured
//! from the environment, it runs orders to the end (one through an
//! approval callback completed with its own subcommand) and stops
//! gracefully on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use durable_postgres::testing;

const BIN: &str = env!("CARGO_BIN_EXE_durable-worker");

/// Kills the worker when dropped, so a failing test leaves no process.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `durable-worker args…` on `url` to its end.
fn run(url: &str, args: &[&str]) -> Output {
    let output = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "durable-worker {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The execution's description, once it has ended.
fn ended(url: &str, arn: &str) -> serde_json::Value {
    let began = Instant::now();
    loop {
        let out = run(url, &["describe", arn]);
        let described: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if described["status"] != "RUNNING" {
            return described;
        }
        assert!(began.elapsed() < Duration::from_secs(60), "{described}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_binary_runs_orders_and_stops_on_sigterm() {
    let options = testing::fresh_options()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "postgres://{}@{}:{}/{}?max_connections=4",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap()
    );
    let worker = Running(
        Command::new(BIN)
            .env("DATABASE_URL", &url)
            .env("DURABLE_WORKER_ID", "container-1")
            .env("DURABLE_CONCURRENCY", "4")
            .env("DURABLE_LEASE_SECS", "5")
            .env("DURABLE_POLL_INTERVAL_MS", "100")
            .env("DURABLE_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );

    let input = r#"{"id":"o-1","sku":"widget","quantity":2,"amount_cents":4200}"#;
    let out = run(
        &url,
        &["start", "process-order", "--name", "o-1", "--input", input],
    );
    let arn = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let approved =
        r#"{"id":"o-2","sku":"gadget","quantity":1,"amount_cents":999,"needs_approval":true}"#;
    let out = run(&url, &["start", "process-order", "--input", approved]);
    let approved_arn = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let done = ended(&url, &arn);
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["result"]["payment"], "pay-4200", "{done}");
    assert_eq!(done["result"]["tracking"], "trk-o-1", "{done}");

    // The approval's callback id, as an approver would get it.
    let store = durable_postgres::PostgresPersistence::connect(&url)
        .await
        .unwrap();
    let began = Instant::now();
    let callback_id: String = loop {
        let id: Option<String> = callback_id_of(&store, &approved_arn).await;
        if let Some(id) = id {
            break id;
        }
        assert!(began.elapsed() < Duration::from_secs(30), "no callback");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    run(
        &url,
        &[
            "callback-succeed",
            &callback_id,
            "--result",
            r#"{"by":"alice"}"#,
        ],
    );
    let done = ended(&url, &approved_arn);
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["result"]["approval"]["by"], "alice", "{done}");

    let mut worker = worker;
    let pid = worker.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let began = Instant::now();
    let status = loop {
        if let Some(status) = worker.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "no exit on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut logs = String::new();
    std::io::Read::read_to_string(worker.0.stderr.as_mut().unwrap(), &mut logs).unwrap();
    assert!(status.success(), "{status:?}: {logs}");
    assert!(logs.contains("\"worker_id\":\"container-1\""), "{logs}");
    assert!(logs.contains("worker stopped"), "{logs}");
}

/// The id of `arn`'s callback, once it exists.
async fn callback_id_of(
    store: &durable_postgres::PostgresPersistence,
    arn: &str,
) -> Option<String> {
    use durable_runtime::Persistence;
    let stored = store.load(arn).await.unwrap()?;
    stored.record.operations().iter().find_map(|op| {
        op.callback_details
            .as_ref()
            .and_then(|details| details.callback_id.clone())
    })
}
