//! Validation of a checkpoint batch against the recorded state.
//!
//! The whole batch is checked before anything is applied, in O(batch): the
//! effect of earlier updates of the same batch is tracked in a small overlay
//! instead of changing (or cloning) the record.

use std::collections::HashMap;

use super::config::ServiceConfig;
use super::error::ServiceError;
use super::record::ExecutionRecord;
use crate::model::{
    OperationAction as Action, OperationStatus as Status, OperationSubType, OperationType as Type,
    OperationUpdate,
};

/// Longest wait or retry delay the service accepts, in seconds (366 days).
pub const MAX_DELAY_SECONDS: u64 = 31_622_400;
/// Longest operation id.
pub const MAX_ID_CHARS: usize = 64;
/// Longest operation name.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest subtype.
pub const MAX_SUB_TYPE_CHARS: usize = 32;
/// Prefix of the id an SDK may give the EXECUTION update of a large result.
pub const EXECUTION_RESULT_ID_PREFIX: &str = "execution-result-";

/// What the batch so far knows about one operation.
#[derive(Clone, Copy)]
struct View<'a> {
    operation_type: Type,
    status: Status,
    sub_type: Option<&'a OperationSubType>,
    name: Option<&'a str>,
    parent_id: Option<&'a str>,
}

/// Updates of one id seen earlier in the batch.
struct Seen<'a> {
    view: View<'a>,
    count: usize,
    last_action: Action,
}

/// Checks every update of `updates` against `record`; `Ok` means the whole
/// batch can be applied.
pub(crate) fn check_batch(
    record: &ExecutionRecord,
    config: &ServiceConfig,
    updates: &[OperationUpdate],
) -> Result<(), ServiceError> {
    let mut seen: HashMap<&str, Seen<'_>> = HashMap::with_capacity(updates.len());
    for (index, update) in updates.iter().enumerate() {
        let fail = |message: String| ServiceError::InvalidUpdate {
            index,
            operation_id: update.id.clone(),
            message,
        };
        check_fields(update).map_err(fail)?;
        if update.operation_type == Type::Execution {
            check_execution(record, config, updates, index).map_err(fail)?;
            continue;
        }
        if update.id == record.execution_operation_id() {
            return Err(fail("the Id names the EXECUTION operation".into()));
        }
        let earlier = seen.get(update.id.as_str());
        if let Some(earlier) = earlier {
            let allowed = earlier.count == 1
                && earlier.last_action == Action::Start
                && update.action != Action::Start
                && matches!(earlier.view.operation_type, Type::Step | Type::Context);
            if !allowed {
                return Err(fail(
                    "the batch already updates this operation (only START followed by one closing update of a STEP or CONTEXT may share a batch)"
                        .into(),
                ));
            }
        }
        let current = earlier.map(|e| e.view).or_else(|| {
            record.operation(&update.id).map(|op| View {
                operation_type: op.operation_type,
                status: op.status,
                sub_type: op.sub_type.as_ref(),
                name: op.name.as_deref(),
                parent_id: op.parent_id.as_deref(),
            })
        });
        if let Some(current) = current {
            check_consistent(&current, update).map_err(fail)?;
        }
        check_parent(record, &seen, update).map_err(fail)?;
        let status = transition(current.map(|c| c.status), update).map_err(fail)?;
        check_payload(config, update).map_err(fail)?;
        let view = match current {
            Some(current) => View { status, ..current },
            None => View {
                operation_type: update.operation_type,
                status,
                sub_type: update.sub_type.as_ref(),
                name: update.name.as_deref(),
                parent_id: update.parent_id.as_deref(),
            },
        };
        let count = earlier.map_or(0, |e| e.count) + 1;
        seen.insert(
            &update.id,
            Seen {
                view,
                count,
                last_action: update.action,
            },
        );
    }
    Ok(())
}

