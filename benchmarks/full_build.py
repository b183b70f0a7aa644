"""Full build of a large seller, and the incremental day on top of it, against DuckDB baselines.

    python -m benchmarks.full_build [--orders 1000000] [--workdir DIR] [--profile]

1. setup (not timed as LedgerBridge): `benchmarks.large_seller` draws the year's orders and writes
   their V2 settlement files; the sandboxes serve in their own process.
2. full build, each stage in its own process (so its peak memory is LedgerBridge's alone):
   ingest (`run_ingest`, as `ledgerbridge ingest`: `run_amazon` as of the end of the year: orders
   + items, inventory, Reports API settlements; `run_netsuite` beside it), settlement files
   (`load_settlements`), build (`run_build`: dbt build with tests, Great Expectations, publish,
   dbt docs).
3. incremental day: the next day's orders and one new settlement file, the same three stages.
   Then the same three stages once more with nothing new: what a run costs by itself (start-up,
   dbt's per-node work), so the day's own cost is the difference.
4. baselines in the same run: fetching the same order pages with a bare HTTP client and
   `read_json` of them into DuckDB; DuckDB `read_csv` of the same settlement files; one
   `CREATE TABLE AS` copy of every raw table (touching the build's input once).

Peak RSS: the sum of the stage's process tree (the stage and the dbt it starts), sampled from
/proc every 0.2 s, and the kernel's max RSS of any single process (wait4).

Bytecode: stages run with Python's bytecode cache on (`PYTHONPYCACHEPREFIX=<workdir>/pycache`,
warmed during setup), as an installed package has its .pyc files. Without it (this machine sets
PYTHONDONTWRITEBYTECODE=1) every stage and every dbt call recompiles dlt, dbt and Dagster from
source: 2-3 s of CPU a process, more than ten seconds of wall time on a busy machine.
The SP-API sandbox serves without rate limits (`benchmarks.large_seller.RATE_LIMIT_SCALE`; why:
that module's docstring); the benchmark prints the setting.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"build_minutes": 10.0, "peak_rss_gib": 4.0, "incremental_fraction": 0.05}
RESULT_MARK = "BENCH-RESULT "


# -- process-tree memory -----------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def tree_rss(pid: int) -> int:
    """Bytes resident in `pid` and all its descendants now."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, ValueError):
            fields = Path(f"/proc/{current}/statm").read_text().split()
            total += int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
            todo += _children(current)
    return total


