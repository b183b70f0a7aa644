"""Tests scoped to the units a build wrote (`where: __written_units__`, macros/scoped_tests.sql).

An incremental build tests uniqueness on the settlements and orders it rewrote, not the whole
history; these tests check that a problem in a new unit still fails the build, that a failure is
not forgotten by the next build, and that `--vars '{full_tests: true}'` reads every row.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import run_dbt

NEW_SETTLEMENT = "99999999901"


def _result(run, name: str) -> dict:
    matches = [r for r in run.results if r["unique_id"].split(".")[2] == name]
    assert matches, f"{name} was not run:\n{run.output[-3000:]}"
    return matches[0]


def _copy(built, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / "warehouse.duckdb"
    shutil.copyfile(built.path, warehouse)
    return warehouse


def _new_order(con: duckdb.DuckDBPyConnection, source_order: str, order_id: str, item_id_sql: str) -> None:
    """A copy of `source_order` as a new order `order_id` (updated a day later, so loaded since the
    last build), its items' ids given by `item_id_sql` (an expression of the old order_item_id)."""
    con.execute(
        "insert into raw_amazon.orders by name select * replace (? as order_id, "
        "last_updated_at + interval 1 day as last_updated_at) from raw_amazon.orders where order_id = ?",
        [order_id, source_order],
    )
    con.execute(
        f"insert into raw_amazon.order_items by name select * replace (? as order_id, {item_id_sql} as order_item_id, "
        "last_updated_at + interval 1 day as last_updated_at) from raw_amazon.order_items where order_id = ?",
        [order_id, source_order],
    )


