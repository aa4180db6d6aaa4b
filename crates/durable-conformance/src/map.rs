//! Handlers for the `map` suite.

use durable_testing::requirements::HandlerRegistry;

/// Registers the handlers of the `map` suite.
pub fn register(registry: &mut HandlerRegistry) {
    let _ = registry;
}
