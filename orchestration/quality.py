"""Great Expectations suites over the real warehouse tables, and the Data Docs auditors open.

No Dagster here: `orchestration.checks` wraps `validate_tables` in asset checks and `ledgerbridge build`
calls it directly, so both report the same results.

GX 1.x has no DuckDB datasource (its SQL datasource over duckdb-engine fails, GX issues #10738 and
#11579), so each table is read from DuckDB in chunks and every chunk is validated as a pandas
dataframe batch. Results go to a file-backed GX project under `<reports>/gx/`; the Data Docs site
under `<reports>/data_docs/` keeps the page of every validation run: its index lists the latest
`INDEX_RESULTS`, `history.html` every one. Each call renders only its own pages and the index, so
its cost does not grow with that history.
Uniqueness is checked per chunk; a chunk holds `CHUNK_ROWS` rows, so tables up to that size are
checked whole (dbt's `unique` tests cover the primary keys of every model anyway).

The large tables that only grow (settlement lines, orders) are validated incrementally: a suite
with `new_rows` reads only the rows whose load marker (dlt load id, settlement loaded_at, order
last_updated_at) is newer than the watermark kept in `audit.gx_watermarks` for the last build that
validated the table and passed; with no watermark, or `full=True` (`ledgerbridge build
--full-refresh`), every row is read. Each result, the Data Docs run name and the offline summary
say which rows were validated.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb

from ingestion.config import reports_dir, warehouse_path

CHUNK_ROWS = 500_000
DATA_DOCS_SITE = "ledgerbridge"
INDEX_RESULTS = 50  # validation results GX's index lists (newest first); HISTORY_PAGE lists all
HISTORY_PAGE = "history.html"
RESULT_FORMAT = {"result_format": "SUMMARY"}

SETTLEMENT_STATUSES = ["balanced", "variance", "blocked"]
FULFILLMENT_CHANNELS = ["AFN", "MFN"]


@dataclass(frozen=True)
class Expect:
    """One expectation, as data: the GX class name and its keyword arguments."""

    kind: str
    kwargs: dict[str, Any]


def _not_null(column: str) -> Expect:
    return Expect("ExpectColumnValuesToNotBeNull", {"column": column})


def _unique(column: str) -> Expect:
    return Expect("ExpectColumnValuesToBeUnique", {"column": column})


def _in_set(column: str, values: list[str]) -> Expect:
    return Expect("ExpectColumnValuesToBeInSet", {"column": column, "value_set": values})


def _at_least(column: str, minimum: int) -> Expect:
    return Expect("ExpectColumnValuesToBeBetween", {"column": column, "min_value": minimum})


@dataclass(frozen=True)
class NewRows:
    """How to read only the rows added or changed since the last validated build.

    `source` is the FROM clause (the table as `t`, maybe joined to what carries the marker),
    `marker` a SQL expression of type `marker_type` that grows with every load (rows whose marker
    is null are always read), `unit` the SQL naming what was loaded (a settlement, a dlt load),
    and `label` / `unit_label` say both in words in the Data Docs.
    """

    marker: str
    marker_type: str
    label: str
    unit: str
    unit_label: str
    source: str = ""
    inclusive: bool = False  # `>=`: a marker value can be shared by rows loaded later (a timestamp)


@dataclass(frozen=True)
class Suite:
    """The expectations for one warehouse table; `blocking` suites gate publish and push."""

    table: str  # schema.table
    expectations: tuple[Expect, ...]
    blocking: bool = False
    description: str = ""
    new_rows: NewRows | None = None  # None: every build validates every row

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]


# Raw tables: what dlt and the settlement importer promise (docs/contracts.md). Warnings: a bad raw
# row is already visible downstream as an exception; the marts suites decide whether to publish.
# Mart tables: the grain and value domains finance relies on (PRODUCT.md data contract). Blocking.
SUITES: tuple[Suite, ...] = (
    Suite(
        "raw_amazon.orders",
        (
            _not_null("order_id"),
            _unique("order_id"),
            _not_null("marketplace_id"),
            _in_set("fulfillment_channel", FULFILLMENT_CHANNELS),
            _not_null("purchased_at"),
        ),
        description="Amazon orders as loaded: one row per order, known fulfilment channel.",
        new_rows=NewRows(
            marker="t._dlt_load_id",
            marker_type="varchar",
            label="dlt load id",
            unit="t._dlt_load_id",
            unit_label="dlt load",
        ),
    ),
    Suite(
        "raw_amazon.settlements",
        (
            _not_null("settlement_id"),
            _unique("settlement_id"),
            _not_null("currency"),
            _not_null("total_amount"),
            _in_set("layout", ["v2", "legacy"]),
            _in_set("source", ["api", "file"]),
        ),
        description="Settlement headers as loaded from the Reports API and the inbox.",
    ),
    Suite(
        "raw_amazon.settlement_lines",
        (
            _not_null("settlement_id"),
            _not_null("amount"),
            _not_null("amount_type"),
            _at_least("line_number", 1),
        ),
        description="Settlement amount rows: every line has a settlement, an amount and a type.",
        new_rows=NewRows(
            source="raw_amazon.settlement_lines as t inner join raw_amazon.settlements as h "
            "on t.settlement_id = h.settlement_id",
            marker="epoch_us(h.loaded_at)",
            marker_type="bigint",
            label="settlement loaded_at (µs since 1970)",
            unit="t.settlement_id",
            unit_label="settlement",
        ),
    ),
    Suite(
        "marts.fct_settlements",
        (
            _not_null("settlement_id"),
            _unique("settlement_id"),
            _not_null("currency"),
            _not_null("reported_total"),
            _not_null("computed_total"),
            _in_set("status", SETTLEMENT_STATUSES),
        ),
        blocking=True,
        description="One row per settlement with a known status; reported and computed totals present.",
    ),
    Suite(
        "marts.fct_settlement_journal_lines",
        (_not_null("settlement_id"), _not_null("gl_account"), _at_least("debit", 0), _at_least("credit", 0)),
        blocking=True,
        description="Journal lines: every line has an account; debits and credits are never negative.",
    ),
    Suite(
        "marts.fct_orders",
        (_not_null("order_id"), _unique("order_id")),
        blocking=True,
        description="One row per Amazon order.",
        new_rows=NewRows(
            marker="epoch_us(t.last_updated_at)",
            marker_type="bigint",
            label="last_updated_at (µs since 1970)",
            unit="t.order_id",
            unit_label="order",
            inclusive=True,
        ),
    ),
)


def suite_for(table: str) -> Suite:
    for suite in SUITES:
        if suite.table == table:
            return suite
    raise KeyError(f"no Great Expectations suite for {table}")


@dataclass
class TableResult:
    """The outcome of validating one table (all its chunks)."""

    table: str
    success: bool
    rows: int = 0
    chunks: int = 0
    evaluated: int = 0
    failed_expectations: list[str] = field(default_factory=list)
    unexpected_examples: dict[str, list[Any]] = field(default_factory=dict)
    error: str | None = None  # e.g. the table does not exist
    docs_pages: list[str] = field(default_factory=list)
    scope: str = "all rows"  # which rows were validated, in words
    watermark: str | None = None  # the marker up to which rows are now validated (incremental suites)
    latest_page: str | None = None  # this validation's Data Docs page (its last chunk), docs-relative

    def summary(self) -> str:
        if self.error:
            return f"{self.table}: {self.error}"
        if self.success:
            return f"{self.table}: {self.evaluated} expectations passed on {self.rows} rows ({self.scope})"
        return f"{self.table}: failed {', '.join(self.failed_expectations)} ({self.rows} rows; {self.scope})"


def data_docs_dir() -> Path:
    return reports_dir() / "data_docs"


def _site_config(docs_dir: Path) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        # GX's index loads every validation result it lists: listing them all made each build cost
        # more with every earlier build. Older runs stay linked from HISTORY_PAGE.
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": INDEX_RESULTS,
        },
        # ...but GX would apply the index's limit to the pages it renders too (0: no limit), and a
        # full validation of a large table can add more results than the index lists.
        "site_section_builders": {"validations": {"validation_results_limit": 0}},
    }


def _context(project_dir: Path, docs_dir: Path) -> Any:
    """A file-backed GX context whose Data Docs site writes to `docs_dir`."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.config_provider import _ConfigurationVariablesConfigurationProvider

    context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    # GX re-reads and re-parses uncommitted/config_variables.yml on every store access (~140
    # times a build); we use no config variables, so read it once per context.
    provider = context.config_provider.get_provider(_ConfigurationVariablesConfigurationProvider)
    if provider is not None:
        values = provider.get_values()
        provider.get_values = lambda: dict(values)
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    site = _site_config(docs_dir)
    sites = context.variables.data_docs_sites or {}
    if sites.get(DATA_DOCS_SITE) != site:
        if DATA_DOCS_SITE in sites:
            context.update_data_docs_site(DATA_DOCS_SITE, site)
        else:
            context.add_data_docs_site(DATA_DOCS_SITE, site)
    for name in list(context.get_site_names()):
        if name != DATA_DOCS_SITE:  # the default site under gx/uncommitted would duplicate ours
            context.delete_data_docs_site(name)
    return context


