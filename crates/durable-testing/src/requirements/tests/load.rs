//! Tests of `load.rs`.
use std::collections::BTreeSet;

use serde_json::json;

use super::*;

fn requirements_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/requirements")
}

#[test]
fn loads_every_shared_requirement() {
    let all = load_dir(requirements_dir()).unwrap();
    assert_eq!(all.len(), 152);
    let suites: BTreeSet<&str> = all.iter().map(|r| r.suite.as_str()).collect();
    assert_eq!(suites.len(), 10);
    assert_eq!(all[0].key(), "step/1-1");
    assert_eq!(all[1].key(), "step/1-2");
    assert_eq!(all.last().map(|r| r.suite.as_str()), Some("plugin"));
    let order: Vec<&str> = all.iter().map(|r| r.suite.as_str()).collect();
    let mut dedup = order.clone();
    dedup.dedup();
    assert_eq!(dedup, SUITES);
    assert!(all.iter().all(|r| !r.description.is_empty()));
    assert!(all.iter().all(|r| !r.expected_history.is_empty()));
    assert_eq!(all.iter().filter(|r| r.async_invoke).count(), 46);
    assert_eq!(
        all.iter()
            .filter(|r| !r.callback_actions.is_empty())
            .count(),
        24
    );
    assert_eq!(
        all.iter().filter(|r| !r.expected_logs.is_empty()).count(),
        24
    );
}

#[test]
fn reads_the_fields() {
    let all = load_dir(requirements_dir()).unwrap();
    let get = |key: &str| all.iter().find(|r| r.key() == key).unwrap();

    let r = get("step/1-1");
    assert_eq!(r.input, Some(json!("World")));
    let expected = r.expected_result.as_ref().unwrap();
    assert_eq!(expected.status, Some(ExecutionStatus::Succeeded));
    assert_eq!(expected.result, Some(json!("Hello, World!")));
    assert!(r.extra.contains_key("handler"));

    // `Input:` with nothing is no input; `Result:` with nothing expects null.
    assert_eq!(get("step/1-11").input, None);
    assert_eq!(
        get("child/3-16").expected_result.as_ref().unwrap().result,
        Some(Value::Null)
    );
    // No `Result` key: not checked; no ExpectedResult at all.
    assert_eq!(
        get("callback/4-1").expected_result.as_ref().unwrap().result,
        None
    );
    assert!(get("wait/2-4").expected_result.is_none());

    let cb = get("callback/4-5");
    assert!(cb.async_invoke);
    assert_eq!(
        cb.variables[0],
        ("CB_NAME".to_owned(), json!("${GEN_STR:10}"))
    );
    assert_eq!(cb.callback_actions.len(), 2);
    assert_eq!(
        cb.callback_actions[0].operation,
        CallbackOperation::Heartbeat
    );
    assert_eq!(cb.callback_actions[0].delay, Duration::ZERO);
    assert_eq!(cb.callback_actions[1].operation, CallbackOperation::Success);
    assert_eq!(cb.callback_actions[1].delay, Duration::from_secs(1));

    let failure = &get("callback/4-10").callback_actions[0];
    let error = failure.error_object();
    assert_eq!(error.error_type.as_deref(), Some("RejectedError"));
    assert_eq!(error.error_message.as_deref(), Some("not approved"));
    assert_eq!(
        get("callback/4-16").callback_actions[0].success_payload(),
        "42"
    );

    let logs = &get("plugin/10-1").expected_logs;
    assert_eq!(logs[0].count, Some(1));
    assert_eq!(logs[1].after.len(), 1);
    assert_eq!(logs[0].matcher.get("first"), Some(&json!(true)));

    assert!(
        get("step/1-13")
            .extra
            .contains_key("DefaultRetryParameters")
    );
}

#[test]
fn rejects_bad_files() {
    let path = Path::new("x/1-1.yaml");
    assert!(matches!(
        parse("- a", path, "x"),
        Err(HarnessError::Invalid { .. })
    ));
    assert!(matches!(
        parse("a: [", path, "x"),
        Err(HarnessError::Yaml { .. })
    ));
    let bad_op = "CallbackActions:\n  - CallbackName: a\n    Operation: explode\n";
    let err = parse(bad_op, path, "x").unwrap_err().to_string();
    assert!(err.contains("CallbackActions[0]"), "{err}");
    let no_id = "ExpectedExecutionHistory:\n  - EventType: StepStarted\n";
    assert!(parse(no_id, path, "x").is_err());
    let status = "ExpectedResult:\n  ExecutionStatus: EXPLODED\n";
    assert!(
        parse(status, path, "x")
            .unwrap_err()
            .to_string()
            .contains("EXPLODED")
    );
}

#[test]
fn sorts_ids_numerically() {
    assert!(id_key("1-2") < id_key("1-10"));
    assert!(id_key("9-20") > id_key("9-3"));
}
