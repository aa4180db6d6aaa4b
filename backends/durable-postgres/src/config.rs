//! [`PostgresConfig`]: which server and database, and the pool settings.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

use crate::error::ConnectError;

/// How many connections one store keeps open, by default.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a statement waits, by default, for a free pooled connection.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection stays open unused, by default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// How long a connection is used before it is replaced, by default.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(1800);

/// Where the database is and how the pool connects to it; see
/// [`PostgresPersistence::connect_with`](crate::PostgresPersistence::connect_with).
///
/// The pool settings come from the builder methods or from the URL's
/// query, which [`new`](Self::new) takes them out of before the rest goes
/// to the driver: `max_connections`, `min_connections`, and
/// `acquire_timeout`, `idle_timeout` and `max_lifetime` in seconds.
///
/// ```
/// # use std::time::Duration;
/// use durable_postgres::PostgresConfig;
///
/// let config = PostgresConfig::new(
///     "postgres://postgres@db:5432/durable?max_connections=20&acquire_timeout=5&sslmode=disable",
/// )?;
/// assert_eq!(config.max_connections_setting(), 20);
/// assert_eq!(config.acquire_timeout_setting(), Duration::from_secs(5));
/// # Ok::<(), durable_postgres::ConnectError>(())
/// ```
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
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
}

/// The pool settings a URL's query may carry.
const POOL_PARAMETERS: [&str; 5] = [
    "max_connections",
    "min_connections",
    "acquire_timeout",
    "idle_timeout",
    "max_lifetime",
];

impl PostgresConfig {
    /// The database at `url` (`postgres://user@host:port/database`), with
    /// the pool settings in its query, if any.
    pub fn new(url: &str) -> Result<Self, ConnectError> {
        let (driver_url, settings) = split_pool_settings(url);
        let options =
            PgConnectOptions::from_str(&driver_url).map_err(|source| ConnectError::InvalidUrl {
                url: redact(url),
                source,
            })?;
        let mut config = Self::from_options(options);
        for (key, value) in settings {
            let invalid = || ConnectError::InvalidSetting {
                url: redact(url),
                setting: format!("{key}={value}"),
            };
            let number: u64 = value.parse().map_err(|_| invalid())?;
            let count = || u32::try_from(number).map_err(|_| invalid());
            config = match key.as_str() {
                "max_connections" => config.max_connections(count()?),
                "min_connections" => config.min_connections(count()?),
                "acquire_timeout" => config.acquire_timeout(Duration::from_secs(number)),
                "idle_timeout" => config.idle_timeout(Some(Duration::from_secs(number))),
                _ => config.max_lifetime(Some(Duration::from_secs(number))),
            };
        }
        Ok(config)
    }

    /// The database `options` describe.
    pub fn from_options(options: PgConnectOptions) -> Self {
        Self {
            options,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            min_connections: 0,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_lifetime: Some(DEFAULT_MAX_LIFETIME),
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

    /// Closes connections idle for `timeout` (`None`: never).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Replaces connections older than `lifetime` (`None`: never).
    #[must_use]
    pub fn max_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.max_lifetime = lifetime;
        self
    }

    /// The most connections kept open.
    pub fn max_connections_setting(&self) -> u32 {
        self.max_connections.max(self.min_connections)
    }

    /// How long a statement waits for a free connection.
    pub fn acquire_timeout_setting(&self) -> Duration {
        self.acquire_timeout
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

    /// The pool these settings describe (not connected yet).
    pub(crate) fn pool_options(&self) -> sqlx::postgres::PgPoolOptions {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(self.max_connections_setting())
            .min_connections(self.min_connections)
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(self.idle_timeout)
            .max_lifetime(self.max_lifetime)
            // A connection the server dropped (a restart) is noticed and
            // replaced before a statement uses it.
            .test_before_acquire(true)
    }
}

/// `url` without the pool settings in its query, and those settings.
fn split_pool_settings(url: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), Vec::new());
    };
    let mut settings = Vec::new();
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if POOL_PARAMETERS.contains(&key) {
            settings.push((key.to_owned(), value.to_owned()));
        } else {
            kept.push(pair);
        }
    }
    let driver_url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (driver_url, settings)
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
        let error =
            PostgresConfig::new("postgres://u:secret@h/db?max_connections=many").unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
        assert!(
            error.to_string().contains("max_connections=many"),
            "{error}"
        );
    }

    #[test]
    fn pool_settings_come_out_of_the_url() {
        let config = PostgresConfig::new(
            "postgres://u@h:5433/db?sslmode=disable&max_connections=3&min_connections=1\
             &acquire_timeout=2&idle_timeout=60&max_lifetime=120&application_name=w",
        )
        .unwrap();
        assert_eq!(config.max_connections_setting(), 3);
        assert_eq!(config.min_connections, 1);
        assert_eq!(config.acquire_timeout_setting(), Duration::from_secs(2));
        assert_eq!(config.idle_timeout, Some(Duration::from_secs(60)));
        assert_eq!(config.max_lifetime, Some(Duration::from_secs(120)));
        assert_eq!(config.options().get_port(), 5433);
        assert_eq!(config.options().get_application_name(), Some("w"));
        let plain = PostgresConfig::new("postgres://u@h/db").unwrap();
        assert_eq!(plain.max_connections_setting(), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(
            split_pool_settings("postgres://h/db?max_connections=2").0,
            "postgres://h/db"
        );
        assert!(PostgresConfig::new("postgres://h/db?acquire_timeout=-1").is_err());
    }
}
