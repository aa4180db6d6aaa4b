//! [`SqliteConfig`]: where the database is and how it is opened.

use std::time::Duration;

/// The database file of the embedded default, in the working directory.
pub const DEFAULT_PATH: &str = "durable.db";

/// How long a statement waits, by default, for another connection's lock.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many connections one store keeps open, by default.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// Where a database is and how it is opened; see
/// [`SqlitePersistence::open_with`](crate::SqlitePersistence::open_with).
///
/// ```
/// # use std::time::Duration;
/// use durable_sqlite::SqliteConfig;
///
/// let config = SqliteConfig::new("/var/lib/durable/durable.db")
///     .busy_timeout(Duration::from_secs(10))
///     .max_connections(4);
/// assert_eq!(config.location(), "/var/lib/durable/durable.db");
/// assert_eq!(SqliteConfig::default().location(), "durable.db");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    location: String,
    busy_timeout: Duration,
    max_connections: u32,
}

impl SqliteConfig {
    /// The database at `location`: a file path, or a `sqlite:` URL.
    pub fn new(location: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// Waits up to `timeout` for another connection's lock before a
    /// statement fails with a retryable error.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Keeps at most `connections` (at least 1) connections open.
    #[must_use]
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// The database's location.
    pub fn location(&self) -> &str {
        &self.location
    }

    pub(crate) fn busy_timeout_value(&self) -> Duration {
        self.busy_timeout
    }

    pub(crate) fn max_connections_value(&self) -> u32 {
        self.max_connections
    }
}

/// The embedded default: [`DEFAULT_PATH`] in the working directory.
impl Default for SqliteConfig {
    fn default() -> Self {
        Self::new(DEFAULT_PATH)
    }
}
