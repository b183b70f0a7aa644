"""`generate_seller`: the whole demo seller (orders, inventory, listings, settlements, NetSuite seed)
from one seed. Same seed and arguments -> identical output; `random.Random(seed)` is the only source
of randomness.

Settlements cover ~6 months before `today`: one every 14 days per marketplace (staggered by a day
per marketplace), so some are older than the 90 days the Reports API keeps and some are recent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sandbox.generator.catalog import (
    make_catalog,
    make_order,
    make_prices,
    order_id,
    skus_by_channel,
)
from sandbox.generator.inventory import make_inventory_and_netsuite
from sandbox.generator.marketplaces import MARKETPLACES
from sandbox.generator.settlements import SettlementBuilder

SCALES = {  # orders per marketplace per 14-day period, mapped SKUs
    "tiny": (5, 6),
    "small": (30, 14),
    "medium": (300, 40),
}
N_PERIODS = 13  # 13 x 14 days = 182 days of settlements
PERIOD = timedelta(days=14)


@dataclass
class Seller:
    seed: int
    today: date
    start_date: date
    marketplaces: list[str]
    catalog: list[dict]
    prices: list[dict]
    orders: list[dict]
    inventory: list[dict]
    listings: list[dict]
    settlements: list[dict]
    netsuite: dict[str, list[dict]]
    unmapped_skus: list[str]
    unmapped_fee: tuple[str, str, str]
    negative_settlement_id: str
    unknown_fee_settlement_id: str = ""
    chargeback: dict = field(default_factory=dict)  # {order_id, settlement_id, original_settlement_id}
    refunds: list[dict] = field(
        default_factory=list
    )  # {order_id, adjustment_id, settlement_id, original_settlement_id}
    order_settlement: dict[str, str] = field(default_factory=dict)  # order_id -> settlement that paid it
    inventory_drift: list[dict] = field(default_factory=list)  # FBA pairs where NetSuite != Amazon
    listing_drift: list[dict] = field(default_factory=list)  # MFN listings where Amazon != NetSuite
    now: datetime | None = None  # generation "clock": start of `today`, UTC

    def settlement(self, settlement_id: str) -> dict:
        for s in self.settlements:
            if s["settlement_id"] == settlement_id:
                return s
        raise KeyError(settlement_id)

    def order(self, oid: str) -> dict:
        for o in self.orders:
            if o["order_id"] == oid:
                return o
        raise KeyError(oid)


def generate_seller(
    seed: int = 7,
    scale: str = "small",
    today: date = date(2026, 11, 23),
    marketplaces: list[str] | None = None,
) -> Seller:
    """Build the demo seller. `scale`: "tiny" (tests), "small" (demo), "medium" (~10x small)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, not {scale!r}")
    per_period, n_mapped = SCALES[scale]
    codes = list(marketplaces or MARKETPLACES)
    rng = random.Random(seed)
    now = datetime.combine(today, time(0, 0), UTC)

    catalog = make_catalog(rng, n_mapped)
    prices = make_prices(catalog, codes)
    pools = skus_by_channel(catalog)
    unmapped = [c for c in catalog if c["netsuite_item_id"] is None]

    # Settlement periods per marketplace, newest ending a day (+1 per marketplace) before today.
    periods: dict[str, list[tuple[datetime, datetime]]] = {}
    for offset, code in enumerate(codes):
        last_end = now - timedelta(days=1 + offset, hours=16, minutes=53, seconds=26 - offset)
        ends = [last_end - PERIOD * k for k in range(N_PERIODS)][::-1]
        periods[code] = [(end - PERIOD, end) for end in ends]
    start_at = min(p[0][0] for p in periods.values())

    # Orders: ~per_period per 14-day window, from the first settlement start up to now.
    orders: list[dict] = []
    serial = rng.randrange(10**6)
    for code in codes:
        mp = MARKETPLACES[code]
        windows = [*periods[code], (periods[code][-1][1], now)]
        for w, (w_start, w_end) in enumerate(windows):
            span = (w_end - w_start).total_seconds()
            count = max(1, round(per_period * rng.uniform(0.8, 1.2) * span / PERIOD.total_seconds()))
            times = sorted(w_start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count))
            for n, purchased_at in enumerate(times):
                extra = None
                if n == 0 and w % 4 == 1 and w < N_PERIODS:  # the unmapped SKUs keep selling
                    extra = unmapped[(w // 4) % len(unmapped)]
                serial += 1
                orders.append(
                    make_order(
                        rng, mp, pools, order_id(rng, code, serial), purchased_at, now, extra_sku=extra
                    )
                )
    orders.sort(key=lambda o: (o["purchased_at"], o["order_id"]))

    builder = SettlementBuilder(rng, catalog, codes, periods, now)
    settlements = builder.build(orders)

    inventory, listings, netsuite, inventory_drift, listing_drift = make_inventory_and_netsuite(
        rng, catalog, prices, codes, today, now, start_at
    )

    return Seller(
        seed=seed,
        today=today,
        start_date=start_at.date(),
        marketplaces=codes,
        catalog=catalog,
        prices=prices,
        orders=orders,
        inventory=inventory,
        listings=listings,
        settlements=settlements,
        netsuite=netsuite,
        unmapped_skus=[c["sku"] for c in unmapped],
        unmapped_fee=builder.unknown_fee,
        negative_settlement_id=builder.negative_settlement_id,
        unknown_fee_settlement_id=builder.unknown_fee_settlement_id,
        chargeback=builder.chargeback,
        refunds=builder.refunds,
        order_settlement=builder.order_settlement,
        inventory_drift=inventory_drift,
        listing_drift=listing_drift,
        now=now,
    )


__all__ = ["SCALES", "Seller", "generate_seller"]
