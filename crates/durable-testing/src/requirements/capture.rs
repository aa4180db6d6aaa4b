//! Capturing the log records of executions from `tracing`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::{Map, Number, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::{EnvFilter, Registry};

use super::logs::LogRecord;

/// The field that ties an event to an execution.
const ARN_FIELD: &str = "execution_arn";

type Buffers = HashMap<String, Vec<LogRecord>>;

/// A [`Layer`] that records every `tracing` event carrying an
/// `execution_arn` field, as a JSON object `{"level": "INFO", "message":
/// ..., <every other field>}`, into a buffer per execution ARN.
///
/// # Example
/// ```
/// use durable_testing::requirements::LogCapture;
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let capture = LogCapture::new();
/// let subscriber = tracing_subscriber::registry().with(capture.clone());
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(execution_arn = "arn:1", attempt = 1u32, "hello");
/// });
/// let records = capture.take("arn:1");
/// assert_eq!(records[0]["message"], "hello");
/// assert_eq!(records[0]["level"], "INFO");
/// assert_eq!(records[0]["attempt"], 1);
/// ```
#[derive(Clone, Default)]
pub struct LogCapture {
    buffers: Arc<Mutex<Buffers>>,
}

static GLOBAL: OnceLock<LogCapture> = OnceLock::new();

impl LogCapture {
    /// An empty capture, not installed anywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs, once per process, a global default subscriber made of a
    /// capture layer plus, when `RUST_LOG` is set, a human-readable stderr
    /// layer filtered by it; returns that capture (the same one on every
    /// call). If another global subscriber was installed first, the returned
    /// capture stays empty.
    pub fn install_global() -> Self {
        GLOBAL
            .get_or_init(|| {
                let capture = Self::new();
                let stderr = std::env::var_os("RUST_LOG").map(|_| {
                    tracing_subscriber::fmt::layer()
                        .with_writer(std::io::stderr)
                        .with_filter(EnvFilter::from_default_env())
                });
                let subscriber = Registry::default().with(capture.clone()).with(stderr);
                // Fails only if a global subscriber exists already; then
                // there is nothing to capture from.
                let _ = tracing::subscriber::set_global_default(subscriber);
                capture
            })
            .clone()
    }

    /// The capture installed by [`install_global`](Self::install_global), if any.
    pub fn global() -> Option<Self> {
        GLOBAL.get().cloned()
    }

    /// Removes and returns the records of `arn`, in the order they were emitted.
    pub fn take(&self, arn: &str) -> Vec<LogRecord> {
        self.lock().remove(arn).unwrap_or_default()
    }

    /// A copy of the records of `arn`, leaving them in place.
    pub fn records(&self, arn: &str) -> Vec<LogRecord> {
        self.lock().get(arn).cloned().unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffers> {
        self.buffers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for LogCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogCapture")
            .field("executions", &self.lock().len())
            .finish()
    }
}

impl<S: Subscriber> Layer<S> for LogCapture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().fields().field(ARN_FIELD).is_none() {
            return;
        }
        let mut visitor = RecordVisitor::default();
        event.record(&mut visitor);
        let Some(arn) = visitor.arn else { return };
        let mut record = Map::new();
        record.insert(
            "level".to_owned(),
            Value::String(event.metadata().level().to_string()),
        );
        record.insert(
            "message".to_owned(),
            Value::String(visitor.message.unwrap_or_default()),
        );
        for (name, value) in visitor.fields {
            record.entry(name).or_insert(value);
        }
        self.lock().entry(arn).or_default().push(record);
    }
}

#[derive(Default)]
struct RecordVisitor {
    arn: Option<String>,
    message: Option<String>,
    fields: Vec<(String, Value)>,
}

impl RecordVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            ARN_FIELD => {
                let text = match &value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.arn = Some(text.clone());
                self.fields
                    .push((ARN_FIELD.to_owned(), Value::String(text)));
            }
            "message" => {
                self.message = Some(match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                });
            }
            name => self.fields.push((name.to_owned(), value)),
        }
    }
}

impl Visit for RecordVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(
            field,
            Number::from_f64(value).map_or(Value::Null, Value::Number),
        );
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let v = i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.put(field, v);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let v = u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.put(field, v);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn records_events_with_an_execution_arn() {
        let capture = LogCapture::new();
        let subscriber = tracing_subscriber::registry().with(capture.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "durable::log", execution_arn = "a", operation_id = "op1", attempt = 2u32, "step {} ran", 1);
            tracing::warn!(
                execution_arn = "b",
                plugin = "CONFPLUGIN",
                first = true,
                n = -3i64,
                ""
            );
            tracing::info!("no arn: ignored");
            tracing::error!(target: "durable::log", execution_arn = "a", operation_id = None::<&str>, "second");
        });
        let a = capture.take("a");
        assert_eq!(a.len(), 2);
        assert_eq!(
            Value::Object(a[0].clone()),
            serde_json::json!({"level": "INFO", "message": "step 1 ran", "execution_arn": "a",
                               "operation_id": "op1", "attempt": 2})
        );
        assert_eq!(
            Value::Object(a[1].clone()),
            serde_json::json!({"level": "ERROR", "message": "second", "execution_arn": "a"})
        );
        assert!(capture.take("a").is_empty(), "take drains");
        let b = capture.records("b");
        assert_eq!(b[0]["plugin"], "CONFPLUGIN");
        assert_eq!(b[0]["first"], true);
        assert_eq!(b[0]["n"], -3);
        assert_eq!(b[0]["level"], "WARN");
        assert_eq!(capture.take("b").len(), 1);
    }

    #[test]
    fn install_global_is_idempotent() {
        let first = LogCapture::install_global();
        let second = LogCapture::install_global();
        assert!(Arc::ptr_eq(&first.buffers, &second.buffers));
        assert!(LogCapture::global().is_some());
    }
}
