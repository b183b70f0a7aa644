"""Flatten SP-API payloads into the `raw_amazon` contract rows (docs/contracts.md).

Orders come from two API versions; both land in exactly the same columns, with the v0 status
names, so the dbt models never know which API was used. Amounts become `Decimal` (the API sends
strings), timestamps timezone-aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


# dlt writes into column hint dicts, so every column gets its own dict (never a shared constant).
def MONEY() -> dict[str, Any]:  # noqa: N802 - reads as a type in the tables below
    return {"data_type": "decimal", "precision": 18, "scale": 2}


def TIMESTAMP() -> dict[str, Any]:  # noqa: N802
    return {"data_type": "timestamp", "timezone": True}


ORDER_COLUMNS: dict[str, dict[str, Any]] = {
    "order_id": {"data_type": "text", "nullable": False},
    "marketplace_id": {"data_type": "text"},
    "order_status": {"data_type": "text"},
    "fulfillment_channel": {"data_type": "text"},
    "purchased_at": TIMESTAMP(),
    "last_updated_at": TIMESTAMP(),
    "order_total_amount": MONEY(),
    "currency": {"data_type": "text"},
    "sales_channel": {"data_type": "text"},
    "ship_country": {"data_type": "text"},
    "is_business_order": {"data_type": "bool"},
}
PII_COLUMNS: dict[str, dict[str, Any]] = {
    "buyer_email": {"data_type": "text"},
    "buyer_name": {"data_type": "text"},
}
ORDER_ITEM_COLUMNS: dict[str, dict[str, Any]] = {
    "order_id": {"data_type": "text", "nullable": False},
    "order_item_id": {"data_type": "text", "nullable": False},
    "sku": {"data_type": "text"},
    "asin": {"data_type": "text"},
    "quantity_ordered": {"data_type": "bigint"},
    "quantity_shipped": {"data_type": "bigint"},
    "item_price_amount": MONEY(),
    "item_tax_amount": MONEY(),
    "shipping_price_amount": MONEY(),
    "shipping_tax_amount": MONEY(),
    "promotion_discount_amount": MONEY(),
    "currency": {"data_type": "text"},
    "last_updated_at": TIMESTAMP(),
}
INVENTORY_COLUMNS: dict[str, dict[str, Any]] = {
    "snapshot_date": {"data_type": "date", "nullable": False},
    "marketplace_id": {"data_type": "text", "nullable": False},
    "seller_sku": {"data_type": "text", "nullable": False},
    "fn_sku": {"data_type": "text"},
    "asin": {"data_type": "text"},
    **{
        name: {"data_type": "bigint"}
        for name in (
            "fulfillable_quantity",
            "inbound_working_quantity",
            "inbound_shipped_quantity",
            "inbound_receiving_quantity",
            "reserved_quantity",
            "unfulfillable_quantity",
            "total_quantity",
        )
    },
    "last_updated_at": TIMESTAMP(),
}

LISTING_COLUMNS: dict[str, dict[str, Any]] = {
    "marketplace_id": {"data_type": "text", "nullable": False},
    "seller_sku": {"data_type": "text", "nullable": False},
    "asin": {"data_type": "text"},
    "fulfillment_channel": {"data_type": "text"},
    "quantity": {"data_type": "bigint"},
    "price_amount": MONEY(),
    "currency": {"data_type": "text"},
    "status": {"data_type": "text"},
    "last_updated_at": TIMESTAMP(),
}

# marketplace id -> currency (docs/contracts.md): v0 sends no money at all for Pending and
# Canceled orders, so the currency falls back to the marketplace's.
MARKETPLACE_CURRENCY = {
    "ATVPDKIKX0DER": "USD",
    "A2EUQ1WTGCTBG2": "CAD",
    "A1F83G8C2ARO7P": "GBP",
    "A1PA6795UKMFR9": "EUR",
    "A39IBJ37TRP1C6": "AUD",
}
# v0 names no OrderTotal for these statuses; v2026 rows follow v0 so both versions give one result.
NO_TOTAL_STATUSES = {"Pending", "PendingAvailability", "Canceled"}

# Orders 2026-01-01 fulfillment statuses -> the v0 OrderStatus names the contract uses.
V2026_STATUS = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}
V2026_FULFILLED_BY = {"AMAZON": "AFN", "MERCHANT": "MFN"}


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601 (`2026-11-23T08:00:00Z`, with offset or fraction) -> aware UTC datetime."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """The timestamp format SP-API query parameters take."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(money: dict | None, key: str = "Amount") -> Decimal | None:
    if not money or money.get(key) in (None, ""):
        return None
    return Decimal(str(money[key]))


