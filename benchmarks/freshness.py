"""Orders freshness: an order created in the SP-API sandbox -> its sales order in the NetSuite sandbox.

    python -m benchmarks.freshness [--orders 5] [--seller-orders 200] [--max-cycles 8]
                                   [--cron "* * * * *"] [--spacing 37]

What runs is what a seller runs: the Dagster daemon over the project's own definitions
(`dagster-daemon run -w workspace.yaml`, a fresh DAGSTER_HOME with `orchestration/dagster.yaml`)
with `orders_schedule` started (`dagster schedule start`) on the cadence `--cron`, given to it as
`LEDGERBRIDGE_ORDERS_CRON`. Each tick launches `orders_job` (orders ingest -> dbt build + tests ->
Great Expectations -> publish -> push, the push gated on the build) in its own process, unless
the previous run is unfinished (then the tick is skipped).

1. Setup, not measured: the sandboxes of `benchmarks.large_seller` (the small demo seller plus
   `--seller-orders` generated ones) in their own process; the initial load and push of the whole
   seller (`stage_cycle`, in its own process); the daemon starts and its first `orders_job` run ends.
2. `--orders` new merchant-fulfilled orders are created in the SP-API sandbox, `--spacing` seconds
   apart (not a divisor of 60, so they land at different points of the tick); every 2 s the NetSuite
   sandbox is asked for `salesOrder/eid:amz-so-<order_id>`.
3. Freshness = time the sales order was first seen - time the order was created. Broken down with the
   Dagster run records: the SP-API lists an order only two minutes after its last update (the
   documented `lastUpdatedBefore` rule: the floor), then the wait for the tick of the run that picked
   it up, that run's start-up (queue, launch, loading the code location) until its ingest step
   started, and the run itself from its ingest step to the sales order in NetSuite.
4. The schedule is left to its last run, then the daemon is stopped (SIGTERM) and its process
   session checked for leftovers (killed and reported, if any).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import full_build as fb

ROOT = fb.ROOT
BIN = Path(sys.executable).parent
JOB = "orders_job"
SCHEDULE = "orders_schedule"
DEFAULT_CRON = "* * * * *"
LISTING_FLOOR_S = 120  # SP-API: an order is listed two minutes after its last update
POLL_S = 2.0


def stage_cycle(workdir: Path, timer: fb.Timer) -> dict[str, Any]:
    """The initial load before the daemon starts: everything ingested, built, published and pushed."""
    from ingestion.config import warehouse_path
    from ingestion.pipelines import run_amazon, run_netsuite
    from orchestration import build
    from orchestration.cli import CommandError
    from reverse_etl.sync import push

    errors: list[str] = []
    first = not warehouse_path().exists()
    with timer.step("ingest orders"):
        report = run_amazon(progress=fb._log, **({} if first else {"steps": ("orders",)}))
        errors += report.errors
        if first:  # the NetSuite account (items, customers, accounts) the sync models map to
            errors += run_netsuite(progress=fb._log).errors
    with timer.step("build + publish"):
        try:
            build.run_build(None, fb._log)
        except CommandError as exc:
            errors.append(f"build blocked: {exc}")
    with timer.step("push"):
        summary = push(progress=fb._log)
    return {"errors": errors, "push": summary.line(), "rows": report.rows}


# -- the Dagster daemon ------------------------------------------------------------------------------


class Daemon:
    """`dagster-daemon run` over the project's workspace, in its own process session."""

    def __init__(self, home: Path, env: dict[str, str], log: Path) -> None:
        self.log = log.open("a")
        self.process = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its code server and run workers share this session id
        )

    def stop(self, timeout: float = 90) -> list[str]:
        """SIGTERM, wait; then whatever is left in its session is killed and named."""
        sid = self.process.pid
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        leftovers = _session(sid)
        deadline = time.time() + 30
        while leftovers and time.time() < deadline:  # a code server shutting down after its parent
            time.sleep(1)
            leftovers = _session(sid)
        named = [f"{pid} {cmd}"[:160] for pid, cmd in leftovers]
        for pid, _ in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.log.close()
        return named


