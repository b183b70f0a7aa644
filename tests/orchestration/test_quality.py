"""Great Expectations on the real warehouse tables: clean data passes; data broken on purpose fails,
in the Data Docs auditors open and in the Dagster asset check that gates publishing."""

from __future__ import annotations

import dataclasses
import html
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import dagster as dg
import duckdb
import pytest

from orchestration import quality
from orchestration.assets.publish import PUBLISHED_KEY
from orchestration.checks import CHECK_NAME
from orchestration.definitions import defs

SETTLEMENTS = dg.AssetKey(["marts", "fct_settlements"])


def _warehouse(path: Path, broken: bool) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.fct_settlements (settlement_id varchar, marketplace varchar, "
            "currency varchar, reported_total decimal(18,2), computed_total decimal(18,2), "
            "variance decimal(18,2), status varchar)"
        )
        con.execute(
            "insert into marts.fct_settlements select 'S' || i, 'US', 'USD', 10.25, 10.25, 0, "
            "case when i % 3 = 0 then 'blocked' else 'balanced' end from range(5000) t(i)"
        )
        if broken:  # a status nobody knows, and a settlement counted twice
            con.execute(
                "insert into marts.fct_settlements values ('S7', 'US', 'USD', 1, 1, 0, 'half-posted')"
            )


def test_clean_tables_pass_and_broken_tables_fail_in_data_docs(lb_paths: dict[str, Path]) -> None:
    _warehouse(lb_paths["warehouse"], broken=False)
    [clean] = quality.validate_tables(["marts.fct_settlements"], chunk_rows=2048)
    assert clean.success, clean.summary()
    assert clean.rows == 5000 and clean.chunks == 3  # read from DuckDB in chunks, every chunk validated
    assert clean.evaluated == len(quality.suite_for("marts.fct_settlements").expectations)

    _warehouse(lb_paths["warehouse"], broken=True)
    [broken] = quality.validate_tables(["marts.fct_settlements"])
    assert not broken.success
    assert "expect_column_values_to_be_in_set(status)" in broken.failed_expectations
    assert "expect_column_values_to_be_unique(settlement_id)" in broken.failed_expectations
    assert broken.unexpected_examples["expect_column_values_to_be_in_set(status)"] == ["half-posted"]

    docs = lb_paths["reports"] / "data_docs"
    index = (docs / "index.html").read_text()
    assert "marts.fct_settlements" in index and "ge-failed-icon" in index
    # Readable offline too: the plain-HTML summary at the top names the failure (no CDN scripts).
    summary = index[index.index('id="ledgerbridge-summary"') : index.index("/ledgerbridge-summary")]
    assert "marts.fct_settlements</td><td>FAILED" in summary and "to_be_in_set(status)" in summary
    assert index.count('id="ledgerbridge-summary"') == 1  # replaced per run, not stacked
    pages = list((docs / "validations" / "marts" / "fct_settlements").rglob("*.html"))
    assert len(pages) == 4  # 3 clean chunks + the broken run, all kept for the auditor
    failing = [p.read_text() for p in pages if "half-posted" in p.read_text()]
    assert len(failing) == 1 and "Failed" in failing[0]

    [missing] = quality.validate_tables(["marts.fct_orders"])
    assert not missing.success and missing.error == "table not found in the warehouse"


