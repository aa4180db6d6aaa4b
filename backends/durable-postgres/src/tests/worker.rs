//! Two real workers, in real time, on one database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use durable_core::model::ExecutionStatus;
use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_runtime::{ListFilter, Service, Worker};
use tokio::sync::watch;

use super::{connect, fresh_options};

type Counts = Arc<Mutex<HashMap<String, usize>>>;

/// Counts one run of step `step` of `order`.
fn count(counts: &Counts, step: &str, order: u32) {
    *counts
        .lock()
        .unwrap()
        .entry(format!("{step}-{order}"))
        .or_default() += 1;
}

/// `charge`, a one-second wait, then `ship`, each step counted per order.
fn order(counts: Counts) -> DurableFunction {
    DurableFunction::new(move |order: u32, ctx: DurableContext| {
        let counts = counts.clone();
        async move {
            let first = counts.clone();
            let charged: String = ctx
                .step(move |_| async move {
                    count(&first, "charge", order);
                    Ok::<_, DurableError>(format!("charged {order}"))
                })
                .name("charge")
                .await?;
            ctx.wait(Duration::from_secs(1)).name("cool-off").await?;
            ctx.step(move |_| async move {
                count(&counts, "ship", order);
                Ok::<_, DurableError>(format!("{charged}, shipped"))
            })
            .name("ship")
            .await
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_on_one_database_run_every_step_once() {
    let options = fresh_options().await;
    let counts = Counts::default();
    let (stop, stopped) = watch::channel(false);
    let mut workers = Vec::new();
    let mut services = Vec::new();
    for id in ["a", "b"] {
        let store = connect(&options).await;
        let service = Arc::new(Service::new(store));
        let worker = Worker::new(service.clone())
            .register("orders", order(counts.clone()))
            .worker_id(id)
            .lease(Duration::from_secs(5))
            .poll_interval(Duration::from_millis(20));
        let mut stopped = stopped.clone();
        workers.push(tokio::spawn(worker.run_until(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })));
        services.push(service);
    }
    for order in 0..20 {
        services[order % 2]
            .start_execution(
                "orders",
                Some(&format!("o{order}")),
                Some(order.to_string()),
            )
            .await
            .unwrap();
    }

    let succeeded = ListFilter {
        status: Some(ExecutionStatus::Succeeded),
        ..ListFilter::default()
    };
    let mut done = 0;
    for _ in 0..300 {
        done = services[0]
            .list(&succeeded, None, 100)
            .await
            .unwrap()
            .items
            .len();
        if done == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(done, 20, "every execution finished");
    let counts = counts.lock().unwrap().clone();
    assert_eq!(counts.len(), 40, "{counts:?}");
    assert!(
        counts.values().all(|&n| n == 1),
        "a step ran twice: {counts:?}"
    );
    let page = services[1].list(&succeeded, None, 100).await.unwrap();
    let first = services[1].describe(&page.items[0].arn).await.unwrap();
    assert_eq!(first.result.as_deref(), Some("\"charged 0, shipped\""));
}
