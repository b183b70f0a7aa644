"""Write-audit-publish: finance reads a copy that changes all at once, and only after a passing audit."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration import build, publish
from orchestration.cli import CommandError


def _write_marts(warehouse: Path, statuses: list[str]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists reverse_etl")
        con.execute(
            "create or replace table marts.fct_settlements (settlement_id varchar, currency varchar, "
            "reported_total decimal(18,2), computed_total decimal(18,2), variance decimal(18,2), status varchar)"
        )
        for i, status in enumerate(statuses):
            con.execute(
                "insert into marts.fct_settlements values (?, 'USD', 100.10, 100.10, 0.00, ?)",
                [f"S{i}", status],
            )
        con.execute("create or replace table marts.rpt_exceptions (exception_type varchar, detail varchar)")
        con.execute(
            "insert into marts.rpt_exceptions values ('unmapped_sku', 'SKU-9'), ('unmapped_sku', 'SKU-8')"
        )
        con.execute(
            "create or replace table reverse_etl.sync_records (record_type varchar, external_id varchar, "
            "status varchar, pushed_at timestamptz, updated_at timestamptz)"
        )
        con.execute(
            "insert into reverse_etl.sync_records values ('journalEntry', 'amz-je-S0', 'pushed', now(), now())"
        )


def test_publish_copies_marts_read_only_and_swaps_atomically(lb_paths: dict[str, Path]) -> None:
    _write_marts(lb_paths["warehouse"], ["balanced", "blocked"])
    first = publish.publish()
    assert first.path == lb_paths["published"]
    assert first.tables["marts.fct_settlements"] == 2
    assert not os.stat(first.path).st_mode & stat.S_IWUSR  # the finance copy is read-only

    # A reader holding the old copy keeps a consistent snapshot while a new build is published.
    reader = duckdb.connect(str(first.path), read_only=True)
    _write_marts(lb_paths["warehouse"], ["balanced", "balanced", "balanced"])
    second = publish.publish()
    assert reader.execute("select count(*) from marts.fct_settlements").fetchone()[0] == 2
    reader.close()
    with duckdb.connect(str(second.path), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_settlements").fetchone()[0] == 3
        total = con.execute("select sum(reported_total) from marts.fct_settlements").fetchone()[0]
        assert total == Decimal("300.30")  # money stays DECIMAL in the copy
        assert con.execute("select count(*) from reverse_etl.sync_records").fetchone()[0] == 1
    # No temporary file is left behind: the published copy is a regular file, a hard link to one of
    # the two generation files (the other is what the next publish updates).
    assert sorted(p.name for p in lb_paths["published"].parent.iterdir() if "published" in p.name) == [
        ".published.duckdb.gen-a",
        ".published.duckdb.gen-b",
        "published.duckdb",
    ]
    assert stat.S_ISREG(os.lstat(second.path).st_mode)
    assert any(os.path.samefile(second.path, g) for g in publish.generation_paths(second.path))
    assert publish.last_publish().build_id == second.build_id


def test_publish_refuses_a_warehouse_without_marts(lb_paths: dict[str, Path]) -> None:
    duckdb.connect(str(lb_paths["warehouse"])).close()
    with pytest.raises(publish.PublishError, match="no marts"):
        publish.publish()
    assert not lb_paths["published"].exists()
    assert [p.name for p in lb_paths["published"].parent.iterdir()] == ["warehouse.duckdb"]


def test_failing_build_does_not_publish_and_status_says_so(
    lb_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A good build was published earlier.
    _write_marts(lb_paths["warehouse"], ["balanced"])
    before = publish.publish()
    publish.record_audit(passed=True, failures=[], published=True, build_id=before.build_id)

    # Now dbt reports a failing reconciliation test: the build must stop before publishing.
    _write_marts(lb_paths["warehouse"], ["balanced", "variance"])
    target = lb_paths["warehouse"].parent / "dbt_target"
    target.mkdir()
    (target / "run_results.json").write_text(
        '{"results": [{"unique_id": "test.ledgerbridge.assert_settlements_balance.abc", "status": "fail",'
        ' "message": "Got 1 result", "failures": 1},'
        ' {"unique_id": "model.ledgerbridge.fct_settlements", "status": "success", "message": "OK"}]}'
    )
    monkeypatch.setattr(build.dbt_cli, "ensure_manifest", lambda: None)
    monkeypatch.setattr(build.dbt_cli, "run_dbt", lambda args: _Done(1))
    read_results = build.dbt_cli.read_run_results
    monkeypatch.setattr(build.dbt_cli, "read_run_results", lambda: read_results(target))
    monkeypatch.setattr(build.quality, "validate_tables", lambda: [])
    with pytest.raises(CommandError, match="assert_settlements_balance") as failure:
        build.build_command(argparse.Namespace(mode="summary"), lambda _m: None)
    assert "\n" not in str(failure.value)
    assert publish.last_publish().build_id == before.build_id  # finance still sees the good build
    audit = publish.last_audit()
    assert audit is not None and not audit.passed and not audit.published

    assert build.status_command(argparse.Namespace(), lambda _m: None) == 0
    out = capsys.readouterr().out
    assert "FAILED" in out and "assert_settlements_balance" in out
    assert "settlements: balanced 1" in out  # read from the published (old) copy
    assert "open exceptions: unmapped_sku 2" in out
    assert "journalEntry: pushed 1" in out


class _Done:
    def __init__(self, returncode: int) -> None:
        self.returncode, self.stdout, self.stderr = returncode, "", ""


def test_dbt_build_args_pass_the_accounting_mode() -> None:
    assert build.dbt_cli.build_args(None) == ["build", "--exclude-resource-type", "unit_test"]
    args = build.dbt_cli.build_args("order")
    assert args[:2] == ["build", "--vars"] and '"accounting_mode": "order"' in args[2]


# -- updating the published copy in place ------------------------------------------------------

# What dbt's on-run-start creates (dbt_project/macros/publish_log.sql, create_publish_log).
LOG_DDL = [
    "create schema if not exists audit",
    "create sequence if not exists audit.replaced_units_seq",
    "create table if not exists audit.replaced_units (log_id bigint default nextval('audit.replaced_units_seq'), "
    "relation_schema varchar, relation_name varchar, kind varchar, unique_key varchar, unit_key varchar, "
    "logged_at timestamptz default now())",
]


def _build(warehouse: Path, lines: dict[str, list[str]], replaced: list[str] | None) -> None:
    """What a dbt build does to the warehouse, by hand: `marts.fct_order_lines` (incremental, unit
    order_id) holds `lines` (order -> amounts); `replaced` None is a full rebuild (whole-table
    marker), else those orders' rows are replaced and logged. `marts.fct_settlements` (a table
    model) is rebuilt every time."""
    with duckdb.connect(str(warehouse)) as con:
        for statement in LOG_DDL:
            con.execute(statement)
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists reverse_etl")
        rows = [
            (order, n, Decimal(amount))
            for order, amounts in lines.items()
            for n, amount in enumerate(amounts)
        ]
        con.execute("begin")
        if replaced is None:
            con.execute(
                "create or replace table marts.fct_order_lines (order_id varchar, line integer, amount decimal(18,2))"
            )
            con.execute(
                "insert into audit.replaced_units (relation_schema, relation_name, kind) "
                "values ('marts', 'fct_order_lines', 'table')"
            )
            chosen = rows
        else:
            con.execute(
                "delete from marts.fct_order_lines where order_id in (select unnest(?::varchar[]))",
                [replaced],
            )
            con.execute(
                "insert into audit.replaced_units (relation_schema, relation_name, kind) "
                "values ('marts', 'fct_order_lines', 'build')"
            )
            con.execute(
                "insert into audit.replaced_units (relation_schema, relation_name, kind, unique_key, unit_key) "
                "select 'marts', 'fct_order_lines', 'unit', 'order_id', unnest(?::varchar[])",
                [replaced],
            )
            chosen = [row for row in rows if row[0] in replaced]
        if chosen:
            con.executemany("insert into marts.fct_order_lines values (?, ?, ?)", chosen)
        con.execute(
            "create or replace table marts.fct_settlements as "
            "select 'S' || count(*) as settlement_id, sum(amount) as total from marts.fct_order_lines"
        )
        con.execute(
            "insert into audit.replaced_units (relation_schema, relation_name, kind) "
            "values ('marts', 'fct_settlements', 'table')"
        )
        con.execute("commit")


def _push(warehouse: Path, outcomes: dict[str, str], when: str) -> None:
    """What the push does: upsert sync_records rows by key, stamping updated_at (reverse_etl/state.py)."""
    from reverse_etl import state

    with duckdb.connect(str(warehouse)) as con:
        state.ensure_tables(con)
        for external_id, status in outcomes.items():
            con.execute(
                "insert into reverse_etl.sync_records (record_type, external_id, status, updated_at) "
                "values ('salesOrder', ?, ?, ?::timestamptz) on conflict (record_type, external_id) "
                "do update set status = excluded.status, updated_at = excluded.updated_at",
                [external_id, status, when],
            )


def assert_published_equals_warehouse(published: Path, warehouse: Path) -> int:
    """Every marts and reverse_etl table has exactly the warehouse's rows in the published copy."""
    with duckdb.connect(str(published), read_only=True) as con:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        here = con.execute("select current_database()").fetchone()[0]
        tables = publish._tables(con, "wh", publish.PUBLISHED_SCHEMAS)
        assert tables and tables == publish._tables(con, here, publish.PUBLISHED_SCHEMAS)
        for schema, table in tables:
            mine, theirs = f'"{schema}"."{table}"', f'wh."{schema}"."{table}"'
            only_published = con.execute(f"select * from {mine} except all select * from {theirs}").fetchall()
            only_warehouse = con.execute(f"select * from {theirs} except all select * from {mine}").fetchall()
            assert not only_published and not only_warehouse, (
                f"{schema}.{table}: only published {only_published[:3]}; only in the warehouse {only_warehouse[:3]}"
            )
    return len(tables)


