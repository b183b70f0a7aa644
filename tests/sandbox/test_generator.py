"""The seller generator: deterministic, realistic enough to exercise every reconciliation, and its
settlement files tie out when read back the way a parser must (by header name, per-marketplace
number and date formats)."""

from __future__ import annotations

import csv
import io
import time
import tracemalloc
from collections import Counter
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from inspect import isgenerator

import pytest

from sandbox.generator import (
    MARKETPLACES,
    generate_seller,
    iter_orders,
    iter_settlement_v2_rows,
    legacy_amount_key,
    settlement_v2_text,
    write_large_settlement_v2,
    write_settlement_files,
    write_settlement_legacy,
    write_settlement_v2,
)

TODAY = date(2026, 11, 23)
LEGACY_FAMILIES = {  # docs/contracts.md: legacy column family -> amount_type
    "price": "ItemPrice",
    "item-related-fee": "ItemFees",
    "promotion": "Promotion",
    "shipment-fee": "ShipmentFees",
    "order-fee": "OrderFees",
    "direct-payment": "DirectPayment",
    "misc-fee": "other-transaction",
    "other-fee": "other-transaction",
    "other": "other-transaction",
}


@pytest.fixture(scope="module")
def seller():
    return generate_seller(seed=7, scale="tiny", today=TODAY)


@pytest.fixture(scope="module")
def small():
    return generate_seller(seed=7, scale="small", today=TODAY)


def parse_amount(text: str, currency: str) -> Decimal:
    """Independent of the generator: EUR uses `1.234,56`, GBP may group with `,`."""
    if currency == "EUR":
        return Decimal(text.replace(".", "").replace(",", "."))
    return Decimal(text.replace(",", ""))


def read_tsv(data: bytes, encoding: str = "utf-8") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode(encoding)), delimiter="\t"))


def v2_bytes(settlement, **kwargs) -> bytes:
    buffer = io.BytesIO()
    write_settlement_v2(settlement, buffer, **kwargs)
    return buffer.getvalue()


def legacy_bytes(settlement) -> bytes:
    buffer = io.BytesIO()
    write_settlement_legacy(settlement, buffer)
    return buffer.getvalue()


def test_same_seed_gives_identical_seller_and_other_seed_differs():
    one = generate_seller(seed=11, scale="tiny", today=TODAY)
    two = generate_seller(seed=11, scale="tiny", today=TODAY)
    other = generate_seller(seed=12, scale="tiny", today=TODAY)
    assert asdict(one) == asdict(two)
    assert [v2_bytes(s) for s in one.settlements] == [v2_bytes(s) for s in two.settlements]
    assert [o["order_id"] for o in one.orders] != [o["order_id"] for o in other.orders]
    assert [s["total_amount"] for s in one.settlements] != [s["total_amount"] for s in other.settlements]


def test_generation_is_fast_enough_for_tests_and_demo():
    started = time.perf_counter()
    generate_seller(seed=3, scale="tiny", today=TODAY)
    tiny = time.perf_counter() - started
    started = time.perf_counter()
    generate_seller(seed=3, scale="small", today=TODAY)
    small = time.perf_counter() - started
    assert tiny < 0.3 and small < 2.0, (tiny, small)


def test_marketplaces_match_the_contract():
    assert {code: (m.marketplace_id, m.name, m.currency) for code, m in MARKETPLACES.items()} == {
        "US": ("ATVPDKIKX0DER", "Amazon.com", "USD"),
        "CA": ("A2EUQ1WTGCTBG2", "Amazon.ca", "CAD"),
        "UK": ("A1F83G8C2ARO7P", "Amazon.co.uk", "GBP"),
        "DE": ("A1PA6795UKMFR9", "Amazon.de", "EUR"),
        "AU": ("A39IBJ37TRP1C6", "Amazon.com.au", "AUD"),
    }
    assert MARKETPLACES["DE"].decimal_comma and not MARKETPLACES["UK"].decimal_comma


