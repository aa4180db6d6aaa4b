//! [`PostgresConfig`]: which server and database, and the pool settings.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

use crate::error::ConnectError;

/// How many connections one store keeps open, by default.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a statement waits, by default, for a free pooled connection.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the database is and how the pool connects to it; see
/// [`PostgresPersistence::connect_with`](crate::PostgresPersistence::connect_with).
///
/// ```
/// # use std::time::Duration;
/// use durable_postgres::PostgresConfig;
///
/// let config = PostgresConfig::new("postgres://postgres@127.0.0.1:5432/durable")?
///     .max_connections(20)
///     .min_connections(2)
///     .acquire_timeout(Duration::from_secs(5));
/// assert_eq!(config.options().get_database(), Some("durable"));
/// # Ok::<(), durable_postgres::ConnectError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    options: PgConnectOptions,
    max_connections: u32,
    min_connections: u32,
    acquire_timeout: Duration,
}

impl PostgresConfig {
    /// The database at `url` (`postgres://user@host:port/database`).
    pub fn new(url: &str) -> Result<Self, ConnectError> {
        let options =
            PgConnectOptions::from_str(url).map_err(|source| ConnectError::InvalidUrl {
                url: redact(url),
                source,
            })?;
        Ok(Self::from_options(options))
    }

    /// The database `options` describe.
    pub fn from_options(options: PgConnectOptions) -> Self {
        Self {
            options,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            min_connections: 0,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }

    /// Keeps at most `connections` (at least 1) connections open.
    #[must_use]
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// Keeps at least `connections` connections open once connected.
    #[must_use]
    pub fn min_connections(mut self, connections: u32) -> Self {
        self.min_connections = connections;
        self
    }

    /// Waits up to `timeout` for a free connection before a statement
    /// fails with a retryable error.
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The connection options.
    pub fn options(&self) -> &PgConnectOptions {
        &self.options
    }

    /// Where the pool connects, for messages: host, port and database.
    pub fn location(&self) -> String {
        format!(
            "{}:{}/{}",
            self.options.get_host(),
            self.options.get_port(),
            self.options.get_database().unwrap_or("")
        )
    }

    pub(crate) fn max_connections_value(&self) -> u32 {
        self.max_connections.max(self.min_connections)
    }

    pub(crate) fn min_connections_value(&self) -> u32 {
        self.min_connections
    }

    pub(crate) fn acquire_timeout_value(&self) -> Duration {
        self.acquire_timeout
    }
}

/// `url` without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_kept_out_of_messages() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        let error = PostgresConfig::new("postgres://u:secret@h:notaport/db").unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }
}
