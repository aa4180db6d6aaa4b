//! The Lambda `Invoke` endpoint the emulator calls: runs the registered
//! Rust handler through [`handle_event`](crate::handle_event), the code path
//! `run` uses on Lambda.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use durable_core::DurableFunction;
use serde_json::{Value, json};

use crate::handle_event;
use crate::store::LambdaStore;

/// Lambda's limit on a synchronous Invoke payload, with some slack.
const INVOKE_PAYLOAD_LIMIT: usize = 7 * 1024 * 1024;

/// How the last invocation of an execution ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastOutcome {
    /// It returned an output with this status (`SUCCEEDED`, `FAILED`, `PENDING`).
    Output(String),
    /// It failed (a function error): the emulator invokes again after a backoff.
    Error(String),
}

/// What the endpoint knows about one execution's invocations.
#[derive(Debug, Clone, Default)]
pub struct InvocationStats {
    /// Invocations started.
    pub started: usize,
    /// Invocations still running.
    pub in_flight: usize,
    /// How the last finished one ended.
    pub last: Option<LastOutcome>,
    /// The checkpoint token the last invocation started with.
    pub first_token: Option<String>,
}

/// What the endpoint saw, per execution ARN (cheap to clone, shared).
#[derive(Clone, Default, Debug)]
pub struct InvocationLog(Arc<Mutex<HashMap<String, InvocationStats>>>);

impl InvocationLog {
    /// What the endpoint saw of `arn`.
    pub fn get(&self, arn: &str) -> InvocationStats {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(arn)
            .cloned()
            .unwrap_or_default()
    }
}

/// Shared state of the endpoint.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub functions: Arc<Mutex<HashMap<String, DurableFunction>>>,
    pub store: LambdaStore,
    pub stats: InvocationLog,
    next_request: Arc<AtomicU64>,
}

impl Endpoint {
    pub(crate) fn new(store: LambdaStore) -> Self {
        Self {
            functions: Arc::default(),
            store,
            stats: InvocationLog::default(),
            next_request: Arc::default(),
        }
    }

    pub(crate) fn router(self) -> Router {
        Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            // Envelopes go up to the 6 MB synchronous Invoke limit (axum's default is 2 MB).
            .layer(DefaultBodyLimit::max(INVOKE_PAYLOAD_LIMIT))
            .with_state(self)
    }

    fn update(&self, arn: &str, change: impl FnOnce(&mut InvocationStats)) {
        let mut stats = self.stats.0.lock().unwrap_or_else(PoisonError::into_inner);
        change(stats.entry(arn.to_owned()).or_default());
    }
}

async fn invoke(
    State(endpoint): State<Endpoint>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let function = endpoint
        .functions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&name)
        .cloned();
    let Some(function) = function else {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static("ResourceNotFoundException"),
        );
        let body = json!({"Type": "User", "Message": format!("Function not found: {name}")});
        return (StatusCode::NOT_FOUND, headers, axum::Json(body)).into_response();
    };
    let request_id = format!(
        "local-{}",
        endpoint.next_request.fetch_add(1, Ordering::SeqCst)
    );
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let arn = event
        .get("DurableExecutionArn")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let token = event
        .get("CheckpointToken")
        .and_then(Value::as_str)
        .map(str::to_owned);
    endpoint.update(&arn, |s| {
        s.started += 1;
        s.in_flight += 1;
        s.first_token = token;
    });
    // A panicking handler is a crashed runtime: Lambda reports it as an
    // error and the service invokes again.
    let store = endpoint.store.clone();
    let id = request_id.clone();
    let joined =
        tokio::spawn(async move { handle_event(&function, &store, event, Some(&id)).await }).await;
    let outcome = match joined {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(error)) => Err((error.error_type(), error.to_string())),
        Err(join) => Err(("Runtime.ExitError", format!("the handler crashed: {join}"))),
    };
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    match outcome {
        Ok(output) => {
            let status = output
                .get("Status")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            endpoint.update(&arn, |s| {
                s.in_flight -= 1;
                s.last = Some(LastOutcome::Output(status));
            });
            (StatusCode::OK, headers, axum::Json(output)).into_response()
        }
        Err((error_type, message)) => {
            endpoint.update(&arn, |s| {
                s.in_flight -= 1;
                s.last = Some(LastOutcome::Error(message.clone()));
            });
            headers.insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
            let body = json!({"errorType": error_type, "errorMessage": message});
            (StatusCode::OK, headers, axum::Json(body)).into_response()
        }
    }
}
