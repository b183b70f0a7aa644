"""Catalog, prices and single orders of the demo seller: the building blocks shared by the full
seller (`generate_seller`) and the streaming order generator used by benchmarks (`iter_orders`).

Everything draws from a `random.Random` passed in, so a seed fixes the output.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sandbox.generator.marketplaces import MARKETPLACES, Marketplace

CENT = Decimal("0.01")

# Rough FX from USD list prices to local prices (the demo only needs plausible numbers).
FX = {
    "USD": Decimal("1"),
    "CAD": Decimal("1.37"),
    "GBP": Decimal("0.79"),
    "EUR": Decimal("0.92"),
    "AUD": Decimal("1.53"),
}
# Sales tax / GST the buyer pays on top of the price (VAT is included in UK/DE prices).
TAX_RATE = {
    "US": Decimal("0.0725"),
    "CA": Decimal("0.13"),
    "UK": Decimal("0"),
    "DE": Decimal("0"),
    "AU": Decimal("0.10"),
}
COMMISSION_RATE = Decimal("0.15")
ORDER_ID_PREFIXES = {
    "US": (111, 112, 113, 114),
    "CA": (701, 702),
    "UK": (202, 203, 204, 205, 206),
    "DE": (302, 303, 304, 305, 306),
    "AU": (249, 250),
}
PRODUCTS = [
    ("MUG", "Stoneware Coffee Mug 350 ml"),
    ("DRIP", "Ceramic Pour-Over Coffee Dripper"),
    ("KETL", "Gooseneck Kettle 1 L"),
    ("GRND", "Manual Burr Coffee Grinder"),
    ("SCAL", "Digital Coffee Scale with Timer"),
    ("FILT", "Paper Coffee Filters, 100 pack"),
    ("TUMB", "Insulated Travel Tumbler 470 ml"),
    ("PRES", "French Press 1 L"),
    ("TEAP", "Cast Iron Teapot 800 ml"),
    ("INFU", "Stainless Tea Infuser, set of 2"),
    ("CANI", "Airtight Coffee Canister"),
    ("TAMP", "Espresso Tamper 58 mm"),
    ("MILK", "Milk Frothing Pitcher 600 ml"),
    ("COLD", "Cold Brew Maker 1.5 L"),
    ("CUPS", "Double-Wall Glass Cups, set of 4"),
    ("SPON", "Bamboo Measuring Spoons"),
    ("BRSH", "Grinder Cleaning Brush"),
    ("TRAY", "Serving Tray, Acacia Wood"),
    ("COAS", "Cork Coasters, set of 6"),
    ("BOTL", "Glass Water Bottle 750 ml"),
]
LIST_PRICES = [
    Decimal(p) for p in ("9.99", "14.99", "19.99", "24.99", "29.99", "34.99", "49.99", "59.99", "79.99")
]
FBA_FEES = [Decimal(p) for p in ("3.22", "3.86", "4.75", "5.40", "6.69")]
FIRST_NAMES = [
    "Anna",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Isla",
    "Jonas",
    "Kai",
    "Lena",
    "Mia",
    "Noah",
    "Olivia",
    "Paul",
    "Ruby",
    "Sam",
    "Theo",
    "Zoe",
]
LAST_NAMES = [
    "Smith",
    "Müller",
    "Brown",
    "Tremblay",
    "Wilson",
    "Schmidt",
    "Taylor",
    "Nguyen",
    "Martin",
    "Fischer",
    "Jones",
    "Roy",
    "Walker",
    "Weber",
    "Lee",
    "Kelly",
]
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def local_price(list_price_usd: Decimal, currency: str) -> Decimal:
    """A local shelf price ending in .99 (or the USD price itself)."""
    if currency == "USD":
        return list_price_usd
    return Decimal(int(list_price_usd * FX[currency])) + Decimal("0.99")


def make_catalog(rng: random.Random, n_mapped: int) -> list[dict]:
    """`n_mapped` SKUs with NetSuite items, plus two new SKUs nobody created in NetSuite yet
    (one FBA, one MFN): the unmapped SKUs the warehouse must flag."""
    catalog = []
    for i in range(n_mapped + 2):
        code, title = PRODUCTS[i % len(PRODUCTS)]
        unmapped = i >= n_mapped
        if unmapped:
            sku = f"LB-NEW-{code}-{901 + i - n_mapped}"
            is_fba, is_mfn = (True, False) if i == n_mapped else (False, True)
        else:
            sku = f"LB-{code}-{i + 1:03d}"
            is_fba = i % 3 != 2
            is_mfn = i % 3 == 2 or i % 5 == 0
        if i >= len(PRODUCTS):
            title = f"{title} ({['Black', 'White', 'Sage', 'Sand', 'Blue'][(i // len(PRODUCTS)) % 5]})"
        catalog.append(
            {
                "sku": sku,
                "asin": "B0" + "".join(rng.choice(ALNUM) for _ in range(8)),
                "fn_sku": "X00" + "".join(rng.choice(ALNUM) for _ in range(7)),
                "title": title,
                "netsuite_item_id": None if unmapped else str(1001 + i),
                "list_price": rng.choice(LIST_PRICES),
                "is_mfn": is_mfn,
                "is_fba": is_fba,
                "fba_fee": rng.choice(FBA_FEES),  # USD per unit; local fee = fba_fee * FX
            }
        )
    return catalog


def make_prices(catalog: list[dict], marketplaces: list[str]) -> list[dict]:
    return [
        {
            "sku": item["sku"],
            "marketplace_code": code,
            "currency": MARKETPLACES[code].currency,
            "price": local_price(item["list_price"], MARKETPLACES[code].currency),
        }
        for code in marketplaces
        for item in catalog
    ]


def order_id(rng: random.Random, code: str, serial: int) -> str:
    """`111-1234567-1234567`; the last group is the serial so ids never collide."""
    return f"{rng.choice(ORDER_ID_PREFIXES[code])}-{rng.randrange(10**7):07d}-{serial % 10**7:07d}"


def make_order(
    rng: random.Random,
    mp: Marketplace,
    skus: dict[str, list[dict]],
    oid: str,
    purchased_at: datetime,
    now: datetime,
    channel: str | None = None,
    extra_sku: dict | None = None,
) -> dict:
    """One order as the Orders API describes it. `skus` maps "AFN"/"MFN" to the catalog rows
    sellable that way; `now` decides whether it has shipped yet."""
    if extra_sku is not None:
        channel = "AFN" if extra_sku["is_fba"] else "MFN"
    channel = channel or ("AFN" if rng.random() < 0.7 else "MFN")
    pool = skus[channel]
    n_lines = 1 if rng.random() < 0.7 else rng.randint(2, 3)
    chosen = rng.sample(pool, min(n_lines, len(pool)))
    if extra_sku is not None and extra_sku not in chosen:
        chosen.append(extra_sku)
    tax_rate = TAX_RATE[mp.code]
    fx = FX[mp.currency]
    items = []
    for n, item in enumerate(chosen):
        qty = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        price = local_price(item["list_price"], mp.currency) * qty
        shipping = Decimal("0")
        if channel == "MFN" and n == 0:
            shipping = money(Decimal("4.99") * fx)
        elif channel == "AFN" and n == 0 and rng.random() < 0.1:
            shipping = money(Decimal("5.99") * fx)
        promo = money(price * Decimal("0.10")) if rng.random() < 0.15 else Decimal("0.00")
        items.append(
            {
                "order_item_id": f"{rng.randrange(10**13, 10**14)}",
                "sku": item["sku"],
                "asin": item["asin"],
                "title": item["title"],
                "quantity": qty,
                "item_price": money(price),
                "item_tax": money((price - promo) * tax_rate),
                "shipping_price": money(shipping),
                "shipping_tax": money(shipping * tax_rate),
                "promotion_discount": promo,
                "promotion_id": promotion_id(mp, rng) if promo else "",
            }
        )
    canceled = rng.random() < 0.04
    delay = timedelta(hours=rng.uniform(3, 36) if channel == "AFN" else rng.uniform(12, 72))
    shipped_at = None if canceled else purchased_at + delay
    if canceled:
        status = "Canceled"
        last_updated = purchased_at + timedelta(hours=rng.uniform(0.5, 20))
    elif shipped_at <= now:
        status = "Shipped"
        last_updated = shipped_at + timedelta(hours=rng.uniform(0, 48))
    else:
        shipped_at = None
        status = "Pending" if now - purchased_at < timedelta(hours=2) else "Unshipped"
        last_updated = purchased_at + (now - purchased_at) * rng.random()
    last_updated = min(last_updated, now)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    total = sum(
        (i["item_price"] + i["item_tax"] + i["shipping_price"] + i["shipping_tax"] - i["promotion_discount"])
        for i in items
    )
    return {
        "order_id": oid,
        "marketplace_code": mp.code,
        "marketplace_id": mp.marketplace_id,
        "sales_channel": mp.name,
        "purchased_at": purchased_at,
        "last_updated_at": max(last_updated, purchased_at),
        "status": status,
        "fulfillment_channel": channel,
        "currency": mp.currency,
        "ship_country": mp.country,
        "is_business_order": rng.random() < 0.08,
        "buyer_email": f"{rng.getrandbits(56):014x}@marketplace.amazon.com",
        "buyer_name": f"{first} {last}",
        "shipped_at": shipped_at,
        "order_total": money(total),
        "items": items,
    }


def promotion_id(mp: Marketplace, rng: random.Random) -> str:
    # The DE id carries an umlaut so latin-1 vs UTF-8 encodings of the file really differ.
    if mp.code == "DE":
        return rng.choice(["Aktion Frühjahr 10%", "Subscribe & Save Promotion V2"])
    return rng.choice(["Core Free Shipping Promotion", "Subscribe & Save Promotion V2", "LB Launch 10% off"])


def skus_by_channel(catalog: list[dict]) -> dict[str, list[dict]]:
    return {"AFN": [i for i in catalog if i["is_fba"]], "MFN": [i for i in catalog if i["is_mfn"]]}


def iter_orders(
    seed: int,
    n_orders: int,
    marketplace: str = "US",
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    spacing: timedelta = timedelta(minutes=1),
    n_skus: int = 40,
):
    """Yield `n_orders` order dicts (same shape as `Seller.orders`) lazily, one every `spacing`
    from `start`; memory stays flat however many you ask for (benchmarks)."""
    rng = random.Random(seed)
    catalog = make_catalog(rng, n_skus)
    pools = skus_by_channel(catalog)
    mp = MARKETPLACES[marketplace]
    now = start + spacing * n_orders + timedelta(days=7)
    for serial in range(n_orders):
        yield make_order(rng, mp, pools, order_id(rng, marketplace, serial), start + spacing * serial, now)
