//! Timers fire in due order, across executions and within one.

use durable_core::model::EventType;

use super::at;
use super::clocked::Clocked;
use super::wait_start;
use super::writes::full_history;
use crate::persistence::Persistence;

/// Executions become due in the order of their timers, whatever their
/// creation order, and waits of one execution that fire together are
/// recorded earliest-due first.
pub async fn timers_fire_in_due_order<P: Persistence + 'static>(persistence: P) {
    let kit = Clocked::new(persistence);
    let service = &kit.service;
    let slow = kit.start("orders", "slow").await;
    kit.run_pending(&slow, vec![wait_start("w1", 120)]).await;
    let quick = kit.start("orders", "quick").await;
    kit.run_pending(&quick, vec![wait_start("w1", 60)]).await;
    // Two waits in parallel, the longer one started first.
    let both = kit.start("orders", "both").await;
    kit.run_pending(&both, vec![wait_start("long", 90), wait_start("short", 45)])
        .await;
    assert_eq!(kit.describe(&both).await.next_wake_up, Some(at(45)));

    let persistence = service.persistence();
    let due = persistence
        .claim_due(at(44), "w", at(44), 10)
        .await
        .unwrap();
    assert!(due.is_empty(), "no timer is due yet: {due:?}");
    let due = persistence
        .claim_due(at(200), "w", at(230), 1)
        .await
        .unwrap();
    assert_eq!(due, [both.as_str()], "the earliest due first");
    let due = persistence
        .claim_due(at(200), "w", at(230), 10)
        .await
        .unwrap();
    assert_eq!(due, [quick.as_str(), slow.as_str()], "then by due time");

    kit.set(at(60));
    assert!(service.fire_due(&quick).await.unwrap().needs_invocation);
    assert!(!service.fire_due(&slow).await.unwrap().needs_invocation);
    kit.set(at(200));
    assert!(service.fire_due(&slow).await.unwrap().needs_invocation);
    assert!(service.fire_due(&both).await.unwrap().needs_invocation);
    let fired: Vec<(Option<String>, _)> = full_history(persistence, &both)
        .await
        .into_iter()
        .filter(|e| e.event_type == EventType::WaitSucceeded)
        .map(|e| (e.id, e.event_timestamp))
        .collect();
    assert_eq!(
        fired,
        [
            (Some("short".to_owned()), at(200)),
            (Some("long".to_owned()), at(200))
        ],
        "the earlier-due wait is recorded first"
    );
    let ended: Vec<_> = kit
        .describe(&both)
        .await
        .operations
        .iter()
        .skip(1)
        .map(|op| (op.id.clone(), op.status))
        .collect();
    assert!(
        ended.iter().all(|(_, status)| status.is_terminal()),
        "{ended:?}"
    );
}
