"""Settlement files of any size with flat memory, for benchmarks.

The summary row (with `total-amount`) comes first in the file, so the amounts are drawn twice from
the same seed: once to add them up, once to write the rows. Amounts stay integer cents until
formatted and posted times are whole minutes (formatted once per minute), which keeps a million
rows within seconds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sandbox.generator.files import V2_HEADER, write_rows
from sandbox.generator.marketplaces import MARKETPLACES, Marketplace, format_datetime, format_posted_date

_SKUS = [f"LB-BENCH-{n:03d}" for n in range(50)]
_DEFAULT_END = datetime(2026, 11, 20, 7, 6, 34, tzinfo=UTC)


def _cents_text(cents: int, mp: Marketplace) -> str:
    whole, frac = divmod(abs(cents), 100)
    text = f"{whole:,}".replace(",", mp.thousands_separator) if mp.thousands_separator else str(whole)
    return f"{'-' if cents < 0 else ''}{text}{',' if mp.decimal_comma else '.'}{frac:02d}"


def _items(seed: int, n_rows: int, us_tax: bool):
    """(item_no, first_row, sku, qty, channel, [(amount_type, description, cents), ...]) per order item
    (Principal, Tax + withheld tax on US, Commission, FBA fee when AFN) until n_rows amounts."""
    rng = random.Random(seed)
    draw = rng.random
    emitted = item_no = 0
    while emitted < n_rows:
        item_no += 1
        qty = 1 if draw() < 0.85 else 2
        price = (999 + int(draw() * 7001)) * qty
        parts = [("ItemPrice", "Principal", price)]
        if us_tax:
            tax = price * 725 // 10000
            parts += [
                ("ItemPrice", "Tax", tax),
                ("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", -tax),
            ]
        parts.append(("ItemFees", "Commission", -(price * 15 // 100)))
        channel = "AFN" if draw() < 0.7 else "MFN"
        if channel == "AFN":
            parts.append(("ItemFees", "FBAPerUnitFulfillmentFee", -(322 + int(draw() * 348)) * qty))
        parts = parts[: n_rows - emitted]
        yield item_no, emitted, _SKUS[int(draw() * len(_SKUS))], qty, channel, parts
        emitted += len(parts)


def _window(end: datetime | None) -> tuple[datetime, datetime]:
    end = end or _DEFAULT_END
    return end - timedelta(days=14), end


def settlement_total(seed: int, n_rows: int, marketplace: str = "US") -> Decimal:
    """The total-amount of the streamed settlement (one pass over the amounts, nothing kept)."""
    cents = sum(c for *_, parts in _items(seed, n_rows, marketplace == "US") for _, _, c in parts)
    return Decimal(cents) / 100


def iter_settlement_v2_rows(
    seed: int, n_rows: int, marketplace: str = "US", end: datetime | None = None, total: Decimal | None = None
) -> Iterator[list[str]]:
    """Header, summary row and `n_rows` amount rows of one valid V2 settlement; the rows sum to
    `total-amount` exactly. Memory does not grow with `n_rows`. (`total`: pass a known
    `settlement_total` to skip the adding-up pass.)"""
    mp = MARKETPLACES[marketplace]
    start, end = _window(end)
    if total is None:
        total = settlement_total(seed, n_rows, marketplace)
    settlement_id = str(20_000_000_000 + seed)
    yield V2_HEADER
    yield [
        settlement_id,
        format_datetime(start, mp),
        format_datetime(end, mp),
        format_datetime(end + timedelta(days=1), mp),
        _cents_text(int(total * 100), mp),
        mp.currency,
        *[""] * 18,
    ]
    minutes = (end - start) // timedelta(minutes=1)
    last_minute = -1
    posted_date = posted_time = ""
    for item_no, first_row, sku, qty, channel, parts in _items(seed, n_rows, marketplace == "US"):
        minute = first_row * minutes // n_rows
        if minute != last_minute:
            last_minute = minute
            posted = start + timedelta(minutes=minute)
            posted_date, posted_time = format_posted_date(posted, mp), format_datetime(posted, mp)
        order_no = item_no // 2
        order_id = f"111-{(seed * 7919 + order_no) % 10**7:07d}-{order_no % 10**7:07d}"
        head = [settlement_id, "", "", "", "", "", "Order", order_id, "", "", "", mp.name]
        tail = [channel, posted_date, posted_time, f"{item_no:014d}", "", "", sku, str(qty), ""]
        for amount_type, description, cents in parts:
            yield [*head, amount_type, description, _cents_text(cents, mp), *tail]


def write_large_settlement_v2(
    path: str | Path, n_rows: int, seed: int = 7, marketplace: str = "US"
) -> Decimal:
    """Write a single V2 file of `n_rows` amount rows (flat memory); returns its total-amount."""
    total = settlement_total(seed, n_rows, marketplace)
    write_rows(iter_settlement_v2_rows(seed, n_rows, marketplace, total=total), path)
    return total
