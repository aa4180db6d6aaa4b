//! Driving one execution: start, settle, perform callback actions, let
//! time pass until it ends.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use durable_core::DurableFunction;
use serde_json::Value;

use super::backend::{RequirementBackend, RunningExecution};
use super::error::HarnessError;
use super::logs::LogRecord;
use super::matcher::{match_history, regex_pattern};
use super::model::{CallbackAction, CallbackOperation, Requirement};
use super::variables::Bindings;
use crate::runner::ExecutionSnapshot;

/// Time moved forward per idle step while waiting for an execution to end
/// without outside action (e.g. for a callback timeout to fire).
const IDLE_STEP: Duration = Duration::from_secs(1);

/// Idle time after which an execution that makes no progress is left as is.
const NO_PROGRESS_LIMIT: Duration = Duration::from_secs(30);

/// A safety net against executions that progress forever.
const MAX_ROUNDS: usize = 1_000;

/// What driving an execution produced, filled in as it goes so that a
/// timeout still leaves the last known state.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub arn: Option<String>,
    pub snapshot: Option<ExecutionSnapshot>,
    pub history: Vec<Value>,
    /// Problems with callback actions (no action for a callback, a send that failed).
    pub action_errors: Vec<String>,
    pub logs: Vec<LogRecord>,
}

/// Starts `requirement` (already instantiated) and drives it to its end:
/// after each settle, performs the next applicable callback action (after
/// its delay); when none applies and the execution still runs, lets time
/// pass until it ends, its expected history has appeared (when no result
/// is expected), or nothing happens for a while.
pub(crate) async fn drive(
    requirement: &Requirement,
    backend: &dyn RequirementBackend,
    function: DurableFunction,
    bindings: &Bindings,
    trace: &mut Trace,
) -> Result<(), HarnessError> {
    let mut exec = backend
        .start(
            &function_name(requirement),
            function,
            requirement.input_json(),
        )
        .await?;
    trace.arn = Some(exec.arn().to_owned());
    let actions = &requirement.callback_actions;
    let mut used = vec![false; actions.len()];
    let mut handled = HashSet::new();
    let mut idle = Duration::ZERO;
    let mut seen_events = 0;

    for round in 0.. {
        if round == MAX_ROUNDS {
            trace
                .action_errors
                .push(format!("gave up after {MAX_ROUNDS} rounds without an end"));
            break;
        }
        let snapshot = exec.settle().await?;
        trace.history = snapshot
            .history
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        let terminal = snapshot.status.is_terminal();
        trace.snapshot = Some(snapshot);
        if terminal {
            break;
        }
        if trace.history.len() > seen_events {
            seen_events = trace.history.len();
            idle = Duration::ZERO;
        }
        let next = next_action(
            &trace.history,
            actions,
            &mut used,
            &mut handled,
            &mut trace.action_errors,
        );
        if let Some((index, callback_id, name)) = next {
            idle = Duration::ZERO;
            if let Err(e) = perform(exec.as_mut(), &actions[index], &callback_id).await {
                trace.action_errors.push(format!(
                    "{} callback for '{name}' (id {callback_id}) failed: {e}",
                    actions[index].operation.as_str()
                ));
            }
            continue;
        }
        if requirement.expected_result.is_none()
            && match_history(
                &requirement.expected_history,
                &trace.history,
                &mut bindings.clone(),
            )
            .is_empty()
        {
            break;
        }
        if idle >= NO_PROGRESS_LIMIT {
            break;
        }
        exec.advance(IDLE_STEP).await?;
        idle += IDLE_STEP;
    }
    trace.logs = exec.logs().await?;
    Ok(())
}

/// The name the requirement's handler is registered under.
pub(crate) fn function_name(requirement: &Requirement) -> String {
    format!("conformance-{}", requirement.id)
}

async fn perform(
    exec: &mut dyn RunningExecution,
    action: &CallbackAction,
    callback_id: &str,
) -> Result<(), HarnessError> {
    if !action.delay.is_zero() {
        exec.advance(action.delay).await?;
    }
    match action.operation {
        CallbackOperation::Success => {
            exec.callback_success(callback_id, &action.success_payload())
                .await
        }
        CallbackOperation::Failure => {
            exec.callback_failure(callback_id, action.error_object())
                .await
        }
        CallbackOperation::Heartbeat => exec.callback_heartbeat(callback_id).await,
    }
}