@pytest.fixture(scope="module")
def broken_day(built_warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The summary build, then a day bringing a settlement with a line twice and an order whose line
    id equals an older order's, built twice; then an order item without an id, tested."""
    built = built_warehouse("summary")
    assert built.run.returncode == 0, built.run.output[-3000:]
    work = tmp_path_factory.mktemp("scoped-broken")
    warehouse = _copy(built, work)
    with duckdb.connect(str(warehouse)) as con:
        settlement, line = con.execute(
            "select settlement_id, min(line_number) from raw_amazon.settlement_lines "
            "where transaction_type <> 'Order' group by settlement_id order by settlement_id limit 1"
        ).fetchone()
        con.execute(
            "insert into raw_amazon.settlements by name select * replace (? as settlement_id, "
            "now() as loaded_at) from raw_amazon.settlements where settlement_id = ?",
            [NEW_SETTLEMENT, settlement],
        )
        copy_lines = (
            "insert into raw_amazon.settlement_lines by name select * replace (? as settlement_id) "
            "from raw_amazon.settlement_lines where settlement_id = ?"
        )
        con.execute(copy_lines, [NEW_SETTLEMENT, settlement])
        con.execute(copy_lines + " and line_number = ?", [NEW_SETTLEMENT, settlement, line])  # twice
        # '<a>-<b>-<c>' with item <i> has the line id '<a>-<b>-<c>-<i>'; so has order '<a>-<b>' with item '<c>-<i>'
        old_order, old_item = con.execute(
            "select order_id, order_item_id from raw_amazon.order_items "
            "where order_id like '%-%-%' order by order_id limit 1"
        ).fetchone()
        prefix, last = old_order.rsplit("-", 1)
        assert not con.execute("select 1 from raw_amazon.orders where order_id = ?", [prefix]).fetchone()
        _new_order(con, old_order, prefix, f"'{last}-' || order_item_id")
    runs = [run_dbt(["build"], warehouse, work / f"dbt{i}") for i in (1, 2)]
    with duckdb.connect(str(warehouse)) as con:
        _new_order(con, old_order, old_order + "-noitemid", "null")
    items = run_dbt(["test", "--select", "stg_amazon__order_items"], warehouse, work / "dbt3")
    return {
        "runs": runs,
        "items": items,
        "warehouse": warehouse,
        "colliding_line": f"{old_order}-{old_item}",
        "prefix_order": prefix,
    }


def test_a_duplicate_line_in_a_new_settlement_fails_the_build(broken_day):
    for i, run in enumerate(broken_day["runs"]):
        result = _result(run, "unique_fct_settlement_lines_settlement_line_id")
        assert result["status"] == "fail" and result["failures"] == 1, run.output[-3000:]
        assert run.returncode != 0
        if i == 0:  # scoped: the new settlement only
            code = result["compiled_code"]
            assert "where (settlement_id in (" in code and f"'{NEW_SETTLEMENT}'" in code, code


def test_an_order_line_id_of_another_order_fails_the_build(broken_day):
    """The new order's line has the id of an older order's line: not a duplicate within the new
    order, caught because the id does not name its order."""
    with duckdb.connect(str(broken_day["warehouse"]), read_only=True) as con:
        orders = con.execute(
            "select order_id from marts.fct_order_lines where order_line_id = ? order by 1",
            [broken_day["colliding_line"]],
        ).fetchall()
    assert len(orders) == 2 and (broken_day["prefix_order"],) in orders  # the duplicate is in the table
    for i, run in enumerate(broken_day["runs"]):
        result = _result(run, "unique_fct_order_lines_order_line_id")
        assert result["status"] == "fail", run.output[-3000:]
        if i == 0:
            assert (
                "replaced_units" in result["compiled_code"]
                or broken_day["prefix_order"] in result["compiled_code"]
            )
        else:  # the failure is not forgotten: the next build reads the whole table
            assert "dbt_subquery" not in result["compiled_code"]


def test_an_order_item_without_id_fails(broken_day):
    """Its order_line_id would be null (a null key is dropped by replace_units): caught in staging."""
    run = broken_day["items"]
    result = _result(run, "not_null_stg_amazon__order_items")  # one row per column with nulls
    assert result["status"] == "fail" and result["failures"] == 1, run.output[-3000:]


def test_scoped_tests_of_untouched_units_still_pass(broken_day):
    first = broken_day["runs"][0]
    for name in ("unique_fct_orders_order_id", "unique_fct_orders_netsuite_external_id"):
        result = _result(first, name)
        assert result["status"] == "pass" and "dbt_subquery" in result["compiled_code"], name


def test_a_clean_day_is_tested_on_its_new_units_and_in_full_on_request(
    built_warehouse, raw_warehouse, tmp_path
):
    built = built_warehouse("summary")
    warehouse = _copy(built, tmp_path)
    shipped = next(o for o in raw_warehouse.seller.orders if o["status"] == "Shipped" and o["items"])
    new_order = shipped["order_id"] + "-new1"
    with duckdb.connect(str(warehouse)) as con:
        _new_order(con, shipped["order_id"], new_order, "order_item_id")
        marks_before = dict(con.execute("select test_id, log_id from audit.dbt_test_watermarks").fetchall())

    run = run_dbt(["build"], warehouse, tmp_path / "dbt")
    assert run.returncode == 0, run.output[-3000:]
    for name in ("unique_fct_order_lines_order_line_id", "unique_fct_orders_order_id"):
        result = _result(run, name)
        assert result["status"] == "pass"
        assert new_order in result["compiled_code"], result["compiled_code"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marks_after = dict(con.execute("select test_id, log_id from audit.dbt_test_watermarks").fetchall())
    moved = {t for t in marks_before if marks_after.get(t, -1) > marks_before[t]}
    assert any("unique_fct_orders_order_id" in t for t in moved), (marks_before, marks_after)

    full = run_dbt(
        ["compile", "--select", "unique_fct_orders_order_id", "--vars", json.dumps({"full_tests": True})],
        warehouse,
        tmp_path / "full",
    )
    assert full.returncode == 0, full.output[-3000:]
    assert "dbt_subquery" not in _result(full, "unique_fct_orders_order_id")["compiled_code"]
