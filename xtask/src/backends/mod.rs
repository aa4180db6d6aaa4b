//! Requirement backends beyond the in-memory runner.

pub mod runtime;
