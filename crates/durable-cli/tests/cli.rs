//! Runs the built `durable` binary against a fresh `SQLite` file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A database file of its own under the temp directory, removed on drop.
struct TempDb {
    path: PathBuf,
}

impl TempDb {
    fn new(test: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let unique = format!(
            "durable-cli-{test}-{}-{}-{}.db",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        Self {
            path: std::env::temp_dir().join(unique),
        }
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    /// Runs `durable --database <this db> <args>`.
    fn run(&self, args: &[&str]) -> Output {
        durable(&["--database", &self.url()], args)
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

fn durable(global: &[&str], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_durable"))
        .args(global)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success and returns stdout.
fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        output.status,
        stderr(output)
    );
    stdout(output)
}

/// Asserts failure with a non-zero code and a plain message; returns stderr.
fn fails(output: &Output) -> String {
    assert!(!output.status.success(), "succeeded: {}", stdout(output));
    assert_ne!(output.status.code(), Some(0));
    let message = stderr(output);
    assert!(message.starts_with("error: "), "{message}");
    assert!(!message.contains(" { "), "Debug dump in: {message}");
    message
}

#[test]
fn start_list_show_callback_stop_show() {
    let db = TempDb::new("lifecycle");
    let arn = ok(&db.run(&["start", "orders", "--name", "o-1", "--input", r#"{"id":1}"#]));
    let arn = arn.trim();
    assert!(arn.starts_with("arn:"), "{arn}");
    assert!(arn.contains("orders"), "{arn}");

    // Idempotent by name.
    let again = ok(&db.run(&["start", "orders", "--name", "o-1", "--input", r#"{"id":1}"#]));
    assert_eq!(again.trim(), arn);

    let list = ok(&db.run(&["list"]));
    assert!(list.contains("ARN") && list.contains("STATUS"), "{list}");
    let row = list.lines().find(|line| line.contains(arn)).unwrap();
    assert!(row.contains("orders") && row.contains("RUNNING"), "{list}");
    let filtered = ok(&db.run(&["list", "--function", "orders", "--status", "running"]));
    assert!(filtered.contains(arn), "{filtered}");
    let none = ok(&db.run(&["list", "--status", "STOPPED"]));
    assert!(!none.contains(arn), "{none}");

    let show = ok(&db.run(&["show", arn]));
    assert!(
        show.contains("Status:") && show.contains("RUNNING"),
        "{show}"
    );
    assert!(show.contains("ExecutionStarted"), "{show}");

    let unknown = db.run(&[
        "callback",
        "succeed",
        "no-such-callback",
        "--result",
        "\"x\"",
    ]);
    let message = fails(&unknown);
    assert!(message.contains("unknown callback id"), "{message}");
    assert!(message.contains("no-such-callback"), "{message}");
    let message = fails(&db.run(&["callback", "heartbeat", "no-such-callback"]));
    assert!(message.contains("unknown callback id"), "{message}");
    let message = fails(&db.run(&["callback", "fail", "no-such-callback", "--message", "m"]));
    assert!(message.contains("unknown callback id"), "{message}");

    ok(&db.run(&["stop", arn, "--message", "cancelled by operator"]));
    let show = ok(&db.run(&["show", arn]));
    assert!(show.contains("STOPPED"), "{show}");
    assert!(show.contains("cancelled by operator"), "{show}");
    assert!(show.contains("ExecutionStopped"), "{show}");

    // Stopping twice is refused, clearly.
    let message = fails(&db.run(&["stop", arn]));
    assert!(message.contains("already ended"), "{message}");
}

#[test]
fn history_json_is_an_array_starting_with_execution_started() {
    let db = TempDb::new("history");
    let arn = ok(&db.run(&["start", "greet", "--input", r#""World""#]));
    let arn = arn.trim();
    ok(&db.run(&["stop", arn]));

    let json = ok(&db.run(&["history", arn, "--json"]));
    let events: serde_json::Value = serde_json::from_str(&json).unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2, "{json}");
    assert_eq!(events[0]["EventType"], "ExecutionStarted");
    assert_eq!(events[0]["EventId"], 1);
    assert_eq!(
        events[0]["ExecutionStartedDetails"]["Input"]["Payload"],
        "\"World\""
    );
    assert_eq!(events[1]["EventType"], "ExecutionStopped");

    let timeline = ok(&db.run(&["history", arn]));
    assert!(timeline.contains("ExecutionStarted"), "{timeline}");
    assert!(timeline.contains("ExecutionStopped"), "{timeline}");
}

#[test]
fn unknown_arn_fails_clearly() {
    let db = TempDb::new("unknown-arn");
    for command in ["show", "history", "stop"] {
        let message = fails(&db.run(&[command, "arn:nothing:here"]));
        assert!(message.contains("no execution with ARN"), "{message}");
    }
}

#[test]
fn bad_input_json_fails_clearly() {
    let db = TempDb::new("bad-input");
    let message = fails(&db.run(&["start", "orders", "--input", "{not json"]));
    assert!(message.contains("--input is not valid JSON"), "{message}");
    let list = ok(&db.run(&["list"]));
    assert!(list.contains("no executions"), "{list}");
}

#[test]
fn unopenable_database_fails_clearly() {
    let dir = std::env::temp_dir();
    let dir = dir.to_str().unwrap();
    let message = fails(&durable(&["--database", dir], &["list"]));
    assert!(message.contains("cannot open database"), "{message}");
    assert!(message.contains("is a directory"), "{message}");

    let missing = format!("{dir}/durable-cli-no-such-dir-{}/x.db", std::process::id());
    let message = fails(&durable(&["--database", &missing], &["list"]));
    assert!(message.contains("cannot open database"), "{message}");
}

#[test]
fn other_database_schemes_are_unsupported() {
    let message = fails(&durable(
        &["--database", "postgres://localhost/durable"],
        &["list"],
    ));
    assert!(message.contains("unsupported database"), "{message}");
}
