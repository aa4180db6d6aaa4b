//! Tests of `matcher.rs`.
use serde_json::json;

use super::*;

fn check(expected: &Value, actual: &Value, bindings: &mut Bindings) -> Vec<String> {
    let mut errors = Vec::new();
    match_value(expected, actual, "", bindings, &mut errors);
    errors
}

#[allow(clippy::needless_pass_by_value)]
fn ok(expected: Value, actual: Value) -> bool {
    check(&expected, &actual, &mut Bindings::new()).is_empty()
}

#[test]
fn wildcards_need_the_key_but_not_the_value() {
    assert!(ok(
        json!({"A": "*", "B": {}}),
        json!({"A": 1, "B": {"x": [1]}, "C": 3})
    ));
    let errors = check(&json!({"A": "*"}), &json!({"B": 1}), &mut Bindings::new());
    assert_eq!(errors, [".A: missing"]);
    let errors = check(&json!({"B": {}}), &json!({}), &mut Bindings::new());
    assert_eq!(errors, [".B: missing"]);
    assert!(ok(json!("*"), json!(null)));
}

#[test]
fn placeholders_bind_then_must_agree() {
    let mut b = Bindings::new();
    assert!(check(&json!({"Id": "${ID1}"}), &json!({"Id": "abc"}), &mut b).is_empty());
    assert_eq!(b.get("ID1"), Some(&json!("abc")));
    assert!(check(&json!({"P": "${ID1}"}), &json!({"P": "abc"}), &mut b).is_empty());
    let errors = check(&json!({"P": "${ID1}"}), &json!({"P": "xyz"}), &mut b);
    assert_eq!(errors, [r#".P: ${ID1} is bound to "abc", got "xyz""#]);
    // Numbers bind as numbers and compare numerically.
    assert!(check(&json!("${N}"), &json!(2), &mut b).is_empty());
    assert!(check(&json!("${N}"), &json!(2.0), &mut b).is_empty());
    assert!(!check(&json!("${N}"), &json!("2"), &mut b).is_empty());
}

#[test]
fn embedded_placeholders_are_substituted() {
    let mut b = Bindings::new();
    b.insert("CB_PAYLOAD", json!("xyz"));
    assert!(check(&json!("\"${CB_PAYLOAD}\""), &json!("\"xyz\""), &mut b).is_empty());
    let errors = check(
        &json!({"Payload": "\"${CB_PAYLOAD}\""}),
        &json!({"Payload": "xyz"}),
        &mut b,
    );
    assert_eq!(errors, [r#".Payload: expected "\"xyz\"", got "xyz""#]);
}

#[test]
fn regexes_search_the_rendered_value() {
    assert!(ok(
        json!("${/.*TransientError$/}"),
        json!("MyTransientError")
    ));
    assert!(ok(json!("${/^([0-9]|10)$/}"), json!(10)));
    assert!(ok(json!("${/wrapped/}"), json!("{\"wrapped\":1}")));
    let errors = check(
        &json!({"D": "${/^[0-5]$/}"}),
        &json!({"D": 7}),
        &mut Bindings::new(),
    );
    assert_eq!(errors, [".D: 7 does not match /^[0-5]$/"]);
}

#[test]
fn nested_objects_check_only_expected_keys() {
    let expected = json!({"Details": {"Error": {"Payload": {"ErrorType": "E"}}}});
    let actual = json!({"Details": {"Error": {"Payload": {"ErrorType": "E", "ErrorMessage": "m"}, "Truncated": false}}});
    assert!(ok(expected.clone(), actual));
    let errors = check(
        &expected,
        &json!({"Details": {"Error": {"Payload": {"ErrorType": "F"}}}}),
        &mut Bindings::new(),
    );
    assert_eq!(
        errors,
        [r#".Details.Error.Payload.ErrorType: expected "E", got "F""#]
    );
    let errors = check(&expected, &json!({"Details": "x"}), &mut Bindings::new());
    assert_eq!(errors, [r#".Details: expected an object, got "x""#]);
}

#[test]
fn lists_match_element_wise_with_equal_length() {
    assert!(ok(
        json!(["a", "*", {"k": 1}]),
        json!(["a", 5, {"k": 1, "j": 2}])
    ));
    let errors = check(
        &json!({"L": [1, 2]}),
        &json!({"L": [1]}),
        &mut Bindings::new(),
    );
    assert_eq!(errors, [".L: expected a list of 2, got 1 items: [1]"]);
    let errors = check(
        &json!({"L": [1, 2]}),
        &json!({"L": [1, 3]}),
        &mut Bindings::new(),
    );
    assert_eq!(errors, [".L[1]: expected 2, got 3"]);
}

#[test]
fn numbers_compare_numerically() {
    assert!(ok(json!(2), json!(2.0)));
    assert!(ok(
        json!(3600),
        serde_json::from_str::<Value>("3600").unwrap()
    ));
    assert!(ok(json!(-1), json!(-1)));
    assert!(!ok(json!(2), json!(3)));
    assert!(!ok(json!(2), json!("2")));
    assert!(!ok(json!(true), json!("true")));
    assert!(ok(json!(null), json!(null)));
    assert!(values_equal(
        &json!({"a": [1, 2.0]}),
        &json!({"a": [1.0, 2]})
    ));
    assert!(!values_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
}

#[test]
fn history_matches_by_event_id() {
    let actual = vec![
        json!({"EventType": "ExecutionStarted", "EventId": 1}),
        json!({"EventType": "StepStarted", "EventId": 2, "Id": "s1", "StepStartedDetails": {}}),
        json!({"EventType": "StepSucceeded", "EventId": 3, "Id": "s1",
               "StepSucceededDetails": {"RetryDetails": {"CurrentAttempt": 1}}}),
        json!({"EventType": "InvocationCompleted", "EventId": 4}),
    ];
    let expected = vec![
        json!({"EventType": "StepStarted", "EventId": 2, "Id": "${ID1}", "StepStartedDetails": {}}),
        json!({"EventType": "StepSucceeded", "EventId": 3, "Id": "${ID1}",
               "StepSucceededDetails": {"RetryDetails": {"CurrentAttempt": 2}}}),
    ];
    let mut b = Bindings::new();
    let errors = match_history(&expected, &actual, &mut b);
    assert_eq!(
        errors,
        [
            "event 3 (StepSucceeded) .StepSucceededDetails.RetryDetails.CurrentAttempt: expected 2, got 1"
        ]
    );
    assert_eq!(b.get("ID1"), Some(&json!("s1")));

    let missing = vec![json!({"EventType": "InvocationCompleted", "EventId": 7})];
    let errors = match_history(&missing, &actual, &mut Bindings::new());
    assert_eq!(
        errors,
        [
            "event 7 (InvocationCompleted) missing (history has 4 events: 1 ExecutionStarted, \
          2 StepStarted, 3 StepSucceeded, 4 InvocationCompleted)"
        ]
    );

    let wrong_type = vec![json!({"EventType": "StepFailed", "EventId": 3, "Id": "${X}"})];
    let errors = match_history(&wrong_type, &actual, &mut Bindings::new());
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("event 3: expected StepFailed, got StepSucceeded (history has 4")
    );

    // Bindings are shared across events: a different Id later fails.
    let mut b = Bindings::new();
    let expected = vec![
        json!({"EventId": 2, "Id": "${ID1}"}),
        json!({"EventId": 4, "Id": "${ID1}"}),
    ];
    let errors = match_history(&expected, &actual, &mut b);
    assert_eq!(errors, [r"event 4 (InvocationCompleted) .Id: missing"]);
}