@pytest.mark.parametrize("scale_fixture", ["seller", "small"])
def test_every_settlement_sums_exactly_and_exactly_one_is_negative(scale_fixture, request):
    seller = request.getfixturevalue(scale_fixture)
    for s in seller.settlements:
        assert s["lines"], s["settlement_id"]
        assert sum(line["amount"] for line in s["lines"]) == s["total_amount"]
        assert all(line["amount"] == line["amount"].quantize(Decimal("0.01")) for line in s["lines"])
    negative = [s["settlement_id"] for s in seller.settlements if s["total_amount"] < 0]
    assert negative == [seller.negative_settlement_id]
    ids = [s["settlement_id"] for s in seller.settlements]
    assert len(set(ids)) == len(ids) and all(i.isdigit() for i in ids)


@pytest.mark.parametrize("seed", range(1, 9))
def test_planted_facts_hold_for_any_seed(seed):
    seller = generate_seller(seed=seed, scale="tiny", today=TODAY)
    assert [s["settlement_id"] for s in seller.settlements if s["total_amount"] < 0] == [
        seller.negative_settlement_id
    ]
    assert all(sum(x["amount"] for x in s["lines"]) == s["total_amount"] for s in seller.settlements)
    fee_holders = {
        s["settlement_id"]
        for s in seller.settlements
        for x in s["lines"]
        if (x["transaction_type"], x["amount_type"], x["amount_description"]) == seller.unmapped_fee
    }
    assert fee_holders == {seller.unknown_fee_settlement_id}
    assert seller.chargeback and seller.refunds
    # The planted oddities sit in settlements the Reports API still lists (created < 90 days ago).
    now = datetime.combine(TODAY, datetime.min.time(), UTC)
    for planted in (
        seller.negative_settlement_id,
        seller.unknown_fee_settlement_id,
        seller.chargeback["settlement_id"],
    ):
        assert now - seller.settlement(planted)["created_at"] < timedelta(days=90)
    assert {i["sku"] for o in seller.orders for i in o["items"]} >= set(seller.unmapped_skus)


def test_settlements_every_14_days_for_six_months_per_marketplace(seller):
    now = datetime(2026, 11, 23, tzinfo=UTC)
    for code in MARKETPLACES:
        mine = sorted(
            (s for s in seller.settlements if s["marketplace_code"] == code), key=lambda s: s["end_at"]
        )
        assert len(mine) >= 12
        assert all(b["start_at"] == a["end_at"] for a, b in zip(mine, mine[1:], strict=False))
        assert all(s["end_at"] - s["start_at"] == timedelta(days=14) for s in mine)
        assert now - mine[0]["created_at"] > timedelta(days=150)  # older than the Reports API's 90 days
        assert now - mine[-1]["created_at"] < timedelta(days=7)
        assert any(s["start_at"].month != s["end_at"].month for s in mine)
        assert all(s["end_at"] < s["created_at"] < s["deposit_at"] for s in mine)
        for s in mine:
            assert all(s["start_at"] <= line["posted_at"] < s["end_at"] for line in s["lines"])


def test_settlements_carry_every_kind_of_amount(small):
    kinds = Counter(
        (line["transaction_type"], line["amount_type"], line["amount_description"])
        for s in small.settlements
        for line in s["lines"]
    )
    for expected in [
        ("Order", "ItemPrice", "Principal"),
        ("Order", "ItemPrice", "Tax"),
        ("Order", "ItemPrice", "Shipping"),
        ("Order", "ItemFees", "Commission"),
        ("Order", "ItemFees", "FBAPerUnitFulfillmentFee"),
        ("Order", "Promotion", "Principal"),
        ("Refund", "ItemFees", "RefundCommission"),
        ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"),
        ("other-transaction", "other-transaction", "Current Reserve Amount"),
        ("other-transaction", "other-transaction", "Previous Reserve Amount Balance"),
        ("other-transaction", "other-transaction", "Storage Fee"),
        ("other-transaction", "other-transaction", "Subscription Fee"),
        ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount"),
        ("Chargeback Refund", "ItemPrice", "Principal"),
    ]:
        assert kinds[expected] > 0, expected
    withheld = {
        s["marketplace_code"]
        for s in small.settlements
        for line in s["lines"]
        if line["amount_type"] == "ItemWithheldTax"
    }
    assert withheld == {"US"}
    # Reserves: each release equals what the previous settlement of that marketplace held.
    by_mp: dict[str, list[dict]] = {}
    for s in sorted(small.settlements, key=lambda s: s["end_at"]):
        by_mp.setdefault(s["marketplace_code"], []).append(s)
    for mine in by_mp.values():
        for before, after in zip(mine, mine[1:], strict=False):
            held = sum(
                -x["amount"] for x in before["lines"] if x["amount_description"] == "Current Reserve Amount"
            )
            released = sum(
                x["amount"]
                for x in after["lines"]
                if x["amount_description"] == "Previous Reserve Amount Balance"
            )
            assert held == released


