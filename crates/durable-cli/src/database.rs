//! Opening the backend `--database` names.

use std::path::Path;

use durable_runtime::Service;
use durable_sqlite::SqlitePersistence;

use crate::error::{CliError, root_cause};

/// The service every command talks to.
pub type Backend = Service<SqlitePersistence>;

/// Opens the database at `url`: a `sqlite:` URL or a plain file path.
pub async fn open(url: &str) -> Result<Backend, CliError> {
    let location = sqlite_location(url)?;
    if file_path(location).is_some_and(|path| Path::new(path).is_dir()) {
        return Err(CliError::DatabaseIsDirectory {
            location: url.to_owned(),
        });
    }
    let persistence = SqlitePersistence::open(location)
        .await
        .map_err(|source| CliError::Open {
            location: url.to_owned(),
            reason: root_cause(&source),
            source: Box::new(source),
        })?;
    Ok(Service::new(persistence))
}

/// The location to hand the `SQLite` backend, or an error for another
/// scheme. A single-letter scheme is a Windows drive, so a path.
fn sqlite_location(url: &str) -> Result<&str, CliError> {
    if url.starts_with("sqlite:") {
        return Ok(url);
    }
    let scheme = url.split_once(':').map(|(scheme, _)| scheme);
    let is_scheme = scheme.is_some_and(|s| {
        s.len() > 1
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if is_scheme {
        return Err(CliError::UnsupportedDatabase {
            url: url.to_owned(),
        });
    }
    Ok(url)
}

/// The file a location refers to, if it names one.
fn file_path(location: &str) -> Option<&str> {
    let path = location
        .strip_prefix("sqlite://")
        .or_else(|| location.strip_prefix("sqlite:"))
        .unwrap_or(location);
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_and_paths_are_accepted() {
        for url in [
            "sqlite:durable.db",
            "sqlite:///tmp/x.db",
            "durable.db",
            "/tmp/x.db",
            "C:\\x.db",
        ] {
            assert!(sqlite_location(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn other_schemes_are_unsupported() {
        for url in ["postgres://localhost/db", "mysql://x", "dynamodb:table"] {
            let error = sqlite_location(url).unwrap_err();
            assert!(
                error.to_string().contains("unsupported database"),
                "{error}"
            );
        }
    }

    #[test]
    fn file_paths_are_extracted() {
        assert_eq!(file_path("sqlite:durable.db"), Some("durable.db"));
        assert_eq!(file_path("sqlite:///tmp/x.db?mode=rwc"), Some("/tmp/x.db"));
        assert_eq!(file_path("sqlite::memory:"), None);
        assert_eq!(file_path("/tmp/y.db"), Some("/tmp/y.db"));
    }
}
