//! Claiming due executions, leases, their expiry and takeover.

use super::{T0, Tracked, at, wait_start};
use crate::persistence::Persistence;

/// Claims take due executions (runnable now, or with a timer due), the
/// earliest first, up to the limit, and lease them; leased, later and
/// ended executions are not taken.
pub async fn claims_take_due_executions_with_a_lease(persistence: &impl Persistence) {
    let runnable = Tracked::create(persistence, "orders", "runnable", T0).await;
    let mut waiting = Tracked::create(persistence, "orders", "waiting", T0).await;
    waiting.begin(persistence, T0).await;
    waiting
        .checkpoint(persistence, vec![wait_start("w1", 60)], T0)
        .await;
    waiting.suspend(persistence, T0).await;
    let mut done = Tracked::create(persistence, "orders", "done", T0).await;
    done.begin(persistence, T0).await;
    done.succeed(persistence, "1", T0).await;
    let later = Tracked::create(persistence, "orders", "later", at(5)).await;

    let claimed = persistence.claim_due(T0, "w1", at(30), 10).await.unwrap();
    assert_eq!(claimed, [runnable.arn()], "only what is due at T0");
    let claimed = persistence.claim_due(T0, "w2", at(30), 10).await.unwrap();
    assert!(
        claimed.is_empty(),
        "a live lease keeps others out: {claimed:?}"
    );
    let claimed = persistence
        .claim_due(at(10), "w2", at(40), 10)
        .await
        .unwrap();
    assert_eq!(claimed, [later.arn()]);

    // At 60 the first two leases have expired and the wait is due.
    let claimed = persistence
        .claim_due(at(60), "w3", at(90), 1)
        .await
        .unwrap();
    assert_eq!(
        claimed,
        [runnable.arn()],
        "the earliest due first, up to the limit"
    );
    let claimed = persistence
        .claim_due(at(60), "w3", at(90), 10)
        .await
        .unwrap();
    assert_eq!(claimed, [later.arn(), waiting.arn()]);

    let claimed = persistence
        .claim_due(at(1000), "w4", at(1030), 10)
        .await
        .unwrap();
    assert_eq!(
        claimed.len(),
        3,
        "ended executions are never due: {claimed:?}"
    );
    assert!(!claimed.iter().any(|arn| arn == done.arn()));
}

/// A lease that expired is taken over by the next claim; its former owner
/// can then neither renew nor release it.
pub async fn expired_leases_are_taken_over(persistence: &impl Persistence) {
    let tracked = Tracked::create(persistence, "orders", "crashy", T0).await;
    let arn = tracked.arn();
    assert_eq!(
        persistence.claim_due(T0, "a", at(30), 10).await.unwrap(),
        [arn]
    );
    assert!(persistence.renew_lease(arn, "a", at(60)).await.unwrap());
    assert!(
        persistence.renew_lease(arn, "a", at(60)).await.unwrap(),
        "renewing repeats"
    );
    let claimed = persistence
        .claim_due(at(45), "b", at(75), 10)
        .await
        .unwrap();
    assert!(claimed.is_empty(), "a renewed lease is live: {claimed:?}");

    let claimed = persistence
        .claim_due(at(60), "b", at(90), 10)
        .await
        .unwrap();
    assert_eq!(claimed, [arn], "an expired lease is taken over");
    assert!(!persistence.renew_lease(arn, "a", at(120)).await.unwrap());
    assert!(!persistence.release_lease(arn, "a").await.unwrap());
    let claimed = persistence
        .claim_due(at(70), "a", at(100), 10)
        .await
        .unwrap();
    assert!(
        claimed.is_empty(),
        "the new owner's lease is live: {claimed:?}"
    );

    assert!(persistence.renew_lease(arn, "b", at(100)).await.unwrap());
    assert!(persistence.release_lease(arn, "b").await.unwrap());
    assert!(
        !persistence.release_lease(arn, "b").await.unwrap(),
        "released once"
    );
    let claimed = persistence
        .claim_due(at(70), "c", at(100), 10)
        .await
        .unwrap();
    assert_eq!(claimed, [arn], "a released execution is claimable at once");
}

/// Claims, renewals and releases do not change the version; commits do
/// not change the lease.
pub async fn leases_and_versions_are_independent(persistence: &impl Persistence) {
    let mut tracked = Tracked::create(persistence, "orders", "leased", T0).await;
    let arn = tracked.arn().to_owned();
    assert_eq!(
        persistence.claim_due(T0, "a", at(30), 10).await.unwrap(),
        std::slice::from_ref(&arn)
    );
    assert!(persistence.renew_lease(&arn, "a", at(40)).await.unwrap());
    assert_eq!(stored_version(persistence, &arn).await, 1);

    tracked.begin(persistence, T0).await;
    assert_eq!(stored_version(persistence, &arn).await, 2);
    let claimed = persistence.claim_due(at(1), "b", at(31), 10).await.unwrap();
    assert!(claimed.is_empty(), "a commit keeps the lease: {claimed:?}");
    assert!(persistence.renew_lease(&arn, "a", at(50)).await.unwrap());
    assert!(persistence.release_lease(&arn, "a").await.unwrap());
    assert_eq!(stored_version(persistence, &arn).await, 2);
}

async fn stored_version(persistence: &impl Persistence, arn: &str) -> u64 {
    persistence.load(arn).await.unwrap().unwrap().version
}
