//! Reading: the callback index, history pages, listings, missing executions.

use durable_core::model::{ExecutionStatus, OperationType};
use durable_core::service::ServiceConfig;

use super::writes::full_history;
use super::{T0, Tracked, at, callback_start, step_start, step_succeed};
use crate::delta::{Delta, ListFilter};
use crate::error::PersistenceError;
use crate::persistence::Persistence;

/// A callback id leads to its execution from the commit that created it
/// on, also after the callback completed; an unknown id leads nowhere.
pub async fn callbacks_are_found_by_id(persistence: &impl Persistence) {
    let mut first = Tracked::create(persistence, "orders", "cb-1", T0).await;
    let mut second = Tracked::create(persistence, "orders", "cb-2", T0).await;
    for tracked in [&mut first, &mut second] {
        tracked.begin(persistence, T0).await;
        let response = tracked
            .checkpoint(persistence, vec![callback_start("c1")], T0)
            .await;
        assert_eq!(
            response.new_execution_state.operations[0].operation_type,
            OperationType::Callback
        );
    }
    let id_of = |tracked: &Tracked| {
        tracked
            .record
            .operation("c1")
            .and_then(|op| op.callback_details.as_ref()?.callback_id.clone())
            .unwrap()
    };
    let (first_id, second_id) = (id_of(&first), id_of(&second));
    assert_ne!(first_id, second_id);
    let found = persistence.find_by_callback_id(&first_id).await.unwrap();
    assert_eq!(found.as_deref(), Some(first.arn()));
    let found = persistence.find_by_callback_id(&second_id).await.unwrap();
    assert_eq!(found.as_deref(), Some(second.arn()));
    assert_eq!(
        persistence
            .find_by_callback_id("no-such-callback")
            .await
            .unwrap(),
        None
    );

    first.suspend(persistence, at(1)).await;
    first
        .record
        .callback_succeeded(&ServiceConfig::default(), &first_id, "\"ok\"".into(), at(2))
        .unwrap();
    first.commit(persistence, at(2)).await;
    let found = persistence.find_by_callback_id(&first_id).await.unwrap();
    assert_eq!(
        found.as_deref(),
        Some(first.arn()),
        "completed callbacks stay findable"
    );
}

/// History pages hold every event once, by id from 1, in pages of the
/// asked size; a limit of 0 counts as 1; foreign markers are refused.
pub async fn history_is_paged_in_order(persistence: &impl Persistence) {
    let mut tracked = Tracked::create(persistence, "orders", "paged", T0).await;
    tracked.begin(persistence, T0).await;
    for i in 0..4 {
        let id = format!("s{i}");
        tracked
            .checkpoint(
                persistence,
                vec![step_start(&id), step_succeed(&id, "1")],
                T0,
            )
            .await;
    }
    tracked.succeed(persistence, "1", at(1)).await;
    let expected = tracked.record.history();
    assert_eq!(expected.len(), 11);
    assert_eq!(full_history(persistence, tracked.arn()).await, expected);

    let first = persistence
        .history_page(tracked.arn(), None, 4)
        .await
        .unwrap();
    let ids: Vec<u64> = first.items.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    let marker = first.next_marker.unwrap();
    let rest = persistence
        .history_page(tracked.arn(), Some(&marker), 100)
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 7);
    assert_eq!(rest.items[0].event_id, 5);
    assert_eq!(rest.next_marker, None, "the last page has no marker");
    let one = persistence
        .history_page(tracked.arn(), None, 0)
        .await
        .unwrap();
    assert_eq!(one.items.len(), 1);
    match persistence
        .history_page(tracked.arn(), Some("not-a-marker"), 10)
        .await
    {
        Err(PersistenceError::InvalidMarker { marker }) => assert_eq!(marker, "not-a-marker"),
        other => panic!("a foreign marker must be refused, got {other:?}"),
    }
}

/// Listings are in creation order, filtered, in pages.
pub async fn executions_are_listed_in_creation_order(persistence: &impl Persistence) {
    let mut arns = Vec::new();
    for (function, name) in [
        ("orders", "o1"),
        ("refunds", "r1"),
        ("orders", "o2"),
        ("refunds", "r2"),
        ("orders", "o3"),
    ] {
        arns.push(Tracked::create(persistence, function, name, T0).await);
    }
    arns[2].begin(persistence, T0).await;
    arns[2].succeed(persistence, "1", T0).await;

    let mut listed = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = persistence
            .list(&ListFilter::default(), marker.as_deref(), 2)
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        listed.extend(page.items);
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    let listed_arns: Vec<&str> = listed.iter().map(|s| s.arn.as_str()).collect();
    let created: Vec<&str> = arns.iter().map(Tracked::arn).collect();
    assert_eq!(listed_arns, created);
    assert_eq!(listed[0].name, "o1");
    assert_eq!(listed[0].function_name, "orders");
    assert_eq!(listed[0].start_timestamp, T0);
    assert_eq!(listed[2].status, ExecutionStatus::Succeeded);
    assert_eq!(listed[2].end_timestamp, Some(T0));

    let orders = ListFilter {
        function_name: Some("orders".into()),
        ..ListFilter::default()
    };
    let page = persistence.list(&orders, None, 10).await.unwrap();
    let names: Vec<&str> = page.items.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["o1", "o2", "o3"]);
    let succeeded = ListFilter {
        status: Some(ExecutionStatus::Succeeded),
        ..ListFilter::default()
    };
    let page = persistence.list(&succeeded, None, 10).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].arn, arns[2].arn());
    let by_name = ListFilter {
        name: Some("r2".into()),
        ..ListFilter::default()
    };
    assert_eq!(
        persistence
            .list(&by_name, None, 10)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    match persistence
        .list(&ListFilter::default(), Some("not-a-marker"), 10)
        .await
    {
        Err(PersistenceError::InvalidMarker { .. }) => {}
        other => panic!("a foreign marker must be refused, got {other:?}"),
    }
}

/// Calls about an execution that does not exist say so.
pub async fn unknown_executions_are_reported(persistence: &impl Persistence) {
    let arn = "arn:durable:lambda:local:000000000000:function:f:$LATEST/durable-execution/n/x";
    assert!(persistence.load(arn).await.unwrap().is_none());
    let mut record = super::new_record("f", "n", T0);
    let delta = Delta::capture(&mut record, T0);
    let not_found = |result: Result<(), PersistenceError>, what: &str| match result {
        Err(PersistenceError::NotFound { arn: missing }) => assert_eq!(missing, arn),
        Err(other) => panic!("{what}: expected NotFound, got {other:?}"),
        Ok(()) => panic!("{what}: expected NotFound, got a success"),
    };
    not_found(
        persistence.commit(arn, 1, delta).await.map(|_| ()),
        "commit",
    );
    not_found(
        persistence.renew_lease(arn, "a", at(1)).await.map(|_| ()),
        "renew",
    );
    not_found(
        persistence.release_lease(arn, "a").await.map(|_| ()),
        "release",
    );
    not_found(
        persistence.history_page(arn, None, 10).await.map(|_| ()),
        "history",
    );
    assert!(
        persistence
            .list(&ListFilter::default(), None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        persistence
            .claim_due(at(1), "a", at(2), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
