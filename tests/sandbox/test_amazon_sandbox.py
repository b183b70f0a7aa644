"""The SP-API + LWA sandbox, driven by the real python-amazon-sp-api client over localhost HTTP.

The client is configured only by endpoint + credentials (an `AccessTokenClient` subclass pointing at
the sandbox, `client.endpoint = server.url`), exactly as the ingestion code configures it.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import sp_api.auth.access_token_client as token_cache
from sp_api.api import Feeds, Inventories, ListingsItems, Orders, Reports
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiNotFoundException,
    SellingApiRequestThrottledException,
    SellingApiServerException,
    SellingApiTemporarilyUnavailableException,
)

from sandbox import credentials
from sandbox.amazon import AmazonSandbox
from sandbox.amazon_static import EXAMPLES_DIR, MISSING, load_examples
from sandbox.generator import generate_seller
from sandbox.http import RunningServer

US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"
CREDS = {
    "lwa_app_id": credentials.LWA_CLIENT_ID,
    "lwa_client_secret": credentials.LWA_CLIENT_SECRET,
    "refresh_token": credentials.REFRESH_TOKEN,
}


class Clock:
    """A settable clock for token/URL expiry, the two-minute rule and rate-limit refills."""

    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(scope="module")
def seller():
    return generate_seller(seed=11, scale="tiny", today=datetime.now(UTC).date())


@pytest.fixture(scope="module")
def http():
    with httpx.Client(verify=False) as raw:
        yield raw


@pytest.fixture(autouse=True)
def _fresh_lwa_cache():
    # sp_api caches access tokens per refresh token in a module-level TTLCache; every test gets its own.
    token_cache.cache.clear()
    yield
    token_cache.cache.clear()


@pytest.fixture
def clock(seller):
    return Clock(seller.now.timestamp() + 3600)  # an hour after the generator's "now"


@pytest.fixture
def app(seller, clock):
    return AmazonSandbox(seller, clock=clock)


@pytest.fixture
def server(app):
    with RunningServer(app) as running:
        yield running


def client(cls, server, creds=CREDS, **kwargs):
    class LocalLWA(AccessTokenClient):
        scheme = "http://"
        host = server.url.removeprefix("http://")

    # verify=False: plain HTTP anyway, and it spares loading the CA bundle for every client.
    api = cls(credentials=creds, auth_token_client_class=LocalLWA, verify=False, **kwargs)
    api.endpoint = server.url
    return api


def access_token(http, server) -> str:
    form = {
        "grant_type": "refresh_token",
        "client_id": credentials.LWA_CLIENT_ID,
        "client_secret": credentials.LWA_CLIENT_SECRET,
        "refresh_token": credentials.REFRESH_TOKEN,
    }
    return http.post(f"{server.url}/auth/o2/token", data=form).json()["access_token"]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_unshipped_mfn(app, seller, order_id: str, at: datetime) -> dict:
    """The tiny seller's orders have all shipped by 'now'; tests that ship one add their own."""
    template = next(
        o for o in seller.orders if o["fulfillment_channel"] == "MFN" and o["marketplace_id"] == US
    )
    return app.add_order(
        {
            **template,
            "order_id": order_id,
            "purchased_at": at,
            "last_updated_at": at,
            "status": "Unshipped",
            "shipped_at": None,
        }
    )


def all_pages(call, token_name, token_of, *args, **kwargs):
    pages = [call(*args, **kwargs)]
    while token_of(pages[-1]):
        pages.append(call(*args, **{token_name: token_of(pages[-1])}))
    return pages


# -- LWA and access tokens -------------------------------------------------------------------------
def test_lwa_grants_issue_tokens_and_reject_bad_credentials(http, server):
    url = f"{server.url}/auth/o2/token"
    base = {"client_id": credentials.LWA_CLIENT_ID, "client_secret": credentials.LWA_CLIENT_SECRET}
    ok = http.post(
        url, data={**base, "grant_type": "refresh_token", "refresh_token": credentials.REFRESH_TOKEN}
    )
    assert ok.status_code == 200
    body = ok.json()
    assert (
        body["access_token"].startswith("Atza|")
        and body["expires_in"] == 3600
        and body["token_type"] == "bearer"
    )
    grantless = http.post(
        url, data={**base, "grant_type": "client_credentials", "scope": "sellingpartnerapi::notifications"}
    )
    assert grantless.status_code == 200 and grantless.json()["scope"] == "sellingpartnerapi::notifications"
    bad_scope = http.post(url, data={**base, "grant_type": "client_credentials", "scope": "orders"})
    assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_scope"
    bad_refresh = http.post(url, data={**base, "grant_type": "refresh_token", "refresh_token": "Atzr|nope"})
    assert bad_refresh.status_code == 400 and bad_refresh.json()["error"] == "invalid_grant"

    with pytest.raises(AuthorizationError) as wrong_secret:
        client(Orders, server, creds={**CREDS, "lwa_client_secret": "wrong"}).get_orders(
            CreatedAfter="2026-01-01"
        )
    assert (wrong_secret.value.status_code, wrong_secret.value.error_code) == (401, "invalid_client")


