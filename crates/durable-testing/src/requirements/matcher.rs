//! Matching expected values (with wildcards, placeholders and regexes)
//! against actual JSON, by the rules of the conformance README.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::variables::{Bindings, render};

/// A whole-string `${NAME}`.
static PLACEHOLDER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$").ok());

/// A whole-string `${/regex/}`.
static REGEX: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?s)^\$\{/(.+)/\}$").ok());

/// How many events of the actual history a "missing event" message lists.
const HISTORY_PREVIEW: usize = 40;

/// The longest value quoted in a message.
const MAX_QUOTED: usize = 200;

/// Matches expected events to actual events by `EventId`; actual events no
/// expected event names are ignored. Placeholders bind into `bindings`, in
/// the order of the expected events. Returns one message per mismatch.
pub fn match_history(expected: &[Value], actual: &[Value], bindings: &mut Bindings) -> Vec<String> {
    let mut errors = Vec::new();
    for (index, want) in expected.iter().enumerate() {
        let Some(event_id) = want.get("EventId").and_then(Value::as_u64) else {
            errors.push(format!("expected event #{} has no EventId", index + 1));
            continue;
        };
        let want_type = want.get("EventType").and_then(Value::as_str);
        let Some(got) = actual
            .iter()
            .find(|e| e.get("EventId").and_then(Value::as_u64) == Some(event_id))
        else {
            let what = want_type.map(|t| format!(" ({t})")).unwrap_or_default();
            errors.push(format!(
                "event {event_id}{what} missing ({})",
                describe_history(actual)
            ));
            continue;
        };
        let got_type = got.get("EventType").and_then(Value::as_str);
        if let (Some(w), Some(g)) = (want_type, got_type)
            && w != g
            && !is_pattern(w)
        {
            errors.push(format!(
                "event {event_id}: expected {w}, got {g} ({})",
                describe_history(actual)
            ));
            continue;
        }
        let prefix = format!(
            "event {event_id} ({}) ",
            want_type.or(got_type).unwrap_or("?")
        );
        let mut event_errors = Vec::new();
        match_value(want, got, "", bindings, &mut event_errors);
        errors.extend(event_errors.into_iter().map(|e| format!("{prefix}{e}")));
    }
    errors
}

/// Matches `expected` against `actual`, pushing `"<path>: <problem>"`
/// messages to `errors`:
///
/// - `{}` or `'*'`: anything (the key itself must be present);
/// - `${NAME}`: binds at first sight, must equal the bound value after;
/// - `${/re/}`: the actual value as text (strings unquoted) must contain a match;
/// - objects: every expected key must be present and match, others are ignored;
/// - lists: same length, element by element;
/// - strings: equal after substituting bound placeholders;
/// - anything else: equal, numbers compared numerically.
pub fn match_value(
    expected: &Value,
    actual: &Value,
    path: &str,
    bindings: &mut Bindings,
    errors: &mut Vec<String>,
) {
    let at = if path.is_empty() { "." } else { path };
    match expected {
        Value::Object(map) if map.is_empty() => {}
        Value::String(s) if s == "*" => {}
        Value::String(s) => {
            if let Some(name) = placeholder_name(s) {
                match bindings.get(name) {
                    Some(bound) if values_equal(bound, actual) => {}
                    Some(bound) => errors.push(format!(
                        "{at}: ${{{name}}} is bound to {}, got {}",
                        quote(bound),
                        quote(actual)
                    )),
                    None => bindings.insert(name, actual.clone()),
                }
            } else if let Some(pattern) = regex_pattern(s) {
                match Regex::new(pattern) {
                    Ok(re) if re.is_match(&render(actual)) => {}
                    Ok(_) => {
                        errors.push(format!(
                            "{at}: {} does not match /{pattern}/",
                            quote(actual)
                        ));
                    }
                    Err(e) => errors.push(format!("{at}: invalid regex /{pattern}/: {e}")),
                }
            } else {
                let want = bindings.substitute_str(s);
                if actual.as_str() != Some(want.as_str()) {
                    errors.push(format!(
                        "{at}: expected {}, got {}",
                        quote_str(&want),
                        quote(actual)
                    ));
                }
            }
        }
        Value::Object(map) => {
            let Value::Object(got) = actual else {
                errors.push(format!("{at}: expected an object, got {}", quote(actual)));
                return;
            };
            for (key, want) in map {
                let child = format!("{path}.{key}");
                match got.get(key) {
                    Some(value) => match_value(want, value, &child, bindings, errors),
                    None => errors.push(format!("{child}: missing")),
                }
            }
        }
        Value::Array(items) => {
            let Value::Array(got) = actual else {
                errors.push(format!("{at}: expected a list, got {}", quote(actual)));
                return;
            };
            if items.len() != got.len() {
                errors.push(format!(
                    "{at}: expected a list of {}, got {} items: {}",
                    items.len(),
                    got.len(),
                    quote(actual)
                ));
                return;
            }
            for (i, (want, value)) in items.iter().zip(got).enumerate() {
                match_value(want, value, &format!("{path}[{i}]"), bindings, errors);
            }
        }
        _ => {
            if !values_equal(expected, actual) {
                errors.push(format!(
                    "{at}: expected {}, got {}",
                    quote(expected),
                    quote(actual)
                ));
            }
        }
    }
}