fn check_fields(update: &OperationUpdate) -> Result<(), String> {
    let id = &update.id;
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS {
        return Err(format!("the Id must have 1 to {MAX_ID_CHARS} characters"));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("the Id may only contain letters, digits, '-' and '_'".into());
    }
    if let Some(name) = &update.name
        && (name.is_empty() || name.chars().count() > MAX_NAME_CHARS)
    {
        return Err(format!(
            "the Name must have 1 to {MAX_NAME_CHARS} characters"
        ));
    }
    if let Some(sub_type) = &update.sub_type {
        let text = sub_type.as_str();
        if text.is_empty() || text.chars().count() > MAX_SUB_TYPE_CHARS {
            return Err(format!(
                "the SubType must have 1 to {MAX_SUB_TYPE_CHARS} characters"
            ));
        }
        if let Some(owner) = sub_type.operation_type()
            && owner != update.operation_type
        {
            return Err(format!(
                "SubType {text} belongs to {owner} operations, not {}",
                update.operation_type
            ));
        }
    }
    Ok(())
}

fn check_execution(
    record: &ExecutionRecord,
    config: &ServiceConfig,
    updates: &[OperationUpdate],
    index: usize,
) -> Result<(), String> {
    let update = &updates[index];
    if index + 1 != updates.len() {
        return Err("an EXECUTION update must be the last update of its batch".into());
    }
    if updates
        .iter()
        .filter(|u| u.operation_type == Type::Execution)
        .count()
        > 1
    {
        return Err("a batch may hold at most one EXECUTION update".into());
    }
    if update.id != record.execution_operation_id()
        && !update.id.starts_with(EXECUTION_RESULT_ID_PREFIX)
    {
        return Err(format!(
            "an EXECUTION update must name the EXECUTION operation ({}) or start with {EXECUTION_RESULT_ID_PREFIX:?}",
            record.execution_operation_id()
        ));
    }
    match update.action {
        Action::Succeed if update.error.is_some() => Err("SUCCEED cannot carry an Error".into()),
        Action::Fail if update.payload.is_some() => Err("FAIL cannot carry a Payload".into()),
        Action::Succeed | Action::Fail => {
            payload_within(update, config.max_execution_payload_bytes)
        }
        other => Err(format!(
            "{other} is not allowed on the EXECUTION operation (only SUCCEED or FAIL)"
        )),
    }
}

fn check_consistent(current: &View<'_>, update: &OperationUpdate) -> Result<(), String> {
    if current.operation_type != update.operation_type {
        return Err(format!(
            "inconsistent operation: recorded as {}, updated as {}",
            current.operation_type, update.operation_type
        ));
    }
    if let Some(sub_type) = &update.sub_type
        && current.sub_type != Some(sub_type)
    {
        return Err(format!(
            "inconsistent operation: recorded SubType {:?}, updated as {:?}",
            current.sub_type.map(OperationSubType::as_str),
            sub_type.as_str()
        ));
    }
    if let Some(name) = &update.name
        && current.name != Some(name.as_str())
    {
        return Err(format!(
            "inconsistent operation: recorded Name {:?}, updated as {name:?}",
            current.name
        ));
    }
    if let Some(parent) = &update.parent_id
        && current.parent_id != Some(parent.as_str())
    {
        return Err(format!(
            "inconsistent operation: recorded ParentId {:?}, updated as {parent:?}",
            current.parent_id
        ));
    }
    Ok(())
}

fn check_parent(
    record: &ExecutionRecord,
    seen: &HashMap<&str, Seen<'_>>,
    update: &OperationUpdate,
) -> Result<(), String> {
    let Some(parent) = update.parent_id.as_deref() else {
        return Ok(());
    };
    if parent == update.id {
        return Err("an operation cannot be its own parent".into());
    }
    let parent_type = seen
        .get(parent)
        .map(|s| s.view.operation_type)
        .or_else(|| record.operation(parent).map(|op| op.operation_type));
    match parent_type {
        Some(Type::Context) => Ok(()),
        Some(other) => Err(format!(
            "ParentId {parent:?} names a {other} operation, not a CONTEXT"
        )),
        None => Err(format!(
            "ParentId {parent:?} names no CONTEXT recorded or started earlier in this batch"
        )),
    }
}

