"""Orders API handlers of the SP-API sandbox: v0 (getOrders, getOrder, getOrderItems, confirmShipment)
and 2026-01-01 (searchOrders, getOrder), plus `add_order` / `touch_order` for tests.

Both order searches follow the models' documented rules: exactly one of created-after / last-updated-
after, the matching "before" at least two minutes before now (it defaults to now - 2 minutes, echoed in
the response), so an order updated in the last two minutes shows up only after two minutes. Results
are sorted by last update (then order id) and paged by that key, so an order updated between two
pages comes again rather than being skipped; next tokens carry the whole query, so later pages
ignore re-sent filters, as Amazon's do. The orders are kept sorted by that key (`by_update`), so a
page is a bisect and a short walk, not a scan and sort of every order.
"""

from __future__ import annotations

import bisect
import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.amazon_common import ApiError, csv, decode_token, encode_token, json_body, parse_time
from sandbox.amazon_shapes import V2026_STATUS, iso, order_2026, order_item_v0, order_v0, package_2026
from sandbox.http import Request, Response, json_response

MIN_AGE = timedelta(minutes=2)
V0_STATUSES = {
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "InvoiceUnconfirmed",
    "Canceled",
    "Unfulfillable",
}
V0_FROM_2026 = {v: k for k, v in V2026_STATUS.items()}
CHANNEL_FROM_2026 = {"AMAZON": "AFN", "MERCHANT": "MFN"}
INCLUDED_DATA = {
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
}
MONEY_FIELDS = ("item_price", "item_tax", "shipping_price", "shipping_tax", "promotion_discount")


def whole_seconds(order: dict) -> dict:
    """Drop sub-second precision: the API shows whole seconds, so filters and next tokens must too."""
    for name in ("purchased_at", "last_updated_at", "shipped_at"):
        if isinstance(order.get(name), datetime):
            order[name] = order[name].replace(microsecond=0)
    return order


