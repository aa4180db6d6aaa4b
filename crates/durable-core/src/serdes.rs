//! How operation results are turned into checkpoint payloads and back.

use std::fmt;
use std::marker::PhantomData;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{DurableError, ErrorKind};

/// What a serdes knows about the value it handles.
#[derive(Debug, Clone, Copy)]
pub struct SerdesContext<'a> {
    /// The operation's id.
    pub operation_id: &'a str,
    /// The execution's ARN.
    pub execution_arn: &'a str,
}

/// Converts values of `T` to checkpoint payloads and back.
///
/// Operations return `deserialize(serialize(value))` even on their first
/// run, so the first run and every replay see the same value.
///
/// # Example
/// ```
/// use async_trait::async_trait;
/// use durable_core::serdes::{Serdes, SerdesContext};
/// use durable_core::DurableError;
///
/// /// Stores strings upper-cased.
/// struct Upper;
///
/// #[async_trait]
/// impl Serdes<String> for Upper {
///     async fn serialize(&self, value: &String, _: SerdesContext<'_>) -> Result<Option<String>, DurableError> {
///         Ok(Some(serde_json::to_string(&value.to_uppercase())?))
///     }
///     async fn deserialize(&self, data: Option<&str>, _: SerdesContext<'_>) -> Result<String, DurableError> {
///         Ok(serde_json::from_str(data.unwrap_or("null"))?)
///     }
/// }
/// ```
#[async_trait]
pub trait Serdes<T: Send + Sync>: Send + Sync {
    /// Turns a value into a payload; `None` records no payload.
    async fn serialize(
        &self,
        value: &T,
        ctx: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError>;
    /// Turns a payload (absent when none was recorded) back into a value.
    async fn deserialize(
        &self,
        data: Option<&str>,
        ctx: SerdesContext<'_>,
    ) -> Result<T, DurableError>;
}

#[async_trait]
impl<T: Send + Sync, S: Serdes<T> + ?Sized> Serdes<T> for std::sync::Arc<S> {
    async fn serialize(
        &self,
        value: &T,
        ctx: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        (**self).serialize(value, ctx).await
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        ctx: SerdesContext<'_>,
    ) -> Result<T, DurableError> {
        (**self).deserialize(data, ctx).await
    }
}

/// The default serdes: JSON through `serde`.
pub struct JsonSerdes<T>(PhantomData<fn() -> T>);

impl<T> JsonSerdes<T> {
    /// A JSON serdes.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for JsonSerdes<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for JsonSerdes<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JsonSerdes")
    }
}

fn serdes_error(what: &str, ctx: SerdesContext<'_>, error: &serde_json::Error) -> DurableError {
    DurableError::with_kind(
        ErrorKind::Serdes,
        "SerdesError",
        format!(
            "cannot {what} the value of operation {}: {error}",
            ctx.operation_id
        ),
    )
}

#[async_trait]
impl<T: Serialize + DeserializeOwned + Send + Sync> Serdes<T> for JsonSerdes<T> {
    async fn serialize(
        &self,
        value: &T,
        ctx: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        serde_json::to_string(value)
            .map(Some)
            .map_err(|e| serdes_error("serialize", ctx, &e))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        ctx: SerdesContext<'_>,
    ) -> Result<T, DurableError> {
        serde_json::from_str(data.unwrap_or("null"))
            .map_err(|e| serdes_error("deserialize", ctx, &e))
    }
}

/// Passes the payload through as the raw string (the default for callbacks,
/// whose payloads come from external systems as they are).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawSerdes;

#[async_trait]
impl Serdes<String> for RawSerdes {
    async fn serialize(
        &self,
        value: &String,
        _: SerdesContext<'_>,
    ) -> Result<Option<String>, DurableError> {
        Ok(Some(value.clone()))
    }

    async fn deserialize(
        &self,
        data: Option<&str>,
        _: SerdesContext<'_>,
    ) -> Result<String, DurableError> {
        Ok(data.unwrap_or_default().to_owned())
    }
}
