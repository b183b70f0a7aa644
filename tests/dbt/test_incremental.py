"""Incremental builds equal full rebuilds: after a day of changes (new and updated orders, a new
settlement paying old orders and refunding one, a settlement re-imported without one order's
rows, a NetSuite item created and another deactivated, a NetSuite record and customer created) an
incremental `dbt build` leaves every mart and sync table exactly as a `--full-refresh` build of the
same raw data does (EXCEPT ALL both ways), and so does switching the accounting mode. Raw rows
carry dlt load ids as dlt writes them: the order models recompute only the orders loaded since, or
touched by a changed lookup, so each case here is one the candidate selection must not miss. The
sync models catch up on every order model build they missed. The incremental build also really is
incremental: it classifies only the settlements the day touched."""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import run_dbt
from raw_loader import load_raw

STATE_TABLES = {"sync_records", "sync_previews"}
# dlt load ids (the load's unix time), as dlt stamps every row it writes or merges
FIRST_LOAD, DAY_LOAD, NEXT_LOAD = "1700000000.1234", "1700086400.5", "1700172800.25"
LOADED_TABLES = (
    "raw_amazon.orders",
    "raw_amazon.order_items",
    "raw_netsuite.item",
    "raw_netsuite.customer",
    "raw_netsuite.transaction",
)


def _stamp_first_load(warehouse: Path) -> None:
    """Every raw row dlt would have loaded carries the first load's id."""
    with duckdb.connect(str(warehouse)) as con:
        for table in LOADED_TABLES:
            con.execute(f"alter table {table} add column if not exists _dlt_load_id varchar")
            con.execute(f"update {table} set _dlt_load_id = ?", [FIRST_LOAD])


