"""dlt pipeline factories: every loader writes into the one warehouse file (`warehouse_path()`).

dlt keeps per-pipeline working state in a "pipelines dir"; by default `~/.dlt/pipelines`. We keep it
next to the warehouse (`<warehouse dir>/.dlt_pipelines`) so that a warehouse and its pipeline state
travel together and tests (each with its own tmp warehouse) never share state through the home dir.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from ingestion.config import duckdb_memory_limit, pipelines_dir_for, warehouse_path

if TYPE_CHECKING:
    import duckdb


@contextlib.contextmanager
def warehouse_connection(warehouse: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB connection to the warehouse for a whole ingest run, closed when the run ends.

    Without it dlt opens the database file for each SQL client it needs (~40 in a day's ingest) and
    checkpoints it on every close: 25-30 ms each on a large warehouse, over a second a run. Given
    to `warehouse_destination`, dlt's clients become cursors of this one connection. It is closed
    at the end so other processes (dbt) can open the file.
    """
    from ingestion.warehouse import connect_warehouse

    connection = connect_warehouse(warehouse)
    try:
        yield connection
    finally:
        connection.close()


def warehouse_destination(warehouse: Path | None = None, connection: duckdb.DuckDBPyConnection | None = None):
    """dlt's duckdb destination at the warehouse, with SQL jobs (merges) run in a transaction.

    dlt 1.31 leaves `supports_transactions` unset for duckdb, so a merge's DELETE and INSERT
    autocommit one by one: a crash between them loses rows (tests/ingestion/test_settlements.py
    proves it). DuckDB does support transactions; we say so.

    DuckDB's memory is capped at `duckdb_memory_limit()` (LEDGERBRIDGE_DUCKDB_MEMORY_LIMIT) rather
    than DuckDB's default of 80 % of RAM; beyond the cap DuckDB spills to disk.

    `connection` (from `warehouse_connection`): dlt works through it instead of opening the file.
    """
    target = connection if connection is not None else str(warehouse or warehouse_path())
    credentials = DuckDbCredentials(target, global_config={"memory_limit": duckdb_memory_limit()})
    destination = dlt.destinations.duckdb(credentials)
    raw_capabilities = destination._raw_capabilities

    def transactional_capabilities():
        caps = raw_capabilities()
        caps.supports_transactions = True
        return caps

    destination._raw_capabilities = transactional_capabilities
    return destination


def _pipeline(
    name: str,
    dataset_name: str,
    pipelines_dir: str | Path | None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> dlt.Pipeline:
    warehouse = warehouse_path()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(pipelines_dir or pipelines_dir_for(warehouse)),
        destination=warehouse_destination(warehouse, connection),
        dataset_name=dataset_name,
    )


def amazon_pipeline(
    pipelines_dir: str | Path | None = None,
    pipeline_name: str = "amazon",
    connection: duckdb.DuckDBPyConnection | None = None,
) -> dlt.Pipeline:
    """The pipeline loading `raw_amazon` (SP-API resources and settlement files)."""
    return _pipeline(pipeline_name, "raw_amazon", pipelines_dir, connection)


def netsuite_pipeline(
    pipelines_dir: str | Path | None = None,
    pipeline_name: str = "netsuite",
    connection: duckdb.DuckDBPyConnection | None = None,
) -> dlt.Pipeline:
    """The pipeline loading `raw_netsuite` (SuiteQL tables)."""
    return _pipeline(pipeline_name, "raw_netsuite", pipelines_dir, connection)


# --- `ledgerbridge ingest` -----------------------------------------------------------------------
# ingest_command(args, progress) -> int lives here (owned by the ingestion helper).


# ===============================================================================================
# `ledgerbridge ingest` (ingestion helper): run the Amazon and NetSuite sources, report row counts.
# ===============================================================================================
import argparse  # noqa: E402 - this section is appended to the factories above
import socket  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

Progress = Callable[[str], None]
Connect = Callable[[], contextlib.AbstractContextManager["duckdb.DuckDBPyConnection"]]
AMAZON_STEPS = ("orders", "inventory_summaries", "listings_items", "settlements")
SOURCES = ("amazon", "netsuite")


@dataclass
class IngestReport:
    """What one source run did: rows per table, and the failures (one line each)."""

    source: str
    rows: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0  # how long the source's run took (the benchmark reports it)

    @property
    def ok(self) -> bool:
        return not self.errors


class Unreachable(Exception):
    """Nothing listens at a configured URL."""


