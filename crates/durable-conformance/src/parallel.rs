//! Handlers for the `parallel` suite.

use durable_testing::requirements::HandlerRegistry;

/// Registers the handlers of the `parallel` suite.
pub fn register(registry: &mut HandlerRegistry) {
    let _ = registry;
}
