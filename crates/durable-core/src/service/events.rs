//! Builders of history events.
//!
//! Every operation event carries the operation's `Id`, `Name`, `SubType` and
//! `ParentId`; the event id is given when the event is appended.

use crate::model::{
    ErrorObject, Event, EventDetails, EventError, EventPayload, EventType, Operation, Timestamp,
};

/// An event about `operation`.
pub(crate) fn for_operation(
    operation: &Operation,
    event_type: EventType,
    details: EventDetails,
    now: Timestamp,
) -> Event {
    Event {
        event_type,
        event_id: 0,
        event_timestamp: now,
        id: Some(operation.id.clone()),
        name: operation.name.clone(),
        sub_type: operation.sub_type.clone(),
        parent_id: operation.parent_id.clone(),
        details,
    }
}

/// An event about no operation (such as `InvocationCompleted`).
pub(crate) fn bare(event_type: EventType, details: EventDetails, now: Timestamp) -> Event {
    Event {
        event_type,
        event_id: 0,
        event_timestamp: now,
        id: None,
        name: None,
        sub_type: None,
        parent_id: None,
        details,
    }
}

/// A payload as events carry it. Payloads are kept whole.
pub(crate) fn payload(payload: Option<String>) -> EventPayload {
    EventPayload {
        payload,
        truncated: false,
    }
}

/// An error as events carry it.
pub(crate) fn error(error: ErrorObject) -> EventError {
    EventError {
        payload: error,
        truncated: false,
    }
}

/// Details holding just a result.
pub(crate) fn with_result(result: Option<String>) -> EventDetails {
    EventDetails {
        result: Some(payload(result)),
        ..EventDetails::default()
    }
}

/// Details holding just an error.
pub(crate) fn with_error(error_object: Option<ErrorObject>) -> EventDetails {
    EventDetails {
        error: error_object.map(error),
        ..EventDetails::default()
    }
}
