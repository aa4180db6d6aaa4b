//! Wake-ups from a backend (here the memory backend's) make an idle worker
//! claim before its next poll.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_up_makes_an_idle_worker_claim_before_its_next_poll() {
    let service = Arc::new(Service::new(MemoryPersistence::new()));
    let greet = DurableFunction::new(|name: String, ctx: DurableContext| async move {
        ctx.step(move |_| async move { Ok::<_, DurableError>(format!("hi {name}")) })
            .await
    });
    // Polls once at start, then not for an hour: only a wake-up can help.
    let worker = Worker::new(service.clone())
        .register("greet", greet)
        .poll_interval(Duration::from_secs(3600));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let arn = service
        .start_execution("greet", None, Some("\"ann\"".into()))
        .await
        .unwrap()
        .arn;
    let mut done = None;
    for _ in 0..200 {
        let described = service.describe(&arn).await.unwrap();
        if described.status != ExecutionStatus::Running {
            done = Some(described);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = stop.send(());
    task.await.unwrap();
    let done = done.expect("the wake-up got the execution claimed within 5 s");
    assert_eq!(done.result.as_deref(), Some("\"hi ann\""));
}
