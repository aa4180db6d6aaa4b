//! The functions this worker runs: the order workflow of `examples/orders`,
//! for a fleet of workers on one database.

use std::time::Duration;

use durable_core::{
    DurableContext, DurableError, DurableFunction, Jitter, RetryStrategy, StepSemantics,
};
use durable_runtime::{Persistence, Worker};
use serde::Deserialize;
use serde_json::json;

/// The function name executions of [`process_order`] are started under.
pub const PROCESS_ORDER: &str = "process-order";

/// An order, the input of [`process_order`].
#[derive(Debug, Deserialize)]
pub struct Order {
    /// The order's id.
    pub id: String,
    /// What is ordered.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// The price, in cents.
    pub amount_cents: u64,
    /// Whether a human approves the order (through a callback) before it
    /// ships.
    #[serde(default)]
    pub needs_approval: bool,
}

/// Registers every function of this worker.
pub fn register<P: Persistence + 'static>(worker: Worker<P>) -> Worker<P> {
    worker.register(PROCESS_ORDER, DurableFunction::new(process_order))
}

/// Reserves stock, charges the card (at most once per attempt: a payment
/// must not be sent twice; the first attempt fails with a transient error
/// and is retried after a second), cools down for two seconds on a durable
/// timer, waits for a human approval if the order needs one (its callback
/// id is logged; complete it with `durable-worker callback-succeed <id>`),
/// and ships.
pub async fn process_order(
    order: Order,
    ctx: DurableContext,
) -> Result<serde_json::Value, DurableError> {
    let log = ctx.logger();
    log.info(format!("processing order {}", order.id));
    let (sku, quantity) = (order.sku.clone(), order.quantity);
    let reservation: String = ctx
        .step(move |_| async move { Ok::<_, DurableError>(format!("rsv-{sku}-x{quantity}")) })
        .name("reserve-stock")
        .await?;

    let amount = order.amount_cents;
    let payment: String = ctx
        .step(move |step| async move {
            if step.attempt() == 1 {
                return Err(DurableError::new(
                    "PaymentGatewayTimeout",
                    "the payment gateway timed out (transient)",
                ));
            }
            Ok(format!("pay-{amount}"))
        })
        .name("charge-card")
        .semantics(StepSemantics::AtMostOncePerRetry)
        .retry(
            RetryStrategy::exponential()
                .max_attempts(3)
                .initial_delay(Duration::from_secs(1))
                .jitter(Jitter::None),
        )
        .await?;
    log.info(format!("card charged: {payment}"));

    ctx.wait(Duration::from_secs(2)).name("cool-down").await?;

    let approval = if order.needs_approval {
        ctx.wait_for_callback(|callback_id, step| async move {
            step.logger().info(format!(
                "approval requested: durable-worker callback-succeed {callback_id}"
            ));
            Ok::<_, DurableError>(())
        })
        .name("approval")
        .timeout(Duration::from_secs(3600))
        .json::<serde_json::Value>()
        .await?
    } else {
        json!("not needed")
    };

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
