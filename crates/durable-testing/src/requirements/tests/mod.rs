//! End-to-end tests of the harness on the scripted [`fake::Fake`] backend.

mod fake;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use durable_core::model::ExecutionStatus;
use durable_core::{DurableContext, DurableError, DurableFunction};
use serde_json::{Value, json};

use self::fake::Fake;
use super::*;

fn requirement(yaml: &str) -> Requirement {
    parse(yaml, Path::new("callback/4-1.yaml"), "callback").unwrap()
}

fn registry() -> HandlerRegistry {
    async fn unused(_: Value, _: DurableContext) -> Result<Value, DurableError> {
        Ok(Value::Null)
    }
    let mut registry = HandlerRegistry::new();
    registry.register("4-1", DurableFunction::new(unused));
    registry
}

const ONE_CALLBACK: &str = r#"
description: one callback
AsyncInvoke: true
Variables:
  CB_NAME: ${GEN_STR:10}
  CB_PAYLOAD: ${GEN_STR:12}
Input: ${CB_NAME}
ExpectedResult:
  ExecutionStatus: SUCCEEDED
  Result: ${CB_PAYLOAD}
CallbackActions:
  - CallbackName: ${CB_NAME}
    Operation: heartbeat
  - CallbackName: ${CB_NAME}
    Operation: success
    Payload: ${CB_PAYLOAD}
    Delay: 1
ExpectedExecutionHistory:
  - EventType: CallbackStarted
    EventId: 2
    Id: ${ID1}
    Name: ${CB_NAME}
    CallbackStartedDetails:
      CallbackId: '*'
  - EventType: CallbackSucceeded
    EventId: 4
    Id: ${ID1}
    CallbackSucceededDetails:
      Result:
        Payload: '"${CB_PAYLOAD}"'
ExpectedLogs:
  - match:
      message: /waiting for ${CB_NAME}/
      op: ${ID1}
    count: 1
"#;

async fn run(yaml: &str, backend: &Fake) -> Report {
    run_requirements(
        &[requirement(yaml)],
        backend,
        &registry(),
        &RunOptions::default(),
    )
    .await
}

#[tokio::test]
async fn performs_callback_actions_and_passes() {
    let fake = Fake::new();
    let report = run(ONE_CALLBACK, &fake).await;
    let r = &report.requirements[0];
    assert_eq!(r.status, Verdict::Passed, "{}", r.line());
    assert_eq!(r.line(), "PASS callback/4-1 one callback");
    assert_eq!(report.summary(), "1 passed, 0 failed");
    let sent = fake.sent.lock().unwrap().clone();
    assert_eq!(
        sent,
        [
            ("cb-0".to_owned(), "heartbeat", Duration::ZERO),
            ("cb-0".to_owned(), "success", Duration::from_secs(1))
        ]
    );
    let payload = r.placeholders.get("CB_PAYLOAD").unwrap().as_str().unwrap();
    assert_eq!(
        r.actual_result.as_deref(),
        Some(format!("\"{payload}\"").as_str())
    );
    assert_eq!(r.placeholders.get("ID1"), Some(&json!("op0")));
    assert_eq!(r.history.len(), 6);
    assert_eq!(r.logs.len(), 1);
}

#[tokio::test]
async fn reports_precise_mismatches() {
    let yaml = ONE_CALLBACK
        .replace("Result: ${CB_PAYLOAD}", "Result: nope")
        .replace("EventId: 4", "EventId: 9")
        .replace("/waiting for ${CB_NAME}/", "/never/");
    let report = run(&yaml, &Fake::new()).await;
    let r = &report.requirements[0];
    assert_eq!(r.status, Verdict::Failed);
    assert_eq!(r.reasons.len(), 3, "{:?}", r.reasons);
    assert!(
        r.reasons[0].starts_with("result: expected \"nope\", got \""),
        "{}",
        r.reasons[0]
    );
    assert!(r.reasons[1].starts_with("event 9 (CallbackSucceeded) missing (history has 6 events: 1 ExecutionStarted, 2 CallbackStarted"));
    assert!(
        r.reasons[2].contains("expected exactly 1 matches, got 0"),
        "{}",
        r.reasons[2]
    );
    assert!(r.line().starts_with("FAIL callback/4-1 result: expected"));
    assert_eq!(report.summary(), "0 passed, 1 failed");
}

#[tokio::test]
async fn actions_follow_history_order_with_their_delays() {
    let yaml = r"
description: two callbacks
Variables:
  A: ${GEN_STR:5}
  B: ${GEN_STR:5}
Input: ['${A}', '${B}']
ExpectedResult:
  ExecutionStatus: SUCCEEDED
  Result: [a, 42]
CallbackActions:
  - CallbackName: ${/^${B}$/}
    Operation: success
    Payload: 42
    Delay: 4
  - CallbackName: '*'
    Operation: success
    Payload: a
    Delay: 1
ExpectedExecutionHistory:
  - EventType: CallbackSucceeded
    EventId: 5
    Name: ${A}
";
    let fake = Fake::new();
    let report = run(yaml, &fake).await;
    assert_eq!(
        report.requirements[0].status,
        Verdict::Passed,
        "{}",
        report.requirements[0].line()
    );
    let sent = fake.sent.lock().unwrap().clone();
    assert_eq!(
        sent,
        [
            ("cb-0".to_owned(), "success", Duration::from_secs(1)),
            ("cb-1".to_owned(), "success", Duration::from_secs(5))
        ]
    );
}

