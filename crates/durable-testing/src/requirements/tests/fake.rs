//! A scripted fake backend: executions that wait on callbacks named by
//! their input (a string or a list of strings), time them out when a
//! timeout is set, and succeed with the payloads they receive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use durable_core::DurableFunction;
use durable_core::model::{
    ErrorObject, Event, EventDetails, EventError, EventPayload, EventType, ExecutionStatus,
    OperationSubType, Timestamp,
};
use serde_json::{Value, json};

use crate::requirements::{HarnessError, LogRecord, RequirementBackend, RunningExecution, render};
use crate::runner::ExecutionSnapshot;

pub(super) type Sent = Arc<Mutex<Vec<(String, &'static str, Duration)>>>;

pub(super) struct Fake {
    /// Suites reported as unsupported.
    pub unsupported: Vec<&'static str>,
    /// Callbacks time out this long after they start (or their last heartbeat).
    pub callback_timeout: Option<Duration>,
    /// `settle` never returns.
    pub hang: bool,
    /// Every (callback id, operation, virtual time) sent, across executions.
    pub sent: Sent,
}

impl Fake {
    pub fn new() -> Self {
        Self {
            unsupported: Vec::new(),
            callback_timeout: None,
            hang: false,
            sent: Arc::default(),
        }
    }
}

struct Callback {
    name: String,
    id: String,
    started: Duration,
    outcome: Option<Result<String, ErrorObject>>,
}

struct FakeExecution {
    arn: String,
    timeout: Option<Duration>,
    hang: bool,
    clock: Duration,
    callbacks: Vec<Callback>,
    history: Vec<Event>,
    status: ExecutionStatus,
    sent: Sent,
}

fn event(kind: EventType, id: Option<&str>, name: Option<&str>) -> Event {
    Event {
        event_type: kind,
        event_id: 0,
        event_timestamp: Timestamp::from_millis(1),
        id: id.map(str::to_owned),
        name: name.map(str::to_owned),
        sub_type: id.map(|_| OperationSubType::Callback),
        parent_id: None,
        details: EventDetails::default(),
    }
}

impl FakeExecution {
    fn push(&mut self, mut e: Event) {
        e.event_id = self.history.len() as u64 + 1;
        self.history.push(e);
    }

    fn complete(&mut self, index: usize, outcome: Result<String, ErrorObject>) {
        let cb = &self.callbacks[index];
        let (id, name) = (format!("op{index}"), cb.name.clone());
        let mut e = match &outcome {
            Ok(_) => event(EventType::CallbackSucceeded, Some(&id), Some(&name)),
            Err(error) if error.error_type.as_deref() == Some("Timeout") => {
                event(EventType::CallbackTimedOut, Some(&id), Some(&name))
            }
            Err(_) => event(EventType::CallbackFailed, Some(&id), Some(&name)),
        };
        match &outcome {
            Ok(payload) => {
                e.details.result = Some(EventPayload {
                    payload: Some(payload.clone()),
                    truncated: false,
                });
            }
            Err(error) => {
                e.details.error = Some(EventError {
                    payload: error.clone(),
                    truncated: false,
                });
            }
        }
        self.callbacks[index].outcome = Some(outcome);
        self.push(e);
        self.push(event(EventType::InvocationCompleted, None, None));
    }

    fn index_of(&self, callback_id: &str) -> Result<usize, HarnessError> {
        self.callbacks
            .iter()
            .position(|c| c.id == callback_id && c.outcome.is_none())
            .ok_or_else(|| {
                HarnessError::backend("callback", format!("no open callback {callback_id}"))
            })
    }

    fn record(&self, callback_id: &str, operation: &'static str) {
        self.sent
            .lock()
            .unwrap()
            .push((callback_id.to_owned(), operation, self.clock));
    }
}

#[async_trait]
impl RequirementBackend for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn unsupported_suites(&self) -> &[&str] {
        &self.unsupported
    }

    async fn start(
        &self,
        function_name: &str,
        _function: DurableFunction,
        input: Option<String>,
    ) -> Result<Box<dyn RunningExecution>, HarnessError> {
        let names: Vec<String> = match input.as_deref().map(serde_json::from_str) {
            Some(Ok(Value::String(name))) => vec![name],
            Some(Ok(Value::Array(names))) => names.iter().map(render).collect(),
            _ => Vec::new(),
        };
        let mut exec = FakeExecution {
            arn: format!("arn:fake:{function_name}:{}", rand::random::<u64>()),
            timeout: self.callback_timeout,
            hang: self.hang,
            clock: Duration::ZERO,
            callbacks: Vec::new(),
            history: Vec::new(),
            status: ExecutionStatus::Running,
            sent: Arc::clone(&self.sent),
        };
        exec.push(event(EventType::ExecutionStarted, None, None));
        for (i, name) in names.into_iter().enumerate() {
            let id = format!("cb-{i}");
            let mut e = event(
                EventType::CallbackStarted,
                Some(&format!("op{i}")),
                Some(&name),
            );
            e.details.callback_id = Some(id.clone());
            exec.push(e);
            exec.callbacks.push(Callback {
                name,
                id,
                started: Duration::ZERO,
                outcome: None,
            });
        }
        exec.push(event(EventType::InvocationCompleted, None, None));
        Ok(Box::new(exec))
    }
}

