"""The benchmark's large-seller SP-API sandbox (benchmarks/large_seller.py) answers like the demo one.

It serves searchOrders pages from an index and pre-rendered JSON instead of rendering orders; the
full-build benchmark's figures are only worth something if those pages are the ones the normal
sandbox would serve: same orders, same JSON, same order, filters applied, changes visible.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.amazon_shapes import iso, order_2026
from sandbox.http import Request

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `benchmarks` is not an installed package
from benchmarks.large_seller import Plan, large_amazon_sandbox, write_year  # noqa: E402

INCLUDED = "PROCEEDS,FULFILLMENT,RECIPIENT"
CA = "A2EUQ1WTGCTBG2"


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large")
    plan = Plan(
        seed=3, n_orders=400, t0=datetime.now(UTC).replace(microsecond=0).isoformat(), workdir=str(folder)
    )
    plan.save()
    write_year(plan, workers=1)
    return plan


def search(app, **query) -> dict:
    request = Request(
        method="GET",
        path="/orders/2026-01-01/orders",
        query={k: [v] for k, v in query.items()},
        headers={},
        body=b"",
        raw_path="",
        base_url="",
    )
    return json.loads(app.search_orders(request).body)


def all_orders(app, **query) -> list[dict]:
    pages = [search(app, **query)]
    while (pages[-1].get("pagination") or {}).get("nextToken"):
        pages.append(search(app, paginationToken=pages[-1]["pagination"]["nextToken"]))
    return [o for page in pages for o in page["orders"]]


def test_pages_are_the_orders_the_normal_sandbox_would_render(plan):
    app = large_amazon_sandbox(plan, rate_limit_scale=0)
    before = iso(plan.year_end)
    got = all_orders(
        app,
        lastUpdatedAfter="2000-01-01T00:00:00Z",
        lastUpdatedBefore=before,
        includedData=INCLUDED,
        maxResultsPerPage="37",
    )
    small = {o["order_id"] for o in plan.base.orders if o["last_updated_at"] <= plan.year_end}
    assert len(got) == plan.n_orders + len(small)  # the year's orders and the small seller's
    keys = [(o["lastUpdatedTime"], o["orderId"]) for o in got]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for o in got:
        source = app.orders[o["orderId"]]
        assert o == json.loads(
            json.dumps(order_2026(source, app._name(source), set(INCLUDED.split(",")), []))
        )

    # Filters and other datasets than the pre-rendered ones.
    canada = all_orders(
        app,
        lastUpdatedAfter="2000-01-01T00:00:00Z",
        lastUpdatedBefore=before,
        marketplaceIds=CA,
        fulfillmentStatuses="SHIPPED",
        includedData="PROCEEDS",
    )
    expected = [
        o
        for o in got
        if o["salesChannel"]["marketplaceId"] == CA and o["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    ]
    assert [o["orderId"] for o in canada] == [o["orderId"] for o in expected] and canada
    assert all("fulfillment" not in o and "recipient" not in o for o in canada)

    # A changed order is served with its change, at its new place.
    changed, at = got[0]["orderId"], plan.year_end - timedelta(minutes=1)
    app.touch_order(changed, status="Canceled", at=at)
    again = all_orders(
        app, lastUpdatedAfter="2000-01-01T00:00:00Z", lastUpdatedBefore=before, includedData=INCLUDED
    )
    assert {o["orderId"] for o in again} == {o["orderId"] for o in got} and len(again) == len(got)
    keys = [(o["lastUpdatedTime"], o["orderId"]) for o in again]
    assert keys == sorted(keys) and keys.index((iso(at), changed)) > len(keys) / 2
    assert (
        next(o for o in again if o["orderId"] == changed)["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    )
