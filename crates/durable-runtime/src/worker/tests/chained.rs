//! Chained invokes run as child executions and wake their parents.

use super::*;
use crate::driver::{ChainedInvokes, Functions, run_turn};
use crate::{ListFilter, Persistence};

fn parent() -> DurableFunction {
    DurableFunction::new(|n: u32, ctx: DurableContext| async move {
        let doubled: u32 = ctx.invoke("double", n).name("double-it").await?;
        Ok::<_, DurableError>(doubled + 1)
    })
}

fn double() -> DurableFunction {
    DurableFunction::new(|n: u32, ctx: DurableContext| async move {
        ctx.step(move |_| async move { Ok::<_, DurableError>(n * 2) })
            .await
    })
}

async fn child_of(service: &TestService) -> ExecutionDescription {
    let filter = ListFilter {
        function_name: Some("double".into()),
        ..ListFilter::default()
    };
    let page = service.list(&filter, None, 10).await.unwrap();
    assert_eq!(page.items.len(), 1, "{page:#?}");
    service.describe(&page.items[0].arn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_chained_invoke_runs_the_child_and_completes_the_parent() {
    let service = service();
    let running = Running::spawn(
        worker(&service, "w1")
            .register("parent", parent())
            .register("double", double())
            .reconcile_interval(Duration::from_secs(3600)),
    );
    let arn = start(&service, "parent", "21").await;
    let done = wait_ended(&service, std::slice::from_ref(&arn), Duration::from_secs(5)).await;
    assert_eq!(done[0].status, ExecutionStatus::Succeeded, "{:#?}", done[0]);
    assert_eq!(done[0].result.as_deref(), Some("43"));
    let child = child_of(&service).await;
    assert_eq!(child.status, ExecutionStatus::Succeeded);
    assert_eq!(child.result.as_deref(), Some("42"));
    running.shutdown().await;
}

/// A worker stops after the child ended but before it woke the parent: the
/// parent's record still lists the chained invoke, and the next worker's
/// sweep completes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_parent_stranded_by_a_crash_is_woken_by_the_sweep() {
    let service = service();
    let mut functions = Functions::new();
    functions.insert("parent", parent());
    functions.insert("double", double());
    let arn = start(&service, "parent", "5").await;
    // The parent's turn starts the child.
    let parent_links = ChainedInvokes::new();
    run_turn(&service, &functions, &parent_links, &arn)
        .await
        .unwrap();
    let child = child_of(&service).await.arn;
    // Another (forgetful) worker runs the child to its end, then "crashes".
    let forgetful = ChainedInvokes::new();
    for _ in 0..5 {
        run_turn(&service, &functions, &forgetful, &child)
            .await
            .unwrap();
    }
    assert_eq!(child_of(&service).await.status, ExecutionStatus::Succeeded);
    let stranded = service.describe(&arn).await.unwrap();
    assert_eq!(stranded.status, ExecutionStatus::Running);
    let now = service.now();
    let due = service
        .persistence()
        .claim_due(now, "probe", now.plus(Duration::from_millis(1)), 10)
        .await
        .unwrap();
    assert!(
        due.is_empty(),
        "nothing is due until someone reconciles: {due:?}"
    );

    let running = Running::spawn(
        worker(&service, "w2")
            .register("parent", parent())
            .register("double", double()),
    );
    let done = wait_ended(&service, std::slice::from_ref(&arn), Duration::from_secs(5)).await;
    assert_eq!(done[0].status, ExecutionStatus::Succeeded, "{:#?}", done[0]);
    assert_eq!(done[0].result.as_deref(), Some("11"));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chained_invoke_of_an_unknown_function_fails_the_invoke() {
    let service = service();
    let running = Running::spawn(worker(&service, "w1").register("parent", parent()));
    let arn = start(&service, "parent", "1").await;
    let done = wait_ended(&service, std::slice::from_ref(&arn), Duration::from_secs(5)).await;
    assert_eq!(done[0].status, ExecutionStatus::Failed, "{:#?}", done[0]);
    let message = format!("{:?}", done[0].error);
    assert!(message.contains("double"), "{message}");
    running.shutdown().await;
}
