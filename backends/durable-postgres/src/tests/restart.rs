//! The server restarts in the middle of a run: workers keep going (the
//! failures meanwhile are retryable, the pool connects again) and every
//! workflow completes. The server is a cluster of the test's own, so the
//! shared one is never restarted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use durable_core::model::ExecutionStatus;
use durable_core::service::ServiceConfig;
use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_runtime::{ListFilter, Service, Worker};
use sqlx::{ConnectOptions, Connection};

use crate::testing::Cluster;
use crate::{PostgresConfig, PostgresPersistence};

const WORKFLOWS: usize = 40;
const STEPS: u32 = 5;

/// Five steps of 100 ms each.
fn slow_steps() -> DurableFunction {
    DurableFunction::new(|input: u32, ctx: DurableContext| async move {
        let mut total = input;
        for step in 0..STEPS {
            total = ctx
                .step(move |_| async move {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, DurableError>(total + step)
                })
                .name(format!("s{step}"))
                .await?;
        }
        Ok::<_, DurableError>(total)
    })
}

/// How many executions have succeeded, or `None` while the server is down.
async fn succeeded(service: &Service<PostgresPersistence>) -> Option<usize> {
    let filter = ListFilter {
        status: Some(ExecutionStatus::Succeeded),
        ..ListFilter::default()
    };
    let page = service.list(&filter, None, 1000).await.ok()?;
    Some(page.items.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workflow_completes_across_a_server_restart() {
    let cluster = Cluster::start().await.unwrap_or_else(|e| panic!("{e}"));
    let mut admin = cluster.options().connect().await.unwrap();
    sqlx::raw_sql("CREATE DATABASE durable")
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let config = PostgresConfig::new(&cluster.url("durable"))
        .unwrap()
        .max_connections(6)
        .acquire_timeout(Duration::from_secs(2));
    let store = PostgresPersistence::connect_with(&config).await.unwrap();
    let service = Arc::new(Service::new(store).with_config(ServiceConfig {
        failed_invocation_backoff: Duration::from_millis(100),
        ..ServiceConfig::default()
    }));
    for n in 0..WORKFLOWS {
        service
            .start_execution("slow", Some(&format!("w{n}")), Some(n.to_string()))
            .await
            .unwrap();
    }
    let worker = Worker::new(service.clone())
        .register("slow", slow_steps())
        .concurrency(8)
        .lease(Duration::from_secs(2))
        .poll_interval(Duration::from_millis(50));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));

    // Restart once some, not all, have finished.
    let began = Instant::now();
    let mut before = 0;
    while before == 0 && began.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        before = succeeded(&service).await.unwrap_or(0);
    }
    assert!(
        (1..WORKFLOWS).contains(&before),
        "{before} of {WORKFLOWS} done before the restart"
    );
    cluster.stop().await.unwrap();
    assert_eq!(succeeded(&service).await, None, "the server is down");
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.start_again().await.unwrap();
    let restarted = Instant::now();

    let mut done = 0;
    while done < WORKFLOWS && restarted.elapsed() < Duration::from_secs(90) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        done = succeeded(&service).await.unwrap_or(0);
    }
    let _ = stop.send(());
    running.await.unwrap();
    assert_eq!(
        done, WORKFLOWS,
        "every workflow completed after the restart ({before} before it)"
    );
    eprintln!(
        "restart: {before} of {WORKFLOWS} done before it, all {WORKFLOWS} {:?} after",
        restarted.elapsed()
    );
    let all = service
        .list(&ListFilter::default(), None, 1000)
        .await
        .unwrap();
    for summary in &all.items {
        assert_eq!(summary.status, ExecutionStatus::Succeeded, "{summary:?}");
    }
    service.persistence().close().await;
}