def run_measured(args: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run a stage process; return its JSON result plus wall time and peak memory."""
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n=== {' '.join(args)} ({datetime.now(UTC):%H:%M:%S} UTC)\n")
        out.flush()
        process = subprocess.Popen(
            [sys.executable, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=out, text=True
        )
        peak = [0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                peak[0] = max(peak[0], tree_rss(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
        out.write(stdout)
    result: dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
    result.update(
        wall_s=time.perf_counter() - started,
        peak_tree_rss=peak[0],
        max_process_rss=usage.ru_maxrss * 1024,
        exit_code=process.returncode,
    )
    if process.returncode != 0 and "error" not in result:
        result["error"] = f"stage exited {process.returncode} (see {log})"
    return result


# -- stages (run in their own process: `python -m benchmarks.full_build --stage NAME`) ---------------


class Timer:
    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = self.steps.get(name, 0.0) + time.perf_counter() - started

    def wrap(self, module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.step(label):
                return original(*args, **kwargs)

        setattr(module, name, timed)


def _isolate_dbt(workdir: Path) -> None:
    """dbt writes target/ and logs/ into a folder of this benchmark, not the shared project's."""
    from orchestration import dbt_cli

    target = workdir / "dbt_target"
    os.environ["DBT_TARGET_PATH"] = str(target)
    os.environ["DBT_LOG_PATH"] = str(workdir / "dbt_logs")
    dbt_cli.TARGET_DIR, dbt_cli.MANIFEST = target, target / "manifest.json"
    dbt_cli.read_run_results.__defaults__ = (target,)


def stage_ingest(plan: Any, timer: Timer, as_of: datetime | None) -> dict[str, Any]:
    from ingestion.pipelines import run_ingest

    rows: dict[str, int] = {}
    errors: list[str] = []
    results = run_ingest(progress=_log, now=as_of)  # what `ledgerbridge ingest` runs: both at once
    labels = {"amazon": "amazon (orders, inventory, settlement reports)", "netsuite": "netsuite (SuiteQL)"}
    for name, report in results.items():
        if isinstance(report, Exception):
            raise report
        timer.steps[labels[name]] = report.seconds  # they overlap: the stage's wall time is less
        rows.update({f"{name}.{k}": v for k, v in report.rows.items()})
        errors += report.errors
    return {"rows": rows, "errors": errors}


def stage_import(folder: Path, timer: Timer) -> dict[str, Any]:
    from ingestion.amazon.settlements import load_settlements

    files = sorted(folder.glob("*.txt"))
    with timer.step("load_settlements"):
        result = load_settlements([(p.name, p) for p in files], progress=_log)
    lines = sum(o.settlement.line_count for o in result.outcomes if o.settlement is not None)
    errors = [o.describe() for o in result.rejected]
    return {"files": len(files), "lines": lines, "summary": result.summary(), "errors": errors}


def stage_build(workdir: Path, timer: Timer) -> dict[str, Any]:
    from orchestration import build, dbt_cli, publish, quality
    from orchestration.cli import CommandError

    timer.wrap(dbt_cli, "ensure_manifest", "dbt parse")
    timer.wrap(dbt_cli, "run_dbt", "dbt build")  # (docs generate also calls run_dbt: timed apart below)
    timer.wrap(quality, "validate_tables", "great expectations")
    timer.wrap(publish, "publish", "publish")
    timer.wrap(dbt_cli, "generate_docs", "dbt docs")
    errors: list[str] = []
    try:
        build.run_build(None, _log)
    except CommandError as exc:
        errors.append(f"build blocked: {exc}")
        with timer.step("publish (forced after a blocked build)"):
            publish.publish()
    if "dbt docs" in timer.steps:  # docs generate ran dbt too: keep "dbt build" to the build itself
        timer.steps["dbt build"] -= timer.steps["dbt docs"]
    results = dbt_cli.read_run_results()
    slowest = sorted(_node_times(workdir / "dbt_target"), key=lambda n: -n[1])[:8]
    failing = [f"{r.name} ({r.status})" for r in results if r.blocks]
    return {"errors": errors, "dbt_slowest": slowest, "dbt_blocking": failing[:10]}


def _node_times(target: Path) -> list[tuple[str, float]]:
    path = target / "run_results.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    return [(r["unique_id"], round(r.get("execution_time") or 0.0, 2)) for r in data.get("results", [])]


def stage_baseline_orders(plan: Any, workdir: Path, timer: Timer, as_of: datetime) -> dict[str, Any]:
    """The same searchOrders pages with a bare HTTP client, then DuckDB `read_json` of them."""
    import duckdb
    import httpx

    from ingestion.amazon.settings import MARKETPLACE_IDS, AmazonSettings

    settings = AmazonSettings.from_env()
    pages = workdir / "orders.ndjson"
    orders = 0
    with timer.step("fetch pages (bare httpx)"), httpx.Client(timeout=60) as http, pages.open("wb") as out:
        token = http.post(
            f"{settings.lwa_url}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": settings.refresh_token,
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
            },
        ).json()["access_token"]
        headers = {"x-amz-access-token": token}
        params: dict[str, Any] = {
            "lastUpdatedAfter": "2000-01-01T00:00:00Z",
            "lastUpdatedBefore": (as_of.replace(microsecond=0) - _two_minutes()).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "marketplaceIds": ",".join(MARKETPLACE_IDS.values()),
            "includedData": "PROCEEDS,FULFILLMENT,RECIPIENT",
            "maxResultsPerPage": 100,
        }
        while True:
            response = http.get(
                f"{settings.sp_api_url}/orders/2026-01-01/orders", params=params, headers=headers
            )
            response.raise_for_status()
            out.write(response.content.replace(b"\n", b" ") + b"\n")
            body = response.json()
            orders += len(body.get("orders") or [])
            if orders >= int(os.environ.get("LEDGERBRIDGE_BENCH_FETCH_CAP") or 10**12):
                break
            next_token = (body.get("pagination") or {}).get("nextToken")
            if not next_token:
                break
            params = {"paginationToken": next_token}
    target = workdir / "baseline_orders.duckdb"
    target.unlink(missing_ok=True)
    with timer.step("read_json into DuckDB"):
        con = duckdb.connect(str(target))
        con.execute(
            f"create table orders as select unnest(orders, max_depth := 2) from read_json('{pages}', "
            "format='newline_delimited', maximum_object_size=100000000)"
        )
        loaded = con.execute("select count(*) from orders").fetchone()[0]
        con.close()
    return {"orders": orders, "loaded": loaded}


