//! The `list` table.

use durable_runtime::ExecutionSummary;

use super::columns;

/// Executions as a table: ARN, function, status, start time.
pub fn executions(executions: &[ExecutionSummary]) -> String {
    if executions.is_empty() {
        return "no executions\n".to_owned();
    }
    let mut rows = vec![vec![
        "ARN".to_owned(),
        "FUNCTION".to_owned(),
        "STATUS".to_owned(),
        "STARTED".to_owned(),
    ]];
    rows.extend(executions.iter().map(|execution| {
        vec![
            execution.arn.clone(),
            execution.function_name.clone(),
            execution.status.to_string(),
            execution.start_timestamp.to_string(),
        ]
    }));
    columns(&rows)
}