#[tokio::test]
async fn failure_actions_send_the_error() {
    let yaml = r"
description: rejected
Variables:
  N: ${GEN_STR:5}
Input: ${N}
ExpectedResult:
  ExecutionStatus: FAILED
CallbackActions:
  - CallbackName: ${N}
    Operation: failure
    Payload:
      ErrorType: RejectedError
      ErrorMessage: not approved
ExpectedExecutionHistory:
  - EventType: CallbackFailed
    EventId: 4
    CallbackFailedDetails:
      Error:
        Payload:
          ErrorType: RejectedError
          ErrorMessage: not approved
";
    let report = run(yaml, &Fake::new()).await;
    assert_eq!(
        report.requirements[0].status,
        Verdict::Passed,
        "{}",
        report.requirements[0].line()
    );
    let error = report.requirements[0].actual_error.clone().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("RejectedError"));
}

#[tokio::test]
async fn time_passes_until_a_callback_times_out() {
    let yaml = r"
description: timeout
Input: lonely
ExpectedResult:
  ExecutionStatus: FAILED
ExpectedExecutionHistory:
  - EventType: CallbackTimedOut
    EventId: 4
";
    let mut fake = Fake::new();
    fake.callback_timeout = Some(Duration::from_secs(5));
    let report = run(yaml, &fake).await;
    assert_eq!(
        report.requirements[0].status,
        Verdict::Passed,
        "{}",
        report.requirements[0].line()
    );

    // Without a timeout the execution stays stuck: a clear status mismatch.
    let report = run(yaml, &Fake::new()).await;
    assert_eq!(
        report.requirements[0].reasons[0],
        "status: expected FAILED, got RUNNING"
    );

    // No ExpectedResult: done once the expected history is there.
    let yaml = "description: suspended\nAsyncInvoke: true\nInput: x\nExpectedExecutionHistory:\n  - EventType: CallbackStarted\n    EventId: 2\n";
    let report = run(yaml, &Fake::new()).await;
    assert_eq!(
        report.requirements[0].status,
        Verdict::Passed,
        "{}",
        report.requirements[0].line()
    );
    assert_eq!(
        report.requirements[0].actual_status,
        Some(ExecutionStatus::Running)
    );
}

#[tokio::test]
async fn unmatched_callbacks_fail() {
    let yaml = "description: x\nInput: x\nCallbackActions:\n  - CallbackName: y\n    Operation: success\nExpectedExecutionHistory: []\n";
    let report = run(yaml, &Fake::new()).await;
    assert_eq!(
        report.requirements[0].reasons[0],
        "no callback action matches callback 'x' (id cb-0)"
    );
}

#[tokio::test]
async fn missing_handlers_unsupported_suites_and_timeouts() {
    let mut other = requirement(ONE_CALLBACK);
    other.id = "4-2".to_owned();
    let mut invoke = requirement(ONE_CALLBACK);
    invoke.suite = "invoke".to_owned();
    let reqs = [requirement(ONE_CALLBACK), other, invoke];
    let mut fake = Fake::new();
    fake.unsupported = vec!["invoke"];
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&lines);
    let options = RunOptions {
        concurrency: 2,
        timeout: Duration::from_secs(60),
        progress: Some(Arc::new(move |r: &RequirementReport| {
            seen.lock().unwrap().push(r.key());
        })),
    };
    let report = run_requirements(&reqs, &fake, &registry(), &options).await;
    let verdicts: Vec<_> = report.requirements.iter().map(|r| r.status).collect();
    assert_eq!(
        verdicts,
        [Verdict::Passed, Verdict::Failed, Verdict::Unsupported]
    );
    assert_eq!(
        report.requirements[1].line(),
        "FAIL callback/4-2 no handler registered"
    );
    assert!(
        report.requirements[2]
            .line()
            .starts_with("UNSUPPORTED invoke/4-1 the fake backend")
    );
    assert_eq!(report.summary(), "1 passed, 1 failed, 1 unsupported");
    assert_eq!(
        *lines.lock().unwrap(),
        ["callback/4-1", "callback/4-2", "invoke/4-1"]
    );

    let dir = std::env::temp_dir().join(format!("durable-report-{}", rand::random::<u32>()));
    let path = report.write_json(&dir).unwrap();
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(path.file_name().and_then(|n| n.to_str()), Some("fake.json"));
    assert_eq!(written["requirements"][0]["status"], "passed");
    assert_eq!(
        written["requirements"][0]["history"][1]["EventType"],
        "CallbackStarted"
    );
    assert_eq!(
        written["requirements"][1]["reasons"][0],
        "no handler registered"
    );
    std::fs::remove_dir_all(dir).unwrap();

    let mut hanging = Fake::new();
    hanging.hang = true;
    let options = RunOptions {
        timeout: Duration::from_millis(50),
        ..RunOptions::default()
    };
    let report = run_requirements(&reqs[..1], &hanging, &registry(), &options).await;
    assert_eq!(
        report.requirements[0].reasons,
        ["timed out after 0s (last status unknown)"]
    );
}
