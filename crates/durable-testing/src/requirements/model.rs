//! A requirement, as read from its YAML file.

use std::path::PathBuf;
use std::time::Duration;

use durable_core::model::{ErrorObject, ExecutionStatus};
use serde_json::{Map, Value};

use super::variables::{Bindings, render};

/// One conformance requirement: `<suite>/<id>.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// The file stem, such as `1-11`.
    pub id: String,
    /// The folder, such as `step`.
    pub suite: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// One-line description.
    pub description: String,
    /// `Variables`, in file order: name and generator (`${GEN_STR:N}`) or value.
    pub variables: Vec<(String, Value)>,
    /// `Input`; `None` when absent or null (the execution gets no input).
    pub input: Option<Value>,
    /// `ExpectedResult`, if given.
    pub expected_result: Option<ExpectedResult>,
    /// `AsyncInvoke: true`: the execution suspends and may need callback actions.
    pub async_invoke: bool,
    /// `CallbackActions`, in file order.
    pub callback_actions: Vec<CallbackAction>,
    /// `ExpectedExecutionHistory`: expected events, each with an `EventId`.
    pub expected_history: Vec<Value>,
    /// `ExpectedLogs`.
    pub expected_logs: Vec<LogExpectation>,
    /// Every other top-level field (`handler`, `invocations`, ...), kept as is.
    pub extra: Map<String, Value>,
}

impl Requirement {
    /// `suite/id`, as printed in reports.
    pub fn key(&self) -> String {
        format!("{}/{}", self.suite, self.id)
    }

    /// This requirement with the bound placeholders of `bindings` (usually
    /// its generated variables) substituted into every string of `Input`,
    /// `ExpectedResult`, `CallbackActions`, `ExpectedExecutionHistory` and
    /// `ExpectedLogs`.
    #[must_use]
    pub fn instantiate(&self, bindings: &Bindings) -> Self {
        let mut out = self.clone();
        out.input = self.input.as_ref().map(|v| bindings.substitute(v));
        if let Some(expected) = &mut out.expected_result {
            expected.result = expected.result.as_ref().map(|v| bindings.substitute(v));
        }
        for action in &mut out.callback_actions {
            action.callback_name = bindings.substitute_str(&action.callback_name);
            action.payload = action.payload.as_ref().map(|v| bindings.substitute(v));
        }
        out.expected_history = self
            .expected_history
            .iter()
            .map(|v| bindings.substitute(v))
            .collect();
        for log in &mut out.expected_logs {
            *log = log.substitute(bindings);
        }
        out
    }

    /// The execution input as a JSON string, `None` for no input.
    pub fn input_json(&self) -> Option<String> {
        self.input
            .as_ref()
            .filter(|v| !v.is_null())
            .map(Value::to_string)
    }
}

/// `ExpectedResult`: the final status and, for a success, the result.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedResult {
    /// `ExecutionStatus`, if given.
    pub status: Option<ExecutionStatus>,
    /// `Result`: `None` when the key is absent (not checked);
    /// `Some(Value::Null)` when present but empty or null (a null or absent
    /// result is expected).
    pub result: Option<Value>,
}

/// What a callback action sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOperation {
    /// `SendDurableExecutionCallbackSuccess`.
    Success,
    /// `SendDurableExecutionCallbackFailure`.
    Failure,
    /// `SendDurableExecutionCallbackHeartbeat`.
    Heartbeat,
}

impl CallbackOperation {
    /// The spelling in requirement files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Heartbeat => "heartbeat",
        }
    }
}

/// One entry of `CallbackActions`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackAction {
    /// `CallbackName`: an exact name, `*`, or `${/regex/}`.
    pub callback_name: String,
    /// `Operation`.
    pub operation: CallbackOperation,
    /// `Payload`: for a success, the value sent as JSON; for a failure, an
    /// object with `ErrorType`, `ErrorMessage`, `ErrorData`, `StackTrace`.
    pub payload: Option<Value>,
    /// `Delay` before sending, 0 when absent.
    pub delay: Duration,
}

impl CallbackAction {
    /// The success result to send: the payload as JSON text, or an empty
    /// string when there is no payload.
    ///
    /// The JSON is written the way the reference runner's Python
    /// `json.dumps` writes it (`", "` and `": "` separators, non-ASCII
    /// escaped), so payload comparisons see the same bytes.
    pub fn success_payload(&self) -> String {
        self.payload
            .as_ref()
            .filter(|v| !v.is_null())
            .map(super::pyjson::dumps)
            .unwrap_or_default()
    }

    /// The error to send for a failure, from the payload's `ErrorType`,
    /// `ErrorMessage`, `ErrorData` and `StackTrace`.
    pub fn error_object(&self) -> ErrorObject {
        let field = |key: &str| {
            self.payload
                .as_ref()
                .and_then(|p| p.get(key))
                .filter(|v| !v.is_null())
                .map(render)
        };
        let stack_trace = self
            .payload
            .as_ref()
            .and_then(|p| p.get("StackTrace"))
            .and_then(Value::as_array)
            .map(|frames| frames.iter().map(render).collect());
        ErrorObject {
            error_message: field("ErrorMessage"),
            error_type: field("ErrorType"),
            error_data: field("ErrorData"),
            stack_trace,
        }
    }
}

/// One entry of `ExpectedLogs`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogExpectation {
    /// `match`: field name -> expected value, all must hold.
    pub matcher: Map<String, Value>,
    /// `count`: exact number of matching records.
    pub count: Option<u64>,
    /// `min_count`.
    pub min_count: Option<u64>,
    /// `max_count`.
    pub max_count: Option<u64>,
    /// `after`: every match must come at or after every record each of these matches.
    pub after: Vec<Map<String, Value>>,
    /// `before`: every match must come at or before every record each of these matches.
    pub before: Vec<Map<String, Value>>,
}

impl LogExpectation {
    /// A short label for messages: `field=value, ...`.
    pub fn label(&self) -> String {
        label(&self.matcher)
    }

    /// This expectation with `bindings` substituted into its string values.
    #[must_use]
    pub fn substitute(&self, bindings: &Bindings) -> Self {
        let map = |m: &Map<String, Value>| -> Map<String, Value> {
            m.iter()
                .map(|(k, v)| (k.clone(), bindings.substitute(v)))
                .collect()
        };
        Self {
            matcher: map(&self.matcher),
            count: self.count,
            min_count: self.min_count,
            max_count: self.max_count,
            after: self.after.iter().map(map).collect(),
            before: self.before.iter().map(map).collect(),
        }
    }
}

/// `field=value, ...` for a log matcher.
pub(crate) fn label(matcher: &Map<String, Value>) -> String {
    matcher
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
