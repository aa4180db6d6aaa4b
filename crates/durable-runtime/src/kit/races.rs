//! Races: two runners of one execution, concurrent commits at one
//! version, concurrent claims.

use std::collections::HashSet;
use std::sync::Arc;

use durable_core::model::{ErrorObject, EventType, ExecutionStatus, InvocationStatus};
use durable_core::service::InvocationOutcome;
use durable_core::{DurableContext, DurableError, DurableFunction};

use super::clocked::Clocked;
use super::writes::full_history;
use super::{T0, Tracked, at, step_start};
use crate::delta::Delta;
use crate::driver::{LOST_INVOCATION_MESSAGE, PANIC_ERROR_TYPE};
use crate::error::{PersistenceError, RuntimeError};
use crate::persistence::Persistence;

/// A handler with one step, `work`, whose result it returns.
fn one_step() -> DurableFunction {
    DurableFunction::new(|_: serde_json::Value, ctx: DurableContext| async move {
        ctx.step(|_| async { Ok::<_, DurableError>("done".to_owned()) })
            .name("work")
            .await
    })
}

/// Two runners of one execution, the second begun after taking the first's
/// invocation over, race: only the second checkpoints and ends it; the
/// first gets a stale token and changes nothing.
pub async fn racing_runners_cannot_both_checkpoint<P: Persistence + 'static>(persistence: P) {
    let kit = Clocked::new(persistence);
    let service = kit.service.clone();
    let arn = kit.start("orders", "raced").await;
    let persistence = service.persistence();
    let claimed = persistence.claim_due(T0, "runner-a", at(30), 10).await;
    assert_eq!(claimed.unwrap(), std::slice::from_ref(&arn));
    let first = service.begin_invocation(&arn, "runner-a").await.unwrap();

    // Runner A's lease expires while its invocation is still running:
    // runner B claims the execution and takes the invocation over.
    kit.set(at(60));
    let claimed = persistence.claim_due(at(60), "runner-b", at(90), 10).await;
    assert_eq!(claimed.unwrap(), std::slice::from_ref(&arn));
    assert!(
        !persistence
            .renew_lease(&arn, "runner-a", at(90))
            .await
            .unwrap()
    );
    let running = service.load_execution(&arn).await.unwrap().record;
    let lost = running.active_invocation().unwrap().request_id.clone();
    assert_eq!(lost, "runner-a");
    let error = ErrorObject::new(PANIC_ERROR_TYPE, LOST_INVOCATION_MESSAGE);
    assert!(
        service
            .abandon_invocation(&arn, &lost, error)
            .await
            .unwrap(),
        "the lost invocation is taken over"
    );
    let second = service.begin_invocation(&arn, "runner-b").await.unwrap();

    let function = Arc::new(one_step());
    let run = |envelope| {
        let (function, store) = (function.clone(), kit.store());
        tokio::spawn(async move { durable_core::invocation::run(&function, envelope, store).await })
    };
    let (a, b) = (run(first), run(second));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let error = a.expect_err("the taken-over runner cannot checkpoint");
    assert!(
        error.to_string().contains("stale checkpoint token"),
        "{error}"
    );
    let output = b.expect("the runner that took over checkpoints");
    assert_eq!(output.status, InvocationStatus::Succeeded);
    match service
        .complete_invocation_of(
            &arn,
            "runner-a",
            InvocationOutcome::Returned(output.clone()),
        )
        .await
    {
        Err(RuntimeError::StaleToken { arn: stale }) => assert_eq!(stale, arn),
        other => panic!("the first runner cannot end the invocation: {other:?}"),
    }
    let status = service
        .complete_invocation_of(&arn, "runner-b", InvocationOutcome::Returned(output))
        .await
        .unwrap();
    assert_eq!(status, ExecutionStatus::Succeeded);

    let done = kit.describe(&arn).await;
    assert_eq!(done.result.as_deref(), Some("\"done\""));
    assert_eq!(done.invocation_count, 2);
    let steps = done
        .operations
        .iter()
        .filter(|op| op.name.as_deref() == Some("work"));
    assert_eq!(steps.count(), 1, "one step, written once");
    let history = full_history(service.persistence(), &arn).await;
    let succeeded = history
        .iter()
        .filter(|e| e.event_type == EventType::StepSucceeded);
    assert_eq!(succeeded.count(), 1, "{history:?}");
}

/// Of many commits racing at one version, exactly one wins; the others
/// conflict and write nothing.
pub async fn concurrent_commits_at_one_version_have_one_winner<P: Persistence + 'static>(
    persistence: P,
) {
    const RIVALS: usize = 8;
    let persistence = Arc::new(persistence);
    let mut tracked = Tracked::create(&*persistence, "orders", "contended", T0).await;
    tracked.begin(&*persistence, T0).await;
    let token = tracked.token.clone().unwrap();
    let arn = tracked.arn().to_owned();

    // Every rival computes its change from the same loaded state first…
    let mut changes = Vec::new();
    for i in 0..RIVALS {
        let mut copy = persistence.load(&arn).await.unwrap().unwrap();
        let step = format!("s{i}");
        copy.record
            .checkpoint(&tracked.config, &token, vec![step_start(&step)], at(1))
            .unwrap();
        let delta = Delta::capture(&mut copy.record, at(1));
        changes.push((step, copy.version, delta));
    }
    // …then they all commit at once.
    let racers: Vec<_> = changes
        .into_iter()
        .map(|(step, version, delta)| {
            let (persistence, arn) = (persistence.clone(), arn.clone());
            tokio::spawn(async move { (step, persistence.commit(&arn, version, delta).await) })
        })
        .collect();
    let mut winners = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            (step, Ok(version)) => {
                assert_eq!(version, tracked.version + 1);
                winners.push(step);
            }
            (_, Err(PersistenceError::Conflict { expected, .. })) => {
                assert_eq!(expected, tracked.version);
            }
            (_, Err(other)) => panic!("a losing commit must conflict, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one commit wins: {winners:?}");
    let stored = persistence.load(&arn).await.unwrap().unwrap();
    assert_eq!(stored.version, tracked.version + 1);
    let ids: Vec<&str> = stored
        .record
        .operations()
        .iter()
        .map(|op| op.id.as_str())
        .skip(1)
        .collect();
    assert_eq!(ids, [winners[0].as_str()], "only the winner's operation");
    let history = full_history(&*persistence, &arn).await;
    assert_eq!(history.len(), 2, "started and one step: {history:?}");
}

/// Claims racing from several tasks never hand out one execution twice,
/// and together take every due execution.
pub async fn racing_claims_never_share_an_execution<P: Persistence + 'static>(persistence: P) {
    const EXECUTIONS: usize = 24;
    let persistence = Arc::new(persistence);
    for i in 0..EXECUTIONS {
        Tracked::create(&*persistence, "orders", &format!("o{i}"), T0).await;
    }
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let persistence = persistence.clone();
            tokio::spawn(async move {
                let owner = format!("w{w}");
                let mut mine = Vec::new();
                // Bounded, so a backend handing out leased executions fails
                // instead of looping forever.
                for _ in 0..EXECUTIONS {
                    let claimed = persistence.claim_due(T0, &owner, at(60), 3).await.unwrap();
                    if claimed.is_empty() {
                        break;
                    }
                    mine.extend(claimed);
                    tokio::task::yield_now().await;
                }
                mine
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for worker in workers {
        for arn in worker.await.unwrap() {
            assert!(seen.insert(arn), "two claims got one execution");
        }
    }
    assert_eq!(seen.len(), EXECUTIONS, "every due execution was claimed");
}
