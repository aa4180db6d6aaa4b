//! Limits and policies of the service that a backend may tune.

use std::time::Duration;

/// Limits and policies applied by the service rules.
///
/// The defaults follow the Lambda durable service where it documents a
/// value, and the reference emulator elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Largest payload of a STEP, CONTEXT, CALLBACK or `CHAINED_INVOKE` update,
    /// and of a callback result, in bytes.
    pub max_operation_payload_bytes: usize,
    /// Largest payload of an EXECUTION update or an execution result, in bytes.
    pub max_execution_payload_bytes: usize,
    /// Operations per page of the invocation envelope and of state reads.
    pub page_size: usize,
    /// Failed invocations in a row after which the execution fails.
    pub max_consecutive_failed_invocations: u32,
    /// Delay before an invocation that failed is tried again.
    pub failed_invocation_backoff: Duration,
}

impl ServiceConfig {
    /// 256 KiB, the limit of a single operation payload.
    pub const DEFAULT_MAX_OPERATION_PAYLOAD_BYTES: usize = 256 * 1024;
    /// 6 MB, the Lambda synchronous response limit.
    pub const DEFAULT_MAX_EXECUTION_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
    /// 1000 operations, the largest page the Lambda state API returns.
    pub const DEFAULT_PAGE_SIZE: usize = 1000;
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            max_operation_payload_bytes: Self::DEFAULT_MAX_OPERATION_PAYLOAD_BYTES,
            max_execution_payload_bytes: Self::DEFAULT_MAX_EXECUTION_PAYLOAD_BYTES,
            page_size: Self::DEFAULT_PAGE_SIZE,
            max_consecutive_failed_invocations: 5,
            failed_invocation_backoff: Duration::from_secs(5),
        }
    }
}