/// Deep equality with numbers compared by value (`2` equals `2.0`).
pub fn values_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(l), Value::Number(r)) => match (integer(l), integer(r)) {
            (Some(l), Some(r)) => l == r,
            _ => l
                .as_f64()
                .zip(r.as_f64())
                .is_some_and(|(l, r)| same_float(l, r)),
        },
        (Value::Array(l), Value::Array(r)) => {
            l.len() == r.len() && l.iter().zip(r).all(|(l, r)| values_equal(l, r))
        }
        (Value::Object(l), Value::Object(r)) => {
            l.len() == r.len()
                && l.iter()
                    .all(|(key, l)| r.get(key).is_some_and(|r| values_equal(l, r)))
        }
        _ => left == right,
    }
}

fn integer(n: &serde_json::Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

#[expect(
    clippy::float_cmp,
    reason = "JSON numbers are equal when their values are"
)]
fn same_float(l: f64, r: f64) -> bool {
    l == r
}

/// `NAME` when `text` is exactly `${NAME}`.
pub(crate) fn placeholder_name(text: &str) -> Option<&str> {
    Some(PLACEHOLDER.as_ref()?.captures(text)?.get(1)?.as_str())
}

/// `re` when `text` is exactly `${/re/}`.
pub(crate) fn regex_pattern(text: &str) -> Option<&str> {
    Some(REGEX.as_ref()?.captures(text)?.get(1)?.as_str())
}

fn is_pattern(text: &str) -> bool {
    text == "*" || placeholder_name(text).is_some() || regex_pattern(text).is_some()
}

/// A value in a message: JSON text, cut short when long.
pub(crate) fn quote(value: &Value) -> String {
    shorten(value.to_string())
}

fn quote_str(text: &str) -> String {
    quote(&Value::String(text.to_owned()))
}

fn shorten(mut text: String) -> String {
    if text.len() > MAX_QUOTED {
        let mut cut = MAX_QUOTED;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// `history has N events: 1 ExecutionStarted, 2 StepStarted, ...`.
pub(crate) fn describe_history(actual: &[Value]) -> String {
    let mut out = format!("history has {} events:", actual.len());
    for (i, event) in actual.iter().take(HISTORY_PREVIEW).enumerate() {
        let id = event.get("EventId").map_or_else(|| "?".to_owned(), render);
        let kind = event
            .get("EventType")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let sep = if i == 0 { " " } else { ", " };
        let _ = write!(out, "{sep}{id} {kind}");
    }
    if actual.len() > HISTORY_PREVIEW {
        out.push_str(", ...");
    }
    out
}

#[cfg(test)]
#[path = "tests/matcher.rs"]
mod tests;
