//! Checking captured log records against `ExpectedLogs`.

use regex::Regex;
use serde_json::{Map, Value};

use super::matcher::values_equal;
use super::model::{LogExpectation, label};
use super::variables::{Bindings, render};

/// One log record: the fields of a JSON object line.
pub type LogRecord = Map<String, Value>;

/// A raw output line as a record: a JSON object line exposes its fields,
/// any other line only `message` = the line.
pub fn parse_log_line(line: &str) -> LogRecord {
    let trimmed = line.trim();
    if trimmed.starts_with('{')
        && let Ok(Value::Object(map)) = serde_json::from_str(trimmed)
    {
        return map;
    }
    let mut map = Map::new();
    map.insert("message".to_owned(), Value::String(trimmed.to_owned()));
    map
}

/// Checks every expectation against `records` (the whole stream of the
/// execution, in order), after substituting `bindings` into the matchers.
/// Returns one message per failed expectation.
pub fn check_logs(
    expected: &[LogExpectation],
    records: &[LogRecord],
    bindings: &Bindings,
) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, raw) in expected.iter().enumerate() {
        let entry = raw.substitute(bindings);
        let name = format!("ExpectedLogs[{i}] match({})", entry.label());
        let own = matching(&entry.matcher, records);
        if let Some(problem) = count_problem(&entry, own.len()) {
            errors.push(format!(
                "{name}: {problem} ({} records captured)",
                records.len()
            ));
        }
        for (direction, anchors) in [("after", &entry.after), ("before", &entry.before)] {
            for anchor in anchors {
                let hits = matching(anchor, records);
                let (Some(first_hit), Some(last_hit)) = (hits.first(), hits.last()) else {
                    errors.push(format!(
                        "{name}: {direction} anchor ({}) matched no log records",
                        label(anchor)
                    ));
                    continue;
                };
                let (Some(first_own), Some(last_own)) = (own.first(), own.last()) else {
                    continue; // Reported by the count check.
                };
                let out_of_order = if direction == "after" {
                    first_own < last_hit
                } else {
                    last_own > first_hit
                };
                if out_of_order {
                    errors.push(format!(
                        "{name}: expected every match {direction} ({}), but records are out of order",
                        label(anchor)
                    ));
                }
            }
        }
    }
    errors
}

fn count_problem(entry: &LogExpectation, got: usize) -> Option<String> {
    let got = u64::try_from(got).unwrap_or(u64::MAX);
    if let Some(count) = entry.count {
        return (got != count).then(|| format!("expected exactly {count} matches, got {got}"));
    }
    let min = match (entry.min_count, entry.max_count) {
        (None, None) => Some(1),
        (min, _) => min,
    };
    if let Some(min) = min.filter(|min| got < *min) {
        return Some(format!("expected at least {min} matches, got {got}"));
    }
    if let Some(max) = entry.max_count.filter(|max| got > *max) {
        return Some(format!("expected at most {max} matches, got {got}"));
    }
    None
}

/// Indices of the records that satisfy every field of `matcher`.
fn matching(matcher: &Map<String, Value>, records: &[LogRecord]) -> Vec<usize> {
    records
        .iter()
        .enumerate()
        .filter(|(_, record)| {
            matcher.iter().all(|(field, want)| {
                record
                    .get(field)
                    .is_some_and(|got| field_matches(want, got))
            })
        })
        .map(|(i, _)| i)
        .collect()
}