def _site_builder(context: Any, docs_dir: Path) -> Any:
    """Our Data Docs site as `context.build_data_docs` builds it, but rendering only the pages it
    is given and indexing `RecentIndex.recent` (orchestration.gx_site), with its page templates
    compiled once per machine (Jinja's bytecode cache in the user's temp folder, keyed by the
    template's source) instead of once per build: compiling them was a third of the docs' cost."""
    from great_expectations.data_context.util import instantiate_class_from_config
    from jinja2 import FileSystemBytecodeCache

    ours = {"module_name": "orchestration.gx_site", "class_name": "RequestedSection"}
    config = _site_config(docs_dir)
    config["site_index_builder"] |= {"module_name": "orchestration.gx_site", "class_name": "RecentIndex"}
    config["site_section_builders"] = {
        "expectations": ours,
        "validations": ours | {"validation_results_limit": 0},
        "profiling": ours,
    }
    site = instantiate_class_from_config(
        config=config,
        runtime_environment={
            "data_context": context,
            "root_directory": context.root_directory,
            "site_name": DATA_DOCS_SITE,
        },
        config_defaults={"module_name": "great_expectations.render.renderer.site_builder"},
    )
    try:
        cache = FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no writable temp folder: compile every build, as GX does
        return site
    for builder in [*site.site_section_builders.values(), site.site_index_builder]:
        env = getattr(getattr(builder, "view_class", None), "env", None)
        if env is not None:
            env.bytecode_cache = cache
    return site


