//! Every test gets its own freshly created database on the test server
//! (see [`crate::testing`]); a missing server fails the test.

use sqlx::postgres::PgConnectOptions;

use crate::{PostgresConfig, PostgresPersistence, testing};

/// A store on a new, empty database.
pub(crate) async fn fresh() -> PostgresPersistence {
    testing::fresh_store()
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// The options of a new, empty database, for tests that connect to it
/// more than once.
pub(crate) async fn fresh_options() -> PgConnectOptions {
    testing::fresh_options()
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// A store on the database `options` name.
pub(crate) async fn connect(options: &PgConnectOptions) -> PostgresPersistence {
    PostgresPersistence::connect_with(
        &PostgresConfig::from_options(options.clone()).max_connections(5),
    )
    .await
    .unwrap()
}