/// A string is compared with the actual value as text, both trimmed, or is
/// a regex search when written `/re/`; booleans must be booleans; numbers
/// compare numerically; anything else compares as text.
fn field_matches(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::String(w), _) => {
            let text = render(got);
            let text = text.trim();
            match w.strip_prefix('/').and_then(|r| r.strip_suffix('/')) {
                Some(pattern) if w.len() >= 2 => {
                    Regex::new(pattern).is_ok_and(|re| re.is_match(text))
                }
                _ => text == w.trim(),
            }
        }
        (Value::Bool(_), _) | (_, Value::Bool(_)) => want == got,
        (Value::Number(_), Value::Number(_)) => values_equal(want, got),
        _ => render(want) == render(got),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn records(lines: &[Value]) -> Vec<LogRecord> {
        lines
            .iter()
            .map(|v| v.as_object().cloned().unwrap())
            .collect()
    }

    #[allow(clippy::needless_pass_by_value)]
    fn expectation(v: Value) -> LogExpectation {
        let text = serde_yaml_ng::to_string(&json!({"ExpectedLogs": [v]})).unwrap();
        let req =
            super::super::load::parse(&text, std::path::Path::new("t/1-1.yaml"), "t").unwrap();
        req.expected_logs.into_iter().next().unwrap()
    }

    fn stream() -> Vec<LogRecord> {
        records(&[
            json!({"plugin": "P", "hook": "invocation-start", "first": true, "level": "INFO", "message": ""}),
            json!({"message": "Greeting step running for: abc", "level": "INFO", "attempt": 1}),
            json!({"plugin": "P", "hook": "operation-end", "op": "s1", "n": 2, "status": "SUCCEEDED"}),
            json!({"plugin": "P", "hook": "invocation-end", "status": "SUCCEEDED"}),
        ])
    }

    #[test]
    fn parses_lines() {
        assert_eq!(
            parse_log_line(r#" {"a": 1} "#),
            json!({"a": 1}).as_object().cloned().unwrap()
        );
        assert_eq!(
            parse_log_line("  plain text "),
            json!({"message": "plain text"})
                .as_object()
                .cloned()
                .unwrap()
        );
        assert_eq!(
            parse_log_line("[1]"),
            json!({"message": "[1]"}).as_object().cloned().unwrap()
        );
    }

    #[test]
    fn counts() {
        let s = stream();
        let b = Bindings::new();
        let one = expectation(
            json!({"match": {"plugin": "P", "hook": "invocation-start", "first": true}, "count": 1}),
        );
        assert!(check_logs(&[one], &s, &b).is_empty());
        let none = expectation(
            json!({"match": {"plugin": "P", "hook": "invocation-start", "first": false}, "count": 0}),
        );
        assert!(check_logs(&[none], &s, &b).is_empty());
        // Without bounds at least one match is needed.
        let missing = expectation(json!({"match": {"hook": "nope"}}));
        let errors = check_logs(&[missing], &s, &b);
        assert_eq!(
            errors,
            [
                r#"ExpectedLogs[0] match(hook="nope"): expected at least 1 matches, got 0 (4 records captured)"#
            ]
        );
        let too_many = expectation(json!({"match": {"plugin": "P"}, "max_count": 2}));
        assert_eq!(check_logs(&[too_many], &s, &b).len(), 1);
        let enough = expectation(json!({"match": {"plugin": "P"}, "min_count": 3}));
        assert!(check_logs(&[enough], &s, &b).is_empty());
        let exact = expectation(json!({"match": {"plugin": "P"}, "count": 2}));
        assert!(check_logs(&[exact], &s, &b)[0].contains("expected exactly 2 matches, got 3"));
    }

    #[test]
    fn values_regexes_and_placeholders() {
        let s = stream();
        let mut b = Bindings::new();
        b.insert("INPUT_1", json!("abc"));
        b.insert("ID1", json!("s1"));
        let by_regex = expectation(
            json!({"match": {"message": "/Greeting step running for: ${INPUT_1}/"}, "count": 1}),
        );
        let by_number = expectation(json!({"match": {"op": "${ID1}", "n": 2}, "count": 1}));
        let number_as_text = expectation(json!({"match": {"n": "2"}, "count": 1}));
        let attempt_text = expectation(json!({"match": {"attempt": "1"}, "count": 1}));
        let trimmed = expectation(json!({"match": {"status": " SUCCEEDED "}, "count": 2}));
        let bool_strict = expectation(json!({"match": {"first": "true"}, "count": 1}));
        let errors = check_logs(
            &[
                by_regex,
                by_number,
                number_as_text,
                attempt_text,
                trimmed,
                bool_strict,
            ],
            &s,
            &b,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let not_bool = expectation(json!({"match": {"first": 1}, "count": 1}));
        assert_eq!(check_logs(&[not_bool], &s, &b).len(), 1);
    }

    #[test]
    fn anchors() {
        let s = stream();
        let b = Bindings::new();
        let after_ok = expectation(json!({
            "match": {"hook": "invocation-end"}, "count": 1,
            "after": [{"message": "/Greeting/"}, {"hook": "invocation-start"}]
        }));
        let before_ok = expectation(json!({
            "match": {"message": "/Greeting/"}, "before": {"hook": "invocation-end"}
        }));
        // A record may anchor itself: "at or after".
        let self_anchor =
            expectation(json!({"match": {"hook": "operation-end"}, "after": {"op": "s1"}}));
        assert!(check_logs(&[after_ok, before_ok, self_anchor], &s, &b).is_empty());

        let after_bad = expectation(
            json!({"match": {"hook": "invocation-start"}, "after": {"message": "/Greeting/"}}),
        );
        let errors = check_logs(&[after_bad], &s, &b);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("out of order"), "{errors:?}");
        let before_bad = expectation(
            json!({"match": {"hook": "invocation-end"}, "before": {"hook": "operation-end"}}),
        );
        assert_eq!(check_logs(&[before_bad], &s, &b).len(), 1);

        let dangling =
            expectation(json!({"match": {"hook": "invocation-end"}, "after": {"hook": "typo"}}));
        let errors = check_logs(&[dangling], &s, &b);
        assert_eq!(
            errors,
            [
                r#"ExpectedLogs[0] match(hook="invocation-end"): after anchor (hook="typo") matched no log records"#
            ]
        );
        // No own match with a count of 0: the order is vacuous, the anchor still must match.
        let vacuous = expectation(
            json!({"match": {"hook": "x"}, "count": 0, "after": {"hook": "invocation-end"}}),
        );
        assert!(check_logs(&[vacuous], &s, &b).is_empty());
    }
}
