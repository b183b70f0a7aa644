"""The folded key and null tests (dbt_project/tests/generic/): one `not_null_columns` test per
model checks all its required columns, one `primary_key` test a key that is unique and required.
A null or a duplicate still fails the build, and the failing rows name the column or the key."""

from __future__ import annotations

import json
import shutil

import duckdb
from conftest import run_dbt

from orchestration import dbt_cli


def _status(run, name: str) -> str:
    """The status of the node `name` (a generic test's unique id ends in a hash)."""
    matches = [r["status"] for r in run.results if r["unique_id"].split(".")[2] == name]
    assert matches, f"{name} was not run:\n{run.output[-3000:]}"
    return matches[0]


def _stored_failures(warehouse, test: str) -> set[tuple]:
    """The rows the failing test returned, as `--store-failures` kept them."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return set(con.execute(f"select * from dbt_test__audit.{test}").fetchall())


def test_a_null_in_a_mart_column_fails_the_build_and_names_the_column(built_warehouse, tmp_path):
    """Nulls in two required columns of settlements the day's build does not rewrite (an
    incremental mart keeps them): the model's one null test fails, per column."""
    built = built_warehouse("summary")
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built.path, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        lines = [
            row[0]
            for row in con.execute(
                "select settlement_line_id from marts.fct_settlement_lines order by settlement_line_id limit 3"
            ).fetchall()
        ]
        con.execute(
            "update marts.fct_settlement_lines set entry_external_id = null where settlement_line_id in (?, ?)",
            lines[:2],
        )
        con.execute(
            "update marts.fct_settlement_lines set settlement_line_id = null where settlement_line_id = ?",
            [lines[2]],
        )

    run = run_dbt(
        ["build", "--exclude-resource-type", "unit_test", "--store-failures"], warehouse, tmp_path / "dbt"
    )
    assert run.returncode != 0
    test = "not_null_fct_settlement_lines"
    assert _status(run, test) == "fail", run.output[-3000:]
    assert f"Failure in test {test}" in run.output
    assert _stored_failures(warehouse, test) == {("entry_external_id", 2), ("settlement_line_id", 1)}
    # `ledgerbridge build` names the columns in its failure line (dbt prints only a row count)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "run_results.json").write_text(json.dumps({"results": run.results}))
    failed = [r for r in dbt_cli.read_run_results(tmp_path / "results") if r.name == test]
    line = dbt_cli.describe_failure(failed[0], warehouse)
    assert (
        "column_name=entry_external_id, null_rows=2" in line and "column_name=settlement_line_id" in line
    ), line
    # nothing downstream of the failing mart is built on it
    assert _status(run, "fct_settlement_journal_lines") == "skipped"
    # the staging rows it was built from have no nulls: only the mart's test fails
    assert _status(run, "not_null_stg_amazon__settlement_lines") == "pass"


def test_a_duplicate_or_missing_key_fails_its_primary_key_test(built_warehouse, tmp_path):
    built = built_warehouse("summary")
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built.path, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        (settlement,) = con.execute("select min(settlement_id) from marts.fct_settlements").fetchone()
        con.execute(
            "insert into marts.fct_settlements select * from marts.fct_settlements where settlement_id = ?",
            [settlement],
        )
        con.execute(
            "insert into marts.fct_settlements select * replace (null as settlement_id) "
            "from marts.fct_settlements where settlement_id = ? limit 1",
            [settlement],
        )

    test = "primary_key_fct_settlements_settlement_id"
    run = run_dbt(["test", "--store-failures", "--select", test], warehouse, tmp_path / "dbt")
    assert _status(run, test) == "fail", run.output[-3000:]
    assert _stored_failures(warehouse, test) == {(None, 1), (settlement, 2)}
    assert _status(built.run, test) == "pass"