def _currency(*moneys: dict | None, key: str = "CurrencyCode") -> str | None:
    for money in moneys:
        if money and money.get(key):
            return money[key]
    return None


def _with_pii(row: dict[str, Any], email: str | None, name: str | None, store_pii: bool) -> dict[str, Any]:
    if store_pii:
        row["buyer_email"] = email
        row["buyer_name"] = name
    return row


# -- Orders v0 ----------------------------------------------------------------------------------
def order_from_v0(order: dict[str, Any], store_pii: bool) -> dict[str, Any]:
    total = order.get("OrderTotal")
    buyer = order.get("BuyerInfo") or {}
    row = {
        "order_id": order["AmazonOrderId"],
        "marketplace_id": order.get("MarketplaceId"),
        "order_status": order.get("OrderStatus"),
        "fulfillment_channel": order.get("FulfillmentChannel"),
        "purchased_at": parse_time(order.get("PurchaseDate")),
        "last_updated_at": parse_time(order.get("LastUpdateDate")),
        "order_total_amount": _amount(total),
        "currency": _currency(total) or MARKETPLACE_CURRENCY.get(order.get("MarketplaceId")),
        "sales_channel": order.get("SalesChannel"),
        "ship_country": (order.get("ShippingAddress") or {}).get("CountryCode"),
        "is_business_order": order.get("IsBusinessOrder"),
    }
    return _with_pii(row, buyer.get("BuyerEmail"), buyer.get("BuyerName"), store_pii)