def _expectations(suite: Suite) -> list[Any]:
    import great_expectations as gx

    return [getattr(gx.expectations, e.kind)(**e.kwargs) for e in suite.expectations]


def _stored_checkpoint(context: Any, suite: Suite) -> Any | None:
    """The checkpoint saved by an earlier build when it still holds exactly this suite (re-saving
    suite, definition and checkpoint every build cost ~0.2 s per table); None otherwise."""
    try:
        checkpoint = context.checkpoints.get(suite.table)
        [definition] = checkpoint.validation_definitions
    except Exception:  # missing, or saved by an older LedgerBridge (e.g. its asset is gone)
        return None

    def described(expectations: Sequence[Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(e.configuration.type, dict(e.configuration.kwargs)) for e in expectations]

    same = (
        not checkpoint.actions
        and checkpoint.result_format == RESULT_FORMAT
        and definition.data.name == "chunk"
        and definition.data.data_asset.name == suite.table
        and definition.suite.meta.get("notes") == suite.description
        and described(definition.suite.expectations) == described(_expectations(suite))
    )
    return checkpoint if same else None


def _register(context: Any, suite: Suite) -> Any:
    """Register the suite, its dataframe batch and a checkpoint.

    No Data Docs action: `validate_tables` builds the docs once for all its results, instead of
    rebuilding the site index after every chunk."""
    import great_expectations as gx

    try:
        source = context.data_sources.get("warehouse")
    except KeyError:
        source = context.data_sources.add_pandas("warehouse")
    try:
        asset = source.get_asset(suite.table)
    except LookupError:
        asset = source.add_dataframe_asset(suite.table)
    try:
        batch = asset.get_batch_definition("chunk")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("chunk")
    gx_suite = gx.ExpectationSuite(name=suite.table, meta={"notes": suite.description})
    for expectation in _expectations(suite):
        gx_suite.add_expectation(expectation)
    gx_suite = context.suites.add_or_update(gx_suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.table, data=batch, suite=gx_suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite.table, validation_definitions=[definition], actions=[], result_format=RESULT_FORMAT
        )
    )


