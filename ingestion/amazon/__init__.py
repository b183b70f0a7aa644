"""dlt source over SP-API (python-amazon-sp-api): orders + order items, FBA inventory snapshots.

Shaped like dlt's verified `shopify_dlt` source: the source function builds one API client and
returns resources; each resource declares its primary key, write disposition and cursor.

- `orders` (resource) writes two tables, `orders` and `order_items`, from one pass over the
  Orders API: `searchOrders` (2026-01-01, items included) or, with AMAZON_ORDERS_API=v0,
  `getOrders` + `getOrderItems`. Incremental on `last_updated_at` with a lookback (dlt `lag`);
  the query's upper bound is now - 2 minutes, as the API demands. Merge on the contract keys.
- `inventory_summaries`: today's FBA snapshot per marketplace, merged on
  (snapshot_date, marketplace_id, seller_sku), so a rerun the same day replaces the snapshot.
- `listings_items`: every listing per marketplace from the GET_MERCHANT_LISTINGS_ALL_DATA report
  (`ingestion.amazon.listings`), merged on (marketplace_id, seller_sku).
Settlement reports are not a resource here: `ingestion.amazon.settlement_reports` downloads
them and hands the files to the settlements loader (the same path as `import-settlements`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from ingestion.empty_tables import empty_table

from .client import SpApi
from .listings import listings_items_resource
from .rows import (
    INVENTORY_COLUMNS,
    ORDER_COLUMNS,
    ORDER_ITEM_COLUMNS,
    PII_COLUMNS,
    inventory_row,
    iso,
    item_from_v0,
    item_from_v2026,
    order_from_v0,
    order_from_v2026,
)
from .settings import ORDERS_END_MARGIN, AmazonSettings

# searchOrders datasets we need: money, status/channel, ship country; buyer only when PII is kept.
V2026_INCLUDED = ["PROCEEDS", "FULFILLMENT", "RECIPIENT"]


@dlt.source(name="amazon", max_table_nesting=0)
def amazon_source(
    settings: AmazonSettings | None = None,
    api: SpApi | None = None,
    now: datetime | None = None,
) -> tuple[DltResource, ...]:
    """Amazon Seller Central via SP-API.

    Args:
        settings: endpoints, credentials, marketplaces, orders API version, PII switch;
            `AmazonSettings.from_env()` when omitted.
        api: a prepared `SpApi` (tests pass one to count retries); built from `settings` otherwise.
        now: the run's clock (UTC); the orders upper bound and the inventory snapshot date derive from it.
    """
    settings = settings or AmazonSettings.from_env()
    api = api or SpApi(settings)
    clock = now or datetime.now(UTC)
    return (
        orders_resource(api, settings, clock),
        inventory_summaries_resource(api, settings, clock),
        listings_items_resource(api, settings),
    )


def orders_resource(api: SpApi, settings: AmazonSettings, now: datetime) -> DltResource:
    columns = copy.deepcopy(
        {
            "orders": {**ORDER_COLUMNS, **(PII_COLUMNS if settings.store_buyer_pii else {})},
            "order_items": ORDER_ITEM_COLUMNS,
        }
    )
    cursor = dlt.sources.incremental(
        "last_updated_at",
        initial_value=now - settings.initial_history,
        lag=settings.orders_lookback.total_seconds(),
        # Orders and their items share the cursor value; dedup by one key would drop items.
        primary_key=(),
    )

    # One pass over the Orders API feeds two tables. The table name and hints are static (order
    # rows), items are marked for `order_items`, whose hints are a table variant: with per-row
    # callables dlt recomputed the schema for every row (~40 rows/s; the benchmark's profile).
    @dlt.resource(
        name="orders",
        table_name="orders",
        primary_key=("order_id",),
        columns=columns["orders"],
        write_disposition="merge",
    )
    def orders(last_updated_at: dlt.sources.incremental[datetime] = cursor) -> Iterator[Any]:
        since = last_updated_at.start_value
        until = now - ORDERS_END_MARGIN
        fetch = _orders_v0 if settings.orders_api == "v0" else _orders_v2026
        found = False
        order_rows: list[dict] = []
        item_rows: list[dict] = []
        for order_row, items in fetch(api, settings, iso(since), iso(until)):
            found = True
            order_rows.append(order_row)
            item_rows.extend(items)
            if len(order_rows) >= settings.page_size:  # one batch per page keeps memory flat
                yield order_rows
                yield dlt.mark.with_table_name(item_rows, "order_items")
                order_rows, item_rows = [], []
        if order_rows:
            yield order_rows
        if item_rows:
            yield dlt.mark.with_table_name(item_rows, "order_items")
        if not found:  # nothing yet: still create both tables, dbt selects from them
            for table in ("orders", "order_items"):  # Arrow items need their table named up front
                yield dlt.mark.with_table_name(empty_table(columns[table]), table)

    orders.apply_hints(
        table_name="order_items",
        primary_key=("order_id", "order_item_id"),
        columns=columns["order_items"],
        write_disposition="merge",
        create_table_variant=True,
    )
    return orders


def _orders_v2026(
    api: SpApi, settings: AmazonSettings, since: str, until: str
) -> Iterator[tuple[dict, list[dict]]]:
    from sp_api.api import Orders

    client = api.client(Orders, version="2026-01-01")
    params: dict[str, Any] = {
        "lastUpdatedAfter": since,
        "lastUpdatedBefore": until,
        "marketplaceIds": list(settings.marketplace_ids.values()),
        "includedData": V2026_INCLUDED + (["BUYER"] if settings.store_buyer_pii else []),
        "maxResultsPerPage": settings.page_size,
    }
    token = None
    while True:
        page = api.call(
            "searchOrders", client.search_orders, **params, **({"paginationToken": token} if token else {})
        )
        for order in page.payload.get("orders") or []:
            row = order_from_v2026(order, settings.store_buyer_pii)
            yield row, [item_from_v2026(row, item) for item in order.get("orderItems") or []]
        token = page.next_token  # sp_api lifts `pagination` out of the payload
        if not token:
            return


def _orders_v0(
    api: SpApi, settings: AmazonSettings, since: str, until: str
) -> Iterator[tuple[dict, list[dict]]]:
    from sp_api.api import Orders

    client = api.client(Orders, version="v0")
    params: dict[str, Any] = {
        "LastUpdatedAfter": since,
        "LastUpdatedBefore": until,
        "MarketplaceIds": list(settings.marketplace_ids.values()),
        "MaxResultsPerPage": settings.page_size,
    }
    token = None
    while True:
        page = api.call("getOrders", client.get_orders, **params, **({"NextToken": token} if token else {}))
        for order in page.payload.get("Orders") or []:
            row = order_from_v0(order, settings.store_buyer_pii)
            yield row, [item_from_v0(row, item) for item in _order_items_v0(api, client, row["order_id"])]
        token = page.next_token
        if not token:
            return


def _order_items_v0(api: SpApi, client: Any, order_id: str) -> Iterator[dict]:
    token = None
    while True:
        extra = {"NextToken": token} if token else {}
        page = api.call(f"getOrderItems {order_id}", client.get_order_items, order_id, **extra)
        yield from page.payload.get("OrderItems") or []
        token = page.payload.get("NextToken")
        if not token:
            return


def inventory_summaries_resource(api: SpApi, settings: AmazonSettings, now: datetime) -> DltResource:
    columns = copy.deepcopy(INVENTORY_COLUMNS)

    @dlt.resource(
        name="inventory_summaries",
        primary_key=("snapshot_date", "marketplace_id", "seller_sku"),
        write_disposition="merge",
        columns=columns,
    )
    def inventory_summaries() -> Iterator[dict]:
        from sp_api.api import Inventories

        snapshot_date = now.astimezone(UTC).date()
        found = False
        for code, marketplace_id in settings.marketplace_ids.items():
            client = api.client(Inventories, marketplace=code)
            token = None
            while True:
                params: dict[str, Any] = {
                    "details": "true",
                    "granularityType": "Marketplace",
                    "granularityId": marketplace_id,
                    "marketplaceIds": [marketplace_id],
                }
                if token:
                    params["nextToken"] = token
                page = api.call(
                    f"getInventorySummaries {code}", client.get_inventory_summary_marketplace, **params
                )
                for summary in (page.payload or {}).get("inventorySummaries") or []:
                    found = True
                    yield inventory_row(summary, marketplace_id, snapshot_date)
                token = page.next_token
                if not token:
                    break
        if not found:
            yield empty_table(columns)

    return inventory_summaries