def test_api_calls_need_a_valid_seller_access_token(http, server, clock):
    url = f"{server.url}/orders/v0/orders?CreatedAfter=2026-01-01T00:00:00Z&MarketplaceIds={US}"
    missing = http.get(url)
    assert missing.status_code == 403
    assert missing.json()["errors"][0]["code"] == "Unauthorized"
    assert missing.json()["errors"][0]["message"] == "Access to requested resource is denied."
    assert http.get(url, headers={"x-amz-access-token": "Atza|forged"}).status_code == 403
    grantless = http.post(
        f"{server.url}/auth/o2/token",
        data={
            "grant_type": "client_credentials",
            "scope": "sellingpartnerapi::notifications",
            "client_id": credentials.LWA_CLIENT_ID,
            "client_secret": credentials.LWA_CLIENT_SECRET,
        },
    ).json()["access_token"]
    assert http.get(url, headers={"x-amz-access-token": grantless}).status_code == 403

    token = access_token(http, server)
    assert http.get(url, headers={"x-amz-access-token": token}).status_code == 200
    clock.advance(3601)
    expired = http.get(url, headers={"x-amz-access-token": token})
    assert expired.status_code == 403 and "expired" in expired.json()["errors"][0]["details"]


# -- Orders ------------------------------------------------------------------------------------------
def test_v2026_search_orders_pages_and_get_order(server, seller, app):
    orders = client(Orders, server, version="2026-01-01")
    since = seller.now - timedelta(days=20)
    pages = all_pages(
        orders.search_orders,
        "paginationToken",
        lambda r: r.next_token,
        lastUpdatedAfter=iso(since),
        marketplaceIds=[US, DE],
        includedData=["PROCEEDS", "FULFILLMENT", "BUYER"],
        maxResultsPerPage=5,
    )
    got = [o for page in pages for o in page.payload["orders"]]
    expected = {
        o["order_id"]
        for o in seller.orders
        if o["last_updated_at"] >= since and o["marketplace_id"] in (US, DE)
    }
    assert len(pages) > 2 and len(got) == len(expected) and {o["orderId"] for o in got} == expected
    assert [o["lastUpdatedTime"] for o in got] == sorted(o["lastUpdatedTime"] for o in got)
    for o in got:
        source = seller.order(o["orderId"])
        if source["status"] == "Pending":
            assert "proceeds" not in o
        else:
            assert Decimal(o["proceeds"]["grandTotal"]["amount"]) == source["order_total"]
        assert len(o["orderItems"]) == len(source["items"])
    one = orders.get_order(got[0]["orderId"], includedData=["PROCEEDS"]).payload["order"]
    assert one["orderId"] == got[0]["orderId"] and "fulfillment" not in one
    with pytest.raises(SellingApiNotFoundException):
        orders.get_order("999-0000000-0000000")