def check_reachable(url: str, service: str, variable: str, timeout: float = 3.0) -> None:
    """Fail fast, with the fix in the message, instead of backing off against a closed port."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout).close()
    except OSError:
        raise Unreachable(
            f"cannot reach {service} at {url} — start `ledgerbridge sandbox serve` or set {variable}"
        ) from None


def root_cause(exc: BaseException) -> BaseException:
    """The error a resource raised, unwrapped from dlt's PipelineStepFailed/ResourceExtractionError."""
    current = exc
    for _ in range(10):
        if not type(current).__module__.startswith("dlt."):
            break
        inner = getattr(current, "exception", None) or current.__cause__
        if inner is None and not current.__suppress_context__:
            inner = current.__context__
        if not isinstance(inner, BaseException):
            break
        current = inner
    return current


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _run(pipeline: dlt.Pipeline, data: Any, report: IngestReport, label: str) -> None:
    try:
        pipeline.run(data, loader_file_format="parquet")  # bulk COPY, not INSERT statements
    except Exception as exc:  # dlt wraps everything in PipelineStepFailed
        report.errors.append(f"{label}: {_one_line(root_cause(exc))}")
        return
    counts = (
        pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace.last_normalize_info else {}
    )
    for table, count in counts.items():
        if not table.startswith("_dlt"):
            report.rows[table] = report.rows.get(table, 0) + count


def run_amazon(
    progress: Progress = lambda message: None,
    settings: Any = None,
    pipeline: dlt.Pipeline | None = None,
    now: datetime | None = None,
    api: Any = None,
    steps: tuple[str, ...] = AMAZON_STEPS,
    connect: Connect = warehouse_connection,
) -> IngestReport:
    """Orders (+ items), FBA inventory, listings, then new settlement reports. Each step loads on
    its own, so a permanent error in one keeps what the others (and earlier runs) loaded.

    Without a `pipeline`, every step works through one warehouse connection, `connect()`'s (by
    default `warehouse_connection`; `run_ingest` passes a cursor of the connection it shares).
    The listings reports are requested before the orders load and read in the background while
    the orders and inventory load, so Amazon prepares them meanwhile.
    """
    from ingestion.amazon.settings import AmazonSettings

    started = time.perf_counter()
    settings = settings or AmazonSettings.from_env()
    check_reachable(settings.sp_api_url, "SP-API", "AMAZON_SP_API_URL")
    if settings.lwa_url != settings.sp_api_url:
        check_reachable(settings.lwa_url, "LWA", "AMAZON_LWA_URL")
    with contextlib.ExitStack() as stack:
        connection = None
        if pipeline is None:
            connection = stack.enter_context(connect())
            pipeline = amazon_pipeline(connection=connection)
        report = _amazon_steps(progress, settings, pipeline, connection, now, api, steps)
    report.seconds = time.perf_counter() - started
    return report


def _amazon_steps(
    progress: Progress,
    settings: Any,
    pipeline: dlt.Pipeline,
    connection: Any,
    now: datetime | None,
    api: Any,
    steps: tuple[str, ...],
) -> IngestReport:
    from ingestion.amazon.client import AmazonUnreachable, SpApi
    from ingestion.amazon.listings import ListingsFetch, request_listings
    from ingestion.amazon.settlement_reports import sync_settlement_reports
    from ingestion.amazon.settlements import settlement_pipeline
    from ingestion.amazon.source import amazon_source

    report = IngestReport("amazon")
    api = api or SpApi(settings)
    listings = None
    try:
        if "listings_items" in steps:
            try:
                requested = request_listings(api, settings)  # other errors: the listings step's
            except AmazonUnreachable as exc:
                report.errors.append(f"amazon listings_items: {_one_line(exc)}")
                return report
            listings = ListingsFetch(api, settings, requested)
        for resource in [step for step in steps if step != "settlements"]:
            progress(
                f"amazon: loading {resource} (orders API {settings.orders_api})"
                if resource == "orders"
                else f"amazon: loading {resource}"
            )
            _run(
                pipeline,
                amazon_source(settings, api, now, listings).with_resources(resource),
                report,
                f"amazon {resource}",
            )
            if report.errors and "cannot reach" in report.errors[-1]:
                return report
        if "settlements" not in steps:
            return report
        progress("amazon: looking for new settlement reports")
        settlements = settlement_pipeline(pipeline.pipelines_dir, connection)
        try:
            sync = sync_settlement_reports(settlements, settings, api, progress, now)
        except Exception as exc:  # the loader failed: report it, keep the other steps' counts
            report.errors.append(f"amazon settlements: {_one_line(root_cause(exc))}")
            return report
        if sync.error:
            report.errors.append(f"amazon settlements: {sync.error}")
        report.rows["settlement reports downloaded"] = len(sync.downloaded)
        report.notes.append(f"{sync.listed} settlement reports listed, {sync.skipped} already loaded")
        if sync.result is not None:
            report.notes.append(f"settlement reports: {sync.result.summary()}")
            if sync.result.rejected:
                report.errors.append(f"amazon settlements: {sync.result.summary()}")
    finally:
        if listings is not None:
            listings.stop()  # a step that ended the run early leaves it waiting: stop it first
        if api.retries:
            report.notes.append(f"{api.retries} SP-API calls retried after throttling or transient errors")
        api.close()
    return report


