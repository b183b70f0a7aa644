"""Turn the generator's seller rows into SP-API JSON, field for field as the OpenAPI models name them.

Kept apart from the HTTP handlers so the v0 and v2026 order shapes, inventory summaries and listings
items are easy to compare with `/work/shared/reference/sp-api/models`. Money goes out as strings with
two decimals (`"11.01"`), as Amazon sends it; timestamps as ISO 8601 UTC with `Z`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")
V2026_STATUS = {
    "PendingAvailability": "PENDING_AVAILABILITY",
    "Pending": "PENDING",
    "Unshipped": "UNSHIPPED",
    "PartiallyShipped": "PARTIALLY_SHIPPED",
    "Shipped": "SHIPPED",
    "Canceled": "CANCELLED",
    "Unfulfillable": "UNFULFILLABLE",
}
FULFILLED_BY = {"AFN": "AMAZON", "MFN": "MERCHANT"}
# While an order is Pending (payment not authorized) Amazon returns no prices, taxes or totals;
# canceled orders carry no OrderTotal either.
NO_MONEY_STATUSES = {"Pending", "PendingAvailability"}


def iso(moment: datetime | date | None) -> str | None:
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def amount(value: Decimal | int | str) -> str:
    return str(Decimal(value).quantize(CENT))


def money_v0(value: Decimal, currency: str) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": amount(value)}


def money(value: Decimal, currency: str) -> dict[str, str]:
    """The `Money` of the newer APIs (orders 2026, listings): amount + currencyCode."""
    return {"amount": amount(value), "currencyCode": currency}


def drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


def item_total(item: dict) -> Decimal:
    return (
        item["item_price"]
        + item["item_tax"]
        + item["shipping_price"]
        + item["shipping_tax"]
        - item["promotion_discount"]
    )


def order_total(order: dict) -> Decimal:
    return sum((item_total(i) for i in order["items"]), Decimal("0"))


def shipped_quantity(order: dict, item: dict) -> int:
    if order["status"] == "Shipped":
        return item["quantity"]
    return min(item["quantity"], item.get("quantity_shipped", 0))


# -- Orders v0 -------------------------------------------------------------------------------------
def order_v0(order: dict, marketplace_name: str) -> dict[str, Any]:
    """`Order` of ordersV0.json. BuyerInfo is returned as the sandbox has no Restricted Data Token flow."""
    shipped = sum(shipped_quantity(order, i) for i in order["items"])
    ordered = sum(i["quantity"] for i in order["items"])
    purchased = order["purchased_at"]
    afn = order["fulfillment_channel"] == "AFN"
    has_money = order["status"] not in NO_MONEY_STATUSES and order["status"] != "Canceled"
    return drop_none(
        {
            "AmazonOrderId": order["order_id"],
            "PurchaseDate": iso(purchased),
            "LastUpdateDate": iso(order["last_updated_at"]),
            "OrderStatus": order["status"],
            "FulfillmentChannel": order["fulfillment_channel"],
            "SalesChannel": order.get("sales_channel") or marketplace_name,
            "ShipServiceLevel": "Std Dom",
            "OrderTotal": money_v0(order_total(order), order["currency"]) if has_money else None,
            "NumberOfItemsShipped": shipped,
            "NumberOfItemsUnshipped": 0 if order["status"] == "Canceled" else ordered - shipped,
            "PaymentMethod": "Other",
            "PaymentMethodDetails": ["Standard"],
            "MarketplaceId": order["marketplace_id"],
            "ShipmentServiceLevelCategory": "Standard",
            "OrderType": "StandardOrder",
            "EarliestShipDate": iso(purchased + timedelta(hours=2)),
            "LatestShipDate": iso(purchased + timedelta(days=2)),
            "IsBusinessOrder": bool(order.get("is_business_order")),
            "IsPrime": afn,
            "IsPremiumOrder": False,
            "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": False,
            "IsSoldByAB": False,
            "IsIBA": False,
            "IsISPU": False,
            "IsAccessPointOrder": False,
            "ShippingAddress": {"CountryCode": order["ship_country"]},
            "BuyerInfo": drop_none(
                {"BuyerEmail": order.get("buyer_email"), "BuyerName": order.get("buyer_name")}
            ),
            "AutomatedShippingSettings": {"HasAutomatedShippingSettings": False},
            "ElectronicInvoiceStatus": "NotRequired",
        }
    )


def order_item_v0(order: dict, item: dict) -> dict[str, Any]:
    """`OrderItem` of ordersV0.json; `ItemPrice` is the line total (unit price x quantity)."""
    currency = order["currency"]
    row: dict[str, Any] = {
        "ASIN": item["asin"],
        "SellerSKU": item["sku"],
        "OrderItemId": item["order_item_id"],
        "Title": item.get("title"),
        "QuantityOrdered": item["quantity"],
        "QuantityShipped": shipped_quantity(order, item),
        "ProductInfo": {"NumberOfItems": "1"},
    }
    if order["status"] not in NO_MONEY_STATUSES:
        row.update(
            {
                "ItemPrice": money_v0(item["item_price"], currency),
                "ShippingPrice": money_v0(item["shipping_price"], currency),
                "ItemTax": money_v0(item["item_tax"], currency),
                "ShippingTax": money_v0(item["shipping_tax"], currency),
                "ShippingDiscount": money_v0(Decimal("0"), currency),
                "ShippingDiscountTax": money_v0(Decimal("0"), currency),
                "PromotionDiscount": money_v0(item["promotion_discount"], currency),
                "PromotionDiscountTax": money_v0(Decimal("0"), currency),
            }
        )
        if item.get("promotion_id"):
            row["PromotionIds"] = [item["promotion_id"]]
    row.update(
        {
            "IsGift": "false",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IsTransparency": False,
            "SerialNumberRequired": False,
        }
    )
    return drop_none(row)


# -- Orders 2026-01-01 -----------------------------------------------------------------------------
def order_2026(
    order: dict, marketplace_name: str, included: set[str], packages: list[dict]
) -> dict[str, Any]:
    """`Order` of orders_2026-01-01.json with the requested `includedData` datasets."""
    currency = order["currency"]
    has_money = order["status"] not in NO_MONEY_STATUSES
    status = V2026_STATUS.get(order["status"], order["status"].upper())
    out: dict[str, Any] = {
        "orderId": order["order_id"],
        "createdTime": iso(order["purchased_at"]),
        "lastUpdatedTime": iso(order["last_updated_at"]),
        "programs": ["PRIME"] if order["fulfillment_channel"] == "AFN" else [],
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": order["marketplace_id"],
            "marketplaceName": order.get("sales_channel") or marketplace_name,
        },
    }
    if "BUYER" in included:
        # Per the model: buyerEmail "Only available for merchant-fulfilled (FBM) orders".
        out["buyer"] = drop_none(
            {
                "buyerName": order.get("buyer_name"),
                "buyerEmail": order.get("buyer_email") if order["fulfillment_channel"] == "MFN" else None,
            }
        )
    if "RECIPIENT" in included:
        out["recipient"] = {
            "deliveryAddress": {"countryCode": order["ship_country"], "addressType": "RESIDENTIAL"}
        }
    if "PROCEEDS" in included and has_money:
        totals = {
            "ITEM": sum((i["item_price"] for i in order["items"]), Decimal("0")),
            "SHIPPING": sum((i["shipping_price"] for i in order["items"]), Decimal("0")),
            "TAX": sum((i["item_tax"] + i["shipping_tax"] for i in order["items"]), Decimal("0")),
            "DISCOUNT": -sum((i["promotion_discount"] for i in order["items"]), Decimal("0")),
        }
        out["proceeds"] = {
            "grandTotal": money(order_total(order), currency),
            "breakdowns": [
                {"type": t, "subtotal": money(v, currency)} for t, v in totals.items() if v or t == "ITEM"
            ],
        }
    if "FULFILLMENT" in included:
        purchased = order["purchased_at"]
        out["fulfillment"] = {
            "fulfillmentStatus": status,
            "fulfilledBy": FULFILLED_BY.get(order["fulfillment_channel"], order["fulfillment_channel"]),
            "fulfillmentServiceLevel": "STANDARD",
            "shipByWindow": {
                "earliestDateTime": iso(purchased + timedelta(hours=2)),
                "latestDateTime": iso(purchased + timedelta(days=2)),
            },
        }
    out["orderItems"] = [_order_item_2026(order, item, included, has_money) for item in order["items"]]
    if "PACKAGES" in included and packages:
        out["packages"] = packages
    return out


def _order_item_2026(order: dict, item: dict, included: set[str], has_money: bool) -> dict[str, Any]:
    currency = order["currency"]
    product: dict[str, Any] = {
        "asin": item["asin"],
        "title": item.get("title"),
        "sellerSku": item["sku"],
        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
    }
    if has_money:
        unit = (item["item_price"] / item["quantity"]).quantize(CENT)
        product["price"] = {"unitPrice": money(unit, currency)}
    out: dict[str, Any] = {
        "orderItemId": item["order_item_id"],
        "quantityOrdered": item["quantity"],
        "product": drop_none(product),
    }
    if "PROCEEDS" in included and has_money:
        breakdowns = [{"type": "ITEM", "subtotal": money(item["item_price"], currency)}]
        if item["shipping_price"]:
            breakdowns.append({"type": "SHIPPING", "subtotal": money(item["shipping_price"], currency)})
        tax = item["item_tax"] + item["shipping_tax"]
        if tax:
            detailed = [{"subtype": "ITEM", "value": money(item["item_tax"], currency)}]
            if item["shipping_tax"]:
                detailed.append({"subtype": "SHIPPING", "value": money(item["shipping_tax"], currency)})
            breakdowns.append(
                {"type": "TAX", "subtotal": money(tax, currency), "detailedBreakdowns": detailed}
            )
        if item["promotion_discount"]:
            breakdowns.append({"type": "DISCOUNT", "subtotal": money(-item["promotion_discount"], currency)})
        out["proceeds"] = {"proceedsTotal": money(item_total(item), currency), "breakdowns": breakdowns}
    if "PROMOTION" in included and item.get("promotion_id"):
        out["promotion"] = {"breakdowns": [{"promotionId": item["promotion_id"]}]}
    if "FULFILLMENT" in included:
        done = 0 if order["status"] == "Canceled" else shipped_quantity(order, item)
        out["fulfillment"] = {"quantityFulfilled": done, "quantityUnfulfilled": item["quantity"] - done}
    return out


def package_2026(confirmation: dict) -> dict[str, Any]:
    """An `OrderPackage` from a confirmShipment body the sandbox recorded."""
    detail = confirmation["packageDetail"]
    return drop_none(
        {
            "packageReferenceId": str(detail["packageReferenceId"]),
            "createdTime": confirmation["confirmed_at"],
            "packageStatus": {"status": "SHIPPED"},
            "carrier": detail.get("carrierName") or detail.get("carrierCode"),
            "shipTime": detail.get("shipDate"),
            "shippingService": detail.get("shippingMethod"),
            "trackingNumber": detail.get("trackingNumber"),
            "packageItems": [
                {"orderItemId": str(i["orderItemId"]), "quantity": i["quantity"]}
                for i in detail.get("orderItems", [])
            ],
        }
    )


# -- FBA inventory ---------------------------------------------------------------------------------
def inventory_summary(row: dict, details: bool) -> dict[str, Any]:
    """`InventorySummary` of fbaInventory.json; reserved/unfulfillable totals split into the model's parts."""
    out: dict[str, Any] = {
        "asin": row["asin"],
        "fnSku": row["fn_sku"],
        "sellerSku": row["seller_sku"],
        "condition": row.get("condition") or "NewItem",
    }
    if details:
        reserved = int(row["reserved_quantity"])
        unfulfillable = int(row["unfulfillable_quantity"])
        out["inventoryDetails"] = {
            "fulfillableQuantity": int(row["fulfillable_quantity"]),
            "inboundWorkingQuantity": int(row["inbound_working_quantity"]),
            "inboundShippedQuantity": int(row["inbound_shipped_quantity"]),
            "inboundReceivingQuantity": int(row["inbound_receiving_quantity"]),
            "reservedQuantity": {
                "totalReservedQuantity": reserved,
                "pendingCustomerOrderQuantity": reserved - reserved // 3,
                "pendingTransshipmentQuantity": 0,
                "fcProcessingQuantity": reserved // 3,
            },
            "researchingQuantity": {"totalResearchingQuantity": 0, "researchingQuantityBreakdown": []},
            "unfulfillableQuantity": {
                "totalUnfulfillableQuantity": unfulfillable,
                "customerDamagedQuantity": unfulfillable - unfulfillable // 2,
                "warehouseDamagedQuantity": unfulfillable // 2,
                "distributorDamagedQuantity": 0,
                "carrierDamagedQuantity": 0,
                "defectiveQuantity": 0,
                "expiredQuantity": 0,
            },
        }
    out["lastUpdatedTime"] = iso(row["last_updated_at"])
    out["productName"] = row.get("product_name") or row.get("title") or ""
    out["totalQuantity"] = int(row["total_quantity"])
    out["stores"] = []
    return out


