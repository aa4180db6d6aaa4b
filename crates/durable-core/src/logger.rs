//! The replay-aware logger.
//!
//! Workflow code runs again on every replay. Logging through
//! [`DurableContext::logger`](crate::DurableContext::logger) keeps that quiet:
//! while a context replays recorded operations its log lines are dropped,
//! unless the logger is configured with `mode_aware(false)`. Records go to
//! `tracing` (target `durable::log`, with the execution ARN, operation id and
//! attempt as fields) or to a custom [`DurableLogger`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::engine::Execution;

/// Severity of a log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Fine-grained detail.
    Debug,
    /// Normal progress.
    Info,
    /// Something unexpected that the workflow handles.
    Warn,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// Upper-case name, as in JSON log lines.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Warn => "WARN",
            Self::Error => "ERROR",
        }
    }
}

/// One log record with its execution context.
#[derive(Debug, Clone, Copy)]
pub struct LogRecord<'a> {
    /// Severity.
    pub level: LogLevel,
    /// The message.
    pub message: &'a str,
    /// The execution that logged it.
    pub execution_arn: &'a str,
    /// The operation (step or child context) that logged it, if any.
    pub operation_id: Option<&'a str>,
    /// The step attempt, counting from 1, inside a step.
    pub attempt: Option<u32>,
}

/// Where log records go. Implement it to plug in your own logger.
pub trait DurableLogger: Send + Sync {
    /// Writes one record.
    fn log(&self, record: &LogRecord<'_>);
}

/// The default logger: one `tracing` event per record.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingLogger;

impl DurableLogger for TracingLogger {
    fn log(&self, r: &LogRecord<'_>) {
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(
                    target: "durable::log",
                    $level,
                    execution_arn = r.execution_arn,
                    operation_id = r.operation_id,
                    attempt = r.attempt,
                    "{}",
                    r.message
                )
            };
        }
        match r.level {
            LogLevel::Debug => emit!(tracing::Level::DEBUG),
            LogLevel::Info => emit!(tracing::Level::INFO),
            LogLevel::Warn => emit!(tracing::Level::WARN),
            LogLevel::Error => emit!(tracing::Level::ERROR),
        }
    }
}

/// How an execution logs.
///
/// # Example
/// ```
/// # use durable_core::logger::LoggerConfig;
/// // Log during replay too, e.g. to see that code runs again.
/// let config = LoggerConfig::default().mode_aware(false);
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct LoggerConfig {
    pub(crate) sink: Arc<dyn DurableLogger>,
    pub(crate) mode_aware: bool,
}

impl Default for LoggerConfig {
    fn default() -> Self {
        Self {
            sink: Arc::new(TracingLogger),
            mode_aware: true,
        }
    }
}

impl LoggerConfig {
    /// Whether to drop records while replaying (default `true`).
    #[must_use]
    pub fn mode_aware(mut self, mode_aware: bool) -> Self {
        self.mode_aware = mode_aware;
        self
    }

    /// Sends records to `logger` instead of `tracing`.
    #[must_use]
    pub fn custom(mut self, logger: impl DurableLogger + 'static) -> Self {
        self.sink = Arc::new(logger);
        self
    }
}

impl fmt::Debug for LoggerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggerConfig")
            .field("mode_aware", &self.mode_aware)
            .finish_non_exhaustive()
    }
}

/// A logger bound to one context or step.
#[derive(Clone)]
pub struct Logger {
    exec: Arc<Execution>,
    replaying: Option<Arc<AtomicBool>>,
    operation_id: Option<String>,
    attempt: Option<u32>,
}

impl Logger {
    pub(crate) fn new(
        exec: Arc<Execution>,
        replaying: Option<Arc<AtomicBool>>,
        operation_id: Option<String>,
        attempt: Option<u32>,
    ) -> Self {
        Self {
            exec,
            replaying,
            operation_id,
            attempt,
        }
    }

    /// Logs at `level`, unless the context is replaying and the logger is mode-aware.
    pub fn log(&self, level: LogLevel, message: impl fmt::Display) {
        let config = self.exec.logger.read().map_or_else(
            |poisoned| poisoned.into_inner().clone(),
            |config| config.clone(),
        );
        let replaying = self
            .replaying
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst));
        if config.mode_aware && replaying {
            return;
        }
        let message = message.to_string();
        config.sink.log(&LogRecord {
            level,
            message: &message,
            execution_arn: &self.exec.arn,
            operation_id: self.operation_id.as_deref(),
            attempt: self.attempt,
        });
    }

    /// Logs at debug level.
    pub fn debug(&self, message: impl fmt::Display) {
        self.log(LogLevel::Debug, message);
    }

    /// Logs at info level.
    pub fn info(&self, message: impl fmt::Display) {
        self.log(LogLevel::Info, message);
    }

    /// Logs at warn level.
    pub fn warn(&self, message: impl fmt::Display) {
        self.log(LogLevel::Warn, message);
    }

    /// Logs at error level.
    pub fn error(&self, message: impl fmt::Display) {
        self.log(LogLevel::Error, message);
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("operation_id", &self.operation_id)
            .finish_non_exhaustive()
    }
}