def test_publish_updates_the_other_generation_with_what_changed(lb_paths: dict[str, Path]) -> None:
    warehouse, target = lb_paths["warehouse"], lb_paths["published"]
    day0 = {"A": ["10.00", "2.50"], "B": ["7.00"], "C": ["1.00", "1.00", "1.00"]}
    _build(warehouse, day0, replaced=None)
    _push(warehouse, {"amz-so-A": "pushed", "amz-so-B": "failed"}, "2026-05-01 10:00:00+00")
    first, second = publish.publish(), publish.publish()
    assert first.fallback == ".published.duckdb.gen-a does not exist yet; copied every table"
    assert (
        second.fallback
        == ".published.duckdb.gen-b does not exist yet; updated a copy of .published.duckdb.gen-a"
    )
    assert_published_equals_warehouse(target, warehouse)

    # Day 1: order A lost a line (a unit that shrank), B vanished, D is new; B's push was retried.
    day1 = {"A": ["10.00"], "C": ["1.00", "1.00", "1.00"], "D": ["4.00", "4.00"]}
    _build(warehouse, day1, replaced=["A", "B", "D"])
    _push(warehouse, {"amz-so-B": "pushed", "amz-so-D": "pushed"}, "2026-05-02 10:00:00+00")
    third = publish.publish()
    assert third.fallback is None
    assert third.how["marts.fct_order_lines"] == "updated"
    assert third.how["reverse_etl.sync_records"] == "updated"
    assert third.how["marts.fct_settlements"] == "copied"  # a table model: small, copied whole
    assert assert_published_equals_warehouse(target, warehouse) == 4  # + sync_previews

    # Day 2: C changes. The other generation catches up on day 1 and day 2 at once.
    day2 = {**day1, "C": ["1.00", "9.99"]}
    _build(warehouse, day2, replaced=["C"])
    fourth = publish.publish()
    assert fourth.fallback is None and fourth.how["marts.fct_order_lines"] == "updated"
    assert_published_equals_warehouse(target, warehouse)
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute(
            "select order_id, count(*) from marts.fct_order_lines group by 1 order by 1"
        ).fetchall() == [
            ("A", 1),
            ("C", 2),
            ("D", 2),
        ]

    # Once both generations caught up, the incremental table is left alone; a full rebuild is
    # copied whole.
    assert publish.publish().how["marts.fct_order_lines"] == "updated"  # the generation of day 1
    assert_published_equals_warehouse(target, warehouse)
    _build(warehouse, day2, replaced=[])  # a build that replaced nothing
    assert publish.publish().how["marts.fct_order_lines"] == "unchanged"
    assert_published_equals_warehouse(target, warehouse)
    _build(warehouse, day2, replaced=None)
    assert publish.publish().how["marts.fct_order_lines"] == "copied"
    assert_published_equals_warehouse(target, warehouse)
    assert not os.stat(target).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert publish.last_publish().tables["marts.fct_order_lines"] == 5

    # The change log keeps only what a generation still needs (plus each table's newest row).
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from audit.replaced_units").fetchone()[0] <= 4