def run_netsuite(
    progress: Progress = lambda message: None,
    client: Any = None,
    settings: Any = None,
    pipeline: dlt.Pipeline | None = None,
    connect: Connect = warehouse_connection,
) -> IngestReport:
    """All contract tables over SuiteQL in one load (through one warehouse connection, `connect()`'s)."""
    from ingestion.netsuite import netsuite_source
    from ingestion.netsuite.client import NetSuiteClient
    from ingestion.netsuite.settings import NetSuiteSettings

    started = time.perf_counter()
    report = IngestReport("netsuite")
    own_client = client is None
    client = client or NetSuiteClient.from_env()
    try:
        check_reachable(client.base_url, "NetSuite", "NETSUITE_URL")
        settings = settings or NetSuiteSettings.from_env()
        progress(f"netsuite: loading {', '.join(settings.tables)}")
        with contextlib.ExitStack() as stack:
            if pipeline is None:
                pipeline = netsuite_pipeline(connection=stack.enter_context(connect()))
            _run(pipeline, netsuite_source(client, settings), report, "netsuite")
        if client.stats.retries:
            report.notes.append(f"{client.stats.retries} NetSuite requests retried")
    finally:
        if own_client:
            client.close()
    report.seconds = time.perf_counter() - started
    return report


class SharedWarehouse:
    """One warehouse connection for every source of an ingest run (one open, one checkpoint at the
    close), opened by the first source that needs it: a run whose sources are all unreachable
    creates no warehouse. Each source works through its own cursor (a DuckDB connection object is
    not for two threads at once; its cursors are), closed when the source is done."""

    def __init__(self, warehouse: Path | None = None) -> None:
        self.warehouse = warehouse
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        from ingestion.warehouse import connect_warehouse

        with self._lock:
            if self._connection is None:
                self._connection = connect_warehouse(self.warehouse)
            cursor = self._connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def run_ingest(
    progress: Progress = lambda message: None,
    sources: tuple[str, ...] = SOURCES,
    now: datetime | None = None,
) -> dict[str, IngestReport | Exception]:
    """Run `sources` (Amazon, NetSuite) at once: the first in this thread, the others each in a
    thread of their own, all through one warehouse connection (`SharedWarehouse`). Their HTTP
    waits and DuckDB loads overlap; each source keeps its own dlt pipeline, state and cursors.

    Returns each source's report, or the exception that stopped it (an unreachable URL, a bad
    setting, ...), in the order of `sources`; `ledgerbridge ingest` and the benchmark call this.
    """
    from ingestion.arrow_tables import skip_pandas_lookup

    skip_pandas_lookup()
    runners: dict[str, Callable[[Connect], IngestReport]] = {
        "amazon": lambda connect: run_amazon(progress, now=now, connect=connect),
        "netsuite": lambda connect: run_netsuite(progress, connect=connect),
    }
    shared = SharedWarehouse()

    def attempt(name: str) -> IngestReport | Exception:
        try:
            return runners[name](shared.cursor)
        except Exception as exc:  # reported by the caller, after the other sources finished
            return exc

    results: dict[str, IngestReport | Exception] = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, len(sources) - 1), thread_name_prefix="ingest") as pool:
            beside = {name: pool.submit(attempt, name) for name in sources[1:]}
            if sources:
                results[sources[0]] = attempt(sources[0])
            results.update({name: future.result() for name, future in beside.items()})
    finally:
        shared.close()
    return {name: results[name] for name in sources}


def ingest_command(args: argparse.Namespace, progress: Progress) -> int:
    """`ledgerbridge ingest [amazon|netsuite]`: print rows per table; exit 1 with one line on failure.

    Both sources run at once (`run_ingest`); their lines print in the same order as ever."""
    from orchestration.cli import CommandError

    source = getattr(args, "source", None)
    results = run_ingest(progress, tuple(name for name in SOURCES if source in (None, name)))
    failures: list[str] = []
    crashed: list[Exception] = []
    for name, report in results.items():
        if isinstance(report, Unreachable | ValueError):  # unreachable URL or a bad setting
            failures.append(_one_line(report))
            continue
        if isinstance(report, Exception):
            crashed.append(report)
            continue
        for table, count in sorted(report.rows.items()):
            print(f"{name}.{table}: {count} rows" if " " not in table else f"{name}: {count} {table}")
        for note in report.notes:
            print(f"{name}: {note}")
        failures.extend(report.errors)
    if crashed:  # a bug, not a reportable failure: the traceback, as before
        raise crashed[0]
    if failures:
        raise CommandError("; ".join(failures))
    return 0