def test_v0_get_orders_order_items_and_pagination(server, seller, app):
    orders = client(Orders, server)
    since = seller.now - timedelta(days=30)
    pages = all_pages(
        orders.get_orders,
        "NextToken",
        lambda r: r.next_token,
        CreatedAfter=iso(since),
        MarketplaceIds=[US],
        MaxResultsPerPage=4,
    )
    got = [o for page in pages for o in page.payload["Orders"]]
    expected = sorted(
        (o for o in seller.orders if o["purchased_at"] >= since and o["marketplace_id"] == US),
        key=lambda o: (o["last_updated_at"].replace(microsecond=0), o["order_id"]),  # by last update
    )
    assert len(pages) > 1 and [o["AmazonOrderId"] for o in got] == [o["order_id"] for o in expected]
    assert pages[0].payload["CreatedBefore"] == iso(app.now() - timedelta(minutes=2))
    for o, source in zip(got, expected, strict=True):
        assert (
            o["OrderStatus"] == source["status"] and o["FulfillmentChannel"] == source["fulfillment_channel"]
        )
        if source["status"] in ("Shipped", "Unshipped"):
            assert Decimal(o["OrderTotal"]["Amount"]) == source["order_total"]

    multi = next(o for o in seller.orders if len(o["items"]) > 1 and o["status"] != "Pending")
    app.order_items_page_size = 1
    item_pages = all_pages(orders.get_order_items, "NextToken", lambda r: r.next_token, multi["order_id"])
    items = [i for p in item_pages for i in p.payload["OrderItems"]]
    assert len(item_pages) == len(multi["items"])
    assert [i["OrderItemId"] for i in items] == [i["order_item_id"] for i in multi["items"]]
    assert sum(Decimal(i["ItemPrice"]["Amount"]) for i in items) == sum(
        i["item_price"] for i in multi["items"]
    )
    assert orders.get_order(multi["order_id"]).payload["AmazonOrderId"] == multi["order_id"]


def test_v0_get_orders_enforces_documented_time_rules(server, app, clock):
    orders = client(Orders, server)
    clock.advance(0.7)  # the boundary is exact: a client's own `now - 2 minutes` (with fractions) passes
    boundary = datetime.fromtimestamp(clock() - 120, UTC).isoformat()
    assert orders.get_orders(LastUpdatedAfter="2026-01-01T00:00:00Z", LastUpdatedBefore=boundary).payload
    cases = [
        {
            "LastUpdatedAfter": iso(app.now() - timedelta(days=1)),
            "LastUpdatedBefore": iso(app.now() - timedelta(seconds=60)),
        },
        {"MarketplaceIds": [US]},  # neither CreatedAfter nor LastUpdatedAfter
        {"CreatedAfter": "2026-01-01T00:00:00Z", "LastUpdatedAfter": "2026-01-01T00:00:00Z"},
        {"CreatedAfter": "yesterday"},
    ]
    for params in cases:
        with pytest.raises(SellingApiBadRequestException) as err:
            orders.get_orders(**params)
        assert err.value.amzn_code == "InvalidInput", params


def test_last_updated_after_returns_only_changed_orders(server, seller, app, clock):
    v0 = client(Orders, server)
    v2026 = client(Orders, server, version="2026-01-01")
    waiting = add_unshipped_mfn(app, seller, "113-0000000-0000001", app.now() - timedelta(hours=5))
    first = all_pages(
        v0.get_orders,
        "NextToken",
        lambda r: r.next_token,
        LastUpdatedAfter="2020-01-01T00:00:00Z",
        MarketplaceIds=[US],
    )
    assert sum(len(p.payload["Orders"]) for p in first) == 1 + sum(
        o["marketplace_id"] == US for o in seller.orders
    )
    cursor = first[0].payload["LastUpdatedBefore"]

    shipped = next(o for o in seller.orders if o["marketplace_id"] == US and o["status"] == "Shipped")
    app.touch_order(waiting["order_id"], status="Shipped")
    app.touch_order(shipped["order_id"])
    add_unshipped_mfn(app, seller, "113-0000000-0000002", app.now())
    changed = {waiting["order_id"], shipped["order_id"], "113-0000000-0000002"}

    # Updated less than two minutes ago: not visible yet, as on Amazon.
    assert v0.get_orders(LastUpdatedAfter=cursor, MarketplaceIds=[US]).payload["Orders"] == []
    clock.advance(180)
    got = v0.get_orders(LastUpdatedAfter=cursor, MarketplaceIds=[US]).payload["Orders"]
    assert {o["AmazonOrderId"] for o in got} == changed
    assert next(o for o in got if o["AmazonOrderId"] == waiting["order_id"])["OrderStatus"] == "Shipped"
    got_2026 = v2026.search_orders(lastUpdatedAfter=cursor, marketplaceIds=[US]).payload["orders"]
    assert {o["orderId"] for o in got_2026} == changed