def test_pruning_keeps_the_log_rows_a_scoped_dbt_test_has_not_read(lb_paths: dict[str, Path]) -> None:
    """dbt's scoped tests (macros/scoped_tests.sql) read the log past their watermark: a test that
    last passed before day 1 (its run was cut short) must still find day 1's orders after two
    publishes, or it would never check them."""
    warehouse = lb_paths["warehouse"]
    _build(warehouse, {"A": ["1.00"], "B": ["2.00"]}, replaced=None)
    publish.publish()
    with duckdb.connect(str(warehouse)) as con:
        (mark,) = con.execute("select max(log_id) from audit.replaced_units").fetchone()
        con.execute("create table audit.dbt_test_watermarks (test_id varchar, log_id bigint)")
        con.execute("insert into audit.dbt_test_watermarks values ('test.unique_order_id', ?)", [mark])
    _build(warehouse, {"A": ["1.00"], "B": ["3.00"]}, replaced=["B"])
    _build(warehouse, {"A": ["4.00"], "B": ["3.00"]}, replaced=["A"])
    publish.publish(), publish.publish()  # both generations now cover days 1 and 2
    with duckdb.connect(str(warehouse), read_only=True) as con:
        unread = con.execute(
            "select unit_key from audit.replaced_units where log_id > ? and kind = 'unit' order by log_id",
            [mark],
        ).fetchall()
    assert unread == [("B",), ("A",)]