# -- Listings items --------------------------------------------------------------------------------
def listing_item(sku: str, rows: list[dict], included: set[str]) -> dict[str, Any]:
    """`Item` of listingsItems_2021-08-01.json from the listing rows of one SKU (one per marketplace)."""
    item: dict[str, Any] = {"sku": sku}
    if "summaries" in included:
        item["summaries"] = [
            drop_none(
                {
                    "marketplaceId": r["marketplace_id"],
                    "asin": r.get("asin"),
                    "productType": r.get("product_type") or "PRODUCT",
                    "conditionType": "new_new",
                    "status": list(r.get("status") or []),
                    "itemName": r.get("title"),
                    "createdDate": r.get("created_at"),
                    "lastUpdatedDate": r.get("updated_at"),
                }
            )
            for r in rows
        ]
    if "attributes" in included:
        attributes: dict[str, list] = {}
        for r in rows:
            mid = r["marketplace_id"]
            if r.get("title"):
                attributes.setdefault("item_name", []).append({"value": r["title"], "marketplace_id": mid})
            if r.get("price") is not None:
                attributes.setdefault("purchasable_offer", []).append(
                    {
                        "marketplace_id": mid,
                        "currency": r["currency"],
                        "audience": "ALL",
                        "our_price": [{"schedule": [{"value_with_tax": float(r["price"])}]}],
                    }
                )
            for name, values in (r.get("attributes") or {}).items():
                attributes.setdefault(name, []).extend(values)
        quantity = rows[0].get("quantity")
        if quantity is not None:
            attributes["fulfillment_availability"] = [
                {"fulfillment_channel_code": "DEFAULT", "quantity": quantity}
            ]
        item["attributes"] = attributes
    if "issues" in included:
        item["issues"] = []
    if "offers" in included:
        item["offers"] = [
            {
                "marketplaceId": r["marketplace_id"],
                "offerType": "B2C",
                "price": money(r["price"], r["currency"]),
                "audience": {"value": "ALL", "displayName": "Sell on Amazon"},
            }
            for r in rows
            if r.get("price") is not None
        ]
    if "fulfillmentAvailability" in included:
        item["fulfillmentAvailability"] = [
            drop_none({"fulfillmentChannelCode": "DEFAULT", "quantity": rows[0].get("quantity")})
        ]
    if "productTypes" in included:
        item["productTypes"] = [
            {"marketplaceId": r["marketplace_id"], "productType": r.get("product_type") or "PRODUCT"}
            for r in rows
        ]
    if "procurement" in included:
        item["procurement"] = []
    if "relationships" in included:
        item["relationships"] = [{"marketplaceId": r["marketplace_id"], "relationships": []} for r in rows]
    return item
