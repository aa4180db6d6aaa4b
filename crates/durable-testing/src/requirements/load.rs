//! Reading requirement files: `<dir>/<suite>/<id>.yaml`.

use std::cmp::Ordering;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use durable_core::model::ExecutionStatus;
use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

use super::error::HarnessError;
use super::model::{
    CallbackAction, CallbackOperation, ExpectedResult, LogExpectation, Requirement,
};

/// The suites in their reporting order. Other folders sort after these, by name.
pub const SUITES: [&str; 10] = [
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

/// Loads every `<dir>/<suite>/<id>.yaml`, ordered by suite (see [`SUITES`])
/// then numerically by id.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Requirement>, HarnessError> {
    let dir = dir.as_ref();
    let mut requirements = Vec::new();
    for suite_dir in read_dir_sorted(dir)? {
        if !suite_dir.is_dir() {
            continue;
        }
        let Some(suite) = suite_dir
            .file_name()
            .and_then(|s| s.to_str())
            .map(str::to_owned)
        else {
            continue;
        };
        for file in read_dir_sorted(&suite_dir)? {
            if file.extension().and_then(|e| e.to_str()) == Some("yaml") && file.is_file() {
                requirements.push(load_file(&file, &suite)?);
            }
        }
    }
    requirements.sort_by(compare);
    Ok(requirements)
}

/// Loads one requirement file of `suite`; its id is the file stem.
pub fn load_file(path: &Path, suite: &str) -> Result<Requirement, HarnessError> {
    let text = fs::read_to_string(path).map_err(|source| HarnessError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path, suite)
}

/// Parses the text of a requirement file.
pub fn parse(text: &str, path: &Path, suite: &str) -> Result<Requirement, HarnessError> {
    let yaml: Yaml = serde_yaml_ng::from_str(text).map_err(|source| HarnessError::Yaml {
        path: path.to_owned(),
        source,
    })?;
    let Value::Object(mut doc) = yaml_to_json(yaml) else {
        return Err(HarnessError::invalid(path, "the document is not a mapping"));
    };
    let bad = |message: String| HarnessError::invalid(path, message);
    let id = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();

    let description = match doc.remove("description") {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Null) | None => String::new(),
        Some(other) => render_plain(&other),
    };
    let variables = match doc.remove("Variables") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map.into_iter().collect(),
        Some(other) => return Err(bad(format!("Variables must be a mapping, got {other}"))),
    };
    let input = doc.remove("Input").filter(|v| !v.is_null());
    let expected_result = match doc.remove("ExpectedResult") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(parse_expected_result(map).map_err(bad)?),
        Some(other) => {
            return Err(bad(format!(
                "ExpectedResult must be a mapping, got {other}"
            )));
        }
    };
    let async_invoke = match doc.remove("AsyncInvoke") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(other) => return Err(bad(format!("AsyncInvoke must be a boolean, got {other}"))),
    };
    let callback_actions = list(doc.remove("CallbackActions"), "CallbackActions")
        .map_err(&bad)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse_action(v).map_err(|m| bad(format!("CallbackActions[{i}]: {m}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let expected_history = list(
        doc.remove("ExpectedExecutionHistory"),
        "ExpectedExecutionHistory",
    )
    .map_err(&bad)?;
    for (i, event) in expected_history.iter().enumerate() {
        if event.get("EventId").and_then(Value::as_u64).is_none() {
            return Err(bad(format!(
                "ExpectedExecutionHistory[{i}] has no numeric EventId"
            )));
        }
    }
    let expected_logs = list(doc.remove("ExpectedLogs"), "ExpectedLogs")
        .map_err(&bad)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse_log(v).map_err(|m| bad(format!("ExpectedLogs[{i}]: {m}"))))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Requirement {
        id,
        suite: suite.to_owned(),
        path: path.to_owned(),
        description,
        variables,
        input,
        expected_result,
        async_invoke,
        callback_actions,
        expected_history,
        expected_logs,
        extra: doc,
    })
}

fn parse_expected_result(mut map: Map<String, Value>) -> Result<ExpectedResult, String> {
    let status = match map.remove("ExecutionStatus") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<ExecutionStatus>(v.clone())
                .map_err(|_| format!("ExpectedResult.ExecutionStatus: unknown status {v}"))?,
        ),
    };
    // Absent: not checked. Present but empty (YAML null): null expected.
    let result = map.remove("Result");
    Ok(ExpectedResult { status, result })
}