def _hold(path: Path) -> subprocess.Popen:
    """Another process reading `path` (as finance does): prints its row count, waits for a line on
    stdin, prints the count again from the same connection."""
    script = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "count = 'select count(*), sum(amount) from marts.fct_order_lines'\n"
        "print(con.execute(count).fetchone(), flush=True)\n"
        "sys.stdin.readline()\n"
        "print(con.execute(count).fetchone(), flush=True)\n"
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    return reader


def test_a_reader_holding_the_other_generation_keeps_it(lb_paths: dict[str, Path]) -> None:
    warehouse, target = lb_paths["warehouse"], lb_paths["published"]
    lines = {"A": ["1.00"], "B": ["2.00"]}
    _build(warehouse, lines, replaced=None)
    publish.publish()
    publish.publish()
    reader = _hold(target)  # holds the generation the next publish but one would update in place
    try:
        seen = reader.stdout.readline()
        _build(warehouse, {**lines, "C": ["3.00"]}, replaced=["C"])
        assert publish.publish().fallback is None  # the other generation: free
        _build(warehouse, {"A": ["1.00"], "C": ["3.00", "4.00"]}, replaced=["B", "C"])
        blocked = publish.publish()
        # The file it holds is left alone: a copy of the published one, updated, takes its name.
        assert "cannot be opened for writing" in blocked.fallback and "updated a copy of" in blocked.fallback
        assert_published_equals_warehouse(target, warehouse)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline() == seen  # the reader kept its snapshot
    finally:
        reader.communicate(timeout=30)
    # The reader is gone: publishing goes back to updating in place.
    _build(warehouse, {"A": ["1.50"], "C": ["3.00", "4.00"]}, replaced=["A"])
    again = publish.publish()
    assert again.fallback is None and again.how["marts.fct_order_lines"] == "updated"
    assert_published_equals_warehouse(target, warehouse)
    assert sorted(p.name for p in target.parent.iterdir() if "published" in p.name) == [
        ".published.duckdb.gen-a",
        ".published.duckdb.gen-b",
        "published.duckdb",
    ]


