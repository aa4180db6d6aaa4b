//! `start`, `list` and `stop`.

use durable_core::model::{ErrorObject, ExecutionStatus};
use durable_runtime::ListFilter;

use crate::cli::{ListArgs, StartArgs, StopArgs};
use crate::database::Backend;
use crate::error::CliError;
use crate::output;

/// Largest page asked of the backend at once.
const PAGE: usize = 500;

/// Fails with [`CliError::BadInput`] unless `input` is absent or JSON.
pub fn check_input(input: Option<&str>) -> Result<(), CliError> {
    if let Some(input) = input {
        serde_json::from_str::<serde_json::Value>(input).map_err(|error| CliError::BadInput {
            reason: error.to_string(),
        })?;
    }
    Ok(())
}

/// `durable start`: prints the ARN.
pub async fn start(service: &Backend, args: StartArgs) -> Result<(), CliError> {
    check_input(args.input.as_deref())?;
    let created = service
        .start_execution(&args.function, args.name.as_deref(), args.input)
        .await?;
    println!("{}", created.arn);
    Ok(())
}

/// `durable list`: prints a table of executions.
pub async fn list(service: &Backend, args: ListArgs) -> Result<(), CliError> {
    let filter = ListFilter {
        function_name: args.function,
        name: None,
        status: args.status.as_deref().map(parse_status).transpose()?,
    };
    let mut executions = Vec::new();
    let mut marker: Option<String> = None;
    while executions.len() < args.limit {
        let want = (args.limit - executions.len()).min(PAGE);
        let page = service.list(&filter, marker.as_deref(), want).await?;
        executions.extend(page.items);
        marker = page.next_marker;
        if marker.is_none() {
            break;
        }
    }
    executions.truncate(args.limit);
    print!("{}", output::table::executions(&executions));
    Ok(())
}

/// `durable stop`.
pub async fn stop(service: &Backend, args: StopArgs) -> Result<(), CliError> {
    let error = args
        .message
        .map(|message| ErrorObject::new("ExecutionStopped", message));
    service.stop(&args.arn, error).await?;
    println!("stopped {}", args.arn);
    Ok(())
}

/// An execution status, in any case, `-` or `_` between words.
fn parse_status(text: &str) -> Result<ExecutionStatus, CliError> {
    let wire = text.trim().to_ascii_uppercase().replace('-', "_");
    serde_json::from_value(serde_json::Value::String(wire)).map_err(|_| CliError::BadStatus {
        status: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_leniently() {
        assert_eq!(parse_status("running").unwrap(), ExecutionStatus::Running);
        assert_eq!(
            parse_status("timed-out").unwrap(),
            ExecutionStatus::TimedOut
        );
        assert!(parse_status("asleep").is_err());
    }

    #[test]
    fn input_must_be_json() {
        assert!(check_input(None).is_ok());
        assert!(check_input(Some(r#"{"a":1}"#)).is_ok());
        assert!(matches!(
            check_input(Some("{oops")),
            Err(CliError::BadInput { .. })
        ));
    }
}