def test_unknown_fee_type_appears_in_exactly_one_settlement(seller):
    holders = [
        s["settlement_id"]
        for s in seller.settlements
        if any(
            (x["transaction_type"], x["amount_type"], x["amount_description"]) == seller.unmapped_fee
            for x in s["lines"]
        )
    ]
    assert holders == [seller.unknown_fee_settlement_id]
    assert seller.unmapped_fee[2] not in {"Storage Fee", "Subscription Fee", "Commission"}


def test_refunds_and_chargeback_reference_orders_paid_in_earlier_settlements(seller):
    ends = {s["settlement_id"]: s for s in seller.settlements}
    paid_in = {}
    for s in seller.settlements:
        for line in s["lines"]:
            if line["transaction_type"] == "Order":
                paid_in[line["order_id"]] = s
    refund_lines = [
        (s, x)
        for s in seller.settlements
        for x in s["lines"]
        if x["transaction_type"] in ("Refund", "Chargeback Refund")
    ]
    assert sum(1 for _, x in refund_lines if x["transaction_type"] == "Refund") > 0
    assert {x["order_id"] for _, x in refund_lines if x["transaction_type"] == "Chargeback Refund"} == {
        seller.chargeback["order_id"]
    }
    for s, line in refund_lines:
        original = paid_in[line["order_id"]]
        assert original["end_at"] <= s["start_at"], line["order_id"]
        assert original["marketplace_code"] == s["marketplace_code"]
        assert line["adjustment_id"].startswith("amzn1:crow:") and line["quantity_purchased"] is None
        if line["amount_description"] == "Principal" and line["amount_type"] == "ItemPrice":
            assert line["amount"] < 0
    for refund in seller.refunds:
        assert ends[refund["original_settlement_id"]]["end_at"] <= ends[refund["settlement_id"]]["start_at"]


def test_orders_are_realistic_and_changes_are_spread_over_time(small):
    orders = small.orders
    ids = [o["order_id"] for o in orders]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 19 and i[3] == "-" and i[11] == "-" for i in ids)
    assert {o["status"] for o in orders} >= {"Shipped", "Canceled", "Unshipped"}
    assert {o["fulfillment_channel"] for o in orders} == {"AFN", "MFN"}
    assert {o["marketplace_code"] for o in orders} == set(MARKETPLACES)
    for o in orders:
        assert o["purchased_at"].tzinfo is not None and o["last_updated_at"] >= o["purchased_at"]
        assert (o["shipped_at"] is not None) == (o["status"] == "Shipped")
        assert o["currency"] == MARKETPLACES[o["marketplace_code"]].currency
        for item in o["items"]:
            assert item["quantity"] >= 1 and item["promotion_discount"] >= 0
    # An incremental load from a recent watermark gets a small slice, not everything.
    recent = [o for o in orders if o["last_updated_at"] >= datetime(2026, 11, 16, tzinfo=UTC)]
    assert 0 < len(recent) < len(orders) / 5


def test_unmapped_skus_are_sold_but_missing_from_netsuite_items(seller):
    item_ids = {row["itemid"] for row in seller.netsuite["item"]}
    sold = {item["sku"] for o in seller.orders for item in o["items"]}
    settled = {x["sku"] for s in seller.settlements for x in s["lines"]}
    assert len(seller.unmapped_skus) == 2
    for sku in seller.unmapped_skus:
        assert sku in sold and sku in settled and sku not in item_ids
    mapped = {c["sku"] for c in seller.catalog if c["netsuite_item_id"]}
    assert mapped == item_ids


