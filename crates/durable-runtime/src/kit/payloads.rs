//! Payloads at the operation limit are stored intact; larger ones are
//! refused before anything is written.

use durable_core::CheckpointStore;
use durable_core::model::EventType;

use super::clocked::Clocked;
use super::writes::full_history;
use super::{at, step_start, step_succeed};
use crate::persistence::Persistence;

/// A step result of exactly the operation payload limit (256 KiB) round-trips
/// intact; one byte more is refused with a clear error and nothing written.
pub async fn large_payloads_round_trip_up_to_the_limit<P: Persistence + 'static>(persistence: P) {
    let kit = Clocked::new(persistence);
    let service = &kit.service;
    let limit = service.config().max_operation_payload_bytes;
    assert_eq!(limit, 256 * 1024);
    let fits = format!("\"{}\"", "a".repeat(limit - 2));
    let too_large = format!("\"{}\"", "b".repeat(limit - 1));
    assert_eq!((fits.len(), too_large.len()), (limit, limit + 1));

    let arn = kit.start("orders", "large").await;
    let envelope = service.begin_invocation(&arn, "r1").await.unwrap();
    let response = service
        .checkpoint(
            &arn,
            &envelope.checkpoint_token,
            vec![step_start("s1"), step_succeed("s1", &fits)],
        )
        .await
        .unwrap();
    let token = response.checkpoint_token.unwrap();
    let stored_result = |described: &crate::ExecutionDescription| {
        let step = described.operations.iter().find(|op| op.id == "s1");
        step.and_then(|op| op.step_details.as_ref()?.result.clone())
    };
    let before = kit.describe(&arn).await;
    assert_eq!(stored_result(&before).as_deref(), Some(fits.as_str()));
    let history = full_history(service.persistence(), &arn).await;
    let event = history.last().unwrap();
    assert_eq!(event.event_type, EventType::StepSucceeded);
    assert!(
        serde_json::to_string(event)
            .unwrap()
            .contains(&fits[1..limit - 1]),
        "the event keeps the whole result"
    );

    kit.set(at(1));
    let error = service
        .checkpoint(
            &arn,
            &token,
            vec![step_start("s2"), step_succeed("s2", &too_large)],
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&format!("more than the limit of {limit} bytes")),
        "{message}"
    );
    assert_eq!(kit.describe(&arn).await, before, "nothing was written");
    assert_eq!(full_history(service.persistence(), &arn).await, history);

    // The refused batch used nothing up: the token still checkpoints.
    service
        .checkpoint(&arn, &token, vec![step_start("s2")])
        .await
        .unwrap();
    let after = kit.describe(&arn).await;
    assert_eq!(after.version, before.version + 1);
    assert_eq!(stored_result(&after).as_deref(), Some(fits.as_str()));
}