@dataclass
class GXProject:
    """The GX context with our Data Docs site and a checkpoint per suite, ready to validate.

    Set up without opening the warehouse, so `ledgerbridge build` can prepare it while dbt holds
    the warehouse's lock (`prepare_in_background`)."""

    context: Any
    site: Any  # our Data Docs SiteBuilder
    docs_dir: Path
    checkpoints: dict[str, Any] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)  # suites (re)registered: their pages need a render

    def checkpoint(self, suite: Suite) -> Any:
        if suite.table not in self.checkpoints:
            stored = _stored_checkpoint(self.context, suite)
            if stored is None:
                stored = _register(self.context, suite)
                self.changed.add(suite.table)
            self.checkpoints[suite.table] = stored
        return self.checkpoints[suite.table]


def open_project(reports: Path | None = None, suites: Sequence[Suite] = SUITES) -> GXProject:
    base = reports or reports_dir()
    docs_dir = base / "data_docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    context = _context(base / "gx", docs_dir)
    project = GXProject(context, _site_builder(context, docs_dir), docs_dir)
    for suite in suites:
        project.checkpoint(suite)
    return project


_PREPARED: dict[Path, Future[GXProject]] = {}
PREPARE_NICENESS = 10


def prepare_in_background(reports: Path | None = None) -> Future[GXProject]:
    """Import GX and open its project (every suite) in a thread; the next `validate_tables` for the
    same reports folder waits for it and uses it, re-raising whatever the thread raised.

    `import great_expectations` alone takes ~6 s of CPU; `ledgerbridge build` overlaps it with
    the dbt subprocess, during which the build process would otherwise sit idle. The thread runs
    at a lower priority (Linux), so it takes the CPU dbt leaves idle rather than dbt's."""
    base = (reports or reports_dir()).resolve()
    if base in _PREPARED and not _PREPARED[base].done():  # one writer of the GX project at a time
        return _PREPARED[base]
    future: Future[GXProject] = Future()

    def prepare() -> None:
        try:
            if sys.platform.startswith("linux"):  # a thread's own niceness: Linux only
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PREPARE_NICENESS)
            future.set_result(open_project(base))
        except BaseException as exc:  # handed to the caller of validate_tables, never lost
            future.set_exception(exc)

    _PREPARED[base] = future
    threading.Thread(target=prepare, name="gx-prepare", daemon=True).start()
    return future


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def _chunks(
    con: duckdb.DuckDBPyConnection, table: str, chunk_rows: int, query: tuple[str, list[Any]] | None = None
) -> Iterator[Any]:
    """Yield the table (or the rows `query` selects) as pandas dataframes of at most `chunk_rows`
    rows (at least one, maybe empty)."""
    schema, name = table.split(".")
    if query is None:
        con.execute(f'select * from "{schema}"."{name}"')
    else:
        con.execute(*query)
    vectors = max(1, chunk_rows // 2048)
    frame = con.fetch_df_chunk(vectors)
    yield frame  # even when empty: an empty table is still validated (and reported with 0 rows)
    while len(frame):
        frame = con.fetch_df_chunk(vectors)
        if len(frame):
            yield frame


WATERMARKS = "audit.gx_watermarks"


def read_watermarks(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """table -> the marker up to which its rows passed validation (empty when never recorded)."""
    if not _table_exists(con, WATERMARKS):
        return {}
    return dict(con.execute(f"select table_name, watermark from {WATERMARKS}").fetchall())


def save_watermarks(warehouse: Path, results: Sequence[TableResult]) -> None:
    """Record the watermark of every incremental table that passed, in the warehouse (a writer).

    A table that failed keeps its old watermark, so its rows are validated again next build.
    Skipped, with the next build validating more rows, when the warehouse is locked by a writer.
    """
    passed = [r for r in results if r.success and r.watermark is not None]
    if not passed:
        return
    try:
        with duckdb.connect(str(warehouse)) as con:
            con.execute("create schema if not exists audit")
            con.execute(
                f"create table if not exists {WATERMARKS} (table_name varchar primary key, "
                "watermark varchar, rows_validated bigint, scope varchar, validated_at timestamptz)"
            )
            for r in passed:
                con.execute(
                    f"insert or replace into {WATERMARKS} values (?, ?, ?, ?, ?)",
                    [r.table, r.watermark, r.rows, r.scope, datetime.now(UTC)],
                )
    except duckdb.Error:
        return


def _new_rows_query(
    con: duckdb.DuckDBPyConnection, suite: Suite, since: str | None, result: TableResult, full: bool
) -> tuple[str, list[Any]] | None:
    """The query reading the suite's rows newer than `since` (None: every row), and the scope and
    new watermark on `result`. None when every row is to be read."""
    spec = suite.new_rows
    if spec is None:
        return None
    source = spec.source or f"{suite.table} as t"
    try:
        (top,) = con.execute(f"select cast(max({spec.marker}) as varchar) from {source}").fetchone()
    except duckdb.Error as exc:  # the marker column is missing: validate every row
        result.scope = f"all rows (no load marker: {str(exc).splitlines()[0][:120]})"
        return None
    result.watermark = top
    if since is None:
        why = "full validation" if full else "no earlier validation"
        result.scope = f"all rows ({why}; validated up to {spec.label} {top})"
        return None
    operator = ">=" if spec.inclusive else ">"
    where = f"({spec.marker} {operator} cast(? as {spec.marker_type}) or {spec.marker} is null)"
    units, shown = con.execute(
        f"select count(distinct {spec.unit}), string_agg(distinct cast({spec.unit} as varchar), ', ') "
        f"from {source} where {where}",
        [since],
    ).fetchone()
    listed = ", ".join((shown or "").split(", ")[:5]) + (", …" if units > 5 else "")
    result.scope = f"new rows only: {spec.label} {operator} {since} — {units} {spec.unit_label}(s)" + (
        f": {listed}" if units else ""
    )
    return f"select t.* from {source} where {where}", [since]


def validate_tables(
    tables: Sequence[str] | None = None,
    warehouse: Path | None = None,
    reports: Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
    full: bool = False,
) -> list[TableResult]:
    """Validate each table's suite against the warehouse and update the Data Docs.

    A missing table is a failed result (named), not an exception: the auditor sees what was not
    there. Opens the warehouse read-only, so it never competes with a writer for the lock; then
    records the new watermarks of the incremental tables that passed (`full`: read every row).
    Uses the GX project `prepare_in_background` opened for these reports, if any.
    """
    suites = [suite_for(t) for t in tables] if tables is not None else list(SUITES)
    base = reports or reports_dir()
    prepared = _PREPARED.pop(base.resolve(), None)
    project = prepared.result() if prepared is not None else open_project(base, suites)
    results: list[TableResult] = []
    runs: list[_Run] = []
    warehouse = warehouse or warehouse_path()
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            watermarks = {} if full else read_watermarks(con)
            for suite in suites:
                result = TableResult(table=suite.table, success=True)
                results.append(result)
                if not _table_exists(con, suite.table):
                    result.success, result.error = False, "table not found in the warehouse"
                    continue
                checkpoint = project.checkpoint(suite)
                query = _new_rows_query(con, suite, watermarks.get(suite.table), result, full)
                failed: set[str] = set()
                run_name = f"{suite.table}: {result.scope}"[:250]
                for frame in _chunks(con, suite.table, chunk_rows, query):
                    outcome = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=_run_id(run_name))
                    result.rows += len(frame)
                    result.chunks += 1
                    for identifier, run in outcome.run_results.items():
                        runs.append(_Run(result, identifier, run.success, len(frame)))
                        result.evaluated = max(result.evaluated, run.statistics["evaluated_expectations"])
                        result.docs_pages.append(str(identifier))
                        for expectation in run.results:
                            if expectation.success:
                                continue
                            label = f"{expectation.expectation_config.type}({expectation.expectation_config.kwargs.get('column')})"
                            failed.add(label)
                            examples = expectation.result.get("partial_unexpected_list") or []
                            result.unexpected_examples.setdefault(label, [str(v) for v in examples[:5]])
                result.failed_expectations = sorted(failed)
                result.success = not failed
    finally:  # whatever was validated before an error is in the Data Docs too
        _update_data_docs(project, runs)
    save_watermarks(warehouse, results)
    write_offline_summary(project.docs_dir, results)
    return results


@dataclass
class _Run:
    """One GX validation result (one chunk of a table) and its Data Docs page."""

    table: TableResult
    identifier: Any  # ValidationResultIdentifier
    success: bool
    rows: int
    page: str | None = None  # relative to the docs folder, once rendered


def _update_data_docs(project: GXProject, runs: Sequence[_Run]) -> None:
    """Render the pages of this call's results, of their suites when new or changed, and the
    index, once.

    A Data Docs action per checkpoint rebuilt the index after every chunk; now the index costs
    the `INDEX_RESULTS` results it lists, whatever the history. Every run also gets a row in the
    plain-HTML history page, which keeps all of them."""
    if not runs:
        return
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    suites = sorted({run.table.table for run in runs})
    stale = [
        ExpectationSuiteIdentifier(name=name)
        for name in suites
        if name in project.changed
        or not project.docs_dir.joinpath("expectations", *name.split(".")).with_suffix(".html").exists()
    ]
    project.site.build(resource_identifiers=[run.identifier for run in runs] + stale, build_index=False)
    for run in runs:
        if (project.docs_dir / _page(run.identifier)).exists():
            run.page = run.table.latest_page = _page(run.identifier).as_posix()
    project.site.site_index_builder.recent = _recent_results(project, [r.identifier for r in reversed(runs)])
    project.site.site_index_builder.build()
    write_history(project.docs_dir, runs, Path(project.context.root_directory, "uncommitted", "validations"))


def _page(key: Any) -> Path:
    """Where GX renders a validation result's page, relative to the docs folder."""
    return Path(
        "validations",
        *key.expectation_suite_identifier.name.split("."),
        *key.run_id.to_tuple(),
        f"{key.batch_identifier}.html",
    )


RECENT_RESULTS = "ledgerbridge_recent_results.json"  # in the GX project's uncommitted/ folder


def _recent_results(project: GXProject, new: Sequence[Any]) -> list[Any]:
    """The newest `INDEX_RESULTS` validation results with a page, for the index: `new`, then
    those the previous build listed (kept in RECENT_RESULTS; GX's store is listed only when that
    file is missing, i.e. once)."""
    from great_expectations.data_context.types.resource_identifiers import ValidationResultIdentifier

    path = Path(project.context.root_directory) / "uncommitted" / RECENT_RESULTS
    try:
        old = [ValidationResultIdentifier.from_fixed_length_tuple(t) for t in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError, IndexError):
        old = sorted(
            project.context.validation_results_store.list_keys(),
            key=lambda k: k.run_id.run_time,
            reverse=True,
        )
    recent: list[Any] = []
    seen: set[tuple[str, ...]] = set()
    for key in [*new, *old]:
        if len(recent) == INDEX_RESULTS:
            break
        if key.to_fixed_length_tuple() not in seen and (project.docs_dir / _page(key)).exists():
            seen.add(key.to_fixed_length_tuple())
            recent.append(key)
    path.write_text(json.dumps([key.to_fixed_length_tuple() for key in recent]))
    return recent


def _run_id(name: str) -> Any:
    """The GX run identifier: its name (shown on the Data Docs page) says which rows were validated."""
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=name, run_time=datetime.now(UTC))


