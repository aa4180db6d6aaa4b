//! One running `dex-local-runner` with its Invoke endpoint.

use std::fmt::Write as _;
use std::net::TcpListener as StdListener;
use std::process::Stdio;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use axum::http::Method;
use durable_core::DurableFunction;
use durable_core::model::{ErrorObject, Event, ExecutionStatus};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use super::http::JsonClient;
use super::invoke::{Endpoint, InvocationLog, InvocationStats};
use super::{EmulatorError, ensure_emulator};
use crate::store::{CallCounter, LambdaStore};

/// How long the emulator may take to answer its health check.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How to run the emulator.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmulatorOptions {
    /// Fire wait and retry timers at once instead of in real time
    /// (`--skip-time`; callback timeouts stay in real time).
    pub skip_time: bool,
}

/// A running emulator and Invoke endpoint; both stop when dropped.
pub struct Emulator {
    // Declared first: dropped (killed) before the endpoint goes away.
    process: Child,
    server: JoinHandle<()>,
    endpoint: Endpoint,
    http: JsonClient,
    client: Client,
    url: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.process.start_kill();
        self.server.abort();
    }
}

/// An execution as `GetDurableExecution` and its history describe it.
#[derive(Debug, Clone)]
pub struct ExecutionView {
    /// Its status.
    pub status: ExecutionStatus,
    /// Its result (JSON text), once succeeded.
    pub result: Option<String>,
    /// Its error, once failed.
    pub error: Option<ErrorObject>,
    /// Its history.
    pub history: Vec<Event>,
}

fn free_port() -> Result<u16, EmulatorError> {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| EmulatorError::Start(format!("no free port: {e}")))
}

/// A client for the durable API at `url`, with fake credentials.
pub fn client_for(url: &str) -> Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "durable-lambda-testing",
        ))
        .endpoint_url(url)
        .build();
    Client::from_conf(config)
}