def item_from_v0(order_row: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """One getOrderItems item; prices are absent while the order is Pending (left null)."""
    money = [
        item.get(k) for k in ("ItemPrice", "ItemTax", "ShippingPrice", "ShippingTax", "PromotionDiscount")
    ]
    return {
        "order_id": order_row["order_id"],
        "order_item_id": item["OrderItemId"],
        "sku": item.get("SellerSKU"),
        "asin": item.get("ASIN"),
        "quantity_ordered": item.get("QuantityOrdered"),
        "quantity_shipped": item.get("QuantityShipped"),
        "item_price_amount": _amount(money[0]),
        "item_tax_amount": _amount(money[1]),
        "shipping_price_amount": _amount(money[2]),
        "shipping_tax_amount": _amount(money[3]),
        "promotion_discount_amount": _amount(money[4]),
        "currency": _currency(*money) or order_row["currency"],
        "last_updated_at": order_row["last_updated_at"],
    }


# -- Orders 2026-01-01 --------------------------------------------------------------------------
def order_from_v2026(order: dict[str, Any], store_pii: bool) -> dict[str, Any]:
    channel = order.get("salesChannel") or {}
    fulfillment = order.get("fulfillment") or {}
    total = (order.get("proceeds") or {}).get("grandTotal")
    buyer = order.get("buyer") or {}
    address = (order.get("recipient") or {}).get("deliveryAddress") or {}
    status = V2026_STATUS.get(fulfillment.get("fulfillmentStatus"), fulfillment.get("fulfillmentStatus"))
    if status in NO_TOTAL_STATUSES:
        total = None
    row = {
        "order_id": order["orderId"],
        "marketplace_id": channel.get("marketplaceId"),
        "order_status": status,
        "fulfillment_channel": V2026_FULFILLED_BY.get(
            fulfillment.get("fulfilledBy"), fulfillment.get("fulfilledBy")
        ),
        "purchased_at": parse_time(order.get("createdTime")),
        "last_updated_at": parse_time(order.get("lastUpdatedTime")),
        "order_total_amount": _amount(total, "amount"),
        "currency": _currency(total, key="currencyCode")
        or MARKETPLACE_CURRENCY.get(channel.get("marketplaceId")),
        "sales_channel": channel.get("marketplaceName"),
        "ship_country": address.get("countryCode"),
        "is_business_order": "AMAZON_BUSINESS" in (order.get("programs") or []),
    }
    return _with_pii(row, buyer.get("buyerEmail"), buyer.get("buyerName"), store_pii)


def item_from_v2026(order_row: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """Map the item's proceeds breakdown onto the v0 price fields.

    ITEM -> item price (unit price x quantity, as v0's ItemPrice), SHIPPING -> shipping price,
    TAX split by its detailed ITEM / SHIPPING subtypes, DISCOUNT (item part) -> promotion
    discount, reported as a positive amount like v0's PromotionDiscount.
    """
    product = item.get("product") or {}
    proceeds = item.get("proceeds") or {}
    parts: dict[str, Decimal] = {}
    currency = _currency(proceeds.get("proceedsTotal"), key="currencyCode")
    for breakdown in proceeds.get("breakdowns") or []:
        kind = breakdown.get("type")
        subtotal = _amount(breakdown.get("subtotal"), "amount")
        currency = currency or _currency(breakdown.get("subtotal"), key="currencyCode")
        details = breakdown.get("detailedBreakdowns") or []
        if kind in ("TAX", "DISCOUNT") and details:
            for detail in details:
                value = _amount(detail.get("value"), "amount")
                if value is not None:
                    key = f"{kind}:{detail.get('subtype')}"
                    parts[key] = parts.get(key, Decimal(0)) + value
        elif subtotal is not None:
            key = f"{kind}:ITEM" if kind in ("TAX", "DISCOUNT") else kind
            parts[key] = parts.get(key, Decimal(0)) + subtotal
    discount = parts.get("DISCOUNT:ITEM")
    priced = bool(proceeds.get("breakdowns"))
    zero = Decimal("0.00") if priced else None
    return {
        "order_id": order_row["order_id"],
        "order_item_id": item["orderItemId"],
        "sku": product.get("sellerSku"),
        "asin": product.get("asin"),
        "quantity_ordered": item.get("quantityOrdered"),
        "quantity_shipped": (item.get("fulfillment") or {}).get("quantityFulfilled"),
        "item_price_amount": parts.get("ITEM", zero),
        "item_tax_amount": parts.get("TAX:ITEM", zero),
        "shipping_price_amount": parts.get("SHIPPING", zero),
        "shipping_tax_amount": parts.get("TAX:SHIPPING", zero),
        "promotion_discount_amount": abs(discount) if discount is not None else zero,
        "currency": currency or order_row["currency"],
        "last_updated_at": order_row["last_updated_at"],
    }


# -- FBA inventory ------------------------------------------------------------------------------
def inventory_row(summary: dict[str, Any], marketplace_id: str, snapshot_date: date) -> dict[str, Any]:
    details = summary.get("inventoryDetails") or {}
    return {
        "snapshot_date": snapshot_date,
        "marketplace_id": marketplace_id,
        "seller_sku": summary.get("sellerSku"),
        "fn_sku": summary.get("fnSku"),
        "asin": summary.get("asin"),
        "fulfillable_quantity": details.get("fulfillableQuantity"),
        "inbound_working_quantity": details.get("inboundWorkingQuantity"),
        "inbound_shipped_quantity": details.get("inboundShippedQuantity"),
        "inbound_receiving_quantity": details.get("inboundReceivingQuantity"),
        "reserved_quantity": (details.get("reservedQuantity") or {}).get("totalReservedQuantity"),
        "unfulfillable_quantity": (details.get("unfulfillableQuantity") or {}).get(
            "totalUnfulfillableQuantity"
        ),
        "total_quantity": summary.get("totalQuantity"),
        "last_updated_at": parse_time(summary.get("lastUpdatedTime")),
    }