def test_an_order_updated_while_paging_comes_again_on_a_later_page(server, seller, app, clock):
    """Pages follow (last update, order id): an update between two pages (within the query's window)
    moves the order to the end, so a client paging through sees it again with its new state and
    loses none; a shipment confirmation moves an order the same way."""
    v2026 = client(Orders, server, version="2026-01-01")
    query = {
        "lastUpdatedAfter": "2020-01-01T00:00:00Z",
        "marketplaceIds": [US, DE],
        "includedData": ["FULFILLMENT"],
        "maxResultsPerPage": 3,
    }
    first = v2026.search_orders(**query)
    seen = [o["orderId"] for o in first.payload["orders"]]
    app.touch_order(seen[0], status="Canceled", at=app.now() - timedelta(minutes=5))
    rest = all_pages(
        v2026.search_orders, "paginationToken", lambda r: r.next_token, paginationToken=first.next_token
    )
    later = [o for page in rest for o in page.payload["orders"]]
    ids = seen + [o["orderId"] for o in later]
    expected = {o["order_id"] for o in seller.orders if o["marketplace_id"] in (US, DE)}
    assert set(ids) == expected and len(ids) == len(expected) + 1  # seen[0] twice, nothing missing
    assert later[-1]["orderId"] == seen[0]
    assert later[-1]["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    times = [o["lastUpdatedTime"] for o in later]
    assert times == sorted(times)

    mfn = add_unshipped_mfn(app, seller, "113-0000000-0000010", app.now() - timedelta(days=300))
    client(Orders, server).confirm_shipment(
        mfn["order_id"],
        marketplaceId=US,
        packageDetail={
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z1",
            "shipDate": iso(app.now()),
            "orderItems": [
                {"orderItemId": i["order_item_id"], "quantity": i["quantity"]} for i in mfn["items"]
            ],
        },
    )
    clock.advance(180)
    again = all_pages(v2026.search_orders, "paginationToken", lambda r: r.next_token, **query)
    last = again[-1].payload["orders"][-1]
    assert last["orderId"] == mfn["order_id"] and last["fulfillment"]["fulfillmentStatus"] == "SHIPPED"


def test_confirm_shipment_ships_the_order_and_is_recorded(http, server, seller, app):
    orders = client(Orders, server)
    order = add_unshipped_mfn(app, seller, "113-0000000-0000009", app.now() - timedelta(hours=3))
    package = {
        "packageReferenceId": "1",
        "carrierCode": "UPS",
        "trackingNumber": "1Z999",
        "shipDate": iso(app.now()),
        "orderItems": [
            {"orderItemId": i["order_item_id"], "quantity": i["quantity"]} for i in order["items"]
        ],
    }
    result = orders.confirm_shipment(
        order["order_id"], marketplaceId=order["marketplace_id"], packageDetail=package
    )
    assert result.payload == {"status_code": 204}
    assert app.order(order["order_id"])["status"] == "Shipped"
    records = http.get(f"{server.url}/_sandbox/records").json()
    assert [c["orderId"] for c in records["shipment_confirmations"]] == [order["order_id"]]
    packages = client(Orders, server, version="2026-01-01").get_order(
        order["order_id"], includedData=["PACKAGES"]
    )
    assert packages.payload["order"]["packages"][0]["trackingNumber"] == "1Z999"

    afn = next(o for o in seller.orders if o["fulfillment_channel"] == "AFN" and o["status"] == "Shipped")
    with pytest.raises(SellingApiBadRequestException):
        orders.confirm_shipment(
            afn["order_id"],
            marketplaceId=afn["marketplace_id"],
            packageDetail={
                **package,
                "orderItems": [{"orderItemId": afn["items"][0]["order_item_id"], "quantity": 1}],
            },
        )


# -- FBA inventory -------------------------------------------------------------------------------------
def test_inventory_summaries_match_the_seller_and_page(server, seller, app, clock):
    inventory = client(Inventories, server)
    app.inventory_page_size = 2
    pages = all_pages(
        inventory.get_inventory_summary_marketplace,
        "nextToken",
        lambda r: r.next_token,
        details=True,
        granularityId=US,
        marketplaceIds=[US],
    )
    got = {s["sellerSku"]: s for p in pages for s in p.payload["inventorySummaries"]}
    expected = {r["seller_sku"]: r for r in seller.inventory if r["marketplace_id"] == US}
    assert len(pages) > 1 and got.keys() == expected.keys()
    for sku, row in expected.items():
        details = got[sku]["inventoryDetails"]
        assert details["fulfillableQuantity"] == row["fulfillable_quantity"]
        assert details["reservedQuantity"]["totalReservedQuantity"] == row["reserved_quantity"]
        assert got[sku]["totalQuantity"] == row["total_quantity"]
    first = inventory.get_inventory_summary_marketplace(details=True, granularityId=US, marketplaceIds=[US])
    clock.advance(31)  # next tokens expire after 30 seconds
    with pytest.raises(SellingApiBadRequestException):
        inventory.get_inventory_summary_marketplace(
            nextToken=first.pagination["nextToken"], granularityId=US, marketplaceIds=[US]
        )


# -- Reports -------------------------------------------------------------------------------------------
def parse_amount(text: str, currency: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", ".") if currency == "EUR" else text.replace(",", ""))


def test_settlement_reports_list_90_days_and_download_documents_that_sum(server, seller, app):
    reports = client(Reports, server)
    pages = all_pages(
        reports.get_reports,
        "nextToken",
        lambda r: r.next_token,
        reportTypes=["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"],
        pageSize=7,
    )
    listed = [r for p in pages for r in p.payload["reports"]]
    now = app.now()
    recent = {
        s["report_id"] for s in seller.settlements if now - timedelta(days=90) <= s["created_at"] <= now
    }
    assert len(pages) > 1 and {r["reportId"] for r in listed} == recent
    assert len(recent) < len(seller.settlements)  # older settlements are no longer listed
    assert len({m for r in listed for m in r["marketplaceIds"]}) == 5  # marketplaceIds=US was ignored

    by_currency = {}
    for settlement in seller.settlements:
        if settlement["report_id"] in recent:
            by_currency.setdefault(settlement["currency"], settlement)
    for settlement in by_currency.values():  # one per marketplace, incl. DE's `1.234,56`
        report = reports.get_report(settlement["report_id"]).payload
        assert report["processingStatus"] == "DONE"
        document = reports.get_report_document(
            report["reportDocumentId"], download=True, character_code="utf-8"
        )
        assert document.payload["compressionAlgorithm"] == "GZIP"
        lines = document.payload["document"].splitlines()
        header = lines[0].split("\t")
        rows = [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:]]
        total = parse_amount(rows[0]["total-amount"], settlement["currency"])
        amounts = sum(parse_amount(r["amount"], settlement["currency"]) for r in rows[1:])
        assert total == amounts == settlement["total_amount"]


def test_create_report_refuses_settlements_and_processes_listing_reports(server, seller, app):
    reports = client(Reports, server)
    with pytest.raises(SellingApiBadRequestException) as err:
        reports.create_report(reportType="GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", marketplaceIds=[US])
    assert err.value.amzn_code == "InvalidInput" and "is not allowed at this time" in err.value.message
    report_id = reports.create_report(
        reportType="GET_MERCHANT_LISTINGS_ALL_DATA", marketplaceIds=[US]
    ).payload["reportId"]
    statuses = [reports.get_report(report_id).payload["processingStatus"] for _ in range(2)]
    assert statuses == ["IN_PROGRESS", "DONE"]
    document_id = reports.get_report(report_id).payload["reportDocumentId"]
    text = reports.get_report_document(document_id, download=True).payload["document"]
    skus = {line.split("\t")[2] for line in text.splitlines()[1:]}
    assert skus == {r["sku"] for r in seller.listings if r["marketplace_id"] == US}


def test_document_urls_are_signed_and_expire(http, server, seller, app, clock):
    reports = client(Reports, server)
    report_id = next(
        s["report_id"] for s in sorted(seller.settlements, key=lambda s: s["created_at"], reverse=True)
    )
    document_id = reports.get_report(report_id).payload["reportDocumentId"]
    url = reports.get_report_document(document_id).payload["url"]
    assert url.startswith(server.url + "/_documents/")
    fresh = http.get(url)
    assert fresh.status_code == 200 and gzip.decompress(fresh.content).startswith(b"settlement-id\t")
    assert http.get(url.replace("sig=", "sig=0")).status_code == 403
    clock.advance(301)
    expired = http.get(url)
    assert expired.status_code == 403 and b"Request has expired" in expired.content


# -- Feeds and Listings --------------------------------------------------------------------------------
def test_json_listings_feed_updates_listings_and_reports_issues(http, server, seller, app):
    us = [r for r in seller.listings if r["marketplace_id"] == US]
    feed_doc = {
        "header": {"sellerId": credentials.SELLER_ID, "version": "2.0", "issueLocale": "en_US"},
        "messages": [
            {
                "messageId": 1,
                "sku": us[0]["sku"],
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 77}],
                    }
                ],
            },
            {
                "messageId": 2,
                "sku": us[1]["sku"],
                "operationType": "PARTIAL_UPDATE",
                "productType": "PRODUCT",
                "attributes": {
                    "purchasable_offer": [
                        {
                            "marketplace_id": US,
                            "currency": "USD",
                            "audience": "ALL",
                            "our_price": [{"schedule": [{"value_with_tax": 31.5}]}],
                        }
                    ]
                },
            },
            {
                "messageId": 3,
                "sku": "NO-SUCH-SKU",
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 1}],
                    }
                ],
            },
            {
                "messageId": 4,
                "sku": us[2]["sku"],
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {"op": "replace", "path": "/attributes/fulfillment_availability/0/quantity", "value": [5]}
                ],
            },
        ],
    }
    feeds = client(Feeds, server)
    document = feeds.create_feed_document(
        io.BytesIO(json.dumps(feed_doc).encode()), "application/json; charset=UTF-8"
    )
    feed_id = feeds.create_feed(
        "JSON_LISTINGS_FEED", document.payload["feedDocumentId"], marketplaceIds=[US]
    ).payload["feedId"]
    assert feeds.get_feed(feed_id).payload["processingStatus"] == "IN_PROGRESS"
    done = feeds.get_feed(feed_id).payload
    assert done["processingStatus"] == "DONE"
    report = json.loads(feeds.get_feed_result_document(done["resultFeedDocumentId"]))
    assert report["summary"] == {
        "errors": 2,
        "warnings": 0,
        "messagesProcessed": 4,
        "messagesAccepted": 2,
        "messagesInvalid": 2,
    }
    assert sorted(i["messageId"] for i in report["issues"]) == [3, 4]
    assert app.listing(us[0]["sku"], "US")["quantity"] == 77
    assert app.listing(us[1]["sku"], "US")["price"] == Decimal("31.50")
    assert (
        app.listing(us[2]["sku"], "US")["quantity"] == us[2]["quantity"]
    )  # the invalid message changed nothing
    records = http.get(f"{server.url}/_sandbox/records").json()
    assert records["feeds"][0]["summary"]["messagesAccepted"] == 2