/// The status the update leads to from `current` (`None`: a new operation).
fn transition(current: Option<Status>, update: &OperationUpdate) -> Result<Status, String> {
    let kind = update.operation_type;
    let action = update.action;
    let refuse = || match current {
        None => format!("{action} is not allowed on a new {kind} operation"),
        Some(status) => format!("{action} is not allowed on a {kind} operation in status {status}"),
    };
    if action == Action::Start && update.error.is_some() {
        return Err("START cannot carry an Error".into());
    }
    if update.payload.is_some()
        && matches!(action, Action::Start | Action::Cancel)
        && kind != Type::ChainedInvoke
    {
        return Err(format!(
            "{action} of a {kind} operation cannot carry a Payload"
        ));
    }
    if action == Action::Fail && update.payload.is_some() {
        return Err("FAIL cannot carry a Payload".into());
    }
    if action == Action::Succeed && update.error.is_some() {
        return Err("SUCCEED cannot carry an Error".into());
    }
    match (kind, action, current) {
        (Type::Step, Action::Start, None | Some(Status::Ready))
        | (Type::Context | Type::Callback, Action::Start, None) => Ok(Status::Started),
        (Type::Step, Action::Succeed, Some(Status::Started | Status::Ready))
        | (Type::Context, Action::Succeed, Some(Status::Started)) => Ok(Status::Succeeded),
        (Type::Step, Action::Fail, Some(Status::Started | Status::Ready))
        | (Type::Context, Action::Fail, Some(Status::Started)) => Ok(Status::Failed),
        (Type::Step, Action::Retry, Some(Status::Started | Status::Ready)) => {
            if update.payload.is_some() && update.error.is_some() {
                return Err("RETRY can carry an Error or a Payload, not both".into());
            }
            let delay = update
                .step_options
                .and_then(|o| o.next_attempt_delay_seconds);
            check_delay("StepOptions.NextAttemptDelaySeconds", delay)?;
            Ok(Status::Pending)
        }
        (Type::Wait, Action::Start, None) => {
            check_delay(
                "WaitOptions.WaitSeconds",
                update.wait_options.map(|o| o.wait_seconds),
            )?;
            Ok(Status::Started)
        }
        (Type::Wait, Action::Cancel, Some(Status::Started)) => Ok(Status::Cancelled),
        (Type::ChainedInvoke, Action::Start, None) => match &update.chained_invoke_options {
            Some(options) if !options.function_name.is_empty() => Ok(Status::Started),
            _ => Err("START of a CHAINED_INVOKE needs ChainedInvokeOptions.FunctionName".into()),
        },
        (Type::ChainedInvoke, Action::Cancel, Some(Status::Started)) => Ok(Status::Stopped),
        _ => Err(refuse()),
    }
}

fn check_delay(what: &str, seconds: Option<u64>) -> Result<(), String> {
    match seconds {
        Some(s) if (1..=MAX_DELAY_SECONDS).contains(&s) => Ok(()),
        Some(s) => Err(format!(
            "{what} must be between 1 and {MAX_DELAY_SECONDS}, not {s}"
        )),
        None => Err(format!("{what} is required")),
    }
}

fn check_payload(config: &ServiceConfig, update: &OperationUpdate) -> Result<(), String> {
    payload_within(update, config.max_operation_payload_bytes)
}

fn payload_within(update: &OperationUpdate, limit: usize) -> Result<(), String> {
    match &update.payload {
        Some(payload) if payload.len() > limit => Err(format!(
            "the Payload has {} bytes, more than the limit of {limit} bytes",
            payload.len()
        )),
        _ => Ok(()),
    }
}
