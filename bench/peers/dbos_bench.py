"""DBOS Transact as a benchmark peer: the sequential and replay workloads.

Run by `cargo xtask bench` with the pinned `dbos` (see requirements-dbos.txt)
in target/bench/venv, on a fresh database of the local Postgres:

    python dbos_bench.py --url postgresql://postgres@127.0.0.1:5432/DB \
        --steps 500 --replay 1000

Prints one JSON object on stdout. Per-step latency is the time between
consecutive step returns inside the workflow, like the Rust side; the raw
single-row INSERT + COMMIT on the same database is measured in the same run
with psycopg, interleaved (half before, half after). The replay equivalent
is `DBOS.fork_workflow` from the step after the last one: the fork copies the
recorded step outputs and runs the workflow again, every step returning its
recorded output without running.
"""

import argparse
import json
import statistics
import sys
import time
import uuid

import psycopg
from dbos import DBOS, DBOSConfig, SetWorkflowID

STEP_RETURNS: list[float] = []


@DBOS.step()
def tiny(i: int) -> int:
    return i


@DBOS.workflow()
def sequential(n: int) -> int:
    total = 0
    STEP_RETURNS.append(time.perf_counter())
    for i in range(n):
        total += tiny(i)
        STEP_RETURNS.append(time.perf_counter())
    return total


def summary(samples_s: list[float]) -> dict:
    micros = sorted(s * 1e6 for s in samples_s)
    if not micros:
        return {"samples": 0, "median_us": 0.0, "p99_us": 0.0, "mean_us": 0.0}
    rank = max(1, min(len(micros), -(-99 * len(micros) // 100)))
    return {
        "samples": len(micros),
        "median_us": statistics.median_low(micros),
        "p99_us": micros[rank - 1],
        "mean_us": statistics.fmean(micros),
    }


def raw_commits(url: str, count: int) -> list[float]:
    samples = []
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)"
        )
        conn.commit()
        for _ in range(count):
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_raw (payload) VALUES (%s)", ('{"step":1,"result":"42"}',))
            conn.commit()
            samples.append(time.perf_counter() - started)
    return samples


def run_sequential(url: str, steps: int) -> dict:
    sequential(5)  # warm up
    raw = raw_commits(url, steps // 2)
    STEP_RETURNS.clear()
    started = time.perf_counter()
    with SetWorkflowID(f"seq-{uuid.uuid4()}"):
        sequential(steps)
    total = time.perf_counter() - started
    stamps = list(STEP_RETURNS)
    raw += raw_commits(url, steps - steps // 2)
    step = summary([b - a for a, b in zip(stamps, stamps[1:])])
    raw_summary = summary(raw)
    return {
        "steps": steps,
        "total_ms": total * 1e3,
        "step": step,
        "raw_commit": raw_summary,
        "ratio_median": step["median_us"] / raw_summary["median_us"] if raw_summary["median_us"] else None,
    }


def run_replay(steps: int) -> dict:
    workflow_id = f"replay-{uuid.uuid4()}"
    started = time.perf_counter()
    with SetWorkflowID(workflow_id):
        sequential(steps)
    record = time.perf_counter() - started
    steps_recorded = DBOS.list_workflow_steps(workflow_id)
    last = max(s["function_id"] for s in steps_recorded)
    started = time.perf_counter()
    handle = DBOS.fork_workflow(workflow_id, last + 1)
    handle.get_result()
    replay = time.perf_counter() - started
    forked_steps = DBOS.list_workflow_steps(handle.get_workflow_id())
    return {
        "steps": steps,
        "record_ms": record * 1e3,
        "replay_ms": replay * 1e3,
        "replay_per_step_us": replay * 1e6 / steps,
        "forked_step_rows": len(forked_steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--replay", type=int, default=1000)
    args = parser.parse_args()

    from importlib.metadata import version

    config: DBOSConfig = {"name": "durable-bench", "system_database_url": args.url}
    DBOS(config=config)
    DBOS.launch()
    out = {"sdk": f"dbos {version('dbos')}"}
    try:
        out["sequential"] = run_sequential(args.url, args.steps)
    except Exception as error:  # reported, never invented
        out["sequential"] = {"error": f"{type(error).__name__}: {error}"}
    try:
        out["replay"] = run_replay(args.replay)
    except Exception as error:
        out["replay"] = {"error": f"{type(error).__name__}: {error}"}
    DBOS.destroy()
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