def test_netsuite_seed_has_the_contract_tables_accounts_and_locations(seller):
    ns = seller.netsuite
    columns = {
        "subsidiary": "id name currency country lastmodifieddate",
        "currency": "id symbol name lastmodifieddate",
        "account": "id acctnumber fullname accttype externalid lastmodifieddate",
        "location": "id name externalid subsidiary isinactive lastmodifieddate",
        "item": "id itemid displayname itemtype externalid isinactive lastmodifieddate",
        "customer": "id entityid companyname externalid subsidiary currency lastmodifieddate",
        "transaction": "id tranid type externalid entity trandate currency memo foreigntotal lastmodifieddate",
        "transactionline": "transaction id linesequencenumber item quantity location foreignamount lastmodifieddate",
        "aggregateitemlocation": "item location quantityonhand quantityavailable lastmodifieddate",
    }
    for table, names in columns.items():
        for row in ns[table]:
            assert set(row) == set(names.split()), table
    accounts = {row["externalid"] for row in ns["account"]}
    expected = {f"amazon-clearing-{c}" for c in MARKETPLACES} | {
        f"bank-{m.currency}" for m in MARKETPLACES.values()
    }
    expected |= {
        "amazon-reserve",
        "amazon-sales",
        "amazon-shipping-income",
        "amazon-fees",
        "amazon-fba-fees",
        "amazon-advertising",
        "amazon-storage",
        "amazon-subscription",
        "amazon-promotions",
        "amazon-refunds",
        "sales-tax-payable",
        "marketplace-facilitator-tax",
        "amazon-reimbursements",
        "amazon-chargebacks",
        "amazon-other",
    }
    assert expected <= accounts
    locations = {row["externalid"] for row in ns["location"]}
    assert locations == {"wh-main"} | {f"fba-{c}" for c in MARKETPLACES}
    assert {row["symbol"] for row in ns["currency"]} == {m.currency for m in MARKETPLACES.values()}
    assert ns["pricing"] and all(isinstance(row["unitprice"], str) for row in ns["pricing"])


def test_inventory_and_listings_drift_a_little_from_netsuite(small):
    loc = {row["externalid"]: row["id"] for row in small.netsuite["location"]}
    item = {row["itemid"]: row["id"] for row in small.netsuite["item"]}
    ns = {(row["item"], row["location"]): row for row in small.netsuite["aggregateitemlocation"]}
    equal = differ = 0
    for snap in small.inventory:
        assert snap["snapshot_date"] == TODAY
        assert snap["total_quantity"] == sum(
            snap[k]
            for k in (
                "fulfillable_quantity",
                "inbound_working_quantity",
                "inbound_shipped_quantity",
                "inbound_receiving_quantity",
                "reserved_quantity",
                "unfulfillable_quantity",
            )
        )
        if snap["seller_sku"] in item:
            row = ns[(item[snap["seller_sku"]], loc[f"fba-{snap['marketplace_code']}"])]
            if row["quantityavailable"] == snap["fulfillable_quantity"]:
                equal += 1
            else:
                differ += 1
                assert abs(row["quantityavailable"] - snap["fulfillable_quantity"]) <= 5
    assert equal > differ > 0 and differ == len(small.inventory_drift)
    assert small.listing_drift and all(
        d["amazon_quantity"] != d["netsuite_available"] for d in small.listing_drift
    )
    assert {x["sku"] for x in small.listings} <= {c["sku"] for c in small.catalog if c["is_mfn"]}


def test_v2_files_read_by_header_sum_to_total_in_every_format(seller, tmp_path):
    paths = write_settlement_files(seller.settlements, tmp_path / "inbox", "v2")
    assert len(paths) == len(seller.settlements)
    for s, path in zip(seller.settlements, paths, strict=True):
        rows = read_tsv(path.read_bytes())
        summary, lines = rows[0], rows[1:]
        assert summary["transaction-type"] == "" and lines[0]["total-amount"] == ""
        currency = summary["currency"]
        assert currency == s["currency"]
        total = parse_amount(summary["total-amount"], currency)
        assert total == s["total_amount"]
        assert sum(parse_amount(r["amount"], currency) for r in lines) == total
        assert len(lines) == len(s["lines"])


