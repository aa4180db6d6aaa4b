//! The machinery behind the context: ids, recorded state, checkpoint batching.

pub(crate) mod checkpoint;
pub(crate) mod execution;
pub(crate) mod ids;

pub(crate) use execution::Execution;
