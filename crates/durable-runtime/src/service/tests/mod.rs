//! Tests of the service over the memory backend, with the real engine.

mod engine;
mod errors;
mod manage;
mod rival;

use std::sync::Arc;
use std::time::Duration;

use durable_core::model::{EventType, InvocationOutput, Timestamp};
use durable_core::service::InvocationOutcome;
use durable_core::{CheckpointStore, DurableFunction};
use durable_testing::VirtualClock;

use super::*;
use crate::memory::MemoryPersistence;

/// The time every test starts at.
const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// A service over `persistence` on a virtual clock showing `T0`.
fn service_over<P: Persistence>(persistence: P) -> (Arc<Service<P>>, Arc<VirtualClock>) {
    let clock = Arc::new(VirtualClock::new(T0));
    let now = clock.clone();
    let service = Service::new(persistence).with_clock(move || now.now());
    (Arc::new(service), clock)
}

/// A service over an empty memory backend on a virtual clock.
fn service() -> (Arc<Service<MemoryPersistence>>, Arc<VirtualClock>) {
    service_over(MemoryPersistence::new())
}

/// One invocation of `function` for `arn`, the way a worker will run it:
/// begin, run the handler against the service, complete.
async fn invoke<P: Persistence + 'static>(
    service: &Arc<Service<P>>,
    function: &DurableFunction,
    arn: &str,
) -> InvocationOutput {
    let envelope = service.begin_invocation(arn, "request-1").await.unwrap();
    let store: Arc<dyn CheckpointStore> = service.clone();
    let output = durable_core::invocation::run(function, envelope, store)
        .await
        .unwrap();
    service
        .complete_invocation(arn, InvocationOutcome::Returned(output.clone()))
        .await
        .unwrap();
    output
}

/// Every event type of `arn`'s history, read in small pages.
async fn event_types<P: Persistence>(service: &Service<P>, arn: &str) -> Vec<EventType> {
    let mut types = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = service.history(arn, marker.as_deref(), 3).await.unwrap();
        types.extend(page.items.iter().map(|e| e.event_type));
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return types,
        }
    }
}

/// `seconds` as a duration.
fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}
