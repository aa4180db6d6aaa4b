//! Requirement backends beyond the in-memory runner.

pub mod lambda;
pub mod runtime;
