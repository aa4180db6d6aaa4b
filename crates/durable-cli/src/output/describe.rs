//! The head of `show`: what the execution is and how it stands.

use durable_runtime::ExecutionDescription;

use super::{columns, duration, error, inline};

/// The execution's identity, status, input and outcome, one field a line.
pub fn execution(description: &ExecutionDescription) -> String {
    let mut rows = vec![
        field("Execution", description.arn.clone()),
        field("Function", description.function_name.clone()),
        field("Name", description.name.clone()),
        field("Status", description.status.to_string()),
        field("Started", description.start_timestamp.to_string()),
    ];
    if let Some(end) = description.end_timestamp {
        let took = duration(end.since(description.start_timestamp));
        rows.push(field("Ended", format!("{end} (after {took})")));
    }
    if let Some(input) = &description.input {
        rows.push(field("Input", inline(input)));
    }
    if let Some(result) = &description.result {
        rows.push(field("Result", inline(result)));
    }
    if let Some(failure) = &description.error {
        rows.push(field("Error", error(failure)));
    }
    rows.push(field(
        "Invocations",
        format!(
            "{}{}",
            description.invocation_count,
            if description.invocation_running {
                " (one running)"
            } else {
                ""
            }
        ),
    ));
    if let Some(wake_up) = description.next_wake_up {
        rows.push(field("Next wake-up", wake_up.to_string()));
    }
    columns(&rows)
}

fn field(label: &str, value: String) -> Vec<String> {
    vec![format!("{label}:"), value]
}