fn parse_action(value: Value) -> Result<CallbackAction, String> {
    let Value::Object(mut map) = value else {
        return Err("not a mapping".to_owned());
    };
    let callback_name = match map.remove("CallbackName") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::Null) | None => return Err("CallbackName is required".to_owned()),
        Some(other) => render_plain(&other),
    };
    let operation = match map.remove("Operation").as_ref().and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("success") => CallbackOperation::Success,
        Some(op) if op.eq_ignore_ascii_case("failure") => CallbackOperation::Failure,
        Some(op) if op.eq_ignore_ascii_case("heartbeat") => CallbackOperation::Heartbeat,
        other => {
            return Err(format!(
                "Operation must be success, failure or heartbeat, got {}",
                other.unwrap_or("nothing")
            ));
        }
    };
    let delay = match map.remove("Delay") {
        None | Some(Value::Null) => Duration::ZERO,
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|d| d.is_finite() && *d >= 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("Delay must be a non-negative number of seconds, got {n}"))?,
        Some(other) => return Err(format!("Delay must be a number of seconds, got {other}")),
    };
    let payload = map.remove("Payload");
    if operation == CallbackOperation::Failure
        && payload
            .as_ref()
            .is_some_and(|p| !p.is_null() && !p.is_object())
    {
        return Err(
            "a failure Payload must be a mapping of ErrorType, ErrorMessage, ...".to_owned(),
        );
    }
    Ok(CallbackAction {
        callback_name,
        operation,
        payload,
        delay,
    })
}

fn parse_log(value: Value) -> Result<LogExpectation, String> {
    let Value::Object(mut map) = value else {
        return Err("not a mapping".to_owned());
    };
    let matcher = match map.remove("match") {
        Some(Value::Object(m)) if !m.is_empty() => m,
        _ => return Err("`match` must be a non-empty mapping of field -> value".to_owned()),
    };
    let count = |map: &mut Map<String, Value>, key: &str| match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be a count, got {v}")),
    };
    let anchors = |v: Option<Value>, key: &str| match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => Ok(vec![m]),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(m) => Ok(m),
                other => Err(format!("`{key}` entries must be mappings, got {other}")),
            })
            .collect(),
        Some(other) => Err(format!(
            "`{key}` must be a mapping or a list of mappings, got {other}"
        )),
    };
    Ok(LogExpectation {
        count: count(&mut map, "count")?,
        min_count: count(&mut map, "min_count")?,
        max_count: count(&mut map, "max_count")?,
        after: anchors(map.remove("after"), "after")?,
        before: anchors(map.remove("before"), "before")?,
        matcher,
    })
}

fn list(value: Option<Value>, key: &str) -> Result<Vec<Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("{key} must be a list, got {other}")),
    }
}

/// Converts YAML to JSON. Non-string mapping keys become their text.
pub(crate) fn yaml_to_json(yaml: Yaml) -> Value {
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (render_plain(&yaml_to_json(k)), yaml_to_json(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn render_plain(value: &Value) -> String {
    super::variables::render(value)
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, HarnessError> {
    let io = |source| HarnessError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut paths = fs::read_dir(dir)
        .map_err(io)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    paths.sort();
    Ok(paths)
}

/// Suite order, then numeric id (`1-2` before `1-10`).
fn compare(a: &Requirement, b: &Requirement) -> Ordering {
    let rank = |suite: &str| {
        SUITES
            .iter()
            .position(|s| *s == suite)
            .unwrap_or(SUITES.len())
    };
    rank(&a.suite)
        .cmp(&rank(&b.suite))
        .then_with(|| a.suite.cmp(&b.suite))
        .then_with(|| id_key(&a.id).cmp(&id_key(&b.id)))
        .then_with(|| a.id.cmp(&b.id))
}

fn id_key(id: &str) -> Vec<u64> {
    id.split(['-', '.'])
        .map(|part| part.parse().unwrap_or(u64::MAX))
        .collect()
}

#[cfg(test)]
#[path = "tests/load.rs"]
mod tests;