def test_dagster_asset_check_fails_on_broken_marts_and_blocks_publish(lb_paths: dict[str, Path]) -> None:
    _warehouse(lb_paths["warehouse"], broken=True)
    check_key = dg.AssetCheckKey(SETTLEMENTS, CHECK_NAME)
    assert defs.resolve_asset_graph().get_check_spec(check_key).blocking
    # The check and the publish step downstream of fct_settlements, in one run.
    selection = dg.AssetSelection.checks(check_key) | dg.AssetSelection.assets(PUBLISHED_KEY)
    check_then_publish = dg.define_asset_job(
        "gx_then_publish", selection=selection, executor_def=dg.in_process_executor
    )
    job = dg.Definitions.merge(defs, dg.Definitions(jobs=[check_then_publish])).resolve_job_def(
        "gx_then_publish"
    )
    result = job.execute_in_process(raise_on_error=False)
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.asset_key == SETTLEMENTS and not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "expect_column_values_to_be_in_set(status)" in evaluation.description
    assert not result.success
    assert PUBLISHED_KEY not in {e.asset_key for e in result.get_asset_materialization_events()}
    assert not lb_paths["published"].exists()  # finance never sees the failing build
    assert (lb_paths["reports"] / "data_docs" / "index.html").exists()

    # Fixed data: the same run now passes the check and publishes.
    _warehouse(lb_paths["warehouse"], broken=False)
    fixed = job.execute_in_process(raise_on_error=False)
    assert fixed.success and [e.passed for e in fixed.get_asset_check_evaluations()] == [True]
    assert lb_paths["published"].exists()


def _settlement(con: duckdb.DuckDBPyConnection, settlement_id: str, loaded_at: str, lines: int) -> None:
    con.execute("insert into raw_amazon.settlements values (?, ?)", [settlement_id, loaded_at])
    con.execute(
        "insert into raw_amazon.settlement_lines select ?, i + 1, 1.25, 'ItemPrice' from range(?) t(i)",
        [settlement_id, lines],
    )


def test_settlement_lines_are_validated_incrementally_up_to_a_watermark(lb_paths: dict[str, Path]) -> None:
    table = "raw_amazon.settlement_lines"
    with duckdb.connect(str(lb_paths["warehouse"])) as con:
        con.execute("create schema raw_amazon")
        con.execute("create table raw_amazon.settlements (settlement_id varchar, loaded_at timestamptz)")
        con.execute(
            "create table raw_amazon.settlement_lines (settlement_id varchar, line_number bigint, "
            "amount decimal(18,2), amount_type varchar)"
        )
        _settlement(con, "S1", "2026-01-01 10:00:00+00", 3000)

    [first] = quality.validate_tables([table])  # no watermark yet: every row
    assert first.success and first.rows == 3000 and first.scope.startswith("all rows")

    with duckdb.connect(str(lb_paths["warehouse"])) as con:
        _settlement(con, "S2", "2026-01-02 10:00:00+00", 10)
        con.execute(
            "update raw_amazon.settlement_lines set amount = null where settlement_id = 'S2' and line_number = 4"
        )
    [second] = quality.validate_tables([table])  # only the new settlement's rows, and its bad row is caught
    assert not second.success and second.rows == 10
    assert "expect_column_values_to_not_be_null(amount)" in second.failed_expectations
    assert "new rows only" in second.scope and "1 settlement(s): S2" in second.scope

    [again] = quality.validate_tables([table])  # a failed table keeps its watermark: validated again
    assert not again.success and again.rows == 10

    with duckdb.connect(str(lb_paths["warehouse"])) as con:
        con.execute("update raw_amazon.settlement_lines set amount = 0 where amount is null")
    [fixed] = quality.validate_tables([table])
    assert fixed.success and fixed.rows == 10
    [quiet] = quality.validate_tables([table])  # nothing new since
    assert quiet.success and quiet.rows == 0 and "0 settlement(s)" in quiet.scope

    # A re-imported settlement (new loaded_at) is validated again; --full-refresh reads everything.
    with duckdb.connect(str(lb_paths["warehouse"])) as con:
        con.execute(
            "update raw_amazon.settlements set loaded_at = '2026-01-03 10:00:00+00' where settlement_id = 'S1'"
        )
    [reimported] = quality.validate_tables([table])
    assert reimported.rows == 3000 and "S1" in reimported.scope
    [full] = quality.validate_tables([table], full=True)
    assert full.success and full.rows == 3010

    index = (lb_paths["reports"] / "data_docs" / "index.html").read_text()
    summary = index[index.index('id="ledgerbridge-summary"') : index.index("/ledgerbridge-summary")]
    assert "raw_amazon.settlement_lines</td><td>PASSED</td><td>3010</td><td>all rows" in summary


