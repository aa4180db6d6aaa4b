//! Which operations an invocation sees, and pages of them.
//!
//! The descendants of a CONTEXT that SUCCEEDED or FAILED without
//! `ReplayChildren` are hidden: the SDK returns the context's recorded
//! outcome without running its body again, so it must not see them.

use super::error::ServiceError;
use super::record::ExecutionRecord;
use crate::model::{ExecutionState, Operation, OperationStatus, OperationType};

impl ExecutionRecord {
    /// Whether invocations see `operation` (in envelopes, state pages and deltas).
    pub fn is_visible(&self, operation: &Operation) -> bool {
        let mut parent = operation.parent_id.as_deref();
        // Bounded by the number of operations, so a parent cycle cannot loop forever.
        for _ in 0..self.operations.len() {
            let Some(id) = parent else { return true };
            let Some(ancestor) = self.operations.get(id) else {
                return true;
            };
            if hides_children(ancestor) {
                return false;
            }
            parent = ancestor.parent_id.as_deref();
        }
        true
    }

    /// Whether the operation with this id exists and is visible.
    pub(crate) fn is_visible_id(&self, id: &str) -> bool {
        self.operations
            .get(id)
            .is_some_and(|operation| self.is_visible(operation))
    }

    /// A page of at most `page_size` visible operations, from `marker` (a
    /// marker from an earlier page, or `None` for the first page).
    pub(crate) fn page(
        &self,
        marker: Option<&str>,
        page_size: usize,
    ) -> Result<ExecutionState, ServiceError> {
        let start = match marker.filter(|m| !m.is_empty()) {
            None => 0,
            Some(marker) => marker
                .parse::<usize>()
                .ok()
                .filter(|&position| position <= self.operations.len())
                .ok_or_else(|| ServiceError::InvalidMarker {
                    marker: marker.to_owned(),
                })?,
        };
        let page_size = page_size.max(1);
        let mut operations = Vec::new();
        let mut position = start;
        let mut next_marker = None;
        while let Some(operation) = self.operations.at(position) {
            if self.is_visible(operation) {
                if operations.len() == page_size {
                    next_marker = Some(position.to_string());
                    break;
                }
                operations.push(operation.clone());
            }
            position += 1;
        }
        Ok(ExecutionState {
            operations,
            next_marker,
        })
    }
}

/// Whether a completed context keeps its children from the SDK.
fn hides_children(operation: &Operation) -> bool {
    operation.operation_type == OperationType::Context
        && matches!(
            operation.status,
            OperationStatus::Succeeded | OperationStatus::Failed
        )
        && !operation
            .context_details
            .as_ref()
            .and_then(|d| d.replay_children)
            .unwrap_or(false)
}
