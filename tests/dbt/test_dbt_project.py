"""The dbt project on a generated seller: builds in both accounting modes, every settlement ties
out, the planted problems surface as exceptions, the journal matches sums computed here from the
raw settlement files, and each reconciliation test fails on data broken on purpose."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, run_dbt

SEEDS = PROJECT_DIR / "seeds"
ORDER_REVENUE = {"principal", "tax", "shipping", "promotion"}


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# --- an independent reading of the raw files ---------------------------------------------------


def parse_amount(text: str, currency: str) -> Decimal:
    """Settlement amounts in the marketplace's format: `1.234,56` (EUR) or `1,234.56`."""
    if currency == "EUR":
        return Decimal(text.replace(".", "").replace(",", "."))
    return Decimal(text.replace(",", ""))


def read_settlement_file(path: Path) -> tuple[dict, list[dict]]:
    """(header row, amount rows) of a V2 flat file, read by column name."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    header = next(row for row in rows if row["total-amount"])
    return header, [row for row in rows if row["amount-type"]]


def gl_mapper():
    """GL account and category of a row, per the seed: the most specific matching row wins."""
    with (SEEDS / "gl_account_mapping.csv").open(newline="") as handle:
        mapping = list(csv.DictReader(handle))
    with (SEEDS / "marketplace_accounts.csv").open(newline="") as handle:
        reserve = {row["currency"]: row["reserve_account"] for row in csv.DictReader(handle)}

    def match(value: str, pattern: str) -> bool:
        return pattern == "*" or pattern.lower() == value.lower()

    def account(row: dict, currency: str) -> tuple[str, str] | None:
        keys = (row["transaction-type"], row["amount-type"], row["amount-description"])
        candidates = [
            m
            for m in mapping
            if all(
                match(v, m[k])
                for v, k in zip(keys, ("transaction_type", "amount_type", "amount_description"), strict=True)
            )
        ]
        if not candidates:
            return None
        best = max(
            candidates,
            key=lambda m: tuple(
                m[k] != "*" for k in ("transaction_type", "amount_type", "amount_description")
            ),
        )
        if best["category"] == "reserve":
            return reserve[currency], "reserve"
        return best["gl_account"], best["category"]

    return account


def expected_postings(files: dict[str, Path], mode: str) -> tuple[dict, set[str]]:
    """Net (credit - debit) per (document type, GL account) for every fully mapped settlement,
    plus the ids of settlements with an unmapped row (which must not be journaled)."""
    account_of = gl_mapper()
    clearing = {"USD": "US", "CAD": "CA", "GBP": "UK", "EUR": "DE", "AUD": "AU"}
    net: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    blocked: set[str] = set()
    for settlement_id, path in files.items():
        header, rows = read_settlement_file(path)
        currency = header["currency"]
        postings = []
        for row in rows:
            mapped = account_of(row, currency)
            if mapped is None:
                blocked.add(settlement_id)
                break
            gl_account, category = mapped
            amount = parse_amount(row["amount"], currency)
            document = "journal_entry"
            order_revenue = (
                row["transaction-type"] in ("Order", "Refund")
                and category in ORDER_REVENUE
                and row["order-id"]
            )
            if mode == "order" and order_revenue:
                if row["transaction-type"] == "Refund":
                    document = "credit_memo"
                elif row["fulfillment-id"] == "AFN":
                    document = "cash_sale"
                else:
                    document, gl_account = "customer_payment", "accounts-receivable"
            postings.append((document, gl_account, amount))
            postings.append((document, f"amazon-clearing-{clearing[currency]}", -amount))
        if settlement_id in blocked:
            continue
        total = parse_amount(header["total-amount"], currency)
        postings.append(("journal_entry", f"bank-{currency}", -total))
        postings.append(("journal_entry", f"amazon-clearing-{clearing[currency]}", total))
        for document, gl_account, amount in postings:
            net[(document, gl_account)] += amount
    return {key: value for key, value in net.items() if value != 0}, blocked


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["summary", "order"])
def test_build_passes_in_both_accounting_modes(built_warehouse, mode):
    built = built_warehouse(mode)
    failed = {
        uid: status for uid, status in built.run.statuses().items() if status not in ("pass", "success")
    }
    assert built.run.returncode == 0 and not failed, f"{failed}\n{built.run.output[-4000:]}"
    kinds = {uid.split(".")[0] for uid in built.run.statuses()}
    assert {"model", "test", "seed", "unit_test"} <= kinds
    modes = query(built.path, "select distinct accounting_mode from marts.fct_settlement_lines")
    assert modes == [(mode,)]


@pytest.mark.parametrize("mode", ["summary", "order"])
def test_every_generated_settlement_is_balanced_except_the_planted_fee(built_warehouse, raw_warehouse, mode):
    built = built_warehouse(mode)
    seller = raw_warehouse.seller
    statuses = dict(query(built.path, "select settlement_id, status from marts.fct_settlements"))
    assert set(statuses) == {s["settlement_id"] for s in seller.settlements}
    assert {sid for sid, status in statuses.items() if status != "balanced"} == {
        seller.unknown_fee_settlement_id
    }
    assert statuses[seller.unknown_fee_settlement_id] == "blocked"
    # Every balanced settlement is one journal entry to push; the negative one pulls money back.
    entries = dict(
        query(
            built.path,
            "select settlement_id, count(*) from reverse_etl.sync_netsuite__journal_entries group by 1",
        )
    )
    assert set(entries) == {sid for sid, status in statuses.items() if status == "balanced"}
    ((bank_debit, bank_credit, total),) = query(
        built.path,
        "select j.debit, j.credit, s.reported_total from marts.fct_settlement_journal_lines j "
        "join marts.fct_settlements s using (settlement_id) where j.category = 'deposit' and s.settlement_id = ?",
        [seller.negative_settlement_id],
    )
    assert total < 0 and bank_debit == 0 and bank_credit == -total


def test_planted_unmapped_fee_and_skus_are_exceptions(built_warehouse, raw_warehouse):
    built = built_warehouse("summary")
    seller = raw_warehouse.seller
    rows = query(
        built.path, "select exception_type, settlement_id, sku, detail, next_action from marts.rpt_exceptions"
    )
    fees = [r for r in rows if r[0] == "unmapped_fee_type"]
    assert [(r[1]) for r in fees] == [seller.unknown_fee_settlement_id]
    assert seller.unmapped_fee[2] in fees[0][3] and "gl_account_mapping.csv" in fees[0][4]
    assert sorted(r[2] for r in rows if r[0] == "unmapped_sku") == sorted(seller.unmapped_skus)
    # Nothing of the blocked settlement is journaled; no order with an unmapped SKU is pushed.
    assert query(
        built.path,
        "select count(*) from marts.fct_settlement_journal_lines where settlement_id = ?",
        [seller.unknown_fee_settlement_id],
    ) == [(0,)]
    pushed_skus = query(
        built.path,
        "select count(*) from reverse_etl.sync_netsuite__sales_orders s "
        "join marts.fct_order_lines l using (order_id) where not l.is_mapped",
    )
    assert pushed_skus == [(0,)]
    drift = {
        (r[0], r[1])
        for r in query(
            built.path,
            "select marketplace_code, sku from marts.fct_inventory_pools where pool = 'FBA' and drift <> 0",
        )
    }
    assert drift == {(d["marketplace_code"], d["sku"]) for d in seller.inventory_drift}


@pytest.mark.parametrize("mode", ["summary", "order"])
def test_journal_totals_per_gl_account_match_the_raw_files(built_warehouse, mode):
    built = built_warehouse(mode)
    expected, blocked = expected_postings(built.settlement_files, mode)
    rows = query(
        built.path,
        "select entry_type, gl_account, sum(credit - debit) from "
        "marts.fct_settlement_journal_lines group by 1, 2 having sum(credit - debit) <> 0",
    )
    assert {(t, a): v for t, a, v in rows} == expected
    assert len(blocked) == 1


def test_order_mode_build_replaces_a_reimported_settlement(built_warehouse, reimported_settlement):
    summary, order = built_warehouse("summary"), built_warehouse("order")
    sql = "select count(*), sum(amount) from marts.fct_settlement_lines where settlement_id = ?"
    ((before, _),) = query(summary.path, sql, [reimported_settlement])
    ((after, after_sum),) = query(order.path, sql, [reimported_settlement])
    assert after == before - 1
    ((status, reported),) = query(
        order.path,
        "select status, reported_total from marts.fct_settlements where settlement_id = ?",
        [reimported_settlement],
    )
    assert status == "balanced" and reported == after_sum
    # Order mode: order revenue is settled by cash sales / payments / credit memos, never journaled.
    documents = query(order.path, "select count(*) from reverse_etl.sync_netsuite__cash_sales")
    assert documents[0][0] > 0
    assert query(summary.path, "select count(*) from reverse_etl.sync_netsuite__cash_sales") == [(0,)]


# Each reconciliation test, and how to break the data so that exactly it must fail.
def _corruptions(path: Path, seller) -> dict[str, tuple[str, str]]:
    """Corrupt a copy of a built warehouse, one settlement (or SKU / pool) per test; returns
    test name -> (column naming the failing row, value it must name)."""
    balanced = [
        r[0]
        for r in query(
            path,
            "select settlement_id from marts.fct_settlements "
            "where status = 'balanced' order by settlement_id",
        )
    ]
    a, b, c, d, e = balanced[:5]
    sku = seller.unmapped_skus[0]
    ((pool,),) = query(
        path, "select min(inventory_pool_id) from marts.fct_inventory_pools where is_mapped and drift = 0"
    )
    blocked = seller.unknown_fee_settlement_id
    with duckdb.connect(str(path)) as con:
        con.execute(
            """update marts.fct_settlement_journal_lines set debit = debit + 0.01
            where journal_line_id = (select min(journal_line_id) from marts.fct_settlement_journal_lines
                                     where settlement_id = ? and category = 'fee' and debit > 0)""",
            [a],
        )
        con.execute(
            "delete from marts.fct_settlement_journal_lines where settlement_id = ? and category = 'deposit'",
            [b],
        )
        con.execute(
            """update marts.fct_settlement_journal_lines set gl_account = 'amazon-other'
            where journal_line_id = (select min(journal_line_id) from marts.fct_settlement_journal_lines
                                     where settlement_id = ? and category = 'clearing' and credit > 0
                                     and memo not like '%deposit%')""",
            [c],
        )
        con.execute(
            "update raw_amazon.settlement_lines set amount = amount + 1 where settlement_id = ? "
            "and line_number = 1",
            [d],
        )
        con.execute(
            "update marts.fct_settlement_journal_lines set entry_type = 'cash_sale' "
            "where settlement_id = ? and category = 'principal'",
            [e],
        )
        con.execute(
            "delete from marts.rpt_exceptions where exception_type = 'unmapped_sku' and sku = ?", [sku]
        )
        con.execute(
            "update marts.fct_inventory_pools set netsuite_quantity = amazon_quantity + 50 "
            "where inventory_pool_id = ?",
            [pool],
        )
        con.execute(
            """insert into marts.fct_settlement_journal_lines
            (journal_line_id, settlement_id, entry_external_id, entry_type, line_number, gl_account, category,
             debit, credit, memo, posting_period)
            values ('forged', ?, 'amz-je-forged', 'journal_entry', 1, 'amazon-other', 'other', 0, 0, 'forged',
                    '2026-01')""",
            [blocked],
        )
    return {
        "assert_journal_entries_balance": ("settlement_id", a),
        "assert_deposit_line_equals_total": ("settlement_id", b),
        "assert_clearing_account_nets_to_zero": ("settlement_id", c),
        "assert_settlement_rows_sum_to_total": ("settlement_id", d),
        "assert_revenue_counted_once": ("settlement_id", e),
        "assert_order_lines_mapped_or_exception": ("sku", sku),
        "assert_inventory_drift_is_exception": ("inventory_pool_id", pool),
        "assert_unbalanced_settlements_not_journaled": ("settlement_id", blocked),
    }


def test_each_reconciliation_test_fails_on_data_broken_on_purpose(built_warehouse, raw_warehouse, tmp_path):
    built = built_warehouse("summary")
    broken = tmp_path / "warehouse.duckdb"
    broken.write_bytes(built.path.read_bytes())
    expectations = _corruptions(broken, raw_warehouse.seller)
    assert set(expectations) == {p.stem for p in (PROJECT_DIR / "tests" / "reconciliation").glob("*.sql")}

    run = run_dbt(["test", "--store-failures", "--select", *expectations], broken, tmp_path / "dbt")
    for test, (column, value) in expectations.items():
        assert run.status_of(test) == "fail", f"{test} did not fail:\n{run.output[-3000:]}"
        failing = {r[0] for r in query(broken, f'select "{column}" from dbt_test__audit.{test}')}
        assert value in failing, f"{test} failed on {failing}, not on the broken {value}"
    # The same tests pass on the intact build.
    for test in expectations:
        assert built.run.status_of(test) == "pass"


def test_gl_mapping_seed_covers_both_layouts_except_the_planted_fee(seller):
    """Every (transaction-type, amount-type, amount-description) the generator writes, in V2 and
    as the legacy parser recovers it, has a GL account; the planted fee deliberately has none."""
    from sandbox.generator import legacy_amount_key

    account_of = gl_mapper()
    unmapped = set()
    for settlement in seller.settlements:
        for line in settlement["lines"]:
            keys = {(line["amount_type"], line["amount_description"]), legacy_amount_key(line)}
            for amount_type, description in keys:
                row = {
                    "transaction-type": line["transaction_type"],
                    "amount-type": amount_type,
                    "amount-description": description,
                }
                if account_of(row, settlement["currency"]) is None:
                    unmapped.add((line["transaction_type"], amount_type, description))
    assert unmapped == {tuple(seller.unmapped_fee)}
