"""Settlements of the demo seller: what Amazon pays out every 14 days per marketplace.

Each settlement holds the amount lines of the orders shipped in its period, refunds of orders paid
in EARLIER settlements, reserves held (`Current Reserve Amount`) and released (`Previous Reserve
Amount Balance`), storage / subscription / advertising fees, marketplace-facilitator tax withheld
(US), plus the planted oddities: one chargeback, one settlement with a negative total and one fee
type no default GL mapping knows. `total_amount` is always exactly the sum of the lines.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta
from decimal import Decimal

from sandbox.generator.catalog import COMMISSION_RATE, FX, money
from sandbox.generator.marketplaces import MARKETPLACES, Marketplace

UNKNOWN_FEE = ("other-transaction", "other-transaction", "FBA Inbound Defect Fee")
SUBSCRIPTION = {"USD": "39.99", "CAD": "29.99", "GBP": "25.00", "EUR": "39.00", "AUD": "49.95"}
MARGIN = Decimal("1.00")  # every settlement but the planted one keeps at least this much
ZERO = Decimal("0.00")


def blank_line(
    mp: Marketplace,
    transaction_type: str,
    amount_type: str,
    description: str,
    amount: Decimal,
    posted_at: datetime,
) -> dict:
    return {
        "transaction_type": transaction_type,
        "order_id": "",
        "merchant_order_id": "",
        "adjustment_id": "",
        "shipment_id": "",
        "marketplace_name": mp.name,
        "amount_type": amount_type,
        "amount_description": description,
        "amount": money(amount),
        "fulfillment_id": "",
        "posted_at": posted_at,
        "order_item_code": "",
        "merchant_order_item_id": "",
        "merchant_adjustment_item_id": "",
        "sku": "",
        "quantity_purchased": None,
        "promotion_id": "",
    }


def commission(item: dict) -> Decimal:
    return money((item["item_price"] + item["shipping_price"] - item["promotion_discount"]) * COMMISSION_RATE)


def item_lines(
    mp: Marketplace,
    order: dict,
    item: dict,
    kind: str,
    posted_at: datetime,
    catalog: dict[str, dict],
    adjustment_id: str = "",
    shipment_id: str = "",
) -> list[dict]:
    """The amount lines of one order item: kind "Order", "Refund" or "Chargeback Refund".
    Refunds and chargebacks invert the signs and add RefundCommission."""
    sign = Decimal(1) if kind == "Order" else Decimal(-1)
    comm = commission(item)
    parts: list[tuple[str, str, Decimal]] = [("ItemPrice", "Principal", item["item_price"])]
    if item["item_tax"]:
        parts.append(("ItemPrice", "Tax", item["item_tax"]))
    if item["shipping_price"]:
        parts.append(("ItemPrice", "Shipping", item["shipping_price"]))
    if item["shipping_tax"]:
        parts.append(("ItemPrice", "ShippingTax", item["shipping_tax"]))
    if mp.code == "US":  # marketplace facilitator: Amazon collects and remits the sales tax
        if item["item_tax"]:
            parts.append(("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", -item["item_tax"]))
        if item["shipping_tax"]:
            parts.append(("ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping", -item["shipping_tax"]))
    if item["promotion_discount"]:
        parts.append(("Promotion", "Principal", -item["promotion_discount"]))
    parts.append(("ItemFees", "Commission", -comm))
    if kind == "Order" and order["fulfillment_channel"] == "AFN":
        fee = money(catalog[item["sku"]]["fba_fee"] * FX[mp.currency]) * item["quantity"]
        parts.append(("ItemFees", "FBAPerUnitFulfillmentFee", -fee))
    lines = []
    for amount_type, description, amount in parts:
        line = blank_line(mp, kind, amount_type, description, amount * sign, posted_at)
        line.update(
            order_id=order["order_id"],
            adjustment_id=adjustment_id,
            shipment_id=shipment_id,
            fulfillment_id=order["fulfillment_channel"],
            order_item_code=item["order_item_id"],
            sku=item["sku"],
            quantity_purchased=item["quantity"] if kind == "Order" else None,
        )
        if amount_type == "Promotion":
            line["promotion_id"] = item["promotion_id"]
        if adjustment_id:
            line["merchant_adjustment_item_id"] = f"{item['order_item_id'][-8:]}-R"
        lines.append(line)
    if kind != "Order":  # Amazon keeps 20% of the commission (max 5.00) as a refund administration fee
        fee = min(money(comm * Decimal("0.20")), money(Decimal("5.00") * FX[mp.currency]))
        admin = blank_line(mp, kind, "ItemFees", "RefundCommission", -fee, posted_at)
        admin.update(
            order_id=order["order_id"],
            adjustment_id=adjustment_id,
            fulfillment_id=order["fulfillment_channel"],
            order_item_code=item["order_item_id"],
            sku=item["sku"],
            merchant_adjustment_item_id=f"{item['order_item_id'][-8:]}-R",
        )
        lines.append(admin)
    return lines


def adjustment_id(rng: random.Random) -> str:
    raw = bytes(rng.randrange(256) for _ in range(16))
    return "amzn1:crow:" + base64.b64encode(raw).decode("ascii").rstrip("=")


def other_line(
    mp: Marketplace, description: str, amount: Decimal, posted_at: datetime, named: bool = True
) -> dict:
    """An `other-transaction` line; Amazon leaves marketplace-name empty on many of them."""
    line = blank_line(mp, "other-transaction", "other-transaction", description, amount, posted_at)
    if not named:
        line["marketplace_name"] = ""
    return line


Key = tuple[str, int]  # (marketplace code, period index)


class SettlementBuilder:
    """Assigns orders to settlement periods and writes every settlement's lines."""

    def __init__(
        self,
        rng: random.Random,
        catalog: list[dict],
        codes: list[str],
        periods: dict[str, list[tuple[datetime, datetime]]],
        now: datetime,
    ) -> None:
        self.rng = rng
        self.catalog = {c["sku"]: c for c in catalog}
        self.codes = codes
        self.periods = periods
        self.now = now
        self.n = len(periods[codes[0]])
        self.unknown_fee = UNKNOWN_FEE
        self.negative_key: Key = (codes[-1], max(0, self.n - 6))
        self.unknown_key: Key = (codes[min(2, len(codes) - 1)], max(0, self.n - 4))
        self.negative_settlement_id = ""
        self.unknown_fee_settlement_id = ""
        self.chargeback: dict = {}
        self.refunds: list[dict] = []
        self.order_settlement: dict[str, str] = {}
        self.ids: dict[Key, tuple[str, str]] = {}  # -> (settlement id, report id)
        self.lines: dict[Key, list[dict]] = {}
        self.sales: dict[Key, Decimal] = {}  # ItemPrice Principal paid per settlement
        self.refunded: dict[Key, Decimal] = {}
        self.paid: list[tuple[dict, int]] = []  # (order, period index)

    def period_index(self, code: str, moment: datetime) -> int | None:
        for k, (start, end) in enumerate(self.periods[code]):
            if start <= moment < end:
                return k
        return None

    def build(self, orders: list[dict]) -> list[dict]:
        self._assign_ids()
        self._pay(orders)
        self._charge_back()
        self._refund()
        settlements = []
        for code in self.codes:
            reserve_held = ZERO
            for k in range(self.n):
                settlement = self._close((code, k), reserve_held)
                reserve_held = -sum(
                    (
                        x["amount"]
                        for x in settlement["lines"]
                        if x["amount_description"] == "Current Reserve Amount"
                    ),
                    ZERO,
                )
                settlements.append(settlement)
        settlements.sort(key=lambda s: (s["end_at"], s["settlement_id"]))
        return settlements

    def _assign_ids(self) -> None:
        """Settlement and report ids grow with the period end across marketplaces, as Amazon's do."""
        rng = self.rng
        keys = sorted((end, code, k) for code in self.codes for k, (_, end) in enumerate(self.periods[code]))
        next_id = rng.randrange(11_000_000_000, 12_000_000_000)
        next_report = rng.randrange(50_000_000_000, 51_000_000_000)
        for _, code, k in keys:
            next_id += rng.randint(1_000, 90_000)
            next_report += rng.randint(10_000, 900_000)
            self.ids[(code, k)] = (str(next_id), str(next_report))
            self.lines[(code, k)] = []
            self.sales[(code, k)] = self.refunded[(code, k)] = ZERO

    def _pay(self, orders: list[dict]) -> None:
        """Shipped orders are paid in the settlement whose period holds their ship time."""
        for order in orders:
            if order["status"] != "Shipped":
                continue
            code = order["marketplace_code"]
            k = self.period_index(code, order["shipped_at"])
            if k is None:
                continue  # shipped before the first or after the last settlement: not paid yet
            shipment = "".join(
                self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789") for _ in range(9)
            )
            for item in order["items"]:
                self.lines[(code, k)] += item_lines(
                    MARKETPLACES[code],
                    order,
                    item,
                    "Order",
                    order["shipped_at"],
                    self.catalog,
                    shipment_id=shipment,
                )
                self.sales[(code, k)] += item["item_price"]
            self.order_settlement[order["order_id"]] = self.ids[(code, k)][0]
            self.paid.append((order, k))

    def _adjust(self, order: dict, items: list[dict], k: int, r: int, kind: str, when: datetime) -> dict:
        """Refund-like lines for `items` of `order` (paid in period k) in the later period r."""
        code = order["marketplace_code"]
        adj = adjustment_id(self.rng)
        for item in items:
            self.lines[(code, r)] += item_lines(
                MARKETPLACES[code], order, item, kind, when, self.catalog, adj
            )
            self.refunded[(code, r)] += item["item_price"]
        order["last_updated_at"] = max(order["last_updated_at"], min(when, self.now))
        return {
            "order_id": order["order_id"],
            "adjustment_id": adj,
            "settlement_id": self.ids[(code, r)][0],
            "original_settlement_id": self.ids[(code, k)][0],
        }

    def _charge_back(self) -> None:
        """One chargeback, in a settlement recent enough for the Reports API (< 90 days): a US order
        paid four settlements before the last (or the closest), charged back in the next one."""
        n = self.n
        us_paid = [(o, k) for o, k in self.paid if o["marketplace_code"] == "US" and k < n - 1]
        us_paid.sort(key=lambda pair: (pair[1] != n - 4, pair[1] < n - 4))  # stable: prefer n-4, then later
        for order, k in us_paid[:1]:
            start, end = self.periods["US"][k + 1]
            when = start + (end - start) * self.rng.uniform(0.2, 0.8)
            self.chargeback = self._adjust(order, order["items"][:1], k, k + 1, "Chargeback Refund", when)

    def _refund(self) -> None:
        """Refunds of ~8% of paid orders, 3-40 days after shipping, always in a LATER settlement."""
        rng = self.rng
        for order, k in self.paid:
            if order["order_id"] == self.chargeback.get("order_id") or rng.random() >= 0.08:
                continue
            code = order["marketplace_code"]
            when = order["shipped_at"] + timedelta(days=rng.uniform(3, 40))
            r = self.period_index(code, when)
            if r is None or r <= k:
                continue
            items = order["items"] if rng.random() < 0.6 else [rng.choice(order["items"])]
            value = sum(i["item_price"] for i in items)
            if self.refunded[(code, r)] + value > self.sales[(code, r)] * Decimal("0.35"):
                continue  # keep every settlement comfortably positive
            self.refunds.append(self._adjust(order, items, k, r, "Refund", when))

    def _close(self, key: Key, reserve_held: Decimal) -> dict:
        """Add the account-level lines (reserve, fees, advertising) and total the settlement.
        Fees that would push a settlement below MARGIN are trimmed, except in the planted
        negative settlement, whose ad spend exceeds what it sold."""
        rng = self.rng
        code, k = key
        mp = MARKETPLACES[code]
        fx = FX[mp.currency]
        start, end = self.periods[code][k]
        body = self.lines[key]
        if reserve_held:
            body.append(
                other_line(mp, "Previous Reserve Amount Balance", reserve_held, start + timedelta(minutes=1))
            )
        if key == self.unknown_key:
            units = sum(
                x["quantity_purchased"] or 0
                for x in body
                if x["amount_type"] == "ItemPrice" and x["amount_description"] == "Principal"
            )
            fee = -money(Decimal("0.27") * max(units, 3))
            body.append(other_line(mp, UNKNOWN_FEE[2], fee, start + (end - start) * 0.6, named=False))
            self.unknown_fee_settlement_id = self.ids[key][0]
        total = sum((x["amount"] for x in body), ZERO)
        negative = key == self.negative_key
        for day, description, amount in self._monthly_fees(mp, start, end, fx):
            if negative or total + amount >= MARGIN:
                body.append(other_line(mp, description, amount, day, named=False))
                total += amount
        if negative:
            ad = -(total + money(Decimal(rng.randint(50, 250)) * fx))
            self.negative_settlement_id = self.ids[key][0]
        else:
            ad = -min(money(self.sales[key] * Decimal(rng.uniform(0.03, 0.08))), max(total - MARGIN, ZERO))
        if ad:
            when = start + (end - start) * rng.uniform(0.3, 0.9)
            body.append(
                blank_line(mp, "ServiceFee", "Cost of Advertising", "TransactionTotalAmount", ad, when)
            )
            total += ad
        if not negative:
            held = min(money(self.sales[key] * Decimal("0.10")), max(total - MARGIN, ZERO))
            if held:
                body.append(other_line(mp, "Current Reserve Amount", -held, end - timedelta(minutes=1)))
        body.sort(key=lambda x: x["posted_at"])
        settlement_id, report_id = self.ids[key]
        return {
            "settlement_id": settlement_id,
            "marketplace_code": code,
            "marketplace_name": mp.name,
            "currency": mp.currency,
            "start_at": start,
            "end_at": end,
            "deposit_at": end + timedelta(days=1, minutes=rng.randint(0, 360)),
            "total_amount": sum((x["amount"] for x in body), ZERO),
            "report_id": report_id,
            "created_at": end + timedelta(minutes=rng.randint(20, 180)),
            "lines": body,
        }

    def _monthly_fees(self, mp: Marketplace, start: datetime, end: datetime, fx: Decimal):
        """Storage fee charged on the 10th, subscription on the 20th of each month in the period."""
        day = start.replace(hour=12, minute=0, second=0, microsecond=0)
        while day < end:
            if day >= start and day.day == 10:
                yield day, "Storage Fee", -money(Decimal(self.rng.randint(800, 4000)) / 100 * fx)
            if day >= start and day.day == 20:
                yield day, "Subscription Fee", -Decimal(SUBSCRIPTION[mp.currency])
            day += timedelta(days=1)
