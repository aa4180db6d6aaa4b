//! Handlers for the `plugin` suite.

use durable_testing::requirements::HandlerRegistry;

/// Registers the handlers of the `plugin` suite.
pub fn register(registry: &mut HandlerRegistry) {
    let _ = registry;
}
