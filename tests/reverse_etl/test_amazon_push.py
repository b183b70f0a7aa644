"""Reverse ETL to Amazon through python-amazon-sp-api against the SP-API sandbox over HTTP:
listing quantities in one JSON_LISTINGS_FEED (per-message errors fail only their record) and
MFN shipment confirmations."""

from __future__ import annotations

import pytest
from sync_support import sync_records, write_models

from reverse_etl.sync import push

US = "ATVPDKIKX0DER"


@pytest.fixture
def amazon(seller, monkeypatch):
    from sandbox.amazon import AmazonSandbox
    from sandbox.http import RunningServer

    server = RunningServer(AmazonSandbox(seller=seller)).start()
    monkeypatch.setenv("AMAZON_SP_API_URL", server.url)
    monkeypatch.setenv("AMAZON_LWA_URL", server.url)
    monkeypatch.setenv("AMAZON_RETRY_BASE_SECONDS", "0.05")
    yield server
    server.stop()


def listing(sku: str, quantity: int) -> dict:
    return {
        "external_id": f"amz-lst-US-{sku}",
        "record_type": "listingsFeedMessage",
        "payload": {
            "sku": sku,
            "operationType": "PATCH",
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
                }
            ],
        },
        "depends_on": None,
        "marketplace_id": US,
    }


def calls(server, path_part: str, method: str = "POST") -> list[dict]:
    return [r for r in server.app.requests if r["method"] == method and path_part in r["path"]]


def test_listings_go_in_one_feed_and_an_unknown_sku_fails_alone(amazon, seller, tmp_path):
    skus = sorted({row["sku"] for row in seller.listings if row["marketplace_id"] == US})[:3]
    rows = [listing(sku, 7 + n) for n, sku in enumerate(skus)] + [listing("NO-SUCH-SKU", 5)]
    path = tmp_path / "w.duckdb"
    write_models(path, {"sync_amazon__listings": rows})

    summary = push(path, progress=lambda _: None, feed_wait=20)

    assert len(calls(amazon, "/feeds/2021-06-30/feeds")) == 1, "expected exactly one createFeed"
    state = sync_records(path)
    for n, sku in enumerate(skus):
        row = state[("listingsFeedMessage", f"amz-lst-US-{sku}")]
        assert row["status"] == "pushed" and row["target_id"].startswith("feed:")
        now = [r for r in amazon.app.listings.rows if r["sku"] == sku and r["marketplace_id"] == US]
        assert now[0]["quantity"] == 7 + n
    bad = state[("listingsFeedMessage", "amz-lst-US-NO-SUCH-SKU")]
    assert bad["status"] == "failed" and "SKU_NOT_FOUND" in bad["last_error"]
    assert "has no listing" in bad["last_error"]
    assert summary.counts["failed"] == 1 and summary.counts["pushed"] == 3

    amazon.app.requests.clear()  # only the failed message is retried next time, in a new feed
    push(path, progress=lambda _: None, feed_wait=20)
    assert len(calls(amazon, "/feeds/2021-06-30/feeds")) == 1
    assert sync_records(path)[("listingsFeedMessage", "amz-lst-US-NO-SUCH-SKU")]["status"] == "failed"


def test_shipment_confirmation_is_sent_once(amazon, seller, tmp_path):
    order = next(o for o in amazon.app.orders.values() if o["fulfillment_channel"] == "MFN")
    order["status"] = "Unshipped"  # the sandbox seed has shipped them all already
    for item in order["items"]:
        item["quantity_shipped"] = 0
    payload = {
        "amazonOrderId": order["order_id"],
        "marketplaceId": order["marketplace_id"],
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "shipDate": "2026-07-16T10:00:00Z",
            "orderItems": [
                {"orderItemId": i["order_item_id"], "quantity": i["quantity"]} for i in order["items"]
            ],
        },
    }
    row = {
        "external_id": f"amz-ship-{order['order_id']}",
        "record_type": "shipmentConfirmation",
        "payload": payload,
        "depends_on": None,
    }
    path = tmp_path / "w.duckdb"
    write_models(path, {"sync_amazon__shipments": [row]})
    push(path, progress=lambda _: None)
    push(path, progress=lambda _: None)
    assert len(calls(amazon, "/shipmentConfirmation")) == 1
    assert amazon.app.orders[order["order_id"]]["status"] == "Shipped"
    state = sync_records(path)[("shipmentConfirmation", row["external_id"])]
    assert state["status"] == "pushed" and state["target_id"] == order["order_id"]
