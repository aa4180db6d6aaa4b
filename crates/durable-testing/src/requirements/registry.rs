//! The handlers that implement the requirements.

use std::collections::BTreeMap;

use durable_core::DurableFunction;

/// Handlers by requirement id, plus other functions that executions may
/// invoke by name (chained invoke targets).
///
/// # Example
/// ```
/// use durable_core::{DurableContext, DurableError, DurableFunction};
/// use durable_testing::requirements::HandlerRegistry;
///
/// async fn echo(input: String, _ctx: DurableContext) -> Result<String, DurableError> {
///     Ok(input)
/// }
///
/// let mut registry = HandlerRegistry::new();
/// registry.register("1-1", DurableFunction::new(echo));
/// assert!(registry.get("1-1").is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct HandlerRegistry {
    handlers: BTreeMap<String, DurableFunction>,
    functions: BTreeMap<String, DurableFunction>,
}

impl HandlerRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handler of requirement `id` (such as `1-11`), replacing any previous one.
    pub fn register(&mut self, id: impl Into<String>, function: DurableFunction) -> &mut Self {
        self.handlers.insert(id.into(), function);
        self
    }

    /// Registers a function that executions can invoke by `name`.
    pub fn register_function(
        &mut self,
        name: impl Into<String>,
        function: DurableFunction,
    ) -> &mut Self {
        self.functions.insert(name.into(), function);
        self
    }

    /// The handler of requirement `id`.
    pub fn get(&self, id: &str) -> Option<&DurableFunction> {
        self.handlers.get(id)
    }

    /// The ids that have a handler, in id order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }

    /// The functions registered by name, for invoke targets.
    pub fn functions(&self) -> impl Iterator<Item = (&str, &DurableFunction)> {
        self.functions.iter().map(|(name, f)| (name.as_str(), f))
    }
}