SUMMARY_START, SUMMARY_END = "<!-- ledgerbridge-summary -->", "<!-- /ledgerbridge-summary -->"


def write_offline_summary(docs_dir: Path, results: Sequence[TableResult]) -> None:
    """Put this build's verdict per table, as plain HTML, at the top of the Data Docs index.

    GX's index lists validations with JavaScript loaded from CDNs, so on an auditor's offline
    machine it shows an empty page; this table needs nothing but the file itself.
    """
    index = docs_dir / "index.html"
    if not index.exists():
        return
    rows = []
    for result in results:
        page = result.latest_page
        link = f'<a href="{html.escape(quote(page))}">latest</a>' if page else ""
        verdict = "PASSED" if result.success else "FAILED"
        detail = result.error or ", ".join(result.failed_expectations) or f"{result.evaluated} expectations"
        rows.append(
            f'<tr class="lb-{verdict.lower()}"><td>{html.escape(result.table)}</td><td>{verdict}</td>'
            f"<td>{result.rows}</td><td>{html.escape(result.scope)}</td><td>{html.escape(detail)}</td>"
            f"<td>{link}</td></tr>"
        )
    section = (
        f'{SUMMARY_START}<section id="ledgerbridge-summary" style="font-family:sans-serif;margin:1em">'
        f"<h2>LedgerBridge data quality — latest validation, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</h2>"
        '<table border="1" cellpadding="4" style="border-collapse:collapse">'
        "<tr><th>table</th><th>result</th><th>rows validated</th><th>which rows</th>"
        "<th>failed expectations / checked</th><th>page</th></tr>"
        + "".join(rows)
        + f'</table><p><a href="{HISTORY_PAGE}">Every validation run so far</a> (the list below shows the '
        f"latest {INDEX_RESULTS}).</p></section>{SUMMARY_END}"
    )
    text = index.read_text(encoding="utf-8")
    if SUMMARY_START in text:
        text = text[: text.index(SUMMARY_START)] + text[text.index(SUMMARY_END) + len(SUMMARY_END) :]
    body = re.search(r"<body[^>]*>", text)
    at = body.end() if body else 0
    index.write_text(text[:at] + section + text[at:], encoding="utf-8")


