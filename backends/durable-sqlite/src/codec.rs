//! Row encoding, shared with the other SQL backends.

pub(crate) use durable_runtime::codec::*;