#[async_trait]
impl RunningExecution for FakeExecution {
    fn arn(&self) -> &str {
        &self.arn
    }

    async fn settle(&mut self) -> Result<ExecutionSnapshot, HarnessError> {
        if self.hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        let mut error = None;
        let mut result = None;
        if self.status == ExecutionStatus::Running
            && self.callbacks.iter().all(|c| c.outcome.is_some())
        {
            let outcomes: Vec<_> = self
                .callbacks
                .iter()
                .filter_map(|c| c.outcome.clone())
                .collect();
            if let Some(Err(e)) = outcomes.iter().find(|o| o.is_err()) {
                error = Some(e.clone());
                self.status = ExecutionStatus::Failed;
                self.push(event(EventType::ExecutionFailed, None, None));
            } else {
                let values: Vec<Value> = outcomes
                    .into_iter()
                    .flatten()
                    .map(|p| serde_json::from_str(&p).unwrap_or(Value::Null))
                    .collect();
                let value = if values.len() == 1 {
                    values[0].clone()
                } else {
                    Value::Array(values)
                };
                result = Some(value.to_string());
                self.status = ExecutionStatus::Succeeded;
                self.push(event(EventType::ExecutionSucceeded, None, None));
            }
        }
        Ok(ExecutionSnapshot {
            arn: self.arn.clone(),
            status: self.status,
            result,
            error,
            operations: Vec::new(),
            history: self.history.clone(),
            invocations: 1,
        })
    }

    async fn advance(&mut self, by: Duration) -> Result<(), HarnessError> {
        self.clock += by;
        if let Some(timeout) = self.timeout {
            for i in 0..self.callbacks.len() {
                let cb = &self.callbacks[i];
                if cb.outcome.is_none() && cb.started + timeout <= self.clock {
                    self.complete(i, Err(ErrorObject::new("Timeout", "callback timed out")));
                }
            }
        }
        Ok(())
    }

    async fn callback_success(
        &mut self,
        callback_id: &str,
        payload: &str,
    ) -> Result<(), HarnessError> {
        let i = self.index_of(callback_id)?;
        self.record(callback_id, "success");
        self.complete(i, Ok(payload.to_owned()));
        Ok(())
    }

    async fn callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), HarnessError> {
        let i = self.index_of(callback_id)?;
        self.record(callback_id, "failure");
        self.complete(i, Err(error));
        Ok(())
    }

    async fn callback_heartbeat(&mut self, callback_id: &str) -> Result<(), HarnessError> {
        self.index_of(callback_id)?;
        self.record(callback_id, "heartbeat");
        self.callbacks
            .iter_mut()
            .filter(|c| c.id == callback_id)
            .for_each(|c| c.started = self.clock);
        Ok(())
    }

    async fn logs(&mut self) -> Result<Vec<LogRecord>, HarnessError> {
        let ops = self.callbacks.iter().enumerate().map(|(i, c)| {
            json!({"message": format!("waiting for {}", c.name), "op": format!("op{i}"), "level": "INFO"})
        });
        Ok(ops.filter_map(|v| v.as_object().cloned()).collect())
    }
}
