//! A small JSON client for the emulator's own routes (starting executions,
//! reading history), which `aws-sdk-lambda` does not cover or returns in
//! shapes without serde.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::EmulatorError;

/// A JSON-over-HTTP client for one base URL.
#[derive(Clone, Debug)]
pub struct JsonClient {
    base: String,
    client: Client<HttpConnector, Body>,
}

impl JsonClient {
    /// A client for `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends `body` (or nothing) to `path`; returns the status and the JSON
    /// answer (`null` when empty).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), EmulatorError> {
        let url = format!("{}{path}", self.base);
        let request = Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .map_err(|e| EmulatorError::Http(format!("{url}: {e}")))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| EmulatorError::Http(format!("{url}: {e}")))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| EmulatorError::Http(format!("{url}: {e}")))?
            .to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                EmulatorError::Http(format!(
                    "{url}: unreadable answer ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                ))
            })?
        };
        Ok((status, value))
    }

    /// Like [`send`](Self::send), failing on a non-2xx status.
    pub async fn expect_ok(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, EmulatorError> {
        let (status, value) = self.send(method, path, body).await?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(EmulatorError::Http(format!(
                "{path}: HTTP {status}: {value}"
            )))
        }
    }
}