def _session(sid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live process in session `sid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                pid = int(stat.parent.name)
                cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
                found.append((pid, cmd))
    return found


def dagster_env(env: dict[str, str], home: Path, cron: str) -> dict[str, str]:
    """The benchmark's sandbox env plus DAGSTER_HOME, the venv on PATH (dbt) and the orders cadence."""
    return {
        **env,
        "DAGSTER_HOME": str(home),
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "LEDGERBRIDGE_ORDERS_CRON": cron,
    }


def start_schedule(env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        done = subprocess.run(
            [str(BIN / "dagster"), "schedule", "start", SCHEDULE, "-w", "workspace.yaml"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"dagster schedule start {SCHEDULE} exited {done.returncode} (see {log})")


# -- what the Dagster instance recorded ---------------------------------------------------------------


def run_rows(instance: Any, detail: bool = False) -> list[dict[str, Any]]:
    """Every orders_job run, oldest first: tick, queued, started, ended, status (`detail`: steps, failure)."""
    import dagster as dg
    from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG

    rows = []
    for record in reversed(instance.get_run_records(dg.RunsFilter(job_name=JOB))):
        run = record.dagster_run
        tick = run.tags.get(SCHEDULED_EXECUTION_TIME_TAG)
        steps = {
            s.step_key: (s.start_time, s.end_time)
            for s in (instance.get_run_step_stats(run.run_id) if detail else [])
            if s.start_time is not None
        }
        ingest = [start for key, (start, _) in steps.items() if "amazon_dlt" in key]
        rows.append(
            {
                "run_id": run.run_id,
                "status": run.status.value,
                "tick": datetime.fromisoformat(tick).timestamp() if tick else None,
                "queued": record.create_timestamp.timestamp(),
                "start": record.start_time,
                "end": record.end_time,
                "ingest_start": min(ingest) if ingest else None,
                "steps": steps,
                "failure": _failure(instance, run.run_id)
                if run.status == dg.DagsterRunStatus.FAILURE
                else None,
            }
        )
    return rows


def _failure(instance: Any, run_id: str) -> str:
    """The first failed step and the innermost error's first line (dbt's own reason, not the wrapper)."""
    import dagster as dg

    for event_type in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE):
        for entry in instance.all_logs(run_id, of_type=event_type):
            event = entry.dagster_event
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and error.cause is not None:
                error = error.cause
            reason = error.message.strip().splitlines()[0] if error is not None else event.message or ""
            return f"{event.step_key or 'run'}: {reason}"[:300]
    return "failed (see the run in the Dagster UI)"


def unfinished(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["status"] in ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")]


def breakdown(created: float, seen: float, rows: list[dict]) -> dict[str, Any]:
    """Split one order's delay: listing floor, wait for the tick, run start-up, run up to the push."""
    listable = created + LISTING_FLOOR_S
    started = [r for r in rows if r["ingest_start"] is not None and r["ingest_start"] <= seen]
    if not started:
        return {"total": seen - created}
    run = started[-1]  # the run whose ingest step was the last to start before the sales order appeared
    tick = run["tick"] if run["tick"] is not None else run["queued"]
    return {
        "total": seen - created,
        "run_id": run["run_id"],
        "listing floor": float(LISTING_FLOOR_S),
        "wait for tick": max(0.0, tick - listable),
        "run start-up": run["ingest_start"] - max(tick, listable),
        "run (ingest start -> sales order)": seen - run["ingest_start"],
    }


def run_durations(rows: list[dict]) -> dict[str, float]:
    """Median seconds of each part of the ended runs: tick -> start, start -> ingest, steps, whole run."""
    parts: dict[str, list[float]] = {}

    def add(name: str, value: float | None) -> None:
        if value is not None:
            parts.setdefault(name, []).append(value)

    for r in rows:
        if r["start"] is None or r["end"] is None:
            continue
        tick = r["tick"] if r["tick"] is not None else r["queued"]
        add("tick -> run process started", r["start"] - tick)
        add("run process -> ingest step started", (r["ingest_start"] or r["start"]) - r["start"])
        for key, (start, end) in r["steps"].items():
            add(f"step {key}", (end or r["end"]) - start)
        add("whole run (start -> end)", r["end"] - r["start"])
    return {name: statistics.median(values) for name, values in parts.items()}


# -- the benchmark -----------------------------------------------------------------------------------


def run(
    n_orders: int,
    seller_orders: int,
    max_cycles: int,
    workdir: Path,
    progress=print,
    cron: str = DEFAULT_CRON,
    spacing_s: float = 37.0,
) -> dict[str, Any]:
    """The benchmark. `max_cycles`: at most this many orders_job runs are awaited after the first new order."""
    import dagster as dg

    from benchmarks.large_seller import Plan, write_year
    from ingestion.netsuite.client import NetSuiteClient

    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    plan = Plan(7, seller_orders, datetime.now(UTC).replace(microsecond=0).isoformat(), str(workdir))
    plan.save()
    write_year(plan, workers=1)
    log = workdir / "benchmark.log"
    home = workdir / "dagster_home"
    home.mkdir()
    shutil.copy2(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    progress(f"freshness: cadence: orders_schedule on '{cron}' (LEDGERBRIDGE_ORDERS_CRON), Dagster daemon")
    sandbox = fb.SandboxProcess(workdir / "plan.json", log)
    created: dict[str, float] = {}
    seen: dict[str, float] = {}
    errors: list[str] = []
    daemon: Daemon | None = None
    leftovers: list[str] = []
    rows: list[dict] = []
    before: set[str] = set()
    try:
        env = fb.stage_env(workdir, sandbox.env)
        client = NetSuiteClient.from_env({k: v for k, v in env.items() if k.startswith("NETSUITE_")})
        initial = fb.run_measured(
            ["-m", "benchmarks.full_build", "--stage", "freshness_cycle", "--workdir", str(workdir)], env, log
        )
        progress(
            f"freshness: initial load and push {initial['wall_s']:.0f} s (not measured; {initial.get('push', '')})"
            + (f" ERROR {initial['error']}" if initial.get("error") else "")
        )
        if initial.get("error"):
            errors.append(f"initial load: {initial['error']}")
        denv = dagster_env(env, home, cron)
        start_schedule(denv, log)
        instance = dg.DagsterInstance.from_config(str(home))
        daemon = Daemon(home, denv, workdir / "dagster_daemon.log")
        warm_up = time.time()
        while True:  # the daemon ticks and its first run (start-up, nothing new yet) ends
            rows = run_rows(instance)
            if any(r["end"] for r in rows) and not unfinished(rows):
                break
            if daemon.process.poll() is not None or time.time() - warm_up > 900:
                raise RuntimeError(f"no {JOB} run ended within 15 min (see {workdir / 'dagster_daemon.log'})")
            time.sleep(POLL_S)
        first = run_rows(instance, detail=True)[-1]
        progress(
            f"freshness: daemon up, first {JOB} run {first['status']} after {time.time() - warm_up:.0f} s"
            + (f" ({first['failure']})" if first["failure"] else "")
        )
        before = {r["run_id"] for r in rows}

        def create_orders() -> None:
            for n in range(n_orders):
                [order_id] = sandbox.command("add_orders 1")["order_ids"]
                created[order_id] = time.time()
                progress(f"freshness: created order {order_id}")
                if n < n_orders - 1:
                    time.sleep(spacing_s)

        creator = threading.Thread(target=create_orders)
        creator.start()
        deadline = time.time() + n_orders * spacing_s + LISTING_FLOOR_S + max_cycles * 600
        while creator.is_alive() or len(seen) < len(created):
            now = time.time()
            for order_id in list(created):
                if order_id not in seen and client.find_by_external_id("salesOrder", f"amz-so-{order_id}"):
                    seen[order_id] = now
                    progress(f"freshness: {order_id} in NetSuite after {now - created[order_id]:.0f} s")
            rows = run_rows(instance)
            later = [r for r in rows if r["run_id"] not in before]
            if not creator.is_alive() and len(later) >= max_cycles and not unfinished(later):
                break
            if time.time() > deadline:
                errors.append("time limit reached")
                break
            time.sleep(POLL_S)
        creator.join()
        settle = time.time() + 900
        while time.time() < settle:  # let the last run end, away from the next tick, so none is cut off
            if not unfinished(run_rows(instance)) and 5 < datetime.now(UTC).second < 45:
                break
            time.sleep(1)
    finally:
        if daemon is not None:
            leftovers = daemon.stop()
        sandbox.stop()
    rows = run_rows(instance, detail=True)
    if leftovers:
        errors.append(f"processes left after the daemon stopped (killed): {'; '.join(leftovers)}")
    measured = [r for r in rows if r["run_id"] not in before]
    errors += [f"run {r['run_id'][:8]}: {r['failure']}" for r in rows if r["failure"]]
    delays = sorted(seen[o] - created[o] for o in seen)
    median = statistics.median(delays) if delays else None
    per_order = {o: breakdown(created[o], seen[o], rows) for o in seen}
    parts = ["listing floor", "wait for tick", "run start-up", "run (ingest start -> sales order)"]
    medians = {
        p: statistics.median([b[p] for b in per_order.values() if p in b])
        for p in parts
        if any(p in b for b in per_order.values())
    }
    durations = run_durations(measured)  # not the first run: it also started the code server
    finished = [r["end"] - r["start"] for r in measured if r["start"] and r["end"]]
    result = {
        "cadence": cron,
        "created": len(created),
        "seen": len(seen),
        "delays_s": delays,
        "median_s": median,
        "breakdown_median_s": medians,
        "per_order": per_order,
        "run_parts_median_s": durations,
        "cycle_s": statistics.median(finished) if finished else None,
        "cycles": len(measured),
        "skipped_ticks": _skipped_ticks(instance, since=min(created.values(), default=0.0)),
        "errors": errors,
        "leftover_processes": leftovers,
    }
    for line in report_lines(result):
        progress(line)
    (workdir / "freshness.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def _skipped_ticks(instance: Any, since: float) -> int:
    """orders_schedule ticks skipped (a run was unfinished) from `since` on."""
    from dagster._core.scheduler.instigation import InstigatorType, TickStatus

    skipped = 0
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE):
        if state.instigator_name == SCHEDULE:
            ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1000)
            skipped += sum(1 for t in ticks if t.status == TickStatus.SKIPPED and t.timestamp >= since)
    return skipped


def report_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"freshness: cadence: orders_schedule '{result['cadence']}' through the Dagster daemon"]
    median = result["median_s"]
    if median is None:
        lines.append(f"freshness: none of {result['created']} new orders reached NetSuite MISSED")
    else:
        delays = result["delays_s"]
        lines.append(
            f"freshness: median {median:.0f} s from order created to sales order in NetSuite "
            f"(min {delays[0]:.0f} s, max {delays[-1]:.0f} s; {result['seen']}/{result['created']} orders; "
            f"{result['cycles']} {JOB} runs, median run {result['cycle_s'] or 0:.0f} s, "
            f"{result['skipped_ticks']} ticks skipped while a run was unfinished)"
        )
        lines.append(
            "freshness: median breakdown: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in result["breakdown_median_s"].items())
        )
    if result["run_parts_median_s"]:
        lines.append(
            f"freshness: {JOB} run, median parts: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in result["run_parts_median_s"].items())
        )
    lines += [f"freshness: ERROR {e}" for e in result["errors"]]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.freshness", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--seller-orders", type=int, default=200)
    parser.add_argument("--max-cycles", type=int, default=8, help="orders_job runs to wait through at most")
    parser.add_argument(
        "--cron", default=DEFAULT_CRON, help="orders_schedule cadence (LEDGERBRIDGE_ORDERS_CRON)"
    )
    parser.add_argument("--spacing", type=float, default=37.0, help="seconds between new orders")
    parser.add_argument("--workdir", type=Path, default=Path("data/bench/freshness"))
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    result = run(
        args.orders,
        args.seller_orders,
        args.max_cycles,
        args.workdir.resolve(),
        cron=args.cron,
        spacing_s=args.spacing,
    )
    return 0 if result["median_s"] is not None and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
