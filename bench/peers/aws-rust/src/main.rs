//! Runs the sequential and replay workloads on the AWS Rust preview SDK's
//! in-process `LocalRunner` and prints one JSON object on stdout.
//!
//! Usage: `durable-bench-peer-aws STEPS REPLAY_SIZES BUDGET_SECS`, e.g.
//! `500 1000,10000,100000 30`. Replay sizes run in increasing order; a size
//! whose run would take longer than the budget by linear extrapolation
//! from the previous one is skipped (and reported as skipped): this runner
//! grows faster than linearly, so the extrapolation is a lower bound.

use std::time::{Duration, Instant};

use aws_durable_execution_sdk as durable;
use durable::test_util::LocalRunner;

/// One run of `steps` tiny steps, followed by a wait when `suspend`
/// (which ends the first invocation; the second replays every step).
async fn run(steps: u32, suspend: bool) -> Result<(Duration, usize), String> {
    let started = Instant::now();
    let result = LocalRunner::new()
        .single_page()
        .max_invocations(4)
        .run(
            move |_event: (), ctx: durable::DurableContext| async move {
                let mut sum = 0_u64;
                for i in 0..steps {
                    sum += ctx.step(move |_| async move { Ok(u64::from(i)) }).await?;
                }
                if suspend {
                    ctx.wait(Duration::from_secs(1)).await?;
                }
                Ok::<_, durable::BoxError>(sum)
            },
            (),
        )
        .await;
    let elapsed = started.elapsed();
    if !result.is_success() {
        return Err(format!(
            "run of {steps} steps failed: {:?} {:?}",
            result.error_type(),
            result.error_message()
        ));
    }
    Ok((elapsed, result.invocation_count()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let steps: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let sizes: Vec<u32> = args
        .next()
        .unwrap_or_else(|| "1000,10000,100000".into())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let budget = Duration::from_secs(args.next().and_then(|a| a.parse().ok()).unwrap_or(60));

    // Warm up, then the sequential workload.
    let _ = run(10, false).await;
    let sequential = match run(steps, false).await {
        Ok((elapsed, invocations)) => serde_json::json!({
            "steps": steps,
            "total_ms": elapsed.as_secs_f64() * 1e3,
            "per_step_us": elapsed.as_secs_f64() * 1e6 / f64::from(steps),
            "invocations": invocations,
        }),
        Err(error) => serde_json::json!({ "error": error }),
    };

    // Replay: (steps + wait) runs two invocations, the second replaying
    // every step; the same steps without the wait run one. The difference
    // is the replay invocation.
    let mut replay = Vec::new();
    // The previous size and how long its two runs took.
    let mut previous: Option<(u32, Duration)> = None;
    for &n in &sizes {
        if let Some((m, took)) = previous {
            let predicted = took.mul_f64(f64::from(n) / f64::from(m.max(1)));
            if predicted > budget {
                replay.push(serde_json::json!({
                    "steps": n,
                    "skipped": format!(
                        "not run: at least {:.0} s by linear extrapolation from {m} steps, over the {} s budget",
                        predicted.as_secs_f64(),
                        budget.as_secs()
                    ),
                }));
                previous = Some((n, predicted));
                continue;
            }
        }
        let started = Instant::now();
        let entry = match (run(n, false).await, run(n, true).await) {
            (Ok((record, _)), Ok((both, invocations))) => {
                let replay_time = both.saturating_sub(record);
                serde_json::json!({
                    "steps": n,
                    "record_ms": record.as_secs_f64() * 1e3,
                    "record_and_replay_ms": both.as_secs_f64() * 1e3,
                    "replay_ms": replay_time.as_secs_f64() * 1e3,
                    "replay_per_step_us": replay_time.as_secs_f64() * 1e6 / f64::from(n),
                    "invocations": invocations,
                })
            }
            (Err(error), _) | (_, Err(error)) => serde_json::json!({ "steps": n, "error": error }),
        };
        previous = Some((n, started.elapsed()));
        replay.push(entry);
    }
    println!(
        "{}",
        serde_json::json!({ "sdk": "aws-durable-execution-sdk 0.1.0", "sequential": sequential, "replay": replay })
    );
}
