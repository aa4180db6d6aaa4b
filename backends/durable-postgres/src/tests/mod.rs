//! Tests of the `PostgreSQL` backend, each on its own database.

mod corrupt;
mod engine;
mod harness;
mod kit;
mod many_workers;
mod restart;
mod wake;
mod worker;

use harness::{connect, fresh, fresh_options};