/// The ARN as one path segment.
fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The API's JSON timestamps are epoch seconds; the SDK's model reads
/// numbers as milliseconds.
fn seconds_to_millis(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if key.ends_with("Timestamp")
                    && let Some(seconds) = field.as_f64()
                {
                    #[allow(clippy::cast_possible_truncation)]
                    let millis = (seconds * 1000.0).round() as i64;
                    *field = json!(millis);
                } else {
                    seconds_to_millis(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(seconds_to_millis),
        _ => {}
    }
}

impl Emulator {
    /// Installs (once) and starts the emulator and the Invoke endpoint.
    ///
    /// # Errors
    /// When Python or the emulator is missing, or either server fails to start.
    pub async fn start(options: EmulatorOptions) -> Result<Self, EmulatorError> {
        let runner = tokio::task::spawn_blocking(ensure_emulator)
            .await
            .map_err(|e| EmulatorError::Install(e.to_string()))??;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| EmulatorError::Start(format!("cannot bind the Invoke endpoint: {e}")))?;
        let invoke_port = listener
            .local_addr()
            .map_err(|e| EmulatorError::Start(e.to_string()))?
            .port();
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let client = client_for(&url);
        let endpoint = Endpoint::new(LambdaStore::new(client.clone()));
        let router = endpoint.clone().router();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "the Invoke endpoint stopped");
            }
        });

        let mut command = Command::new(&runner);
        command
            .args([
                "start-server",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .args([
                "--lambda-endpoint",
                &format!("http://127.0.0.1:{invoke_port}"),
            ])
            .args(["--store-type", "memory", "--log-level", "WARNING"])
            // The emulator signs its Invoke calls: it needs credentials, fake ones do.
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                if std::env::var_os("DURABLE_LAMBDA_EMULATOR_LOG").is_some() {
                    Stdio::inherit()
                } else {
                    Stdio::null()
                },
            )
            .kill_on_drop(true);
        if options.skip_time {
            command.arg("--skip-time");
        }
        let process = command
            .spawn()
            .map_err(|e| EmulatorError::Start(format!("cannot run {}: {e}", runner.display())))?;
        let emulator = Self {
            process,
            server,
            endpoint,
            http: JsonClient::new(url.clone()),
            client,
            url,
        };
        emulator.wait_ready().await?;
        Ok(emulator)
    }

    async fn wait_ready(&self) -> Result<(), EmulatorError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.http.send(Method::GET, "/health", None).await {
                Ok((status, _)) if status.is_success() => return Ok(()),
                result if Instant::now() > deadline => {
                    return Err(EmulatorError::Start(format!(
                        "dex-local-runner at {} not ready after {READY_TIMEOUT:?}: {result:?}",
                        self.url
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The emulator's URL (what `AWS_ENDPOINT_URL_LAMBDA` would be).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A durable API client for the emulator.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The API calls the handlers' store made so far.
    pub fn calls(&self) -> &Arc<CallCounter> {
        self.endpoint.store.calls()
    }

    /// Makes `function` invocable as `name`.
    pub fn register(&self, name: impl Into<String>, function: DurableFunction) {
        self.endpoint
            .functions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.into(), function);
    }

    /// What the Invoke endpoint saw of `arn`.
    pub fn invocations(&self, arn: &str) -> InvocationStats {
        self.endpoint.stats.get(arn)
    }

    /// A handle on what the Invoke endpoint sees, usable from handlers.
    pub fn invocation_log(&self) -> InvocationLog {
        self.endpoint.stats.clone()
    }

    /// Starts an execution of the function registered as `name`.
    ///
    /// # Errors
    /// When the emulator refuses.
    pub async fn start_execution(
        &self,
        name: &str,
        execution_name: &str,
        input: Option<&str>,
    ) -> Result<String, EmulatorError> {
        let mut body = json!({
            "AccountId": "123456789012",
            "FunctionName": name,
            "FunctionQualifier": "$LATEST",
            "ExecutionName": execution_name,
            "ExecutionTimeoutSeconds": 900,
            "ExecutionRetentionPeriodDays": 1,
        });
        if let Some(input) = input {
            body["Input"] = json!(input);
        }
        let answer = self
            .http
            .expect_ok(Method::POST, "/start-durable-execution", Some(&body))
            .await?;
        answer
            .get("ExecutionArn")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| EmulatorError::Http(format!("no ExecutionArn in {answer}")))
    }

    /// The execution's status, result, error and history.
    ///
    /// # Errors
    /// When the emulator does not know it or answers unreadably.
    pub async fn execution(&self, arn: &str) -> Result<ExecutionView, EmulatorError> {
        let path = format!("/2025-12-01/durable-executions/{}", encode_segment(arn));
        let described = self.http.expect_ok(Method::GET, &path, None).await?;
        let status: ExecutionStatus =
            serde_json::from_value(described.get("Status").cloned().unwrap_or(Value::Null))
                .map_err(|e| {
                    EmulatorError::Http(format!("unreadable status in {described}: {e}"))
                })?;
        let result = described
            .get("Result")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let error = described
            .get("Error")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| EmulatorError::Http(format!("unreadable error in {described}: {e}")))?;
        Ok(ExecutionView {
            status,
            result,
            error,
            history: self.history(arn).await?,
        })
    }

    /// The execution's history events, in order.
    ///
    /// # Errors
    /// When the emulator does not know it or answers unreadably.
    pub async fn history(&self, arn: &str) -> Result<Vec<Event>, EmulatorError> {
        let mut events = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut path = format!(
                "/2025-12-01/durable-executions/{}/history?IncludeExecutionData=true&MaxItems=1000",
                encode_segment(arn)
            );
            if let Some(marker) = &marker {
                let _ = write!(path, "&Marker={}", encode_segment(marker));
            }
            let mut page = self.http.expect_ok(Method::GET, &path, None).await?;
            seconds_to_millis(&mut page);
            for event in page
                .get_mut("Events")
                .and_then(Value::as_array_mut)
                .map(std::mem::take)
                .unwrap_or_default()
            {
                let event = keep_event_fields(event);
                events.push(serde_json::from_value(event.clone()).map_err(|e| {
                    EmulatorError::Http(format!("unreadable history event {event}: {e}"))
                })?);
            }
            marker = page
                .get("NextMarker")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .map(str::to_owned);
            if marker.is_none() {
                return Ok(events);
            }
        }
    }

    /// Completes a callback with `result` (sent as the raw body).
    ///
    /// # Errors
    /// When the emulator refuses (unknown or finished callback).
    pub async fn callback_success(
        &self,
        callback_id: &str,
        result: &str,
    ) -> Result<(), EmulatorError> {
        self.client
            .send_durable_execution_callback_success()
            .callback_id(callback_id)
            .result(aws_sdk_lambda::primitives::Blob::new(result.as_bytes()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| call_error("SendDurableExecutionCallbackSuccess", &e))
    }

    /// Fails a callback with `error`.
    ///
    /// # Errors
    /// When the emulator refuses (unknown or finished callback).
    pub async fn callback_failure(
        &self,
        callback_id: &str,
        error: &ErrorObject,
    ) -> Result<(), EmulatorError> {
        let error = aws_sdk_lambda::types::ErrorObject::builder()
            .set_error_message(error.error_message.clone())
            .set_error_type(error.error_type.clone())
            .set_error_data(error.error_data.clone())
            .set_stack_trace(error.stack_trace.clone())
            .build();
        self.client
            .send_durable_execution_callback_failure()
            .callback_id(callback_id)
            .error(error)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| call_error("SendDurableExecutionCallbackFailure", &e))
    }

    /// Sends a heartbeat for a callback.
    ///
    /// # Errors
    /// When the emulator refuses (unknown or finished callback).
    pub async fn callback_heartbeat(&self, callback_id: &str) -> Result<(), EmulatorError> {
        self.client
            .send_durable_execution_callback_heartbeat()
            .callback_id(callback_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| call_error("SendDurableExecutionCallbackHeartbeat", &e))
    }

    /// Waits until the execution ends; returns how it ended.
    ///
    /// # Errors
    /// [`EmulatorError::Timeout`] when it does not end within `timeout`.
    pub async fn wait_for_end(
        &self,
        arn: &str,
        timeout: Duration,
    ) -> Result<ExecutionView, EmulatorError> {
        let deadline = Instant::now() + timeout;
        loop {
            let view = self.execution(arn).await?;
            if view.status.is_terminal() {
                return Ok(view);
            }
            if Instant::now() > deadline {
                return Err(EmulatorError::Timeout(format!(
                    "execution {arn} still {:?} after {timeout:?}; history: {:?}",
                    view.status,
                    view.history
                        .iter()
                        .map(|e| e.event_type)
                        .collect::<Vec<_>>()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn call_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    what: &str,
    error: &aws_sdk_lambda::error::SdkError<E, R>,
) -> EmulatorError {
    EmulatorError::Http(format!(
        "{what}: {}",
        aws_sdk_lambda::error::DisplayErrorContext(error)
    ))
}

/// The fields every history event may carry.
const COMMON: [&str; 7] = [
    "EventType",
    "SubType",
    "EventId",
    "Id",
    "Name",
    "EventTimestamp",
    "ParentId",
];

/// The event's common fields and its `<Type>Details`; drops anything else
/// the emulator adds.
fn keep_event_fields(event: Value) -> Value {
    let Value::Object(map) = event else {
        return event;
    };

    Value::Object(
        map.into_iter()
            .filter(|(k, v)| {
                COMMON.contains(&k.as_str()) || (k.ends_with("Details") && v.is_object())
            })
            .collect(),
    )
}
