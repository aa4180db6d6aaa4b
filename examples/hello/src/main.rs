//! # hello: step, wait, step
//!
//! The smallest durable workflow: a step, an hour-long durable wait, and a
//! second step that uses the first one's result. It runs on the local runner,
//! whose virtual clock jumps to the next timer, so the hour passes at once;
//! the workflow is invoked twice (before and after the wait) and the first
//! step is replayed, not run again.
//!
//! ```sh
//! cargo run -p hello -- World
//! ```

use std::time::Duration;

use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_testing::LocalRunner;

async fn hello(name: String, ctx: DurableContext) -> Result<String, DurableError> {
    let greeting: String = ctx
        .step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {name}!")) })
        .name("greet")
        .await?;
    ctx.logger()
        .info(format!("greeted; now waiting an hour: {greeting}"));
    ctx.wait(Duration::from_secs(3600)).name("an-hour").await?;
    ctx.step(move |_| async move { Ok::<_, DurableError>(format!("{greeting} (an hour later)")) })
        .name("follow-up")
        .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Show the workflow's own log lines (the logger is quiet during replay).
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "World".to_owned());
    let runner = LocalRunner::new();
    runner.register("hello", DurableFunction::new(hello));
    let execution = runner
        .run("hello", Some(serde_json::to_string(&name)?))
        .await?;

    println!("execution {} {}", execution.arn, execution.status);
    println!("invocations: {}", execution.invocations);
    println!("history:");
    for event in &execution.history {
        let what = event.name.as_deref().or(event.id.as_deref()).unwrap_or("");
        println!(
            "  {:>2} {:<22} {what}",
            event.event_id,
            event.event_type.as_str()
        );
    }
    match (&execution.result, &execution.error) {
        (Some(result), _) => println!("result: {result}"),
        (None, Some(error)) => println!("error: {error:?}"),
        (None, None) => println!("no result"),
    }
    Ok(())
}
