"""dlt source over SP-API (python-amazon-sp-api): orders + order items, FBA inventory, listings.

Shaped like dlt's verified `shopify_dlt` source: the source function builds one API client and
returns resources; each resource declares its primary key, write disposition and cursor.

- `orders` (resource) writes two tables, `orders` and `order_items`, from one pass over the
  Orders API: `searchOrders` (2026-01-01, items included) or, with AMAZON_ORDERS_API=v0,
  `getOrders` + `getOrderItems`. Incremental on `last_updated_at` with a lookback (dlt `lag`);
  the query's upper bound is now - 2 minutes, as the API demands. Merge on the contract keys.
  Built for a large seller's first load: a background thread fetches the next pages while this
  one turns the last ones into Arrow tables of `ORDERS_BATCH` orders (dlt writes those as parquet,
  no per-row Python), so a million orders load in minutes (benchmarks/full_build.py).
- `inventory_summaries`: today's FBA snapshot per marketplace, merged on
  (snapshot_date, marketplace_id, seller_sku), so a rerun the same day replaces the snapshot.
- `listings_items`: every listing per marketplace from the GET_MERCHANT_LISTINGS_ALL_DATA report
  (`ingestion.amazon.listings`), merged on (marketplace_id, seller_sku).
Settlement reports are not a resource here: `ingestion.amazon.settlement_reports` downloads
them and hands the files to the settlements loader (the same path as `import-settlements`).
"""

from __future__ import annotations

import copy
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import dlt
from dlt.extract.resource import DltResource

from ingestion.arrow_tables import arrow_page, empty_table

from .client import SpApi
from .listings import ListingsFetch, listings_items_resource
from .reports import RequestedReports
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
# Orders per Arrow table handed to dlt: big enough that dlt's per-table cost vanishes, small
# enough that memory stays flat (~5 MB of rows).
ORDERS_BATCH = 5_000
PREFETCH_PAGES = 8
Page = tuple[list[dict], list[dict]]  # (order rows, item rows) of one Orders API page
T = TypeVar("T")


@dlt.source(name="amazon", max_table_nesting=0)
def amazon_source(
    settings: AmazonSettings | None = None,
    api: SpApi | None = None,
    now: datetime | None = None,
    listings: RequestedReports | ListingsFetch | None = None,
) -> tuple[DltResource, ...]:
    """Amazon Seller Central via SP-API.

    Args:
        settings: endpoints, credentials, marketplaces, orders API version, PII switch;
            `AmazonSettings.from_env()` when omitted.
        api: a prepared `SpApi` (tests pass one to count retries); built from `settings` otherwise.
        now: the run's clock (UTC); the orders upper bound and the inventory snapshot date derive from it.
        listings: listings reports requested earlier (`request_listings`), or being read in the
            background already (`ListingsFetch`); asked for when the `listings_items` resource
            runs otherwise.
    """
    settings = settings or AmazonSettings.from_env()
    api = api or SpApi(settings)
    clock = now or datetime.now(UTC)
    return (
        orders_resource(api, settings, clock),
        inventory_summaries_resource(api, settings, clock),
        listings_items_resource(api, settings, listings),
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

    # One pass over the Orders API feeds two tables: every batch is marked with its table, whose
    # hints are a table variant (static hints: with per-row callables dlt recomputed the schema for
    # every row, ~40 rows/s). The resource itself names no columns: variants start from the
    # resource's hints, so `order_items` would get the order columns too (all NULL).
    @dlt.resource(name="orders", table_name="orders", primary_key=("order_id",), write_disposition="merge")
    def orders(last_updated_at: dlt.sources.incremental[datetime] = cursor) -> Iterator[Any]:
        since = last_updated_at.start_value
        until = now - ORDERS_END_MARGIN
        fetch = _orders_v0 if settings.orders_api == "v0" else _orders_v2026
        found = False
        order_rows: list[dict] = []
        item_rows: list[dict] = []
        for page_orders, page_items in prefetched(fetch(api, settings, iso(since), iso(until))):
            order_rows += page_orders
            item_rows += page_items
            if len(order_rows) >= ORDERS_BATCH:
                found = True
                yield from _tables(order_rows, item_rows, columns)
                order_rows, item_rows = [], []
        if order_rows or not found:  # none at all: still create both tables, dbt selects from them
            yield from _tables(order_rows, item_rows, columns)

    for table, key in (("orders", ("order_id",)), ("order_items", ("order_id", "order_item_id"))):
        orders.apply_hints(
            table_name=table,
            primary_key=key,
            columns=columns[table],
            write_disposition="merge",
            create_table_variant=True,
        )
    return orders


def _tables(order_rows: list[dict], item_rows: list[dict], columns: dict[str, dict]) -> Iterator[Any]:
    """One batch as an Arrow table per table (typed by the contract columns: DECIMAL, UTC)."""
    yield dlt.mark.with_table_name(arrow_page(order_rows, columns["orders"]), "orders")
    yield dlt.mark.with_table_name(arrow_page(item_rows, columns["order_items"]), "order_items")


def prefetched(pages: Iterator[T], depth: int = PREFETCH_PAGES) -> Iterator[T]:
    """Iterate `pages` in a background thread, up to `depth` pages ahead, so the next request is in
    flight (and its body parsed) while the caller turns the last page into Arrow and dlt writes it.
    The thread's error is raised here; closing this generator stops the thread after its page."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failed(exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="sp-api-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = ahead.get()
            if item is done:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _orders_v2026(api: SpApi, settings: AmazonSettings, since: str, until: str) -> Iterator[Page]:
    from sp_api.api import Orders

    client = api.client(Orders, version="2026-01-01")
    params: dict[str, Any] = {
        "lastUpdatedAfter": since,
        "lastUpdatedBefore": until,
        "marketplaceIds": list(settings.marketplace_ids.values()),
        "includedData": V2026_INCLUDED + (["BUYER"] if settings.store_buyer_pii else []),
        "maxResultsPerPage": settings.page_size,
    }
    while True:
        page = api.get_json("searchOrders", client, "/orders/2026-01-01/orders", params)
        order_rows, item_rows = [], []
        for order in page.get("orders") or []:
            row = order_from_v2026(order, settings.store_buyer_pii)
            order_rows.append(row)
            item_rows += [item_from_v2026(row, item) for item in order.get("orderItems") or []]
        yield order_rows, item_rows
        token = (page.get("pagination") or {}).get("nextToken")
        if not token:
            return
        params = {"paginationToken": token}  # the token carries the query; Amazon ignores the rest


def _orders_v0(api: SpApi, settings: AmazonSettings, since: str, until: str) -> Iterator[Page]:
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
        order_rows, item_rows = [], []
        for order in page.payload.get("Orders") or []:
            row = order_from_v0(order, settings.store_buyer_pii)
            order_rows.append(row)
            item_rows += [item_from_v0(row, item) for item in _order_items_v0(api, client, row["order_id"])]
        yield order_rows, item_rows
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