def test_publish_copies_what_the_log_cannot_vouch_for(lb_paths: dict[str, Path]) -> None:
    warehouse, target = lb_paths["warehouse"], lb_paths["published"]
    lines = {"A": ["1.00"], "B": ["2.00"]}
    _build(warehouse, lines, replaced=None)
    publish.publish()
    publish.publish()

    # A row written behind dbt's back (no log row): the row count differs, the table is copied.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.fct_order_lines values ('Z', 0, 9.00)")
    assert publish.publish().how["marts.fct_order_lines"] == "copied"
    assert_published_equals_warehouse(target, warehouse)

    # A table no dbt model logs is copied every time.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table marts.hand_made as select 1 as x")
    assert publish.publish().how["marts.hand_made"] == "copied"

    # The warehouse was rebuilt from scratch: its log starts again, so nothing in it can be trusted.
    warehouse.unlink()
    _build(warehouse, {"A": ["5.00"]}, replaced=None)
    _build(warehouse, {"A": ["5.00"], "B": ["6.00"]}, replaced=["B"])
    rebuilt = publish.publish()
    assert "no longer holds" in rebuilt.fallback and rebuilt.fallback.endswith("copied every table")
    assert_published_equals_warehouse(target, warehouse)


# -- with the dbt project ----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _dbt_helpers():
    """tests/dbt's run_dbt and raw loader (its conftest is not this folder's)."""
    modules = {}
    for name, file in (("raw_loader", "raw_loader.py"), ("ledgerbridge_dbt_conftest", "conftest.py")):
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "dbt" / file)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        modules[name] = sys.modules[name]
    return modules["ledgerbridge_dbt_conftest"].run_dbt, modules["raw_loader"].load_raw


