//! Rust handlers for the language-neutral conformance requirements, one
//! module per suite, written against the public API only.
//!
//! `cargo xtask conformance` runs them; backend crates run them through
//! [`durable_testing::requirements`] against themselves.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use durable_testing::requirements::HandlerRegistry;

mod callback;
mod child;
mod invoke;
mod map;
mod parallel;
mod plugin;
mod step;
mod wait;
mod wait_for_callback;
mod wait_for_condition;

/// Every handler, by requirement id.
pub fn registry() -> HandlerRegistry {
    let mut registry = HandlerRegistry::new();
    step::register(&mut registry);
    wait::register(&mut registry);
    child::register(&mut registry);
    callback::register(&mut registry);
    invoke::register(&mut registry);
    wait_for_condition::register(&mut registry);
    wait_for_callback::register(&mut registry);
    parallel::register(&mut registry);
    map::register(&mut registry);
    plugin::register(&mut registry);
    registry
}

/// Kills the invocation the way a crashed runtime would. In Rust a panic
/// unwinds out of the handler; runners record it as a failed invocation
/// (`Runtime.ExitError`) and invoke again, as Lambda does after a crash.
#[allow(clippy::panic)] // simulating a crash is the point
pub(crate) fn crash<T>(why: &str) -> T {
    panic!("simulated runtime crash: {why}")
}

/// Crashes the first time it is reached for this operation of this execution.
pub(crate) fn crash_once(execution_arn: &str, operation_id: &str) {
    static CRASHED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let key = format!("{execution_arn}/{operation_id}");
    let first = CRASHED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashSet::new)
        .insert(key);
    if first {
        crash::<()>("the runtime dies once in the middle of the step");
    }
}
