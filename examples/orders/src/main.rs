//! # orders: a real workflow on the embedded `SQLite` default, run by a worker
//!
//! An order goes through `reserve-stock`, `charge-card` (whose first attempt
//! fails with a transient error and is retried after a second, on a durable
//! timer), a two-second durable `wait`, a `wait_for_callback` for a human
//! approval, and `ship`. Everything is checkpointed in `durable.db` (or the
//! path given as the first argument) and driven by an in-process [`Worker`]:
//! the handler suspends at each timer and callback and is invoked again,
//! replaying what is recorded, when they are due.
//!
//! The approval callback's submitter hands its id to this program, which
//! completes it the way an external approver would (the same call as
//! `durable callback succeed <id> --result ...`). At the end it prints the
//! execution's status, result and history, read back from the database.
//! Each run starts a new execution (named after the current time), so
//! re-runs on the same file work; one an earlier run left unfinished is
//! simply resumed by the worker.
//!
//! ```sh
//! cargo run -p orders
//! ```

use std::error::Error;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use durable_core::{DurableContext, DurableError, DurableFunction, Jitter, RetryStrategy};
use durable_runtime::{Service, Worker};
use durable_sqlite::{DEFAULT_PATH, SqlitePersistence};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep, timeout};
use tracing_subscriber::fmt::format::debug_fn;

#[derive(Debug, Deserialize)]
struct Order {
    id: String,
    sku: String,
    quantity: u32,
    amount_cents: u64,
}

/// The durable workflow. `approvals` is how the approver learns of a
/// callback to complete, `(execution ARN, callback id)`: an e-mail, a ticket.
async fn process_order(
    order: Order,
    ctx: DurableContext,
    approvals: mpsc::UnboundedSender<(String, String)>,
) -> Result<serde_json::Value, DurableError> {
    let log = ctx.logger();
    log.info(format!("processing order {}", order.id));
    let (sku, quantity) = (order.sku.clone(), order.quantity);
    let reservation: String = ctx
        .step(move |_| async move { Ok::<_, DurableError>(format!("rsv-{sku}-x{quantity}")) })
        .name("reserve-stock")
        .await?;
    log.info(format!("stock reserved: {reservation}"));

    let amount = order.amount_cents;
    let payment: String = ctx
        .step(move |step| async move {
            let attempt = step.attempt();
            step.logger()
                .info(format!("charging {amount} cents, attempt {attempt}"));
            if attempt == 1 {
                return Err(DurableError::new(
                    "PaymentGatewayTimeout",
                    "the payment gateway timed out (transient)",
                ));
            }
            Ok(format!("pay-{amount}"))
        })
        .name("charge-card")
        .retry(
            RetryStrategy::exponential()
                .max_attempts(3)
                .initial_delay(Duration::from_secs(1))
                .jitter(Jitter::None),
        )
        .await?;
    log.info(format!("card charged: {payment}; cooling down for 2 s"));

    ctx.wait(Duration::from_secs(2)).name("cool-down").await?;

    let arn = ctx.execution_arn().to_owned();
    let approval: serde_json::Value = ctx
        .wait_for_callback(move |callback_id, step| async move {
            step.logger()
                .info(format!("approval requested, callback id {callback_id}"));
            approvals
                .send((arn, callback_id))
                .map_err(|_| DurableError::message("nobody is listening for approvals"))
        })
        .name("approval")
        .timeout(Duration::from_secs(60))
        .json()
        .await?;
    log.info(format!("approved: {approval}"));

    let id = order.id.clone();
    let tracking: String = ctx
        .step(move |_| async move { Ok::<_, DurableError>(format!("trk-{id}")) })
        .name("ship")
        .await?;
    log.info(format!("shipped: {tracking}"));
    Ok(json!({
        "order": order.id, "reservation": reservation, "payment": payment,
        "approval": approval, "tracking": tracking,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The workflow's log lines (quiet while replaying) and the worker's
    // warnings, message only; `RUST_LOG` overrides.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "warn,durable::log=info".into());
    let fields = debug_fn(|w, field, value| match field.name() {
        "message" => write!(w, "{value:?}"),
        _ => Ok(()),
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .fmt_fields(fields)
        .with_ansi(std::io::stdout().is_terminal())
        .with_target(false)
        .without_time()
        .init();

    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_PATH.to_owned());
    let service = Arc::new(Service::new(SqlitePersistence::open(&path).await?));
    println!("database: {path}");

    // The worker runs in this process until told to stop.
    let (approvals, mut approval_requests) = mpsc::unbounded_channel();
    let function = DurableFunction::new(move |order: Order, ctx: DurableContext| {
        process_order(order, ctx, approvals.clone())
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = Worker::new(Arc::clone(&service))
        .register("process-order", function)
        .poll_interval(Duration::from_millis(100));
    println!("worker {} started", worker.id());
    let worker = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));

    // A fresh execution name per run, so re-runs on the same file work.
    let millis = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let name = format!("order-{millis}");
    let input = json!({ "id": format!("o-{millis}"), "sku": "widget", "quantity": 2,
        "amount_cents": 4200 })
    .to_string();
    let arn = service
        .start_execution("process-order", Some(&name), Some(input.clone()))
        .await?
        .arn;
    println!("started {arn}\n  input {input}");

    // Act as the approver: get this execution's callback id (an older
    // execution left in the database may ask too), then complete it.
    let callback_id = timeout(Duration::from_secs(20), async {
        while let Some((from, callback_id)) = approval_requests.recv().await {
            if from == arn {
                return Ok(callback_id);
            }
        }
        Err("the worker stopped without asking for approval")
    })
    .await??;
    let approval = r#"{"approved_by":"alice"}"#;
    println!("approving, as `durable callback succeed {callback_id} --result '{approval}'` would");
    service.callback_succeed(&callback_id, approval).await?;

    // Wait for the execution to end.
    let description = timeout(Duration::from_secs(20), async {
        loop {
            let description = service.describe(&arn).await?;
            if description.status.is_terminal() {
                return Ok::<_, durable_runtime::RuntimeError>(description);
            }
            sleep(Duration::from_millis(100)).await;
        }
    })
    .await??;

    let _ = stop.send(());
    worker.await?;
    println!("worker stopped\nstatus: {}", description.status);
    println!("invocations: {}", description.invocation_count);
    match (&description.result, &description.error) {
        (Some(result), _) => println!("result: {result}"),
        (_, Some(error)) => println!("error: {error:?}"),
        _ => println!("no result"),
    }
    println!("history:");
    let mut marker = None;
    loop {
        let page = service.history(&arn, marker.as_deref(), 100).await?;
        for event in page.items {
            let what = event.name.or(event.id).unwrap_or_default();
            let error = event.details.error.and_then(|e| e.payload.error_type);
            let error = error.map(|e| format!(" ({e})")).unwrap_or_default();
            let (id, kind) = (event.event_id, event.event_type.as_str());
            let line = format!("  {id:>2} {kind:<20} {what}{error}");
            println!("{}", line.trim_end());
        }
        marker = page.next_marker;
        if marker.is_none() {
            break;
        }
    }
    service.persistence().close().await;
    Ok(())
}
