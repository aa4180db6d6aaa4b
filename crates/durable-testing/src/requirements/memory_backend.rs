//! Requirements on the in-memory [`LocalRunner`], one runner per execution.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use durable_core::DurableFunction;
use durable_core::model::ErrorObject;

use super::backend::{RequirementBackend, RunningExecution};
use super::error::HarnessError;
use crate::runner::{ExecutionSnapshot, LocalRunner};

/// Runs each requirement on a fresh [`LocalRunner`] (in-memory store,
/// virtual clock).
#[derive(Debug, Default)]
pub struct MemoryBackend {
    functions: Mutex<Vec<(String, DurableFunction)>>,
}

impl MemoryBackend {
    /// A backend with no invoke targets yet.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RequirementBackend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn install_functions(
        &self,
        functions: &[(String, DurableFunction)],
    ) -> Result<(), HarnessError> {
        let mut installed = self
            .functions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        installed.extend(functions.iter().cloned());
        Ok(())
    }

    async fn start(
        &self,
        function_name: &str,
        function: DurableFunction,
        input: Option<String>,
    ) -> Result<Box<dyn RunningExecution>, HarnessError> {
        let runner = LocalRunner::new();
        let functions = self
            .functions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (name, target) in functions {
            runner.register(name, target);
        }
        runner.register(function_name, function);
        let arn = runner
            .start(function_name, input)
            .await
            .map_err(|e| HarnessError::backend(format!("starting {function_name}"), e))?;
        Ok(Box::new(MemoryExecution { runner, arn }))
    }
}

struct MemoryExecution {
    runner: LocalRunner,
    arn: String,
}

#[async_trait]
impl RunningExecution for MemoryExecution {
    fn arn(&self) -> &str {
        &self.arn
    }

    async fn settle(&mut self) -> Result<ExecutionSnapshot, HarnessError> {
        self.runner
            .run_until_idle(&self.arn)
            .await
            .map_err(|e| HarnessError::backend("running the execution", e))
    }

    async fn advance(&mut self, by: Duration) -> Result<(), HarnessError> {
        self.runner
            .advance(by)
            .await
            .map_err(|e| HarnessError::backend("advancing the clock", e))
    }

    async fn callback_success(
        &mut self,
        callback_id: &str,
        payload: &str,
    ) -> Result<(), HarnessError> {
        self.runner
            .send_callback_success(callback_id, payload)
            .await
            .map_err(|e| HarnessError::backend(format!("callback success {callback_id}"), e))
    }

    async fn callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), HarnessError> {
        self.runner
            .send_callback_failure(callback_id, error)
            .await
            .map_err(|e| HarnessError::backend(format!("callback failure {callback_id}"), e))
    }

    async fn callback_heartbeat(&mut self, callback_id: &str) -> Result<(), HarnessError> {
        self.runner
            .send_callback_heartbeat(callback_id)
            .await
            .map_err(|e| HarnessError::backend(format!("callback heartbeat {callback_id}"), e))
    }
}