def test_gx_is_prepared_while_dbt_holds_the_warehouse_and_its_errors_surface(
    lb_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _warehouse(lb_paths["warehouse"], broken=True)
    # `ledgerbridge build` prepares GX while dbt writes: another process holds the warehouse lock.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
            "sys.stdin.read()",
            str(lb_paths["warehouse"]),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        quality.prepare_in_background().result(timeout=300)  # never opens the warehouse
    finally:
        holder.communicate("")
    [result] = quality.validate_tables(["marts.fct_settlements"])  # the prepared project, then the data
    assert not result.success and "expect_column_values_to_be_in_set(status)" in result.failed_expectations

    # A failure while preparing (GX not installed, a broken project) is raised by the validation.
    def broken(*_args: object) -> None:
        raise ImportError("No module named 'great_expectations'")

    monkeypatch.setattr(quality, "open_project", broken)
    quality.prepare_in_background()
    with pytest.raises(ImportError, match="great_expectations"):
        quality.validate_tables(["marts.fct_settlements"])


def test_data_docs_index_lists_the_latest_results_and_the_history_page_keeps_every_one(
    lb_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quality, "INDEX_RESULTS", 4)
    _warehouse(lb_paths["warehouse"], broken=False)
    for _ in range(2):  # 3 chunks each: 6 results
        assert quality.validate_tables(["marts.fct_settlements"], chunk_rows=2048)[0].success

    # Later builds neither list GX's stored results nor walk the site's pages: their cost does
    # not grow with the history.
    from great_expectations.data_context.store.tuple_store_backend import TupleFilesystemStoreBackend

    walked: list[Path] = []
    list_keys = TupleFilesystemStoreBackend.list_keys

    def spy(self: TupleFilesystemStoreBackend, prefix: tuple = ()) -> list:
        walked.append(Path(self.full_base_directory, *prefix))
        return list_keys(self, prefix)

    monkeypatch.setattr(TupleFilesystemStoreBackend, "list_keys", spy)
    _warehouse(lb_paths["warehouse"], broken=True)
    assert not quality.validate_tables(["marts.fct_settlements"])[0].success  # the 7th result
    docs = lb_paths["reports"] / "data_docs"
    assert walked and all(p.name != "validations" and p != docs for p in walked), walked

    index = (docs / "index.html").read_text()
    assert index.count("'_table_row_link_path': 'validations/") == 4  # the latest 4, newest first
    assert "ge-failed-icon" in index and 'href="history.html"' in index

    pages = sorted((docs / "validations").rglob("*.html"))
    assert len(pages) == 7  # every page kept...
    history = (docs / "history.html").read_text()
    rows = history.split("<!-- ledgerbridge-history-rows -->")[1].split("</table>")[0].strip().splitlines()
    assert len(rows) == 7  # ...and listed, newest (the failure) first, readable offline
    assert "<td>FAILED</td><td>5001</td>" in rows[0] and all("<td>PASSED</td>" in r for r in rows[1:])
    linked = {unquote(html.unescape(href)) for href in re.findall(r'href="([^"]+)"', "".join(rows))}
    assert linked == {p.relative_to(docs).as_posix() for p in pages}

    # A suite changed in code takes effect at the next build (the saved one is not reused), and
    # its page is rendered again.
    suite = quality.suite_for("marts.fct_settlements")
    grown = dataclasses.replace(suite, expectations=(*suite.expectations, quality._not_null("variance")))
    monkeypatch.setattr(quality, "SUITES", (grown,))
    [again] = quality.validate_tables(["marts.fct_settlements"])
    assert again.evaluated == len(suite.expectations) + 1
    suite_page = (docs / "expectations" / "marts" / "fct_settlements.html").read_text()
    assert re.search(r"<h5[^>]*>\s*variance\s*</h5>", suite_page)  # a section for the new column