def _import(settlements: list[dict], warehouse: Path, folder: Path, name: str = "") -> list[str]:
    from ingestion.amazon.settlements import load_settlements
    from sandbox.generator import write_settlement_v2

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for settlement in settlements:
        path = folder / f"settlement-{settlement['settlement_id']}{name}.txt"
        write_settlement_v2(settlement, path)
        files.append((path.name, path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEDGERBRIDGE_WAREHOUSE", str(warehouse))
        result = load_settlements(files, source="file")
    assert not result.rejected, result.summary()
    return [o.status for o in result.outcomes]


def _without_order(settlement: dict, order_id: str) -> dict:
    lines = [line for line in settlement["lines"] if line["order_id"] != order_id]
    removed = sum(line["amount"] for line in settlement["lines"] if line["order_id"] == order_id)
    return {**settlement, "lines": lines, "total_amount": settlement["total_amount"] - removed}


def _with_refund(settlement: dict, paid: dict, order_id: str) -> dict:
    """`settlement` plus a refund of the principal of `order_id`, which `paid` settled earlier."""
    sale = next(
        line
        for line in paid["lines"]
        if line["order_id"] == order_id and line["transaction_type"] == "Order" and line["amount"] > 0
    )
    refund = {
        **sale,
        "transaction_type": "Refund",
        "adjustment_id": "amzn1:crow:incremental-test",
        "amount": -sale["amount"],
        "posted_at": settlement["end_at"] - timedelta(days=1),
    }
    return {
        **settlement,
        "lines": [*settlement["lines"], refund],
        "total_amount": settlement["total_amount"] - sale["amount"],
    }


def _tables(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('marts', 'reverse_etl') and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
    return [r[0] for r in rows if r[0].split(".")[1] not in STATE_TABLES]


def assert_same_tables(incremental: Path, full: Path) -> dict[str, int]:
    """Every mart and sync table of `full` has exactly the same rows in `incremental`."""
    tables = _tables(full)
    assert tables and tables == _tables(incremental)
    counts = {}
    with duckdb.connect(str(full), read_only=True) as con:
        con.execute(f"attach '{incremental}' as incremental (read_only)")
        for table in tables:
            schema, name = table.split(".")
            columns = ", ".join(
                f'"{c[0]}"'
                for c in con.execute(
                    "select column_name from information_schema.columns where table_catalog = current_database() "
                    "and table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
            )
            full_rows = f'select {columns} from "{schema}"."{name}"'
            incremental_rows = f'select {columns} from incremental."{schema}"."{name}"'
            only_full = con.execute(
                f"select * from ({full_rows} except all {incremental_rows}) limit 3"
            ).fetchall()
            only_incremental = con.execute(
                f"select * from ({incremental_rows} except all {full_rows}) limit 3"
            ).fetchall()
            assert not only_full and not only_incremental, (
                f"{table}: only in the full rebuild {only_full}; only in the incremental build {only_incremental}"
            )
            counts[table] = con.execute(f"select count(*) from ({full_rows})").fetchone()[0]
    return counts


def _full_refresh_copy(warehouse: Path, work: Path, mode: str) -> Path:
    copy = work / "full" / "warehouse.duckdb"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse, copy)
    run = run_dbt(
        ["run", "--full-refresh", "--vars", json.dumps({"accounting_mode": mode})], copy, work / "full"
    )
    assert run.returncode == 0, run.output[-3000:]
    return copy


def _change_orders(warehouse: Path, seller, new_settlement: dict) -> dict[str, str]:
    """The day's dlt loads: new orders, an order Amazon updated (shipped, quantities changed), a
    NetSuite item for an unmapped SKU, a NetSuite sales order for a ready order, a NetSuite customer
    for every order of one marketplace, and the item of a SKU sold in old orders deactivated. Each
    row written carries the day's load id."""
    shipped = next(o for o in seller.orders if o["status"] == "Shipped" and o["fulfillment_channel"] == "MFN")
    pending = next(o for o in seller.orders if o["status"] in ("Unshipped", "Pending") and o["items"])
    in_new_settlement = {line["order_id"] for line in new_settlement["lines"]}
    spared = {item["sku"] for o in (shipped, pending) for item in o["items"]}
    spared |= {
        item["sku"] for o in seller.orders if o["order_id"] in in_new_settlement for item in o["items"]
    }
    sold = {item["sku"] for o in seller.orders for item in o["items"]}
    deactivated = next(
        item for item in seller.netsuite["item"] if item["itemid"] in sold and item["itemid"] not in spared
    )
    customer_marketplace = next(
        o["marketplace_id"] for o in seller.orders if o["order_id"] not in in_new_settlement
    )
    with duckdb.connect(str(warehouse)) as con:
        for suffix in ("1", "2"):
            con.execute(
                "insert into raw_amazon.orders by name select * replace ("
                "order_id || '-new' || ? as order_id, last_updated_at + interval 1 day as last_updated_at, "
                "? as _dlt_load_id) from raw_amazon.orders where order_id = ?",
                [suffix, DAY_LOAD, shipped["order_id"]],
            )
            con.execute(
                "insert into raw_amazon.order_items by name select * replace ("
                "order_id || '-new' || ? as order_id, last_updated_at + interval 1 day as last_updated_at, "
                "? as _dlt_load_id) from raw_amazon.order_items where order_id = ?",
                [suffix, DAY_LOAD, shipped["order_id"]],
            )
        con.execute(
            "update raw_amazon.orders set order_status = 'Shipped', last_updated_at = last_updated_at + "
            "interval 2 day, _dlt_load_id = ? where order_id = ?",
            [DAY_LOAD, pending["order_id"]],
        )
        con.execute(
            "update raw_amazon.order_items set quantity_shipped = quantity_ordered, item_price_amount = "
            "item_price_amount + 1, last_updated_at = last_updated_at + interval 2 day, _dlt_load_id = ? "
            "where order_id = ?",
            [DAY_LOAD, pending["order_id"]],
        )
        con.execute(
            "insert into raw_netsuite.item (id, itemid, displayname, itemtype, externalid, isinactive, _dlt_load_id) "
            "values ('99901', ?, 'Created by finance', 'InvtPart', 'item-incremental', 'F', ?)",
            [seller.unmapped_skus[0], DAY_LOAD],
        )
        con.execute(
            "update raw_netsuite.item set isinactive = 'T', _dlt_load_id = ? where id = ?",
            [DAY_LOAD, deactivated["id"]],
        )
        con.execute(
            "insert into raw_netsuite.transaction (id, tranid, type, externalid, trandate, _dlt_load_id) "
            "values ('99902', 'SO-99902', 'SalesOrd', ?, date '2026-06-01', ?)",
            [f"amz-so-{shipped['order_id']}", DAY_LOAD],
        )
        ((code,),) = con.execute(
            "select marketplace_code from seeds.marketplace_accounts where marketplace_id = ?",
            [customer_marketplace],
        ).fetchall()
        con.execute(
            "insert into raw_netsuite.customer (id, entityid, externalid, _dlt_load_id) values ('99903', ?, ?, ?)",
            [f"Amazon {code}", f"amz-cust-{code}", DAY_LOAD],
        )
        # NetSuite sends an unchanged item again (its look-back): not a change
        con.execute("update raw_netsuite.item set _dlt_load_id = ? where id = '1001'", [DAY_LOAD])
    return {
        "updated_order": pending["order_id"],
        "new_order": shipped["order_id"] + "-new1",
        "order_in_netsuite": shipped["order_id"],
        "deactivated_sku": deactivated["itemid"],
        "customer_marketplace": code,
    }


@pytest.fixture(scope="module")
def day(raw_warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A warehouse built in full before the day, then the day's changes loaded into its raw tables."""
    seller = raw_warehouse.seller
    work = tmp_path_factory.mktemp("incremental")
    warehouse = work / "warehouse.duckdb"
    by_end = sorted(seller.settlements, key=lambda s: s["end_at"])
    order_settlement = {}
    for settlement in by_end:
        for line in settlement["lines"]:
            if line["transaction_type"] == "Order" and line["order_id"]:
                order_settlement.setdefault(line["order_id"], settlement)
    # The re-imported settlement: it paid an order that a later settlement refunds (the refund's
    # link to its original settlement must move).
    refunded = next(
        (s, line["order_id"])
        for s in by_end
        for line in s["lines"]
        if line["transaction_type"] == "Refund"
        and line["order_id"] in order_settlement
        and order_settlement[line["order_id"]]["settlement_id"] != s["settlement_id"]
        and order_settlement[line["order_id"]]["settlement_id"] != seller.unknown_fee_settlement_id
    )
    reimported, relinked_order = order_settlement[refunded[1]], refunded[1]
    # The new settlement: the latest one, refunding an order an older settlement of its marketplace paid.
    new = by_end[-1]
    old = next(
        s
        for s in by_end
        if s["currency"] == new["currency"]
        and s["settlement_id"] not in (reimported["settlement_id"], new["settlement_id"])
        and any(line["transaction_type"] == "Order" and line["amount"] > 0 for line in s["lines"])
    )
    old_order = next(line["order_id"] for line in old["lines"] if line["transaction_type"] == "Order")
    before = [s for s in seller.settlements if s["settlement_id"] != new["settlement_id"]]
    _import(before, warehouse, work / "inbox")
    load_raw(seller, warehouse)
    _stamp_first_load(warehouse)
    first = run_dbt(["build"], warehouse, work / "dbt")
    assert first.returncode == 0, first.output[-3000:]

    statuses = _import([_with_refund(new, old, old_order)], warehouse, work / "day")
    statuses += _import([_without_order(reimported, relinked_order)], warehouse, work / "day", "-corrected")
    assert statuses == ["loaded", "replaced"]
    orders = _change_orders(warehouse, seller, new)
    paid_before = {
        line["order_id"] for s in before for line in s["lines"] if line["transaction_type"] == "Order"
    }
    # An old order the new settlement is the first to pay (its row changes only through the settlement).
    newly_paid = next(
        line["order_id"]
        for line in new["lines"]
        if line["transaction_type"] == "Order" and line["order_id"] and line["order_id"] not in paid_before
    )
    return {
        "work": work,
        "warehouse": warehouse,
        "new": new["settlement_id"],
        "reimported": reimported["settlement_id"],
        "refunding": refunded[0]["settlement_id"],
        "relinked_order": relinked_order,
        "old_order": old_order,
        "old_settlement": old["settlement_id"],
        "newly_paid": newly_paid,
        **orders,
    }


def test_incremental_day_equals_a_full_rebuild(day):
    warehouse, work = day["warehouse"], day["work"]
    before = duckdb.connect(str(warehouse), read_only=True)
    ((original,),) = before.execute(
        "select max(original_settlement_id) from marts.fct_settlement_lines "
        "where settlement_id = ? and refunded_order_id = ?",
        [day["refunding"], day["relinked_order"]],
    ).fetchall()
    before.close()
    assert original == day["reimported"]

    run = run_dbt(["build"], warehouse, work / "dbt")
    assert run.returncode == 0, run.output[-3000:]
    # Only the settlements the day touched were classified: the new one, the re-imported one and
    # those refunding an order the re-imported one paid (their refunds' original settlement may move).
    classified = re.search(r"classifying (\d+) new or changed settlement", run.output)
    assert classified and 3 <= int(classified.group(1)) <= 10, run.output[-3000:]

    full = _full_refresh_copy(warehouse, work, "summary")
    counts = assert_same_tables(warehouse, full)
    assert (
        counts["marts.fct_settlement_lines"] > 1000 and counts["reverse_etl.sync_netsuite__sales_orders"] > 50
    )

    with duckdb.connect(str(warehouse), read_only=True) as con:
        # The refund's link moved with the re-imported settlement; the new refund links to the old order's settlement.
        links = dict(
            con.execute(
                "select refunded_order_id, max(original_settlement_id) from marts.fct_settlement_lines "
                "where refunded_order_id in (?, ?) and settlement_id in (?, ?) group by 1",
                [day["relinked_order"], day["old_order"], day["refunding"], day["new"]],
            ).fetchall()
        )
        assert day["relinked_order"] in links and links[day["relinked_order"]] != day["reimported"], (
            links,
            day,
        )
        assert links.get(day["old_order"]) == day["old_settlement"], (links, day)
        # The updated order is shipped in the marts and in its NetSuite sales order.
        ((status, payload),) = con.execute(
            "select o.order_status, s.payload from marts.fct_orders o "
            "join reverse_etl.sync_netsuite__sales_orders s using (order_id) where o.order_id = ?",
            [day["updated_order"]],
        ).fetchall()
        assert status == "Shipped" and day["updated_order"] in payload
        assert con.execute(
            "select exists_in_netsuite from marts.fct_orders where order_id = ?", [day["order_in_netsuite"]]
        ).fetchall() == [(True,)]
        assert con.execute(
            "select count(*) from marts.fct_orders where order_id = ?", [day["new_order"]]
        ).fetchall() == [(1,)]
        # Old orders changed by a lookup alone: paid by the new settlement, moved out of the
        # re-imported one, given a NetSuite customer, or left without an active NetSuite item.
        paid = dict(
            con.execute(
                "select order_id, settlement_id from marts.fct_orders where order_id in (?, ?)",
                [day["newly_paid"], day["relinked_order"]],
            ).fetchall()
        )
        assert paid[day["newly_paid"]] == day["new"] and paid[day["relinked_order"]] != day["reimported"], (
            paid
        )
        orders_of_marketplace, with_customer = con.execute(
            "select count(*), count(netsuite_customer_id) from marts.fct_orders where marketplace_code = ?",
            [day["customer_marketplace"]],
        ).fetchone()
        assert orders_of_marketplace > 0 and with_customer == orders_of_marketplace
        unmapped = con.execute(
            "select count(*), count(*) filter (where is_mapped) from marts.fct_order_lines where sku = ?",
            [day["deactivated_sku"]],
        ).fetchone()
        assert unmapped[0] > 0 and unmapped[1] == 0, unmapped

    # A second build with nothing new classifies nothing and changes nothing.
    again = run_dbt(["run"], warehouse, work / "dbt")
    assert again.returncode == 0 and "classifying 0 new or changed settlement(s)" in again.output
    assert_same_tables(warehouse, full)


def _cancel(warehouse: Path, order_id: str, load_id: str) -> None:
    """Amazon canceled the order (a dlt load): it no longer gets a NetSuite sales order."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw_amazon.orders set order_status = 'Canceled', _dlt_load_id = ? where order_id = ?",
            [load_id, order_id],
        )


def test_sync_models_catch_up_on_order_builds_they_missed(day):
    """The order facts built on their own, several times, before the sync models: the sync tables
    still get every change, from the order facts' log of each build; after a full rebuild of the
    order facts (which logs nothing) by comparing every document."""
    work = day["work"] / "catch-up"
    work.mkdir()
    warehouse = work / "warehouse.duckdb"
    shutil.copyfile(day["warehouse"], warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first, second, third = (
            row[0]
            for row in con.execute(
                "select order_id from reverse_etl.sync_netsuite__sales_orders where order_id not in (?, ?, ?) "
                "order by order_id limit 3",
                [day["updated_order"], day["new_order"], day["order_in_netsuite"]],
            ).fetchall()
        )
    order_facts = ["--select", "fct_orders", "fct_order_lines"]
    _cancel(warehouse, first, NEXT_LOAD)
    assert run_dbt(["run", *order_facts], warehouse, work / "dbt").returncode == 0
    _cancel(warehouse, second, "1700259200.5")
    assert run_dbt(["run", *order_facts], warehouse, work / "dbt").returncode == 0
    run = run_dbt(["run"], warehouse, work / "dbt")
    assert run.returncode == 0, run.output[-3000:]
    assert "comparing every document" not in run.output
    assert_same_tables(warehouse, _full_refresh_copy(warehouse, work / "logged", "summary"))

    _cancel(warehouse, third, "1700345600.5")
    assert run_dbt(["run", "--full-refresh", *order_facts], warehouse, work / "dbt").returncode == 0
    run = run_dbt(["run"], warehouse, work / "dbt")
    assert run.returncode == 0, run.output[-3000:]
    assert "log does not reach back to the last build: comparing every document" in run.output
    assert_same_tables(warehouse, _full_refresh_copy(warehouse, work / "rebuilt", "summary"))

    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from reverse_etl.sync_netsuite__sales_orders where order_id in (?, ?, ?)",
            [first, second, third],
        ).fetchall() == [(0,)]


def test_switching_the_accounting_mode_rebuilds_everything(day):
    """A mode switch re-maps every settlement, order and document; the next day in that mode is
    incremental again (cash sales and invoices, which exist in `order` mode only, included)."""
    warehouse, work = day["warehouse"], day["work"]
    run = run_dbt(["run", "--vars", json.dumps({"accounting_mode": "order"})], warehouse, work / "dbt")
    assert run.returncode == 0, run.output[-3000:]
    assert "reclassifying every settlement" in run.output
    full = _full_refresh_copy(warehouse, work, "order")
    counts = assert_same_tables(warehouse, full)
    assert counts["reverse_etl.sync_netsuite__cash_sales"] > 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select distinct accounting_mode from marts.fct_settlement_lines").fetchall() == [
            ("order",)
        ]
        total = con.execute(
            "select sum(debit) - sum(credit) from marts.fct_settlement_journal_lines"
        ).fetchone()[0]
        assert total == Decimal("0.00")
        # an FBA order with a cash sale and an MFN order with an invoice, for the next day
        ((fba,),) = con.execute("select min(order_id) from reverse_etl.sync_netsuite__cash_sales").fetchall()
        ((mfn,),) = con.execute("select min(order_id) from reverse_etl.sync_netsuite__invoices").fetchall()

    # The next day in `order` mode (incremental again): Amazon canceled both orders.
    _cancel(warehouse, fba, "1700431200.5")
    _cancel(warehouse, mfn, "1700431200.5")
    run = run_dbt(["run", "--vars", json.dumps({"accounting_mode": "order"})], warehouse, work / "dbt")
    assert run.returncode == 0 and "comparing every" not in run.output, run.output[-3000:]
    assert_same_tables(warehouse, _full_refresh_copy(warehouse, work / "next-day", "order"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select (select count(*) from reverse_etl.sync_netsuite__cash_sales where order_id = ?)"
            " + (select count(*) from reverse_etl.sync_netsuite__invoices where order_id = ?)",
            [fba, mfn],
        ).fetchall() == [(0,)]