HISTORY_ROWS = "<!-- ledgerbridge-history-rows -->"


def write_history(docs_dir: Path, runs: Sequence[_Run], store: Path) -> None:
    """Add this call's validation results, newest first, to the history page auditors open for
    every validation ever run (plain HTML, readable offline; GX's index lists the latest only).

    Rows are inserted into the page, never rebuilt from GX's stored results, so a build costs
    what it validated; the first time, the page starts with the earlier results in GX's `store`."""
    path = docs_dir / HISTORY_PAGE
    if path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        text = _history_page(_stored_history(docs_dir, store, {r.identifier.to_tuple() for r in runs}))
    new = [
        _history_row(
            r.identifier.run_id.run_time,
            r.table.table,
            r.success,
            r.rows,
            r.identifier.run_id.run_name,
            r.page,
        )
        for r in reversed(runs)
    ]
    at = text.index(HISTORY_ROWS) + len(HISTORY_ROWS)
    path.write_text(text[:at] + "".join(new) + text[at:], encoding="utf-8")


def _history_row(
    at: datetime, table: str, success: bool, rows: int | None, run_name: str, page: str | None
) -> str:
    scope = run_name.removeprefix(f"{table}: ")
    link = f'<a href="{html.escape(quote(page))}">page</a>' if page else ""
    return (
        f"\n<tr><td>{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC</td><td>{html.escape(table)}</td>"
        f"<td>{'PASSED' if success else 'FAILED'}</td><td>{'' if rows is None else rows}</td>"
        f"<td>{html.escape(scope)}</td><td>{link}</td></tr>"
    )


