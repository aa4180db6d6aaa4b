//! Checking an execution's final status and result against `ExpectedResult`.

use durable_core::model::{ErrorObject, ExecutionStatus};
use serde_json::Value;

use super::matcher::{quote, values_equal};
use super::model::ExpectedResult;
use super::variables::Bindings;

/// Checks the status first; for a success, the result string parsed once
/// as JSON (or, when it is not JSON, the string itself; absent is `null`)
/// must equal the expected `Result` after placeholder substitution. Returns
/// a readable reason on mismatch.
pub fn check_result(
    expected: &ExpectedResult,
    status: ExecutionStatus,
    result: Option<&str>,
    error: Option<&ErrorObject>,
    bindings: &Bindings,
) -> Result<(), String> {
    if let Some(want) = expected.status
        && want != status
    {
        let detail = match (status, error) {
            (ExecutionStatus::Succeeded, _) => {
                format!(
                    " with result {}",
                    quote(&Value::String(result.unwrap_or("null").to_owned()))
                )
            }
            (_, Some(e)) => format!(" ({})", describe_error(e)),
            _ => String::new(),
        };
        return Err(format!("status: expected {want}, got {status}{detail}"));
    }
    if status != ExecutionStatus::Succeeded {
        return Ok(());
    }
    let Some(want) = &expected.result else {
        return Ok(());
    };
    let want = bindings.substitute(want);
    let got = parse_result(result);
    if values_equal(&want, &got) {
        Ok(())
    } else {
        Err(format!(
            "result: expected {}, got {}",
            quote(&want),
            quote(&got)
        ))
    }
}

/// A result string parsed once as JSON; a string that is not JSON stays a
/// string; no result is `null`.
pub fn parse_result(result: Option<&str>) -> Value {
    match result {
        None => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())),
    }
}

/// `Type: message`, for messages.
pub(crate) fn describe_error(error: &ErrorObject) -> String {
    match (&error.error_type, &error.error_message) {
        (Some(t), Some(m)) => format!("{t}: {m}"),
        (Some(t), None) => t.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => "no error details".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn expect(status: Option<ExecutionStatus>, result: Option<Value>) -> ExpectedResult {
        ExpectedResult { status, result }
    }

    const OK: ExecutionStatus = ExecutionStatus::Succeeded;

    #[test]
    fn compares_the_parsed_result() {
        let b = Bindings::new();
        let e = expect(Some(OK), Some(json!("Hello, World!")));
        assert!(check_result(&e, OK, Some("\"Hello, World!\""), None, &b).is_ok());
        // A result that is not JSON compares as the string.
        assert!(check_result(&e, OK, Some("Hello, World!"), None, &b).is_ok());
        let err = check_result(&e, OK, Some("\"Bye\""), None, &b).unwrap_err();
        assert_eq!(err, r#"result: expected "Hello, World!", got "Bye""#);

        let e = expect(Some(OK), Some(json!({"count": 42, "doubled": 84})));
        assert!(check_result(&e, OK, Some(r#"{"doubled":84.0,"count":42}"#), None, &b).is_ok());
        assert!(check_result(&e, OK, Some(r#"{"count":42}"#), None, &b).is_err());
        // Parsed once only: a JSON string holding JSON stays a string.
        let e = expect(Some(OK), Some(json!("\"HELLO\"")));
        assert!(check_result(&e, OK, Some(r#""\"HELLO\"""#), None, &b).is_ok());
        assert!(check_result(&e, OK, Some(r#""HELLO""#), None, &b).is_err());
    }

    #[test]
    fn null_result_matches_absent_or_null() {
        let b = Bindings::new();
        let e = expect(Some(OK), Some(Value::Null));
        assert!(check_result(&e, OK, None, None, &b).is_ok());
        assert!(check_result(&e, OK, Some("null"), None, &b).is_ok());
        assert!(check_result(&e, OK, Some("1"), None, &b).is_err());
        // No Result key: anything goes.
        let e = expect(Some(OK), None);
        assert!(check_result(&e, OK, Some("[1,2]"), None, &b).is_ok());
    }

    #[test]
    fn checks_status_first() {
        let b = Bindings::new();
        let e = expect(Some(OK), Some(json!(1)));
        let error = ErrorObject::new("StepError", "boom");
        let err = check_result(&e, ExecutionStatus::Failed, None, Some(&error), &b).unwrap_err();
        assert_eq!(
            err,
            "status: expected SUCCEEDED, got FAILED (StepError: boom)"
        );
        let e = expect(Some(ExecutionStatus::Failed), Some(json!(1)));
        assert!(check_result(&e, ExecutionStatus::Failed, None, Some(&error), &b).is_ok());
        let err = check_result(&e, OK, Some("5"), None, &b).unwrap_err();
        assert_eq!(
            err,
            r#"status: expected FAILED, got SUCCEEDED with result "5""#
        );
    }

    #[test]
    fn substitutes_placeholders_in_the_expected_result() {
        let mut b = Bindings::new();
        b.insert("INPUT_1", json!("abc"));
        let e = expect(
            Some(OK),
            Some(json!({"echo": "${INPUT_1}", "list": ["x-${INPUT_1}"]})),
        );
        assert!(check_result(&e, OK, Some(r#"{"echo":"abc","list":["x-abc"]}"#), None, &b).is_ok());
    }
}
