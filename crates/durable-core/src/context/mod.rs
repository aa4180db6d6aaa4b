//! The durable context and its operations.

/// The handle through which a workflow performs durable operations.
#[derive(Clone, Debug)]
pub struct DurableContext {
    _private: (),
}