def test_de_and_uk_files_use_local_number_and_date_formats(small):
    de = next(s for s in small.settlements if s["marketplace_code"] == "DE" and s["total_amount"] >= 1000)
    rows = read_tsv(v2_bytes(de))
    assert "," in rows[0]["total-amount"] and "." in rows[0]["total-amount"]  # e.g. 1.234,56
    assert datetime.strptime(rows[0]["settlement-start-date"], "%d.%m.%Y %H:%M:%S UTC")
    assert all(datetime.strptime(r["posted-date"], "%d.%m.%Y") for r in rows[1:])
    assert all("," in r["amount"] for r in rows[1:])
    uk = next(s for s in small.settlements if s["marketplace_code"] == "UK" and s["total_amount"] >= 1000)
    assert "," in read_tsv(v2_bytes(uk))[0]["total-amount"]
    us = next(s for s in small.settlements if s["marketplace_code"] == "US")
    us_rows = read_tsv(v2_bytes(us))
    assert datetime.strptime(us_rows[1]["posted-date"], "%m/%d/%y")
    assert datetime.strptime(us_rows[1]["posted-date-time"], "%Y-%m-%d %H:%M:%S UTC")
    ca = next(s for s in small.settlements if s["marketplace_code"] == "CA")
    assert datetime.fromisoformat(read_tsv(v2_bytes(ca))[0]["deposit-date"]).utcoffset() == timedelta(0)


def test_encoding_bom_and_crlf_variations(small):
    de = next(
        s
        for s in small.settlements
        if s["marketplace_code"] == "DE" and any("ü" in x["promotion_id"] for x in s["lines"])
    )
    latin = v2_bytes(de, encoding="latin-1", bom=False, newline="\r\n")
    assert b"Fr\xfchjahr" in latin and b"\r\n" in latin
    assert read_tsv(latin, "latin-1") == read_tsv(v2_bytes(de))
    with_bom = v2_bytes(de, bom=True)
    assert with_bom.startswith(b"\xef\xbb\xbf")
    assert read_tsv(with_bom, "utf-8-sig") == read_tsv(v2_bytes(de))
    assert settlement_v2_text(de).encode("utf-8") == v2_bytes(de)


def test_legacy_files_recover_the_same_amounts_following_the_contract(seller):
    for s in seller.settlements:
        rows = read_tsv(legacy_bytes(s))
        summary, body = rows[0], rows[1:]
        assert len(summary) == 36
        currency = summary["currency"]
        assert datetime.fromisoformat(summary["settlement-end-date"]) == s["end_at"]
        recovered = []
        for row in body:
            for column, value in row.items():
                if column.endswith("-amount") and column != "total-amount" and value:
                    family = column.removesuffix("-amount")
                    description = (
                        row.get(f"{family}-type")
                        or (row["other-fee-reason-description"] if family == "other-fee" else "")
                        or row["transaction-type"]
                    )
                    recovered.append((LEGACY_FAMILIES[family], description, parse_amount(value, currency)))
        assert sum(amount for *_, amount in recovered) == parse_amount(summary["total-amount"], currency)
        assert recovered == [(*legacy_amount_key(x), x["amount"]) for x in s["lines"]]


def test_large_streaming_file_sums_to_its_total_with_flat_memory(tmp_path):
    path = tmp_path / "big.txt"
    total = write_large_settlement_v2(path, 20_000, seed=5)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        summary = next(reader)
        count, amount_sum = 0, Decimal(0)
        for row in reader:
            count += 1
            amount_sum += Decimal(row["amount"])
    assert count == 20_000
    assert Decimal(summary["total-amount"]) == total == amount_sum

    def peak(n_rows: int) -> int:
        tracemalloc.start()
        for _ in iter_settlement_v2_rows(3, n_rows, "DE"):
            pass
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    assert peak(8_000) < peak(800) + 50_000


def test_iter_orders_is_lazy_and_shaped_like_seller_orders(seller):
    orders = iter_orders(seed=1, n_orders=1_000_000)
    assert isgenerator(orders)
    first = [next(orders) for _ in range(50)]
    assert set(first[0]) == set(seller.orders[0])
    assert len({o["order_id"] for o in first}) == 50
    assert [o["order_id"] for o in first] == [o["order_id"] for o in iter_orders(seed=1, n_orders=50)]
