//! # lambda: an order workflow deployed as an AWS Lambda durable function
//!
//! `reserve-stock`, a durable one-minute `wait` (the function is not running
//! and not billed meanwhile), then `charge-card` with retries. Build and
//! deploy it with cargo-lambda and the SAM template beside this crate
//! (`template.yaml`); see `docs/lambda.md`.
//!
//! ```sh
//! cargo lambda build --release --arm64 -p lambda-example
//! sam deploy --guided --template-file examples/lambda/template.yaml
//! ```

use std::time::Duration;

use durable_core::{DurableContext, DurableError, DurableFunction, RetryStrategy};
use serde::{Deserialize, Serialize};

/// The execution's input.
#[derive(Debug, Deserialize)]
struct Order {
    id: String,
    amount_cents: u64,
}

/// The execution's result.
#[derive(Debug, Serialize)]
struct Receipt {
    order: String,
    reservation: String,
    payment: String,
}

async fn process_order(order: Order, ctx: DurableContext) -> Result<Receipt, DurableError> {
    let id = order.id.clone();
    let reservation: String = ctx
        .step(move |_| async move { Ok::<_, DurableError>(format!("rsv-{id}")) })
        .name("reserve-stock")
        .await?;
    ctx.wait(Duration::from_secs(60)).name("cool-off").await?;
    let amount = order.amount_cents;
    let payment: String = ctx
        .step(move |_| async move { Ok::<_, DurableError>(format!("paid-{amount}")) })
        .name("charge-card")
        .retry(RetryStrategy::exponential().max_attempts(3))
        .await?;
    Ok(Receipt {
        order: order.id,
        reservation,
        payment,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt().json().without_time().init();
    durable_lambda::run(DurableFunction::new(process_order)).await
}