def test_listings_items_get_and_patch(server, seller, app):
    listings = client(ListingsItems, server)
    row = next(r for r in seller.listings if r["marketplace_id"] == US)
    item = listings.get_listings_item(
        credentials.SELLER_ID,
        row["sku"],
        marketplaceIds=[US],
        includedData=["summaries", "offers", "fulfillmentAvailability"],
    ).payload
    assert item["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "DEFAULT", "quantity": row["quantity"]}
    ]
    assert Decimal(item["offers"][0]["price"]["amount"]) == row["price"]
    assert item["summaries"][0]["asin"] == row["asin"]

    patch = {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}],
            }
        ],
    }
    preview = listings.patch_listings_item(
        credentials.SELLER_ID, row["sku"], marketplaceIds=[US], body=patch, mode="VALIDATION_PREVIEW"
    ).payload
    assert preview["status"] == "VALID" and app.listing(row["sku"], "US")["quantity"] == row["quantity"]
    accepted = listings.patch_listings_item(
        credentials.SELLER_ID, row["sku"], marketplaceIds=[US], body=patch
    ).payload
    assert accepted["status"] == "ACCEPTED" and accepted["issues"] == []
    assert app.listing(row["sku"], "US")["quantity"] == 3
    bad = {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": -1}],
            }
        ],
    }
    invalid = listings.patch_listings_item(
        credentials.SELLER_ID, row["sku"], marketplaceIds=[US], body=bad
    ).payload
    assert invalid["status"] == "INVALID" and invalid["issues"][0]["severity"] == "ERROR"
    assert app.listing(row["sku"], "US")["quantity"] == 3
    with pytest.raises(SellingApiNotFoundException):
        listings.get_listings_item(credentials.SELLER_ID, "NO-SUCH-SKU", marketplaceIds=[US])


