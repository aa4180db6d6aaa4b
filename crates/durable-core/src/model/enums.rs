//! The enumerations of the Lambda durable API, spelled as on the wire.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// What kind of operation a record describes.
    OperationType {
        /// The execution itself; its id is the last segment of the execution ARN.
        Execution = "EXECUTION",
        /// A child context (`run_in_child_context`, map, parallel, ...).
        Context = "CONTEXT",
        /// A step or a `wait_for_condition`.
        Step = "STEP",
        /// A durable timer.
        Wait = "WAIT",
        /// A callback completed by an external system.
        Callback = "CALLBACK",
        /// A chained invoke of another durable function.
        ChainedInvoke = "CHAINED_INVOKE",
    }
}

wire_enum! {
    /// The state of one operation.
    OperationStatus {
        /// Running, or waiting on the service (timer, callback, invoke).
        Started = "STARTED",
        /// A step waiting for its next retry time.
        Pending = "PENDING",
        /// A step whose retry time has come.
        Ready = "READY",
        /// Finished with a result.
        Succeeded = "SUCCEEDED",
        /// Finished with an error.
        Failed = "FAILED",
        /// Cancelled before it finished.
        Cancelled = "CANCELLED",
        /// A callback or invoke that ran out of time.
        TimedOut = "TIMED_OUT",
        /// Stopped from outside.
        Stopped = "STOPPED",
    }
}

impl OperationStatus {
    /// Whether nothing more can happen to the operation.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Cancelled | Self::TimedOut | Self::Stopped
        )
    }
}

wire_enum! {
    /// What an [`OperationUpdate`](super::OperationUpdate) asks the service to do.
    OperationAction {
        /// Begin the operation.
        Start = "START",
        /// Finish it with a result.
        Succeed = "SUCCEED",
        /// Finish it with an error.
        Fail = "FAIL",
        /// Schedule another attempt of a step.
        Retry = "RETRY",
        /// Cancel a wait, callback or invoke.
        Cancel = "CANCEL",
    }
}

wire_enum! {
    /// The state of a whole execution.
    ExecutionStatus {
        /// Not finished yet.
        Running = "RUNNING",
        /// Finished with a result.
        Succeeded = "SUCCEEDED",
        /// Finished with an error.
        Failed = "FAILED",
        /// Ran past its execution timeout.
        TimedOut = "TIMED_OUT",
        /// Stopped from outside.
        Stopped = "STOPPED",
    }
}

impl ExecutionStatus {
    /// Whether the execution has ended.
    pub const fn is_terminal(self) -> bool {
        !matches!(self, Self::Running)
    }
}

wire_enum! {
    /// How one invocation of a durable handler ended.
    InvocationStatus {
        /// The handler returned a result.
        Succeeded = "SUCCEEDED",
        /// The handler failed for good.
        Failed = "FAILED",
        /// The handler suspended; the service invokes it again later.
        Pending = "PENDING",
    }
}

/// The SDK construct behind an operation, written to `SubType`.
///
/// The operation type follows from it. Unknown values are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum OperationSubType {
    /// `step`.
    Step,
    /// `wait_for_condition`.
    WaitForCondition,
    /// `wait`.
    Wait,
    /// `create_callback`.
    Callback,
    /// `invoke`.
    ChainedInvoke,
    /// `run_in_child_context`.
    RunInChildContext,
    /// The context around `wait_for_callback`.
    WaitForCallback,
    /// The outer context of `map`.
    Map,
    /// One item of `map`.
    MapIteration,
    /// The outer context of `parallel`.
    Parallel,
    /// One branch of `parallel`.
    ParallelBranch,
    /// A value this SDK does not know.
    Other(String),
}

impl OperationSubType {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Step => "Step",
            Self::WaitForCondition => "WaitForCondition",
            Self::Wait => "Wait",
            Self::Callback => "Callback",
            Self::ChainedInvoke => "ChainedInvoke",
            Self::RunInChildContext => "RunInChildContext",
            Self::WaitForCallback => "WaitForCallback",
            Self::Map => "Map",
            Self::MapIteration => "MapIteration",
            Self::Parallel => "Parallel",
            Self::ParallelBranch => "ParallelBranch",
            Self::Other(other) => other,
        }
    }

    /// The operation type this subtype belongs to, if known.
    pub fn operation_type(&self) -> Option<OperationType> {
        Some(match self {
            Self::Step | Self::WaitForCondition => OperationType::Step,
            Self::Wait => OperationType::Wait,
            Self::Callback => OperationType::Callback,
            Self::ChainedInvoke => OperationType::ChainedInvoke,
            Self::RunInChildContext
            | Self::WaitForCallback
            | Self::Map
            | Self::MapIteration
            | Self::Parallel
            | Self::ParallelBranch => OperationType::Context,
            Self::Other(_) => return None,
        })
    }
}

impl From<String> for OperationSubType {
    fn from(value: String) -> Self {
        match value.as_str() {
            "Step" => Self::Step,
            "WaitForCondition" => Self::WaitForCondition,
            "Wait" => Self::Wait,
            "Callback" => Self::Callback,
            "ChainedInvoke" => Self::ChainedInvoke,
            "RunInChildContext" => Self::RunInChildContext,
            "WaitForCallback" => Self::WaitForCallback,
            "Map" => Self::Map,
            "MapIteration" => Self::MapIteration,
            "Parallel" => Self::Parallel,
            "ParallelBranch" => Self::ParallelBranch,
            _ => Self::Other(value),
        }
    }
}

impl From<OperationSubType> for String {
    fn from(value: OperationSubType) -> Self {
        match value {
            OperationSubType::Other(other) => other,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for OperationSubType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
