"""Orders freshness: an order created in the SP-API sandbox -> its sales order in the NetSuite sandbox.

    python -m benchmarks.freshness [--orders 5] [--seller-orders 200] [--max-cycles 8]

What runs: the sandboxes of `benchmarks.large_seller` (the small demo seller plus `--seller-orders`
generated ones) in their own process; then pipeline cycles back to back, each in its own process —
orders ingest (`run_amazon(steps=("orders",))`), `run_build` (dbt build + tests, Great Expectations,
publish), `reverse_etl.sync.push` — which is what the Dagster `orders_job` materialises, run with
no wait between ticks. The first cycle loads and pushes the whole seller (not measured). Then
`--orders` new merchant-fulfilled orders are created in the SP-API sandbox, spread over the next
cycle; after each cycle the NetSuite sandbox is asked for `salesOrder/eid:amz-so-<order_id>`.
Freshness = time the sales order was first seen - time the order was created. The SP-API lists an
order only two minutes after its last update (the documented `lastUpdatedBefore` rule), so two
minutes is the floor. The `orders_schedule` cron (every 15 minutes) adds on average 7.5 minutes
of waiting for the next tick; that is printed apart, not measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import full_build as fb

SCHEDULE_MINUTES = 15


def stage_cycle(workdir: Path, timer: fb.Timer) -> dict[str, Any]:
    """One orders cycle: ingest orders, build + publish, push."""
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


def run(n_orders: int, seller_orders: int, max_cycles: int, workdir: Path, progress=print) -> dict[str, Any]:
    from benchmarks.large_seller import Plan, write_year
    from ingestion.netsuite.client import NetSuiteClient

    subprocess_rm(workdir)
    workdir.mkdir(parents=True)
    plan = Plan(7, seller_orders, datetime.now(UTC).replace(microsecond=0).isoformat(), str(workdir))
    plan.save()
    write_year(plan, workers=1)
    log = workdir / "benchmark.log"
    sandbox = fb.SandboxProcess(workdir / "plan.json", log)
    created: dict[str, float] = {}
    seen: dict[str, float] = {}
    cycles: list[dict] = []
    try:
        env = fb.stage_env(workdir, sandbox.env)
        client = NetSuiteClient.from_env({k: v for k, v in env.items() if k.startswith("NETSUITE_")})

        def cycle() -> dict:
            result = fb.run_measured(
                ["-m", "benchmarks.full_build", "--stage", "freshness_cycle", "--workdir", str(workdir)],
                env,
                log,
            )
            cycles.append(result)
            now = time.time()
            for order_id in created:
                if order_id not in seen and client.find_by_external_id("salesOrder", f"amz-so-{order_id}"):
                    seen[order_id] = now
            progress(
                f"freshness: cycle {len(cycles)}: {result['wall_s']:.0f} s ({result.get('push', '')}); "
                f"{len(seen)}/{len(created)} new orders in NetSuite"
                + (f" ERROR {result['error']}" if result.get("error") else "")
            )
            return result

        cycle()  # the initial load and push of the whole seller

        def create_orders() -> None:
            for n in range(n_orders):
                ids = sandbox.command("add_orders 1")["order_ids"]
                created[ids[0]] = time.time()
                if n < n_orders - 1:
                    time.sleep(15)

        creator = threading.Thread(target=create_orders)
        creator.start()
        while len(cycles) < max_cycles + 1 and (creator.is_alive() or len(seen) < len(created)):
            cycle()
        creator.join()
    finally:
        sandbox.stop()
    delays = sorted(seen[o] - created[o] for o in seen)
    median = statistics.median(delays) if delays else None
    measured_cycles = [c["wall_s"] for c in cycles[1:]]
    result = {
        "created": len(created),
        "seen": len(seen),
        "delays_s": delays,
        "median_s": median,
        "cycle_s": statistics.median(measured_cycles) if measured_cycles else None,
        "cycles": len(cycles),
        "errors": [c["error"] for c in cycles if c.get("error")],
    }
    if median is None:
        progress(
            f"freshness: none of {len(created)} new orders reached NetSuite in {len(cycles) - 1} cycles MISSED"
        )
    else:
        progress(
            f"freshness: median {median:.0f} s from order created to sales order in NetSuite "
            f"({len(seen)}/{len(created)} orders; cycles back to back, median cycle {result['cycle_s']:.0f} s); "
            f"with the {SCHEDULE_MINUTES}-minute orders_schedule add ~{SCHEDULE_MINUTES * 30:.0f} s on average"
        )
    (workdir / "freshness.json").write_text(json.dumps(result, indent=2))
    return result


def subprocess_rm(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.freshness", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--seller-orders", type=int, default=200)
    parser.add_argument("--max-cycles", type=int, default=8)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench/freshness"))
    args = parser.parse_args(argv)
    result = run(args.orders, args.seller_orders, args.max_cycles, args.workdir.resolve())
    return 0 if result["median_s"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