# -- Rate limits and faults ----------------------------------------------------------------------------
def test_rate_limits_follow_the_model_quotas(seller, clock):
    app = AmazonSandbox(seller, clock=clock, rate_limit_scale=1)
    with RunningServer(app) as server:
        inventory = client(Inventories, server)
        first = inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])
        assert first.rate_limit == "2"
        inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])  # burst is 2
        with pytest.raises(SellingApiRequestThrottledException) as throttled:
            inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])
        assert throttled.value.amzn_code == "QuotaExceeded"
        assert throttled.value.message == "You exceeded your quota for the requested resource."
        clock.advance(0.5)  # 2 requests per second refill one token every 0.5 s
        inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])
    token_cache.cache.clear()  # a new server does not know the old server's access token
    unlimited = AmazonSandbox(seller, clock=clock, rate_limit_scale=0)
    with RunningServer(unlimited) as server:
        inventory = client(Inventories, server)
        for _ in range(10):
            inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])


def test_injected_faults_are_observable_through_the_client(http, server, app):
    inventory = client(Inventories, server)
    inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])  # token cached first
    app.faults.configure(rate_429=1.0)
    with pytest.raises(SellingApiRequestThrottledException):
        inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])
    app.faults.configure(rate_429=0.0, rate_5xx=1.0)
    raised = set()
    for _ in range(2):  # alternates 500 InternalFailure / 503 ServiceUnavailable
        with pytest.raises((SellingApiServerException, SellingApiTemporarilyUnavailableException)) as err:
            inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])
        raised.add(type(err.value))
    assert raised == {SellingApiServerException, SellingApiTemporarilyUnavailableException}
    app.faults.configure(rate_5xx=0.0, rate_reset=1.0)
    with pytest.raises(httpx.TransportError):
        inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])
    app.faults.configure(rate_reset=0.0, rate_truncate=1.0)
    with pytest.raises((httpx.TransportError, ValueError)):
        inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US])
    app.faults.configure(rate_truncate=0.0)
    assert inventory.get_inventory_summary_marketplace(granularityId=US, marketplaceIds=[US]).payload
    faults = [r["fault"] for r in http.get(f"{server.url}/_sandbox/requests").json()["requests"]]
    assert {"429", "5xx", "reset", "truncate"} <= set(faults)