def _two_minutes():
    from datetime import timedelta

    return timedelta(minutes=2)


def stage_baseline_csv(folder: Path, workdir: Path, timer: Timer) -> dict[str, Any]:
    import duckdb

    target = workdir / "baseline_csv.duckdb"
    target.unlink(missing_ok=True)
    with timer.step("read_csv into DuckDB"):
        con = duckdb.connect(str(target))
        con.execute(
            f"create table lines as select * from read_csv('{folder}/*.txt', delim='\t', header=true, "
            "all_varchar=true, union_by_name=true)"
        )
        rows = con.execute("select count(*) from lines").fetchone()[0]
        con.close()
    return {"rows": rows}


def stage_baseline_copy(workdir: Path, timer: Timer) -> dict[str, Any]:
    """Touch the build's input once: CREATE TABLE AS of every raw table into a scratch file."""
    import duckdb

    from ingestion.config import warehouse_path

    target = workdir / "baseline_copy.duckdb"
    target.unlink(missing_ok=True)
    rows = 0
    with timer.step("CREATE TABLE AS of the raw tables"):
        con = duckdb.connect(str(target))
        con.execute(f"attach '{warehouse_path()}' as wh (read_only)")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = 'wh' "
            "and table_schema like 'raw_%' and not starts_with(table_name, '_dlt')"
        ).fetchall()
        for schema, table in tables:
            con.execute(f'create table "{schema}__{table}" as select * from wh."{schema}"."{table}"')
            rows += con.execute(f'select count(*) from "{schema}__{table}"').fetchone()[0]
        con.close()
    return {"tables": len(tables), "rows": rows}


def _freshness_cycle(workdir: Path, timer: Timer) -> dict[str, Any]:
    from benchmarks.freshness import stage_cycle

    return stage_cycle(workdir, timer)


def _log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def profile_threads() -> list[Any]:
    """cProfile this thread and every thread started from now on (the orders prefetch thread, dlt's
    load threads): a profile per thread, all in the returned list (the first is this thread's)."""
    import cProfile

    profilers = [cProfile.Profile()]
    run = threading.Thread.run

    def profiled_run(thread: threading.Thread) -> None:
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.runcall(run, thread)

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    profilers[0].enable()
    return profilers


def run_stage(name: str, workdir: Path, profile: bool) -> int:
    from benchmarks.large_seller import Plan

    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    plan = Plan.load(workdir / "plan.json")
    _isolate_dbt(workdir)
    timer = Timer()
    stages = {
        "ingest": lambda: stage_ingest(plan, timer, plan.year_end),
        "import": lambda: stage_import(plan.settlement_dir(), timer),
        "build": lambda: stage_build(workdir, timer),
        "ingest_day": lambda: stage_ingest(plan, timer, None),
        "import_day": lambda: stage_import(plan.incremental_dir(), timer),
        "baseline_orders": lambda: stage_baseline_orders(plan, workdir, timer, plan.year_end),
        "baseline_csv": lambda: stage_baseline_csv(plan.settlement_dir(), workdir, timer),
        "baseline_copy": lambda: stage_baseline_copy(workdir, timer),
        "freshness_cycle": lambda: _freshness_cycle(workdir, timer),
    }
    profilers = profile_threads() if profile else []
    try:
        result = stages[name]()
    except Exception as exc:  # the report names the failure; the run goes on with the next stage
        import traceback

        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]}
    finally:
        if profilers:
            import pstats

            profilers[0].disable()
            stats = pstats.Stats(*profilers)  # every thread's profile, summed
            stats.dump_stats(str(workdir / f"{name}.prof"))
    if result.get("errors") and "error" not in result:
        result["error"] = "; ".join(result["errors"])[:300]
    result["steps"] = timer.steps
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)
    return 0


# -- the benchmark ---------------------------------------------------------------------------------