@pytest.mark.slow
def test_published_copy_equals_the_warehouse_across_days_built_by_dbt(
    lb_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingestion.amazon.settlements import load_settlements
    from sandbox.generator import generate_seller, write_settlement_v2

    run_dbt, load_raw = _dbt_helpers()
    warehouse, target = lb_paths["warehouse"], lb_paths["published"]
    work = warehouse.parent.parent
    seller = generate_seller(seed=7, scale="tiny")

    def import_settlements(settlements: list[dict], suffix: str = "") -> list[str]:
        files = []
        for settlement in settlements:
            path = lb_paths["inbox"] / f"settlement-{settlement['settlement_id']}{suffix}.txt"
            write_settlement_v2(settlement, path)
            files.append((path.name, path))
        result = load_settlements(files, source="file")
        assert not result.rejected, result.summary()
        return [o.status for o in result.outcomes]

    def build(*args: str) -> None:
        # `run`: the models alone (the data tests do not change what is published)
        done = run_dbt(["run", *args], warehouse, work / "dbt")
        assert done.returncode == 0, done.output[-3000:]

    def published(sql: str, params: list) -> list[tuple]:
        with duckdb.connect(str(target), read_only=True) as con:
            return con.execute(sql, params).fetchall()

    import_settlements(seller.settlements)
    load_raw(seller, warehouse)
    first = run_dbt(
        ["build", "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test"],
        warehouse,
        work / "dbt",
    )
    assert first.returncode == 0, first.output[-3000:]
    # A first build logs a whole-table marker for every model it built (the pre-hook).
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marked = {
            r[0]
            for r in con.execute(
                "select relation_name from audit.replaced_units where kind = 'table'"
            ).fetchall()
        }
    assert {"fct_orders", "fct_order_lines", "fct_settlement_lines", "sync_netsuite__sales_orders"} <= marked
    publish.publish()
    publish.publish()  # both generations hold the first build

    # Day 1: a settlement re-imported without one order's rows (a unit that shrank); an order
    # shipped with other amounts; a ready order cancelled (its NetSuite sales order row vanishes).
    settlement = max(seller.settlements, key=lambda s: len({line["order_id"] for line in s["lines"]}))
    dropped = next(line["order_id"] for line in settlement["lines"] if line["order_id"])
    removed = sum(line["amount"] for line in settlement["lines"] if line["order_id"] == dropped)
    corrected = {
        **settlement,
        "lines": [line for line in settlement["lines"] if line["order_id"] != dropped],
        "total_amount": settlement["total_amount"] - removed,
    }
    assert import_settlements([corrected], "-corrected") == ["replaced"]
    ((ready,),) = published(
        "select order_id from reverse_etl.sync_netsuite__sales_orders order by order_id limit 1", []
    )
    pending = next(o for o in seller.orders if o["status"] in ("Unshipped", "Pending") and o["items"])
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw_amazon.orders set order_status = 'Canceled', last_updated_at = last_updated_at + "
            "interval 1 day where order_id = ?",
            [ready],
        )
        con.execute(
            "update raw_amazon.order_items set quantity_shipped = quantity_ordered, item_price_amount = "
            "item_price_amount + 1, last_updated_at = last_updated_at + interval 2 day where order_id = ?",
            [pending["order_id"]],
        )
    lines_before = published(
        "select count(*) from marts.fct_settlement_lines where settlement_id = ?",
        [settlement["settlement_id"]],
    )
    build()
    day1 = publish.publish()
    assert day1.fallback is None
    assert day1.how["marts.fct_settlement_lines"] == "updated" and day1.how["marts.fct_orders"] == "updated"
    assert day1.how["reverse_etl.sync_netsuite__sales_orders"] == "updated"
    assert_published_equals_warehouse(target, warehouse)
    lines_after = published(
        "select count(*) from marts.fct_settlement_lines where settlement_id = ?",
        [settlement["settlement_id"]],
    )
    assert lines_after[0][0] < lines_before[0][0]
    assert published(
        "select count(*) from reverse_etl.sync_netsuite__sales_orders where order_id = ?", [ready]
    ) == [(0,)]

    # Day 2: the other generation catches up on both days.
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw_amazon.order_items set item_price_amount = item_price_amount + 2, "
            "last_updated_at = last_updated_at + interval 3 day where order_id = ?",
            [pending["order_id"]],
        )
    build()
    day2 = publish.publish()
    assert day2.fallback is None and day2.how["marts.fct_orders"] == "updated"
    assert_published_equals_warehouse(target, warehouse)

    # A full refresh of a model is copied whole; every generation stays equal to the warehouse.
    build("--full-refresh", "--select", "fct_orders")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        newest = con.execute(
            "select relation_name, kind from audit.replaced_units order by log_id desc limit 1"
        )
        assert newest.fetchall() == [("fct_orders", "table")]  # the full refresh logged its marker
    refreshed = publish.publish()
    assert refreshed.fallback is None and refreshed.how["marts.fct_orders"] == "copied"
    assert refreshed.how["marts.fct_settlement_lines"] == "unchanged"
    assert_published_equals_warehouse(target, warehouse)
    assert publish.publish().how["marts.fct_orders"] == "copied"  # the other generation, too
    assert_published_equals_warehouse(target, warehouse)
    shutil.rmtree(work / "dbt", ignore_errors=True)