def _history_page(rows: Sequence[str]) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>LedgerBridge data quality: every '
        'validation</title></head><body style="font-family:sans-serif;margin:1em">'
        "<h1>LedgerBridge data quality: every validation run</h1><p>One row per Great Expectations "
        'result (a table is validated in chunks), newest first. <a href="index.html">Data Docs</a></p>'
        '<table border="1" cellpadding="4" style="border-collapse:collapse"><tr><th>validated at</th>'
        "<th>table</th><th>result</th><th>rows</th><th>which rows</th><th>page</th></tr>"
        f"{HISTORY_ROWS}{''.join(rows)}\n</table></body></html>\n"
    )


def _stored_history(docs_dir: Path, store: Path, skip: set[tuple[str, ...]]) -> list[str]:
    """History rows for the results GX stored before the history page existed (but those in
    `skip`: this call's), newest first."""
    found = []
    for path in store.rglob("*.json") if store.is_dir() else ():
        parts = path.relative_to(store).parts
        if len(parts) != 5 or (*parts[:4], path.stem) in skip:  # schema/table/run name/run time/batch.json
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            at = datetime.strptime(parts[3], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
        except (OSError, ValueError):
            continue
        counts = [r.get("result", {}).get("element_count") for r in data.get("results", [])]
        rows = max((c for c in counts if isinstance(c, int)), default=None)
        page = Path("validations", *parts[:4], f"{path.stem}.html")
        table = f"{parts[0]}.{parts[1]}"
        found.append(
            (
                at,
                _history_row(
                    at,
                    table,
                    bool(data.get("success")),
                    rows,
                    parts[2],
                    page.as_posix() if (docs_dir / page).exists() else None,
                ),
            )
        )
    return [row for _, row in sorted(found, key=lambda item: item[0], reverse=True)]