class SandboxProcess:
    """`benchmarks.large_seller` serving the plan in its own process."""

    def __init__(self, plan_path: Path, log: Path) -> None:
        self.log = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.large_seller", str(plan_path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the large-seller sandbox did not start (see {log})")
        self.env: dict[str, str] = json.loads(line)

    def command(self, text: str) -> dict:
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def stage_env(workdir: Path, sandbox_env: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AMAZON_", "NETSUITE_", "LEDGERBRIDGE_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(sandbox_env)
    env.update(
        LEDGERBRIDGE_WAREHOUSE=str(workdir / "warehouse.duckdb"),
        LEDGERBRIDGE_PUBLISHED=str(workdir / "published.duckdb"),
        LEDGERBRIDGE_INBOX=str(workdir / "inbox"),
        LEDGERBRIDGE_REPORTS=str(workdir / "reports"),
        RUNTIME__DLTHUB_TELEMETRY="false",
        PYTHONPATH=str(ROOT),
        PYTHONPYCACHEPREFIX=str(workdir / "pycache"),  # outside the repository
    )
    return env


def warm_bytecode(env: dict[str, str]) -> None:
    """Compile the project and its site-packages into the bytecode cache (setup, not timed; ~1 min
    once per workdir), as `pip install` compiles an installed package."""
    import sysconfig

    folders = [sysconfig.get_paths()["purelib"], *(str(ROOT / p) for p in PROJECT_PACKAGES)]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j0", *folders],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


PROJECT_PACKAGES = ("ingestion", "orchestration", "reverse_etl", "sandbox", "benchmarks")


FULL_STAGES = ("ingest", "import", "build")
DAY_STAGES = ("ingest_day", "import_day", "build")


def run(
    orders: int,
    workdir: Path,
    profile: bool = False,
    progress=print,
    fetch_cap: int = 100_000,
) -> dict[str, Any]:
    """The whole benchmark; returns every figure (also printed as it goes)."""
    from benchmarks.large_seller import RATE_LIMIT_SCALE, Plan, write_year

    workdir.mkdir(parents=True, exist_ok=True)
    for leftover in ("warehouse.duckdb", "warehouse.duckdb.wal", "published.duckdb"):
        (workdir / leftover).unlink(missing_ok=True)
    for generation in workdir.glob(".published.duckdb.*"):  # publish's generation files
        generation.unlink()
    for folder in (".dlt_pipelines", "dbt_target", "reports"):
        subprocess.run(["rm", "-rf", str(workdir / folder)], check=False)
    old = workdir / "plan.json"
    plan = Plan.load(old) if old.exists() else None
    if plan is None or plan.n_orders != orders or datetime.now(UTC) - plan.now > _hours(20):
        subprocess.run(["rm", "-rf", str(workdir)], check=False)
        workdir.mkdir(parents=True)
        plan = Plan(
            seed=7,
            n_orders=orders,
            t0=datetime.now(UTC).replace(microsecond=0).isoformat(),
            workdir=str(workdir),
        )
        plan.save()
    log = workdir / "benchmark.log"
    started = time.perf_counter()
    data = write_year(plan)
    data["setup_s"] = time.perf_counter() - started
    progress(
        f"full_build: data: {plan.n_orders:,} orders over a year (+{plan.day_orders:,} the next day), "
        f"{data['settlement_rows']:,} settlement rows in {data['settlement_files']} V2 files "
        f"(setup {data['setup_s']:.0f} s, not timed)"
    )
    data["sandbox_rate_limits"] = (
        f"x{RATE_LIMIT_SCALE:g} Amazon's quotas" if RATE_LIMIT_SCALE > 0 else "off (rate_limit_scale 0)"
    )
    progress(f"full_build: SP-API sandbox rate limits: {data['sandbox_rate_limits']}")
    sandbox = SandboxProcess(workdir / "plan.json", log)
    results: dict[str, Any] = {
        "orders": orders,
        "data": data,
        "stages": {},
        "day": {},
        "idle": {},
        "baselines": {},
    }
    try:
        env = stage_env(workdir, sandbox.env)
        warming = time.perf_counter()
        warm_bytecode(env)
        progress(
            f"full_build: bytecode cache warmed in {time.perf_counter() - warming:.0f} s (setup, not timed)"
        )
        env["LEDGERBRIDGE_BENCH_FETCH_CAP"] = str(fetch_cap)

        def stage(name: str, bucket: str, key: str | None = None, with_profile: bool = False) -> dict:
            args = ["-m", "benchmarks.full_build", "--stage", name, "--workdir", str(workdir)]
            if with_profile:
                args.append("--profile")
            result = run_measured(args, env, log)
            results[bucket][key or name] = result
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.get("steps", {}).items())
            progress(
                f"full_build: {bucket}/{key or name}: {result['wall_s']:.1f} s, peak RSS "
                f"{_gib(result['peak_tree_rss']):.2f} GiB ({steps})"
                + (f" ERROR {result['error']}" if result.get("error") else "")
            )
            return result

        for name in FULL_STAGES:
            stage(name, "stages", with_profile=profile and name == "ingest")
        stage("baseline_orders", "baselines")
        stage("baseline_csv", "baselines")
        stage("baseline_copy", "baselines")
        for name in DAY_STAGES:
            stage(name, "day", key=name.replace("_day", ""))
        for name in DAY_STAGES:  # the same day again, with nothing new: the cost of a run itself
            stage(name, "idle", key=name.replace("_day", ""))
    finally:
        sandbox.stop()
    summarize(results)
    for line in report_lines(results):
        progress(line)
    return results