# -- Amazon's static sandbox examples ------------------------------------------------------------------
def query_value(value) -> str:
    """How python-amazon-sp-api puts a parameter in the query: lists comma-joined, booleans lower-case."""
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_every_static_example_comes_back_verbatim(http, server):
    examples = load_examples()
    assert {e.source for e in examples} == {p.name for p in EXAMPLES_DIR.glob("*.json")}
    token = access_token(http, server)
    for example in examples:
        path_params, query, body = example.request_parts()
        path = example.path
        for name in [p[1:-1] for p in path.split("/") if p.startswith("{")]:
            path = path.replace(
                "{" + name + "}", quote(str(path_params.get(name, credentials.SELLER_ID)), safe="")
            )
        params = {k: query_value(v) for k, v in query.items()}
        content = None if body is MISSING else json.dumps(body)
        response = http.request(
            example.method,
            server.url + path,
            params=params,
            content=content,
            headers={"x-amz-access-token": token, "content-type": "application/json"},
        )
        assert response.status_code == example.status, (example.source, example.parameters)
        if example.status == 204:
            assert response.content == b""
        else:
            assert response.json() == example.response, (example.source, example.parameters)

    # ... and through the client, with the parameters it adds on its own (MarketplaceIds, marketplaceIds).
    v0 = client(Orders, server)
    expected = next(
        e
        for e in examples
        if e.source == "ordersV0_getOrders.json" and e.parameters["CreatedAfter"] == "TEST_CASE_200"
    )
    assert v0.get_orders(CreatedAfter="TEST_CASE_200").payload == expected.response["payload"]
    with pytest.raises(SellingApiBadRequestException) as err:
        v0.get_order_items("TEST_CASE_400")
    assert err.value.error == [{"code": "InvalidInput", "message": "Invalid Input"}]
    assert client(Reports, server).create_report(
        reportType="GET_MERCHANT_LISTINGS_ALL_DATA",
        dataStartTime="2024-03-10T20:11:24.000Z",
        marketplaceIds=["A1PA6795UKMFR9", "ATVPDKIKX0DER"],
    ).payload == {"reportId": "ID323"}
    feeds = client(Feeds, server)
    created = feeds.create_feed_document(None, "text/tab-separated-values; charset=UTF-8").payload
    assert created["feedDocumentId"] == "3d4e42b5-1d6e-44e8-a89c-2abfca0625bb"
    feed = feeds.create_feed(
        "POST_PRODUCT_DATA", created["feedDocumentId"], marketplaceIds=[US, "A1F83G8C2ARO7P"]
    )
    assert feed.payload == {"feedId": "3485934"}


def test_default_sandbox_generates_the_small_seller_as_of_the_clock_date():
    moment = datetime(2026, 12, 30, 15, 0, tzinfo=UTC)
    app = AmazonSandbox(clock=lambda: moment.timestamp())
    assert (app.seller.seed, app.seller.today) == (7, moment.date())
    assert len(app.orders) > 1000 and max(o["purchased_at"] for o in app.orders.values()) < moment


