//! Handlers for the `wait_for_callback` suite.

use durable_testing::requirements::HandlerRegistry;

/// Registers the handlers of the `wait_for_callback` suite.
pub fn register(registry: &mut HandlerRegistry) {
    let _ = registry;
}
