//! The tables: Markdown, printed at the end of a run and written beside
//! `results.json` (`results.md`), ready for docs/performance.md.

use std::fmt::Write as _;

use crate::results::Results;

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |r| format!("{r:.2}×"))
}

fn us(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} ms", v / 1e3)
    } else if v >= 1_000.0 {
        format!("{:.2} ms", v / 1e3)
    } else {
        format!("{v:.1} µs")
    }
}

fn opt_us(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), us)
}

/// The whole report.
pub fn markdown(results: &Results) -> String {
    let mut out = String::new();
    let env = &results.environment;
    let _ = writeln!(
        out,
        "Run {} on {} ({} cores){}.\n",
        env.started_at,
        env.cpu,
        env.cores,
        if env.quick { ", --quick" } else { "" }
    );
    sequential(&mut out, results);
    throughput(&mut out, results);
    replay(&mut out, results);
    peers(&mut out, results);
    writes(&mut out, results);
    memory(&mut out, results);
    if !results.failures.is_empty() {
        let _ = writeln!(out, "**Failed workloads**\n");
        for failure in &results.failures {
            let _ = writeln!(out, "- {failure}");
        }
        out.push('\n');
    }
    out
}

fn sequential(out: &mut String, results: &Results) {
    if results.sequential.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**1. Sequential steps** (one workflow, one invocation)\n\n\
         | Backend | Steps | Step median | Step p99 | Raw commit median | Raw commit p99 | Ratio median | Ratio p99 | Commits/step |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in &results.sequential {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | **{}** | {} | {:.3} |",
            r.backend.label(),
            r.steps,
            us(r.step.median_us),
            us(r.step.p99_us),
            us(r.raw_commit.median_us),
            us(r.raw_commit.p99_us),
            ratio(r.ratio_median),
            ratio(r.ratio_p99),
            r.commits_per_step
        );
    }
    out.push('\n');
}

fn throughput(out: &mut String, results: &Results) {
    if results.throughput.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**2. Concurrent throughput** (a worker; raw: {}-row INSERT + COMMIT transactions, as many as steps, same concurrency)\n\n\
         | Backend | Workflows × steps | In flight | Steps/s | Raw commits/s | Ratio | Commits/step | Lease writes/step |\n\
         |---|---|---:|---:|---:|---:|---:|---:|",
        crate::throughput::ROWS_PER_STEP_COMMIT
    );
    for r in &results.throughput {
        let _ = writeln!(
            out,
            "| {} | {} × {} | {} | {:.0} | {:.0} | **{}** | {:.3} | {:.3} |",
            r.backend.label(),
            r.shape.workflows,
            r.shape.steps,
            r.shape.in_flight,
            r.steps_per_sec,
            r.raw_commits_per_sec,
            ratio(r.ratio),
            r.commits_per_step,
            r.lease_writes_per_step
        );
    }
    out.push('\n');
}

fn replay(out: &mut String, results: &Results) {
    if results.replay.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**3. Replay** (in memory; the second invocation replays every recorded step)\n\n\
         | Recorded steps | Record | Replay | Replay per step |\n|---:|---:|---:|---:|"
    );
    for r in &results.replay {
        let _ = writeln!(
            out,
            "| {} | {:.1} ms | {:.1} ms | {} |",
            r.steps,
            r.record_ms,
            r.replay_ms,
            us(r.replay_per_step_us)
        );
    }
    out.push('\n');
}

fn peers(out: &mut String, results: &Results) {
    let p = &results.peers;
    let _ = writeln!(
        out,
        "**4. Peers** (same machine, same run)\n\n\
         | Workload | Ours | Peer | Peer / ours | Note |\n|---|---:|---:|---:|---|"
    );
    let ours_mem = p.ours_in_memory.as_ref().map(|r| r.per_step_us);
    let aws_seq = p.aws_rust.number("/sequential/per_step_us");
    let _ = writeln!(
        out,
        "| Sequential, in memory, per step: AWS Rust preview `LocalRunner` | {} | {} | {} | {} |",
        opt_us(ours_mem),
        opt_us(aws_seq),
        ratio(p.aws_ratio),
        p.aws_rust
            .problem("/sequential/error")
            .unwrap_or_else(|| "single page of state (its fastest mode)".into())
    );
    for (i, ours) in results.replay.iter().enumerate() {
        let peer = p
            .aws_rust
            .number(&format!("/replay/{i}/replay_per_step_us"));
        let note = p
            .aws_rust
            .problem(&format!("/replay/{i}/skipped"))
            .or_else(|| p.aws_rust.problem(&format!("/replay/{i}/error")))
            .unwrap_or_else(|| "peer: (steps + wait) − (steps) run times".into());
        let _ = writeln!(
            out,
            "| Replay {} steps, per step: AWS Rust preview | {} | {} | {} | {} |",
            ours.steps,
            us(ours.replay_per_step_us),
            opt_us(peer),
            ratio(peer.and_then(|v| crate::stats::ratio(v, ours.replay_per_step_us))),
            note
        );
    }
    let ours_pg = results
        .sequential
        .iter()
        .find(|r| r.backend == crate::database::Backend::Postgres)
        .map(|r| r.step.median_us);
    let dbos_seq = p.dbos.number("/sequential/step/median_us");
    let _ = writeln!(
        out,
        "| Sequential on Postgres, step median: DBOS Transact | {} | {} | {} | {} |",
        opt_us(ours_pg),
        opt_us(dbos_seq),
        ratio(p.dbos_vs_ours),
        p.dbos
            .problem("/sequential/error")
            .unwrap_or_else(|| format!(
                "DBOS step / its raw commit: {}",
                ratio(p.dbos_ratio_median)
            ))
    );
    let dbos_replay_steps = p.dbos.number("/replay/steps");
    let dbos_replay = p.dbos.number("/replay/replay_per_step_us");
    let _ = writeln!(
        out,
        "| Replay on Postgres, per step: DBOS `fork_workflow` | n/a (ours replays in memory) | {} | n/a | {} |",
        opt_us(dbos_replay),
        p.dbos.problem("/replay/error").unwrap_or_else(|| format!(
            "{} recorded steps; includes copying the step outputs",
            dbos_replay_steps.unwrap_or_default()
        ))
    );
    out.push('\n');
}

fn writes(out: &mut String, results: &Results) {
    if results.writes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**5. Checkpoint writes per step**\n\n| Path | Writes/step | Unit | Counted in |\n|---|---:|---|---|"
    );
    for w in &results.writes {
        let _ = writeln!(
            out,
            "| {} | {:.3} | {} | {} |",
            w.path, w.per_step, w.unit, w.counted_in
        );
    }
    out.push('\n');
}

fn memory(out: &mut String, results: &Results) {
    let _ = writeln!(out, "**6. Worker memory**\n");
    match &results.memory {
        Ok(m) => {
            let _ = writeln!(
                out,
                "| Backend | Suspended | Running | Idle peak RSS | Peak RSS (VmHWM) | RSS then |\n|---|---:|---:|---:|---:|---:|\n\
                 | {} | {} | {} | {:.1} MiB | **{:.1} MiB** | {:.1} MiB |\n",
                m.backend,
                m.suspended,
                m.running,
                kib_to_mib(m.idle_hwm_kib),
                kib_to_mib(m.peak_hwm_kib),
                kib_to_mib(m.rss_kib)
            );
        }
        Err(reason) => {
            let _ = writeln!(out, "Not measured: {reason}\n");
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