def _hours(n: float):
    from datetime import timedelta

    return timedelta(hours=n)


def _gib(n: float) -> float:
    return n / 2**30


def summarize(results: dict[str, Any]) -> None:
    stages, day, base = results["stages"], results["day"], results["baselines"]
    full = sum(s["wall_s"] for s in stages.values())
    incr = sum(s["wall_s"] for s in day.values())
    peak = max([s["peak_tree_rss"] for s in [*stages.values(), *day.values()]] or [0])
    results["full_s"], results["day_s"], results["peak_rss"] = full, incr, peak
    results["fraction"] = incr / full if full else None
    results["idle_s"] = sum(s["wall_s"] for s in results.get("idle", {}).values()) or None
    results["ratios"] = {
        "ingest": _ratio(base.get("baseline_orders"), stages.get("ingest"), _orders_scale(results)),
        "import": _ratio(base.get("baseline_csv"), stages.get("import")),
        "build": _ratio(base.get("baseline_copy"), stages.get("build")),
    }
    results["errors"] = [
        f"{bucket}/{name}: {s['error']}"
        for bucket in ("stages", "day", "idle", "baselines")
        for name, s in results[bucket].items()
        if s.get("error")
    ]


def _orders_scale(results: dict[str, Any]) -> float:
    """The orders baseline fetches at most a cap of orders; scale its time to all of them."""
    base = results["baselines"].get("baseline_orders") or {}
    fetched = base.get("orders") or 0
    ingested = (results["stages"].get("ingest") or {}).get("rows", {}).get("amazon.orders") or 0
    return ingested / fetched if fetched and ingested else 1.0


def _ratio(baseline: dict | None, stage: dict | None, scale: float = 1.0) -> float | None:
    if not baseline or not stage or baseline.get("error"):
        return None
    return sum(baseline.get("steps", {}).values()) * scale / stage["wall_s"]


def report_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    minutes = results["full_s"] / 60
    verdict = "PASS" if minutes <= TARGETS["build_minutes"] else "MISSED"
    lines.append(
        f"full_build: whole build {minutes:.1f} min (target <= {TARGETS['build_minutes']:g} min) {verdict}"
    )
    gib = _gib(results["peak_rss"])
    verdict = "PASS" if gib <= TARGETS["peak_rss_gib"] else "MISSED"
    lines.append(f"full_build: peak RSS {gib:.2f} GiB (target <= {TARGETS['peak_rss_gib']:g} GiB) {verdict}")
    fraction = results["fraction"]
    if fraction is not None:
        verdict = "PASS" if fraction <= TARGETS["incremental_fraction"] else "MISSED"
        lines.append(
            f"full_build: incremental day {results['day_s']:.1f} s = {fraction:.1%} of the full build "
            f"(target <= {TARGETS['incremental_fraction']:.0%}) {verdict}"
        )
    if results.get("idle_s"):
        lines.append(
            f"full_build: the same day again with nothing new {results['idle_s']:.1f} s (the cost of a run "
            f"itself: process and library start-up, dbt's per-node work); the day's data adds "
            f"{results['day_s'] - results['idle_s']:.1f} s"
        )
    for stage, ratio in results["ratios"].items():
        if ratio is not None:
            lines.append(f"full_build: {stage}: DuckDB baseline / stage time = {ratio:.3f}")
    for error in results["errors"]:
        lines.append(f"full_build: ERROR {error}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.full_build", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench/full_build"))
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the ingest stage, all its threads (<workdir>/ingest.prof)",
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        return run_stage(args.stage, args.workdir.resolve(), args.profile)
    results = run(args.orders, args.workdir.resolve(), args.profile)
    (args.workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    return 0 if not results["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
