//! History events, in the shape of Lambda's `GetDurableExecutionHistory`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ErrorObject, OperationSubType, Timestamp};

macro_rules! event_types {
    ($($variant:ident,)+) => {
        /// The kind of a history event.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventType {
            $(#[allow(missing_docs)] $variant,)+
        }

        impl EventType {
            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => stringify!($variant),)+ }
            }

            fn details_key(self) -> &'static str {
                match self { $(Self::$variant => concat!(stringify!($variant), "Details"),)+ }
            }
        }
    };
}

event_types! {
    ExecutionStarted, ExecutionSucceeded, ExecutionFailed, ExecutionTimedOut, ExecutionStopped,
    ContextStarted, ContextSucceeded, ContextFailed,
    WaitStarted, WaitSucceeded, WaitCancelled,
    StepStarted, StepSucceeded, StepFailed,
    ChainedInvokeStarted, ChainedInvokeSucceeded, ChainedInvokeFailed, ChainedInvokeTimedOut,
    ChainedInvokeStopped,
    CallbackStarted, CallbackSucceeded, CallbackFailed, CallbackTimedOut,
    InvocationCompleted,
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A payload in an event, possibly cut short.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventPayload {
    /// The (possibly truncated) payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Whether it was cut short.
    #[serde(default)]
    pub truncated: bool,
}

/// An error in an event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventError {
    /// The error.
    #[serde(default)]
    pub payload: ErrorObject,
    /// Whether it was cut short.
    #[serde(default)]
    pub truncated: bool,
}

/// Attempt information on step events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryDetails {
    /// The attempt that just ended, counting from 1.
    pub current_attempt: u32,
    /// Delay before the next attempt; absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_delay_seconds: Option<u64>,
}

/// The `<EventType>Details` member of an event. Which fields are set depends
/// on the event type; the wire object holds only those.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct EventDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<EventPayload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<EventPayload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EventError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_details: Option<RetryDetails>,
    /// Wait length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_end_timestamp: Option<Timestamp>,
    /// Execution timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durable_execution_arn: Option<String>,
    /// Version of the function a chained invoke ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_version: Option<String>,
    /// Tenant of a chained invoke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// Callback timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Callback heartbeat timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One entry of an execution's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub event_type: EventType,
    /// Position in the history, from 1.
    pub event_id: u64,
    /// When it happened.
    pub event_timestamp: Timestamp,
    /// The operation it concerns.
    pub id: Option<String>,
    /// That operation's name.
    pub name: Option<String>,
    /// That operation's subtype.
    pub sub_type: Option<OperationSubType>,
    /// That operation's parent.
    pub parent_id: Option<String>,
    /// Details for this event type.
    pub details: EventDetails,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EventRepr {
    event_type: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub_type: Option<OperationSubType>,
    event_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    event_timestamp: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_id: Option<String>,
    #[serde(flatten)]
    details: BTreeMap<String, EventDetails>,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let details = BTreeMap::from([(
            self.event_type.details_key().to_owned(),
            self.details.clone(),
        )]);
        EventRepr {
            event_type: self.event_type,
            sub_type: self.sub_type.clone(),
            event_id: self.event_id,
            id: self.id.clone(),
            name: self.name.clone(),
            event_timestamp: self.event_timestamp,
            parent_id: self.parent_id.clone(),
            details,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut repr = EventRepr::deserialize(deserializer)?;
        let details = repr
            .details
            .remove(repr.event_type.details_key())
            .unwrap_or_default();
        Ok(Self {
            event_type: repr.event_type,
            event_id: repr.event_id,
            event_timestamp: repr.event_timestamp,
            id: repr.id,
            name: repr.name,
            sub_type: repr.sub_type,
            parent_id: repr.parent_id,
            details,
        })
    }
}
