//! Tests of the `SQLite` backend, each on its own database file.

mod busy;
mod corrupt;
mod engine;
mod harness;
mod held;
mod kill;
mod kit;
mod open;
mod race;
mod worker;

use harness::TestDir;
