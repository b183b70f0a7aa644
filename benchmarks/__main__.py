"""`python -m benchmarks` (= `make bench`): the five scale benchmarks, then `benchmarks/results.md`.

    python -m benchmarks [--only N] [--orders 1000000] [--settlement-rows 1000000] [--quick]

1. settlement import of one V2 file vs DuckDB `read_csv` of it (`benchmarks.settlement_import`)
2. full build of a large seller: ingest, settlement files, dbt build + tests + publish; wall time
   per stage and peak RSS (`benchmarks.full_build`)
3. the incremental day on top of it, as a fraction of the full build (same run as 2)
4. push throughput vs concurrency / latency (`benchmarks.push_throughput`)
5. orders freshness, order created -> sales order in NetSuite (`benchmarks.freshness`)

Every figure is compared with a baseline measured in the same run and a target; a missed target
prints MISSED with the figure. `--quick` runs every benchmark at a small scale (a smoke test: a few
minutes, dominated by dbt's start-up and the SP-API's two-minute listing delay in 5).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results.md"


class Tee(io.TextIOBase):
    """Print and keep what a benchmark prints (the existing ones report by printing)."""

    def __init__(self) -> None:
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        sys.__stdout__.write(text)
        sys.__stdout__.flush()
        return self.kept.write(text)


def captured(func, *args: Any) -> tuple[Any, str]:
    tee = Tee()
    with contextlib.redirect_stdout(tee):
        value = func(*args)
    return value, tee.kept.getvalue()


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISSED")


# -- the benchmarks --------------------------------------------------------------------------------


def bench_settlement_import(rows: int, repeat: int) -> list[dict]:
    from benchmarks import settlement_import

    _, out = captured(settlement_import.main, ["--rows", str(rows), "--repeat", str(repeat)])
    rate = {}
    for label in ("read_csv → arrow", "read_csv → table", "parse_settlement_file", "import"):
        match = re.search(rf"^{re.escape(label)}.*?([\d.]+) s\s+([\d,]+) rows/s", out, re.M)
        if match:
            rate[label] = int(match.group(2).replace(",", ""))
    imp, table, arrow = rate.get("import"), rate.get("read_csv → table"), rate.get("read_csv → arrow")
    if not (imp and table):
        return [row("1. settlement import", "not measured", "", None, "≥ 0.5×", None, out[-300:])]
    printed = re.search(r"^import / read_csv → table.*?: ([\d.]+)×", out, re.M)
    # The benchmark's own ratio: the median over rounds of import / read_csv paired within each round.
    ratio = float(printed.group(1)) if printed else imp / table
    note = (
        f"{rows:,}-row V2 file; {repeat} rounds; read_csv → arrow (in memory) {arrow:,} rows/s; "
        "ratio as `benchmarks.settlement_import` prints it (median of per-round ratios)"
    )
    return [
        row(
            "1. settlement import (`load_settlements`)",
            f"{imp:,} rows/s",
            f"DuckDB read_csv → table {table:,} rows/s",
            ratio,
            "≥ 0.5×",
            ratio >= settlement_import.TARGET,
            note,
        )
    ]


def bench_full_build(orders: int, workdir: Path, fetch_cap: int) -> list[dict]:
    from benchmarks import full_build

    results = full_build.run(orders, workdir, fetch_cap=fetch_cap)
    stages = results["stages"]
    data = results["data"]
    per_stage = "; ".join(
        f"{name} {s['wall_s']:.0f} s ({_steps(s)}; peak {s['peak_tree_rss'] / 2**30:.2f} GiB)"
        for name, s in stages.items()
    )
    ratios = results["ratios"]
    baselines = ", ".join(f"{k} {v:.3f}" for k, v in ratios.items() if v is not None)
    scale = (
        f"{orders:,} orders + {data['settlement_rows']:,} settlement rows ({data['settlement_files']} files); "
        f"SP-API sandbox rate limits {data.get('sandbox_rate_limits', '?')}"
    )
    errors = "; ".join(results["errors"])[:400]
    minutes = results["full_s"] / 60
    gib = results["peak_rss"] / 2**30
    fraction = results["fraction"]
    day = "; ".join(f"{n} {s['wall_s']:.0f} s ({_steps(s)})" for n, s in results["day"].items())
    idle = "; ".join(f"{n} {s['wall_s']:.1f} s" for n, s in results.get("idle", {}).items())
    return [
        row(
            "2a. full build wall time",
            f"{minutes:.1f} min",
            f"DuckDB baseline/stage: {baselines}",
            None,
            "≤ 10 min",
            minutes <= full_build.TARGETS["build_minutes"],
            f"{scale}. {per_stage}" + (f". ERRORS: {errors}" if errors else ""),
        ),
        row(
            "2b. full build peak RSS",
            f"{gib:.2f} GiB",
            "",
            None,
            "≤ 4 GiB",
            gib <= full_build.TARGETS["peak_rss_gib"],
            "sum of the stage's process tree (stage + dbt), sampled every 0.2 s",
        ),
        row(
            "3. incremental day",
            f"{results['day_s']:.0f} s",
            f"full build {results['full_s']:.0f} s",
            fraction,
            "≤ 5%",
            None if fraction is None else fraction <= full_build.TARGETS["incremental_fraction"],
            f"{data['day_orders']:,} new orders + 1 settlement: {day}"
            + (
                f". The same stages again with nothing new: {results['idle_s']:.0f} s ({idle})"
                if results.get("idle_s")
                else ""
            ),
        ),
    ]


def _steps(stage: dict) -> str:
    return ", ".join(f"{k} {v:.0f} s" for k, v in stage.get("steps", {}).items())


def bench_push(records: int, latency_ms: float, concurrency: int) -> list[dict]:
    from benchmarks import push_throughput

    ratio, out = captured(push_throughput.run, records, latency_ms, concurrency)
    rate = re.search(r"= ([\d.]+) records/s", out)
    ideal = concurrency / (latency_ms / 1000)
    return [
        row(
            "4. push throughput",
            f"{rate.group(1) if rate else '?'} records/s",
            f"C/L = {concurrency}/{latency_ms:g} ms = {ideal:.0f}/s",
            ratio,
            "≥ 0.8",
            ratio >= push_throughput.TARGET,
            f"{records} upserts through `reverse_etl.sync.push`",
        )
    ]


def bench_freshness(orders: int, seller_orders: int, max_cycles: int, workdir: Path) -> list[dict]:
    from benchmarks import freshness

    result = freshness.run(orders, seller_orders, max_cycles, workdir)
    median = result["median_s"]
    return [
        row(
            "5. orders freshness (median)",
            "never" if median is None else f"{median:.0f} s",
            "SP-API floor 120 s (orders listed 2 min after update)",
            None if median is None else median / 120,
            "(no target set)",
            None,
            f"{result['seen']}/{result['created']} orders; Dagster daemon, orders_schedule "
            f"'{result['cadence']}', median orders_job run {result['cycle_s'] or 0:.0f} s"
            + (f"; errors: {'; '.join(result['errors'])[:200]}" if result["errors"] else ""),
        )
    ]


def row(name, figure, baseline, ratio, target, ok, note) -> dict:
    return {
        "name": name,
        "figure": figure,
        "baseline": baseline,
        "ratio": "" if ratio is None else (f"{ratio:.1%}" if "%" in target else f"{ratio:.2f}"),
        "target": target,
        "verdict": verdict(ok),
        "note": note,
    }


# -- the report ------------------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        ram = f"{kib / 2**20:.1f} GiB"

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    load = os.getloadavg()
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {ram}; load average at the end {load[0]:.1f}",
        f"- {platform.system()} {platform.release()}; Python {platform.python_version()}",
        "- duckdb {}, dlt {}, dbt-core {}, dbt-duckdb {}, dagster {}".format(
            *(version(n) for n in ("duckdb", "dlt", "dbt-core", "dbt-duckdb", "dagster"))
        ),
    ]


def write_results(rows: list[dict], args: argparse.Namespace, elapsed: float) -> None:
    target = args.results
    lines = [
        "# LedgerBridge benchmarks",
        "",
        f"Written by `python -m benchmarks {' '.join(sys.argv[1:])}`".rstrip()
        + f" in {elapsed / 60:.1f} min.",
        "Ratios compare with baselines measured in the same run, on the same machine.",
        "",
        *machine(),
        "",
        "| benchmark | figure | baseline | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['figure']} | {r['baseline']} | {r['ratio']} | {r['target']} | {r['verdict']} |"
        )
    lines += ["", "## Details", ""]
    for r in rows:
        lines.append(f"- **{r['name']}**: {r['note']}")
    notes = Path(__file__).resolve().parent / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    target.write_text("\n".join(lines) + "\n")
    print(f"wrote {target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", type=int, action="append", choices=range(1, 6), help="run benchmark N (repeatable)"
    )
    parser.add_argument("--orders", type=int, help="orders in the large seller's year (default 1,000,000)")
    parser.add_argument("--settlement-rows", type=int, help="rows of benchmark 1's file (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="small scale smoke run of every benchmark")
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the markdown report")
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    quick = args.quick
    orders = args.orders or (2_000 if quick else 1_000_000)
    rows_1 = args.settlement_rows or (50_000 if quick else 1_000_000)
    only = set(args.only or range(1, 6))
    started = time.perf_counter()
    rows: list[dict] = []
    workdir = args.workdir.resolve()
    if 1 in only:
        print("== 1. settlement import", flush=True)
        rows += bench_settlement_import(rows_1, 1 if quick else 5)
    if only & {2, 3}:
        print("== 2./3. full build and incremental day", flush=True)
        rows += bench_full_build(orders, workdir / "full_build", 5_000 if quick else 100_000)
    if 4 in only:
        print("== 4. push throughput", flush=True)
        rows += bench_push(100 if quick else 500, 50.0, 5)
    if 5 in only:
        print("== 5. orders freshness", flush=True)
        rows += bench_freshness(
            2 if quick else 5, 50 if quick else 200, 4 if quick else 8, workdir / "freshness"
        )
    elapsed = time.perf_counter() - started
    print()
    for r in rows:
        print(
            f"{r['name']}: {r['figure']} (baseline {r['baseline'] or '-'}; ratio {r['ratio'] or '-'}; target {r['target']}) {r['verdict']}"
        )
    write_results(rows, args, elapsed)
    return 0 if all(r["verdict"] != "MISSED" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