# -- Shapes against Amazon's OpenAPI models ------------------------------------------------------------
MODELS = Path("/work/shared/reference/sp-api/models")


def model_violations(value, schema, defs, path="") -> list[str]:
    """Fields not in the model, missing required fields, wrong types or enum values."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    found: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        found += [f"{path}: missing {name}" for name in schema.get("required", []) if name not in value]
        for key, item in value.items():
            if key in schema["properties"]:
                found += model_violations(item, schema["properties"][key], defs, f"{path}.{key}")
            elif not schema.get("additionalProperties"):
                found.append(f"{path}.{key}: not in the model")
    elif isinstance(value, list) and schema.get("type") == "array":
        for n, item in enumerate(value):
            found += model_violations(item, schema.get("items", {}), defs, f"{path}[{n}]")
    elif "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not one of the model's values")
    elif schema.get("type") in {"string", "integer", "boolean"}:
        expected = {"string": str, "integer": int, "boolean": bool}[schema["type"]]
        if not isinstance(value, expected):
            found.append(f"{path}: {type(value).__name__} instead of {schema['type']}")
    return found


@pytest.mark.skipif(not MODELS.is_dir(), reason="Amazon's OpenAPI models are not on this machine")
def test_responses_match_the_openapi_models(server, seller, app):
    def defs(name):
        return json.loads((MODELS / name).read_text())["definitions"]

    add_unshipped_mfn(app, seller, "113-0000000-0000009", app.now() - timedelta(hours=3))
    row = next(r for r in seller.listings if r["marketplace_id"] == US)
    v0, v2026 = client(Orders, server), client(Orders, server, version="2026-01-01")
    reports, listings = client(Reports, server), client(ListingsItems, server)
    orders = v0.get_orders(CreatedAfter=iso(seller.now - timedelta(days=30)), MarketplaceIds=[US]).payload
    every = ["BUYER", "RECIPIENT", "PROCEEDS", "PROMOTION", "FULFILLMENT", "PACKAGES"]
    listed = reports.get_reports(reportTypes=["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"])
    inventory = client(Inventories, server).get_inventory_summary_marketplace(
        details=True, granularityId=US, marketplaceIds=[US]
    )
    patch = {"productType": "PRODUCT", "patches": [{"op": "delete", "path": "/attributes/x/y"}]}
    cases = [
        ({"payload": orders}, "ordersV0.json", "GetOrdersResponse"),
        (
            {"payload": v0.get_order_items(orders["Orders"][0]["AmazonOrderId"]).payload},
            "ordersV0.json",
            "GetOrderItemsResponse",
        ),
        (
            v2026.search_orders(
                createdAfter=iso(seller.now - timedelta(days=30)), includedData=every
            ).payload,
            "orders_2026-01-01.json",
            "SearchOrdersResponse",
        ),
        (
            v2026.get_order("113-0000000-0000009", includedData=every).payload,
            "orders_2026-01-01.json",
            "GetOrderResponse",
        ),
        (
            {"payload": inventory.payload, "pagination": inventory.pagination},
            "fbaInventory.json",
            "GetInventorySummariesResponse",
        ),
        (
            {"reports": listed.payload["reports"], "nextToken": listed.next_token},
            "reports_2021-06-30.json",
            "GetReportsResponse",
        ),
        (
            reports.get_report_document(listed.payload["reports"][0]["reportDocumentId"]).payload,
            "reports_2021-06-30.json",
            "ReportDocument",
        ),
        (
            listings.get_listings_item(
                credentials.SELLER_ID,
                row["sku"],
                marketplaceIds=[US],
                includedData=[
                    "summaries",
                    "attributes",
                    "issues",
                    "offers",
                    "fulfillmentAvailability",
                    "productTypes",
                ],
            ).payload,
            "listingsItems_2021-08-01.json",
            "Item",
        ),
        (
            listings.patch_listings_item(
                credentials.SELLER_ID,
                row["sku"],
                marketplaceIds=[US],
                body=patch,
                includedData=["issues", "identifiers"],
            ).payload,
            "listingsItems_2021-08-01.json",
            "ListingsItemSubmissionResponse",
        ),
    ]
    for body, model, definition in cases:
        assert model_violations(body, {"$ref": definition}, defs(model), definition) == []
