"""The Amazon dlt source against the SP-API sandbox over real HTTP, into a real DuckDB file.

Shows: a full load, then an incremental load that re-fetches only the orders updated since the
cursor (minus the lookback) and downloads no settlement report twice; no duplicate rows; v0 and
2026-01-01 Orders APIs give the same rows; throttling and transient faults are retried until the
load completes; a wrong LWA secret fails with one clear line and keeps what was loaded; buyer PII
only when asked; `ledgerbridge ingest` prints row counts and names the fix when nothing listens.
"""

from __future__ import annotations

import argparse
import itertools
import re
import socket
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest

from ingestion.amazon import amazon_source, prefetched
from ingestion.amazon.client import AmazonApiError, SpApi
from ingestion.amazon.listings import ListingsReportError, parse_listings
from ingestion.amazon.settings import AmazonSettings, ReportPolling, RetryPolicy
from ingestion.pipelines import AMAZON_STEPS, amazon_pipeline, ingest_command, run_amazon
from orchestration.cli import CommandError
from sandbox.amazon import AmazonSandbox
from sandbox.generator import generate_seller
from sandbox.http import RunningServer

FAST_RETRY = RetryPolicy(tries=6, base_delay=0.01, max_delay=0.05)
FAST_POLLING = ReportPolling(first_delay=0.01, max_delay=0.05, timeout=2.0)


class Clock:
    """The sandbox's clock, movable: the two-minute rule and token expiry follow it."""

    def __init__(self) -> None:
        self.at = time.time()

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(int(self.at), UTC)


MARKETPLACES = ("US", "DE")  # two marketplaces keep the tests fast; US and DE format numbers differently


@pytest.fixture(scope="module")
def seller():
    return generate_seller(7, scale="tiny", marketplaces=list(MARKETPLACES))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def amazon(seller, clock):
    app = AmazonSandbox(seller=seller, clock=clock)
    server = RunningServer(app).start()
    yield app, server
    server.stop()


def settings_for(url: str, **overrides) -> AmazonSettings:
    defaults = {"retry": FAST_RETRY, "marketplaces": MARKETPLACES, "report_polling": FAST_POLLING}
    return AmazonSettings(sp_api_url=url, lwa_url=url, **{**defaults, **overrides})