class OrdersMixin:
    """Mixed into AmazonSandbox; uses its `orders`, `lock`, `now()`, token and error helpers."""

    orders: dict[str, dict]
    shipment_confirmations: list[dict]
    order_items_page_size: int
    by_update: list[tuple[datetime, str]]  # (last_updated_at, order_id) of every order, sorted

    def _index_orders(self) -> None:
        """Sort every order by (last update, order id): the order searches page along this key."""
        self.by_update = sorted((o["last_updated_at"], oid) for oid, o in self.orders.items())

    def _reindex(self, order_id: str, before: datetime | None, after: datetime) -> None:
        """An order's last update moved from `before` (None: a new order) to `after`."""
        if before is not None:
            self.by_update.pop(bisect.bisect_left(self.by_update, (before, order_id)))
        bisect.insort(self.by_update, (after, order_id))

    # -- test helpers -----------------------------------------------------------------------------
    def add_order(self, order: dict) -> dict:
        """Add an order (generator shape). Missing bookkeeping fields are filled from the marketplace."""
        order = copy.deepcopy(order)
        mp = self.marketplaces[order["marketplace_code"]] if "marketplace_code" in order else None
        if mp is None:
            code = self.code_of[order["marketplace_id"]]
            order["marketplace_code"], mp = code, self.marketplaces[code]
        order.setdefault("marketplace_id", mp.marketplace_id)
        order.setdefault("sales_channel", mp.name)
        order.setdefault("currency", mp.currency)
        order.setdefault("ship_country", mp.country)
        order.setdefault("last_updated_at", order["purchased_at"])
        order.setdefault("shipped_at", None)
        order.setdefault("is_business_order", False)
        for item in order["items"]:
            for name in MONEY_FIELDS:
                item[name] = Decimal(str(item.get(name, "0")))
        with self.lock:
            if order["order_id"] in self.orders:
                raise ValueError(f"order {order['order_id']} already exists")
            self.orders[order["order_id"]] = whole_seconds(order)
            self._reindex(order["order_id"], None, order["last_updated_at"])
            return copy.deepcopy(order)

    def touch_order(self, order_id: str, at: datetime | None = None, **changes: Any) -> dict:
        """Change an order (e.g. `status="Shipped"`) and bump its last update to `at` (default: now)."""
        with self.lock:
            order = self.orders[order_id]
            before = order["last_updated_at"]
            order.update(changes)
            order["last_updated_at"] = at or self.now()
            if changes.get("status") == "Shipped" and not order.get("shipped_at"):
                order["shipped_at"] = order["last_updated_at"]
            whole_seconds(order)
            self._reindex(order_id, before, order["last_updated_at"])
            return copy.deepcopy(order)

    def order(self, order_id: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.orders[order_id])

    # -- searches ---------------------------------------------------------------------------------
    def _window(self, created_after, created_before, updated_after, updated_before, names) -> dict:
        """Validate the time filters; return the query window (field, after, before) as ISO strings."""
        ca, cb, ua, ub = names
        if bool(created_after) == bool(updated_after):
            raise ApiError(400, "InvalidInput", f"Exactly one of {ca} and {ua} is required.")
        if created_after and updated_before:
            raise ApiError(400, "InvalidInput", f"{ua} and {ub} cannot be set when {ca} is set.")
        if updated_after and created_before:
            raise ApiError(400, "InvalidInput", f"{ca} or {cb} cannot be set when {ua} is set.")
        field = "purchased_at" if created_after else "last_updated_at"
        after_name, before_name = (ca, cb) if created_after else (ua, ub)
        after = parse_time(created_after or updated_after, after_name)
        # Compared with the exact clock, so a client's `now - 2 minutes` is never refused by rounding.
        limit = datetime.fromtimestamp(self.clock(), UTC) - MIN_AGE
        before_raw = created_before or updated_before
        if before_raw:
            before = parse_time(before_raw, before_name)
            if before > limit:
                raise ApiError(
                    400,
                    "InvalidInput",
                    f"{before_name} must be at least two minutes before the current time.",
                )
            if before < after:
                raise ApiError(400, "InvalidInput", f"{before_name} must be equal to or after {after_name}.")
        else:
            before = self.now() - MIN_AGE
        if after > limit:
            raise ApiError(
                400, "InvalidInput", f"{after_name} must be at least two minutes before the current time."
            )
        return {"field": field, "after": iso(after), "before": iso(before)}

    def _select(self, query: dict) -> tuple[list[dict], str | None]:
        """One page of orders for a query state (see `_window`) and the next token, if any."""
        keys, token = self._select_keys(query)
        return [self.orders[order_id] for _, order_id in keys], token

    def _select_keys(self, query: dict) -> tuple[list[tuple[datetime, str]], str | None]:
        """The (last update, order id) keys of one page, walking `by_update` from the cursor."""
        after, before = parse_time(query["after"], "after"), parse_time(query["before"], "before")
        by_update = query["field"] == "last_updated_at"
        with self.lock:
            keys = self.by_update
            if query.get("cursor"):
                cursor = (parse_time(query["cursor"][0], "cursor"), query["cursor"][1])
                position = bisect.bisect_right(keys, cursor)
            else:
                position = bisect.bisect_left(keys, (after, "")) if by_update else 0
            page: list[tuple[datetime, str]] = []
            while position < len(keys) and len(page) <= query["size"]:
                key = keys[position]
                position += 1
                if by_update and key[0] > before:
                    break
                if self._matches(key, query, after, before):
                    page.append(key)
        token = None
        if len(page) > query["size"]:
            page = page[: query["size"]]
            token = encode_token(query["kind"], {**query, "cursor": [iso(page[-1][0]), page[-1][1]]})
        return page, token

    def _matches(self, key: tuple[datetime, str], query: dict, after: datetime, before: datetime) -> bool:
        order = self.orders[key[1]]
        return (
            order["marketplace_id"] in query["marketplaces"]
            and after <= order[query["field"]] <= before
            and (not query["statuses"] or order["status"] in query["statuses"])
            and (not query["channels"] or order["fulfillment_channel"] in query["channels"])
        )

    def _page_size(self, raw: str | None, name: str) -> int:
        try:
            size = int(raw or 100)
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            raise ApiError(400, "InvalidInput", f"{name} must be between 1 and 100.")
        return size

    def _marketplaces(self, ids: list[str], required_name: str | None) -> list[str]:
        if not ids:
            if required_name:
                raise ApiError(400, "InvalidInput", f"{required_name} is required.")
            return list(self.code_of)
        unknown = [m for m in ids if m not in self.code_of]
        if unknown:
            raise ApiError(400, "InvalidInput", f"Invalid MarketplaceId {unknown[0]}.")
        return ids

    def _find(self, order_id: str) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError(404, "NotFound", f"Order {order_id} was not found.")
        return order

    def _name(self, order: dict) -> str:
        return self.marketplaces[order["marketplace_code"]].name

    # -- Orders v0 --------------------------------------------------------------------------------
    def get_orders_v0(self, request: Request) -> Response:
        token = request.arg("NextToken")
        if token:
            query = decode_token(token, "orders-v0")
        else:
            query = self._window(
                request.arg("CreatedAfter"),
                request.arg("CreatedBefore"),
                request.arg("LastUpdatedAfter"),
                request.arg("LastUpdatedBefore"),
                ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore"),
            )
            statuses = csv(request, "OrderStatuses")
            bad = [s for s in statuses if s not in V0_STATUSES]
            channels = csv(request, "FulfillmentChannels")
            if bad or any(c not in {"AFN", "MFN"} for c in channels):
                raise ApiError(
                    400,
                    "InvalidInput",
                    f"Invalid OrderStatuses/FulfillmentChannels value {(bad or channels)[0]!r}.",
                )
            query.update(
                kind="orders-v0",
                marketplaces=self._marketplaces(csv(request, "MarketplaceIds"), "MarketplaceIds"),
                statuses=statuses,
                channels=channels,
                size=self._page_size(request.arg("MaxResultsPerPage"), "MaxResultsPerPage"),
            )
        page, next_token = self._select(query)
        payload: dict[str, Any] = {"Orders": [order_v0(o, self._name(o)) for o in page]}
        if next_token:
            payload["NextToken"] = next_token
        payload["LastUpdatedBefore" if query["field"] == "last_updated_at" else "CreatedBefore"] = query[
            "before"
        ]
        return json_response({"payload": payload})

    def get_order_v0(self, request: Request) -> Response:
        order = self._find(request.params["orderId"])
        return json_response({"payload": order_v0(order, self._name(order))})

    def get_order_items_v0(self, request: Request) -> Response:
        order = self._find(request.params["orderId"])
        offset = 0
        token = request.arg("NextToken")
        if token:
            state = decode_token(token, "order-items")
            if state.get("order") != order["order_id"]:
                raise ApiError(400, "InvalidInput", "NextToken belongs to another order.")
            offset = state["offset"]
        items = order["items"][offset : offset + self.order_items_page_size]
        payload: dict[str, Any] = {"OrderItems": [order_item_v0(order, i) for i in items]}
        if offset + len(items) < len(order["items"]):
            payload["NextToken"] = encode_token(
                "order-items", {"order": order["order_id"], "offset": offset + len(items)}
            )
        payload["AmazonOrderId"] = order["order_id"]
        return json_response({"payload": payload})

    def confirm_shipment(self, request: Request) -> Response:
        """Record an MFN shipment; items shipped in full move the order to Shipped (else PartiallyShipped)."""
        order = self._find(request.params["orderId"])
        body = json_body(request)
        detail = body.get("packageDetail")
        if not body.get("marketplaceId") or not isinstance(detail, dict):
            raise ApiError(400, "InvalidInput", "marketplaceId and packageDetail are required.")
        if body["marketplaceId"] != order["marketplace_id"]:
            raise ApiError(
                400,
                "InvalidInput",
                f"Order {order['order_id']} is not in marketplace {body['marketplaceId']}.",
            )
        missing = [
            k
            for k in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems")
            if not detail.get(k)
        ]
        if missing:
            raise ApiError(400, "InvalidInput", f"packageDetail.{missing[0]} is required.")
        if detail["carrierCode"] == "Other" and not detail.get("carrierName"):
            raise ApiError(
                400, "InvalidInput", "packageDetail.carrierName is required when carrierCode is Other."
            )
        try:
            ship_date = datetime.fromisoformat(str(detail["shipDate"]))
        except ValueError:
            raise ApiError(
                400, "InvalidInput", f"packageDetail.shipDate {detail['shipDate']!r} is not ISO 8601."
            ) from None
        if order["fulfillment_channel"] != "MFN":
            raise ApiError(400, "InvalidInput", f"Order {order['order_id']} is fulfilled by Amazon (AFN).")
        if order["status"] in {"Canceled", "Pending", "PendingAvailability"}:
            raise ApiError(
                400, "InvalidInput", f"Order {order['order_id']} is {order['status']} and cannot be shipped."
            )
        previous = [
            c
            for c in self.shipment_confirmations
            if c["orderId"] == order["order_id"]
            and c["packageDetail"]["packageReferenceId"] == detail["packageReferenceId"]
        ]
        if previous:
            if previous[0]["packageDetail"] == detail:
                return Response(204)  # the same confirmation again: nothing changes
            raise ApiError(
                400,
                "InvalidInput",
                f"Package {detail['packageReferenceId']} was already confirmed differently.",
            )
        by_id = {i["order_item_id"]: i for i in order["items"]}
        shipped: dict[str, int] = {}
        for line in detail["orderItems"]:
            item = by_id.get(str(line.get("orderItemId")))
            quantity = line.get("quantity")
            if item is None:
                raise ApiError(
                    400,
                    "InvalidInput",
                    f"orderItemId {line.get('orderItemId')} is not in order {order['order_id']}.",
                )
            if not isinstance(quantity, int) or quantity < 1:
                raise ApiError(400, "InvalidInput", "orderItems[].quantity must be a positive integer.")
            if (
                item.get("quantity_shipped", 0) + shipped.get(item["order_item_id"], 0) + quantity
                > item["quantity"]
            ):
                raise ApiError(
                    400,
                    "InvalidInput",
                    f"orderItemId {item['order_item_id']}: more than ordered would be shipped.",
                )
            shipped[item["order_item_id"]] = shipped.get(item["order_item_id"], 0) + quantity
        for item_id, quantity in shipped.items():
            by_id[item_id]["quantity_shipped"] = by_id[item_id].get("quantity_shipped", 0) + quantity
        now = self.now()
        complete = all(i.get("quantity_shipped", 0) >= i["quantity"] for i in order["items"])
        order["status"] = "Shipped" if complete else "PartiallyShipped"
        self._reindex(order["order_id"], order["last_updated_at"], now)
        order["last_updated_at"] = now
        if complete:
            order["shipped_at"] = ship_date if ship_date.tzinfo else now
        self.shipment_confirmations.append(
            {
                "orderId": order["order_id"],
                "marketplaceId": body["marketplaceId"],
                "packageDetail": detail,
                "confirmed_at": iso(now),
            }
        )
        return Response(204)

    # -- Orders 2026-01-01 ------------------------------------------------------------------------
    def _included(self, request: Request) -> set[str]:
        included = set(csv(request, "includedData"))
        bad = included - INCLUDED_DATA
        if bad:
            raise ApiError(400, "InvalidInput", f"Invalid includedData value {sorted(bad)[0]!r}.")
        return included

    def _packages(self, order: dict) -> list[dict]:
        return [package_2026(c) for c in self.shipment_confirmations if c["orderId"] == order["order_id"]]

    def search_orders(self, request: Request) -> Response:
        token = request.arg("paginationToken")
        if token:
            query = decode_token(token, "orders-2026")
        else:
            query = self._window(
                request.arg("createdAfter"),
                request.arg("createdBefore"),
                request.arg("lastUpdatedAfter"),
                request.arg("lastUpdatedBefore"),
                ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore"),
            )
            statuses = csv(request, "fulfillmentStatuses")
            by = csv(request, "fulfilledBy")
            bad = [s for s in statuses if s not in V0_FROM_2026] + [
                b for b in by if b not in CHANNEL_FROM_2026
            ]
            if bad:
                raise ApiError(
                    400, "InvalidInput", f"Invalid fulfillmentStatuses/fulfilledBy value {bad[0]!r}."
                )
            query.update(
                kind="orders-2026",
                marketplaces=self._marketplaces(csv(request, "marketplaceIds"), None),
                statuses=[V0_FROM_2026[s] for s in statuses],
                channels=[CHANNEL_FROM_2026[b] for b in by],
                size=self._page_size(request.arg("maxResultsPerPage"), "maxResultsPerPage"),
                included=sorted(self._included(request)),
            )
        keys, next_token = self._select_keys(query)
        included = set(query["included"])
        body: dict[str, Any] = {"orders": [self._order_2026_json(order_id, included) for _, order_id in keys]}
        if next_token:
            body["pagination"] = {"nextToken": next_token}
        body["lastUpdatedBefore" if query["field"] == "last_updated_at" else "createdBefore"] = query[
            "before"
        ]
        return self._orders_response(body)

    # Two hooks for a sandbox serving pre-rendered orders (benchmarks.large_seller).
    def _order_2026_json(self, order_id: str, included: set[str]) -> Any:
        order = self.orders[order_id]
        return order_2026(order, self._name(order), included, self._packages(order))

    def _orders_response(self, body: dict[str, Any]) -> Response:
        return json_response(body)

    def get_order_2026(self, request: Request) -> Response:
        order = self._find(request.params["orderId"])
        included = self._included(request)
        return json_response({"order": order_2026(order, self._name(order), included, self._packages(order))})