/// The first callback (in history order) not yet handled, with the first
/// unused action whose `CallbackName` matches its name: its action index,
/// callback id and name. A heartbeat leaves the callback open for a later
/// action. A callback no action matches is reported (when there are
/// actions at all) and left alone.
fn next_action(
    history: &[Value],
    actions: &[CallbackAction],
    used: &mut [bool],
    handled: &mut HashSet<String>,
    errors: &mut Vec<String>,
) -> Option<(usize, String, String)> {
    let names = wait_for_callback_names(history);
    for event in history {
        if event.get("EventType").and_then(Value::as_str) != Some("CallbackStarted") {
            continue;
        }
        let Some(callback_id) = event
            .get("CallbackStartedDetails")
            .and_then(|d| d.get("CallbackId"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        if handled.contains(callback_id) {
            continue;
        }
        let name = event
            .get("Name")
            .and_then(Value::as_str)
            .or_else(|| {
                let parent = event.get("ParentId").and_then(Value::as_str)?;
                names.get(parent).copied()
            })
            .unwrap_or("");
        let found = actions
            .iter()
            .enumerate()
            .find(|(i, a)| !used[*i] && name_matches(&a.callback_name, name));
        let Some((index, action)) = found else {
            if !actions.is_empty() {
                errors.push(format!(
                    "no callback action matches callback '{name}' (id {callback_id})"
                ));
            }
            handled.insert(callback_id.to_owned());
            continue;
        };
        used[index] = true;
        if action.operation != CallbackOperation::Heartbeat {
            handled.insert(callback_id.to_owned());
        }
        return Some((index, callback_id.to_owned(), name.to_owned()));
    }
    None
}

/// Names of `wait_for_callback` contexts by id: their inner callback may
/// carry no name of its own.
fn wait_for_callback_names(history: &[Value]) -> HashMap<&str, &str> {
    history
        .iter()
        .filter(|e| e.get("SubType").and_then(Value::as_str) == Some("WaitForCallback"))
        .filter_map(|e| Some((e.get("Id")?.as_str()?, e.get("Name")?.as_str()?)))
        .collect()
}

/// `CallbackName` against a callback's name: `*`, `${/regex/}` (search) or exact.
pub(crate) fn name_matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" || pattern == name {
        return true;
    }
    regex_pattern(pattern)
        .and_then(|re| regex::Regex::new(re).ok())
        .is_some_and(|re| re.is_match(name))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn action(name: &str, operation: CallbackOperation) -> CallbackAction {
        CallbackAction {
            callback_name: name.to_owned(),
            operation,
            payload: None,
            delay: Duration::ZERO,
        }
    }

    fn started(id: &str, name: Option<&str>, parent: Option<&str>) -> Value {
        let mut e = json!({"EventType": "CallbackStarted", "Id": format!("op-{id}"),
                           "CallbackStartedDetails": {"CallbackId": id}});
        if let Some(n) = name {
            e["Name"] = json!(n);
        }
        if let Some(p) = parent {
            e["ParentId"] = json!(p);
        }
        e
    }

    #[test]
    fn names_match_exactly_by_wildcard_or_regex() {
        assert!(name_matches("*", "anything"));
        assert!(name_matches("abc", "abc"));
        assert!(!name_matches("abc", "abcd"));
        assert!(name_matches("${/^ab/}", "abcd"));
        assert!(!name_matches("${/^b/}", "abcd"));
    }

    #[test]
    fn picks_callbacks_in_history_order_and_uses_each_action_once() {
        let history = vec![
            started("cb-a", Some("A"), None),
            started("cb-b", Some("B"), None),
        ];
        let actions = vec![
            action("B", CallbackOperation::Success),
            action("A", CallbackOperation::Success),
        ];
        let (mut used, mut handled, mut errors) = (vec![false; 2], HashSet::new(), Vec::new());
        let first = next_action(&history, &actions, &mut used, &mut handled, &mut errors);
        assert_eq!(first, Some((1, "cb-a".to_owned(), "A".to_owned())));
        let second = next_action(&history, &actions, &mut used, &mut handled, &mut errors);
        assert_eq!(second, Some((0, "cb-b".to_owned(), "B".to_owned())));
        assert_eq!(
            next_action(&history, &actions, &mut used, &mut handled, &mut errors),
            None
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn heartbeat_keeps_the_callback_open() {
        let history = vec![started("cb", Some("X"), None)];
        let actions = vec![
            action("X", CallbackOperation::Heartbeat),
            action("X", CallbackOperation::Success),
        ];
        let (mut used, mut handled, mut errors) = (vec![false; 2], HashSet::new(), Vec::new());
        assert_eq!(
            next_action(&history, &actions, &mut used, &mut handled, &mut errors).map(|n| n.0),
            Some(0)
        );
        assert_eq!(
            next_action(&history, &actions, &mut used, &mut handled, &mut errors).map(|n| n.0),
            Some(1)
        );
        assert_eq!(
            next_action(&history, &actions, &mut used, &mut handled, &mut errors),
            None
        );
    }

    #[test]
    fn unmatched_callbacks_are_reported_once() {
        let history = vec![
            json!({"EventType": "ContextStarted", "SubType": "WaitForCallback", "Id": "w1", "Name": "outer"}),
            started("cb", None, Some("w1")),
        ];
        let actions = vec![action("other", CallbackOperation::Success)];
        let (mut used, mut handled, mut errors) = (vec![false; 1], HashSet::new(), Vec::new());
        assert_eq!(
            next_action(&history, &actions, &mut used, &mut handled, &mut errors),
            None
        );
        assert_eq!(
            errors,
            ["no callback action matches callback 'outer' (id cb)"]
        );
        assert_eq!(
            next_action(&history, &actions, &mut used, &mut handled, &mut errors),
            None
        );
        assert_eq!(errors.len(), 1);
        // The inner callback of wait_for_callback answers to the context's name.
        let actions = vec![action("outer", CallbackOperation::Success)];
        let (mut used, mut handled) = (vec![false; 1], HashSet::new());
        assert!(next_action(&history, &actions, &mut used, &mut handled, &mut errors).is_some());
        // No actions at all: callbacks are left open silently (timeout tests).
        let mut errors = Vec::new();
        assert_eq!(
            next_action(&history, &[], &mut [], &mut HashSet::new(), &mut errors),
            None
        );
        assert!(errors.is_empty());
    }
}