def rows(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as db:
        return db.execute(sql).fetchall()


def count(warehouse, table: str) -> int:
    return rows(warehouse, f"SELECT count(*) FROM raw_amazon.{table}")[0][0]


def test_full_load_then_incremental_load_fetches_only_changes(amazon, warehouse, clock, monkeypatch, capsys):
    app, server = amazon
    settings = settings_for(server.url)
    n_items = sum(len(o["items"]) for o in app.orders.values())

    # The first load through `ledgerbridge ingest amazon`, configured by environment variables.
    monkeypatch.setenv("AMAZON_SP_API_URL", server.url)
    monkeypatch.setenv("AMAZON_LWA_URL", server.url)
    monkeypatch.setenv("AMAZON_MARKETPLACES", ",".join(MARKETPLACES))
    clock.advance(30)  # the command runs on the real clock; keep the sandbox's a little ahead
    assert ingest_command(argparse.Namespace(source="amazon"), lambda message: None) == 0
    out = capsys.readouterr().out.splitlines()
    assert count(warehouse, "orders") == len(app.orders) == 134
    assert count(warehouse, "order_items") == n_items
    assert count(warehouse, "inventory_summaries") == len(app.inventory)
    downloaded = count(warehouse, "settlements")
    assert downloaded > 0
    assert {
        "amazon.orders: 134 rows",
        f"amazon.order_items: {n_items} rows",
        f"amazon.inventory_summaries: {len(app.inventory)} rows",
        f"amazon: {downloaded} settlement reports downloaded",
    } <= set(out)

    # Exact values and types, as the contract pins them.
    sample = next(o for o in app.orders.values() if o["status"] == "Shipped" and o["items"][0]["item_tax"])
    item = sample["items"][0]
    got = rows(
        warehouse,
        "SELECT o.order_status, o.fulfillment_channel, o.order_total_amount, o.currency, i.item_price_amount, "
        "i.item_tax_amount, i.promotion_discount_amount, i.quantity_ordered FROM raw_amazon.orders o JOIN "
        f"raw_amazon.order_items i USING (order_id) WHERE i.order_item_id = '{item['order_item_id']}'",
    )
    assert got == [
        (
            "Shipped",
            sample["fulfillment_channel"],
            sum(
                i["item_price"]
                + i["item_tax"]
                + i["shipping_price"]
                + i["shipping_tax"]
                - i["promotion_discount"]
                for i in sample["items"]
            ),
            sample["currency"],
            item["item_price"],
            item["item_tax"],
            item["promotion_discount"],
            item["quantity"],
        )
    ]
    kinds = dict(
        rows(
            warehouse,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_amazon' AND table_name = 'order_items'",
        )
    )
    assert (
        kinds["item_price_amount"] == "DECIMAL(18,2)"
        and kinds["last_updated_at"] == "TIMESTAMP WITH TIME ZONE"
    )
    contract = ["order_id", "order_item_id", "sku", "asin", "quantity_ordered", "quantity_shipped"]
    contract += [f"{m}_amount" for m in ("item_price", "item_tax", "shipping_price", "shipping_tax")]
    contract += ["promotion_discount_amount", "currency", "last_updated_at", "_dlt_load_id", "_dlt_id"]
    assert list(kinds) == contract  # docs/contracts.md; none of the order columns
    assert "buyer_email" not in dict(
        rows(warehouse, "SELECT column_name, 1 FROM information_schema.columns WHERE table_name = 'orders'")
    )

    # The second run starts at the cursor minus the one-hour lookback.
    cutoff = max(o["last_updated_at"] for o in app.orders.values()) - settings.orders_lookback
    changed = [
        oid for oid, o in app.orders.items() if o["status"] == "Shipped" and o["last_updated_at"] < cutoff
    ][:2]
    app.touch_order(changed[0], status="Canceled")
    app.touch_order(changed[1])  # an update that changes nothing we store still counts as one
    clock.advance(180)  # Amazon shows an update only once it is two minutes old...
    fresh = next(oid for oid, o in app.orders.items() if o["status"] == "Unshipped")
    app.touch_order(fresh, status="Shipped")  # ...so this one, updated just now, waits for the next run
    expected = {oid for oid, o in app.orders.items() if o["last_updated_at"] >= cutoff} - {fresh}
    assert set(changed) <= expected and len(expected) < len(app.orders) / 10
    app.requests.clear()

    second = run_amazon(settings=settings, pipeline=amazon_pipeline(), now=clock.now())
    assert second.ok, second.errors
    latest = rows(warehouse, "SELECT max(_dlt_load_id) FROM raw_amazon.orders")[0][0]
    refetched = {
        r[0]
        for r in rows(warehouse, f"SELECT order_id FROM raw_amazon.orders WHERE _dlt_load_id = '{latest}'")
    }
    assert refetched == expected
    assert second.rows["orders"] == len(expected)
    statuses = dict(
        rows(
            warehouse,
            f"SELECT order_id, order_status FROM raw_amazon.orders WHERE order_id IN {tuple(changed)}",
        )
    )
    assert statuses == {changed[0]: "Canceled", changed[1]: "Shipped"}
    fresh_status = f"SELECT order_status FROM raw_amazon.orders WHERE order_id = '{fresh}'"
    assert rows(warehouse, fresh_status) == [("Unshipped",)]

    # Merged, not appended: no duplicates anywhere.
    assert rows(warehouse, "SELECT count(*), count(DISTINCT order_id) FROM raw_amazon.orders") == [(134, 134)]
    assert rows(
        warehouse, "SELECT count(*), count(DISTINCT (order_id, order_item_id)) FROM raw_amazon.order_items"
    ) == [(n_items, n_items)]
    assert count(warehouse, "inventory_summaries") == len(app.inventory)  # today's snapshot replaced

    # Settlement reports already loaded are not downloaded again.
    assert second.rows["settlement reports downloaded"] == 0
    settlement_documents = {
        r["reportDocumentId"] for r in app.reports.values() if r["reportType"].startswith("GET_V2_SETTLEMENT")
    }
    paths = [r["path"] for r in app.requests]
    assert not [p for p in paths if p.rsplit("/", 1)[-1] in settlement_documents]
    assert len([p for p in paths if p.startswith("/_documents/")]) == len(MARKETPLACES)  # listings only
    assert count(warehouse, "listings_items") == len(app.listings.rows)
    assert count(warehouse, "settlements") == downloaded

    clock.advance(120)
    third = run_amazon(settings=settings, pipeline=amazon_pipeline(), now=clock.now(), steps=("orders",))
    assert third.ok, third.errors
    assert rows(warehouse, fresh_status) == [("Shipped",)]


def test_v0_and_v2026_give_the_same_rows(amazon, tmp_path, monkeypatch, clock):
    app, server = amazon
    tables = {}
    monkeypatch.setattr(
        "ingestion.amazon.source.ORDERS_BATCH", 30
    )  # pages of 25 in tables of 50: batches mix
    for version in ("v0", "v2026"):
        monkeypatch.setenv("LEDGERBRIDGE_WAREHOUSE", str(tmp_path / version / "warehouse.duckdb"))
        settings = settings_for(server.url, orders_api=version, page_size=25)
        pipeline = amazon_pipeline()
        pipeline.run(
            amazon_source(settings, now=clock.now()).with_resources("orders"), loader_file_format="parquet"
        )
        with duckdb.connect(str(tmp_path / version / "warehouse.duckdb"), read_only=True) as db:
            tables[version] = {
                table: db.execute(
                    f"SELECT * EXCLUDE (_dlt_load_id, _dlt_id) FROM raw_amazon.{table} ORDER BY ALL"
                ).fetchall()
                for table in ("orders", "order_items")
            }
    assert len(tables["v0"]["orders"]) == len(app.orders)
    assert len(tables["v0"]["order_items"]) == sum(len(o["items"]) for o in app.orders.values())
    assert tables["v0"]["order_items"] == tables["v2026"]["order_items"]
    # Pending and canceled orders carry no total in v0; v2026 rows follow the v0 semantics.
    v0_orders = {r[0]: r for r in tables["v0"]["orders"]}
    v2026_orders = {r[0]: r for r in tables["v2026"]["orders"]}
    assert v0_orders.keys() == v2026_orders.keys()
    differing = {oid for oid in v0_orders if v0_orders[oid] != v2026_orders[oid]}
    business = {oid for oid, o in app.orders.items() if o.get("is_business_order")}
    # Known sandbox gap: its v2026 `programs` never lists AMAZON_BUSINESS, so business orders differ
    # in is_business_order only (sandbox/amazon_shapes.order_2026). Everything else is identical.
    assert differing <= business


@pytest.mark.parametrize(
    ("faults", "version", "steps"),
    [
        # v0 makes one getOrderItems call per order: many calls, many 429s.
        ({"rate_429": 0.3, "seed": 1}, "v0", ("orders", "inventory_summaries")),
        # Failing token requests, report listings and document downloads too.
        ({"rate_5xx": 0.15, "rate_reset": 0.05, "rate_truncate": 0.05, "seed": 2}, "v2026", AMAZON_STEPS),
    ],
    ids=["throttled", "server-errors-and-dropped-connections"],
)
def test_transient_failures_are_retried_and_the_load_completes(
    amazon, warehouse, clock, faults, version, steps
):
    app, server = amazon
    app.faults.configure(**faults)
    # 10 tries make ten faults in a row (0.3^10) negligible.
    settings = settings_for(
        server.url,
        orders_api=version,
        retry=RetryPolicy(tries=10, base_delay=0.01, max_delay=0.05),
        store_buyer_pii=True,  # and buyer PII is stored because this setting asks for it
    )
    api = SpApi(settings)
    report = run_amazon(settings=settings, pipeline=amazon_pipeline(), now=clock.now(), api=api, steps=steps)
    assert report.ok, report.errors
    injected = [r for r in app.requests if r["fault"]]
    assert len(injected) >= 5 and api.retries >= len(injected)
    assert count(warehouse, "orders") == len(app.orders)
    assert count(warehouse, "order_items") == sum(len(o["items"]) for o in app.orders.values())
    assert count(warehouse, "inventory_summaries") == len(app.inventory)
    oid, email = rows(
        warehouse, "SELECT order_id, buyer_email FROM raw_amazon.orders WHERE buyer_email > ''"
    )[0]
    assert email == app.orders[oid]["buyer_email"]
    if "settlements" in steps:
        assert count(warehouse, "settlements") == report.rows["settlement reports downloaded"] > 0
        assert any(r["fault"] and r["path"].startswith("/_documents/") for r in app.requests)


def test_wrong_lwa_secret_fails_clearly_and_keeps_what_was_loaded(amazon, warehouse, clock):
    app, server = amazon
    steps = ("orders",)
    good = run_amazon(
        settings=settings_for(server.url), pipeline=amazon_pipeline(), now=clock.now(), steps=steps
    )
    assert good.ok, good.errors
    before = {t: count(warehouse, t) for t in ("orders", "order_items")}

    app.touch_order(next(iter(app.orders)))
    clock.advance(180)
    bad = settings_for(server.url, client_secret="definitely-wrong-secret")
    app.requests.clear()
    report = run_amazon(settings=bad, pipeline=amazon_pipeline(), now=clock.now(), steps=steps)

    assert not report.ok
    first = report.errors[0]
    assert first.startswith("amazon orders: searchOrders: LWA at ")
    assert "refused the credentials (HTTP 401 invalid_client" in first and "AMAZON_LWA_CLIENT_SECRET" in first
    assert all("definitely-wrong-secret" not in e for e in report.errors)
    assert all(r["path"] == "/auth/o2/token" for r in app.requests)  # a permanent error is not retried
    assert len(app.requests) == 1  # one token request, refused: nothing else was sent
    assert {t: count(warehouse, t) for t in before} == before

    # The failed runs left nothing half-done behind: a good run afterwards picks the change up.
    after = run_amazon(
        settings=settings_for(server.url), pipeline=amazon_pipeline(), now=clock.now(), steps=steps
    )
    assert after.ok, after.errors
    assert after.rows["orders"] >= 1 and count(warehouse, "orders") == len(app.orders)


def test_a_failing_page_fails_the_orders_load_after_the_pages_before_it():
    """Pages are fetched ahead in a thread: its error still ends the run, in page order, and a
    consumer that stops early stops the fetching."""

    def pages():
        yield "page 1"
        yield "page 2"
        raise AmazonApiError("searchOrders failed: HTTP 400 InvalidInput")

    got = []
    with pytest.raises(AmazonApiError, match="HTTP 400"):
        for page in prefetched(pages(), depth=1):
            got.append(page)
    assert got == ["page 1", "page 2"]

    fetched = []

    def endless():
        for n in itertools.count():
            fetched.append(n)
            yield n

    ahead = prefetched(endless(), depth=2)
    assert next(ahead) == 0
    ahead.close()
    stopped = len(fetched)
    time.sleep(0.2)
    assert len(fetched) == stopped <= 4
    assert not [t for t in threading.enumerate() if t.name == "sp-api-prefetch"]


def test_ingest_command_names_the_fix_when_sp_api_is_down(warehouse, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AMAZON_SP_API_URL", url)
    monkeypatch.setenv("AMAZON_LWA_URL", url)
    started = time.monotonic()
    with pytest.raises(CommandError) as failure:
        ingest_command(argparse.Namespace(source="amazon"), lambda message: None)
    assert str(failure.value) == (
        f"cannot reach SP-API at {url} — start `ledgerbridge sandbox serve` or set AMAZON_SP_API_URL"
    )
    assert time.monotonic() - started < 5


def test_listings_are_asked_for_before_the_orders_load_and_the_warehouse_is_free_after(
    amazon, warehouse, clock, opens_in_another_process
):
    """Amazon prepares the listings reports while the orders load, so they are requested first; and
    the run works through one warehouse connection, closed when it returns (dbt opens the file next)."""
    app, server = amazon
    app.requests.clear()

    report = run_amazon(settings=settings_for(server.url), now=clock.now())  # no pipeline given

    assert report.ok, report.errors
    calls = [(r["method"], r["path"]) for r in app.requests]
    asked = calls.index(("POST", "/reports/2021-06-30/reports"))
    searched = next(n for n, (_, path) in enumerate(calls) if path.startswith("/orders/"))
    assert asked < searched
    assert opens_in_another_process(warehouse)
    assert count(warehouse, "orders") == len(app.orders)
    assert count(warehouse, "listings_items") == len(app.listings.rows)


def test_a_marketplace_without_orders_still_gets_its_tables(amazon, warehouse, clock):
    """dbt selects from every raw table, so an empty first load still creates them."""
    _, server = amazon
    settings = settings_for(server.url, marketplaces=("AU",))  # the seller sells in US and DE only
    report = run_amazon(
        settings=settings,
        pipeline=amazon_pipeline(),
        now=clock.now(),
        steps=("orders", "inventory_summaries"),
    )
    assert report.ok, report.errors
    assert {t: count(warehouse, t) for t in ("orders", "order_items", "inventory_summaries")} == {
        "orders": 0,
        "order_items": 0,
        "inventory_summaries": 0,
    }
    columns = {
        r[0]
        for r in rows(
            warehouse, "SELECT column_name FROM information_schema.columns WHERE table_name = 'order_items'"
        )
    }
    assert {"order_item_id", "item_price_amount", "_dlt_load_id"} <= columns


def test_listings_report_loads_every_mfn_listing_once(amazon, seller, warehouse, clock):
    """createReport per marketplace -> getReport until DONE -> gzip document -> rows, merged."""
    app, server = amazon
    settings = settings_for(server.url)
    expected = sorted(
        (r["marketplace_id"], r["sku"], r["asin"], "MFN", r["quantity"], r["price"], r["currency"], "Active")
        for r in seller.listings
    )
    assert {r[0] for r in expected} == {"ATVPDKIKX0DER", "A1PA6795UKMFR9"}
    query = (
        "SELECT marketplace_id, seller_sku, asin, fulfillment_channel, quantity, price_amount, currency, "
        "status FROM raw_amazon.listings_items ORDER BY ALL"
    )
    for _run in (1, 2):
        app.requests.clear()
        report = run_amazon(
            settings=settings, pipeline=amazon_pipeline(), now=clock.now(), steps=("listings_items",)
        )
        assert report.ok, report.errors
        assert report.rows["listings_items"] == len(expected)
        assert rows(warehouse, query) == expected  # no duplicates after the second run
        created = [r for r in app.requests if r["method"] == "POST" and r["path"].endswith("/reports")]
        assert len(created) == len(MARKETPLACES)  # one listings report per marketplace and run
    kinds = dict(
        rows(
            warehouse,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_amazon' AND table_name = 'listings_items'",
        )
    )
    assert kinds["price_amount"] == "DECIMAL(18,2)" and kinds["quantity"] == "BIGINT"

    # A listing that is gone from Amazon's report is gone from the table.
    removed = app.listings.rows.pop(0)
    report = run_amazon(
        settings=settings, pipeline=amazon_pipeline(), now=clock.now(), steps=("listings_items",)
    )
    assert report.ok, report.errors
    assert count(warehouse, "listings_items") == len(expected) - 1
    gone = f"SELECT count(*) FROM raw_amazon.listings_items WHERE seller_sku = '{removed['sku']}' "
    assert rows(warehouse, gone + f"AND marketplace_id = '{removed['marketplace_id']}'") == [(0,)]


def test_listings_report_in_marketplace_format_and_bad_prices():
    report = {"reportId": "90000000001", "processingEndTime": "2026-11-23T08:00:00Z"}
    header = "item-name\tseller-sku\tprice\tquantity\tasin1\tfulfillment-channel\tstatus\n"
    text = (
        header + "Mug\tSKU-1\t1.234,56\t3\tB01\tDEFAULT\tActive\nKettle\tSKU-2\t\t\tB02\tAMAZON_EU\tActive\n"
    )
    got = parse_listings(text, "DE", "A1PA6795UKMFR9", report)
    assert [(r["seller_sku"], r["price_amount"], r["quantity"], r["fulfillment_channel"]) for r in got] == [
        ("SKU-1", Decimal("1234.56"), 3, "MFN"),
        ("SKU-2", None, None, "AFN"),
    ]
    assert got[0]["currency"] == "EUR" and got[0]["last_updated_at"] == datetime(2026, 11, 23, 8, tzinfo=UTC)
    us = parse_listings(
        header + "Mug\tSKU-1\t1,234.56\t3\tB01\tDEFAULT\tActive\n", "US", "ATVPDKIKX0DER", report
    )
    assert us[0]["price_amount"] == Decimal("1234.56")
    with pytest.raises(ListingsReportError) as bad:
        parse_listings(text.replace("1.234,56", "12,3,4"), "DE", "A1PA6795UKMFR9", report)
    assert str(bad.value) == "listings report 90000000001 (DE) row 2, field price: '12,3,4' is not an amount"


def test_fatal_or_never_finished_listings_report_fails_clearly_and_keeps_the_table(amazon, warehouse, clock):
    app, server = amazon
    settings = settings_for(server.url)
    steps = ("listings_items",)
    assert run_amazon(settings=settings, pipeline=amazon_pipeline(), now=clock.now(), steps=steps).ok
    before = count(warehouse, "listings_items")

    app._finish_report = lambda report: report.update(processingStatus="FATAL")
    fatal = run_amazon(settings=settings, pipeline=amazon_pipeline(), now=clock.now(), steps=steps)
    assert len(fatal.errors) == 1
    assert re.fullmatch(
        r"amazon listings_items: GET_MERCHANT_LISTINGS_ALL_DATA report \d+ for US failed on Amazon's side \(FATAL\)",
        fatal.errors[0],
    )

    app._finish_report = lambda report: report.update(processingStatus="IN_PROGRESS")
    started = time.monotonic()
    stuck = run_amazon(
        settings=settings_for(server.url, report_polling=ReportPolling(0.01, 0.02, timeout=0.1)),
        pipeline=amazon_pipeline(),
        now=clock.now(),
        steps=steps,
    )
    assert time.monotonic() - started < 5
    assert "not DONE after" in stuck.errors[0] and "(US)" in stuck.errors[0] and "(DE)" in stuck.errors[0]
    assert count(warehouse, "listings_items") == before
